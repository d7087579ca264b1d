// The data of the end-to-end benchmark: click-stream events with an event time and their send time, the schemas and
// the enrich function of the `events` dataset, and which events are malformed or filtered (decided by the sequence id
// alone, so the producer, the checks and the baseline agree without talking to each other).

/** The rule name of the dataset's filter, and the kind of event it drops. */
export const FILTER_RULE = 'no-heartbeats';
export const FILTERED_KIND = 'heartbeat';

/** Kinds of event and their weights (of 50): heartbeats are 1 in 50, so the filter drops about 2% of good events. */
const KIND_WEIGHTS: readonly (readonly [string, number])[] = [
  ['view', 30],
  ['click', 12],
  ['purchase', 4],
  ['signup', 3],
  [FILTERED_KIND, 1],
];
const KINDS = KIND_WEIGHTS.flatMap(([kind, weight]) => Array.from({ length: weight }, () => kind));
const KIND_NAMES = KIND_WEIGHTS.map(([kind]) => kind);
const DEVICES = ['ios', 'android', 'web'] as const;
const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'GB', 'ES', 'IT', 'NL', 'SE', 'PL', 'CA', 'MX', 'AU', 'KR'] as const;

/** The enrich step's table: country code to sales region. */
export const REGION_OF: Readonly<Record<string, string>> = {
  DE: 'EMEA', FR: 'EMEA', GB: 'EMEA', ES: 'EMEA', IT: 'EMEA', NL: 'EMEA', SE: 'EMEA', PL: 'EMEA',
  US: 'AMER', CA: 'AMER', BR: 'LATAM', MX: 'LATAM', JP: 'APAC', IN: 'APAC', AU: 'APAC', KR: 'APAC',
};

const RAW_PROPERTIES = {
  seq: { type: 'integer', minimum: 0 },
  ts: { type: 'string', format: 'date-time' },
  sent_ms: { type: 'integer', minimum: 0 },
  user_id: { type: 'integer', minimum: 1 },
  session_id: { type: 'string', pattern: '^s-[0-9a-f]{8}$' },
  kind: { enum: KIND_NAMES },
  country: { type: 'string', pattern: '^[A-Z]{2}$' },
  amount: { type: 'number', minimum: 0 },
  device: { enum: [...DEVICES] },
};
const RAW_REQUIRED = Object.keys(RAW_PROPERTIES);

/** What a producer promises: the validate step checks every raw event against it. */
export const RAW_SCHEMA = { type: 'object', properties: RAW_PROPERTIES, required: RAW_REQUIRED, additionalProperties: false };

/** A processed event: the raw one plus what the enrich step adds. */
export const PROCESSED_SCHEMA = {
  type: 'object',
  properties: { ...RAW_PROPERTIES, region: { type: 'string' }, amount_cents: { type: 'integer' } },
  required: [...RAW_REQUIRED, 'region', 'amount_cents'],
  additionalProperties: false,
};

/** The enrich step: the sales region of the country, and the amount in whole cents. */
export function enrichEvent(event: Record<string, unknown>): Record<string, unknown> {
  return { ...event, region: REGION_OF[event.country as string] ?? 'OTHER', amount_cents: Math.round((event.amount as number) * 100) };
}

/** A 32-bit integer hash (murmur3's finalizer): spreads consecutive ids evenly over [0, 2^32). */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** What becomes of event `seq`: malformed JSON and schema violations are dead letters, heartbeats are filtered. */
export type EventFate = 'good' | 'filtered' | 'invalid-json' | 'schema-violation';

/** The fate of event `seq` with `badRatio` of all events malformed (half not JSON, half against the schema). */
export function fateOf(seq: number, badRatio: number): EventFate {
  const h = mix32(seq * 2 + 1);
  if (h / 2 ** 32 < badRatio) return h % 2 === 0 ? 'invalid-json' : 'schema-violation';
  return kindOf(seq) === FILTERED_KIND ? 'filtered' : 'good';
}

function kindOf(seq: number): string {
  return KINDS[mix32(seq * 2) % KINDS.length]!;
}

/**
 * Event `seq` as JSON text (about 230 bytes), sent at `sentMs`; its event time `ts` is up to 0.6 s earlier. A malformed
 * event is cut off in the middle (not JSON) or has a negative amount and no `ts` (against the schema).
 */
export function eventJson(seq: number, sentMs: number, fate: EventFate): string {
  const h = mix32(seq * 2);
  const ts = new Date(sentMs - (seq % 7) * 100).toISOString();
  const userId = 1 + (h % 250_000);
  const amount = kindOf(seq) === 'purchase' ? ((h >>> 8) % 50_000) / 100 + 0.99 : 0;
  const session = `s-${mix32(userId).toString(16).padStart(8, '0')}`;
  const country = COUNTRIES[(h >>> 4) % COUNTRIES.length]!;
  const device = DEVICES[(h >>> 12) % DEVICES.length]!;
  const kind = kindOf(seq);
  if (fate === 'schema-violation') {
    return `{"seq":${seq},"sent_ms":${sentMs},"user_id":${userId},"session_id":"${session}","kind":"${kind}","country":"${country}","amount":-1,"device":"${device}"}`;
  }
  const json =
    `{"seq":${seq},"ts":"${ts}","sent_ms":${sentMs},"user_id":${userId},"session_id":"${session}","kind":"${kind}",` +
    `"country":"${country}","amount":${amount},"device":"${device}"}`;
  return fate === 'invalid-json' ? json.slice(0, 60) : json;
}

/** DuckDB column types of a raw event, for the baseline's read_json (the sink maps the schema the same way). */
export const RAW_DUCKDB_COLUMNS: readonly (readonly [string, string])[] = [
  ['seq', 'BIGINT'],
  ['ts', 'TIMESTAMPTZ'],
  ['sent_ms', 'BIGINT'],
  ['user_id', 'BIGINT'],
  ['session_id', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['country', 'VARCHAR'],
  ['amount', 'DOUBLE'],
  ['device', 'VARCHAR'],
];

/**
 * The lake declaration `oxbow up` runs: the `events` dataset (validate, filter, enrich), wall-clock rotation, and
 * `partitions` partitions for the topics the broker creates. Imports resolve to this repository.
 */
export function lakeConfigSource(options: { root: string; rotateMs: number; partitions: number; flushSize: number; directIo?: string | null }): string {
  const src = JSON.stringify(`${options.root}/src/index.ts`);
  const events = JSON.stringify(`${options.root}/bench/e2e/events.ts`);
  return `// Written by bench/e2e/run.ts: the lake of the end-to-end benchmark.
import { defineLake, enrich, filter, validate } from ${src};
import { enrichEvent, FILTER_RULE, FILTERED_KIND, PROCESSED_SCHEMA, RAW_SCHEMA } from ${events};

export default defineLake({
  broker: { defaultPartitions: ${options.partitions}${options.directIo == null ? '' : `, directIo: ${JSON.stringify(options.directIo)}`} },
  sink: { rotateScheduleIntervalMs: ${options.rotateMs}, flushSize: ${options.flushSize} },
  datasets: {
    events: {
      rawSchema: RAW_SCHEMA,
      schema: PROCESSED_SCHEMA,
      eventTimeField: 'ts',
      steps: [
        validate(),
        filter(FILTER_RULE, (event) => event.kind !== FILTERED_KIND),
        enrich('region', (event) => enrichEvent(event)),
      ],
    },
  },
});
`;
}
