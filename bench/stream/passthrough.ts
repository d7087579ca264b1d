// The baseline of the stream benchmark: a worker-shaped loop with no steps. It uses the StreamWorker's client settings
// (src/stream/worker.ts, StreamWorker.start) and its commit discipline — per-partition lanes of up to 2000 records,
// one acks=all produce per lane batch, offsets committed every second behind acknowledged outputs — and copies each
// raw record (key, value, headers, timestamp) unchanged to the same partition of the output topic.
import { Consumer, ProduceAcks, Producer, type Message, type MessagesStream, type MessageToProduce } from '@platformatic/kafka';

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type OutputMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type Lane = { partition: number; queue: BufferMessage[]; running: boolean; doneOffset: bigint; doneLeaderEpoch: number; committedOffset: bigint };

const LANE_BATCH_RECORDS = 2000;
const MAX_IN_FLIGHT_RECORDS = 20_000;
const CONSUMER_BUFFER_RECORDS = 16_384;
const OFFSET_COMMIT_INTERVAL_MS = 1000;
const SESSION_TIMEOUT_MS = 10_000;
const FETCH_MAX_BYTES = 4 * 1024 ** 2;
const FETCH_PARTITION_MAX_BYTES = 1024 ** 2;

export class Passthrough {
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #from: string;
  readonly #to: string;
  readonly #lanes = new Map<number, Lane>();
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #inFlight = 0;
  #capacityWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #closing = false;
  #pullLoop: Promise<void> = Promise.resolve();
  #commitTimer: NodeJS.Timeout | undefined;
  #offsetCommit: Promise<void> | null = null;
  /** Records copied and acknowledged. */
  copied = 0;
  errors: string[] = [];

  constructor(options: { brokers: string[]; groupId: string; from: string; to: string }) {
    this.#from = options.from;
    this.#to = options.to;
    this.#consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: 'oxbow-bench-passthrough',
      groupId: options.groupId,
      bootstrapBrokers: options.brokers,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.floor(SESSION_TIMEOUT_MS / 3),
      rebalanceTimeout: SESSION_TIMEOUT_MS,
      autocommit: false,
      maxWaitTime: 500,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
      retries: 5,
      retryDelay: 500,
    });
    this.#producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
      clientId: 'oxbow-bench-passthrough',
      bootstrapBrokers: options.brokers,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      retries: 3,
      retryDelay: 250,
    });
  }

  start(): void {
    this.#pullLoop = this.#pull();
    this.#commitTimer = setInterval(() => void this.#commitOffsets(), OFFSET_COMMIT_INTERVAL_MS);
  }

  async #pull(): Promise<void> {
    try {
      const stream = await this.#consumer.consume({ topics: [this.#from], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 500, highWaterMark: CONSUMER_BUFFER_RECORDS });
      this.#stream = stream;
      for await (const message of stream) {
        if (this.#closing) break;
        this.#accept(message as BufferMessage);
        while (!this.#closing && this.#inFlight >= MAX_IN_FLIGHT_RECORDS) await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
      }
    } catch (err) {
      if (!this.#closing) this.errors.push(`consume: ${(err as Error).message}`);
    }
  }

  #accept(m: BufferMessage): void {
    let lane = this.#lanes.get(m.partition);
    if (!lane) {
      lane = { partition: m.partition, queue: [], running: false, doneOffset: -1n, doneLeaderEpoch: -1, committedOffset: -1n };
      this.#lanes.set(m.partition, lane);
    }
    lane.queue.push(m);
    this.#inFlight++;
    if (!lane.running) void this.#runLane(lane);
  }

  async #runLane(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (lane.queue.length > 0 && !this.#closing) {
        const batch = lane.queue.splice(0, LANE_BATCH_RECORDS);
        const messages: OutputMessage[] = batch.map((m) => {
          const out: OutputMessage = { topic: this.#to, partition: m.partition, value: m.value, headers: m.headers, timestamp: m.timestamp };
          if (m.key !== null && m.key !== undefined) out.key = m.key;
          return out;
        });
        try {
          await this.#producer.send({ messages });
        } catch (err) {
          this.errors.push(`produce: ${(err as Error).message}`);
          this.#release(batch.length);
          break;
        }
        const last = batch[batch.length - 1]!;
        lane.doneOffset = last.offset + 1n;
        lane.doneLeaderEpoch = last.leaderEpoch;
        this.copied += batch.length;
        this.#release(batch.length);
      }
    } finally {
      lane.running = false;
      if (![...this.#lanes.values()].some((l) => l.running)) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  #release(records: number): void {
    this.#inFlight -= records;
    if (this.#inFlight < MAX_IN_FLIGHT_RECORDS || this.#closing) for (const w of this.#capacityWaiters.splice(0)) w();
  }

  #commitOffsets(): Promise<void> {
    if (this.#offsetCommit) return this.#offsetCommit;
    const due = [...this.#lanes.values()].filter((l) => l.doneOffset > l.committedOffset).map((l) => ({ lane: l, offset: l.doneOffset, leaderEpoch: l.doneLeaderEpoch }));
    if (due.length === 0) return Promise.resolve();
    const run = async () => {
      try {
        await this.#consumer.commit({ offsets: due.map((d) => ({ topic: this.#from, partition: d.lane.partition, offset: d.offset, leaderEpoch: d.leaderEpoch })) });
        for (const d of due) d.lane.committedOffset = d.offset;
      } catch (err) {
        this.errors.push(`offset commit: ${(err as Error).message}`);
      }
    };
    this.#offsetCommit = run().finally(() => {
      this.#offsetCommit = null;
    });
    return this.#offsetCommit;
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#release(0);
    const stream = this.#stream;
    if (stream && !stream.closed && !stream.destroyed) await stream.close().catch(() => undefined);
    if ([...this.#lanes.values()].some((l) => l.running)) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    await this.#pullLoop;
    clearInterval(this.#commitTimer);
    await this.#offsetCommit;
    await this.#commitOffsets();
    await this.#consumer.close(true);
    await this.#producer.close();
  }
}
