// Load generator of the broker benchmark, one per process: acks=all producers (flat out or at a fixed rate) and a
// fetch-loop consumer, all on @platformatic/kafka. Started by run.ts with one JSON argument; prints one JSON line
// `{"ready":true}` when connected, waits for a line on stdin, runs, and prints its result as one JSON line.
import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import { wallMs } from './stats.ts';

export type ProduceJob = {
  mode: 'produce';
  address: string;
  topic: string;
  /** Partitions of the topic; each in-flight send loop writes one partition, spread over all workers. */
  partitions: number;
  firstPartition: number;
  recordBytes: number;
  recordsPerSend: number;
  inflight: number;
  durationMs: number;
  /** Stop after this many payload bytes (the soak run); 0 = only the duration bounds the run. */
  maxBytes: number;
};

export type RateJob = {
  mode: 'rate';
  address: string;
  topic: string;
  partitions: number;
  firstPartition: number;
  recordBytes: number;
  recordsPerSecond: number;
  tickMs: number;
  durationMs: number;
  /** Sent at the rate before the timed ticks, not timed or counted. */
  warmupMs: number;
};

/** Read the whole topic back; rdkafka-load.c's consume mode takes the same job. */
export type ConsumeJob = {
  mode: 'consume';
  address: string;
  topic: string;
  partitions: number;
  /** Bytes asked for per partition in each Fetch request. */
  partitionMaxBytes: number;
  /** Give up reading after this long (counted as an error). */
  timeoutMs: number;
  /** rdkafka-load.c only: consumer processes sharing the topic, and which share this one reads (p % workers). */
  workers?: number;
  firstPartition?: number;
};

export type Job = ProduceJob | RateJob | ConsumeJob;

export type ThroughputResult = {
  records: number;
  bytes: number;
  startMs: number;
  endMs: number;
  requests: number;
  /** CPU seconds this generator process used while measuring. */
  cpuSeconds: number;
  errors: string[];
};
export type RateResult = {
  /** One per send here; rdkafka-load.c times each record instead and reports its sends apart. */
  latenciesMs: number[];
  sends?: number;
  records: number;
  startMs: number;
  endMs: number;
  behind: number;
  cpuSeconds: number;
  errors: string[];
};

type Message = { topic: string; partition: number; value: Buffer };

/** A few distinct random payloads, reused round-robin: incompressible, and no per-record allocation while measuring. */
function payloads(recordBytes: number): Buffer[] {
  return Array.from({ length: 16 }, () => randomFillSync(Buffer.allocUnsafe(recordBytes)));
}

function messagesFor(topic: string, partition: number, count: number, pool: Buffer[], seq: number): Message[] {
  const out: Message[] = new Array<Message>(count);
  for (let i = 0; i < count; i++) out[i] = { topic, partition, value: pool[(seq + i) % pool.length]! };
  return out;
}

