// The stream job end to end, as an operator lives with it: a real broker, real workers, the lake declaration changed
// between runs, and the replay and dead-letter commands in between.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type TestContext } from 'node:test';
import { Admin, Consumer, ProduceAcks, Producer, type Message } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/index.ts';
import { DeadLetterCode, lookup, StreamWorker, type ResolvedDataset } from '../../src/stream/index.ts';
import { defer, eventually, OXBOW_BIN, ROOT, startBroker, tempDir } from '../helpers/broker.ts';
import { dataset } from './helpers.ts';
import { oxbowOk } from './oxbow-cli.ts';

type Record_ = Message<Buffer, Buffer, Buffer, Buffer>;
type Source = { topic: string; partition: number; offset: number };
type Processed = { key: string | null; value: Record<string, unknown> & { _source: Source }; headers: Map<string, string> };

const INDEX = JSON.stringify(path.join(ROOT, 'src', 'index.ts'));

/** Reads `topic` from the beginning into an array that keeps growing until the test ends. */
async function collect(t: TestContext, address: string, topic: string): Promise<Record_[]> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-reader', groupId: `test-reader-${topic}-${process.hrtime.bigint()}`, bootstrapBrokers: [address], maxWaitTime: 200 });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  const out: Record_[] = [];
  stream.on('data', (m: Record_) => out.push(m));
  defer(t, async () => {
    await stream.close();
    await consumer.close(true);
  });
  return out;
}

function decode(m: Record_): Processed {
  return {
    key: m.key === undefined || m.key === null ? null : m.key.toString(),
    value: JSON.parse(m.value.toString()) as Processed['value'],
    headers: new Map(m.headerEntries.map(([k, v]) => [k.toString(), v?.toString() ?? ''])),
  };
}

async function createTopic(t: TestContext, address: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [address] });
  defer(t, () => admin.close());
  await admin.createTopics({ topics: [topic], partitions, replicas: -1 });
}

function producer(t: TestContext, address: string): Producer<Buffer, Buffer, Buffer, Buffer> {
  const p = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [address], acks: ProduceAcks.ALL });
  defer(t, () => p.close());
  return p;
}

function json(topic: string, key: string, value: unknown, headers: [string, string][] = []) {
  return { topic, key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)), headers: new Map(headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) };
}

/** `oxbow stream --dataset <dataset>` as its own process; `stop` sends SIGTERM and expects a clean exit. */
async function spawnWorker(t: TestContext, args: { dataset: string; configFile: string; address: string; workerId: string }) {
  const child = spawn(process.execPath, [OXBOW_BIN, 'stream', '--dataset', args.dataset, '--config', args.configFile, '--brokers', args.address, '--worker-id', args.workerId], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`worker ${args.workerId} exited with ${child.exitCode}:\n${out}`);
    return /stream worker \S+ of dataset \S+ started/.test(out) ? true : undefined;
  }, 20_000, `worker ${args.workerId} to start`);
  return {
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      assert.match(out, /stopped cleanly\n$/);
    },
  };
}

/** A worker in this process for `dataset`, with quick offset commits; closed after the test if still running. */
async function startWorker(t: TestContext, address: string, d: ResolvedDataset, stateDir: string, logs: string[]): Promise<StreamWorker> {
  const w = await StreamWorker.start({ brokers: [address], clientId: 'test', dataset: d, stateDir, log: (l) => logs.push(l), offsetCommitIntervalMs: 100, statusIntervalMs: 200 });
  defer(t, () => w.close());
  return w;
}

