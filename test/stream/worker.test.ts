// The stream worker against a real broker: every raw record ends in processed, filtered or dlq; offsets are committed
// only behind acknowledged outputs; and a worker killed with -9 loses nothing, its partitions going to the other.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type TestContext } from 'node:test';
import { Admin, Consumer, ProduceAcks, Producer, type Message } from '@platformatic/kafka';
import { DeadLetterCode, enrich, filter, streamGroupId, streamStatusPath, StreamWorker, validate, type ResolvedDataset, type StreamWorkerOptions, type StreamWorkerStatus } from '../../src/stream/index.ts';
import { defer, eventually, OXBOW_BIN, ROOT, startBroker, tempDir } from '../helpers/broker.ts';
import { loadConfig } from '../../src/config/index.ts';
import { dataset } from './helpers.ts';

type Record_ = Message<Buffer, Buffer, Buffer, Buffer>;

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

async function createTopic(address: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [address] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: -1 });
  } finally {
    await admin.close();
  }
}

/** Committed offsets of `group` and end offsets of `topic`, partition by partition. */
async function offsets(address: string, group: string, topic: string, partitions: number): Promise<{ committed: bigint[]; end: bigint[] }> {
  const consumer = new Consumer({ clientId: 'test-offsets', groupId: group, bootstrapBrokers: [address] });
  try {
    const list = Array.from({ length: partitions }, (_, i) => i);
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions: list }] })).get(topic) ?? [];
    const end = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    return { committed: [...committed], end: [...end] };
  } finally {
    await consumer.close(true);
  }
}

function header(m: Record_, key: string): string | undefined {
  const entry = m.headerEntries.find(([k]) => k.toString() === key);
  return entry?.[1]?.toString();
}

function sourceOf(m: Record_): { topic: string; partition: number; offset: number } {
  return (JSON.parse(m.value.toString()) as { _source: { topic: string; partition: number; offset: number } })._source;
}

const SCHEMA = { type: 'object', properties: { id: { type: 'integer' }, kind: { type: 'string' } }, required: ['id', 'kind'], additionalProperties: false };

