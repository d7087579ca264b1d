// The client side of one Kafka connection, on Oxbow's own codecs: size-prefixed frames out, answers matched to requests
// by correlation id. The sink reads its topic through it (topic-fetcher.ts) instead of through a client library that
// makes an object per record; tests use it to send the broker requests of their own.
import net from 'node:net';
import { encodeRequestHeader, KafkaClientError, KafkaClientErrorCode, Reader, responseHeaderIsFlexible, Writer, type ApiCodec } from '../kafka/index.ts';

/** A frame larger than this from a broker is taken as a broken stream (a Fetch answer is bounded by its max bytes). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

type Pending = { resolve: (frame: Buffer) => void; reject: (err: Error) => void };

export class KafkaClientConnection {
  readonly address: string;
  readonly #socket: net.Socket;
  readonly #clientId: string;
  readonly #sizeBytes: Buffer;
  /** The frame being read (after its size), or null while the size is read. */
  #frame: Buffer | null = null;
  #filled = 0;
  #pending = new Map<number, Pending>();
  #nextCorrelationId = 1;
  #closedBecause: KafkaClientError | null = null;

  private constructor(socket: net.Socket, address: string, clientId: string, sizeBytes: Buffer) {
    this.#sizeBytes = sizeBytes;
    this.#socket = socket;
    this.address = address;
    this.#clientId = clientId;
    socket.setNoDelay(true);
    socket.on('error', (err) => this.#fail(new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, `the connection to ${address} failed: ${err.message}`, { retryable: true, cause: err })));
    socket.on('close', () => this.#fail(new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, `the connection to ${address} closed`, { retryable: true })));
  }

  /** Connects to `host:port`; a refusal or no answer within `timeoutMs` is a retryable KafkaClientError. */
  static connect(host: string, port: number, opts: { clientId: string; timeoutMs: number }): Promise<KafkaClientConnection> {
    const address = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      let connection: KafkaClientConnection | null = null;
      // net takes the first read buffer before the connection object exists: it is the one the first frame's size goes to.
      const sizeBytes = Buffer.alloc(4);
      const socket = net.connect({
        host,
        port,
        onread: {
          buffer: () => (connection === null ? sizeBytes : connection.#nextReadBuffer()),
          callback: (bytes: number) => (connection === null ? false : connection.#onRead(bytes)),
        },
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, `no connection to ${address} within ${opts.timeoutMs} ms`, { retryable: true }));
      }, opts.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        connection = new KafkaClientConnection(socket, address, opts.clientId, sizeBytes);
        resolve(connection);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, `cannot connect to ${address}: ${err.message}`, { retryable: true, cause: err }));
      });
    });
  }

  get isClosed(): boolean {
    return this.#closedBecause !== null;
  }

  /**
   * Sends one request and decodes its answer. Requests on a connection are answered in the order they were sent. No
   * answer within `timeoutMs` closes the connection (a broker that stopped answering), failing every request on it.
   */
  async request<Req, Res>(api: ApiCodec<Req, Res>, version: number, req: Req, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<Res> {
    if (this.#closedBecause !== null) throw this.#closedBecause;
    const correlationId = this.#nextCorrelationId++;
    const flexible = version >= api.flexibleFrom;
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, { apiKey: api.key, apiVersion: version, correlationId, clientId: this.#clientId }, flexible);
    api.encodeRequest(w, version, req);
    const frame = w.bytesWritten();
    frame.writeInt32BE(frame.length - 4, 0);
    const answer = new Promise<Buffer>((resolve, reject) => this.#pending.set(correlationId, { resolve, reject }));
    this.#socket.write(frame);
    const timer = setTimeout(() => {
      this.#fail(new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, `no answer to ${api.name} from ${this.address} within ${timeoutMs} ms; closing the connection`, { retryable: true }));
    }, timeoutMs);
    let body: Buffer;
    try {
      body = await answer;
    } finally {
      clearTimeout(timer);
    }
    const r = new Reader(body, 4);
    if (responseHeaderIsFlexible(api.key, flexible)) r.taggedFields();
    return api.decodeResponse(r, version);
  }

  close(): void {
    this.#fail(new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, `the connection to ${this.address} was closed by this client`, { retryable: true }));
  }

  #fail(err: KafkaClientError): void {
    if (this.#closedBecause !== null) return;
    this.#closedBecause = err;
    this.#socket.destroy();
    const pending = this.#pending;
    this.#pending = new Map();
    for (const p of pending.values()) p.reject(err);
  }

  /**
   * Where the socket reads next (net's `onread` with a buffer per read): the 4-byte size of the next frame, then that
   * frame's own buffer, sized to the frame, so a large Fetch answer lands where it is decoded with no copy in between
   * and no read ever crosses into the next frame.
   */
  #nextReadBuffer = (): Uint8Array => {
    if (this.#frame === null) return this.#sizeBytes.subarray(this.#filled);
    return this.#frame.subarray(this.#filled);
  };

  #onRead = (bytes: number): boolean => {
    this.#filled += bytes;
    if (this.#frame === null) {
      if (this.#filled < 4) return true;
      const size = this.#sizeBytes.readInt32BE(0);
      if (size < 4 || size > MAX_RESPONSE_BYTES) {
        this.#fail(new KafkaClientError(KafkaClientErrorCode.BAD_RESPONSE, `${this.address} sent a frame of ${size} bytes; closing the connection`, { retryable: true }));
        return false;
      }
      this.#frame = Buffer.allocUnsafeSlow(size);
      this.#filled = 0;
      return true;
    }
    if (this.#filled < this.#frame.length) return true;
    const frame = this.#frame;
    this.#frame = null;
    this.#filled = 0;
    const id = frame.readInt32BE(0);
    const pending = this.#pending.get(id);
    if (pending === undefined) {
      this.#fail(new KafkaClientError(KafkaClientErrorCode.BAD_RESPONSE, `${this.address} answered correlation id ${id}, which no request is waiting for`, { retryable: true }));
      return false;
    }
    this.#pending.delete(id);
    pending.resolve(frame);
    return true;
  };
}
