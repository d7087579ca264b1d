// Stream benchmark: records/s of a StreamWorker (parse, validate, one enrich function, one lookup) from a pre-filled
// raw topic to processed on `oxbow broker`, beside a passthrough loop with no steps measured in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin, Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import { cpuSeconds, describeProbes, describeSteal, fmt, hostProbePerCpu, median, StealSampler, wallMs, wholeNumber, type StealFigures } from '../broker/stats.ts';
import { RECORD_THREAD_SEMI_SPACE_MB } from '../../src/young-generation.ts';
import { scratchDir } from '../scratch.ts';
import type { StreamJob, StreamJobResult } from './job.ts';
import { orderRecord, writeCountriesCsv } from './records.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const OXBOW_BIN = path.join(ROOT, 'bin', 'oxbow.js');
const JOB_SCRIPT = path.join(import.meta.dirname, 'job.ts');
const RAW_TOPIC = 'bench.raw';

const USAGE = `Usage: npm run bench:stream -- [options]

Starts \`oxbow broker --port 0\` as a separate process on a temporary data directory, fills ${RAW_TOPIC} with JSON order
records, then, in alternation, measures records/s from start until the output topic holds every record for:
  passthrough  a loop with the StreamWorker's client settings and commit discipline that copies records unchanged
  worker       a StreamWorker whose dataset parses, validates (JSON Schema), enriches (one function) and looks up
               (CSV table) every record
Each run is its own process, with a fresh output topic and consumer group; the best of each kind is reported.

  --records <n>           records in the raw topic (default 500000)
  --record-bytes <n>      bytes of each JSON value (default 300)
  --partitions <n>        partitions of every topic (default 4)
  --runs <n>              runs of each kind (default 4)
  --countries <n>         rows of the lookup table (default 200)
  --step-threads <n>      the worker's stream.stepThreads: threads running the steps beside its Kafka thread (default 1;
                          0 runs them on that thread)
  --dir <path>            parent of the temporary directory (default the OS temp dir); it is removed at the end
  --cpu-prof <dir>        run the passthrough and worker processes with --cpu-prof, writing .cpuprofile files, one per
                          thread, to <dir>/<kind>-<run>
  --json <file>           also write every figure as JSON`;

type Options = {
  records: number;
  recordBytes: number;
  partitions: number;
  runs: number;
  countries: number;
  stepThreads: number;
  dir: string;
  cpuProfDir: string | null;
  jsonFile: string | null;
};

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string' },
      'record-bytes': { type: 'string' },
      partitions: { type: 'string' },
      runs: { type: 'string' },
      countries: { type: 'string' },
      'step-threads': { type: 'string' },
      dir: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const countries = wholeNumber('countries', values.countries, 200);
  if (countries > 26 * 26) throw new Error(`--countries takes at most ${26 * 26} (two-letter codes), got ${countries}`);
  return {
    records: wholeNumber('records', values.records, 500_000),
    recordBytes: wholeNumber('record-bytes', values['record-bytes'], 300),
    partitions: wholeNumber('partitions', values.partitions, 4),
    runs: wholeNumber('runs', values.runs, 4),
    countries,
    stepThreads: wholeNumber('step-threads', values['step-threads'], 1, 0),
    dir: values.dir ?? os.tmpdir(),
    cpuProfDir: values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']),
    jsonFile: values.json ?? null,
  };
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Child processes

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Lines of a child's stdout, one at a time; `next` rejects when the child exits first or the time is up. */
function lineReader(child: ChildProcess, what: string, stderr: () => string): (timeoutMs: number) => Promise<string> {
  const queued: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queued.push(line);
  });
  return (timeoutMs) =>
    new Promise<string>((resolve, reject) => {
      const line = queued.shift();
      if (line !== undefined) return resolve(line);
      const timer = setTimeout(() => fail(new Error(`${what}: no output line after ${timeoutMs} ms\n${stderr()}`)), timeoutMs);
      const onExit = (code: number | null) => fail(new Error(`${what} exited with ${code}\n${stderr()}`));
      function fail(err: Error) {
        clearTimeout(timer);
        child.off('exit', onExit);
        const i = waiters.indexOf(take);
        if (i >= 0) waiters.splice(i, 1);
        reject(err);
      }
      function take(l: string) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(l);
      }
      waiters.push(take);
      child.once('exit', onExit);
    });
}