test('a mixed stream: every raw record is processed, filtered or dead-lettered with its code, and the worker keeps going', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const d = dataset('orders', {
    schema: SCHEMA,
    steps: [
      validate(),
      filter('no-skips', (r) => r.kind !== 'skip'),
      enrich('explode', (r) => {
        if (r.kind === 'throw') throw new Error('boom');
        return r;
      }),
      enrich('slow', (r) => (r.kind === 'hang' ? new Promise<never>(() => undefined) : r), { timeoutMs: 200 }),
    ],
  });
  await createTopic(address, 'orders.raw', 2);
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());

  const kinds: [string, number][] = [['ok', 40], ['tombstone', 2], ['badjson', 3], ['schema', 3], ['skip', 4], ['throw', 2], ['hang', 2]];
  const value = (kind: string, id: number): Buffer | undefined =>
    kind === 'tombstone' ? undefined : kind === 'badjson' ? Buffer.from(`{"id": ${id},`) : kind === 'schema' ? Buffer.from(JSON.stringify({ id: `x${id}`, kind })) : Buffer.from(JSON.stringify({ id, kind }));
  let id = 0;
  const sent = new Map<string, { kind: string; value: Buffer | undefined }>();
  const messages = kinds.flatMap(([kind, n]) =>
    Array.from({ length: n }, () => {
      const key = `k${id % 5}`;
      const v = value(kind, id++);
      sent.set(`${key}/${v?.toString() ?? 'null'}`, { kind, value: v });
      const m: { topic: string; key: Buffer; headers: Map<Buffer, Buffer>; value?: Buffer } = { topic: 'orders.raw', key: Buffer.from(key), headers: new Map([[Buffer.from('trace'), Buffer.from(`t-${kind}`)]]) };
      if (v !== undefined) m.value = v;
      return m;
    }),
  );
  await producer.send({ messages });

  const logs: string[] = [];
  const worker = await StreamWorker.start({ brokers: [address], clientId: 'test', dataset: d, stateDir: dir, workerId: 'w1', log: (l) => logs.push(l), offsetCommitIntervalMs: 100, statusIntervalMs: 200 });
  defer(t, () => worker.close());
  const processed = await collect(t, address, 'orders.processed');
  const dlq = await collect(t, address, 'orders.dlq');

  const total = messages.length;
  await eventually(() => (processed.length >= 40 && dlq.length >= 12 ? true : undefined), 20_000, 'outputs of the first batch');
  const c = worker.counters;
  assert.equal(c.recordsIn, total);
  assert.equal(c.processed, 40);
  assert.deepEqual(c.filtered, { 'no-skips': 4 });
  assert.deepEqual(c.deadLettered, {
    [DeadLetterCode.TOMBSTONE]: 2,
    [DeadLetterCode.INVALID_JSON]: 3,
    [DeadLetterCode.SCHEMA_VIOLATION]: 3,
    [DeadLetterCode.STEP_FAILED]: 2,
    [DeadLetterCode.STEP_TIMEOUT]: 2,
  });
  assert.equal(c.processed + 4 + dlq.length, total, 'processed + filtered + dead-lettered = raw');
  assert.equal(processed.length, 40);
  assert.equal(dlq.length, 12);

  const expectedCode: Record<string, string> = {
    tombstone: DeadLetterCode.TOMBSTONE,
    badjson: DeadLetterCode.INVALID_JSON,
    schema: DeadLetterCode.SCHEMA_VIOLATION,
    throw: DeadLetterCode.STEP_FAILED,
    hang: DeadLetterCode.STEP_TIMEOUT,
  };
  for (const m of dlq) {
    const origin = sent.get(`${m.key.toString()}/${m.value?.toString() ?? 'null'}`);
    assert.ok(origin, `dead letter ${m.value?.toString()} has the original key and value`);
    assert.equal(header(m, 'oxbow.error.code'), expectedCode[origin.kind]);
    assert.equal(header(m, 'trace'), `t-${origin.kind}`, 'original headers are kept');
    assert.equal(header(m, 'oxbow.source.topic'), 'orders.raw');
    assert.equal(header(m, 'oxbow.source.partition'), String(m.partition), 'a dead letter goes to the dlq partition of its raw partition');
    assert.equal(origin.value === undefined, m.value === undefined || m.value === null, 'a tombstone stays a tombstone');
  }
  const rawOffsets = new Set<string>();
  for (const m of processed) {
    const s = sourceOf(m);
    assert.equal(s.topic, 'orders.raw');
    assert.equal(s.partition, m.partition, 'processed partition = raw partition');
    assert.equal(header(m, 'trace'), 't-ok');
    assert.ok(sent.has(`${m.key.toString()}/${JSON.stringify({ id: (JSON.parse(m.value.toString()) as { id: number }).id, kind: 'ok' })}`), 'processed keeps the original key');
    rawOffsets.add(`${s.partition}:${s.offset}`);
  }
  assert.equal(rawOffsets.size, 40, 'each processed record comes from a distinct raw record');
  // Per key, processed records keep the order of their raw offsets.
  const byKey = new Map<string, number[]>();
  for (const m of processed) byKey.set(m.key.toString(), [...(byKey.get(m.key.toString()) ?? []), sourceOf(m).offset]);
  for (const [key, list] of byKey) assert.deepEqual(list, [...list].sort((a, b) => a - b), `order of key ${key}`);

  // The worker keeps running: more records flow.
  await producer.send({ messages: Array.from({ length: 10 }, (_, i) => ({ topic: 'orders.raw', key: Buffer.from(`n${i}`), value: Buffer.from(JSON.stringify({ id: 1000 + i, kind: 'ok' })) })) });
  await eventually(() => (processed.length >= 50 ? true : undefined), 20_000, 'the second batch');
  assert.equal(worker.counters.recordsIn, total + 10);

  // Committed offsets of the group reach the raw end offsets.
  const o = await eventually(async () => {
    const r = await offsets(address, streamGroupId('orders'), 'orders.raw', 2);
    return r.committed.every((x, i) => x === r.end[i]) ? r : undefined;
  }, 10_000, 'committed offsets = end offsets');
  assert.equal(o.end.reduce((a, b) => a + b, 0n), BigInt(total + 10));

  // The status file says who the worker is, what it holds and what it counted.
  const status = await eventually(async () => {
    const s = JSON.parse(await readFile(streamStatusPath(dir, 'orders', 'w1'), 'utf8')) as StreamWorkerStatus;
    return s.counters.recordsIn === total + 10 && s.lag.every((l) => l.lag === 0) ? s : undefined;
  }, 5000, 'status file with the final counts');
  assert.equal(status.pid, process.pid);
  assert.equal(status.dataset, 'orders');
  assert.deepEqual(status.assignments, [{ topic: 'orders.raw', partitions: [0, 1] }]);
  assert.equal(status.counters.processed, 50);
  assert.ok(!Number.isNaN(Date.parse(status.startedAt)) && !Number.isNaN(Date.parse(status.updatedAt)));

  await worker.close();
  const stopped = JSON.parse(await readFile(streamStatusPath(dir, 'orders', 'w1'), 'utf8')) as StreamWorkerStatus;
  assert.equal(stopped.state, 'stopped');
  assert.ok(!logs.some((l) => /failed|bug/.test(l)), `no Kafka errors or bugs were logged:\n${logs.join('\n')}`);
});

