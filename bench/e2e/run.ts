// End-to-end benchmark: the whole lake as a user runs it (`oxbow up` in its own process), events produced to Kafka in
// another, measured from produce to queryable in SQL: sustained events/s, freshness, peak RSS and exactness, beside
// DuckDB converting the same events straight from NDJSON to Parquet in the same run.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, directIoOption, fmt, MB, MiB, percentile, RssSampler, wallMs, wholeNumber } from '../broker/stats.ts';
import { scratchDir } from '../scratch.ts';
import { killChildren, spawnNode, stopChild, type Spawned } from '../sink/children.ts';
import { duckdbBaseline, writeGoodEvents, type BaselineFigures } from './baseline.ts';
import { machineCpuSeconds, threadCpuDelta, threadCpuSeconds } from './cpu.ts';
import { fateOf, FILTER_RULE, FILTERED_KIND, lakeConfigSource } from './events.ts';
import { Lake, type StreamTotals } from './lake.ts';
import type { ProducerJob, ProducerResult } from './producer.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PRODUCER_SCRIPT = path.join(import.meta.dirname, 'producer.ts');
const TOPIC = 'events.raw';
const TARGET_EVENTS_PER_SECOND = 50_000;
const TARGET_RSS_BYTES = 1.5 * 1024 * MiB;
/** Freshness target: p99 at most the wall-clock rotation plus this. */
const TARGET_FRESHNESS_SLACK_MS = 5000;
const RSS_SAMPLE_MS = 250;
const PROGRESS_EVERY_MS = 5000;

const USAGE = `Usage: npm run bench:e2e -- [options]

Writes a lake config (dataset \`events\`: a JSON Schema of 9 fields with the event time \`ts\`; steps validate(),
filter('${FILTER_RULE}') dropping kind "${FILTERED_KIND}" (about 2% of events) and enrich('region') adding region and
amount_cents) and starts \`oxbow up\` as a child process on a temporary data directory, every port free (0), the
embedded broker, SQLite catalog and local golden zone, the catalog crawled after each sink commit. A producer in its
own process (@platformatic/kafka, acks=all, one batch per timer tick) sends JSON events of about 230 B to ${TOPIC}
for --duration seconds; each carries its sequence id \`seq\` and its send time \`sent_ms\`, and --bad-ratio of them are
malformed (half not JSON, half against the schema). Meanwhile, every --poll-ms, over HTTP (POST /v1/sql):
  SELECT count(*) FROM events                              how many events are queryable
  SELECT seq, sent_ms FROM events WHERE seq % <probe> = 0 AND seq >= <lowest probe not yet seen>
                                                           freshness: each probe event's first sighting minus its
                                                           sent_ms (the resolution is --poll-ms plus the query time)
and the RSS of \`oxbow up\` is sampled from /proc every ${RSS_SAMPLE_MS} ms, CPU from /proc/<pid>/stat (per thread).
After the producer stops, polling goes on until every good event is queryable (or --drain-timeout), then
  SELECT count(*), count(DISTINCT seq) FROM events         exactness: both equal the good events acknowledged
and \`oxbow up\` is stopped with SIGTERM (its stream counters are checked too). Last, the baseline: DuckDB (--threads,
--memory-limit) converts the same good events, written as NDJSON, to one snappy Parquet file with
COPY (SELECT * FROM read_json(...)) TO ... (FORMAT parquet): rows/s, the one-machine limit. The events are rebuilt
from their ids; only their send times differ (spread evenly over the run).

Figures: sustained events/s = events made queryable per second between the first poll that sees any and the poll
that sees them all (so the first rotation's delay is not counted as slowness); also shown: the rate over the whole
run (from the first send) and how long after the producer stopped the last event became queryable; if not all
became queryable within --drain-timeout, the sustained rate runs to the last poll. Flat out (the default), the
producer outruns the lake, so freshness then measures the backlog; a --rate below the sustained rate measures the
lake's own delay. CPU per process (and per thread of oxbow up; \`main\` is its JavaScript thread) is printed for the
producing and the draining phase, with what other programs on the machine used. Exit code 1 when exactness fails.
Targets: ≥ ${fmt(TARGET_EVENTS_PER_SECOND)} events/s sustained; freshness p99 ≤ --rotate-ms + ${TARGET_FRESHNESS_SLACK_MS / 1000} s; peak RSS of
\`oxbow up\` < 1.5 GiB; exactness (count = distinct ids = good events sent).

  --duration <s>            seconds the producer sends (default 30)
  --rate <n|max>            events per second; max: as fast as acknowledgements come back, up to --max-rate
                            (default max)
  --max-rate <n>            cap on the producer's rate in events/s, in either mode (default 200000)
  --bad-ratio <f>           share of malformed events, 0 to 1 (default 0.01)
  --rotate-ms <n>           sink.rotateScheduleIntervalMs: a file is committed this long after its first record
                            (default 5000)
  --flush-size <n>          sink.flushSize: a file is committed at this many records (default 100000, the default)
  --partitions <n>          partitions of the lake's topics (broker.defaultPartitions; default 1, the default)
  --direct-io <mode>        broker.directIo: auto, on or off (default: the broker's default, auto)
  --tick-ms <n>             the producer's timer: every tick it sends what the rate allows by then (default 10)
  --max-batch <n>           events in one produce request at most (default 2000)
  --max-in-flight <n>       produce requests awaiting acknowledgement at most (default 4)
  --poll-ms <n>             how often the SQL polls run (default 500)
  --probe-every <n>         every n-th sequence id is a freshness probe (default 500)
  --drain-timeout <s>       how long to wait after the producer stops for every event to be queryable (default 600;
                            flat out, the producer outruns the lake and the raw topic holds a backlog to drain)
  --threads <n>             DuckDB threads of the baseline (default 2)
  --memory-limit <size>     DuckDB memory limit of the baseline, e.g. 1GB (default 1GB)
  --dir <path>              parent of the temporary directory (default the OS temp dir); it is removed at the end
  --json <file>             also write every figure (and the count over time) as JSON
  -h, --help                this text`;

