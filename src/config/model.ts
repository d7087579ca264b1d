// The configuration model: every setting with its type, default and allowed values, validated once at start.
import { resolveDatasets, type DatasetDeclaration, type ResolvedDataset } from '../stream/index.ts';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import { parseBytes, parseDurationMs } from './units.ts';

export type FsyncPolicy = { mode: 'always' } | { mode: 'interval'; intervalMs: number } | { mode: 'os' };

export type BrokerConfig = {
  /** Address the broker listens on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Host name clients are told to connect to (Metadata, FindCoordinator). */
  advertisedHost: string;
  nodeId: number;
  /** Where partition logs and committed offsets live. */
  dataDir: string;
  /** Create a topic the first time a client asks for it (Metadata with auto-create, Produce). */
  autoCreateTopics: boolean;
  defaultPartitions: number;
  /** Largest request frame accepted; a larger one closes that connection. */
  maxRequestBytes: number;
  segmentBytes: number;
  retentionMs: number;
  retentionBytes: number;
  maxMessageBytes: number;
  indexIntervalBytes: number;
  fsync: FsyncPolicy;
  /** `os`: leave the page cache to the OS; `recent`: drop the page cache of segments older than the newest sealed one (Linux). */
  pageCache: 'os' | 'recent';
  /** Appends written with O_DIRECT from aligned staging memory: `auto` under fsync=always where the file system takes it. */
  directIo: 'auto' | 'on' | 'off';
  retentionCheckIntervalMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** Close a connection that has sent nothing for this long. */
  connectionsMaxIdleMs: number;
};

export type OxbowConfig = {
  broker: BrokerConfig;
  kafka: {
    /** Bootstrap servers of an external Kafka cluster; empty means the embedded broker. */
    brokers: string[];
    clientId: string;
  };
  stream: {
    /** Directory where stream workers write their status files (`<stateDir>/<dataset>/<workerId>.json`). */
    stateDir: string;
    /** A worker that sends no heartbeat for this long leaves the group, and its partitions go to the others. */
    sessionTimeoutMs: number;
    /** Records a worker holds between reading them and committing their offsets; it stops reading at this many. */
    maxInFlightRecords: number;
    /** Bytes of raw values a worker holds between reading and committing; it stops reading at this many. */
    maxInFlightBytes: number;
    /** How often a worker commits the offsets of records whose outputs are acknowledged. */
    offsetCommitIntervalMs: number;
    /** Partitions of a dataset's raw topic when a stream worker creates it. */
    topicPartitions: number;
    /** Threads that run a worker's steps beside the thread that reads and writes Kafka; 0 runs them on that thread. */
    stepThreads: number;
  };
  storage: {
    /** Root of the lake: a directory (a plain path or file:///…) or s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=true. */
    url: string;
  };
  sink: {
    /** Local directory where Parquet files are written before they are made visible in storage. */
    workDir: string;
    pathFormat: string;
    granularity: 'year' | 'month' | 'day' | 'hour';
    timeZone: string;
    /** Top-level fields whose values become `field=value/` directories before the time segments. */
    fieldPartitions: string[];
    flushSize: number;
    /** 0: no event-time span rule. */
    rotateIntervalMs: number;
    /** 0: no wall-clock rule. */
    rotateScheduleIntervalMs: number;
    compression: 'snappy' | 'zstd' | 'gzip';
    maxBufferedBytes: number;
    writerMemoryLimit: string;
    writerThreads: number;
    sessionTimeoutMs: number;
    offsetCommitIntervalMs: number;
  };
  catalog: {
    /** A SQLite file (a path or sqlite:path) or a PostgreSQL URL (postgres://…). */
    url: string;
    /** The namespace (schema) of the lake's tables. */
    namespace: string;
    /** How often the crawler runs under `oxbow up`; 0 only by command. */
    crawlIntervalMs: number;
  };
  server: {
    /** Address the HTTP and PostgreSQL endpoints of `oxbow up` listen on. */
    host: string;
    httpPort: number;
    pgPort: number;
  };
  query: {
    threads: number;
    memoryLimit: string;
    timeoutMs: number;
    maxRows: number;
    /** Where objects of a remote lake are staged before DuckDB reads them. */
    cacheDir: string;
    cacheBytes: number;
  };
  /** Datasets by name, each with its topics, schemas and pipeline steps (see docs/stream.md). */
  datasets: Record<string, ResolvedDataset>;
};