test('replay from earliest reprocesses everything with new logic', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const configFile = path.join(dir, 'oxbow.config.ts');
  const writeConfig = (version: number) =>
    writeFile(
      configFile,
      `import { defineLake, enrich } from ${INDEX};
export default defineLake({
  stream: { stateDir: ${JSON.stringify(path.join(dir, 'state'))}, offsetCommitIntervalMs: 200 },
  datasets: {
    orders: {
      schema: { type: 'object', properties: { id: { type: 'integer' }, version: { type: 'integer' } }, required: ['id', 'version'], additionalProperties: false },
      steps: [enrich('version', (r) => ({ ...r, version: ${version} }))],
    },
  },
});
`,
    );
  await writeConfig(1);
  await createTopic(t, address, 'orders.raw', 2);
  const v1 = await spawnWorker(t, { dataset: 'orders', configFile, address, workerId: 'v1' });
  const processed = await collect(t, address, 'orders.processed');
  const n = 60;
  await producer(t, address).send({ messages: Array.from({ length: n }, (_, id) => json('orders.raw', `k${id % 7}`, { id })) });
  await eventually(() => (processed.length >= n ? true : undefined), 20_000, `${n} records processed by v1`);
  await v1.stop();
  assert.equal(processed.length, n, 'a clean stop commits everything: nothing is processed twice');
  assert.ok(processed.map(decode).every((r) => r.value.version === 1));

  // The operator changes the logic, replays the raw topic from its start and starts the workers again.
  await writeConfig(2);
  const replayed = await oxbowOk(['stream', 'replay', 'orders', '--from', 'earliest', '--config', configFile, '--brokers', address]);
  assert.match(replayed, /replayed orders\.raw for group oxbow\.stream\.orders:\n/);
  const moved = [...replayed.matchAll(/partition (\d)\t(\d+) → 0\n/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(moved.length, 2, replayed);
  assert.equal(moved.reduce((s, [, from]) => s + from!, 0), n, 'both partitions move from their end to 0');

  const v2 = await spawnWorker(t, { dataset: 'orders', configFile, address, workerId: 'v2' });
  await eventually(() => (processed.length >= 2 * n ? true : undefined), 20_000, `${n} more records processed by v2`);
  await v2.stop();
  const all = processed.map(decode);
  assert.equal(all.length, 2 * n);
  const offsetsBy = (version: number) => all.filter((r) => r.value.version === version).map((r) => `${r.value._source.partition}:${r.value._source.offset}`);
  const v1Offsets = offsetsBy(1);
  const v2Offsets = offsetsBy(2);
  assert.equal(v2Offsets.length, n);
  assert.equal(new Set(v2Offsets).size, n, 'v2 processed each raw record once');
  assert.deepEqual(new Set(v2Offsets), new Set(v1Offsets), 'v2 processed every raw offset that v1 did');
  assert.ok(all.slice(n).every((r) => r.value.version === 2), 'the replayed records follow the first run');
  for (const r of all) assert.equal(r.key, `k${(r.value.id as number) % 7}`, 'the original key is kept');
});

test('dlq redrive after fixing the schema brings the dead letters through', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const stateDir = path.join(dir, 'state');
  const declare = async (name: string, required: string[]) => {
    const file = path.join(dir, name);
    await writeFile(
      file,
      `import { defineLake, validate } from ${INDEX};
export default defineLake({
  datasets: {
    orders: {
      schema: { type: 'object', properties: { id: { type: 'integer' }, note: { type: 'string' } }, required: ${JSON.stringify(required)}, additionalProperties: false },
      steps: [validate()],
    },
  },
});
`,
    );
    return { file, dataset: (await loadConfig({ file })).datasets.orders! };
  };
  // The schema wrongly requires a note that half the producers never send.
  const broken = await declare('broken.config.ts', ['id', 'note']);
  const fixed = await declare('fixed.config.ts', ['id']);
  const cli = (...args: string[]) => oxbowOk([...args, '--config', fixed.file, '--brokers', address]);

  const logs: string[] = [];
  const first = await startWorker(t, address, broken.dataset, stateDir, logs);
  const processed = await collect(t, address, 'orders.processed');
  const dlq = await collect(t, address, 'orders.dlq');
  const n = 20;
  await producer(t, address).send({
    messages: Array.from({ length: n }, (_, id) => json('orders.raw', `k${id}`, id % 2 === 0 ? { id, note: `n${id}` } : { id }, [['trace', `t${id}`]])),
  });
  await eventually(() => (processed.length >= n / 2 && dlq.length >= n / 2 ? true : undefined), 20_000, 'the first run');
  await first.close();
  assert.deepEqual(first.counters.deadLettered, { [DeadLetterCode.SCHEMA_VIOLATION]: n / 2 });
  assert.match(await cli('dlq', 'inspect', 'orders'), /^orders\.dlq: 10 dead letter\(s\), 10 read\n\nOXBOW_STREAM_SCHEMA_VIOLATION  10  step validate\n/);

  const redriven = await cli('dlq', 'redrive', 'orders');
  assert.match(redriven, /^redrove 10 dead letter\(s\) from orders\.dlq to orders\.raw\n {2}OXBOW_STREAM_SCHEMA_VIOLATION\t10\n/);

  // The worker with the fixed schema picks up where the first one committed: only the redriven records are new.
  const second = await startWorker(t, address, fixed.dataset, stateDir, logs);
  await eventually(() => (processed.length >= n ? true : undefined), 20_000, 'the redriven records processed');
  await second.close();
  assert.deepEqual(second.counters, { recordsIn: n / 2, processed: n / 2, filtered: {}, deadLettered: {} });
  const all = processed.map(decode);
  assert.equal(all.length, n);
  assert.deepEqual(all.map((r) => r.value.id as number).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), 'every record made it to processed once');
  for (const r of all.filter((x) => (x.value.id as number) % 2 === 1)) {
    assert.equal(r.key, `k${r.value.id as number}`, 'a redriven record keeps its key');
    assert.equal(r.headers.get('trace'), `t${r.value.id as number}`, 'and its own headers');
    assert.ok(![...r.headers.keys()].some((k) => k.startsWith('oxbow.')), 'without the headers of its dead letter');
    assert.ok(r.value._source.offset >= n / 2, 'it was read again from the raw topic, after the first run');
  }

  // Nothing new was dead-lettered, and a second redrive has nothing left to send.
  assert.equal(dlq.length, n / 2);
  assert.match(await cli('dlq', 'inspect', 'orders'), /^orders\.dlq: 10 dead letter\(s\), 10 read\n/);
  assert.match(await cli('dlq', 'redrive', 'orders'), /^redrove 0 dead letter\(s\) from orders\.dlq to orders\.raw\n/);
  assert.ok(!logs.some((l) => /failed|bug/.test(l)), logs.join('\n'));
});

