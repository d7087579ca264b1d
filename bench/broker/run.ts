// Broker benchmark: produce (acks=all) and consume throughput, produce latency at half the peak rate and broker RSS,
// printed beside the raw sequential write bandwidth of the same disk measured in the same run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { measureAppendLatency, measureSequentialWriteSync, type AppendLatencyResult, type DiskResult } from './disk.ts';
import type { ConsumeJob, Job, ProduceJob, RateJob, RateResult, ThroughputResult } from './load.ts';
import { scratchDir } from '../scratch.ts';
import { cpuSeconds, describeProbes, directIoOption, describeSteal, fmt, hostProbePerCpu, MB, median, percentile, RssSampler, StealSampler, wallMs, type StealFigures } from './stats.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const OXBOW_BIN = path.join(ROOT, 'bin', 'oxbow.js');
const LOAD_SCRIPT = path.join(import.meta.dirname, 'load.ts');
const RDKAFKA_SOURCE = path.join(import.meta.dirname, 'rdkafka-load.c');

const USAGE = `Usage: npm run bench:broker -- [options]

Starts \`oxbow broker\` as a separate process on a temporary data directory and measures, with load generators in
their own processes (librdkafka producers and a consumer built from bench/broker/rdkafka-load.c, kcat, and
@platformatic/kafka):
  produce throughput (acks=all, batched), consume throughput (read everything back), acks=all produce latency at
  half the peak 1 KiB rate, and the broker's RSS; beside the raw write + fdatasync bandwidth of the same disk.

  --sizes <list>          record value sizes in bytes (default 100,1024; none: no produce runs)
  --no-consume            skip the consume runs (each produce run is then followed by the next run straight away)
  --duration <s>          seconds per produce run (default 15)
  --latency-duration <s>  seconds of the fixed-rate latency run (default 15)
  --latency-rate <n>      records/s of the latency run (default: half the 1 KiB produce peak; with this, the latency run
                          takes place even without a 1 KiB produce run)
  --latency-warmup <s>    seconds at that rate before its clock starts, for the broker and the raw disk alike
                          (default 3; 0 for none)
  --partitions <n>        partitions per topic (default 4)
  --workers <n>           producer processes, and librdkafka consumer processes (default 2)
  --inflight <n>          sends (requests) in flight per producer process (default 4)
  --batch-kib <n>         record bytes per send, one batch of one partition (default 256)
  --generator <name>      producers of the produce, latency and soak runs: rdkafka (the default; built at the start
                          with cc, needs librdkafka-dev; also adds a consume run with its consumer) or platformatic
                          (@platformatic/kafka, about a core of CPU)
  --fsync <list>          broker.fsync policies to run: always (the default policy), os, an interval like 200ms
                          (default always)
  --raw-mib <n>           MiB written per raw disk measurement, each to a new file (default 1024)
  --soak                  also produce 1 KiB records until the log passes --soak-gb, sampling the broker's RSS
  --soak-gb <n>           log size the soak run reaches, in GB (default 5.5)
  --soak-minutes <n>      upper bound on the soak run (default 10)
  --dir <path>            parent of the temporary directory (default the OS temp dir); it is removed at the end
  --page-cache <mode>     broker.pageCache of the broker: os (the default) or recent
  --direct-io <mode>      broker.directIo of the broker: auto, on or off (default: the broker's default)
  --broker-cpu-prof <dir> run the broker with --cpu-prof, writing .cpuprofile files to <dir>
  --json <file>           also write every figure as JSON`;

type Options = {
  sizes: number[];
  consume: boolean;
  /** Records/s of the latency run; null = half the 1 KiB produce peak. */
  latencyRate: number | null;
  durationMs: number;
  latencyDurationMs: number;
  latencyWarmupMs: number;
  partitions: number;
  workers: number;
  inflight: number;
  batchBytes: number;
  /** The producer asked for; null = rdkafka if it builds, else platformatic. */
  generator: GeneratorName | null;
  fsyncPolicies: string[];
  rawMiB: number;
  soak: boolean;
  soakBytes: number;
  soakMs: number;
  dir: string;
  cpuProfDir: string | null;
  /** broker.pageCache, or null for the broker's default. */
  pageCache: 'recent' | 'os' | null;
  /** broker.directIo, or null for the broker's default. */
  directIo: 'auto' | 'on' | 'off' | null;
  jsonFile: string | null;
};

function pageCacheOption(raw: string | undefined): 'recent' | 'os' | null {
  if (raw === undefined) return null;
  if (raw !== 'recent' && raw !== 'os') throw new Error(`--page-cache takes recent or os, got ${JSON.stringify(raw)}`);
  return raw;
}