type WorkerProcess = { child: ChildProcess; output: () => string; workerId: string };

function spawnWorker(t: TestContext, configFile: string, address: string, workerId: string): WorkerProcess {
  const child = spawn(process.execPath, [OXBOW_BIN, 'stream', '--dataset', 'd', '--config', configFile, '--brokers', address, '--worker-id', workerId], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out, workerId };
}

async function readStatus(stateDir: string, workerId: string): Promise<StreamWorkerStatus | undefined> {
  try {
    return JSON.parse(await readFile(streamStatusPath(stateDir, 'd', workerId), 'utf8')) as StreamWorkerStatus;
  } catch {
    return undefined;
  }
}

test('large records: outputs over the broker\'s max.message.bytes per batch are sent in several requests, in order, none stuck', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  await createTopic(address, 'big.raw', 1);
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  // 3,000 records of 1.5 KiB: a lane's batch of 2,000 holds 3 MB, three times the broker's 1 MiB per record batch.
  const pad = 'x'.repeat(1500);
  const total = 3000;
  for (let from = 0; from < total; from += 500) {
    await producer.send({ messages: Array.from({ length: 500 }, (_, i) => ({ topic: 'big.raw', value: Buffer.from(JSON.stringify({ id: from + i, pad })) })) });
  }
  const logs: string[] = [];
  const worker = await StreamWorker.start({ brokers: [address], clientId: 'test', dataset: dataset('big', { schema: { type: 'object' } }), stateDir: dir, log: (l) => logs.push(l), offsetCommitIntervalMs: 100 });
  defer(t, () => worker.close());
  const processed = await collect(t, address, 'big.processed');
  await eventually(() => (processed.length >= total ? true : undefined), 30_000, `${total} processed records (have ${processed.length}; log: ${logs.join(' | ')})`);
  assert.deepEqual(processed.map((m) => (JSON.parse(m.value.toString()) as { id: number }).id), Array.from({ length: total }, (_, i) => i), 'each once, in order');
  assert.ok(!logs.some((l) => /failed/.test(l)), logs.join('\n'));
  await eventually(async () => {
    const o = await offsets(address, streamGroupId('big'), 'big.raw', 1);
    return o.committed[0] === BigInt(total) ? true : undefined;
  }, 10_000, 'the raw offset committed past every record');
});

