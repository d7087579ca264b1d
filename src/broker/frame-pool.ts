// Buffers for large request frames (produce requests of record batches) and for the record batches a fetch reads from
// the log, used again once a request is answered or an answer written. A frame that spans socket chunks has to be
// copied into one buffer, and a fetch reads up to a MiB per partition; a fresh buffer each time made V8 count hundreds
// of MB/s of new external memory under a steady load, and each 64 MB of it starts a full collection (one every 100 ms
// or so, pausing requests for several ms each and keeping V8's helper threads busy marking). Buffers from here are
// reused instead.

/** Frames smaller than this are copied into ordinary buffers; they are few bytes per second. */
export const POOLED_FRAME_MIN_BYTES = 64 * 1024;

export class FramePool {
  readonly #free = new Map<number, Buffer[]>();
  /** Every idle buffer, least recently given back first. */
  readonly #idle = new Set<Buffer>();
  readonly #maxIdleBytes: number;
  #idleBytes = 0;

  /**
   * Keeps at most `maxIdleBytes` of buffers between uses; beyond that the buffers given back longest ago are left to
   * the garbage collector, so the pool follows the sizes in use now (a consumer's 4 MiB reads, then 1 MiB produce
   * requests) instead of holding on to the first ones.
   */
  constructor(maxIdleBytes: number) {
    this.#maxIdleBytes = maxIdleBytes;
  }

  /** A buffer of at least `bytes` (its size is a power of two), reused when one is free. */
  acquire(bytes: number): Buffer {
    const capacity = capacityFor(bytes);
    const buf = this.#free.get(capacity)?.pop();
    if (buf !== undefined) {
      this.#idle.delete(buf);
      this.#idleBytes -= capacity;
      return buf;
    }
    return Buffer.allocUnsafeSlow(capacity);
  }

  /** Gives back a buffer from acquire(); nothing may read or write it afterwards. */
  release(buf: Buffer): void {
    if (buf.length > this.#maxIdleBytes) return;
    while (this.#idleBytes + buf.length > this.#maxIdleBytes) {
      const oldest = this.#idle.values().next().value!;
      this.#idle.delete(oldest);
      const list = this.#free.get(oldest.length)!;
      list.splice(list.indexOf(oldest), 1);
      this.#idleBytes -= oldest.length;
    }
    let free = this.#free.get(buf.length);
    if (free === undefined) {
      free = [];
      this.#free.set(buf.length, free);
    }
    free.push(buf);
    this.#idle.add(buf);
    this.#idleBytes += buf.length;
  }

  /** Bytes of buffers kept for reuse. */
  get idleBytes(): number {
    return this.#idleBytes;
  }
}

/**
 * The buffers one request borrowed from a pool for its answer (a fetch's record batches), given back together once
 * the answer is written: until then the socket may still be sending from them.
 */
export class FrameLease {
  readonly #pool: FramePool;
  #held: Buffer[] = [];

  constructor(pool: FramePool) {
    this.#pool = pool;
  }

  /** A buffer of at least `bytes`, held until release(). */
  acquire(bytes: number): Buffer {
    const buf = this.#pool.acquire(bytes);
    this.#held.push(buf);
    return buf;
  }

  /** Gives every held buffer back; nothing may read or write them afterwards. */
  release(): void {
    for (const buf of this.#held) this.#pool.release(buf);
    this.#held = [];
  }
}

function capacityFor(bytes: number): number {
  let c = POOLED_FRAME_MIN_BYTES;
  while (c < bytes) c *= 2;
  return c;
}
