// `oxbow demo`: sends realistic orders, some malformed on purpose and some test orders, to a running lake's raw topic.
import { randomInt } from 'node:crypto';
import { Admin, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { loadConfig } from '../config/index.ts';
import { CliError, CliErrorCode, intFlag, parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE, kafkaFailure } from './client.ts';

const USAGE = `Usage: oxbow demo [--events <n>] [--rate <per-second>] [--bad-ratio <r>] [--dataset <name>] [--seed <n>] [--brokers <host:port>]

Sends realistic shop orders to <dataset>.raw of a running lake (start one with \`oxbow up\`, which runs the example lake
when there is no oxbow.config.ts). A share of them is malformed on purpose (invalid JSON, a missing field, a negative
amount, a bad date, a wrong type), so the stream job has dead letters to show, and some are test orders (negative
customer ids) that its filter drops. Prints progress on standard error and, at the end, what was sent and what to try
next. Ctrl-C stops early and prints what was sent so far (exit code 130).
  -n, --events <n>      orders to send (default 10000)
  -r, --rate <n>        orders per second (default 2000)
  --bad-ratio <r>       share of malformed orders, from 0 to 1 (default 0.05)
  -d, --dataset <name>  the dataset whose raw topic gets the orders (default orders)
  --seed <n>            makes the run repeatable: the same orders, keys and event times (from 2026-01-01T09:00:00Z)
${CLIENT_USAGE}`;

/** Batches go out on this timer; each carries the orders due by then on the run's clock, so the rate holds exactly. */
const TICK_MS = 100;
/**
 * Most orders in one produce request, so a slow broker is caught up in bounded requests: 1,000 orders of about 400
 * bytes stay well under the broker's default max.message.bytes (1 MiB), whatever the rate.
 */
const MAX_BATCH_RECORDS = 1000;
/** How long the reachability check waits for a connection before the demo gives up. */
const CONNECT_TIMEOUT_MS = 3000;
/** Progress is redrawn at most this often on a terminal; printed as a plain line once a second otherwise. */
const PROGRESS_TTY_MS = 250;
const PROGRESS_PLAIN_MS = 1000;
/** Share of the well-formed orders that are test orders. */
const TEST_ORDER_RATIO = 0.02;
/** Event times of a seeded run start here, so its output is the same byte for byte. */
const SEEDED_START_MS = Date.parse('2026-01-01T09:00:00Z');

export const MalformedKind = {
  INVALID_JSON: 'invalid-json',
  MISSING_FIELD: 'missing-field',
  NEGATIVE_AMOUNT: 'negative-amount',
  BAD_DATE: 'bad-date',
  WRONG_TYPE: 'wrong-type',
} as const;
export type MalformedKind = (typeof MalformedKind)[keyof typeof MalformedKind];
const MALFORMED_KINDS = Object.values(MalformedKind);

/** EUR per unit, as in the example lake, so that prices look the same in every currency. */
const EUR_RATES: Record<string, number> = { EUR: 1, USD: 0.92, GBP: 1.17, SEK: 0.087, CHF: 1.04, PLN: 0.23, CAD: 0.68, JPY: 0.0061, AUD: 0.6 };
/** Country, its currency and its share of orders; LU is not in the example's countries.csv, to show a lookup miss. */
const COUNTRIES: [code: string, currency: string, weight: number][] = [
  ['DE', 'EUR', 24], ['US', 'USD', 18], ['GB', 'GBP', 12], ['FR', 'EUR', 10], ['NL', 'EUR', 6], ['ES', 'EUR', 5], ['IT', 'EUR', 5],
  ['SE', 'SEK', 4], ['PL', 'PLN', 4], ['CH', 'CHF', 3], ['CA', 'CAD', 3], ['JP', 'JPY', 2], ['AU', 'AUD', 2], ['LU', 'EUR', 2],
];
/** The shop's products: SKU and price in EUR. */
const PRODUCTS: [sku: string, priceEur: number][] = [
  ['TEE-0001', 19.9], ['TEE-0002', 24.9], ['HOO-0101', 59], ['JAC-0201', 149], ['CAP-0301', 14.5], ['SOC-0401', 7.9],
  ['BAG-0501', 39], ['MUG-0601', 12], ['BOT-0701', 22.5], ['STI-0801', 3.5], ['POS-0901', 9.9], ['SHO-1001', 89],
];
const CHANNELS: [string, number][] = [['web', 45], ['ios', 25], ['android', 20], ['store', 10]];
const COUPONS = ['WELCOME10', 'SPRING25', 'VIP', 'FREESHIP'];
const REQUIRED_FIELDS = ['order_id', 'ts', 'customer_id', 'country', 'amount', 'currency', 'items', 'channel'];

/** mulberry32: a small, fast PRNG; enough for test data, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Draw = {
  random: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(list: readonly T[]) => T;
  weighted: <T extends readonly unknown[]>(list: readonly T[], weightOf: (t: T) => number) => T;
};

function draw(seed: number): Draw {
  const random = prng(seed);
  return {
    random,
    int: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(random() * list.length)]!,
    weighted: (list, weightOf) => {
      let r = random() * list.reduce((n, t) => n + weightOf(t), 0);
      for (const t of list) if ((r -= weightOf(t)) < 0) return t;
      return list[list.length - 1]!;
    },
  };
}

export type DemoOrder = { key: string; value: string; malformed: MalformedKind | null; test: boolean };

/** Makes the orders of a run: the i-th call gives the i-th order, the same for the same seed, rate and start. */
export function orderGenerator(options: { seed: number; badRatio: number; ratePerSecond: number; startMs: number }): () => DemoOrder {
  const d = draw(options.seed);
  let index = 0;
  return () => {
    const i = index++;
    const order = wellFormedOrder(d, options.startMs + (i * 1000) / options.ratePerSecond);
    const roll = d.random();
    if (roll < options.badRatio) {
      const kind = d.pick(MALFORMED_KINDS);
      return { key: String(order.customer_id), value: malform(d, order, kind), malformed: kind, test: false };
    }
    if (roll < options.badRatio + (1 - options.badRatio) * TEST_ORDER_RATIO) {
      order.customer_id = -d.int(1, 999);
      return { key: String(order.customer_id), value: JSON.stringify(order), malformed: null, test: true };
    }
    return { key: String(order.customer_id), value: JSON.stringify(order), malformed: null, test: false };
  };
}

function wellFormedOrder(d: Draw, arrivalMs: number): Record<string, unknown> {
  // Orders are stamped a little before they arrive, as when a service sends them on after checkout.
  const ts = new Date(Math.round(arrivalMs - d.random() * 3000)).toISOString();
  const [country, currency] = d.weighted(COUNTRIES, (c) => c[2]);
  const r = d.random();
  const lines = r < 0.5 ? 1 : r < 0.8 ? 2 : r < 0.95 ? 3 : 4;
  const items = Array.from({ length: lines }, () => ({ sku: d.pick(PRODUCTS)[0], qty: d.random() < 0.8 ? 1 : d.int(2, 3) }));
  const eur = items.reduce((n, it) => n + PRODUCTS.find((p) => p[0] === it.sku)![1] * it.qty, 0);
  const cents = currency === 'JPY' ? 1 : 100;
  // Regular customers come back: low ids are far more frequent than high ones.
  const customerId = Math.floor(50_000 * d.random() ** 2) + 1;
  return {
    order_id: uuid(d),
    ts,
    customer_id: customerId,
    country,
    amount: Math.round((eur / EUR_RATES[currency]!) * cents) / cents,
    currency,
    items,
    coupon: d.random() < 0.15 ? d.pick(COUPONS) : null,
    channel: d.weighted(CHANNELS, (c) => c[1])[0],
  };
}

function uuid(d: Draw): string {
  const hex = Array.from({ length: 32 }, () => d.int(0, 15).toString(16));
  hex[12] = '4';
  hex[16] = (8 + d.int(0, 3)).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The value of an order broken in one way; each way fails the example lake's raw schema (or its JSON parse). */
function malform(d: Draw, order: Record<string, unknown>, kind: MalformedKind): string {
  const o = { ...order };
  switch (kind) {
    case MalformedKind.INVALID_JSON: {
      // A producer cut off mid-write: a proper prefix of an object is never valid JSON.
      const text = JSON.stringify(o);
      return text.slice(0, d.int(10, text.length - 1));
    }
    case MalformedKind.MISSING_FIELD:
      delete o[d.pick(REQUIRED_FIELDS)];
      break;
    case MalformedKind.NEGATIVE_AMOUNT:
      o.amount = -(o.amount as number);
      break;
    case MalformedKind.BAD_DATE: {
      const t = new Date(o.ts as string);
      const two = (n: number) => String(n).padStart(2, '0');
      const local = `${two(t.getUTCDate())}/${two(t.getUTCMonth() + 1)}/${t.getUTCFullYear()} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}`;
      o.ts = d.pick([local, 'yesterday', (o.ts as string).replace(/-\d\d-/, '-13-')]);
      break;
    }
    case MalformedKind.WRONG_TYPE: {
      const which = d.int(0, 2);
      if (which === 0) o.customer_id = `C${String(o.customer_id)}`;
      else if (which === 1) o.amount = String(o.amount);
      else o.items = (o.items as { sku: string; qty: number }[]).map((it, j) => (j === 0 ? { ...it, qty: 'one' } : it));
      break;
    }
  }
  return JSON.stringify(o);
}

function ratioFlag(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d*\.?\d+$/.test(value) || n > 1) {
    throw usageError(`--${name}: ${JSON.stringify(value)} is not allowed; expected a number from 0 to 1, e.g. 0.05`);
  }
  return n;
}

type Tally = { sent: number; malformed: Record<MalformedKind, number>; test: number };

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

export async function demo(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...CLIENT_FLAGS,
      events: { type: 'string', short: 'n' },
      rate: { type: 'string', short: 'r' },
      'bad-ratio': { type: 'string' },
      dataset: { type: 'string', short: 'd' },
      seed: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`demo takes no arguments, got ${JSON.stringify(positionals[0])}`, USAGE);
  const events = intFlag('events', values.events, 1, 1_000_000_000) ?? 10_000;
  const rate = intFlag('rate', values.rate, 1, 1_000_000) ?? 2000;
  const badRatio = ratioFlag('bad-ratio', values['bad-ratio']) ?? 0.05;
  const seedFlag = intFlag('seed', values.seed, 0, 2 ** 32 - 1);
  const name = (values.dataset as string | undefined) ?? 'orders';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw usageError(`--dataset: ${JSON.stringify(name)} is not allowed; expected letters, digits, "_" or "-"`);

  const config = await loadConfig({ file: values.config as string | undefined });
  const { brokers, clientId } = await bootstrapBrokers(values);
  const topic = config.datasets[name]?.topics.raw ?? `${name}.raw`;
  const address = brokers.join(',');
  await checkReachable(brokers, clientId);

  const next = orderGenerator({ seed: seedFlag ?? randomInt(2 ** 32 - 1), badRatio, ratePerSecond: rate, startMs: seedFlag === undefined ? Date.now() : SEEDED_START_MS });
  const tally: Tally = { sent: 0, malformed: Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<MalformedKind, number>, test: 0 };
  const producer = new Producer({ clientId: `${clientId}-demo`, bootstrapBrokers: brokers, serializers: stringSerializers, acks: ProduceAcks.ALL, autocreateTopics: true, retries: 3 });

  // Ctrl-C (or SIGTERM) lets the batch in flight finish, then reports; a second one exits at once.
  let stopped: NodeJS.Signals | null = null;
  let wake = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped !== null) process.exit(130);
    stopped = signal;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = progressLine(events, rate, tally);
  const startedAt = performance.now();
  try {
    for (let tick = 1; tally.sent < events && stopped === null; tick++) {
      const elapsedMs = performance.now() - startedAt;
      const due = Math.min(events, Math.floor((elapsedMs / 1000) * rate));
      while (tally.sent < due && stopped === null) {
        const n = Math.min(due - tally.sent, MAX_BATCH_RECORDS);
        const batch = Array.from({ length: n }, next);
        await producer.send({ messages: batch.map((o) => ({ topic, key: o.key, value: o.value })) });
        for (const o of batch) {
          if (o.malformed !== null) tally.malformed[o.malformed]++;
          else if (o.test) tally.test++;
        }
        tally.sent += n;
        progress.update(false);
      }
      // Sleep to the next tick boundary of the run's own clock, so that slow sends do not make the schedule drift.
      const wait = startedAt + tick * TICK_MS - performance.now();
      if (wait > 0 && tally.sent < events && stopped === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  } catch (err) {
    progress.update(true);
    process.stdout.write(summary({ tally, topic, address, events, seconds: (performance.now() - startedAt) / 1000, stopped, next: null }));
    throw kafkaFailure(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await producer.close();
  }
  progress.update(true);
  const seconds = (performance.now() - startedAt) / 1000;
  const pg = `psql -h ${config.server.host} -p ${config.server.pgPort} -c "SELECT channel, count(*), round(sum(amount_eur), 2) AS eur FROM ${name} GROUP BY 1 ORDER BY 3 DESC"`;
  const nextSteps = [
    config.sink.rotateScheduleIntervalMs > 0
      ? `Next (the sink commits a file ${Math.round(config.sink.rotateScheduleIntervalMs / 1000)} s after its first record; the catalog follows at once):`
      : `Next (the sink commits a file at ${config.sink.flushSize} records; the catalog follows at once):`,
    `  npx oxbow sql "SELECT country_name, count(*), sum(amount_eur) FROM ${name} GROUP BY 1 ORDER BY 2 DESC"`,
    `  npx oxbow dlq inspect ${name}`,
    `  ${pg}`,
    `  npx oxbow lake ls ${name}`,
  ];
  process.stdout.write(summary({ tally, topic, address, events, seconds, stopped, next: nextSteps }));
  return stopped === null ? 0 : stopped === 'SIGINT' ? 130 : 143;
}

/** Fails within a few seconds, naming the address, when no broker answers (the client alone would retry for long). */
async function checkReachable(brokers: string[], clientId: string): Promise<void> {
  const admin = new Admin({ clientId: `${clientId}-demo`, bootstrapBrokers: brokers, retries: 0, connectTimeout: CONNECT_TIMEOUT_MS });
  try {
    await admin.listTopics();
  } catch (err) {
    const reason = kafkaFailure(err);
    throw new CliError(
      CliErrorCode.KAFKA_REQUEST_FAILED,
      `no lake answers at ${brokers.join(',')}: ${(reason as Error).message}; start one with \`npx oxbow up\`, or pass --brokers <host:port>`,
      { cause: err, fields: { brokers } },
    );
  } finally {
    await admin.close();
  }
}

function progressLine(events: number, rate: number, tally: Tally) {
  const tty = process.stderr.isTTY;
  const everyMs = tty ? PROGRESS_TTY_MS : PROGRESS_PLAIN_MS;
  const startedAt = performance.now();
  let lastAt = -Infinity;
  let lastText = '';
  return {
    update(final: boolean) {
      const now = performance.now();
      if (!final && now - lastAt < everyMs) return;
      lastAt = now;
      const seconds = (now - startedAt) / 1000;
      const actual = seconds > 0 ? Math.round(tally.sent / seconds) : 0;
      const text = `sent ${tally.sent}/${events} (${Math.floor((tally.sent / events) * 100)}%)  ${actual}/s of ${rate}/s  malformed ${sum(tally.malformed)}  test ${tally.test}`;
      if (!tty && text === lastText) return;
      lastText = text;
      if (tty) process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
      else process.stderr.write(`${text}\n`);
    },
  };
}

function summary(s: { tally: Tally; topic: string; address: string; events: number; seconds: number; stopped: NodeJS.Signals | null; next: string[] | null }): string {
  const { tally } = s;
  const malformed = sum(tally.malformed);
  const kinds = MALFORMED_KINDS.map((k) => `${k} ${tally.malformed[k]}`).join(', ');
  const head = s.stopped !== null
    ? `${s.stopped}: stopped after ${tally.sent} of ${s.events} orders`
    : `sent ${tally.sent}${tally.sent < s.events ? ` of ${s.events}` : ''} orders`;
  return [
    `${head} to ${s.topic} at ${s.address} in ${s.seconds.toFixed(1)} s`,
    `  valid      ${tally.sent - malformed - tally.test}`,
    `  test       ${tally.test}  (customer_id < 0; the stream's filter drops them)`,
    `  malformed  ${malformed}  (on purpose; they become dead letters: ${kinds})`,
    ...(s.next === null ? [] : ['', ...s.next]),
    '',
  ].join('\n');
}