function newProducer(address: string, inflight: number): Producer {
  return new Producer({
    clientId: 'oxbow-bench-producer',
    bootstrapBrokers: [address],
    acks: ProduceAcks.ALL,
    maxInflights: inflight,
    retries: 0,
    timeout: 30_000,
  });
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Announces readiness and waits for the start line; gives up after two minutes so an orphan never lingers. */
async function waitForGo(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = createInterface({ input: process.stdin });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      once(lines, 'line'),
      once(lines, 'close').then(() => Promise.reject(new Error('stdin closed before the start line'))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no start line within 120 s')), 120_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

async function produceFlatOut(job: ProduceJob): Promise<ThroughputResult> {
  const producer = newProducer(job.address, job.inflight);
  const pool = payloads(job.recordBytes);
  const partitionOf = (loop: number) => (job.firstPartition + loop) % job.partitions;
  try {
    // Warm-up: metadata and connections, one send per partition this worker writes; not counted.
    for (let loop = 0; loop < Math.min(job.inflight, job.partitions); loop++) {
      await producer.send({ messages: messagesFor(job.topic, partitionOf(loop), 1, pool, 0) });
    }
    await waitForGo();
    const cpu = process.cpuUsage();
    const result: ThroughputResult = { records: 0, bytes: 0, startMs: wallMs(), endMs: 0, requests: 0, cpuSeconds: 0, errors: [] };
    const deadline = result.startMs + job.durationMs;
    const sendBytes = job.recordsPerSend * job.recordBytes;
    const loops = Array.from({ length: job.inflight }, async (_, loop) => {
      let seq = loop;
      while (wallMs() < deadline && result.errors.length === 0 && (job.maxBytes === 0 || result.bytes + sendBytes <= job.maxBytes)) {
        const messages = messagesFor(job.topic, partitionOf(loop), job.recordsPerSend, pool, seq++);
        try {
          await producer.send({ messages });
          result.records += messages.length;
          result.bytes += sendBytes;
          result.requests++;
        } catch (err) {
          result.errors.push((err as Error).message);
        }
      }
    });
    await Promise.all(loops);
    result.endMs = wallMs();
    result.cpuSeconds = cpuSecondsSince(cpu);
    return result;
  } finally {
    await producer.close();
  }
}

/**
 * Sends `recordsPerSecond × tickMs / 1000` records every tick, whatever happened to earlier sends, and measures each
 * send from the moment it was scheduled, so a stall shows up in the latencies of every send it delays. The warm-up
 * ticks (warmupMs) go first at the same rate and are neither timed nor counted.
 */
async function produceAtRate(job: RateJob): Promise<RateResult> {
  const maxOutstanding = 256;
  const producer = newProducer(job.address, 64);
  const pool = payloads(job.recordBytes);
  const perTick = Math.max(1, Math.round((job.recordsPerSecond * job.tickMs) / 1000));
  try {
    for (let p = 0; p < job.partitions; p++) await producer.send({ messages: messagesFor(job.topic, p, 1, pool, 0) });
    await waitForGo();
    const warmupTicks = Math.floor(job.warmupMs / job.tickMs);
    const startMs = wallMs();
    let cpu = process.cpuUsage();
    const result: RateResult = { latenciesMs: [], records: 0, startMs: startMs + warmupTicks * job.tickMs, endMs: 0, behind: 0, cpuSeconds: 0, errors: [] };
    const ticks = warmupTicks + Math.floor(job.durationMs / job.tickMs);
    const pending = new Set<Promise<void>>();
    for (let tick = 0; tick < ticks && result.errors.length === 0; tick++) {
      const scheduled = startMs + tick * job.tickMs;
      const wait = scheduled - wallMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const timed = tick >= warmupTicks;
      if (tick === warmupTicks) cpu = process.cpuUsage();
      if (pending.size >= maxOutstanding) {
        if (timed) result.behind++;
        await Promise.race(pending);
      }
      const messages = messagesFor(job.topic, (job.firstPartition + tick) % job.partitions, perTick, pool, tick);
      const send: Promise<void> = producer.send({ messages }).then(
        () => {
          if (!timed) return;
          result.latenciesMs.push(wallMs() - scheduled);
          result.records += messages.length;
        },
        (err: unknown) => {
          result.errors.push((err as Error).message);
        },
      );
      const tracked = send.finally(() => pending.delete(tracked));
      pending.add(tracked);
    }
    await Promise.all(pending);
    result.endMs = wallMs();
    result.cpuSeconds = cpuSecondsSince(cpu);
    return result;
  } finally {
    await producer.close();
  }
}

/** Reads every partition from offset 0 to the end offsets seen at the start, with fetch requests over all of them. */
async function consumeAll(job: ConsumeJob): Promise<ThroughputResult> {
  const consumer = new Consumer({ clientId: 'oxbow-bench-consumer', groupId: 'oxbow-bench-unused', bootstrapBrokers: [job.address] });
  try {
    const ends = [...((await consumer.listOffsets({ topics: [job.topic] })).get(job.topic) ?? [])];
    const metadata = await consumer.metadata({ topics: [job.topic] });
    const leader = metadata.topics.get(job.topic)!.partitions[0]!.leader;
    const offsets = ends.map(() => 0n);
    await waitForGo();
    const cpu = process.cpuUsage();
    const result: ThroughputResult = { records: 0, bytes: 0, startMs: wallMs(), endMs: 0, requests: 0, cpuSeconds: 0, errors: [] };
    const deadline = result.startMs + job.timeoutMs;
    while (offsets.some((o, p) => o < ends[p]!) && wallMs() < deadline) {
      const partitions = [];
      for (let p = 0; p < offsets.length; p++) {
        if (offsets[p]! < ends[p]!) {
          partitions.push({ partition: p, fetchOffset: offsets[p]!, partitionMaxBytes: job.partitionMaxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1n });
        }
      }
      const res = await consumer.fetch({
        node: leader,
        maxWaitTime: 100,
        maxBytes: 64 * 1024 * 1024,
        topics: [{ topicId: job.topic, partitions }],
      } as never);
      result.requests++;
      for (const part of res.responses[0]?.partitions ?? []) {
        if (part.errorCode !== 0) {
          result.errors.push(`partition ${part.partitionIndex}: error ${part.errorCode}`);
          continue;
        }
        const p = part.partitionIndex;
        for (const batch of part.records ?? []) {
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < offsets[p]! || offset >= ends[p]!) continue;
            result.records++;
            result.bytes += r.value?.length ?? 0;
            offsets[p] = offset + 1n;
          }
        }
      }
      if (result.errors.length > 0) break;
    }
    result.endMs = wallMs();
    result.cpuSeconds = cpuSecondsSince(cpu);
    if (offsets.some((o, p) => o < ends[p]!)) result.errors.push('timed out before reaching the end offsets');
    return result;
  } finally {
    await consumer.close(true);
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const result = job.mode === 'produce' ? await produceFlatOut(job) : job.mode === 'rate' ? await produceAtRate(job) : await consumeAll(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
