// One client connection: splits the byte stream into size-prefixed frames, runs requests concurrently, and writes
// responses strictly in request order (clients pipeline). A frame over the size limit or one that does not decode
// closes this connection only, with a log line that says why.
import type { Socket } from 'node:net';
import { decodeRequestHeaderPrefix, type RequestHeader } from '../kafka/header.ts';
import { Reader } from '../kafka/reader.ts';
import { Writer } from '../kafka/writer.ts';
import { POOLED_FRAME_MIN_BYTES, type FramePool } from './frame-pool.ts';

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no-response');

export type FrameHandler = (
  conn: ConnectionInfo,
  header: RequestHeader,
  body: Reader,
) => Promise<FrameAnswer | typeof NO_RESPONSE>;

/** A handler's answer: how to write it, and what to give back once it is written (buffers it was read into). */
export type FrameAnswer = { write: (w: Writer) => void; flexibleHeader: boolean; written?: () => void };

export type ConnectionInfo = { id: number; remote: string };

export type ConnectionOptions = {
  maxRequestBytes: number;
  maxInFlight: number;
  /**
   * Bytes of requests read and not yet handled at which the connection stops reading (the request that crosses it is
   * still taken): what a client sends beyond waits in the socket, not in new buffers of the broker. Undefined: no
   * limit but maxInFlight.
   */
  maxInFlightBytes?: number;
  /**
   * APIs whose responses can be large (Fetch): they run one at a time per connection, and the next one starts only once
   * the client has read the previous answer down to `responseHighWaterBytes`, so a client that stops reading its socket
   * holds at most one large response in memory.
   */
  serialApiKeys: ReadonlySet<number>;
  responseHighWaterBytes: number;
  idleTimeoutMs: number;
  log: (line: string) => void;
  /**
   * Where large frames that span socket chunks are assembled. Only frames of `reusableApiKeys` go back to it, once
   * their handler has settled: their handlers keep no part of the request afterwards (Produce writes its batches to
   * the log and keeps numbers only).
   */
  framePool?: FramePool;
  reusableApiKeys?: ReadonlySet<number>;
  /**
   * The socket was made with `onread` calling nextReadBuffer() and onRead() (see directReads in broker.ts): bytes
   * arrive in buffers this connection chose, not as 'data' chunks.
   */
  directReads?: boolean;
};

/**
 * Where every connection in direct-read mode reads when it is not in the middle of a large frame. One for all: a read's
 * bytes are taken out of it before the next read anywhere, and reads run one at a time on the event loop.
 */
export const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Thrown by a frame handler to close the connection (unknown API, malformed body). */
export class CloseConnection extends Error {}

/** Byte runs of an answer at least this long (record batches) are written from where they are, not copied. */
const REFERENCE_FROM_BYTES = 16 * 1024;

type Slot = { done: boolean; bytes: number; frame: Buffer[] | null; written: (() => void) | null };

export class Connection {
  readonly info: ConnectionInfo;
  private readonly socket: Socket;
  private readonly handler: FrameHandler;
  private readonly opts: ConnectionOptions;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly slots: Slot[] = [];
  private closed = false;
  private paused = false;
  /** Bytes of the requests whose handlers have not settled yet. */
  private inFlightBytes = 0;
  private serialTail: Promise<unknown> = Promise.resolve();
  /** Direct reads: the large frame being read into a pool buffer, and how much of it has arrived. */
  private target: { buf: Buffer; size: number; filled: number } | null = null;
  /** Direct reads: bytes of an unfinished header or small frame, kept from the last read. */
  private carry: Buffer | null = null;