/** What a user may write: every key optional, durations and sizes in human units. */
export type OxbowConfigInput = {
  broker?: { [K in keyof BrokerConfig]?: (K extends 'fsync' ? 'always' | 'os' | string | number : BrokerConfig[K] | string) | undefined };
  kafka?: { brokers?: string[] | string | undefined; clientId?: string | undefined };
  stream?: { [K in keyof OxbowConfig['stream']]?: OxbowConfig['stream'][K] | string | undefined };
  storage?: { url?: string | undefined };
  sink?: { [K in keyof OxbowConfig['sink']]?: OxbowConfig['sink'][K] | string | undefined };
  catalog?: { [K in keyof OxbowConfig['catalog']]?: OxbowConfig['catalog'][K] | string | undefined };
  query?: { [K in keyof OxbowConfig['query']]?: OxbowConfig['query'][K] | string | undefined };
  server?: { [K in keyof OxbowConfig['server']]?: OxbowConfig['server'][K] | string | undefined };
  datasets?: Record<string, DatasetDeclaration | undefined>;
};

/** The section holding dataset declarations; checked by resolveDatasets (src/stream), not by SETTINGS. */
const DATASETS_SECTION = 'datasets';

type Setting = {
  key: string;
  default: unknown;
  parse: (v: unknown) => { ok: true; value: unknown } | { ok: false; allowed: string };
  doc: string;
};

const int = (min: number, max: number) => (v: unknown) => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max
    ? ({ ok: true, value: n } as const)
    : ({ ok: false, allowed: `an integer from ${min} to ${max}` } as const);
};
const duration = (min: number, allowForever = false) => (v: unknown) => {
  const n = parseDurationMs(v);
  if (n !== null && allowForever && n === -1) return { ok: true, value: -1 } as const;
  return n !== null && Number.isInteger(n) && n >= min
    ? ({ ok: true, value: n } as const)
    : ({ ok: false, allowed: `a duration of at least ${min} ms (a number of ms, or e.g. "500ms", "30s", "7d")${allowForever ? ', or -1 for forever' : ''}` } as const);
};
const size = (min: number, max: number, allowUnlimited = false) => (v: unknown) => {
  const n = parseBytes(v);
  if (n !== null && allowUnlimited && n === -1) return { ok: true, value: -1 } as const;
  return n !== null && Number.isInteger(n) && n >= min && n <= max
    ? ({ ok: true, value: n } as const)
    : ({ ok: false, allowed: `a size from ${min} to ${max} bytes (a number, or e.g. "512KiB", "1GiB")${allowUnlimited ? ', or -1 for unlimited' : ''}` } as const);
};
const bool = (v: unknown) =>
  typeof v === 'boolean' ? ({ ok: true, value: v } as const)
  : v === 'true' || v === 'false' ? ({ ok: true, value: v === 'true' } as const)
  : ({ ok: false, allowed: 'true or false' } as const);
const text = (pattern: RegExp, allowed: string) => (v: unknown) =>
  typeof v === 'string' && pattern.test(v) ? ({ ok: true, value: v } as const) : ({ ok: false, allowed } as const);
const fsync = (v: unknown) => {
  if (v === 'always' || v === 'os') return { ok: true, value: { mode: v } } as const;
  const n = parseDurationMs(v);
  if (n !== null && Number.isInteger(n) && n >= 1) return { ok: true, value: { mode: 'interval', intervalMs: n } } as const;
  return { ok: false, allowed: '"always" (fsync every write), "os" (leave it to the OS), or an interval such as "200ms"' } as const;
};
const oneOf = <T extends string>(values: readonly T[]) => (v: unknown) =>
  typeof v === 'string' && (values as readonly string[]).includes(v) ? ({ ok: true, value: v } as const) : ({ ok: false, allowed: `one of ${values.map((x) => `"${x}"`).join(', ')}` } as const);