type Options = {
  durationS: number;
  rate: number | null;
  maxRate: number;
  badRatio: number;
  rotateMs: number;
  flushSize: number;
  partitions: number;
  /** broker.directIo, or null for the default. */
  directIo: 'auto' | 'on' | 'off' | null;
  tickMs: number;
  maxBatch: number;
  maxInFlight: number;
  pollMs: number;
  probeEvery: number;
  drainTimeoutS: number;
  threads: number;
  memoryLimit: string;
  dir: string;
  jsonFile: string | null;
};

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      rate: { type: 'string' },
      'max-rate': { type: 'string' },
      'bad-ratio': { type: 'string' },
      'rotate-ms': { type: 'string' },
      'flush-size': { type: 'string' },
      partitions: { type: 'string' },
      'direct-io': { type: 'string' },
      'tick-ms': { type: 'string' },
      'max-batch': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'poll-ms': { type: 'string' },
      'probe-every': { type: 'string' },
      'drain-timeout': { type: 'string' },
      threads: { type: 'string' },
      'memory-limit': { type: 'string' },
      dir: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const badRatio = values['bad-ratio'] === undefined ? 0.01 : Number(values['bad-ratio']);
  if (!(badRatio >= 0 && badRatio <= 1)) throw new Error(`--bad-ratio must be a number from 0 to 1, got ${JSON.stringify(values['bad-ratio'])}`);
  const memoryLimit = values['memory-limit'] ?? '1GB';
  if (!/^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/.test(memoryLimit)) throw new Error(`--memory-limit must look like 1GB or 512MB, got ${JSON.stringify(memoryLimit)}`);
  return {
    durationS: wholeNumber('duration', values.duration, 30),
    rate: values.rate === undefined || values.rate === 'max' ? null : wholeNumber('rate', values.rate, 0),
    maxRate: wholeNumber('max-rate', values['max-rate'], 200_000),
    badRatio,
    rotateMs: wholeNumber('rotate-ms', values['rotate-ms'], 5000),
    flushSize: wholeNumber('flush-size', values['flush-size'], 100_000),
    partitions: wholeNumber('partitions', values.partitions, 1),
    directIo: directIoOption(values['direct-io']),
    tickMs: wholeNumber('tick-ms', values['tick-ms'], 10),
    maxBatch: wholeNumber('max-batch', values['max-batch'], 2000),
    maxInFlight: wholeNumber('max-in-flight', values['max-in-flight'], 4),
    pollMs: wholeNumber('poll-ms', values['poll-ms'], 500),
    probeEvery: wholeNumber('probe-every', values['probe-every'], 500),
    drainTimeoutS: wholeNumber('drain-timeout', values['drain-timeout'], 600),
    threads: wholeNumber('threads', values.threads, 2),
    memoryLimit,
    dir: values.dir ?? os.tmpdir(),
    jsonFile: values.json ?? null,
  };
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------------
// Watching the lake: counts and probes over SQL

