// Sink benchmark: rows/s of the lake sink from a pre-filled processed topic on `oxbow broker` to Parquet files in a
// local lake, beside DuckDB writing the same records to one Parquet file in the same run, and the sink's peak RSS
// with many partitions and many files open at once.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import { mapJsonSchema, type CommitReason } from '../../src/sink/index.ts';
import { processedSchema } from '../../src/stream/index.ts';
import { cpuSeconds, fmt, MB, MiB, RssSampler, wallMs, wholeNumber } from '../broker/stats.ts';
import { scratchDir } from '../scratch.ts';
import { killChildren, spawnNode, startBroker, stopChild, waitForExit, type BrokerProcess } from './children.ts';
import { checkLake, duckdbBaseline, type BaselineFigures, type LakeCheck } from './duckdb.ts';
import type { SinkJob, SinkJobResult } from './job.ts';
import { summarizeProfile, type ProfileSummary } from './profile.ts';
import { FILL_CHUNK_RECORDS, orderDataset, partitionOf, processedOrder, type Layout } from './records.ts';

const JOB_SCRIPT = path.join(import.meta.dirname, 'job.ts');
const TOPIC = 'bench.processed';
const MEMORY_TOPIC = 'bench.memory.processed';
const TARGET_ROWS_PER_SECOND = 200_000;
const TARGET_BASELINE_SHARE = 0.3;
const TARGET_RSS_BYTES = 512 * MB;

const USAGE = `Usage: npm run bench:sink -- [options]

Starts \`oxbow broker --port 0\` as a separate process on a temporary data directory, fills ${TOPIC} with processed
order records (JSON of about 230 B as the stream job writes them: integer id, RFC 3339 event time \`ts\`, a user id past
2^53, country, amount, tags, a nested struct, a nullable string and the lineage \`_source\`) and writes the same values
to one NDJSON file. Then, in alternation:
  baseline  DuckDB (default threads) COPY of the NDJSON file to one snappy Parquet file, with the sink's column types
  sink      a LakeSink in its own process, with a fresh consumer group and lake, from LakeSink.start until every
            record is in a visible file (rowsCommitted = records); checked with DuckDB afterwards (rows and distinct
            lineage offsets = records)
Last, the memory run: a LakeSink over ${MEMORY_TOPIC}, whose partitions each hold records of every hour, with a
flushSize no file reaches and no wall-clock rotation, so every file stays open until close(); its peak RSS (sampled
from /proc every 100 ms, close included) is held against the 512 MB target.

  --records <n>            records in ${TOPIC} (default 3000000: enough for a steady state between 10% and 90%)
  --partitions <n>         partitions of ${TOPIC} (default 4)
  --hours <n>              hours the event times span, in both topics (default 4)
  --runs <n>               baseline and sink runs, alternating (default 2)
  --flush-size <n>         sink rotation: records per file (default 100000)
  --rotate-ms <n>          sink rotation: wall-clock ms a file stays open at most (default 10000)
  --max-buffered-mib <n>   the sink's maxBufferedBytes in MiB, in every sink run (default: the sink's, 64)
  --memory-partitions <n>  partitions of ${MEMORY_TOPIC}; 0 skips the memory run (default 100)
  --memory-records <n>     records in ${MEMORY_TOPIC} (default 1000000)
  --dir <path>             parent of the temporary directory (default the OS temp dir); it is removed at the end
  --cpu-prof <dir>         run the sink processes with --cpu-prof, writing .cpuprofile files to <dir>, and print
                           the functions with the most self time
  --json <file>            also write every figure as JSON`;

