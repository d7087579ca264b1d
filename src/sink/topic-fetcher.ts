// Reads one topic's partitions with Fetch requests on Oxbow's own codecs and hands over each partition's record
// batches as bytes, one fetch ahead of the caller: the next answer is on its way while the caller walks the last one.
// Group membership and offset commits stay with the caller's Kafka client; this only fetches from the positions it is
// given, follows partition leaders, and moves a position that fell out of the log's range to the earliest offset.
import { sleep, describeError } from '../async.ts';
import { FetchApi, KafkaClientError, KafkaClientErrorCode, KafkaErrorCode, kafkaErrorName, LIST_OFFSETS_EARLIEST, ListOffsetsApi, MetadataApi, nextOffsetAfter, type FetchRequest } from '../kafka/index.ts';
import { KafkaClientConnection } from './kafka-connection.ts';

// Versions every Kafka broker from 2.x to 4.x answers (Kafka 4 dropped Fetch below v4 and Metadata below v4), and
// the last ones before flexible encoding.
const FETCH_VERSION = 11;
const METADATA_VERSION = 8;
const LIST_OFFSETS_VERSION = 5;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

/** One partition's share of a fetch answer: whole record batches from `fetchOffset` on (the last may be cut short). */
export type FetchedPartition = { partition: number; fetchOffset: number; records: Buffer; highWatermark: number };

export type TopicFetcherOptions = {
  /** Bootstrap servers, `host:port`. */
  brokers: readonly string[];
  topic: string;
  clientId: string;
  maxWaitMs: number;
  maxBytes: number;
  partitionMaxBytes: number;
  connectTimeoutMs?: number;
  /** A request not answered within this long (a Fetch: this plus maxWaitMs) closes its connection and is retried. */
  requestTimeoutMs?: number;
  log: (line: string) => void;
};

type Position = { offset: number; generation: number };
type Leader = { nodeId: number; host: string; port: number };
type Answer = { parts: FetchedPartition[]; generations: Map<number, number> };

const LEADER_MOVED: ReadonlySet<number> = new Set([
  KafkaErrorCode.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCode.LEADER_NOT_AVAILABLE,
  KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  KafkaErrorCode.FENCED_LEADER_EPOCH,
  KafkaErrorCode.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCode.KAFKA_STORAGE_ERROR,
  KafkaErrorCode.REQUEST_TIMED_OUT,
]);

export class TopicFetcher {
  readonly topic: string;
  readonly #o: TopicFetcherOptions;
  /** Where each partition is read from next; a partition not here is not read. */
  #positions = new Map<number, Position>();
  /** Partitions to move to their earliest offset before they are read. */
  #toEarliest = new Set<number>();
  #generation = 0;
  #leaders: Map<number, Leader> | null = null;
  #connections = new Map<string, KafkaClientConnection>();
  #answers: Answer[] = [];
  #answerWaiter: (() => void) | null = null;
  #spaceWaiter: (() => void) | null = null;
  #positionWaiter: (() => void) | null = null;
  #closed = false;
  #stop = new AbortController();
  #loop: Promise<void>;