test('two worker processes share a 4-partition topic; after kill -9 of one, the other takes over and nothing is lost', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'oxbow.config.ts');
  await writeFile(
    configFile,
    `import { defineLake, enrich } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
export default defineLake({
  stream: { stateDir: ${JSON.stringify(stateDir)}, sessionTimeoutMs: 6000, offsetCommitIntervalMs: 200 },
  datasets: {
    d: {
      schema: ${JSON.stringify(SCHEMA)},
      steps: [enrich('slow', async (r) => { await new Promise((ok) => setTimeout(ok, 4)); return r; })],
    },
  },
});
`,
  );
  await createTopic(address, 'd.raw', 4);
  const a = spawnWorker(t, configFile, address, 'wa');
  const b = spawnWorker(t, configFile, address, 'wb');
  for (const w of [a, b]) await eventually(() => (/stream worker \S+ of dataset d started/.test(w.output()) ? true : undefined), 20_000, `worker ${w.workerId} to start`);
  // Both are members before any record arrives: two partitions each.
  await eventually(async () => {
    const [sa, sb] = [await readStatus(stateDir, 'wa'), await readStatus(stateDir, 'wb')];
    return sa?.assignments[0]?.partitions.length === 2 && sb?.assignments[0]?.partitions.length === 2 ? true : undefined;
  }, 20_000, 'two partitions per worker');

  const processed = await collect(t, address, 'd.processed');
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const total = 1600;
  for (let i = 0; i < total; i += 200) {
    await producer.send({ messages: Array.from({ length: 200 }, (_, j) => ({ topic: 'd.raw', key: Buffer.from(`k${(i + j) % 37}`), value: Buffer.from(JSON.stringify({ id: i + j, kind: 'ok' })) })) });
  }

  // Kill one worker while both are busy.
  await eventually(async () => ((await readStatus(stateDir, 'wa'))?.counters.recordsIn ?? 0) >= 100 ? true : undefined, 20_000, 'worker wa busy');
  a.child.kill('SIGKILL');
  const before = (await readStatus(stateDir, 'wa'))!.counters.recordsIn;
  assert.ok(before < total, 'the kill happened mid-stream');

  // The survivor gets every partition, and every raw record appears in processed at least once.
  await eventually(async () => ((await readStatus(stateDir, 'wb'))?.assignments[0]?.partitions.length === 4 ? true : undefined), 20_000, 'wb to own all four partitions');
  const seen = await eventually(() => {
    const s = new Set(processed.map((m) => { const src = sourceOf(m); return `${src.partition}:${src.offset}`; }));
    return s.size === total ? s : undefined;
  }, 25_000, 'every raw record in processed');
  assert.equal(seen.size, total);
  const r = await eventually(async () => {
    const o = await offsets(address, streamGroupId('d'), 'd.raw', 4);
    return o.committed.every((x, i) => x === o.end[i]) ? o : undefined;
  }, 10_000, 'committed offsets = end offsets');
  assert.equal(r.end.reduce((x, y) => x + y, 0n), BigInt(total));

  // The survivor shuts down cleanly on SIGTERM.
  const exited = new Promise<number | null>((resolve) => b.child.on('exit', (code) => resolve(code)));
  b.child.kill('SIGTERM');
  assert.equal(await exited, 0, b.output());
  assert.match(b.output(), /stopped cleanly/);
  assert.equal((await readStatus(stateDir, 'wb'))?.state, 'stopped');
});

