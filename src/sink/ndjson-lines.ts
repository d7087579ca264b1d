// The records of one open file as NDJSON, kept in a few large buffers instead of one Buffer (and one offset object)
// per record: a sink holds hundreds of thousands of records between commits, and as separate objects they are what the
// garbage collector spends its time marking. The writer hands the buffers to DuckDB as they are.

const FIRST_CHUNK_BYTES = 16 * 1024;
const MAX_CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;

export class NdjsonLines {
  #chunks: Buffer[] = [];
  #chunk: Buffer = Buffer.allocUnsafe(0);
  #used = 0;
  /** Per line: index of its chunk, start in that chunk, length without the newline. */
  #where = new Uint32Array(3 * 64);
  /** Kafka offsets, exact as doubles up to 2^53. */
  #offsets = new Float64Array(64);
  /** The few values that held raw newlines, as they came (their line has spaces there). */
  #originals: Map<number, Uint8Array> | null = null;
  #length = 0;
  #bytes = 0;
  #maxLineBytes = 0;

  /** Lines held. */
  get length(): number {
    return this.#length;
  }

  /** Bytes of the lines, newlines included: what the NDJSON file will hold. */
  get bytes(): number {
    return this.#bytes;
  }

  get maxLineBytes(): number {
    return this.#maxLineBytes;
  }

  /**
   * Appends a record's JSON text (UTF-8, checked by the caller) with its Kafka offset. A raw newline can only be
   * whitespace between JSON tokens (strings escape theirs), so it is written as a space.
   */
  push(value: Uint8Array, offset: number): void {
    const need = value.length + 1;
    if (this.#chunk.length - this.#used < need) {
      if (this.#used > 0) this.#chunks.push(this.#chunk.subarray(0, this.#used));
      this.#chunk = Buffer.allocUnsafe(Math.max(need, Math.min(MAX_CHUNK_BYTES, Math.max(FIRST_CHUNK_BYTES, this.#bytes))));
      this.#used = 0;
    }
    const i = this.#length;
    if (3 * i + 3 > this.#where.length) {
      const where = new Uint32Array(this.#where.length * 2);
      where.set(this.#where);
      this.#where = where;
      const offsets = new Float64Array(this.#offsets.length * 2);
      offsets.set(this.#offsets);
      this.#offsets = offsets;
    }
    const start = this.#used;
    this.#chunk.set(value, start);
    if (value.includes(NEWLINE) || value.includes(RETURN)) {
      for (let j = start; j < start + value.length; j++) if (this.#chunk[j] === NEWLINE || this.#chunk[j] === RETURN) this.#chunk[j] = SPACE;
      (this.#originals ??= new Map()).set(i, Uint8Array.prototype.slice.call(value));
    }
    this.#chunk[start + value.length] = NEWLINE;
    this.#used += need;
    this.#where[3 * i] = this.#chunks.length;
    this.#where[3 * i + 1] = start;
    this.#where[3 * i + 2] = value.length;
    this.#offsets[i] = offset;
    this.#length++;
    this.#bytes += need;
    if (value.length > this.#maxLineBytes) this.#maxLineBytes = value.length;
  }

  /** Line `i` as written to the file (no newline); a view into the buffers. */
  line(i: number): Buffer {
    const chunk = this.#where[3 * i] === this.#chunks.length ? this.#chunk : this.#chunks[this.#where[3 * i]!]!;
    const start = this.#where[3 * i + 1]!;
    return chunk.subarray(start, start + this.#where[3 * i + 2]!);
  }

  /** Record `i`'s value exactly as it came. */
  value(i: number): Buffer {
    const original = this.#originals?.get(i);
    return original === undefined ? this.line(i) : Buffer.from(original);
  }

  offset(i: number): number {
    return this.#offsets[i]!;
  }

  /** The NDJSON text, in order, as views into the buffers. */
  parts(): Buffer[] {
    return this.#used > 0 ? [...this.#chunks, this.#chunk.subarray(0, this.#used)] : [...this.#chunks];
  }

  /** The lines at `indices` (ascending), in a new instance. */
  select(indices: readonly number[]): NdjsonLines {
    const out = new NdjsonLines();
    for (const i of indices) out.push(this.value(i), this.offset(i));
    return out;
  }
}