  constructor(socket: Socket, id: number, handler: FrameHandler, opts: ConnectionOptions) {
    this.socket = socket;
    this.handler = handler;
    this.opts = opts;
    this.info = { id, remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` };
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleTimeoutMs, () => this.close('idle timeout'));
    if (opts.directReads !== true) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.close(null));
    socket.on('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(reason: string | null): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.opts.log(`closing connection ${this.info.id} from ${this.info.remote}: ${reason}`);
    this.socket.destroy();
  }

  /** Direct reads: where the next read goes — the rest of the large frame being read, else the shared buffer. */
  nextReadBuffer(): Uint8Array {
    const t = this.target;
    return t === null ? SHARED_READ_BUFFER : t.buf.subarray(t.filled, t.size);
  }

  /**
   * Direct reads: `n` bytes arrived in the buffer nextReadBuffer() gave. A large frame is read straight into a pool
   * buffer of its own (no copy); everything else is taken out of the shared buffer at once: small frames are copied
   * out, and an unfinished header or small frame waits in `carry` for the next read. False pauses the socket.
   */
  onRead(n: number, buf: Uint8Array): boolean {
    if (this.closed) return false;
    const t = this.target;
    if (t !== null && buf.buffer === t.buf.buffer) {
      t.filled += n;
      if (t.filled === t.size) {
        this.target = null;
        this.dispatch(t.buf.subarray(0, t.size), t.buf);
      }
      return !this.paused;
    }
    const fresh = SHARED_READ_BUFFER.subarray(0, n);
    const data = this.carry === null ? fresh : Buffer.concat([this.carry, fresh]);
    this.carry = null;
    let pos = 0;
    while (!this.closed && data.length - pos >= 4) {
      const size = data.readInt32BE(pos);
      if (!this.frameSizeAllowed(size)) return false;
      if (size >= POOLED_FRAME_MIN_BYTES && this.opts.framePool !== undefined) {
        const buf = this.opts.framePool.acquire(size);
        const have = Math.min(size, data.length - pos - 4);
        data.copy(buf, 0, pos + 4, pos + 4 + have);
        pos += 4 + have;
        if (have === size) {
          this.dispatch(buf.subarray(0, size), buf);
          continue;
        }
        this.target = { buf, size, filled: have };
        break;
      }
      if (data.length - pos - 4 < size) break;
      this.dispatch(Buffer.from(data.subarray(pos + 4, pos + 4 + size)), null);
      pos += 4 + size;
    }
    if (pos < data.length && !this.closed) this.carry = Buffer.from(data.subarray(pos));
    return !this.paused;
  }

  /** False (and the connection closed, with the reason logged) for a size no request may have. */
  private frameSizeAllowed(size: number): boolean {
    if (size >= 8 && size <= this.opts.maxRequestBytes) return true;
    this.close(
      size < 8 ? `malformed frame: size ${size} is smaller than a request header` : `request of ${size} bytes exceeds broker.maxRequestBytes (${this.opts.maxRequestBytes})`,
    );
    return false;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.closed && this.buffered >= 4) {
      const head = this.peek(4);
      const size = head.readInt32BE(0);
      if (!this.frameSizeAllowed(size)) return;
      if (this.buffered < 4 + size) return;
      const pool = this.opts.framePool;
      if (pool !== undefined && size >= POOLED_FRAME_MIN_BYTES && this.chunks[0]!.length < 4 + size) {
        const buf = pool.acquire(size);
        this.skip(4);
        this.copyInto(buf, size);
        this.dispatch(buf.subarray(0, size), buf);
      } else {
        this.dispatch(this.take(4 + size).subarray(4), null);
      }
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }

  /** Drops the next `n` buffered bytes. */
  private skip(n: number): void {
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        this.chunks.shift();
        left -= first.length;
      } else {
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
  }

  /** Moves the next `n` buffered bytes into `target`, from its start. */
  private copyInto(target: Buffer, n: number): void {
    let at = 0;
    while (at < n) {
      const first = this.chunks[0]!;
      const take = Math.min(first.length, n - at);
      first.copy(target, at, 0, take);
      at += take;
      if (take === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(take);
    }
    this.buffered -= n;
  }

  /** Runs one request; `pooled` is the frame pool's buffer that holds it, if any. */
  private dispatch(frame: Buffer, pooled: Buffer | null): void {
    const r = new Reader(frame);
    let header: RequestHeader;
    try {
      header = decodeRequestHeaderPrefix(r);
    } catch (err) {
      this.close(`malformed request header: ${(err as Error).message}`);
      return;
    }
    const reusable = pooled !== null && this.opts.reusableApiKeys?.has(header.apiKey) === true;
    const slot: Slot = { done: false, bytes: frame.length, frame: null, written: null };
    this.slots.push(slot);
    this.inFlightBytes += slot.bytes;
    if (this.slots.length >= this.opts.maxInFlight || this.overBytes()) this.pause();
    let work: Promise<Awaited<ReturnType<FrameHandler>>>;
    if (this.opts.serialApiKeys.has(header.apiKey)) {
      work = this.serialTail.then(() => this.handler(this.info, header, r));
      this.serialTail = work.then(
        () => this.responsesDrained(),
        () => undefined,
      );
    } else {
      work = this.handler(this.info, header, r);
    }
    if (reusable) {
      const pool = this.opts.framePool!;
      work.then(
        () => pool.release(pooled),
        () => pool.release(pooled),
      );
    }
    work.then(
      (result) => {
        if (result !== NO_RESPONSE) {
          // Record batches (Fetch) go out as they were read, not copied into the answer.
          const w = new Writer(128, { referenceFromBytes: REFERENCE_FROM_BYTES });
          w.int32(0).int32(header.correlationId);
          if (result.flexibleHeader) w.uvarint(0);
          result.write(w);
          const parts = w.parts();
          parts[0]!.writeInt32BE(w.totalBytes - 4, 0);
          slot.frame = parts;
          slot.written = result.written ?? null;
        }
        this.settled(slot);
        this.flush();
      },
      (err: unknown) => {
        this.settled(slot);
        if (err instanceof CloseConnection) this.close(err.message);
        else this.close(`internal error handling api ${header.apiKey} v${header.apiVersion}: ${(err as Error)?.stack ?? String(err)}`);
      },
    );
  }

  /** Resolves once earlier responses are written and the client has read them down to the high-water mark. */
  private async responsesDrained(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (!this.closed && this.socket.writableLength > this.opts.responseHighWaterBytes) {
      await new Promise((resolve) => {
        this.socket.once('drain', resolve);
        this.socket.once('close', resolve);
      });
    }
  }

  private flush(): void {
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.frame && !this.closed) {
        // Called once the socket has handed the last part to the kernel, or has given up on it (closed): the parts
        // refer to the answer's buffers until then.
        const written = slot.written ?? undefined;
        const last = slot.frame.length - 1;
        let flowing = true;
        if (last === 0) flowing = this.socket.write(slot.frame[0]!, written);
        else {
          // One writev for the parts of an answer.
          this.socket.cork();
          for (let i = 0; i <= last; i++) flowing = this.socket.write(slot.frame[i]!, i === last ? written : undefined);
          this.socket.uncork();
        }
        if (!flowing) this.pause();
      } else {
        slot.written?.();
      }
    }
    this.maybeResume();
  }

  /** A request's handler has settled: its frame no longer counts against maxInFlightBytes. */
  private settled(slot: Slot): void {
    slot.done = true;
    this.inFlightBytes -= slot.bytes;
  }

  private overBytes(): boolean {
    return this.opts.maxInFlightBytes !== undefined && this.inFlightBytes >= this.opts.maxInFlightBytes;
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (this.paused && this.slots.length < this.opts.maxInFlight && !this.overBytes() && this.socket.writableLength < 4 * 1024 * 1024) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