  get #requestTimeoutMs(): number {
    return this.#o.requestTimeoutMs ?? 30_000;
  }

  constructor(o: TopicFetcherOptions) {
    this.#o = o;
    this.topic = o.topic;
    this.#loop = this.#run();
  }

  /** Reads `partition` from `offset` on (or from its earliest offset); answers already fetched from elsewhere are dropped. */
  seek(partition: number, offset: number | 'earliest'): void {
    this.#positions.set(partition, { offset: offset === 'earliest' ? -1 : offset, generation: ++this.#generation });
    if (offset === 'earliest') this.#toEarliest.add(partition);
    else this.#toEarliest.delete(partition);
    this.#wake('position');
  }

  /** Stops reading `partition`; what was fetched of it and not yet handed over is dropped. */
  remove(partition: number): void {
    this.#positions.delete(partition);
    this.#toEarliest.delete(partition);
  }

  get partitions(): number[] {
    return [...this.#positions.keys()];
  }

  /**
   * The next answer's partitions that hold records (an empty list when a fetch waited its max time for nothing); null
   * once closed. Positions move past what is handed over, so the caller walks each partition's bytes exactly once.
   */
  async next(): Promise<FetchedPartition[] | null> {
    while (!this.#closed) {
      const answer = this.#answers.shift();
      if (answer !== undefined) {
        this.#wake('space');
        // Drop what a seek or remove since the request made stale.
        return answer.parts.filter((p) => this.#positions.get(p.partition)?.generation === answer.generations.get(p.partition));
      }
      await new Promise<void>((resolve) => (this.#answerWaiter = resolve));
    }
    return null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#wake('answer');
    this.#wake('space');
    this.#wake('position');
    for (const c of this.#connections.values()) c.close();
    await this.#loop;
    this.#connections.clear();
  }

  #wake(which: 'answer' | 'space' | 'position'): void {
    const w = which === 'answer' ? this.#answerWaiter : which === 'space' ? this.#spaceWaiter : this.#positionWaiter;
    if (which === 'answer') this.#answerWaiter = null;
    else if (which === 'space') this.#spaceWaiter = null;
    else this.#positionWaiter = null;
    w?.();
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      try {
        // One answer waits for the caller while the next is fetched.
        while (!this.#closed && this.#answers.length >= 1) await new Promise<void>((resolve) => (this.#spaceWaiter = resolve));
        while (!this.#closed && this.#positions.size === 0) await new Promise<void>((resolve) => (this.#positionWaiter = resolve));
        if (this.#closed) break;
        if (this.#toEarliest.size > 0) await this.#resolveEarliest();
        const answer = await this.#fetchOnce();
        attempt = 0;
        if (this.#closed) break;
        this.#answers.push(answer);
        this.#wake('answer');
      } catch (err) {
        if (this.#closed) break;
        this.#leaders = null;
        for (const c of this.#connections.values()) c.close();
        this.#connections.clear();
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt++);
        this.#o.log(`fetching ${this.topic} failed: ${describeError(err)}; retrying in ${delayMs} ms`);
        await sleep(delayMs, this.#stop.signal);
      }
    }
  }

  async #connection(host: string, port: number): Promise<KafkaClientConnection> {
    const key = `${host}:${port}`;
    const open = this.#connections.get(key);
    if (open !== undefined && !open.isClosed) return open;
    const c = await KafkaClientConnection.connect(host, port, { clientId: this.#o.clientId, timeoutMs: this.#o.connectTimeoutMs ?? 10_000 });
    if (this.#closed) c.close();
    this.#connections.set(key, c);
    return c;
  }

  /** Partition leaders from a Metadata request to the first bootstrap server that answers. */
  async #refreshLeaders(): Promise<Map<number, Leader>> {
    let lastError: unknown = null;
    for (const address of this.#o.brokers) {
      const colon = address.lastIndexOf(':');
      try {
        const c = await this.#connection(address.slice(0, colon), Number(address.slice(colon + 1)));
        const res = await c.request(MetadataApi, METADATA_VERSION, { topics: [{ name: this.topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, this.#requestTimeoutMs);
        const topic = res.topics.find((t) => t.name === this.topic);
        if (topic === undefined || topic.errorCode !== KafkaErrorCode.NONE) {
          throw new KafkaClientError(KafkaClientErrorCode.REQUEST_REFUSED, `metadata of ${this.topic}: ${kafkaErrorName(topic?.errorCode ?? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION)}`, { retryable: true });
        }
        const brokers = new Map(res.brokers.map((b) => [b.nodeId, b]));
        const leaders = new Map<number, Leader>();
        for (const p of topic.partitions) {
          const b = brokers.get(p.leaderId);
          if (b !== undefined) leaders.set(p.partitionIndex, { nodeId: b.nodeId, host: b.host, port: b.port });
        }
        this.#leaders = leaders;
        return leaders;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError ?? new KafkaClientError(KafkaClientErrorCode.CONNECTION_LOST, 'no bootstrap server given', { retryable: false });
  }

  /** Partitions with a position, grouped by their leader; partitions without a known leader make the leaders be asked again. */
  async #byLeader(partitions: number[]): Promise<Map<string, { leader: Leader; partitions: number[] }>> {
    let leaders = this.#leaders ?? (await this.#refreshLeaders());
    if (partitions.some((p) => !leaders.has(p))) leaders = await this.#refreshLeaders();
    const groups = new Map<string, { leader: Leader; partitions: number[] }>();
    for (const p of partitions) {
      const leader = leaders.get(p);
      if (leader === undefined) throw new KafkaClientError(KafkaClientErrorCode.REQUEST_REFUSED, `partition ${p} of ${this.topic} has no leader`, { retryable: true });
      const key = `${leader.host}:${leader.port}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { leader, partitions: [] }));
      g.partitions.push(p);
    }
    return groups;
  }

  async #resolveEarliest(): Promise<void> {
    const wanted = [...this.#toEarliest].filter((p) => this.#positions.has(p));
    for (const { leader, partitions } of (await this.#byLeader(wanted)).values()) {
      const c = await this.#connection(leader.host, leader.port);
      const res = await c.request(ListOffsetsApi, LIST_OFFSETS_VERSION, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: this.topic, partitions: partitions.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: LIST_OFFSETS_EARLIEST, maxNumOffsets: 1 })) }],
      }, this.#requestTimeoutMs);
      for (const p of res.topics.find((t) => t.name === this.topic)?.partitions ?? []) {
        if (p.errorCode !== KafkaErrorCode.NONE) {
          this.#leaders = null;
          throw new KafkaClientError(KafkaClientErrorCode.REQUEST_REFUSED, `the earliest offset of ${this.topic}/${p.partitionIndex}: ${kafkaErrorName(p.errorCode)}`, { retryable: true });
        }
        const pos = this.#positions.get(p.partitionIndex);
        if (pos !== undefined && this.#toEarliest.delete(p.partitionIndex)) pos.offset = p.offset;
      }
    }
  }

  /** One Fetch per leader (at once), for every partition with a position; positions move past the whole batches received. */
  async #fetchOnce(): Promise<Answer> {
    const wanted = [...this.#positions.keys()].filter((p) => !this.#toEarliest.has(p));
    const generations = new Map<number, number>();
    for (const p of wanted) generations.set(p, this.#positions.get(p)!.generation);
    const groups = await this.#byLeader(wanted);
    const answers = await Promise.all(
      [...groups.values()].map(async ({ leader, partitions: grouped }) => {
        const c = await this.#connection(leader.host, leader.port);
        // A partition removed while the leaders or the connection were looked up is not asked for.
        const partitions = grouped.filter((p) => this.#positions.get(p)?.generation === generations.get(p));
        const req: FetchRequest = {
          clusterId: null,
          replicaId: -1,
          maxWaitMs: this.#o.maxWaitMs,
          minBytes: 1,
          maxBytes: this.#o.maxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: this.topic, partitions: partitions.map((p) => ({ partition: p, currentLeaderEpoch: -1, fetchOffset: this.#positions.get(p)!.offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.#o.partitionMaxBytes })) }],
          forgottenTopicsData: [],
          rackId: '',
        };
        const sent = new Map(partitions.map((p) => [p, this.#positions.get(p)!.offset]));
        return { sent, res: await c.request(FetchApi, FETCH_VERSION, req, this.#requestTimeoutMs + this.#o.maxWaitMs) };
      }),
    );
    const parts: FetchedPartition[] = [];
    let leaderMoved = false;
    for (const { sent, res } of answers) {
      if (res.errorCode !== KafkaErrorCode.NONE) throw new KafkaClientError(KafkaClientErrorCode.REQUEST_REFUSED, `fetching ${this.topic}: ${kafkaErrorName(res.errorCode)}`, { retryable: true });
      for (const t of res.responses) {
        if (t.topic !== this.topic) continue;
        for (const p of t.partitions) {
          const pos = this.#positions.get(p.partitionIndex);
          const fetchOffset = sent.get(p.partitionIndex);
          // A seek since the request was sent wins over what this answer says.
          if (pos === undefined || fetchOffset === undefined || pos.generation !== generations.get(p.partitionIndex)) continue;
          if (p.errorCode === KafkaErrorCode.OFFSET_OUT_OF_RANGE) {
            this.#o.log(`partition ${p.partitionIndex} of ${this.topic}: offset ${fetchOffset} is no longer in the log; reading from its earliest offset`);
            this.#toEarliest.add(p.partitionIndex);
            continue;
          }
          if (LEADER_MOVED.has(p.errorCode)) {
            leaderMoved = true;
            continue;
          }
          if (p.errorCode !== KafkaErrorCode.NONE) {
            throw new KafkaClientError(KafkaClientErrorCode.REQUEST_REFUSED, `fetching ${this.topic}/${p.partitionIndex}: ${kafkaErrorName(p.errorCode)}`, { retryable: true });
          }
          const records = p.records;
          if (records === null || records.length === 0) continue;
          const next = nextOffsetAfter(records);
          if (next === -1) continue; // no whole batch yet
          pos.offset = next;
          parts.push({ partition: p.partitionIndex, fetchOffset, records, highWatermark: p.highWatermark });
        }
      }
    }
    if (leaderMoved) this.#leaders = null;
    return { parts, generations };
  }
}