test('oxbow stream refuses a missing or unknown dataset with a usage error', async (t) => {
  const dir = await tempDir(t);
  const configFile = path.join(dir, 'oxbow.config.ts');
  await writeFile(configFile, `import { defineLake } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};\nexport default defineLake({ datasets: { d: { schema: ${JSON.stringify(SCHEMA)} } } });\n`);
  const runCli = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [OXBOW_BIN, 'stream', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
  const missing = await runCli(['--config', configFile]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /stream needs --dataset <name> \[OXBOW_CLI_USAGE\]/);
  const unknown = await runCli(['--dataset', 'nope', '--config', configFile, '--brokers', '127.0.0.1:1']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown dataset "nope"; configured: d/);
});

/** A worker whose steps run on step threads (one unless `options` says otherwise), loading `configFile` as `oxbow stream` does. */
function startOnStepThreads(address: string, d: ResolvedDataset, dir: string, configFile: string, options: Partial<StreamWorkerOptions> = {}): Promise<StreamWorker> {
  return StreamWorker.start({ brokers: [address], clientId: 'test', dataset: d, stateDir: dir, workerId: 'w1', log: () => undefined, stepThreads: 1, configSource: { configFile, cwd: dir }, ...options });
}

/** A config file declaring dataset `d` whose steps are written as source text, as a user's oxbow.config.ts holds them. */
async function writeStepsConfig(dir: string, steps: string, extra = ''): Promise<string> {
  const configFile = path.join(dir, 'oxbow.config.ts');
  await writeFile(
    configFile,
    `import { defineLake, enrich, filter, lookup, validate } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
export default defineLake({ datasets: { d: { schema: ${JSON.stringify(SCHEMA)}, steps: [${steps}] } } });
${extra}`,
  );
  return configFile;
}

test('step threads: a mixed stream gets the same outcomes as on one thread; a record that ends its thread is dead-lettered, the others go through', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const configFile = await writeStepsConfig(
    dir,
    `validate(),
      filter('no-skips', (r) => r.kind !== 'skip'),
      enrich('explode', (r) => {
        if (r.kind === 'throw') throw new Error('boom');
        if (r.kind === 'exit') process.exit(7);
        return r.kind === 'ok' ? { ...r, kind: 'ok-ok' } : r;
      }),
      enrich('slow', (r) => (r.kind === 'hang' ? new Promise(() => undefined) : r), { timeoutMs: 200 }),`,
  );
  const d = (await loadConfig({ file: configFile, cwd: dir })).datasets.d!;
  await createTopic(address, 'd.raw', 2);
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const kinds: [string, number][] = [['ok', 300], ['badjson', 3], ['schema', 3], ['skip', 4], ['throw', 2], ['hang', 2], ['exit', 1]];
  let id = 0;
  const messages = kinds.flatMap(([kind, n]) =>
    Array.from({ length: n }, () => {
      const i = id++;
      const value = kind === 'badjson' ? Buffer.from(`{"id": ${i},`) : Buffer.from(JSON.stringify({ id: kind === 'schema' ? `x${i}` : i, kind }));
      return { topic: 'd.raw', key: Buffer.from(`k${i % 7}`), value, headers: new Map([[Buffer.from('trace'), Buffer.from(`t-${kind}`)]]) };
    }),
  );
  // Interleaved, so that the record that ends its thread shares a slice with good ones.
  messages.sort((a, b) => (a.value.toString() < b.value.toString() ? -1 : 1));
  await producer.send({ messages });

  const logs: string[] = [];
  const worker = await startOnStepThreads(address, d, dir, configFile, { log: (l) => logs.push(l), offsetCommitIntervalMs: 100 });
  defer(t, () => worker.close());
  const processed = await collect(t, address, 'd.processed');
  const dlq = await collect(t, address, 'd.dlq');
  await eventually(() => (processed.length >= 300 && dlq.length >= 11 ? true : undefined), 30_000, 'every output').catch((err: Error) => {
    throw new Error(`${err.message}: ${processed.length} processed, ${dlq.length} dead letters, counters ${JSON.stringify(worker.counters)}; log:\n${logs.join('\n')}`);
  });
  const c = worker.counters;
  assert.equal(c.recordsIn, messages.length);
  assert.equal(c.processed, 300);
  assert.deepEqual(c.filtered, { 'no-skips': 4 });
  assert.deepEqual(c.deadLettered, {
    [DeadLetterCode.INVALID_JSON]: 3,
    [DeadLetterCode.SCHEMA_VIOLATION]: 3,
    [DeadLetterCode.STEP_FAILED]: 3,
    [DeadLetterCode.STEP_TIMEOUT]: 2,
  });
  assert.equal(processed.length, 300);
  assert.equal(dlq.length, 11);
  for (const m of processed) {
    assert.equal((JSON.parse(m.value.toString()) as { kind: string }).kind, 'ok-ok', 'the enrich function ran');
    assert.equal(header(m, 'trace'), 't-ok', 'headers are kept');
    assert.equal(sourceOf(m).partition, m.partition);
  }
  const exit = dlq.find((m) => header(m, 'trace') === 't-exit');
  assert.ok(exit, 'the record that ended its thread is a dead letter');
  assert.equal(header(exit, 'oxbow.error.code'), DeadLetterCode.STEP_FAILED);
  assert.match(header(exit, 'oxbow.error.message') ?? '', /ended their thread \(exit code 7\)/);
  assert.equal(JSON.parse(exit.value.toString()).kind, 'exit', 'the dead letter keeps the original value');
  const byKey = new Map<string, number[]>();
  for (const m of processed) byKey.set(m.key.toString(), [...(byKey.get(m.key.toString()) ?? []), sourceOf(m).offset]);
  for (const [key, list] of byKey) assert.deepEqual(list, [...list].sort((a, b) => a - b), `order of key ${key}`);
  assert.ok(logs.some((l) => /a step thread of d ended \(exit code 7\)/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => /ends a step thread each time it runs; dead-lettered/.test(l)), logs.join('\n'));

  // Still running after its thread was replaced.
  await producer.send({ messages: Array.from({ length: 10 }, (_, i) => ({ topic: 'd.raw', value: Buffer.from(JSON.stringify({ id: 1000 + i, kind: 'ok' })) })) });
  await eventually(() => (processed.length >= 310 ? true : undefined), 20_000, 'records after the thread was replaced');
  const o = await eventually(async () => {
    const r = await offsets(address, streamGroupId('d'), 'd.raw', 2);
    return r.committed.every((x, i) => x === r.end[i]) ? r : undefined;
  }, 10_000, 'committed offsets = end offsets');
  assert.equal(o.end.reduce((a, b) => a + b, 0n), BigInt(messages.length + 10));
  await worker.close();
});

