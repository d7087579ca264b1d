// Shared by the sink runtime tests: a broker with a processed topic, records to put in it, and the lake read back by DuckDB.
import { DuckDBInstance } from '@duckdb/node-api';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { LakeSink, type LakeSinkOptions } from '../../src/sink/index.ts';
import { LocalObjectStore, openObjectStore, type ObjectStore } from '../../src/storage/index.ts';
import { resolveDatasets, type DatasetDeclaration, type ResolvedDataset } from '../../src/stream/index.ts';
import { defer, startBroker, tempDir, type TestBroker } from '../helpers/broker.ts';

export const ordersSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ts: { type: 'string', format: 'date-time' },
    amount: { type: 'number' },
    big: { type: 'integer' },
    paid: { type: 'boolean' },
    note: { type: ['string', 'null'] },
    country: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    customer: { type: 'object', properties: { name: { type: 'string' }, vip: { type: 'boolean' } } },
  },
  required: ['id', 'ts'],
};

export function dataset(name: string, declaration: DatasetDeclaration = { schema: ordersSchema, eventTimeField: 'ts' }): ResolvedDataset {
  const r = resolveDatasets({ [name]: declaration });
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.datasets[name]!;
}

export type SinkEnv = TestBroker & { root: string; store: ObjectStore; workDir: string; topic: string; ds: ResolvedDataset; send: (values: (string | Buffer | null)[], partition?: number) => Promise<void> };

/** A broker with `<name>.processed` (and `.dlq`) of `partitions` partitions, a local lake, and a way to produce to it. */
export async function sinkEnv(t: TestContext, options: { name?: string; partitions?: number; ds?: ResolvedDataset; brokerSettings?: Parameters<typeof startBroker>[1] } = {}): Promise<SinkEnv> {
  const name = options.name ?? 'orders';
  const ds = options.ds ?? dataset(name);
  const broker = await startBroker(t, options.brokerSettings ?? {});
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [broker.address] });
  await admin.createTopics({ topics: [ds.topics.processed, ds.topics.dlq], partitions: options.partitions ?? 1, replicas: -1 });
  await admin.close();
  const dir = await tempDir(t, 'oxbow-sink-');
  const root = path.join(dir, 'lake');
  const store = await openObjectStore(root);
  defer(t, () => store.close());
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [broker.address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const send = async (values: (string | Buffer | null)[], partition = 0) => {
    for (let i = 0; i < values.length; i += 500) {
      await producer.send({
        messages: values.slice(i, i + 500).map((v) => {
          const m: { topic: string; partition: number; value?: Buffer } = { topic: ds.topics.processed, partition };
          if (v !== null) m.value = Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
          return m;
        }),
      });
    }
  };
  return { ...broker, root, store, workDir: path.join(dir, 'work'), topic: ds.topics.processed, ds, send };
}

/** Starts a sink on the env; closed when the test ends (if the test has not closed it). */
export async function startSink(t: TestContext, env: SinkEnv, options: Partial<LakeSinkOptions> = {}, logs: string[] = []): Promise<LakeSink> {
  const sink = await LakeSink.start({
    brokers: [env.address],
    clientId: 'test',
    dataset: env.ds,
    store: env.store,
    workDir: env.workDir,
    log: (line) => logs.push(line),
    sessionTimeoutMs: 6000,
    offsetCommitIntervalMs: 100,
    ...options,
  });
  defer(t, () => sink.close());
  return sink;
}

export const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR'];

/** A processed order with lineage, as the stream job writes it. `big` is past 2^53, written as JSON text. */
export function order(i: number, ts: string, partition = 0): string {
  return (
    `{"id":${i},"ts":"${ts}","amount":${(i * 1.25).toFixed(2)},"big":${9007199254740993n + BigInt(i)},"paid":${i % 2 === 0},` +
    `"note":${i % 3 === 0 ? 'null' : `"n${i}"`},"country":"${COUNTRIES[i % COUNTRIES.length]}","tags":${i % 4 === 0 ? '[]' : `["t${i % 5}","x"]`},"customer":{"name":"c${i % 7}","vip":${i % 5 === 0}},` +
    `"_source":{"topic":"orders.raw","partition":${partition},"offset":${i}}}`
  );
}

/** Every data file under root (relative keys), in key order. */
export async function lakeFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.parquet') && !e.name.startsWith('.tmp-')) out.push(path.relative(root, full));
    }
  };
  await walk(root);
  return out.sort();
}

/** Runs SQL over every data file of the lake as one table `lake` (with a `file` column); [] when there are no files. */
export async function queryLake(root: string, sql: string): Promise<Record<string, unknown>[]> {
  const files = await lakeFiles(root);
  if (files.length === 0) return [];
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  try {
    const c = await instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    const list = files.map((f) => `'${path.join(root, f).replaceAll("'", "''")}'`).join(', ');
    await c.run(`CREATE VIEW lake AS SELECT * FROM read_parquet([${list}], filename = 'file', union_by_name = true)`);
    const rows = (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    c.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

export { LocalObjectStore };

/** Waits until `condition()` is true; on timeout fails with `describe()`, which says how far it got. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
