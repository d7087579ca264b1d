// Buffers for large request frames (produce requests of record batches), used again once a request is answered. A
// frame that spans socket chunks has to be copied into one buffer; a fresh buffer per request made V8 count hundreds
// of MB/s of new external memory under a steady produce load, and each 64 MB of it starts a full collection (one every
// 100 ms or so, pausing requests for several ms each). Buffers from here are reused instead.

/** Frames smaller than this are copied into ordinary buffers; they are few bytes per second. */
export const POOLED_FRAME_MIN_BYTES = 64 * 1024;

export class FramePool {
  readonly #free = new Map<number, Buffer[]>();
  readonly #maxIdleBytes: number;
  #idleBytes = 0;

  /** Keeps at most `maxIdleBytes` of buffers between uses; more are left to the garbage collector. */
  constructor(maxIdleBytes: number) {
    this.#maxIdleBytes = maxIdleBytes;
  }

  /** A buffer of at least `bytes` (its size is a power of two), reused when one is free. */
  acquire(bytes: number): Buffer {
    const capacity = capacityFor(bytes);
    const free = this.#free.get(capacity);
    const buf = free?.pop();
    if (buf !== undefined) {
      this.#idleBytes -= capacity;
      return buf;
    }
    return Buffer.allocUnsafeSlow(capacity);
  }

  /** Gives back a buffer from acquire(); nothing may read or write it afterwards. */
  release(buf: Buffer): void {
    if (this.#idleBytes + buf.length > this.#maxIdleBytes) return;
    let free = this.#free.get(buf.length);
    if (free === undefined) {
      free = [];
      this.#free.set(buf.length, free);
    }
    free.push(buf);
    this.#idleBytes += buf.length;
  }

  /** Bytes of buffers kept for reuse. */
  get idleBytes(): number {
    return this.#idleBytes;
  }
}

function capacityFor(bytes: number): number {
  let c = POOLED_FRAME_MIN_BYTES;
  while (c < bytes) c *= 2;
  return c;
}