function spawnWithStderr(args: string[], cwd: string): { child: ChildProcess; stderr: () => string } {
  const child = track(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd }));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8192);
  });
  return { child, stderr: () => err };
}

type BrokerProcess = { child: ChildProcess; pid: number; address: string };

async function startBroker(base: string): Promise<BrokerProcess> {
  const dataDir = path.join(base, 'broker');
  const { child, stderr } = spawnWithStderr([OXBOW_BIN, 'broker', '--port', '0', '--data-dir', dataDir], base);
  const next = lineReader(child, 'oxbow broker', stderr);
  for (let i = 0; i < 20; i++) {
    const m = /^listening on (\S+)$/.exec(await next(30_000));
    if (m) return { child, pid: child.pid!, address: m[1]! };
  }
  throw new Error(`oxbow broker printed no "listening on" line\n${stderr()}`);
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------------
// Topics and the raw data

async function createTopics(address: string, topics: string[], partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'oxbow-bench-admin', bootstrapBrokers: [address] });
  try {
    await admin.createTopics({ topics, partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/** Produces the raw records (acks=all), round-robin over the partitions in batches; returns records/s of the fill. */
async function fillRaw(o: Options, address: string): Promise<number> {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'oxbow-bench-fill', bootstrapBrokers: [address], acks: ProduceAcks.ALL, maxInflights: 4 });
  const perSend = 1000;
  const started = wallMs();
  try {
    let nextRecord = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (nextRecord < o.records) {
        const first = nextRecord;
        const count = Math.min(perSend, o.records - first);
        nextRecord += count;
        const partition = Math.floor(first / perSend) % o.partitions;
        const messages = Array.from({ length: count }, (_, j) => {
          const i = first + j;
          return { topic: RAW_TOPIC, partition, key: Buffer.from(`ord-${i}`), value: orderRecord(i, o.countries, o.recordBytes) };
        });
        await producer.send({ messages });
      }
    });
    await Promise.all(loops);
  } finally {
    await producer.close();
  }
  return o.records / ((wallMs() - started) / 1000);
}

/** Sum of the end offsets of `topic`'s partitions. */
async function endOffsetSum(reader: Consumer, topic: string): Promise<number> {
  const ends = (await reader.listOffsets({ topics: [topic] })).get(topic) ?? [];
  return ends.reduce((n, e) => n + Number(e), 0);
}

// ---------------------------------------------------------------------------------------------------------------------
// One measured run

type RunFigures = {
  kind: 'passthrough' | 'worker';
  round: number;
  records: number;
  seconds: number;
  /** From start to the last output record. */
  recordsPerSecond: number;
  /**
   * Records per second while the output went from 10% to 90% of the records: the rate of a job that runs, without its
   * start (connecting, joining the group, loading step threads) and the tail of its last batches.
   */
  sustainedPerSecond: number;
  /** From start until the first output record was visible: connecting, joining the group, the first fetch. */
  firstOutputMs: number;
  /** CPU use of the passthrough/worker process and of the broker during the run, 100% = one core. */
  jobCpuPercent: number;
  brokerCpuPercent: number;
  /**
   * CPU time per record of the passthrough/worker process and of the broker while the output went from 10% to 90%,
   * in microseconds (NaN when not measured): the cost of the work itself, which moves less with the machine's speed
   * than the rates do.
   */
  jobCpuUsPerRecord: number;
  brokerCpuUsPerRecord: number;
  /** CPU time the host took from this machine while the output went from 10% to 90% (null: not measured). */
  steal: StealFigures | null;
  /** hostProbePerCpu() just before the run started: each core's speed then, in ms of the same work (null: not measured). */
  hostProbes: number[] | null;
  result: StreamJobResult;
  errors: string[];
};