const nameList = (v: unknown) => {
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
  return Array.isArray(list) && list.every((s) => typeof s === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(s))
    ? ({ ok: true, value: list } as const)
    : ({ ok: false, allowed: 'a list of field names (letters, digits, "_"), or one comma-separated string' } as const);
};
const hostList = (v: unknown) => {
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
  return Array.isArray(list) && list.every((s) => typeof s === 'string' && /^[^:\s]+:\d{1,5}$/.test(s))
    ? ({ ok: true, value: list } as const)
    : ({ ok: false, allowed: 'a list of host:port strings (or one comma-separated string)' } as const);
};

export const SETTINGS: readonly Setting[] = [
  { key: 'broker.host', default: '127.0.0.1', parse: text(/^[\w.:-]+$/, 'a host name or IP address'), doc: 'Address the embedded broker listens on.' },
  { key: 'broker.port', default: 9092, parse: int(0, 65535), doc: 'TCP port of the embedded broker; 0 picks a free one.' },
  { key: 'broker.advertisedHost', default: '', parse: text(/^[\w.:-]*$/, 'a host name or IP address'), doc: 'Host clients are told to connect to; defaults to `broker.host` (or 127.0.0.1 when listening on all addresses).' },
  { key: 'broker.nodeId', default: 1, parse: int(0, 2 ** 31 - 1), doc: 'Node id reported in Metadata.' },
  { key: 'broker.dataDir', default: './data/broker', parse: text(/^.+$/, 'a directory path'), doc: 'Directory for partition logs and committed offsets.' },
  { key: 'broker.autoCreateTopics', default: true, parse: bool, doc: 'Create unknown topics on Metadata (when the client allows it) and Produce.' },
  { key: 'broker.defaultPartitions', default: 1, parse: int(1, 10_000), doc: 'Partitions of an auto-created topic.' },
  { key: 'broker.maxRequestBytes', default: 100 * 1024 * 1024, parse: size(1024, 2 ** 31 - 1), doc: 'Largest request frame; a larger one closes the connection.' },
  { key: 'broker.segmentBytes', default: 128 * 1024 ** 2, parse: size(1024, 2 ** 31 - 1), doc: 'Size at which a partition log rolls to a new segment (`segment.bytes`).' },
  { key: 'broker.retentionMs', default: 7 * 86_400_000, parse: duration(1, true), doc: 'Delete segments older than this (`retention.ms`); -1 keeps forever.' },
  { key: 'broker.retentionBytes', default: -1, parse: size(1, 2 ** 53, true), doc: 'Delete oldest segments while a partition is larger (`retention.bytes`); -1 is unlimited.' },
  { key: 'broker.maxMessageBytes', default: 1024 * 1024 + 12, parse: size(64, 2 ** 31 - 1), doc: 'Largest record batch accepted (`max.message.bytes`).' },
  { key: 'broker.indexIntervalBytes', default: 4096, parse: size(1, 2 ** 31 - 1), doc: 'Bytes of log between offset index entries.' },
  { key: 'broker.fsync', default: 'always', parse: fsync, doc: 'When writes reach the disk: `always` before they are acknowledged (one fdatasync covers every write made before it starts); an interval like `200ms` flushes in the background, so a machine crash can lose up to that much of acknowledged data; `os` leaves it to the operating system. A failed flush stops the partition taking writes until the broker restarts and checks the log.' },
  { key: 'broker.directIo', default: 'auto', parse: oneOf(['auto', 'on', 'off'] as const), doc: "How appends reach the log files. `on`: copied into page-aligned staging memory and written with direct I/O (`O_DIRECT`), bypassing the page cache, which on the virtual machines measured about halved the broker's CPU time per produced byte; consumers then read new data from the disk rather than from memory. `off`: written through the page cache. `auto` (the default): direct under `fsync: always` when the data directory's file system takes it (some, such as ramfs, refuse it; the broker then logs a line saying so), through the page cache otherwise. `on` fails at start when the file system refuses direct I/O." },
  { key: 'broker.pageCache', default: 'os', parse: oneOf(['os', 'recent'] as const), doc: "`os` leaves the page cache to the operating system. `recent`: once a partition seals a segment, the page cache of the segments before the one just sealed is dropped (Linux, with coreutils' `dd`), so the log keeps about two segments per partition in memory and new writes reuse the memory freed; on some virtual machines that hand free memory back to their host this made writes faster, on others it makes produce latency spike and consumers that are behind read from disk (see docs/benchmarks.md)." },
  { key: 'broker.retentionCheckIntervalMs', default: 60_000, parse: duration(10), doc: 'How often retention runs.' },
  { key: 'broker.groupInitialRebalanceDelayMs', default: 0, parse: duration(0), doc: 'Wait for more members before the first rebalance of an empty group.' },
  { key: 'broker.groupMinSessionTimeoutMs', default: 6000, parse: duration(1), doc: 'Smallest session timeout a consumer may ask for.' },
  { key: 'broker.groupMaxSessionTimeoutMs', default: 1_800_000, parse: duration(1), doc: 'Largest session timeout a consumer may ask for.' },
  { key: 'broker.connectionsMaxIdleMs', default: 600_000, parse: duration(1000), doc: 'Close connections idle for this long.' },
  { key: 'kafka.brokers', default: [], parse: hostList, doc: 'Bootstrap servers of an external Kafka cluster; empty uses the embedded broker.' },
  { key: 'kafka.clientId', default: 'oxbow', parse: text(/^[\w.-]+$/, 'letters, digits, ".", "_" or "-"'), doc: "Client id of Oxbow's own Kafka clients." },
  { key: 'stream.stateDir', default: './data/stream', parse: text(/^.+$/, 'a directory path'), doc: 'Directory where each stream worker writes its status file every second (`<stateDir>/<dataset>/<workerId>.json`).' },
  { key: 'stream.sessionTimeoutMs', default: 10_000, parse: duration(1000), doc: "A stream worker silent for this long leaves its dataset's consumer group and its partitions move to the other workers." },
  { key: 'stream.maxInFlightRecords', default: 20_000, parse: int(1, 10_000_000), doc: 'Records a stream worker holds between reading and committing them; at this many it stops reading until outputs are acknowledged.' },
  { key: 'stream.maxInFlightBytes', default: 64 * 1024 ** 2, parse: size(1024, 2 ** 40), doc: 'Bytes of raw records a stream worker holds between reading and committing them; at this many it stops reading.' },
  { key: 'stream.offsetCommitIntervalMs', default: 1000, parse: duration(10), doc: 'How often a stream worker commits the offsets of records whose outputs are all acknowledged.' },
  { key: 'stream.stepThreads', default: 1, parse: int(0, 64), doc: "Threads on which a stream worker runs its dataset's steps (parse, validate, filter, enrich, lookup) while its own thread reads and writes Kafka; each loads the configuration file itself. 0 runs the steps on the worker's thread." },
  { key: 'stream.topicPartitions', default: 1, parse: int(1, 10_000), doc: "Partitions of a dataset's raw topic when a stream worker creates it (processed and dlq get the raw topic's count); partitions are processed and written in parallel, and order is kept per key." },
  { key: 'storage.url', default: './data/lake', parse: text(/^\S.*$/, 'a directory, file:///dir, or s3://bucket/prefix?endpoint=…'), doc: 'Root of the lake (the golden zone lives under `golden/`): a local directory, or `s3://bucket/prefix` with `endpoint`, `region` and `forcePathStyle` parameters; S3 credentials come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.' },
  { key: 'sink.workDir', default: './data/sink', parse: text(/^.+$/, 'a directory path'), doc: 'Local directory where the sink writes Parquet files before it makes them visible in storage.' },
  { key: 'sink.pathFormat', default: 'default', parse: text(/^.+$/, '"default", "hive" or a format such as "golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/"'), doc: 'Directory of a record in the lake: `default` (`golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/`), `hive` (`year=…/month=…`) or a format (docs/sink.md).' },
  { key: 'sink.granularity', default: 'hour', parse: oneOf(['year', 'month', 'day', 'hour'] as const), doc: 'How much event time one lake partition holds.' },
  { key: 'sink.timeZone', default: 'UTC', parse: text(/^[\w/+-]+$/, 'an IANA time zone name such as "UTC" or "Europe/Berlin"'), doc: 'Time zone whose calendar names the partitions.' },
  { key: 'sink.fieldPartitions', default: [], parse: nameList, doc: 'Top-level fields whose values become `field=value/` directories before the time segments.' },
  { key: 'sink.flushSize', default: 100_000, parse: int(1, 100_000_000), doc: 'A file is committed once it holds this many records.' },
  { key: 'sink.rotateIntervalMs', default: 0, parse: duration(0), doc: 'A file is committed once the event times in it span this long; 0 turns the rule off.' },
  { key: 'sink.rotateScheduleIntervalMs', default: 60_000, parse: duration(0), doc: 'A file is committed this long (wall clock) after its first record, even when no more records arrive; 0 turns the rule off.' },
  { key: 'sink.compression', default: 'snappy', parse: oneOf(['snappy', 'zstd', 'gzip'] as const), doc: 'Parquet compression codec.' },
  { key: 'sink.maxBufferedBytes', default: 64 * 1024 ** 2, parse: size(1024, 2 ** 40), doc: 'Record bytes a sink holds in memory across all partitions; at this many it commits the largest unit early and stops reading until storage catches up.' },
  { key: 'sink.writerMemoryLimit', default: '192MB', parse: text(/^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/, 'a size such as "512MB"'), doc: 'Memory limit of the DuckDB instance that writes Parquet files.' },
  { key: 'sink.writerThreads', default: 1, parse: int(1, 256), doc: 'Threads of the DuckDB instance that writes Parquet files; its two connections write two files side by side in any case.' },
  { key: 'sink.sessionTimeoutMs', default: 10_000, parse: duration(1000), doc: "A sink silent for this long leaves its dataset's consumer group." },
  { key: 'catalog.url', default: './data/catalog.db', parse: text(/^\S.*$/, 'a SQLite file path (or sqlite:path), or postgres://user@host:port/database'), doc: 'Where the catalog lives: a SQLite file (the embedded default) or a PostgreSQL database shared by several machines.' },
  { key: 'catalog.namespace', default: 'lake', parse: text(/^[A-Za-z_][\w-]{0,127}$/, 'a name of letters, digits, "_" or "-"'), doc: "Namespace (SQL schema) of the lake's tables." },
  { key: 'catalog.crawlIntervalMs', default: 30_000, parse: duration(0), doc: 'How often `oxbow up` crawls the golden zone into the catalog; 0 crawls only on `oxbow catalog crawl`.' },
  { key: 'server.host', default: '127.0.0.1', parse: text(/^[\w.:-]+$/, 'a host name or IP address'), doc: 'Address the SQL endpoints of `oxbow up` (HTTP and PostgreSQL wire) listen on; loopback until authentication exists.' },
  { key: 'server.httpPort', default: 8686, parse: int(0, 65535), doc: 'Port of the HTTP SQL endpoint (`POST /v1/sql`); 0 picks a free one.' },
  { key: 'server.pgPort', default: 5433, parse: int(0, 65535), doc: 'Port of the PostgreSQL wire endpoint (psql, BI tools, JDBC); 0 picks a free one.' },
  { key: 'query.threads', default: 2, parse: int(1, 256), doc: 'DuckDB threads of the SQL engine.' },
  { key: 'query.memoryLimit', default: '1GB', parse: text(/^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/, 'a size such as "1GB"'), doc: 'DuckDB memory limit of the SQL engine.' },
  { key: 'query.timeoutMs', default: 60_000, parse: duration(1), doc: 'A query running longer is stopped with OXBOW_QUERY_TIMEOUT.' },
  { key: 'query.maxRows', default: 100_000, parse: int(1, 100_000_000), doc: 'A result with more rows is refused with OXBOW_QUERY_TOO_MANY_ROWS.' },
  { key: 'query.cacheDir', default: './data/query-cache', parse: text(/^.+$/, 'a directory path'), doc: 'Where files of a remote (S3) lake are staged before DuckDB reads them.' },
  { key: 'query.cacheBytes', default: 2 * 1024 ** 3, parse: size(1024 ** 2, 2 ** 50), doc: 'Bytes the staged files may take; the least recently used are removed first.' },
  { key: 'sink.offsetCommitIntervalMs', default: 1000, parse: duration(10), doc: 'How often a sink commits the Kafka offsets of records that are in visible files (a hint: storage is the truth).' },
];

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Validates user input against the model and fills in defaults. Throws ConfigError naming the first bad key,
 * its value and what is allowed; unknown keys are refused so that typos do not pass silently.
 * Datasets are checked by resolveDatasets, which reports all their mistakes at once; relative lookup files
 * resolve against `options.cwd` (the process's working directory when left out).
 */
export function resolveConfig(input: OxbowConfigInput = {}, options: { cwd?: string } = {}): OxbowConfig {
  const known = new Map(SETTINGS.map((s) => [s.key, s]));
  const sections = new Set(SETTINGS.map((s) => s.key.split('.')[0]!));
  const values = new Map<string, unknown>();
  for (const [section, body] of Object.entries(input as Record<string, unknown>)) {
    if (section === DATASETS_SECTION) continue;
    if (!sections.has(section)) {
      throw new ConfigError(ConfigErrorCode.UNKNOWN_KEY, `unknown configuration section "${section}"; known sections: ${[...sections, DATASETS_SECTION].join(', ')}`, { fields: { key: section } });
    }
    if (body === undefined) continue;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ConfigError(ConfigErrorCode.INVALID, `${section}: ${describe(body)} is not allowed; expected an object of settings`, { fields: { key: section, value: body } });
    }
    for (const [k, v] of Object.entries(body)) {
      const key = `${section}.${k}`;
      if (!known.has(key)) {
        const near = [...known.keys()].filter((n) => n.startsWith(`${section}.`)).map((n) => n.slice(section.length + 1));
        throw new ConfigError(ConfigErrorCode.UNKNOWN_KEY, `unknown configuration key "${key}"; known keys in ${section}: ${near.join(', ')}`, { fields: { key } });
      }
      if (v !== undefined) values.set(key, v);
    }
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of SETTINGS) {
    const raw = values.has(s.key) ? values.get(s.key) : s.default;
    const parsed = s.parse(raw);
    if (!parsed.ok) {
      throw new ConfigError(ConfigErrorCode.INVALID, `${s.key}: ${describe(raw)} is not allowed; expected ${parsed.allowed}`, {
        fields: { key: s.key, value: raw, allowed: parsed.allowed },
      });
    }
    const [section, name] = s.key.split('.') as [string, string];
    (out[section] ??= {})[name] = parsed.value;
  }
  const config = out as unknown as OxbowConfig;
  const b = config.broker;
  if (b.groupMinSessionTimeoutMs > b.groupMaxSessionTimeoutMs) {
    throw new ConfigError(ConfigErrorCode.INVALID, `broker.groupMinSessionTimeoutMs: ${b.groupMinSessionTimeoutMs} is not allowed; expected at most broker.groupMaxSessionTimeoutMs (${b.groupMaxSessionTimeoutMs})`, {
      fields: { key: 'broker.groupMinSessionTimeoutMs', value: b.groupMinSessionTimeoutMs },
    });
  }
  if (b.advertisedHost === '') b.advertisedHost = b.host === '0.0.0.0' || b.host === '::' ? '127.0.0.1' : b.host;
  const datasets = resolveDatasets((input as Record<string, unknown>)[DATASETS_SECTION], options.cwd);
  if (!datasets.ok) {
    const lines = datasets.problems.map((p) => `${p.path}: ${p.message}`);
    const message = lines.length === 1 ? lines[0]! : `${lines.length} mistakes in datasets:\n  ${lines.join('\n  ')}`;
    throw new ConfigError(ConfigErrorCode.INVALID, message, { fields: { key: DATASETS_SECTION, problems: datasets.problems } });
  }
  config.datasets = datasets.datasets;
  return config;
}