type Options = {
  records: number;
  partitions: number;
  hours: number;
  runs: number;
  flushSize: number;
  rotateMs: number;
  maxBufferedMiB: number | null;
  memoryPartitions: number;
  memoryRecords: number;
  dir: string;
  cpuProfDir: string | null;
  jsonFile: string | null;
};

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string' },
      partitions: { type: 'string' },
      hours: { type: 'string' },
      runs: { type: 'string' },
      'flush-size': { type: 'string' },
      'rotate-ms': { type: 'string' },
      'max-buffered-mib': { type: 'string' },
      'memory-partitions': { type: 'string' },
      'memory-records': { type: 'string' },
      dir: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const records = wholeNumber('records', values.records, 3_000_000);
  return {
    records,
    partitions: wholeNumber('partitions', values.partitions, 4),
    hours: wholeNumber('hours', values.hours, 4),
    runs: wholeNumber('runs', values.runs, 2),
    flushSize: wholeNumber('flush-size', values['flush-size'], 100_000),
    rotateMs: wholeNumber('rotate-ms', values['rotate-ms'], 10_000),
    maxBufferedMiB: values['max-buffered-mib'] === undefined ? null : wholeNumber('max-buffered-mib', values['max-buffered-mib'], 256),
    memoryPartitions: wholeNumber('memory-partitions', values['memory-partitions'], 100, 0),
    memoryRecords: wholeNumber('memory-records', values['memory-records'], 1_000_000),
    dir: values.dir ?? os.tmpdir(),
    cpuProfDir: values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']),
    jsonFile: values.json ?? null,
  };
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Topics and data