test('a lookup enrichment follows its reference file while the worker runs', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const table = path.join(dir, 'countries.csv');
  /** Replaces the table as writers should: a temporary file, then a rename. */
  const writeTable = async (csv: string) => {
    await writeFile(`${table}.tmp`, csv);
    await rename(`${table}.tmp`, table);
  };
  await writeTable('code,name,region\nDE,Germany,EU\nFR,France,EU\n');
  const d = dataset('sales', {
    schema: {
      type: 'object',
      properties: { n: { type: 'integer' }, cc: { type: 'string' }, name: { type: ['string', 'null'] }, region: { type: ['string', 'null'] } },
      required: ['n', 'cc', 'name', 'region'],
      additionalProperties: false,
    },
    steps: [lookup('country', { file: table, format: 'csv', key: 'code', on: 'cc', miss: 'null', reloadCheckMs: 50 })],
  });
  const logs: string[] = [];
  const worker = await startWorker(t, address, d, path.join(dir, 'state'), logs);
  const processed = await collect(t, address, 'sales.processed');
  const send = producer(t, address);
  let n = 0;
  const sale = (cc: string) => json('sales.raw', cc, { n: n++, cc });
  const byN = () => new Map(processed.map(decode).map((r) => [r.value.n as number, r.value]));

  await send.send({ messages: ['DE', 'FR', 'XX'].map(sale) });
  await eventually(() => (processed.length >= 3 ? true : undefined), 20_000, 'the first sales');
  assert.deepEqual([0, 1, 2].map((i) => byN().get(i)).map((v) => [v?.cc, v?.name, v?.region]), [
    ['DE', 'Germany', 'EU'],
    ['FR', 'France', 'EU'],
    ['XX', null, null],
  ]);

  // A new version of the table: a renamed country, a new row. A probe record is sent until one sees it (at most
  // one reload check interval after the rename); every record after that has the new values.
  await writeTable('code,name,region\nDE,Deutschland,EU\nFR,France,EU\nXX,Atlantis,Ocean\n');
  let seenAt = -1;
  for (let attempt = 0; attempt < 40 && seenAt < 0; attempt++) {
    const probe = n;
    await send.send({ messages: [sale('XX')] });
    const v = await eventually(() => byN().get(probe), 10_000, `probe ${probe}`);
    if (v.name === 'Atlantis') seenAt = probe;
  }
  assert.ok(seenAt >= 0, 'the worker picked up the new table');
  const from = n;
  await send.send({ messages: ['DE', 'FR', 'XX', 'ES'].map(sale) });
  await eventually(() => (byN().has(from + 3) ? true : undefined), 20_000, 'the later sales');
  assert.deepEqual([0, 1, 2, 3].map((i) => byN().get(from + i)).map((v) => [v?.cc, v?.name, v?.region]), [
    ['DE', 'Deutschland', 'EU'],
    ['FR', 'France', 'EU'],
    ['XX', 'Atlantis', 'Ocean'],
    ['ES', null, null],
  ]);
  await worker.close();
  assert.equal(worker.counters.deadLettered[DeadLetterCode.LOOKUP_MISS] ?? 0, 0);
  assert.ok(!logs.some((l) => /failed|bug|warning/.test(l)), logs.join('\n'));
});
