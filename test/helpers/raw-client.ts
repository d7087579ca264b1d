// A minimal Kafka client over a raw socket, built on Oxbow's own codecs, for tests that need exact control of the bytes
// (duplicate batches, chosen versions). Interop with real clients is tested separately; this is for the corner cases.
import net from 'node:net';
import type { ApiCodec } from '../../src/kafka/api.ts';
import { encodeRequestHeader, responseHeaderIsFlexible } from '../../src/kafka/header.ts';
import { Reader } from '../../src/kafka/reader.ts';
import { Writer } from '../../src/kafka/writer.ts';

export class RawClient {
  private readonly socket: net.Socket;
  private buffered = Buffer.alloc(0);
  private readonly waiting = new Map<number, (frame: Buffer) => void>();
  private nextCorrelationId = 1;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const id = frame.readInt32BE(0);
        this.waiting.get(id)?.(frame);
        this.waiting.delete(id);
      }
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  async request<Req, Res>(api: ApiCodec<Req, Res>, version: number, req: Req): Promise<Res> {
    const correlationId = this.nextCorrelationId++;
    const flexible = version >= api.flexibleFrom;
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, { apiKey: api.key, apiVersion: version, correlationId, clientId: 'raw-test' }, flexible);
    api.encodeRequest(w, version, req);
    const frame = w.bytesWritten();
    frame.writeInt32BE(frame.length - 4, 0);
    const reply = new Promise<Buffer>((resolve) => this.waiting.set(correlationId, resolve));
    this.socket.write(frame);
    const r = new Reader(await reply, 4);
    if (responseHeaderIsFlexible(api.key, flexible)) r.taggedFields();
    return api.decodeResponse(r, version);
  }

  close(): void {
    this.socket.destroy();
  }
}