async function createTopics(address: string, topics: string[], partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'oxbow-bench-admin', bootstrapBrokers: [address] });
  try {
    await admin.createTopics({ topics, partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

type NdjsonFigures = { valueBytes: number; maxLineBytes: number };

/** Writes the records of `layout` to `file` as NDJSON, in record order; the very values fill() produces. */
function writeNdjson(file: string, layout: Layout): NdjsonFigures {
  const fd = openSync(file, 'w');
  let valueBytes = 0;
  let maxLineBytes = 0;
  try {
    for (let first = 0; first < layout.records; first += 10_000) {
      const lines: string[] = [];
      for (let i = first; i < Math.min(layout.records, first + 10_000); i++) {
        const line = processedOrder(i, layout);
        const bytes = Buffer.byteLength(line);
        valueBytes += bytes;
        if (bytes > maxLineBytes) maxLineBytes = bytes;
        lines.push(line);
      }
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
  return { valueBytes, maxLineBytes };
}

/** Produces the records of `layout` to `topic` (acks=all), a chunk at a time to partitionOf(); returns records/s. */
async function fill(address: string, topic: string, layout: Layout): Promise<number> {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'oxbow-bench-fill', bootstrapBrokers: [address], acks: ProduceAcks.ALL, maxInflights: 4 });
  const started = wallMs();
  let lastSaid = started;
  try {
    let nextRecord = 0;
    let done = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (nextRecord < layout.records) {
        const first = nextRecord;
        const count = Math.min(FILL_CHUNK_RECORDS, layout.records - first);
        nextRecord += count;
        const partition = partitionOf(first, layout);
        const messages = Array.from({ length: count }, (_, j) => ({ topic, partition, key: Buffer.from(`ord-${first + j}`), value: Buffer.from(processedOrder(first + j, layout)) }));
        await producer.send({ messages });
        done += count;
        if (wallMs() - lastSaid >= 5000) {
          lastSaid = wallMs();
          say(`  ${fmt(done)} of ${fmt(layout.records)} records in ${topic}`);
        }
      }
    });
    await Promise.all(loops);
  } finally {
    await producer.close();
  }
  return layout.records / ((wallMs() - started) / 1000);
}

// ---------------------------------------------------------------------------------------------------------------------
// One sink run

type SinkRunFigures = {
  kind: 'throughput' | 'memory';
  label: string;
  topic: string;
  partitions: number;
  records: number;
  /** LakeSink.start until the goal: every row committed (throughput), every record read (memory). */
  seconds: number;
  rowsPerSecond: number;
  /** Rows per second between 10% and 90% of the records committed (see SinkJobResult); null when not reached. */
  sustainedRowsPerSecond: number | null;
  /** Megabytes (10^6) of record values per second. */
  mbPerSecond: number;
  readSeconds: number;
  firstCommitSeconds: number;
  closeSeconds: number;
  /** CPU seconds (user + system) of the sink process from start to the goal; 1 per second is one core. */
  cpuSeconds: number;
  brokerCpuSeconds: number;
  /** Peak RSS of the sink process from start to the goal, and including close(). */
  peakRssAtGoalBytes: number;
  peakRssBytes: number;
  /** At the goal: V8 heap used, and what the sink counted as buffered (values + 64 B per record). */
  heapUsedAtGoalBytes: number;
  bufferedAtGoalBytes: number;
  files: number;
  units: number;
  commitsBy: Partial<Record<CommitReason, number>>;
  check: LakeCheck;
  errors: string[];
  profile: ProfileSummary | null;
};

async function measureSink(o: Options, broker: BrokerProcess, job: SinkJob, label: string, valueBytes: number, kind: SinkRunFigures['kind'], partitions: number): Promise<SinkRunFigures> {
  const profileName = `${label}.cpuprofile`;
  const args = [JOB_SCRIPT, JSON.stringify(job)];
  if (o.cpuProfDir !== null) args.unshift('--cpu-prof', '--cpu-prof-dir', o.cpuProfDir, '--cpu-prof-name', profileName);
  const run = spawnNode(args, `sink ${label}`, `  [${label}] `);
  let rss: RssSampler | null = null;
  try {
    await run.nextLine(60_000);
    const cpu0 = cpuSeconds(run.pid) ?? 0;
    const broker0 = cpuSeconds(broker.pid) ?? 0;
    rss = new RssSampler(run.pid, 100);
    run.child.stdin!.write('go\n');
    await run.nextLine(job.timeoutMs + 60_000);
    const cpu = (cpuSeconds(run.pid) ?? cpu0) - cpu0;
    const brokerCpu = (cpuSeconds(broker.pid) ?? broker0) - broker0;
    const peakRssAtGoalBytes = rss.peakBytes;
    const result = JSON.parse(await run.nextLine(660_000)) as SinkJobResult;
    rss.stop();
    // The child exits by itself once closed (and only then writes its CPU profile); a stuck one is stopped.
    run.child.stdin!.end();
    await waitForExit(run.child, 30_000);
    const check = await checkLake(job.lakeDir, job.records);
    const errors = [...result.errors];
    if (!result.reached) errors.push(`the goal (${job.goal}) was not reached within ${job.timeoutMs / 1000} s`);
    if (!check.ok) errors.push(`the lake holds ${check.rows} rows with ${check.distinctLineage} distinct lineage offsets; expected ${job.records}`);
    const c = result.counters;
    return {
      kind,
      label,
      topic: job.topic,
      partitions,
      records: job.records,
      seconds: result.seconds,
      rowsPerSecond: job.records / result.seconds,
      sustainedRowsPerSecond: result.sustainedRowsPerSecond,
      mbPerSecond: valueBytes / MB / result.seconds,
      readSeconds: result.readSeconds,
      firstCommitSeconds: result.firstCommitSeconds,
      closeSeconds: result.closeSeconds,
      cpuSeconds: cpu,
      brokerCpuSeconds: brokerCpu,
      peakRssAtGoalBytes,
      peakRssBytes: Math.max(rss.peakBytes, peakRssAtGoalBytes),
      heapUsedAtGoalBytes: result.memoryAtGoal.heapUsed,
      bufferedAtGoalBytes: result.bufferedBytesAtGoal,
      files: c.filesCommitted,
      units: c.unitsCommitted,
      commitsBy: c.commitsBy,
      check,
      errors,
      profile: o.cpuProfDir === null ? null : summarizeProfile(path.join(o.cpuProfDir, profileName)),
    };
  } finally {
    rss?.stop();
    await stopChild(run.child, 10_000);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The report

type Report = {
  date: string;
  machine: { cpus: number; node: string; kernel: string };
  options: Omit<Options, 'dir' | 'cpuProfDir' | 'jsonFile'>;
  data: { valueBytes: number; averageValueBytes: number; fillRecordsPerSecond: number; memoryFillRecordsPerSecond: number | null };
  baselines: BaselineFigures[];
  runs: SinkRunFigures[];
  memory: SinkRunFigures | null;
  baselineBest: number;
  sinkBest: number;
  /** sinkBest / baselineBest. */
  ratio: number;
  targets: { rowsPerSecond: boolean; baselineShare: boolean; rss: boolean | null };
};

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function mb(bytes: number): string {
  return `${fmt(bytes / MB)} MB`;
}

function reasons(by: Partial<Record<CommitReason, number>>): string {
  const parts = Object.entries(by).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

function describeRun(r: SinkRunFigures): string {
  return (
    `${fmt(r.rowsPerSecond)} rows/s start to end, ${r.sustainedRowsPerSecond === null ? '-' : fmt(r.sustainedRowsPerSecond)} sustained (${fmt(r.records)} rows in ${fmt(r.seconds, 2)} s; all read after ${fmt(r.readSeconds, 2)} s, first file after ` +
    `${fmt(r.firstCommitSeconds, 2)} s; CPU ${fmt(r.cpuSeconds, 1)} s, broker ${fmt(r.brokerCpuSeconds, 1)} s; peak RSS ${mb(r.peakRssBytes)} ` +
    `(at the goal ${mb(r.peakRssAtGoalBytes)}, V8 heap used ${mb(r.heapUsedAtGoalBytes)}, buffered ${mb(r.bufferedAtGoalBytes)}); ` +
    `${fmt(r.files)} files in ${fmt(r.units)} units: ${reasons(r.commitsBy)}; check ${verdict(r.check.ok)})` +
    (r.errors.length > 0 ? ` [${r.errors.length} problems: ${r.errors[0]}]` : '')
  );
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function printReport(r: Report): void {
  const o = r.options;
  const out: string[] = [''];
  out.push(`Oxbow sink benchmark — ${r.date}, ${r.machine.cpus} cores, Node ${r.machine.node}, Linux ${r.machine.kernel}`);
  out.push(
    `data: ${fmt(o.records)} processed records (avg ${fmt(r.data.averageValueBytes)} B, ${mb(r.data.valueBytes)} of values) in ${TOPIC}, ` +
      `${o.partitions} partitions, event times over ${o.hours} h; filled at ${fmt(r.data.fillRecordsPerSecond)} rec/s before timing`,
  );
  out.push(
    `sink: flushSize ${fmt(o.flushSize)}, rotateScheduleIntervalMs ${fmt(o.rotateMs)}, maxBufferedBytes ${o.maxBufferedMiB === null ? 'default (64 MiB)' : `${fmt(o.maxBufferedMiB)} MiB`}, ` +
      `snappy, hourly paths, local lake (fsync), other settings default; ` +
      `baseline: DuckDB default threads, one COPY of the NDJSON file`,
  );
  out.push('');
  const rows: string[][] = [];
  r.baselines.forEach((b, i) => rows.push([`baseline DuckDB COPY ${i + 1}`, fmt(b.rowsPerSecond), fmt(b.rowsPerSecond), fmt(r.data.valueBytes / MB / b.seconds, 1), fmt(b.seconds, 2), '-', '-', '1', '-', '-']));
  for (const s of r.runs) {
    rows.push([`sink ${s.label}`, fmt(s.rowsPerSecond), s.sustainedRowsPerSecond === null ? '-' : fmt(s.sustainedRowsPerSecond), fmt(s.mbPerSecond, 1), fmt(s.seconds, 2), fmt(s.readSeconds, 2), fmt(s.cpuSeconds, 1), fmt(s.files), mb(s.peakRssBytes), s.errors.length === 0 ? 'PASS' : 'FAIL']);
  }
  if (r.memory !== null) {
    const m = r.memory;
    rows.push([`memory ${m.partitions} partitions*`, fmt(m.rowsPerSecond), '-', fmt(m.mbPerSecond, 1), fmt(m.seconds, 2), fmt(m.readSeconds, 2), fmt(m.cpuSeconds, 1), fmt(m.files), mb(m.peakRssBytes), m.errors.length === 0 ? 'PASS' : 'FAIL']);
  }
  out.push(...table(['run', 'rows/s', 'sustained', 'MB/s', 'seconds', 'read s', 'CPU s', 'files', 'peak RSS', 'check'], rows));
  out.push(
    '  (rows/s and seconds: from LakeSink.start until rowsCommitted = records, joining the group and the last files\' wait for their rotation included; ' +
      'sustained: rows committed per second from the moment 10% of the records were committed to the moment 90% were; ' +
      'read s: until every record was read; check: rows and distinct lineage = records, no errors)',
  );
  if (r.memory !== null) {
    const m = r.memory;
    out.push(
      `  * memory run: ${fmt(m.records)} records over ${m.partitions} partitions, files open until close; seconds = until every record was read; ` +
        `close() wrote ${fmt(m.files)} files in ${fmt(m.closeSeconds, 1)} s; peak RSS until read ${mb(m.peakRssAtGoalBytes)} ` +
        `(V8 heap used ${mb(m.heapUsedAtGoalBytes)}, sink buffered ${mb(m.bufferedAtGoalBytes)}), with close ${mb(m.peakRssBytes)}; commits: ${reasons(m.commitsBy)}`,
    );
  }
  for (const s of [...r.runs, ...(r.memory === null ? [] : [r.memory])]) if (s.errors.length > 0) out.push(`  ${s.label} problems: ${s.errors.slice(0, 3).join(' | ')}`);
  out.push('');
  out.push(
    `baseline best ${fmt(r.baselineBest)} rows/s; sink best sustained ${fmt(r.sinkBest)} rows/s (runs: ${r.runs.map((s) => (s.sustainedRowsPerSecond === null ? '-' : fmt(s.sustainedRowsPerSecond))).join(', ')}; ` +
      `start to end: ${r.runs.map((s) => fmt(s.rowsPerSecond)).join(', ')}); sink/baseline ${fmt(r.ratio * 100, 1)}%`,
  );
  out.push(`  target sink ≥${fmt(TARGET_ROWS_PER_SECOND)} rows/s sustained:     ${fmt(r.sinkBest)} rows/s  ${verdict(r.targets.rowsPerSecond)}`);
  out.push(`  target sink ≥${fmt(TARGET_BASELINE_SHARE * 100)}% of baseline:               ${fmt(r.ratio * 100, 1)}%  ${verdict(r.targets.baselineShare)}`);
  if (r.memory !== null && r.targets.rss !== null) {
    out.push(`  target RSS <${mb(TARGET_RSS_BYTES)} with ${r.memory.partitions} partitions:    ${mb(r.memory.peakRssBytes)}  ${verdict(r.targets.rss)}`);
  }
  for (const s of [...r.runs, ...(r.memory === null ? [] : [r.memory])]) {
    if (s.profile === null) continue;
    out.push('');
    out.push(`CPU profile of sink ${s.label} (main thread, ${fmt(s.profile.totalMs)} ms sampled; ${s.profile.file}):`);
    out.push('  self time by place: ' + s.profile.places.slice(0, 8).map((p) => `${p.name} ${fmt(p.share * 100, 1)}%`).join(', '));
    for (const f of s.profile.functions) out.push(`  ${fmt(f.share * 100, 1).padStart(5)}%  ${fmt(f.ms).padStart(6)} ms  ${f.name}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------
// The run

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scratch = scratchDir(o.dir, 'oxbow-bench-sink-', killChildren);
  const base = scratch.dir;
  let broker: BrokerProcess | null = null;
  try {
    if (o.cpuProfDir !== null) mkdirSync(o.cpuProfDir, { recursive: true });
    const layout: Layout = { records: o.records, partitions: o.partitions, hours: o.hours };
    const memoryLayout: Layout = { records: o.memoryRecords, partitions: o.memoryPartitions, hours: o.hours };
    const ndjson = path.join(base, 'records.ndjson');
    const { valueBytes, maxLineBytes } = writeNdjson(ndjson, layout);
    broker = await startBroker(path.join(base, 'broker'));
    const names = Array.from({ length: o.runs }, (_, i) => `bench-sink-${i + 1}`);
    await createTopics(broker.address, [TOPIC], o.partitions);
    await createTopics(broker.address, [...names, 'bench-memory'].map((n) => `${n}.dlq`), 1);
    say(`broker at ${broker.address}; filling ${TOPIC} with ${fmt(o.records)} records (${mb(valueBytes)} of values) ...`);
    const fillRecordsPerSecond = await fill(broker.address, TOPIC, layout);
    say(`  filled at ${fmt(fillRecordsPerSecond)} rec/s`);
    let memoryFillRecordsPerSecond: number | null = null;
    if (o.memoryPartitions > 0) {
      await createTopics(broker.address, [MEMORY_TOPIC], o.memoryPartitions);
      say(`filling ${MEMORY_TOPIC} (${o.memoryPartitions} partitions) with ${fmt(o.memoryRecords)} records ...`);
      memoryFillRecordsPerSecond = await fill(broker.address, MEMORY_TOPIC, memoryLayout);
      say(`  filled at ${fmt(memoryFillRecordsPerSecond)} rec/s`);
    }

    const mapping = mapJsonSchema(processedSchema(orderDataset('bench-baseline', TOPIC)), { eventTimeField: 'ts' });
    const timeoutMs = Math.max(120_000, o.records / 2);
    const baselines: BaselineFigures[] = [];
    const runs: SinkRunFigures[] = [];
    for (let round = 1; round <= o.runs; round++) {
      say(`[round ${round}] baseline: DuckDB COPY of ${fmt(o.records)} records ...`);
      const parquet = path.join(base, `baseline-${round}.parquet`);
      const baseline = await duckdbBaseline(ndjson, mapping, parquet, maxLineBytes);
      rmSync(parquet, { force: true });
      if (baseline.rows !== o.records) throw new Error(`the baseline wrote ${baseline.rows} rows of ${o.records}`);
      say(`  ${fmt(baseline.rowsPerSecond)} rows/s (${fmt(baseline.seconds, 2)} s, ${mb(baseline.parquetBytes)} of Parquet)`);
      baselines.push(baseline);

      const name = names[round - 1]!;
      say(`[round ${round}] sink ${name} ...`);
      const job: SinkJob = {
        address: broker.address,
        dataset: name,
        topic: TOPIC,
        lakeDir: path.join(base, `lake-${round}`),
        workDir: path.join(base, 'work'),
        records: o.records,
        flushSize: o.flushSize,
        rotateScheduleIntervalMs: o.rotateMs,
        goal: 'committed',
        maxBufferedBytes: o.maxBufferedMiB === null ? null : o.maxBufferedMiB * MiB,
        timeoutMs,
      };
      const figures = await measureSink(o, broker, job, `run-${round}`, valueBytes, 'throughput', o.partitions);
      say(`  ${describeRun(figures)}`);
      runs.push(figures);
      rmSync(job.lakeDir, { recursive: true, force: true });
    }

    let memory: SinkRunFigures | null = null;
    if (o.memoryPartitions > 0) {
      say(`[memory] sink over ${MEMORY_TOPIC}, ${o.memoryPartitions} partitions, files open until close ...`);
      const job: SinkJob = {
        address: broker.address,
        dataset: 'bench-memory',
        topic: MEMORY_TOPIC,
        lakeDir: path.join(base, 'lake-memory'),
        workDir: path.join(base, 'work'),
        records: o.memoryRecords,
        flushSize: o.memoryRecords + 1,
        rotateScheduleIntervalMs: null,
        goal: 'read',
        maxBufferedBytes: o.maxBufferedMiB === null ? null : o.maxBufferedMiB * MiB,
        timeoutMs: Math.max(120_000, o.memoryRecords / 2),
      };
      const memoryValueBytes = o.memoryRecords * (valueBytes / o.records);
      memory = await measureSink(o, broker, job, 'memory', memoryValueBytes, 'memory', o.memoryPartitions);
      say(`  ${describeRun(memory)}`);
    }

    const good = runs.filter((s) => s.errors.length === 0);
    const baselineBest = Math.max(0, ...baselines.map((b) => b.rowsPerSecond));
    const sinkBest = Math.max(0, ...good.map((s) => s.sustainedRowsPerSecond ?? 0));
    const ratio = baselineBest > 0 ? sinkBest / baselineBest : 0;
    const { dir: _dir, cpuProfDir: _prof, jsonFile: _json, ...shown } = o;
    const report: Report = {
      date: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), node: process.versions.node, kernel: os.release() },
      options: shown,
      data: { valueBytes, averageValueBytes: valueBytes / o.records, fillRecordsPerSecond, memoryFillRecordsPerSecond },
      baselines,
      runs,
      memory,
      baselineBest,
      sinkBest,
      ratio,
      targets: {
        rowsPerSecond: sinkBest >= TARGET_ROWS_PER_SECOND,
        baselineShare: ratio >= TARGET_BASELINE_SHARE,
        rss: memory === null ? null : memory.errors.length === 0 && memory.peakRssBytes < TARGET_RSS_BYTES,
      },
    };
    printReport(report);
    if (o.jsonFile !== null) writeFileSync(o.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    return [...runs, ...(memory === null ? [] : [memory])].some((s) => s.errors.length > 0) ? 1 : 0;
  } finally {
    if (broker !== null) await stopChild(broker.child, 30_000);
    scratch.release();
  }
}

process.exitCode = await main();