type CountSample = { atMs: number; count: number; queryMs: number };

/** Polls the count and the probe events until stopped; keeps the count over time and each probe's freshness. */
class Watcher {
  readonly samples: CountSample[] = [];
  /** Per probe event seen: wall clock when first seen minus its sent_ms. */
  readonly freshnessMs: number[] = [];
  readonly seen = new Set<number>();
  queryErrors = 0;
  firstError: string | null = null;
  private running = true;
  private readonly lake: Lake;
  private readonly pollMs: number;
  private readonly probeEvery: number;
  private readonly isGood: (seq: number) => boolean;
  /** The lowest probe id that can still appear and has not yet been seen: polls only ask for probes from there. */
  private floor = 0;
  private readonly done: Promise<void>;

  constructor(lake: Lake, pollMs: number, probeEvery: number, isGood: (seq: number) => boolean) {
    this.lake = lake;
    this.pollMs = pollMs;
    this.probeEvery = probeEvery;
    this.isGood = isGood;
    this.done = this.loop();
  }

  get count(): number {
    return this.samples.at(-1)?.count ?? 0;
  }

  /** The first sample whose count is at least `n`, or undefined. */
  firstReaching(n: number): CountSample | undefined {
    return this.samples.find((s) => s.count >= n);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = wallMs();
      try {
        const c = await this.lake.query('SELECT count(*) FROM events');
        const count = Number(c.rows[0]?.[0] ?? 0);
        // Probes below the floor have all been seen (or never appear), so the poll reads only the files that can hold
        // new ones (DuckDB skips the others by their seq statistics) and the watching costs the lake little.
        const probes = await this.lake.query(`SELECT seq, sent_ms FROM events WHERE seq % ${this.probeEvery} = 0 AND seq >= ${this.floor}`);
        const atMs = wallMs();
        for (const [seq, sentMs] of probes.rows) {
          const id = Number(seq);
          if (this.seen.has(id)) continue;
          this.seen.add(id);
          this.freshnessMs.push(atMs - Number(sentMs));
        }
        while (this.seen.has(this.floor) || !this.isGood(this.floor)) this.floor += this.probeEvery;
        this.samples.push({ atMs: wallMs(), count, queryMs: c.ms });
      } catch (err) {
        // Before the first file is committed and crawled there is no table `events` yet.
        this.queryErrors++;
        this.firstError ??= err instanceof Error ? err.message : String(err);
        this.samples.push({ atMs: wallMs(), count: this.count, queryMs: Number.NaN });
      }
      await sleep(Math.max(0, started + this.pollMs - wallMs()));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// CPU: who was busy

type CpuSnapshot = { atMs: number; oxbow: number; oxbowThreads: Map<string, number>; bench: number; machine: { busy: number; total: number } };

function cpuSnapshot(oxbowPid: number): CpuSnapshot {
  const own = process.cpuUsage();
  return { atMs: wallMs(), oxbow: cpuSeconds(oxbowPid) ?? Number.NaN, oxbowThreads: threadCpuSeconds(oxbowPid), bench: (own.user + own.system) / 1e6, machine: machineCpuSeconds() };
}

type CpuWindow = {
  seconds: number;
  /** Cores used on average (CPU seconds per wall second). */
  oxbowCores: number;
  oxbowThreads: { name: string; cores: number }[];
  producerCores: number | null;
  benchCores: number;
  machineBusyCores: number;
  /** Busy cores not accounted for by oxbow up, the producer and this process: other programs on the machine. */
  otherCores: number;
  cores: number;
};

function cpuWindow(a: CpuSnapshot, b: CpuSnapshot, producerCpuSeconds: number | null): CpuWindow {
  const s = (b.atMs - a.atMs) / 1000;
  const cores = os.availableParallelism();
  const machineBusyCores = ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cores;
  const oxbowCores = (b.oxbow - a.oxbow) / s;
  const benchCores = (b.bench - a.bench) / s;
  const producerCores = producerCpuSeconds === null ? null : producerCpuSeconds / s;
  return {
    seconds: s,
    oxbowCores,
    oxbowThreads: threadCpuDelta(a.oxbowThreads, b.oxbowThreads).map((t) => ({ name: t.name, cores: t.seconds / s })),
    producerCores,
    benchCores,
    machineBusyCores,
    otherCores: Math.max(0, machineBusyCores - oxbowCores - benchCores - (producerCores ?? 0)),
    cores,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The report

type Report = {
  date: string;
  machine: { cpus: number; node: string; kernel: string };
  options: Omit<Options, 'dir' | 'jsonFile'>;
  produced: {
    acked: number;
    good: number;
    filtered: number;
    invalidJson: number;
    schemaViolations: number;
    failed: number;
    seconds: number;
    eventsPerSecond: number;
    mbPerSecond: number;
    requests: number;
    behind: number;
    ackMs: ProducerResult['ackMs'];
    errors: string[];
  };
  queryable: {
    /** Events made queryable per second from the first poll that saw any to the poll that saw all. */
    sustainedEventsPerSecond: number;
    /** Good events / (the poll that saw all − the first send). */
    wholeRunEventsPerSecond: number;
    firstVisibleSeconds: number | null;
    allVisibleSeconds: number | null;
    atProducerEnd: number;
    /** Events made queryable per second from the first poll that saw any until the producer stopped. */
    producingEventsPerSecond: number;
    /** The rest of the good events over the time they took after the producer stopped; null when none were left. */
    drainingEventsPerSecond: number | null;
    drainSeconds: number | null;
    polls: number;
    pollErrors: number;
    firstPollError: string | null;
    countQueryMs: { p50: number; p99: number };
  };
  freshness: { probes: number; expectedProbes: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; targetMs: number };
  rss: { peakBytes: number; targetBytes: number };
  cpu: { producing: CpuWindow; draining: CpuWindow | null };
  exactness: { count: number; distinctIds: number; heartbeats: number; expected: number; stream: StreamTotals | null; streamOk: boolean; exitCode: number | null; ok: boolean };
  baseline: BaselineFigures & { ndjsonBytes: number };
  /** Oxbow sustained events/s over the baseline's rows/s. */
  ratio: number;
  limit: string;
  targets: { eventsPerSecond: boolean; freshness: boolean; rss: boolean; exactness: boolean };
  problems: string[];
  series: { seconds: number; count: number }[];
};

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const mb = (bytes: number) => `${fmt(bytes / MB)} MB`;
const secs = (ms: number) => `${fmt(ms / 1000, 1)} s`;

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function describeCpu(w: CpuWindow): string {
  const threads = w.oxbowThreads.slice(0, 4).map((t) => `${t.name} ${fmt(t.cores, 2)}`).join(', ');
  return (
    `oxbow up ${fmt(w.oxbowCores, 2)} cores (${threads}), producer ${w.producerCores === null ? 'n/a' : fmt(w.producerCores, 2)}, ` +
    `this process ${fmt(w.benchCores, 2)}, other programs ${fmt(w.otherCores, 2)}; machine ${fmt(w.machineBusyCores, 2)} of ${w.cores} cores busy`
  );
}

/** What held the rate back, from who was busy while producing and, with the producer idle, while draining. */
function limitOf(r: Pick<Report, 'cpu' | 'produced' | 'queryable' | 'options'>): string {
  const mainOf = (w: CpuWindow) => w.oxbowThreads.find((t) => t.name === 'main')?.cores ?? 0;
  const w = r.cpu.producing;
  const q = r.queryable;
  const parts: string[] = [];
  // A drain no longer than a rotation (and a poll) is the last open file waiting for its commit, not a backlog.
  const backlog = q.drainSeconds === null || q.drainSeconds > r.options.rotateMs / 1000 + 2;
  const kept = !backlog;
  parts.push(
    `while producing, the machine had ${fmt(w.machineBusyCores, 2)} of ${w.cores} cores busy: oxbow up ${fmt(w.oxbowCores, 2)} ` +
      `(its JavaScript main thread ${fmt(mainOf(w) * 100)}%), the producer ${w.producerCores === null ? 'n/a' : fmt(w.producerCores, 2)}; ` +
      (kept
        ? 'oxbow up kept up (no backlog), so the producer was the limit'
        : `oxbow up made ${fmt(q.producingEventsPerSecond)} events/s queryable against ${fmt(r.produced.eventsPerSecond)}/s produced, so a backlog built up in the raw topic`),
  );
  if (w.otherCores >= 0.2) parts.push(`other programs took ${fmt(w.otherCores, 2)} cores, so these figures are low`);
  if (r.options.rate !== null && r.produced.behind > 0.01 * r.produced.acked) parts.push(`the producer fell ${fmt(r.produced.behind)} events behind its rate`);
  const d = r.cpu.draining;
  if (!backlog) parts.push(`after the producer stopped, the last events became queryable within the rotation interval (no backlog)`);
  if (d !== null && q.drainingEventsPerSecond !== null && backlog) {
    const main = mainOf(d);
    const verdictText =
      d.machineBusyCores >= 0.9 * d.cores
        ? 'the machine was saturated'
        : main >= 0.75
          ? "oxbow up's JavaScript main thread (broker, stream job and sink share it) was the limit, with cores to spare"
          : 'no CPU was saturated: oxbow up waited (on fsync, Parquet writes or its own pacing)';
    parts.push(
      `with the producer idle, oxbow up drained ${fmt(q.drainingEventsPerSecond)} events/s using ${fmt(d.oxbowCores, 2)} cores (main thread ` +
        `${fmt(main * 100)}%) with ${fmt(d.machineBusyCores, 2)} of ${d.cores} cores busy: ${verdictText}`,
    );
  }
  return parts.join('; ');
}

function printReport(r: Report): void {
  const o = r.options;
  const p = r.produced;
  const q = r.queryable;
  const out: string[] = [''];
  out.push(`Oxbow end-to-end benchmark — ${r.date}, ${r.machine.cpus} cores, Node ${r.machine.node}, Linux ${r.machine.kernel}`);
  out.push(
    `lake: oxbow up (embedded broker, fsync always, SQLite catalog, local files), dataset events: validate, filter ${FILTER_RULE}, enrich region; ` +
      `${o.partitions} partition(s), broker.directIo ${o.directIo ?? 'auto (the default)'}, rotation ${fmt(o.rotateMs)} ms, flushSize ${fmt(o.flushSize)}`,
  );
  out.push(
    `producer: ${o.rate === null ? `flat out (cap ${fmt(o.maxRate)}/s)` : `${fmt(o.rate)}/s`} for ${o.durationS} s, acks=all, a batch every ${o.tickMs} ms ` +
      `(≤ ${fmt(o.maxBatch)} events, ≤ ${o.maxInFlight} in flight); ${fmt(p.acked)} events acknowledged in ${fmt(p.seconds, 1)} s ` +
      `(${fmt(p.eventsPerSecond)}/s, ${fmt(p.mbPerSecond, 1)} MB/s, ack p50 ${fmt(p.ackMs.p50)} ms / p99 ${fmt(p.ackMs.p99)} ms)`,
  );
  out.push(
    `events: ${fmt(p.good)} good, ${fmt(p.filtered)} filtered (${FILTERED_KIND}), ${fmt(p.invalidJson + p.schemaViolations)} malformed ` +
      `(${fmt(p.invalidJson)} not JSON, ${fmt(p.schemaViolations)} against the schema)${p.failed > 0 ? `, ${fmt(p.failed)} FAILED to send` : ''}`,
  );
  out.push('');
  const e = r.exactness;
  const rows: string[][] = [
    ['events/s produce → queryable (sustained)', fmt(q.sustainedEventsPerSecond), `≥ ${fmt(TARGET_EVENTS_PER_SECOND)}`, verdict(r.targets.eventsPerSecond)],
    ['baseline: DuckDB NDJSON → snappy Parquet, rows/s', fmt(r.baseline.rowsPerSecond), '-', '-'],
    ['Oxbow / baseline', `${fmt(r.ratio * 100, 1)}%`, '-', '-'],
    ['events/s over the whole run (from the first send)', fmt(q.wholeRunEventsPerSecond), '-', '-'],
    ['  while producing / after, draining the backlog', `${fmt(q.producingEventsPerSecond)} / ${q.drainingEventsPerSecond === null ? '-' : fmt(q.drainingEventsPerSecond)}`, '-', '-'],
    ['queryable when the producer stopped', `${fmt(q.atProducerEnd)} (${fmt((q.atProducerEnd / Math.max(1, p.good)) * 100)}%)`, '-', '-'],
    ['all good events queryable, after the producer stopped', q.drainSeconds === null ? 'never' : `${fmt(q.drainSeconds, 1)} s`, '-', '-'],
    [
      `freshness p50 / p99 (${fmt(r.freshness.probes)} of ${fmt(r.freshness.expectedProbes)} probes)`,
      `${secs(r.freshness.p50Ms)} / ${secs(r.freshness.p99Ms)}`,
      `p99 ≤ ${secs(r.freshness.targetMs)}`,
      verdict(r.targets.freshness),
    ],
    ['peak RSS of oxbow up', mb(r.rss.peakBytes), '< 1.5 GiB', verdict(r.targets.rss)],
    ['exactness: count / distinct ids = good sent', `${fmt(e.count)} / ${fmt(e.distinctIds)} = ${fmt(e.expected)}`, 'equal', verdict(r.targets.exactness)],
  ];
  out.push(...table(['measure', 'value', 'target', 'result'], rows));
  out.push(
    `  (sustained: between the first poll that saw events (${q.firstVisibleSeconds === null ? 'never' : `${fmt(q.firstVisibleSeconds, 1)} s`}) and the one that saw ` +
      `all (${q.allVisibleSeconds === null ? 'never' : `${fmt(q.allVisibleSeconds, 1)} s`}) after the first send; polls every ${o.pollMs} ms, count query p50 ` +
      `${fmt(q.countQueryMs.p50)} ms / p99 ${fmt(q.countQueryMs.p99)} ms; freshness max ${secs(r.freshness.maxMs)}, p90 ${secs(r.freshness.p90Ms)}, ` +
      `resolution ~${o.pollMs} ms)`,
  );
  out.push(
    `  (baseline: ${fmt(r.baseline.rows)} rows, ${mb(r.baseline.ndjsonBytes)} of NDJSON in ${fmt(r.baseline.seconds, 2)} s, ${o.threads} threads, ` +
      `memory_limit ${o.memoryLimit}, ${mb(r.baseline.parquetBytes)} of Parquet)`,
  );
  const s = e.stream;
  out.push(
    `  (exactness also: ${fmt(e.heartbeats)} filtered events in SQL; oxbow up's stream counters at stop: ` +
      (s === null ? 'not printed' : `${fmt(s.recordsIn)} in, ${fmt(s.processed)} processed, ${fmt(s.filtered)} filtered, ${fmt(s.deadLettered)} dead-lettered`) +
      ` ${verdict(e.streamOk)}; exit code ${e.exitCode ?? 'none'})`,
  );
  out.push('');
  out.push(`CPU while producing (${fmt(r.cpu.producing.seconds, 1)} s): ${describeCpu(r.cpu.producing)}`);
  if (r.cpu.draining !== null) out.push(`CPU while draining (${fmt(r.cpu.draining.seconds, 1)} s): ${describeCpu(r.cpu.draining)}`);
  out.push(`limit: ${r.limit}`);
  for (const problem of r.problems.slice(0, 10)) out.push(`problem: ${problem}`);
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
  const scratch = scratchDir(o.dir, 'oxbow-bench-e2e-', killChildren);
  const base = scratch.dir;
  let lake: Lake | null = null;
  let producer: Spawned | null = null;
  let rss: RssSampler | null = null;
  let watcher: Watcher | null = null;
  try {
    const configFile = path.join(base, 'oxbow.config.ts');
    writeFileSync(configFile, lakeConfigSource({ root: ROOT, rotateMs: o.rotateMs, partitions: o.partitions, flushSize: o.flushSize, directIo: o.directIo }));
    say(`starting oxbow up on ${base} ...`);
    lake = await Lake.start(path.join(base, 'data'), configFile, '1s');
    rss = new RssSampler(lake.pid, RSS_SAMPLE_MS);
    say(`  kafka ${lake.kafka}, SQL ${lake.http}, pid ${lake.pid}`);

    const job: ProducerJob = {
      address: lake.kafka,
      topic: TOPIC,
      partitions: o.partitions,
      rate: o.rate,
      maxRate: o.maxRate,
      durationMs: o.durationS * 1000,
      badRatio: o.badRatio,
      tickMs: o.tickMs,
      maxBatch: o.maxBatch,
      maxInFlight: o.maxInFlight,
    };
    producer = spawnNode([PRODUCER_SCRIPT, JSON.stringify(job)], 'producer', '  [producer] ');
    await producer.nextLine(60_000);
    say(`producing ${o.rate === null ? `flat out (cap ${fmt(o.maxRate)}/s)` : `${fmt(o.rate)}/s`} for ${o.durationS} s ...`);

    const cpu0 = cpuSnapshot(lake.pid);
    producer.child.stdin!.write('go\n');
    const goMs = wallMs();
    const watching = new Watcher(lake, o.pollMs, o.probeEvery, (seq) => fateOf(seq, o.badRatio) === 'good');
    watcher = watching;
    const { lake: running, sampler } = { lake, sampler: rss };
    // Progress while producing and draining.
    let lastProgress = goMs;
    const progress = (phase: string) => {
      const now = wallMs();
      if (now - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = now;
      say(`  [${phase}] ${fmt((now - goMs) / 1000)} s: ${fmt(watching.count)} queryable, raw lag ${fmt(running.lag ?? Number.NaN)}, RSS ${mb(sampler.lastBytes)}`);
    };
    const progressTimer = setInterval(() => progress('producing'), 250);
    let produced: ProducerResult;
    try {
      produced = JSON.parse(await producer.nextLine(o.durationS * 1000 + 120_000)) as ProducerResult;
    } finally {
      clearInterval(progressTimer);
    }
    const cpu1 = cpuSnapshot(lake.pid);
    const atProducerEnd = watcher.count;
    const expected = produced.byFate.good;
    say(`producer done: ${fmt(produced.acked)} events acknowledged, ${fmt(expected)} good; waiting until all are queryable ...`);

    const drainDeadline = wallMs() + o.drainTimeoutS * 1000;
    while (watcher.count < expected && wallMs() < drainDeadline) {
      await sleep(100);
      progress('draining');
    }
    const cpu2 = cpuSnapshot(lake.pid);
    await watcher.stop();
    rss.stop();
    const final = (await lake.query(`SELECT count(*) AS n, count(DISTINCT seq) AS ids, count(*) FILTER (WHERE kind = '${FILTERED_KIND}') AS filtered FROM events`)).rows[0] ?? [];
    say('stopping oxbow up ...');
    const lakeLog = lake.problems;
    const stopped = await lake.stop(60_000);
    lake = null;
    await stopChild(producer.child, 5000);

    // The figures of the lake.
    const firstVisible = watcher.firstReaching(1);
    const allVisible = watcher.firstReaching(Math.max(1, expected));
    // If not all became queryable in time, the rate runs to the last poll.
    const lastVisible = allVisible ?? watcher.samples.at(-1);
    const startMs = produced.startMs;
    const sustained =
      firstVisible !== undefined && lastVisible !== undefined && lastVisible.atMs > firstVisible.atMs
        ? (lastVisible.count - firstVisible.count) / ((lastVisible.atMs - firstVisible.atMs) / 1000)
        : Number.NaN;
    const freshness = [...watcher.freshnessMs].sort((a, b) => a - b);
    const queryMs = watcher.samples.map((s) => s.queryMs).filter((m) => Number.isFinite(m)).sort((a, b) => a - b);
    const count = Number(final[0] ?? Number.NaN);
    const distinctIds = Number(final[1] ?? Number.NaN);
    const heartbeats = Number(final[2] ?? Number.NaN);
    const malformed = produced.byFate['invalid-json'] + produced.byFate['schema-violation'];
    const t = stopped.totals;
    const streamOk = t !== null && t.recordsIn === produced.acked && t.processed === expected && t.filtered === produced.byFate.filtered && t.deadLettered === malformed;
    const exact = produced.failed === 0 && count === expected && distinctIds === expected && heartbeats === 0 && streamOk && stopped.exitCode === 0;
    const problems = [...produced.errors, ...lakeProblems(stopped, watcher), ...lakeLog];

    // The baseline, with oxbow up gone: the same good events as NDJSON, straight to Parquet.
    say(`baseline: DuckDB COPY of ${fmt(expected)} events from NDJSON to Parquet ...`);
    const ndjson = path.join(base, 'events.ndjson');
    const written = writeGoodEvents(ndjson, produced.acked, o.badRatio, startMs, o.durationS * 1000);
    const parquet = path.join(base, 'events.parquet');
    const baseline = await duckdbBaseline(ndjson, parquet, o.threads, o.memoryLimit);
    if (baseline.rows !== written.rows) problems.push(`the baseline wrote ${baseline.rows} rows of ${written.rows}`);
    say(`  ${fmt(baseline.rowsPerSecond)} rows/s (${fmt(baseline.seconds, 2)} s)`);

    const producing = cpuWindow(cpu0, cpu1, produced.cpuSeconds);
    const freshnessTargetMs = o.rotateMs + TARGET_FRESHNESS_SLACK_MS;
    const { dir: _dir, jsonFile: _json, ...shown } = o;
    const partial: Pick<Report, 'cpu' | 'produced' | 'queryable' | 'options'> = {
      options: shown,
      produced: {
        acked: produced.acked,
        good: expected,
        filtered: produced.byFate.filtered,
        invalidJson: produced.byFate['invalid-json'],
        schemaViolations: produced.byFate['schema-violation'],
        failed: produced.failed,
        seconds: (produced.endMs - produced.startMs) / 1000,
        eventsPerSecond: produced.acked / ((produced.endMs - produced.startMs) / 1000),
        mbPerSecond: produced.bytes / MB / ((produced.endMs - produced.startMs) / 1000),
        requests: produced.requests,
        behind: produced.behind,
        ackMs: produced.ackMs,
        errors: produced.errors,
      },
      queryable: {
        sustainedEventsPerSecond: sustained,
        wholeRunEventsPerSecond: allVisible === undefined ? Number.NaN : expected / ((allVisible.atMs - startMs) / 1000),
        firstVisibleSeconds: firstVisible === undefined ? null : (firstVisible.atMs - startMs) / 1000,
        allVisibleSeconds: allVisible === undefined ? null : (allVisible.atMs - startMs) / 1000,
        atProducerEnd,
        producingEventsPerSecond:
          firstVisible !== undefined && produced.endMs > firstVisible.atMs ? (atProducerEnd - firstVisible.count) / ((produced.endMs - firstVisible.atMs) / 1000) : Number.NaN,
        drainingEventsPerSecond:
          lastVisible !== undefined && lastVisible.atMs - produced.endMs >= 1000 ? (lastVisible.count - atProducerEnd) / ((lastVisible.atMs - produced.endMs) / 1000) : null,
        drainSeconds: allVisible === undefined ? null : Math.max(0, (allVisible.atMs - produced.endMs) / 1000),
        polls: watcher.samples.length,
        pollErrors: watcher.queryErrors,
        firstPollError: watcher.firstError,
        countQueryMs: { p50: percentile(queryMs, 50), p99: percentile(queryMs, 99) },
      },
      cpu: { producing, draining: cpu2.atMs - cpu1.atMs >= 1000 ? cpuWindow(cpu1, cpu2, null) : null },
    };
    let expectedProbes = 0;
    for (let seq = 0; seq < produced.acked; seq += o.probeEvery) if (fateOf(seq, o.badRatio) === 'good') expectedProbes++;
    const report: Report = {
      date: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), node: process.versions.node, kernel: os.release() },
      ...partial,
      freshness: {
        probes: freshness.length,
        expectedProbes,
        p50Ms: percentile(freshness, 50),
        p90Ms: percentile(freshness, 90),
        p99Ms: percentile(freshness, 99),
        maxMs: freshness.at(-1) ?? Number.NaN,
        targetMs: freshnessTargetMs,
      },
      rss: { peakBytes: rss.peakBytes, targetBytes: TARGET_RSS_BYTES },
      exactness: { count, distinctIds, heartbeats, expected, stream: t, streamOk, exitCode: stopped.exitCode, ok: exact },
      baseline: { ...baseline, ndjsonBytes: written.bytes },
      ratio: sustained / baseline.rowsPerSecond,
      limit: limitOf(partial),
      targets: {
        eventsPerSecond: sustained >= TARGET_EVENTS_PER_SECOND,
        freshness: freshness.length > 0 && percentile(freshness, 99) <= freshnessTargetMs,
        rss: rss.peakBytes < TARGET_RSS_BYTES,
        exactness: exact,
      },
      problems,
      series: watcher.samples.map((x) => ({ seconds: (x.atMs - startMs) / 1000, count: x.count })),
    };
    printReport(report);
    if (o.jsonFile !== null) writeFileSync(o.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    return exact ? 0 : 1;
  } finally {
    rss?.stop();
    await watcher?.stop();
    if (lake !== null) await lake.stop(10_000);
    if (producer !== null) await stopChild(producer.child, 5000);
    scratch.release();
  }
}

/** What went wrong in the lake, for the report: a bad exit, problem lines from its log. */
function lakeProblems(stopped: { exitCode: number | null; stderrTail: string }, watcher: Watcher): string[] {
  const out: string[] = [];
  if (stopped.exitCode !== 0) out.push(`oxbow up exited with ${stopped.exitCode}: ${stopped.stderrTail.split('\n').slice(-5).join(' | ')}`);
  if (watcher.queryErrors > 0 && watcher.count === 0) out.push(`no SQL poll succeeded: ${watcher.firstError}`);
  return out;
}

process.exitCode = await main();
