// The example lake: one dataset, `orders`, showing every kind of pipeline step. `oxbow up` uses it when no
// oxbow.config.ts is found, and `oxbow demo` sends it realistic orders (docs/demo.md walks through it).
import { fileURLToPath } from 'node:url';
import { defineLake, enrich, filter, lookup, validate } from 'oxbow';

/** EUR per unit of each currency the shop takes; fixed here, a rates service in a real lake. */
const EUR_RATES = { EUR: 1, USD: 0.92, GBP: 1.17, SEK: 0.087, CHF: 1.04, PLN: 0.23, CAD: 0.68, JPY: 0.0061, AUD: 0.6 } as const;
const CURRENCIES = Object.keys(EUR_RATES);

/** One order as the shop's services send it to `orders.raw`. */
const order = {
  order_id: { type: 'string', format: 'uuid' },
  ts: { type: 'string', format: 'date-time' },
  customer_id: { type: 'integer' },
  country: { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 code' },
  amount: { type: 'number', minimum: 0 },
  currency: { enum: CURRENCIES },
  items: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      properties: { sku: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' }, qty: { type: 'integer', minimum: 1 } },
      required: ['sku', 'qty'],
      additionalProperties: false,
    },
  },
  coupon: { type: ['string', 'null'] },
  channel: { enum: ['web', 'ios', 'android', 'store'] },
};
const required = ['order_id', 'ts', 'customer_id', 'country', 'amount', 'currency', 'items', 'channel'];

export default defineLake({
  // The sink commits a file 10 s after its first record (default 1 min), so a demo shows up in SQL quickly.
  sink: { rotateScheduleIntervalMs: '10s' },
  catalog: { crawlIntervalMs: '10s' },
  datasets: {
    orders: {
      // What a raw record must be; validate() below checks it. Anything else is a dead letter on orders.dlq.
      rawSchema: { type: 'object', properties: order, required, additionalProperties: false },
      // What a processed record is: the raw order plus the fields the steps add. The golden zone's columns follow it.
      schema: {
        type: 'object',
        properties: {
          ...order,
          amount_eur: { type: 'number' },
          item_count: { type: 'integer', minimum: 1 },
          country_name: { type: ['string', 'null'] },
          region: { type: ['string', 'null'] },
        },
        required: [...required, 'amount_eur', 'item_count', 'country_name', 'region'],
        additionalProperties: false,
      },
      // The sink partitions the golden zone by this field's hour, not by when the record arrived.
      eventTimeField: 'ts',
      steps: [
        // Schema check: a negative amount, a bad date, a wrong type or a missing field becomes a dead letter.
        validate(),
        // Test orders (negative customer ids) are dropped, and counted as filtered by rule "no-test-orders".
        filter('no-test-orders', (o) => (o.customer_id as number) >= 0),
        // Derived fields, computed in process: the amount in EUR and the number of items.
        enrich('amount-eur', (o) => {
          const rate = EUR_RATES[o.currency as keyof typeof EUR_RATES];
          const items = o.items as { qty: number }[];
          return { ...o, amount_eur: Math.round((o.amount as number) * rate * 100) / 100, item_count: items.reduce((n, i) => n + i.qty, 0) };
        }),
        // A join with a reference table: country name and region; an unknown code keeps the order, with nulls.
        lookup('country', {
          file: fileURLToPath(new URL('./countries.csv', import.meta.url)),
          format: 'csv',
          key: 'code',
          on: 'country',
          fields: ['country_name', 'region'],
          miss: 'null',
        }),
      ],
    },
  },
});
