// The data of the sink benchmark: processed order records as the stream job writes them (lineage included), their
// dataset, and where each record goes when the topic is filled.
import { resolveDatasets, type DatasetDeclaration, type ResolvedDataset } from '../../src/stream/index.ts';

/** The raw topic named in every record's lineage; the benchmark never creates it. */
export const RAW_TOPIC = 'bench.raw';
/** Records per produce request; a request's records go to one partition, so this is also how records are spread. */
export const FILL_CHUNK_RECORDS = 1000;
/** Event times start here (UTC) and go forward about evenly over `hours`. */
const FIRST_EVENT_MS = Date.UTC(2026, 10, 22, 0, 0, 0);
/** The first user id past 2^53: such values survive only if no JavaScript number carries them. */
const FIRST_USER_ID = 9_007_199_254_740_993n;

const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'GB', 'ES', 'IT', 'NL', 'SE', 'PL', 'CA', 'MX', 'AU', 'KR'];
const TAGS = ['gift', 'promo', 'new', 'b2b', 'app', 'sale'];
const OS = ['ios', 'android', 'web', 'windows', 'macos'];

/** The processed schema (before the lineage field, which processedSchema adds): every column kind the sink maps. */
export const ORDER_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ts: { type: 'string', format: 'date-time' },
    user_id: { type: 'integer' },
    country: { type: 'string' },
    amount: { type: 'number' },
    tags: { type: 'array', items: { type: 'string' } },
    device: { type: 'object', properties: { os: { type: 'string' }, app: { type: 'integer' } } },
    coupon: { type: ['string', 'null'] },
  },
  required: ['id', 'ts', 'user_id', 'country', 'amount'],
};

/** How a topic's records are laid out: their count, partitions and event-time span. */
export type Layout = { records: number; partitions: number; hours: number };

/** The partition record `i` is produced to: chunks of FILL_CHUNK_RECORDS go round-robin over the partitions. */
export function partitionOf(i: number, layout: Layout): number {
  return Math.floor(i / FILL_CHUNK_RECORDS) % layout.partitions;
}

/** The raw offset in the lineage of record `i`: its position within its partition, so (partition, offset) is unique. */
function rawOffsetOf(i: number, layout: Layout): number {
  const chunk = Math.floor(i / FILL_CHUNK_RECORDS);
  return Math.floor(chunk / layout.partitions) * FILL_CHUNK_RECORDS + (i % FILL_CHUNK_RECORDS);
}

/**
 * Processed record `i` as JSON text, about 230 bytes: event times rise with `i` over `layout.hours` (each record up to
 * a second early, so roughly in order), and the lineage points at the raw record it came from.
 */
export function processedOrder(i: number, layout: Layout): string {
  const spanMs = layout.hours * 3_600_000;
  const eventMs = FIRST_EVENT_MS + Math.floor((i * spanMs) / layout.records) - (i % 5) * 250;
  const ts = new Date(Math.max(FIRST_EVENT_MS, eventMs)).toISOString();
  const userId = FIRST_USER_ID + BigInt((i * 7919) % 5_000_000);
  const amount = (((i * 3701) % 250_000) + 1) / 100;
  const tags = i % 4 === 0 ? [] : i % 4 === 1 ? [TAGS[i % TAGS.length]] : [TAGS[i % TAGS.length], TAGS[(i >> 2) % TAGS.length]];
  const coupon = i % 3 === 0 ? 'null' : `"C${i % 997}"`;
  return (
    `{"id":${i},"ts":"${ts}","user_id":${userId},"country":"${COUNTRIES[(i * 13) % COUNTRIES.length]}","amount":${amount},` +
    `"tags":${JSON.stringify(tags)},"device":{"os":"${OS[i % OS.length]}","app":${100 + (i % 37)}},` +
    `"coupon":${coupon},"_source":{"topic":"${RAW_TOPIC}","partition":${partitionOf(i, layout)},"offset":${rawOffsetOf(i, layout)}}}`
  );
}

/** A dataset reading `processedTopic`; each run has its own name, so its own consumer group (oxbow.sink.<name>). */
export function orderDataset(name: string, processedTopic: string): ResolvedDataset {
  const declaration: DatasetDeclaration = {
    schema: ORDER_SCHEMA,
    eventTimeField: 'ts',
    topics: { raw: `${name}.raw`, processed: processedTopic, dlq: `${name}.dlq` },
  };
  const resolved = resolveDatasets({ [name]: declaration });
  if (!resolved.ok) throw new Error(resolved.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return resolved.datasets[name]!;
}
