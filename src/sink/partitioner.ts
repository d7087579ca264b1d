// Where a record goes in the golden zone: its event time (in UTC or a configured zone) and optional field values,
// laid out by a pathFormat such as golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/.
import { SinkError, SinkErrorCode, SinkRecordCode } from './errors.ts';

export const GRANULARITIES = ['year', 'month', 'day', 'hour'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** The time tokens, coarsest first; a granularity uses the tokens up to and including its own. */
const TIME_TOKENS = ['yyyy', 'MM', 'dd', 'HH'] as const;
type TimeToken = (typeof TIME_TOKENS)[number];
const TOKENS: readonly string[] = ['topic', ...TIME_TOKENS, 'fields'];

/** Named formats; each is cut after the token of the configured granularity (`day` drops the hour segment). */
export const PATH_FORMAT_PRESETS = {
  default: 'golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/',
  hive: 'golden/{topic}/year={yyyy}/month={MM}/day={dd}/hour={HH}/',
} as const;
export type PathFormatPreset = keyof typeof PATH_FORMAT_PRESETS;

/** The directory name Hive, Spark and Trino use for a null or empty partition value. */
export const NULL_PARTITION_VALUE = '__HIVE_DEFAULT_PARTITION__';

export type PartitionerOptions = {
  topic: string;
  /** A preset name or a format with tokens {topic}, {yyyy}, {MM}, {dd}, {HH}, {fields}; 'default' when left out. */
  pathFormat?: PathFormatPreset | (string & {});
  /** 'hour' when left out. */
  granularity?: Granularity;
  /** An IANA time zone; 'UTC' when left out. */
  timeZone?: string;
  /** Top-level fields whose values become leading `field=value/` segments, in this order. */
  fieldPartitions?: readonly string[];
  /** The record field with the event time; the Kafka timestamp when null or left out. */
  eventTimeField?: string | null;
};

/** A record as the sink sees it: the parsed processed value and the Kafka record timestamp. */
export type PartitionInput = { value: Record<string, unknown>; kafkaTimestampMs: number };

export type PartitionResult =
  | { ok: true; path: string; eventTimeMs: number }
  | { ok: false; code: SinkRecordCode; message: string };

export type Partitioner = {
  /** The pathFormat after presets and granularity were applied. */
  readonly pathFormat: string;
  readonly granularity: Granularity;
  readonly timeZone: string;
  partitionPath(input: PartitionInput): PartitionResult;
};

const LITERAL = /^[A-Za-z0-9._=+-]*$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_PATH_FORMAT_CHARS = 1024;
// RFC 3339 date-time, as the stream job's `date-time` format accepts it.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

type Piece = { kind: 'literal'; text: string } | { kind: 'token'; name: string };
type Segment = Piece[] | 'fields';

function invalid(message: string, fields: Record<string, unknown>): SinkError {
  return new SinkError(SinkErrorCode.INVALID_PATH_FORMAT, message, { fields });
}

function presetFor(name: PathFormatPreset, granularity: Granularity): string {
  const keep = GRANULARITIES.indexOf(granularity) + 1;
  const segments = PATH_FORMAT_PRESETS[name].split('/').filter((s) => s !== '');
  return `${segments.slice(0, 2 + keep).join('/')}/`;
}

function parseFormat(format: string, granularity: Granularity): Segment[] {
  const fail = (why: string) => invalid(`pathFormat ${JSON.stringify(format)}: ${why}`, { pathFormat: format });
  if (format.length === 0 || format.length > MAX_PATH_FORMAT_CHARS) throw fail(`must be 1 to ${MAX_PATH_FORMAT_CHARS} characters`);
  if (format.startsWith('/')) throw fail('must be relative (no leading "/"); it is a path inside the lake');
  if (!format.endsWith('/')) throw fail('must end with "/"; it names a directory, the file name is added to it');
  const seen = new Set<string>();
  const segments: Segment[] = [];
  for (const text of format.slice(0, -1).split('/')) {
    if (text === '') throw fail('has an empty segment ("//")');
    if (text === '.' || text === '..') throw fail(`has a "${text}" segment`);
    const pieces: Piece[] = [];
    let rest = text;
    while (rest.length > 0) {
      const open = rest.indexOf('{');
      const literal = open === -1 ? rest : rest.slice(0, open);
      if (!LITERAL.test(literal)) throw fail(`segment "${text}" has a character other than letters, digits, ".", "_", "-", "=", "+" outside a token`);
      if (literal !== '') pieces.push({ kind: 'literal', text: literal });
      if (open === -1) break;
      const close = rest.indexOf('}', open);
      if (close === -1) throw fail(`segment "${text}" has a "{" without "}"`);
      const name = rest.slice(open + 1, close);
      if (!TOKENS.includes(name)) throw fail(`unknown token {${name}}; tokens are ${TOKENS.map((t) => `{${t}}`).join(', ')}`);
      if (seen.has(name)) throw fail(`token {${name}} appears twice`);
      seen.add(name);
      pieces.push({ kind: 'token', name });
      rest = rest.slice(close + 1);
    }
    if (pieces.some((p) => p.kind === 'token' && p.name === 'fields')) {
      if (pieces.length !== 1) throw fail('{fields} must be a whole segment ("/{fields}/"); it expands to field=value segments');
      segments.push('fields');
    } else {
      segments.push(pieces);
    }
  }
  const needed = TIME_TOKENS.slice(0, GRANULARITIES.indexOf(granularity) + 1);
  for (const t of TIME_TOKENS) {
    if (needed.includes(t) && !seen.has(t)) throw fail(`granularity "${granularity}" needs the token {${t}}`);
    if (!needed.includes(t) && seen.has(t)) throw fail(`token {${t}} is finer than granularity "${granularity}"; set granularity or drop the token`);
  }
  const order = segments.flatMap((s) => (s === 'fields' ? [] : s)).flatMap((p) => (p.kind === 'token' && (TIME_TOKENS as readonly string[]).includes(p.name) ? [p.name] : []));
  if (order.join() !== needed.join()) throw fail(`time tokens must appear coarsest first (${needed.map((t) => `{${t}}`).join(', ')})`);
  return segments;
}

// Hive's escaping of partition values (FileUtils.escapePathName), so Hive, Spark and Trino read the values back;
// "." and ".." are escaped too, so a value can never name a directory outside its own.
const HIVE_ESCAPED = new Set(['"', '#', '%', "'", '*', '/', ':', '=', '?', '\\', '\x7f', '{', '[', ']', '^']);

export function escapePartitionValue(value: string): string {
  if (value === '') return NULL_PARTITION_VALUE;
  if (value === '.' || value === '..') return value.replaceAll('.', '%2E');
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || HIVE_ESCAPED.has(ch) ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** Event time in epoch milliseconds from an RFC 3339 string (fractions past milliseconds are cut) or epoch ms. */
export function eventTimeMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : null;
  if (typeof value !== 'string') return null;
  const fast = utcDateTimeMs(value);
  if (fast !== null) return fast;
  const m = DATE_TIME.exec(value);
  if (m === null) return null;
  const [, date, time, fraction, offset] = m as unknown as [string, string, string, string | undefined, string];
  // Date.parse rolls an impossible day over (February 30th into March); such a date is not an event time.
  const [year, month, day] = [digits(date, 0, 4), digits(date, 5, 2), digits(date, 8, 2)];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  if (digits(time, 0, 2) > 23 || digits(time, 3, 2) > 59 || digits(time, 6, 2) > 59) return null;
  const ms = Date.parse(`${date}T${time}.${(fraction ?? '').padEnd(3, '0').slice(0, 3)}${offset.toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The common shape `YYYY-MM-DDTHH:MM:SS[.fff…]Z` read without a regular expression or a Date; null for any other
 * shape (offsets, a space for T, an impossible date), which the general path then reads.
 */
function utcDateTimeMs(text: string): number | null {
  const n = text.length;
  if (n < 20 || (text.charCodeAt(n - 1) !== 90 /* Z */) || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  let ms = 0;
  if (n > 20) {
    if (text[19] !== '.' || n === 21) return null;
    for (let i = 20, scale = 100; i < n - 1; i++, scale /= 10) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      if (scale >= 1) ms += d * scale;
    }
  }
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC reads years 0–99 as 1900–1999.
  return year < 100 ? null : t;
}

type ZonedParts = Record<TimeToken, string>;

function zonedPartsFn(timeZone: string): (ms: number) => ZonedParts {
  if (timeZone === 'UTC') {
    return (ms) => {
      const d = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return { yyyy: String(d.getUTCFullYear()).padStart(4, '0'), MM: two(d.getUTCMonth() + 1), dd: two(d.getUTCDate()), HH: two(d.getUTCHours()) };
    };
  }
  const format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
  return (ms) => {
    const parts: Partial<Record<string, string>> = {};
    for (const p of format.formatToParts(ms)) parts[p.type] = p.value;
    return { yyyy: (parts.year ?? '').padStart(4, '0'), MM: parts.month ?? '', dd: parts.day ?? '', HH: parts.hour ?? '' };
  };
}

function checkTimeZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw invalid(`timeZone ${JSON.stringify(timeZone)} is not an IANA time zone (e.g. "UTC", "Europe/Berlin")`, { timeZone });
  }
}

// Years 1 to 9999: four-digit directory names that sort in time order.
const MIN_EVENT_MS = Date.UTC(1, 0, 2);
const MAX_EVENT_MS = Date.UTC(9999, 11, 30);

/** Validate the options once (throws SinkError OXBOW_SINK_INVALID_PATH_FORMAT) and return the per-record function. */
export function createPartitioner(options: PartitionerOptions): Partitioner {
  const { topic } = options;
  if (!TOPIC_NAME.test(topic)) throw invalid(`topic ${JSON.stringify(topic)} is not a Kafka topic name`, { topic });
  const granularity = options.granularity ?? 'hour';
  if (!GRANULARITIES.includes(granularity)) throw invalid(`granularity ${JSON.stringify(granularity)} is not one of ${GRANULARITIES.join(', ')}`, { granularity });
  const requested = options.pathFormat ?? 'default';
  const pathFormat = Object.hasOwn(PATH_FORMAT_PRESETS, requested) ? presetFor(requested as PathFormatPreset, granularity) : requested;
  if (typeof pathFormat !== 'string') throw invalid(`pathFormat ${String(pathFormat)} is not a string`, { pathFormat });
  const segments = parseFormat(pathFormat, granularity);
  const timeZone = options.timeZone === undefined ? 'UTC' : checkTimeZone(options.timeZone);
  const fields = [...(options.fieldPartitions ?? [])];
  for (const f of fields) {
    if (typeof f !== 'string' || !FIELD_NAME.test(f)) throw invalid(`fieldPartitions: ${JSON.stringify(f)} is not a field name (letters, digits, "_", not starting with a digit)`, { field: f });
  }
  if (new Set(fields).size !== fields.length) throw invalid(`fieldPartitions lists a field twice: ${fields.join(', ')}`, { fieldPartitions: fields });
  if (options.eventTimeField != null && fields.includes(options.eventTimeField)) {
    throw invalid(`fieldPartitions: "${options.eventTimeField}" is the event-time field; it already partitions by time`, { field: options.eventTimeField });
  }
  // Field partitions lead the time segments unless {fields} places them.
  if (fields.length > 0 && !segments.includes('fields')) {
    const firstTime = segments.findIndex((s) => s !== 'fields' && s.some((p) => p.kind === 'token' && p.name !== 'topic'));
    segments.splice(firstTime, 0, 'fields');
  }
  const zonedUncached = zonedPartsFn(timeZone);
  // Records come roughly in time order, so the calendar parts of a bucket of time are worked out once: an hour in UTC;
  // a minute elsewhere (every zone's hours start on a whole minute of UTC).
  const bucketMs = timeZone === 'UTC' ? 3_600_000 : 60_000;
  const partsCache = new Map<number, ZonedParts>();
  const pathCache = new Map<number, string>();
  const zoned = (ms: number): ZonedParts => {
    const bucket = Math.floor(ms / bucketMs);
    let parts = partsCache.get(bucket);
    if (parts === undefined) {
      if (partsCache.size >= 4096) partsCache.clear();
      parts = zonedUncached(ms);
      partsCache.set(bucket, parts);
    }
    return parts;
  };
  const eventTimeField = options.eventTimeField ?? null;

  function partitionPath(input: PartitionInput): PartitionResult {
    let ms = input.kafkaTimestampMs;
    if (eventTimeField !== null) {
      const raw = input.value[eventTimeField];
      // An absent or null event time falls back to the Kafka timestamp, as with no eventTimeField at all.
      if (raw !== undefined && raw !== null) {
        const parsed = eventTimeMs(raw);
        if (parsed === null) {
          return { ok: false, code: SinkRecordCode.BAD_EVENT_TIME, message: `event-time field "${eventTimeField}" is ${JSON.stringify(raw)}; expected an RFC 3339 date-time string or epoch milliseconds` };
        }
        ms = parsed;
      }
    }
    if (!(ms >= MIN_EVENT_MS && ms <= MAX_EVENT_MS)) {
      return { ok: false, code: SinkRecordCode.BAD_EVENT_TIME, message: `event time ${ms} ms is outside the years 1 to 9999` };
    }
    // Without field partitions the path depends on the time bucket only: made once per bucket, the same string each
    // time (a caller's map then finds it without hashing a new string per record).
    const bucket = fields.length === 0 ? Math.floor(ms / bucketMs) : NaN;
    const known = fields.length === 0 ? pathCache.get(bucket) : undefined;
    if (known !== undefined) return { ok: true, path: known, eventTimeMs: ms };
    const time = zoned(ms);
    let path = '';
    for (const segment of segments) {
      if (segment === 'fields') {
        for (const f of fields) {
          const v = input.value[f];
          if (typeof v === 'object' && v !== null) {
            return { ok: false, code: SinkRecordCode.BAD_PARTITION_VALUE, message: `partition field "${f}" is ${Array.isArray(v) ? 'an array' : 'an object'}; expected a string, number or boolean` };
          }
          path += `${f}=${v === undefined || v === null ? NULL_PARTITION_VALUE : escapePartitionValue(String(v))}/`;
        }
        continue;
      }
      for (const p of segment) path += p.kind === 'literal' ? p.text : p.name === 'topic' ? topic : time[p.name as TimeToken];
      path += '/';
    }
    if (fields.length === 0) {
      if (pathCache.size >= 4096) pathCache.clear();
      pathCache.set(bucket, path);
    }
    return { ok: true, path, eventTimeMs: ms };
  }

  return { pathFormat, granularity, timeZone, partitionPath };
}

/** One-off form of createPartitioner(options).partitionPath(input); build a partitioner once for many records. */
export function partitionPath(input: PartitionInput, options: PartitionerOptions): PartitionResult {
  return createPartitioner(options).partitionPath(input);
}