test('step threads: a dataset whose lookup file cannot be loaded stops the worker from starting, with the lookup error', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  // The file exists (the configuration is checked for that) but has no column "code".
  await writeFile(path.join(dir, 'countries.csv'), 'name\nNorway\n');
  const configFile = await writeStepsConfig(dir, `lookup('country', { file: ${JSON.stringify(path.join(dir, 'countries.csv'))}, format: 'csv', key: 'code', on: 'kind', miss: 'null' }),`);
  const d = (await loadConfig({ file: configFile, cwd: dir })).datasets.d!;
  await assert.rejects(
    startOnStepThreads(address, d, dir, configFile, { stepThreads: 2 }),
    (err: Error & { code?: string }) => err.code === 'OXBOW_STREAM_LOOKUP_UNREADABLE' && /countries\.csv/.test(err.message),
  );
});

test('step threads: 20,000 records over many slices and sends arrive intact while the threads reuse their buffers', async (t) => {
  const { address } = await startBroker(t);
  const dir = await tempDir(t);
  const configFile = await writeStepsConfig(dir, `validate(), enrich('sign', (r) => ({ ...r, kind: r.kind + '!' + r.id }))`);
  const d = (await loadConfig({ file: configFile, cwd: dir })).datasets.d!;
  await createTopic(address, 'd.raw', 2);
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'test-producer', bootstrapBrokers: [address], acks: ProduceAcks.ALL });
  defer(t, () => producer.close());
  const total = 20_000;
  const kindOf = (i: number) => `k-${i}-${'p'.repeat(200 + (i % 97))}`;
  for (let from = 0; from < total; from += 2000) {
    const messages = Array.from({ length: 2000 }, (_, j) => {
      const i = from + j;
      return { topic: 'd.raw', partition: i % 2, value: Buffer.from(JSON.stringify({ id: i, kind: kindOf(i) })) };
    });
    await producer.send({ messages });
  }
  const worker = await startOnStepThreads(address, d, dir, configFile);
  defer(t, () => worker.close());
  const processed = await collect(t, address, 'd.processed');
  await eventually(() => (processed.length >= total ? true : undefined), 60_000, `${total} processed records`);
  const seen = new Set<number>();
  for (const m of processed) {
    const r = JSON.parse(m.value!.toString('utf8')) as { id: number; kind: string; _source: { partition: number } };
    assert.equal(r.kind, `${kindOf(r.id)}!${r.id}`, `record ${r.id} holds its own bytes`);
    assert.equal(r._source.partition, r.id % 2);
    seen.add(r.id);
  }
  assert.equal(seen.size, total, 'every record once');
  assert.equal(worker.counters.processed, total);
});
