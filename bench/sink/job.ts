// One measured sink run of the sink benchmark, in its own process so that its RSS and CPU are the sink's own. Started
// by run.ts with one JSON argument; prints `{"ready":true}` once set up, starts a LakeSink on the line "go", prints
// `{"measured":true}` when the goal is reached (every record committed, or every record read), then closes the sink
// and prints its result as one JSON line. Progress and the sink's log go to stderr.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { LakeSink, type SinkCounters } from '../../src/sink/index.ts';
import { openObjectStore } from '../../src/storage/index.ts';
import { wallMs } from '../broker/stats.ts';
import { orderDataset } from './records.ts';

export type SinkJob = {
  address: string;
  dataset: string;
  topic: string;
  lakeDir: string;
  workDir: string;
  records: number;
  flushSize: number;
  /** Wall-clock rotation; null for none. */
  rotateScheduleIntervalMs: number | null;
  /** `committed`: measure until rowsCommitted reaches `records`; `read`: until every record is read (files stay open). */
  goal: 'committed' | 'read';
  timeoutMs: number;
  /** The sink's maxBufferedBytes; null for its default. */
  maxBufferedBytes: number | null;
};

export type SinkJobResult = {
  /** LakeSink.start() until the goal. */
  seconds: number;
  /** LakeSink.start() until every record was read. */
  readSeconds: number;
  /** LakeSink.start() until its first file was visible. */
  firstCommitSeconds: number;
  /**
   * Rows per second committed while the sink runs steadily: from the first moment 10% of the records were in visible
   * files to the first moment 90% were, so that neither joining the group nor the wait of the last files for their
   * wall-clock rotation is counted. Null when the run did not get that far.
   */
  sustainedRowsPerSecond: number | null;
  /** How long close() took (for the `read` goal: writing every open file). */
  closeSeconds: number;
  reached: boolean;
  countersAtGoal: SinkCounters;
  /** process.memoryUsage() at the goal: how much of the RSS is V8 heap, and how much of it record buffers. */
  memoryAtGoal: NodeJS.MemoryUsage;
  /** Bytes of record values (plus 64 each) the sink said it held at the goal. */
  bufferedBytesAtGoal: number;
  counters: SinkCounters;
  errors: string[];
};

const READ_SETTLE_MS = 1000;

const lines = createInterface({ input: process.stdin });
const commands: string[] = [];
const waiting: ((line: string) => void)[] = [];
lines.on('line', (line) => {
  const w = waiting.shift();
  if (w) w(line.trim());
  else commands.push(line.trim());
});

/** The next line from run.ts; an orphaned job (stdin closed, or nothing for 10 minutes) exits. */
async function next(expected: string): Promise<void> {
  const queued = commands.shift();
  const line =
    queued ??
    (await Promise.race([
      new Promise<string>((resolve) => waiting.push(resolve)),
      once(lines, 'close').then(() => 'closed'),
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 600_000).unref()),
    ]));
  if (line !== expected) {
    process.stderr.write(`expected "${expected}", got ${line}\n`);
    process.exit(2);
  }
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as SinkJob;
  const dataset = orderDataset(job.dataset, job.topic);
  const store = await openObjectStore(job.lakeDir);
  const logs: string[] = [];
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await next('go');

  const start = wallMs();
  const sink = await LakeSink.start({
    brokers: [job.address],
    clientId: 'oxbow-bench',
    dataset,
    store,
    workDir: job.workDir,
    log: (line) => {
      logs.push(line);
      say(line);
    },
    rotation: { flushSize: job.flushSize, ...(job.rotateScheduleIntervalMs === null ? {} : { rotateScheduleIntervalMs: job.rotateScheduleIntervalMs }) },
    compression: 'snappy',
    ...(job.maxBufferedBytes === null ? {} : { maxBufferedBytes: job.maxBufferedBytes }),
    // The memory run writes every file at close; the default 30 s would give up on some of them.
    closeTimeoutMs: 600_000,
  });
  const c = sink.counters;
  let readAt = Number.NaN;
  let firstCommitAt = Number.NaN;
  let lastProgress = start;
  let at10: { ms: number; rows: number } | null = null;
  let at90: { ms: number; rows: number } | null = null;
  const deadline = start + job.timeoutMs;
  const reachedGoal = () => (job.goal === 'committed' ? c.rowsCommitted >= job.records : c.recordsIn >= job.records);
  while (!reachedGoal() && wallMs() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    const now = wallMs();
    if (Number.isNaN(readAt) && c.recordsIn >= job.records) readAt = now;
    if (Number.isNaN(firstCommitAt) && c.rowsCommitted > 0) firstCommitAt = now;
    if (at10 === null && c.rowsCommitted >= job.records * 0.1) at10 = { ms: now, rows: c.rowsCommitted };
    if (at90 === null && c.rowsCommitted >= job.records * 0.9) at90 = { ms: now, rows: c.rowsCommitted };
    if (now - lastProgress >= 2000) {
      lastProgress = now;
      say(`${((now - start) / 1000).toFixed(1)} s: read ${c.recordsIn}, committed ${c.rowsCommitted} rows in ${c.filesCommitted} files, buffered ${(sink.bufferedBytes / 1e6).toFixed(0)} MB`);
    }
  }
  const end = wallMs();
  if (Number.isNaN(readAt) && c.recordsIn >= job.records) readAt = end;
  if (Number.isNaN(firstCommitAt) && c.rowsCommitted > 0) firstCommitAt = end;
  const reached = reachedGoal();
  const countersAtGoal = structuredClone(c);
  const memoryAtGoal = process.memoryUsage();
  const bufferedBytesAtGoal = sink.bufferedBytes;
  process.stdout.write(`${JSON.stringify({ measured: true })}\n`);
  say(`goal ${reached ? 'reached' : 'NOT reached'} after ${((end - start) / 1000).toFixed(2)} s; closing`);

  // Records read before a partition's recovery (a listing of the lake) has finished wait outside the open files, and
  // close() leaves them for the next start; a moment lets every partition's recovery finish so all of them are written.
  if (job.goal === 'read') await new Promise((r) => setTimeout(r, READ_SETTLE_MS));
  const closeStart = wallMs();
  await sink.close();
  const closeSeconds = (wallMs() - closeStart) / 1000;
  await store.close();
  // The log lines worth failing a run: retries, dead letters, give-ups; assignments and the like are not errors.
  const errors = logs.filter((l) => /fail|bug|cannot|could not|still not|retr/i.test(l));
  if (c.rowsCommitted !== job.records) errors.push(`the sink committed ${c.rowsCommitted} rows of ${job.records} records`);
  const result: SinkJobResult = {
    seconds: (end - start) / 1000,
    readSeconds: (readAt - start) / 1000,
    firstCommitSeconds: (firstCommitAt - start) / 1000,
    sustainedRowsPerSecond: at10 !== null && at90 !== null && at90.ms > at10.ms ? (at90.rows - at10.rows) / ((at90.ms - at10.ms) / 1000) : null,
    closeSeconds,
    reached,
    countersAtGoal,
    memoryAtGoal,
    bufferedBytesAtGoal,
    counters: c,
    errors,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
lines.close();