/** A numeric option, or `fallback` when absent: above zero, or zero too when `zero` allows it. */
function numberOption(name: string, raw: string | undefined, fallback: number, zero = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !zero)) {
    throw new Error(`--${name} must be ${zero ? 'zero or ' : ''}a positive number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      'no-consume': { type: 'boolean' },
      'latency-rate': { type: 'string' },
      duration: { type: 'string' },
      'latency-duration': { type: 'string' },
      'latency-warmup': { type: 'string' },
      partitions: { type: 'string' },
      workers: { type: 'string' },
      inflight: { type: 'string' },
      'batch-kib': { type: 'string' },
      generator: { type: 'string' },
      fsync: { type: 'string' },
      'raw-mib': { type: 'string' },
      soak: { type: 'boolean' },
      'soak-gb': { type: 'string' },
      'soak-minutes': { type: 'string' },
      dir: { type: 'string' },
      'broker-cpu-prof': { type: 'string' },
      'page-cache': { type: 'string' },
      'direct-io': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const fsyncPolicies = (values.fsync ?? 'always').split(',').map((s) => s.trim());
  for (const f of fsyncPolicies) {
    if (f !== 'always' && f !== 'os' && !/^\d+(ms|s)$/.test(f)) throw new Error(`--fsync takes always, os or an interval like 200ms, got ${JSON.stringify(f)}`);
  }
  if (values.sizes === 'none' && values['latency-rate'] === undefined && values.soak !== true) {
    throw new Error('--sizes none leaves nothing to measure without --latency-rate or --soak');
  }
  const generator = values.generator ?? null;
  if (generator !== null && generator !== 'rdkafka' && generator !== 'platformatic') {
    throw new Error(`--generator takes rdkafka or platformatic, got ${JSON.stringify(generator)}`);
  }
  return {
    sizes: values.sizes === 'none' ? [] : (values.sizes ?? '100,1024').split(',').map((s) => Math.round(numberOption('sizes', s.trim(), 0))),
    consume: values['no-consume'] !== true,
    latencyRate: values['latency-rate'] === undefined ? null : numberOption('latency-rate', values['latency-rate'], 0),
    durationMs: numberOption('duration', values.duration, 15) * 1000,
    latencyDurationMs: numberOption('latency-duration', values['latency-duration'], 15) * 1000,
    latencyWarmupMs: numberOption('latency-warmup', values['latency-warmup'], 3, true) * 1000,
    partitions: Math.round(numberOption('partitions', values.partitions, 4)),
    workers: Math.round(numberOption('workers', values.workers, 2)),
    inflight: Math.round(numberOption('inflight', values.inflight, 4)),
    batchBytes: Math.round(numberOption('batch-kib', values['batch-kib'], 256) * 1024),
    generator,
    fsyncPolicies,
    rawMiB: Math.round(numberOption('raw-mib', values['raw-mib'], 1024)),
    soak: values.soak ?? false,
    soakBytes: numberOption('soak-gb', values['soak-gb'], 5.5) * 1e9,
    soakMs: numberOption('soak-minutes', values['soak-minutes'], 10) * 60_000,
    dir: values.dir ?? os.tmpdir(),
    cpuProfDir: values['broker-cpu-prof'] === undefined ? null : path.resolve(values['broker-cpu-prof']),
    pageCache: pageCacheOption(values['page-cache']),
    directIo: directIoOption(values['direct-io']),
    jsonFile: values.json ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The producers

type GeneratorName = 'rdkafka' | 'platformatic';

/**
 * What produces in the produce, latency and soak runs. The consume runs always include kcat and @platformatic/kafka;
 * with rdkafka, rdkafka-load.c's consumer reads first.
 */
type Generator = { name: 'rdkafka'; binary: string; client: string } | { name: 'platformatic'; binary: null; client: string };

const PLATFORMATIC: Generator = { name: 'platformatic', binary: null, client: '@platformatic/kafka' };

/**
 * Builds rdkafka-load.c into the scratch directory: @platformatic/kafka producers need about a core between them at
 * full speed, which on a small machine is taken from the broker being measured, while librdkafka needs a fraction.
 * Without a C compiler or librdkafka's headers the run falls back to @platformatic/kafka, unless rdkafka was asked for.
 */
function produceGenerator(requested: GeneratorName | null, base: string): Generator {
  if (requested === 'platformatic') {
    say(`producers: ${PLATFORMATIC.client}`);
    return PLATFORMATIC;
  }
  const binary = path.join(base, 'rdkafka-load');
  const cc = spawnSync('cc', ['-O2', '-pthread', '-o', binary, RDKAFKA_SOURCE, '-lrdkafka'], { encoding: 'utf8' });
  const version = cc.status === 0 ? spawnSync(binary, ['--version'], { encoding: 'utf8' }) : null;
  if (version?.status === 0) {
    const client = version.stdout.trim();
    say(`producers: ${client} (${path.relative(ROOT, RDKAFKA_SOURCE)})`);
    return { name: 'rdkafka', binary, client };
  }
  const why = cc.error
    ? (cc.error as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'no C compiler: cc not found'
      : `cc: ${cc.error.message}`
    : cc.status !== 0
      ? (cc.stderr.split('\n').find((l) => /error/i.test(l)) ?? cc.stderr.split('\n')[0] ?? `cc exited with ${cc.status}`).trim()
      : `${binary} --version failed: ${(version?.stderr ?? '').trim()}`;
  if (requested === 'rdkafka') throw new Error(`--generator rdkafka: cannot build ${RDKAFKA_SOURCE}: ${why}`);
  say(`producing with @platformatic/kafka, which takes CPU from the broker: the librdkafka generator did not build (${why}); apt-get install gcc librdkafka-dev for it`);
  return PLATFORMATIC;
}

// ---------------------------------------------------------------------------------------------------------------------
// Child processes

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** Resolves with the first stdout line matching `pattern`, or rejects when the process exits or the time is up. */
function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => finish(new Error(`${what}: nothing after ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => finish(new Error(`${what} exited with ${code} before printing the expected line`));
    function finish(err: Error | null, m?: RegExpExecArray) {
      clearTimeout(timer);
      lines.off('line', onLine);
      child.off('exit', onExit);
      lines.close();
      if (err) reject(err);
      else resolve(m!);
    }
    function onLine(line: string) {
      const m = pattern.exec(line);
      if (m) finish(null, m);
    }
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

type BrokerProcess = { child: ChildProcess; pid: number; address: string; dataDir: string; stderr: () => string };

async function startBroker(base: string, label: string, fsync: string, o: Options, cpuProfDir: string | null): Promise<BrokerProcess> {
  const dataDir = path.join(base, `data-${label}`);
  const args = [OXBOW_BIN, 'broker', '--port', '0', '--data-dir', dataDir];
  const settings: Record<string, string> = {};
  if (fsync !== 'always') settings.fsync = fsync;
  if (o.pageCache !== null) settings.pageCache = o.pageCache;
  if (o.directIo !== null) settings.directIo = o.directIo;
  if (Object.keys(settings).length > 0) {
    // The defaults need no file; other settings go through a lake declaration, the way a user sets them.
    const configFile = path.join(base, `oxbow-${label}.config.mjs`);
    writeFileSync(configFile, `export default { broker: ${JSON.stringify(settings)} };\n`);
    args.push('--config', configFile);
  }
  if (cpuProfDir !== null) {
    mkdirSync(cpuProfDir, { recursive: true });
    args.unshift('--cpu-prof', '--cpu-prof-dir', cpuProfDir);
  }
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: base }));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8192);
  });
  const m = await waitForLine(child, /^listening on (\S+)$/, 30_000, 'oxbow broker').catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n${err}`);
  });
  child.stdout!.resume();
  return { child, pid: child.pid!, address: m[1]!, dataDir, stderr: () => err };
}

async function stopBroker(b: BrokerProcess): Promise<void> {
  if (b.child.exitCode !== null || b.child.signalCode !== null) return;
  const exited = once(b.child, 'exit');
  b.child.kill('SIGTERM');
  const timer = setTimeout(() => b.child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

type Worker = { child: ChildProcess; ready: Promise<unknown>; result: Promise<string> };

/** Runs `job` with the rdkafka-load binary when one is given (it speaks load.ts's protocol), else with load.ts. */
function startWorker(job: Job, timeoutMs: number, binary: string | null): Worker {
  const [command, args] = binary !== null ? [binary, [JSON.stringify(job)]] : [process.execPath, [LOAD_SCRIPT, JSON.stringify(job)]];
  const child = track(spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT }));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8192);
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const nextLine = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`load generator (${job.mode}): no ${what} after ${timeoutMs} ms\n${err}`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`load generator (${job.mode}) exited with ${code} before its ${what}\n${err}`));
      };
      child.once('exit', onExit);
      const take = (line: string) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(line);
      };
      const queued = lines.shift();
      if (queued !== undefined) take(queued);
      else waiters.push(take);
    });
  const ready = nextLine('ready line');
  const result = ready.then(() => nextLine('result'));
  result.catch(() => {}); // the caller awaits it; this only keeps an early failure from going unhandled
  return { child, ready, result };
}

/** Starts the jobs, waits until every generator is connected, starts them together and collects their results. */
async function runJobs<T>(jobs: Job[], timeoutMs: number, binary: string | null): Promise<T[]> {
  const workers = jobs.map((j) => startWorker(j, timeoutMs, binary));
  try {
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin!.end('go\n');
    const results = await Promise.all(workers.map((w) => w.result));
    return results.map((r) => JSON.parse(r) as T);
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Measurements

type Throughput = {
  records: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  recordsPerSecond: number;
  /** CPU use of the broker process, 100% = one core. */
  brokerCpuPercent: number;
  /** CPU use of all load generator processes together (NaN when not measured). */
  clientCpuPercent: number;
  errors: string[];
};

function combine(results: ThroughputResult[], cpuBefore: number, cpuAfter: number): Throughput {
  const start = Math.min(...results.map((r) => r.startMs));
  const end = Math.max(...results.map((r) => r.endMs));
  const seconds = (end - start) / 1000;
  const records = results.reduce((n, r) => n + r.records, 0);
  const bytes = results.reduce((n, r) => n + r.bytes, 0);
  return {
    records,
    bytes,
    seconds,
    mbPerSecond: bytes / MB / seconds,
    recordsPerSecond: records / seconds,
    brokerCpuPercent: ((cpuAfter - cpuBefore) / seconds) * 100,
    clientCpuPercent: (results.reduce((n, r) => n + r.cpuSeconds, 0) / seconds) * 100,
    errors: results.flatMap((r) => r.errors),
  };
}

async function createTopic(address: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'oxbow-bench-admin', bootstrapBrokers: [address] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

function produceJobs(o: Options, address: string, topic: string, recordBytes: number, durationMs: number, maxBytes: number): ProduceJob[] {
  return Array.from({ length: o.workers }, (_, w) => ({
    mode: 'produce',
    address,
    topic,
    partitions: o.partitions,
    firstPartition: w * o.inflight,
    recordBytes,
    recordsPerSend: Math.max(1, Math.floor(o.batchBytes / recordBytes)),
    inflight: o.inflight,
    durationMs,
    maxBytes: Math.ceil(maxBytes / o.workers),
  }));
}

async function produceRun(o: Options, gen: Generator, b: BrokerProcess, topic: string, recordBytes: number): Promise<Throughput> {
  const cpu0 = cpuSeconds(b.pid) ?? 0;
  const results = await runJobs<ThroughputResult>(produceJobs(o, b.address, topic, recordBytes, o.durationMs, 0), o.durationMs + 120_000, gen.binary);
  return combine(results, cpu0, cpuSeconds(b.pid) ?? cpu0);
}

/** Reads the whole topic back with kcat (librdkafka) to /dev/null; records come from its end-of-partition lines. */
async function consumeWithKcat(b: BrokerProcess, topic: string, recordBytes: number, timeoutMs: number): Promise<Throughput> {
  const cpu0 = cpuSeconds(b.pid) ?? 0;
  const start = wallMs();
  const child = track(
    spawn('kcat', ['-C', '-b', b.address, '-t', topic, '-o', 'beginning', '-e', '-f', '%s', '-X', 'fetch.wait.max.ms=100'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const end = wallMs();
  const records = [...err.matchAll(/Reached end of topic \S+ \[\d+\] at offset (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const errors = code === 0 ? [] : [`kcat exited with ${code}: ${err.slice(-2000)}`];
  const seconds = (end - start) / 1000;
  const cpu1 = cpuSeconds(b.pid) ?? cpu0;
  const bytes = records * recordBytes;
  const brokerCpuPercent = ((cpu1 - cpu0) / seconds) * 100;
  return { records, bytes, seconds, mbPerSecond: bytes / MB / seconds, recordsPerSecond: records / seconds, brokerCpuPercent, clientCpuPercent: Number.NaN, errors };
}

/**
 * Reads the whole topic back with rdkafka-load.c's consumer: librdkafka's fetching as in kcat, without kcat's per-record
 * formatting and writing, so it shows what the broker serves rather than what a client does with each record.
 */
async function consumeWithRdkafka(o: Options, binary: string, b: BrokerProcess, topic: string, timeoutMs: number): Promise<Throughput> {
  const cpu0 = cpuSeconds(b.pid) ?? 0;
  // 4 MiB per partition: in short runs 10 MiB (40 MiB responses) read 100-byte records about 10% slower.
  // As many consumer processes as producer processes, each reading its share of the partitions: one librdkafka
  // client reads through one connection and one thread, which small records keep busy before the broker is.
  const workers = Math.min(o.workers, o.partitions);
  const jobs: ConsumeJob[] = Array.from({ length: workers }, (_, w) => ({ mode: 'consume', address: b.address, topic, partitions: o.partitions, partitionMaxBytes: 4 * 1024 * 1024, timeoutMs, workers, firstPartition: w }));
  const results = await runJobs<ThroughputResult>(jobs, timeoutMs + 60_000, binary);
  return combine(results, cpu0, cpuSeconds(b.pid) ?? cpu0);
}

async function consumeWithPlatformatic(o: Options, b: BrokerProcess, topic: string, timeoutMs: number): Promise<Throughput> {
  const cpu0 = cpuSeconds(b.pid) ?? 0;
  const job: ConsumeJob = { mode: 'consume', address: b.address, topic, partitions: o.partitions, partitionMaxBytes: 4 * 1024 * 1024, timeoutMs };
  const results = await runJobs<ThroughputResult>([job], timeoutMs + 60_000, null);
  return combine(results, cpu0, cpuSeconds(b.pid) ?? cpu0);
}

type Latency = {
  recordsPerSecond: number;
  mbPerSecond: number;
  sends: number;
  /** What each latency sample times: a record (rdkafka) or a send of one tick's records (platformatic). */
  timed: 'records' | 'sends';
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  behind: number;
  errors: string[];
  /** The same appends (bytes per send, sends per second, partitions) done straight to files: write + fdatasync. */
  rawDisk: AppendLatencyResult;
  /** Untimed time at the rate before the timed run, for the broker and the raw disk alike. */
  warmupMs: number;
  /** CPU time the host took from this machine during the timed run, and during the raw appends' timed run. */
  steal: StealFigures | null;
  rawDiskSteal: StealFigures | null;
  /** hostProbePerCpu() just before the timed run: each core's speed then (null: not measured). */
  cores: number[] | null;
};

async function latencyRun(o: Options, gen: Generator, base: string, b: BrokerProcess, topic: string, recordBytes: number, recordsPerSecond: number): Promise<Latency> {
  const tickMs = 5;
  const perSend = Math.max(1, Math.round((recordsPerSecond / o.workers) * tickMs / 1000));
  const cores = hostProbePerCpu();
  const steal = new StealSampler();
  try {
    // The broker first, the raw disk after: the raw appends leave gigabytes of page cache behind, and dropping it
    // (dropPageCache in disk.ts) hands that memory back to the host, which on these machines disturbed the next
    // 20 s or so (a broker run right after 60 s of raw appends: p99 441-493 ms; without them before it: 9-11 ms).
    const jobs: RateJob[] = Array.from({ length: o.workers }, (_, w) => ({
      mode: 'rate',
      address: b.address,
      topic,
      partitions: o.partitions,
      firstPartition: w,
      recordBytes,
      recordsPerSecond: recordsPerSecond / o.workers,
      tickMs,
      durationMs: o.latencyDurationMs,
      warmupMs: o.latencyWarmupMs,
    }));
    const results = await runJobs<RateResult>(jobs, o.latencyWarmupMs + o.latencyDurationMs + 120_000, gen.binary);
    const all = results.flatMap((r) => r.latenciesMs).sort((x, y) => x - y);
    const start = Math.min(...results.map((r) => r.startMs));
    const end = Math.max(...results.map((r) => r.endMs));
    const records = results.reduce((n, r) => n + r.records, 0);
    const achieved = records / ((end - start) / 1000);
    const brokerSteal = steal.between(start, end);
    const p50Ms = percentile(all, 50);
    const p99Ms = percentile(all, 99);
    const maxMs = all.at(-1) ?? Number.NaN;
    say(`  p50 ${fmt(p50Ms, 2)} ms, p99 ${fmt(p99Ms, 2)} ms, max ${fmt(maxMs, 2)} ms; host steal ${describeSteal(brokerSteal)}; cores just before: ${describeProbes(cores)}`);
    const rawDisk = await measureAppendLatency(base, {
      chunkBytes: perSend * recordBytes,
      intervalMs: tickMs / o.workers,
      files: o.partitions,
      durationMs: o.latencyDurationMs,
      warmupMs: o.latencyWarmupMs,
    });
    const rawDiskSteal = steal.between(rawDisk.startMs, rawDisk.endMs);
    say(`  raw disk, same appends: p50 ${fmt(rawDisk.p50Ms, 2)} ms, p99 ${fmt(rawDisk.p99Ms, 2)} ms, max ${fmt(rawDisk.maxMs, 2)} ms; host steal ${describeSteal(rawDiskSteal)}`);
    return {
      recordsPerSecond: achieved,
      mbPerSecond: (achieved * recordBytes) / MB,
      sends: results.reduce((n, r) => n + (r.sends ?? r.latenciesMs.length), 0),
      timed: gen.name === 'rdkafka' ? 'records' : 'sends',
      samples: all.length,
      p50Ms,
      p99Ms,
      maxMs,
      behind: results.reduce((n, r) => n + r.behind, 0),
      errors: results.flatMap((r) => r.errors),
      rawDisk,
      warmupMs: o.latencyWarmupMs,
      steal: brokerSteal,
      rawDiskSteal,
      cores,
    };
  } finally {
    steal.stop();
  }
}

function directoryBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------------------
// The run

type SizeFigures = {
  recordBytes: number;
  produce: Throughput;
  /** rdkafka-load.c's consumer; null when the producers were @platformatic/kafka (no C build). */
  consumeRdkafka: Throughput | null;
  /** Null: --no-consume. */
  consumeKcat: Throughput | null;
  consumePlatformatic: Throughput | null;
};
type PolicyFigures = { fsync: string; sizes: SizeFigures[]; latency: Latency | null; peakRssBytes: number };
type SoakFigures = { fsync: string; produce: Throughput; logBytes: number; peakRssBytes: number; finalRssBytes: number };
type Report = {
  date: string;
  machine: { cpus: number; node: string; kernel: string; dir: string };
  options: Omit<Options, 'dir' | 'cpuProfDir' | 'jsonFile'>;
  /** The producers actually used (options.generator is what was asked for). */
  generator: { name: GeneratorName; client: string };
  rawDisk: DiskResult[];
  rawDiskMbPerSecond: number;
  policies: PolicyFigures[];
  soak: SoakFigures | null;
};

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function runPolicy(o: Options, gen: Generator, base: string, fsync: string): Promise<PolicyFigures> {
  const label = fsync.replace(/[^\w]/g, '');
  const b = await startBroker(base, label, fsync, o, o.cpuProfDir);
  const rss = new RssSampler(b.pid, 250);
  try {
    const sizes: SizeFigures[] = [];
    for (const recordBytes of o.sizes) {
      const topic = `bench.r${recordBytes}`;
      await createTopic(b.address, topic, o.partitions);
      say(`[fsync=${fsync}] produce ${recordBytes} B records for ${o.durationMs / 1000} s ...`);
      const produce = await produceRun(o, gen, b, topic, recordBytes);
      say(`  ${fmt(produce.mbPerSecond)} MB/s, ${fmt(produce.recordsPerSecond)} records/s, CPU: broker ${fmt(produce.brokerCpuPercent)}%, generators ${fmt(produce.clientCpuPercent)}%`);
      const consumeTimeoutMs = Math.max(120_000, o.durationMs * 10);
      if (!o.consume) {
        sizes.push({ recordBytes, produce, consumeRdkafka: null, consumeKcat: null, consumePlatformatic: null });
        continue;
      }
      let consumeRdkafka: Throughput | null = null;
      if (gen.name === 'rdkafka') {
        say(`[fsync=${fsync}] consume ${recordBytes} B records with librdkafka (rdkafka-load.c) ...`);
        consumeRdkafka = await consumeWithRdkafka(o, gen.binary, b, topic, consumeTimeoutMs);
        say(`  ${fmt(consumeRdkafka.mbPerSecond)} MB/s, ${fmt(consumeRdkafka.records)} records, CPU: broker ${fmt(consumeRdkafka.brokerCpuPercent)}%, consumer ${fmt(consumeRdkafka.clientCpuPercent)}%`);
      }
      say(`[fsync=${fsync}] consume ${recordBytes} B records with kcat ...`);
      const consumeKcat = await consumeWithKcat(b, topic, recordBytes, consumeTimeoutMs);
      say(`  ${fmt(consumeKcat.mbPerSecond)} MB/s, ${fmt(consumeKcat.records)} records`);
      say(`[fsync=${fsync}] consume ${recordBytes} B records with @platformatic/kafka ...`);
      const consumePlatformatic = await consumeWithPlatformatic(o, b, topic, consumeTimeoutMs);
      say(`  ${fmt(consumePlatformatic.mbPerSecond)} MB/s, ${fmt(consumePlatformatic.records)} records`);
      sizes.push({ recordBytes, produce, consumeRdkafka, consumeKcat, consumePlatformatic });
    }
    let latency: Latency | null = null;
    const kib = sizes.find((s) => s.recordBytes === 1024);
    const rate = o.latencyRate ?? (kib ? kib.produce.recordsPerSecond / 2 : 0);
    if (rate > 0) {
      await createTopic(b.address, 'bench.latency', o.partitions);
      say(`[fsync=${fsync}] fixed-rate produce of 1 KiB records at ${fmt(rate)} records/s for ${o.latencyDurationMs / 1000} s` +
          `${o.latencyWarmupMs > 0 ? ` after ${o.latencyWarmupMs / 1000} s untimed` : ''} ...`);
      latency = await latencyRun(o, gen, base, b, 'bench.latency', 1024, rate);
    }
    return { fsync, sizes, latency, peakRssBytes: rss.peakBytes };
  } finally {
    rss.stop();
    await stopBroker(b);
    rmSync(b.dataDir, { recursive: true, force: true });
  }
}

async function runSoak(o: Options, gen: Generator, base: string): Promise<SoakFigures> {
  const fsync = 'always';
  const b = await startBroker(base, 'soak', fsync, o, null);
  const rss = new RssSampler(b.pid, 250);
  try {
    await createTopic(b.address, 'bench.soak', o.partitions);
    say(`[soak] produce 1 KiB records until the log holds ${fmt(o.soakBytes / 1e9, 1)} GB (at most ${o.soakMs / 60_000} min) ...`);
    const cpu0 = cpuSeconds(b.pid) ?? 0;
    const progress = setInterval(() => say(`  broker RSS ${fmt(rss.lastBytes / 2 ** 20)} MiB (peak ${fmt(rss.peakBytes / 2 ** 20)} MiB)`), 15_000);
    let results: ThroughputResult[];
    try {
      results = await runJobs<ThroughputResult>(produceJobs(o, b.address, 'bench.soak', 1024, o.soakMs, o.soakBytes), o.soakMs + 120_000, gen.binary);
    } finally {
      clearInterval(progress);
    }
    const produce = combine(results, cpu0, cpuSeconds(b.pid) ?? cpu0);
    const logBytes = directoryBytes(b.dataDir);
    return { fsync, produce, logBytes, peakRssBytes: rss.peakBytes, finalRssBytes: rss.lastBytes };
  } finally {
    rss.stop();
    await stopBroker(b);
    rmSync(b.dataDir, { recursive: true, force: true });
  }
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

/**
 * One size's consume runs, and the "consume ≥ produce" target judged on the fastest of them that read the whole topic:
 * no errors, and as many records as kcat's end-of-partition offsets add up to (when kcat finished).
 */
function consumeLine(name: string, s: SizeFigures): string {
  if (s.consumeKcat === null || s.consumePlatformatic === null) return `  consume ${name}: not run (--no-consume)`;
  const topicRecords = s.consumeKcat.errors.length === 0 ? s.consumeKcat.records : null;
  const runs: [string, Throughput][] = [
    ['kcat', s.consumeKcat],
    ['@platformatic/kafka', s.consumePlatformatic],
  ];
  if (s.consumeRdkafka) runs.unshift(['librdkafka (rdkafka-load.c)', s.consumeRdkafka]);
  const whole = (t: Throughput) => t.errors.length === 0 && (topicRecords === null || t.records === topicRecords);
  const shown = runs.map(([client, t]) => {
    const problem =
      t.errors.length > 0 ? ` [${t.errors[0]!.split('\n')[0]}]` : whole(t) ? '' : ` [read ${fmt(t.records)} of ${fmt(topicRecords!)} records]`;
    return `${client} ${fmt(t.mbPerSecond)} MB/s (${fmt(t.records)} rec)${problem}`;
  });
  const complete = runs.filter(([, t]) => whole(t));
  const fastest = complete.reduce<[string, Throughput] | null>((best, run) => (best === null || run[1].mbPerSecond > best[1].mbPerSecond ? run : best), null);
  const target =
    fastest === null
      ? `no consumer read the whole topic: ${verdict(false)}`
      : `fastest ${fastest[0]} ${fmt(fastest[1].mbPerSecond)} MB/s: ${verdict(fastest[1].mbPerSecond >= s.produce.mbPerSecond)}`;
  return `  consume ${name}: ${shown.join(', ')}; target ≥ produce (${fmt(s.produce.mbPerSecond)} MB/s), ${target}`;
}

function printReport(r: Report): void {
  const raw = r.rawDiskMbPerSecond;
  const out: string[] = [];
  out.push('');
  out.push(`Oxbow broker benchmark — ${r.date}, ${r.machine.cpus} cores, Node ${r.machine.node}, Linux ${r.machine.kernel}`);
  out.push(
    `raw disk (same directory): sequential ${r.options.rawMiB} MiB in 1 MiB writes + fdatasync, a new file each run: median ${fmt(raw)} MB/s ` +
      `(runs: ${r.rawDisk.map((d) => fmt(d.mbPerSecond)).join(', ')} MB/s)`,
  );
  const rdkafka = r.generator.name === 'rdkafka';
  const send = rdkafka ? 'request' : 'send';
  out.push(
    `load: ${r.options.workers} producer processes (${r.generator.client}${rdkafka ? ', bench/broker/rdkafka-load.c' : ''}) × ` +
      `${r.options.inflight} ${send}s in flight, ${r.options.batchBytes / 1024} KiB per ${send}, ` +
      `${r.options.partitions} partitions, acks=all, no compression; MB = 10^6 bytes of record values`,
  );
  for (const p of r.policies) {
    out.push('');
    out.push(`broker.fsync=${p.fsync}${p.fsync === 'always' ? ' (the default)' : ''}, broker.pageCache=${r.options.pageCache ?? 'os (the default)'}, broker.directIo=${r.options.directIo ?? 'the default'}`);
    for (const s of p.sizes) {
      const name = s.recordBytes === 1024 ? '1KiB' : `${s.recordBytes}B`;
      const ratio = s.produce.mbPerSecond / raw;
      const produceLine = `  produce ${name}: ${fmt(s.produce.mbPerSecond)} MB/s, ${fmt(s.produce.recordsPerSecond)} rec/s (raw disk ${fmt(raw)} MB/s, ratio ${fmt(ratio * 100)}%) CPU broker ${fmt(s.produce.brokerCpuPercent)}% generators ${fmt(s.produce.clientCpuPercent)}%`;
      const target = s.recordBytes === 1024 ? ` target ≥100 MB/s and ≥40%: ${verdict(s.produce.mbPerSecond >= 100 && ratio >= 0.4)}` : '';
      out.push(produceLine + target + (s.produce.errors.length > 0 ? ` [${s.produce.errors.length} errors: ${s.produce.errors[0]}]` : ''));
      out.push(consumeLine(name, s));
    }
    if (p.latency) {
      const l = p.latency;
      out.push(
        `  produce latency 1KiB at ${fmt(l.recordsPerSecond)} rec/s (${fmt(l.mbPerSecond)} MB/s, ${r.options.latencyRate === null ? 'half the peak' : '--latency-rate'}), ${fmt(l.sends)} sends` +
          `${l.timed === 'records' ? `, each of ${fmt(l.samples)} records timed` : ''}` +
          `${l.warmupMs > 0 ? ` after a ${fmt(l.warmupMs / 1000)} s warm-up at the rate` : ''}: ` +
          `p50 ${fmt(l.p50Ms, 2)} ms, p99 ${fmt(l.p99Ms, 2)} ms, max ${fmt(l.maxMs, 2)} ms ` +
          `(raw disk, same appends: p50 ${fmt(l.rawDisk.p50Ms, 2)} ms, p99 ${fmt(l.rawDisk.p99Ms, 2)} ms, max ${fmt(l.rawDisk.maxMs, 2)} ms) ` +
          `target p99 <10 ms: ${verdict(l.p99Ms < 10)}` +
          // With fsync=always an answer waits for an fdatasync; when the disk's own appends miss the target, so must any broker.
          (l.p99Ms >= 10 && l.rawDisk.p99Ms >= 10 ? ` (the raw disk's same appends miss it too: p99 ${fmt(l.p99Ms / l.rawDisk.p99Ms, 2)}× the disk's)` : '') +
          (l.behind > 0 ? ` [generator fell behind ${l.behind} times]` : '') +
          ` [host steal ${describeSteal(l.steal)}; during the raw appends ${describeSteal(l.rawDiskSteal)}; cores just before: ${describeProbes(l.cores)}]` +
          (l.errors.length > 0 ? ` [${l.errors.length} errors: ${l.errors[0]}]` : ''),
      );
    }
    out.push(`  broker peak RSS during these runs: ${fmt(p.peakRssBytes / 2 ** 20)} MiB`);
  }
  if (r.soak) {
    const s = r.soak;
    out.push('');
    out.push(
      `soak (fsync=${s.fsync}): log grew to ${fmt(s.logBytes / 1e9, 2)} GB at ${fmt(s.produce.mbPerSecond)} MB/s; broker peak RSS ` +
        `${fmt(s.peakRssBytes / 2 ** 20)} MiB (final ${fmt(s.finalRssBytes / 2 ** 20)} MiB) target <300 MB while past 5 GB: ` +
        verdict(s.peakRssBytes < 300 * MB && s.logBytes > 5e9) +
        (s.produce.errors.length > 0 ? ` [${s.produce.errors.length} errors: ${s.produce.errors[0]}]` : ''),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [major] = process.versions.node.split('.').map(Number);
  if (major! < 22) {
    say(`the benchmark needs Node.js 22.22 or later (this is ${process.versions.node}); run it with npm run bench:broker`);
    return 78;
  }
  const scratch = scratchDir(o.dir, 'oxbow-bench-', killChildren);
  const base = scratch.dir;
  try {
    const rawDisk: DiskResult[] = [];
    const measureRaw = () => {
      const d = measureSequentialWriteSync(base, o.rawMiB, rawDisk.length);
      rawDisk.push(d);
      say(`raw disk: ${o.rawMiB} MiB + fdatasync in ${fmt(d.seconds, 2)} s = ${fmt(d.mbPerSecond)} MB/s`);
    };
    const gen = produceGenerator(o.generator, base);
    measureRaw();
    measureRaw();
    const policies: PolicyFigures[] = [];
    for (const fsync of o.fsyncPolicies) policies.push(await runPolicy(o, gen, base, fsync));
    measureRaw();
    const soak = o.soak ? await runSoak(o, gen, base) : null;
    if (o.soak) measureRaw();
    const { dir: _dir, cpuProfDir: _prof, jsonFile: _json, ...shown } = o;
    const report: Report = {
      date: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), node: process.versions.node, kernel: os.release(), dir: o.dir },
      options: shown,
      generator: { name: gen.name, client: gen.client },
      rawDisk,
      rawDiskMbPerSecond: median(rawDisk.map((d) => d.mbPerSecond)),
      policies,
      soak,
    };
    printReport(report);
    if (o.jsonFile !== null) writeFileSync(o.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    scratch.release();
  }
}

process.exitCode = await main();
