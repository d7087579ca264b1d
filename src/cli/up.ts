// `oxbow up`: runs the lake in one process on embedded defaults (the broker, a stream worker and a sink per dataset,
// the catalog with its crawler, the SQL endpoints) and prints its endpoints.
import { Broker } from '../broker/index.ts';
import { CrawlScheduler, lakeTables, openCatalog, type CatalogStore } from '../catalog/index.ts';
import { engineFromConfig, lakeExecutor, PgWireServer, SqlHttpServer, type LakeEngine } from '../query/index.ts';
import { loadConfig, parseDurationMs, SETTINGS, type OxbowConfig, type OxbowConfigInput } from '../config/index.ts';
import { sinkSummary, SinkThread } from '../sink/index.ts';
import { openObjectStore } from '../storage/index.ts';
import { streamSettings, StreamThread } from '../stream/index.ts';
import { parse, settingFlag, usageError } from './args.ts';
import { runUntilSignal } from './service.ts';

const USAGE = `Usage: oxbow up [--config <file>] [--data-dir <dir>] [--kafka-port <n>] [--http-port <n>] [--pg-port <n>]

Runs every role of the lake in this process with embedded defaults and prints the endpoints: the embedded Kafka
broker (or none when kafka.brokers names an external cluster); per dataset declared in the config a stream worker and
a lake sink writing the golden zone; the catalog, crawled every catalog.crawlIntervalMs and after each sink commit;
and SQL over HTTP (POST /v1/sql) and the PostgreSQL wire protocol (psql, BI tools). SIGTERM or SIGINT stops the SQL
endpoints, the stream workers (outputs in flight are finished and committed), the sinks (open files are committed),
the crawler and then the broker.
  --config <file>     lake declaration (default ./oxbow.config.ts when present)
  --data-dir <dir>    root of all state: <dir>/broker, and <dir>/stream, <dir>/lake, <dir>/sink, <dir>/catalog.db
                      and <dir>/query-cache unless the config sets stream.stateDir, storage.url, sink.workDir,
                      catalog.url or query.cacheDir (default ./data)
  --kafka-port <n>    port of the embedded Kafka broker (default 9092; 0 picks a free port)
  --http-port <n>     port of the HTTP SQL endpoint (default 8686; 0 picks a free port)
  --pg-port <n>       port of the PostgreSQL wire endpoint (default 5433; 0 picks a free port)
  --status-every <d>  how often a status line per dataset is printed: records in, processed, filtered, dead-lettered,
                      lag, files committed, last commit, thread restarts if any (default 1s on a terminal, where it
                      refreshes in place; 30s in a log; 0 turns it off)`;

/** Width of the endpoint names in the printed list, so their values line up. */
const LABEL_WIDTH = 9;

const defaultOf = (key: string) => SETTINGS.find((s) => s.key === key)?.default;

