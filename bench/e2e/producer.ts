// The producer of the end-to-end benchmark, in its own process so that its CPU is its own: @platformatic/kafka with
// acks=all, one batch per partition per timer tick, at a fixed rate or as fast as acknowledgements allow (up to a cap).
// Started by run.ts with one JSON argument; prints `{"ready":true}` once connected and the topic exists, starts on
// the line "go", and prints its result as one JSON line when every send is acknowledged. Progress goes to stderr.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import { percentile, wallMs } from '../broker/stats.ts';
import { eventJson, fateOf, type EventFate } from './events.ts';

export type ProducerJob = {
  address: string;
  topic: string;
  partitions: number;
  /** Events per second; null: as fast as acknowledgements come back, up to `maxRate`. */
  rate: number | null;
  maxRate: number;
  durationMs: number;
  badRatio: number;
  tickMs: number;
  /** Events in one send request at most (one request goes to one partition). */
  maxBatch: number;
  /** Send requests awaiting their acknowledgement at most. */
  maxInFlight: number;
};

export type ProducerResult = {
  startMs: number;
  /** When the last send was made, and when its acknowledgement (the last one) arrived. */
  lastSendMs: number;
  endMs: number;
  /** Acknowledged events, and of them: malformed (by kind), filtered by the pipeline, and good (expected in SQL). */
  acked: number;
  byFate: Record<EventFate, number>;
  /** Events the rate (or the cap) asked for by the end that were not sent: `maxInFlight` requests were outstanding. */
  behind: number;
  requests: number;
  bytes: number;
  ackMs: { p50: number; p99: number; max: number };
  /** Events that failed to send (not counted in `acked`); a run with any is not exact. */
  failed: number;
  cpuSeconds: number;
  errors: string[];
};

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function createTopic(job: ProducerJob): Promise<void> {
  const admin = new Admin({ clientId: 'oxbow-bench-e2e-admin', bootstrapBrokers: [job.address] });
  try {
    await admin.createTopics({ topics: [job.topic], partitions: job.partitions, replicas: 1 });
  } catch (err) {
    // The stream worker may have created it already (with the broker's defaultPartitions, the same number).
    if (!/already exists/i.test(JSON.stringify(err, Object.getOwnPropertyNames(err))) && !/already exists/i.test(String(err))) throw err;
  } finally {
    await admin.close();
  }
}

/** Waits for the line "go"; an orphaned producer (stdin closed, or no line within 10 minutes) exits. */
async function waitForGo(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = createInterface({ input: process.stdin });
  const line = await Promise.race([
    once(lines, 'line').then(([l]) => String(l).trim()),
    once(lines, 'close').then(() => 'closed'),
    new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 600_000).unref()),
  ]);
  lines.close();
  if (line !== 'go') {
    say(`expected "go", got ${line}`);
    process.exit(2);
  }
}

async function produce(job: ProducerJob): Promise<ProducerResult> {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'oxbow-bench-e2e-producer',
    bootstrapBrokers: [job.address],
    acks: ProduceAcks.ALL,
    maxInflights: job.maxInFlight,
    timeout: 30_000,
  });
  try {
    await producer.metadata({ topics: [job.topic] });
    await waitForGo();
    const cpu = process.cpuUsage();
    const rate = Math.min(job.rate ?? job.maxRate, job.maxRate);
    const byFate: Record<EventFate, number> = { good: 0, filtered: 0, 'invalid-json': 0, 'schema-violation': 0 };
    const ackTimes: number[] = [];
    const errors: string[] = [];
    const startMs = wallMs();
    const deadline = startMs + job.durationMs;
    let nextSeq = 0;
    let acked = 0;
    let failed = 0;
    let inFlight = 0;
    let requests = 0;
    let bytes = 0;
    let lastSendMs = startMs;
    let lastProgress = startMs;
    let partition = 0;
    const pending = new Set<Promise<void>>();

    const sendBatch = (count: number) => {
      const first = nextSeq;
      nextSeq += count;
      const sentMs = Date.now();
      const fates: EventFate[] = new Array<EventFate>(count);
      const messages = new Array<{ topic: string; partition: number; value: Buffer }>(count);
      for (let i = 0; i < count; i++) {
        const fate = fateOf(first + i, job.badRatio);
        fates[i] = fate;
        const value = Buffer.from(eventJson(first + i, sentMs, fate));
        bytes += value.length;
        messages[i] = { topic: job.topic, partition, value };
      }
      partition = (partition + 1) % job.partitions;
      inFlight++;
      requests++;
      lastSendMs = wallMs();
      const sendStart = lastSendMs;
      const p = producer
        .send({ messages })
        .then(
          () => {
            ackTimes.push(wallMs() - sendStart);
            acked += count;
            for (const f of fates) byFate[f]++;
          },
          (err: unknown) => {
            failed += count;
            if (errors.length < 10) errors.push(`send of ${count} events from seq ${first}: ${err instanceof Error ? err.message : String(err)}`);
          },
        )
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    };

    // Each tick sends what the rate allows by now, one request per partition in turn, while requests may be added.
    while (wallMs() < deadline) {
      const now = wallMs();
      let due = Math.floor((rate * Math.min(now - startMs, job.durationMs)) / 1000) - nextSeq;
      while (due > 0 && inFlight < job.maxInFlight) {
        const count = Math.min(due, job.maxBatch);
        sendBatch(count);
        due -= count;
      }
      if (now - lastProgress >= 5000) {
        lastProgress = now;
        say(`${((now - startMs) / 1000).toFixed(0)} s: ${acked.toLocaleString('en-US')} events acknowledged (${Math.round(acked / ((now - startMs) / 1000)).toLocaleString('en-US')}/s), ${inFlight} requests in flight`);
      }
      if (inFlight >= job.maxInFlight) await Promise.race([...pending, new Promise((r) => setTimeout(r, job.tickMs))]);
      else await new Promise((r) => setTimeout(r, job.tickMs));
    }
    await Promise.all([...pending]);
    const endMs = wallMs();
    const behind = Math.max(0, Math.floor((rate * job.durationMs) / 1000) - nextSeq);
    const used = process.cpuUsage(cpu);
    ackTimes.sort((a, b) => a - b);
    return {
      startMs,
      lastSendMs,
      endMs,
      acked,
      byFate,
      behind,
      requests,
      bytes,
      ackMs: { p50: percentile(ackTimes, 50), p99: percentile(ackTimes, 99), max: ackTimes.at(-1) ?? Number.NaN },
      failed,
      cpuSeconds: (used.user + used.system) / 1e6,
      errors,
    };
  } finally {
    await producer.close();
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as ProducerJob;
await createTopic(job);
const result = await produce(job);
process.stdout.write(`${JSON.stringify(result)}\n`);