async function measure(o: Options, broker: BrokerProcess, reader: Consumer, job: StreamJob, outTopic: string, round: number): Promise<RunFigures> {
  const args = [JOB_SCRIPT, JSON.stringify(job)];
  // One directory per run: every thread of the process (the step threads too) writes a profile of its own there.
  if (o.cpuProfDir !== null) args.unshift('--cpu-prof', '--cpu-prof-dir', path.join(o.cpuProfDir, `${job.mode}-${round}`));
  // The worker's Kafka thread gets a larger young generation (src/young-generation.ts); the passthrough, which does
  // that thread's work without the steps, gets the same on its main thread, so that the two differ by the steps only.
  if (job.mode === 'passthrough') args.unshift(`--min-semi-space-size=${RECORD_THREAD_SEMI_SPACE_MB}`);
  const { child, stderr } = spawnWithStderr(args, ROOT);
  const next = lineReader(child, `${job.mode} run`, stderr);
  const timeoutMs = Math.max(120_000, o.records / 2);
  const steal = new StealSampler();
  try {
    await next(60_000);
    const probes = hostProbePerCpu();
    const cpuJob0 = cpuSeconds(child.pid!) ?? 0;
    const cpuBroker0 = cpuSeconds(broker.pid) ?? 0;
    const start = wallMs();
    child.stdin!.write('go\n');
    let first = Number.NaN;
    type Mark = { ms: number; seen: number; cpuJob: number; cpuBroker: number };
    const mark = (ms: number, seen: number): Mark => ({ ms, seen, cpuJob: cpuSeconds(child.pid!) ?? Number.NaN, cpuBroker: cpuSeconds(broker.pid) ?? Number.NaN });
    let at10: Mark | null = null;
    let at90: Mark | null = null;
    let seen = 0;
    const deadline = start + timeoutMs;
    while (seen < o.records && wallMs() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await endOffsetSum(reader, outTopic);
      const now = wallMs();
      if (seen > 0 && Number.isNaN(first)) first = now;
      if (at10 === null && seen >= o.records * 0.1) at10 = mark(now, seen);
      if (at90 === null && seen >= o.records * 0.9) at90 = mark(now, seen);
    }
    const end = wallMs();
    const cpuJob = (cpuSeconds(child.pid!) ?? cpuJob0) - cpuJob0;
    const cpuBroker = (cpuSeconds(broker.pid) ?? cpuBroker0) - cpuBroker0;
    child.stdin!.end('stop\n');
    const result = JSON.parse(await next(60_000)) as StreamJobResult;
    await once(child, 'exit').catch(() => undefined);
    const seconds = (end - start) / 1000;
    const errors = [...result.errors];
    if (seen < o.records) errors.push(`only ${seen} of ${o.records} records reached ${outTopic} within ${timeoutMs / 1000} s`);
    if (seen > o.records) errors.push(`${outTopic} holds ${seen} records, more than the ${o.records} in ${RAW_TOPIC}`);
    const c = result.counters;
    if (c !== null && (c.processed !== o.records || Object.keys(c.deadLettered).length > 0 || Object.keys(c.filtered).length > 0)) {
      errors.push(`the worker did not process every record: ${JSON.stringify(c)}`);
    }
    const sustained = at10 !== null && at90 !== null && at90.seen > at10.seen;
    const perRecordUs = (from: number | undefined, to: number | undefined) => (sustained && from !== undefined && to !== undefined ? ((to - from) * 1e6) / (at90!.seen - at10!.seen) : Number.NaN);
    return {
      kind: job.mode,
      round,
      records: seen,
      seconds,
      recordsPerSecond: seen / seconds,
      sustainedPerSecond: at10 === null || at90 === null || at90.ms <= at10.ms ? 0 : ((at90.seen - at10.seen) * 1000) / (at90.ms - at10.ms),
      firstOutputMs: first - start,
      jobCpuPercent: (cpuJob / seconds) * 100,
      brokerCpuPercent: (cpuBroker / seconds) * 100,
      jobCpuUsPerRecord: perRecordUs(at10?.cpuJob, at90?.cpuJob),
      brokerCpuUsPerRecord: perRecordUs(at10?.cpuBroker, at90?.cpuBroker),
      steal: sustained ? steal.between(at10!.ms, at90!.ms) : null,
      hostProbes: probes,
      result,
      errors,
    };
  } finally {
    steal.stop();
    await stopChild(child, 10_000);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The run

type Report = {
  date: string;
  machine: { cpus: number; node: string; kernel: string };
  options: Omit<Options, 'dir' | 'cpuProfDir' | 'jsonFile'>;
  fillRecordsPerSecond: number;
  runs: RunFigures[];
  /** Best sustained rates (see RunFigures.sustainedPerSecond), which the targets are judged on. */
  passthroughBest: number;
  workerBest: number;
  /** How much longer the worker takes per record than the passthrough, sustained: passthroughBest / workerBest - 1. */
  overhead: number;
  /**
   * Each round's overhead (its worker run against the passthrough run just before it), in round order, and their
   * median (nearest rank): the machine's speed drifts over minutes, and a round's two runs are closest in time.
   */
  roundOverheads: number[];
  roundOverheadMedian: number;
  /** The same from start to end, start-up included. */
  passthroughBestStartToEnd: number;
  workerBestStartToEnd: number;
  /** Medians of the runs' sustained CPU per record (RunFigures.jobCpuUsPerRecord), in microseconds; the broker's over all runs. */
  passthroughCpuUs: number;
  workerCpuUs: number;
  brokerCpuUs: number;
};

/** The median of a figure over the runs without problems that measured it. */
function cpuMedian(runs: RunFigures[], which: (r: RunFigures) => boolean, figure: (r: RunFigures) => number): number {
  const values = runs.filter((r) => which(r) && r.errors.length === 0).map(figure).filter((v) => Number.isFinite(v));
  return values.length === 0 ? Number.NaN : median(values);
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function describeRun(r: RunFigures): string {
  return (
    `${fmt(r.sustainedPerSecond)} rec/s sustained, ${fmt(r.recordsPerSecond)} start to end (${fmt(r.records)} records in ${fmt(r.seconds, 2)} s, first output after ${fmt(r.firstOutputMs)} ms; ` +
    `CPU ${r.kind} ${fmt(r.jobCpuPercent)}%, broker ${fmt(r.brokerCpuPercent)}%; sustained, per record: ${r.kind} ${fmt(r.jobCpuUsPerRecord, 2)} µs, broker ${fmt(r.brokerCpuUsPerRecord, 2)} µs; host steal ${describeSteal(r.steal)}; cores just before: ${describeProbes(r.hostProbes)})` +
    (r.errors.length > 0 ? ` [${r.errors.length} problems: ${r.errors[0]}]` : '')
  );
}

function printReport(r: Report): void {
  const out: string[] = [];
  out.push('');
  out.push(`Oxbow stream benchmark — ${r.date}, ${r.machine.cpus} cores, Node ${r.machine.node}, Linux ${r.machine.kernel}`);
  out.push(
    `data: ${fmt(r.options.records)} JSON records of ${r.options.recordBytes} B in ${RAW_TOPIC} (${r.options.partitions} partitions, filled at ` +
      `${fmt(r.fillRecordsPerSecond)} rec/s before timing); broker: oxbow broker, broker.fsync=always; outputs acks=all`,
  );
  out.push('worker steps: parse, validate (JSON Schema, 11 properties, patterns, enums, date-time), enrich (one function), ' + `lookup (CSV, ${r.options.countries} rows); ` + `stream.stepThreads=${r.options.stepThreads}`);
  for (const kind of ['passthrough', 'worker'] as const) {
    for (const run of r.runs.filter((x) => x.kind === kind)) out.push(`  ${kind.padEnd(11)} run ${run.round}: ${describeRun(run)}`);
  }
  out.push(`passthrough (no steps): best ${fmt(r.passthroughBest)} rec/s sustained (${fmt(r.passthroughBestStartToEnd)} start to end)`);
  out.push(`stream worker:          best ${fmt(r.workerBest)} rec/s sustained (${fmt(r.workerBestStartToEnd)} start to end)  target ≥50,000 rec/s: ${verdict(r.workerBest >= 50_000)}`);
  out.push(
    `steps overhead: ${fmt(r.overhead * 100, 1)}% sustained (passthrough/worker = ${fmt(r.passthroughBest / r.workerBest, 2)}; start to end ` +
      `${fmt((r.passthroughBestStartToEnd / r.workerBestStartToEnd - 1) * 100, 1)}%)  target ≤30%: ${verdict(r.overhead <= 0.3)}`,
  );
  if (r.roundOverheads.length > 1) {
    out.push(`  per round (worker against the passthrough just before it): ${r.roundOverheads.map((x) => `${fmt(x * 100, 1)}%`).join(', ')}; median ${fmt(r.roundOverheadMedian * 100, 1)}%`);
  }
  out.push(
    `CPU per record, sustained (median of the runs): passthrough ${fmt(r.passthroughCpuUs, 2)} µs, worker ${fmt(r.workerCpuUs, 2)} µs ` +
      `(the steps, their thread and its hand-offs: +${fmt(r.workerCpuUs - r.passthroughCpuUs, 2)} µs, ${fmt((r.workerCpuUs / r.passthroughCpuUs - 1) * 100, 0)}% more); ` +
      `broker ${fmt(r.brokerCpuUs, 2)} µs. On 2 cores, ≤30% needs the worker's extra CPU to fit in the CPU the passthrough leaves idle.`,
  );
  const probes = r.runs.flatMap((x) => x.hostProbes ?? []);
  if (probes.length > 0) {
    out.push(
      `cores (the same work on each core before each run, lower is faster): ${fmt(Math.min(...probes), 1)} to ${fmt(Math.max(...probes), 1)} ms. ` +
        "A virtual machine's cores can run at different speeds for minutes, without steal showing it; the thread that limits a run is as fast as the core it lands on.",
    );
  }
  const problems = r.runs.filter((x) => x.errors.length > 0);
  if (problems.length > 0) out.push(`${problems.length} run(s) had problems; see above — their figures do not count`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** A lake declaration holding the benchmark's dataset, which the worker and its step threads load as `oxbow stream` does. */
function writeConfig(base: string, name: string, topics: { raw: string; processed: string; dlq: string }, countriesCsv: string): string {
  const file = path.join(base, `${name}.config.ts`);
  const from = (p: string) => JSON.stringify(pathToFileURL(p).href);
  writeFileSync(
    file,
    [
      `import { defineLake } from ${from(path.join(ROOT, 'src', 'config', 'index.ts'))};`,
      `import { orderDataset } from ${from(path.join(import.meta.dirname, 'records.ts'))};`,
      `export default defineLake({ datasets: { ${JSON.stringify(name)}: orderDataset(${JSON.stringify(topics)}, ${JSON.stringify(countriesCsv)}) } });`,
      '',
    ].join('\n'),
  );
  return file;
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scratch = scratchDir(o.dir, 'oxbow-bench-stream-', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  const base = scratch.dir;
  let broker: BrokerProcess | null = null;
  try {
    if (o.cpuProfDir !== null) mkdirSync(o.cpuProfDir, { recursive: true });
    const countriesCsv = path.join(base, 'countries.csv');
    writeCountriesCsv(countriesCsv, o.countries);
    broker = await startBroker(base);
    say(`broker at ${broker.address}; filling ${RAW_TOPIC} with ${fmt(o.records)} records of ${o.recordBytes} B ...`);
    await createTopics(broker.address, [RAW_TOPIC], o.partitions);
    const fillRecordsPerSecond = await fillRaw(o, broker.address);
    say(`  filled at ${fmt(fillRecordsPerSecond)} rec/s`);
    const reader = new Consumer({ clientId: 'oxbow-bench-reader', groupId: 'oxbow-bench-reader', bootstrapBrokers: [broker.address] });
    const runs: RunFigures[] = [];
    try {
      for (let round = 1; round <= o.runs; round++) {
        const passTopic = `bench.passthrough-${round}`;
        await createTopics(broker.address, [passTopic], o.partitions);
        say(`[round ${round}] passthrough ...`);
        const job: StreamJob = { mode: 'passthrough', address: broker.address, groupId: `oxbow-bench-passthrough-${round}`, from: RAW_TOPIC, to: passTopic };
        const pass = await measure(o, broker, reader, job, passTopic, round);
        say(`  ${describeRun(pass)}`);
        runs.push(pass);

        const name = `bench-worker-${round}`;
        const topics = { raw: RAW_TOPIC, processed: `${name}.processed`, dlq: `${name}.dlq` };
        await createTopics(broker.address, [topics.processed, topics.dlq], o.partitions);
        say(`[round ${round}] stream worker ...`);
        const configFile = writeConfig(base, name, topics, countriesCsv);
        const workerJob: StreamJob = { mode: 'worker', address: broker.address, dataset: name, configFile, stateDir: path.join(base, 'stream-state'), stepThreads: o.stepThreads };
        const worker = await measure(o, broker, reader, workerJob, topics.processed, round);
        say(`  ${describeRun(worker)}`);
        runs.push(worker);
      }
    } finally {
      await reader.close(true);
    }
    const best = (kind: RunFigures['kind'], figure: (r: RunFigures) => number = (r) => r.sustainedPerSecond) =>
      Math.max(0, ...runs.filter((x) => x.kind === kind && x.errors.length === 0).map(figure));
    const passthroughBest = best('passthrough');
    const workerBest = best('worker');
    const roundOverheads: number[] = [];
    for (const w of runs.filter((x) => x.kind === 'worker' && x.errors.length === 0)) {
      const p = runs.find((x) => x.kind === 'passthrough' && x.round === w.round && x.errors.length === 0);
      if (p !== undefined && w.sustainedPerSecond > 0) roundOverheads.push(p.sustainedPerSecond / w.sustainedPerSecond - 1);
    }
    const { dir: _dir, cpuProfDir: _prof, jsonFile: _json, ...shown } = o;
    const report: Report = {
      date: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), node: process.versions.node, kernel: os.release() },
      options: shown,
      fillRecordsPerSecond,
      runs,
      passthroughBest,
      workerBest,
      overhead: passthroughBest / workerBest - 1,
      roundOverheads,
      roundOverheadMedian: median(roundOverheads),
      passthroughBestStartToEnd: best('passthrough', (r) => r.recordsPerSecond),
      workerBestStartToEnd: best('worker', (r) => r.recordsPerSecond),
      passthroughCpuUs: cpuMedian(runs, (r) => r.kind === 'passthrough', (r) => r.jobCpuUsPerRecord),
      workerCpuUs: cpuMedian(runs, (r) => r.kind === 'worker', (r) => r.jobCpuUsPerRecord),
      brokerCpuUs: cpuMedian(runs, () => true, (r) => r.brokerCpuUsPerRecord),
    };
    printReport(report);
    if (o.jsonFile !== null) writeFileSync(o.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    return runs.some((x) => x.errors.length > 0) ? 1 : 0;
  } finally {
    if (broker !== null) await stopChild(broker.child, 30_000);
    scratch.release();
  }
}

process.exitCode = await main();