export async function up(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { config: { type: 'string' }, 'data-dir': { type: 'string' }, 'kafka-port': { type: 'string' }, 'http-port': { type: 'string' }, 'pg-port': { type: 'string' }, 'status-every': { type: 'string' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`up takes no arguments, got ${JSON.stringify(positionals[0])}`, USAGE);
  const dataDir = (values['data-dir'] as string | undefined) ?? './data';
  const tty = process.stderr.isTTY === true;
  const everyRaw = values['status-every'] as string | undefined;
  const statusEveryMs = everyRaw === undefined ? (tty ? 1000 : 30_000) : parseDurationMs(/^\d+$/.test(everyRaw) ? Number(everyRaw) : everyRaw);
  if (statusEveryMs === null || statusEveryMs < 0) throw usageError(`--status-every: ${JSON.stringify(everyRaw)} is not allowed; expected a duration such as 5s, or 0`, USAGE);
  const overrides: OxbowConfigInput = {
    broker: { port: settingFlag(values['kafka-port']), dataDir: `${dataDir}/broker` },
    server: { httpPort: settingFlag(values['http-port']), pgPort: settingFlag(values['pg-port']) },
  };
  const config = await loadConfig({ file: values.config as string | undefined, overrides });
  // The status files follow the data directory unless the config put them somewhere of its own.
  const stateDir = config.stream.stateDir === defaultOf('stream.stateDir') ? `${dataDir}/stream` : config.stream.stateDir;
  const storageUrl = config.storage.url === defaultOf('storage.url') ? `${dataDir}/lake` : config.storage.url;
  const workDir = config.sink.workDir === defaultOf('sink.workDir') ? `${dataDir}/sink` : config.sink.workDir;
  const catalogUrl = config.catalog.url === defaultOf('catalog.url') ? `${dataDir}/catalog.db` : config.catalog.url;
  const cacheDir = config.query.cacheDir === defaultOf('query.cacheDir') ? `${dataDir}/query-cache` : config.query.cacheDir;
  const store = await openObjectStore(storageUrl);
  let catalog: CatalogStore;
  try {
    catalog = await openCatalog(catalogUrl);
  } catch (err) {
    await store.close();
    throw err;
  }
  const log = (role: string) => (text: string) => process.stderr.write(`${new Date().toISOString()} ${role}: ${text}\n`);
  const crawler = new CrawlScheduler({ catalog, store, namespace: config.catalog.namespace, tables: lakeTables(config), intervalMs: config.catalog.crawlIntervalMs, log: log('catalog') });
  void crawler.crawlNow();

  const external = config.kafka.brokers.length > 0;
  const broker = external ? null : await Broker.start(config.broker);
  const brokers = broker ? [broker.address] : config.kafka.brokers;
  let workers: StreamThread[] = [];
  let sinks: SinkThread[] = [];
  let engine: LakeEngine | null = null;
  let http: SqlHttpServer | null = null;
  let pg: PgWireServer | null = null;
  try {
    workers = await startWorkers(config, values.config as string | undefined, brokers, stateDir);
    sinks = await startSinks(config, brokers, storageUrl, workDir, () => crawler.crawlSoon());
    engine = await engineFromConfig(config, catalog, store, cacheDir);
    http = await SqlHttpServer.start({ engine, host: config.server.host, port: config.server.httpPort, log: log('http') });
    pg = await PgWireServer.start({ executor: lakeExecutor(engine), host: config.server.host, port: config.server.pgPort, log: log('postgres') });
  } catch (err) {
    await http?.close();
    engine?.close();
    await stopWorkers(workers);
    await stopSinks(sinks);
    await crawler.close();
    await broker?.close();
    await catalog.close();
    await store.close();
    throw err;
  }

  const line = (label: string, value: string) => `  ${label.padEnd(LABEL_WIDTH)}${value}`;
  const kafka = broker
    ? line('kafka', `${broker.address}    (bootstrap server for any Kafka client; try: kcat -b ${broker.address} -L)`)
    : line('kafka', `${brokers.join(',')}    (external cluster from kafka.brokers; no embedded broker)`);
  const streams = workers.length === 0
    ? [line('stream', `no datasets declared; declare them in ${(values.config as string | undefined) ?? 'oxbow.config.ts'} with defineLake({ datasets: {...} }), see docs/stream.md`)]
    : workers.map((w) => {
        const t = w.dataset.topics;
        return line('stream', `${w.dataset.name}: ${t.raw} → ${t.processed} (dead letters: ${t.dlq})`);
      });
  const lake = line('lake', `${store.url}    (golden zone: golden/<topic>/YYYY/MM/DD/HH/; try: oxbow lake ls <dataset> --storage ${storageUrl})`);
  const catalogLine = line('catalog', `${catalog.url}    (crawled every ${config.catalog.crawlIntervalMs} ms and after each sink commit)`);
  const httpLine = line('http', `http://${http.address}/v1/sql    (try: curl -s http://${http.address}/v1/sql -d '{"sql":"SELECT 42"}')`);
  const pgLine = line('postgres', `${pg.address}    (try: psql -h ${config.server.host} -p ${pg.port} -c 'SELECT 42')`);
  const readyText = ['Oxbow is up.', kafka, ...streams, lake, catalogLine, httpLine, pgLine, line('data', dataDir), 'Press Ctrl-C to stop.', ''].join('\n');

  const running = { http, pg, engine };
  // A status line per dataset: on a terminal it refreshes in place; in a log, it is a line of its own.
  const statusTimer =
    statusEveryMs === 0
      ? undefined
      : setInterval(() => {
          const text = statusLines(workers, sinks);
          if (text.length === 0) return;
          process.stderr.write(tty ? `\r\x1b[K${text.join(' │ ')}` : `${new Date().toISOString()} status: ${text.join(' │ ')}\n`);
        }, statusEveryMs);
  return runUntilSignal(readyText, async () => {
    clearInterval(statusTimer);
    if (tty) process.stderr.write('\n');
    // Queries first; then the workers: they finish their outputs and commit through the broker, which must still be
    // there; then the sinks, which commit what the workers produced last; then a last crawl sees those files.
    await running.http.close();
    await running.pg.close();
    running.engine.close();
    await stopWorkers(workers);
    await stopSinks(sinks);
    await crawler.crawlNow();
    await crawler.close();
    await broker?.close();
    await catalog.close();
    await store.close();
  });
}

const count = (n: number) => n.toLocaleString('en-US');

/** Per dataset: records in, processed, filtered, dead-lettered, raw lag, files committed, and how long since the last commit. */
export function statusLines(workers: readonly Pick<StreamThread, 'dataset' | 'counters' | 'status' | 'restarts'>[], sinks: readonly SinkThread[], now = Date.now()): string[] {
  return workers.map((w) => {
    const c = w.counters;
    const filtered = Object.values(c.filtered).reduce((a, b) => a + b, 0);
    const dead = Object.values(c.deadLettered).reduce((a, b) => a + b, 0);
    const lags = w.status().lag.map((l) => l.lag).filter((l): l is number => l !== null);
    const sink = sinks.find((s) => s.dataset.name === w.dataset.name);
    const files = sink === undefined ? 0 : sink.counters.filesCommitted;
    const last = sink?.counters.lastCommitAtMs ?? null;
    const fresh = last === null ? 'no commit yet' : `last commit ${((now - last) / 1000).toFixed(1)} s ago`;
    const lag = lags.length === 0 ? '?' : count(lags.reduce((a, b) => a + b, 0));
    // Counts start again from zero when a thread is started again; the line says so.
    const restarts = [
      ...(w.restarts > 0 ? [`stream restarted ${w.restarts}×`] : []),
      ...(sink !== undefined && sink.restarts > 0 ? [`sink restarted ${sink.restarts}×`] : []),
    ];
    return `${w.dataset.name}: ${count(c.recordsIn)} in, ${count(c.processed)} processed, ${count(filtered)} filtered, ${count(dead)} dead, lag ${lag}, ${count(files)} files, ${fresh}${restarts.map((r) => `, ${r}`).join('')}`;
  });
}

function sinkLog(dataset: string): (line: string) => void {
  return (line) => process.stderr.write(`${new Date().toISOString()} sink ${dataset}: ${line}\n`);
}

/** One sink per dataset, each on a thread of its own; if one cannot start, those already started are stopped. */
async function startSinks(config: OxbowConfig, brokers: string[], storageUrl: string, workDir: string, onCommit: () => void): Promise<SinkThread[]> {
  const { datasets, ...rest } = config;
  const started = await Promise.allSettled(
    Object.values(datasets).map((d) =>
      SinkThread.start(
        { config: rest, dataset: { name: d.name, topics: d.topics, schema: d.schema, eventTimeField: d.eventTimeField }, brokers, storageUrl, workDir },
        sinkLog(d.name),
        onCommit,
      ),
    ),
  );
  const sinks = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stopSinks(sinks);
    throw failed.reason;
  }
  return sinks;
}

