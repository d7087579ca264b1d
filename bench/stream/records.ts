// The data of the stream benchmark: ~300-byte JSON order records, the countries lookup table, and the dataset that
// parses, validates, enriches and looks them up.
import { writeFileSync } from 'node:fs';
import { enrich, lookup, validate, type DatasetDeclaration, type DataRecord } from '../../src/stream/index.ts';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const REGIONS = ['EMEA', 'APAC', 'AMER', 'LATAM'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'CHF'];
const CHANNELS = ['web', 'app', 'store', 'partner'];
const STATUSES = ['created', 'paid', 'shipped'];

/** Two-letter codes AA, AB, … of the lookup table's `count` rows. */
export function countryCode(i: number): string {
  return `${LETTERS[Math.floor(i / 26) % 26]}${LETTERS[i % 26]}`;
}

/** Writes the lookup table: `code,name,region,vatRate`, one row per country. */
export function writeCountriesCsv(file: string, count: number): void {
  const lines = ['code,name,region,vatRate'];
  for (let i = 0; i < count; i++) lines.push(`${countryCode(i)},Country ${i},${REGIONS[i % REGIONS.length]},${(5 + (i % 20)).toFixed(1)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Raw record number `i` as JSON bytes, padded with a notes field to about `targetBytes`. */
export function orderRecord(i: number, countries: number, targetBytes: number): Buffer {
  const record = {
    orderId: `ord-${String(i).padStart(10, '0')}`,
    customerId: `cust-${String((i * 7919) % 1_000_000).padStart(7, '0')}`,
    country: countryCode((i * 31) % countries),
    sku: `SKU-${String((i * 131) % 100_000).padStart(6, '0')}`,
    quantity: 1 + (i % 9),
    unitPrice: Math.round(((i * 37) % 50_000) + 99) / 100,
    currency: CURRENCIES[i % CURRENCIES.length],
    channel: CHANNELS[i % CHANNELS.length],
    status: STATUSES[i % STATUSES.length],
    createdAt: new Date(Date.UTC(2026, 10, 22) + i * 13).toISOString(),
    notes: '',
  };
  const base = Buffer.byteLength(JSON.stringify(record));
  record.notes = 'n'.repeat(Math.max(0, targetBytes - base));
  return Buffer.from(JSON.stringify(record), 'utf8');
}

const RAW_PROPERTIES = {
  orderId: { type: 'string', pattern: '^ord-[0-9]{10}$' },
  customerId: { type: 'string', minLength: 1, maxLength: 64 },
  country: { type: 'string', pattern: '^[A-Z]{2}$' },
  sku: { type: 'string', minLength: 1, maxLength: 32 },
  quantity: { type: 'integer', minimum: 1, maximum: 1000 },
  unitPrice: { type: 'number', minimum: 0 },
  currency: { enum: CURRENCIES },
  channel: { enum: CHANNELS },
  status: { enum: STATUSES },
  createdAt: { type: 'string', format: 'date-time' },
  notes: { type: 'string', maxLength: 2000 },
};
const RAW_REQUIRED = ['orderId', 'customerId', 'country', 'sku', 'quantity', 'unitPrice', 'currency', 'channel', 'status', 'createdAt'];

/** The raw schema: what producers promise. */
export const RAW_SCHEMA = { type: 'object', properties: RAW_PROPERTIES, required: RAW_REQUIRED, additionalProperties: false };

/** The processed schema: the raw record plus what the enrich function and the lookup add. */
export const PROCESSED_SCHEMA = {
  type: 'object',
  properties: {
    ...RAW_PROPERTIES,
    total: { type: 'number', minimum: 0 },
    large: { type: 'boolean' },
    name: { type: 'string' },
    region: { type: 'string' },
    vatRate: { type: 'string' },
  },
  required: [...RAW_REQUIRED, 'total', 'large', 'name', 'region', 'vatRate'],
  additionalProperties: false,
};

/** The benchmark's dataset: parse (implicit), validate against RAW_SCHEMA, one enrich function, one CSV lookup. */
export function orderDataset(topics: { raw: string; processed: string; dlq: string }, countriesCsv: string): DatasetDeclaration {
  return {
    schema: PROCESSED_SCHEMA,
    rawSchema: RAW_SCHEMA,
    eventTimeField: 'createdAt',
    topics,
    steps: [
      validate(),
      enrich('total', (r: DataRecord) => {
        const total = Math.round((r.quantity as number) * (r.unitPrice as number) * 100) / 100;
        return { ...r, total, large: total >= 1000 };
      }),
      lookup('country', { file: countriesCsv, format: 'csv', key: 'code', on: 'country', miss: 'dead-letter' }),
    ],
  };
}
