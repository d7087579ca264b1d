// Writes Kafka protocol primitives into a growable buffer; the mirror of reader.ts. A writer made with
// `referenceFromBytes` keeps raw byte runs at least that long by reference instead of copying them (a Fetch answer's
// record batches), and hands the message over as parts to be written one after another.

export type WriterOptions = {
  /** Raw byte runs of at least this many bytes are kept by reference, not copied; see parts(). */
  referenceFromBytes?: number;
};

export class Writer {
  buf: Buffer;
  offset = 0;
  readonly #referenceFromBytes: number;
  /** Finished parts: views of `buf` (or of an earlier one) and byte runs kept by reference. */
  #parts: Buffer[] = [];
  #referencedBytes = 0;
  /** Where in `buf` the part being written starts. */
  #partStart = 0;

  constructor(initialBytes = 256, options: WriterOptions = {}) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.#referenceFromBytes = options.referenceFromBytes ?? Number.POSITIVE_INFINITY;
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset++);
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.offset);
    this.offset += 4;
    return this;
  }

  int64(v: number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.offset);
    this.offset += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += 8;
    return this;
  }

  uuid(v: Buffer): this {
    if (v.length !== 16) throw new Error(`invariant violated: uuid must be 16 bytes, got ${v.length}`);
    return this.raw(v);
  }

  uvarint(v: number): this {
    this.ensure(5);
    let n = v >>> 0;
    while (n >= 0x80) {
      this.buf[this.offset++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.offset++] = n;
    return this;
  }

  /** Zigzag varint, 64-bit safe for numbers up to 2^53. */
  varint(v: number): this {
    if (v >= -0x4000_0000 && v < 0x4000_0000) {
      return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
    }
    this.ensure(10);
    let z = (BigInt(v) << 1n) ^ (BigInt(v) >> 63n);
    z = BigInt.asUintN(64, z);
    while (z >= 0x80n) {
      this.buf[this.offset++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.offset++] = Number(z);
    return this;
  }

  private length(flexible: boolean, n: number, isString: boolean): this {
    if (flexible) return this.uvarint(n + 1);
    return isString ? this.int16(n) : this.int32(n);
  }

  nullableString(v: string | null, flexible: boolean): this {
    if (v === null) return this.length(flexible, -1, true);
    const n = Buffer.byteLength(v, 'utf8');
    this.length(flexible, n, true);
    this.ensure(n);
    this.buf.write(v, this.offset, 'utf8');
    this.offset += n;
    return this;
  }

  string(v: string, flexible: boolean): this {
    return this.nullableString(v, flexible);
  }

  nullableBytes(v: Buffer | null, flexible: boolean): this {
    if (v === null) return this.length(flexible, -1, false);
    this.length(flexible, v.length, false);
    return this.raw(v);
  }

  bytes(v: Buffer, flexible: boolean): this {
    return this.nullableBytes(v, flexible);
  }

  nullableArray<T>(items: readonly T[] | null, flexible: boolean, item: (w: Writer, v: T) => void): this {
    if (items === null) return flexible ? this.uvarint(0) : this.int32(-1);
    if (flexible) this.uvarint(items.length + 1);
    else this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  array<T>(items: readonly T[], flexible: boolean, item: (w: Writer, v: T) => void): this {
    return this.nullableArray(items, flexible, item);
  }

  /** Ends a flexible struct: writes the given tagged fields (ascending tags) or an empty tag buffer. */
  tags(flexible: boolean, fields?: ReadonlyMap<number, Buffer>): this {
    if (!flexible) return this;
    if (!fields || fields.size === 0) return this.uvarint(0);
    const tags = [...fields.keys()].sort((a, b) => a - b);
    this.uvarint(tags.length);
    for (const tag of tags) {
      const v = fields.get(tag)!;
      this.uvarint(tag).uvarint(v.length).raw(v);
    }
    return this;
  }

  raw(v: Buffer): this {
    if (v.length >= this.#referenceFromBytes) {
      if (this.offset > this.#partStart) this.#parts.push(this.buf.subarray(this.#partStart, this.offset));
      this.#parts.push(v);
      this.#referencedBytes += v.length;
      this.#partStart = this.offset;
      return this;
    }
    this.ensure(v.length);
    v.copy(this.buf, this.offset);
    this.offset += v.length;
    return this;
  }

  /** Bytes of the message so far, byte runs kept by reference included. */
  get totalBytes(): number {
    return this.offset + this.#referencedBytes;
  }

  /** The message as parts to be written in order (views, not copies); the first holds the first bytes written. */
  parts(): Buffer[] {
    return this.#parts.length === 0 ? [this.buf.subarray(0, this.offset)] : [...this.#parts, this.buf.subarray(this.#partStart, this.offset)];
  }

  /** The bytes written so far: a view, or one copy when byte runs were kept by reference. */
  bytesWritten(): Buffer {
    return this.#parts.length === 0 ? this.buf.subarray(0, this.offset) : Buffer.concat(this.parts());
  }
}