async function stopSinks(sinks: SinkThread[]): Promise<void> {
  await Promise.all(
    sinks.map(async (s) => {
      await s.close();
      sinkLog(s.dataset.name)(`stopped: ${sinkSummary(s)}`);
    }),
  );
}

function workerLog(dataset: string): (line: string) => void {
  return (line) => process.stderr.write(`${new Date().toISOString()} stream ${dataset}: ${line}\n`);
}

/**
 * One worker per dataset, each on a thread of its own that loads the configuration again (steps are functions and
 * stay in the thread that loaded them); if one cannot start (a lookup file that does not load), those already started
 * are stopped.
 */
async function startWorkers(config: OxbowConfig, configFile: string | undefined, brokers: string[], stateDir: string): Promise<StreamThread[]> {
  const started = await Promise.allSettled(
    Object.values(config.datasets).map((dataset) =>
      StreamThread.start(
        {
          configFile,
          cwd: process.cwd(),
          dataset: dataset.name,
          options: {
            brokers,
            clientId: config.kafka.clientId,
            stateDir,
            ...streamSettings(config.stream),
            configSource: { configFile, cwd: process.cwd() },
          },
        },
        workerLog(dataset.name),
      ),
    ),
  );
  const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stopWorkers(workers);
    throw failed.reason;
  }
  return workers;
}

async function stopWorkers(workers: StreamThread[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      await w.close();
      const c = w.counters;
      const filtered = Object.values(c.filtered).reduce((a, b) => a + b, 0);
      const dead = Object.values(c.deadLettered).reduce((a, b) => a + b, 0);
      workerLog(w.dataset.name)(`stopped: ${c.recordsIn} in, ${c.processed} processed, ${filtered} filtered, ${dead} dead-lettered`);
    }),
  );
}
