// `oxbow up` as a user runs it: the embedded broker and a stream worker per declared dataset in one process, driven
// from the outside with kcat, and stopped with SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { StreamWorkerStatus } from '../../src/stream/index.ts';
import { defer, eventually, OXBOW_BIN, ROOT, run, startBroker, tempDir } from '../helpers/broker.ts';

/** `oxbow up <args>` as a child process; `ready()` resolves with its standard output once it printed every endpoint. */
function startUp(t: TestContext, args: string[]) {
  // Free ports for the SQL endpoints, so tests running side by side do not collide.
  const child = spawn(process.execPath, [OXBOW_BIN, 'up', '--http-port', '0', '--pg-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close' rather than 'exit': by then stderr has been read to its end, so a failing assertion shows all of it.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => {
      if (signal !== null) stderr += `[ended by ${signal}]\n`;
      resolve(code);
    }),
  );
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const ready = () => eventually(() => {
    if (child.exitCode !== null) throw new Error(`oxbow up exited with ${child.exitCode}; stderr:\n${stderr}`);
    return /Press Ctrl-C to stop\.\n/.test(stdout) ? stdout : undefined;
  }, 20_000, 'oxbow up to print its endpoints');
  return { child, exited, ready, stderr: () => stderr };
}

function kafkaAddress(line: string | undefined): string {
  const m = /^ {2}kafka {4}(127\.0\.0\.1:(\d+)) {4}\(bootstrap server for any Kafka client; try: kcat -b \1 -L\)$/.exec(line ?? '');
  assert.ok(m, `kafka endpoint line: ${JSON.stringify(line)}`);
  assert.notEqual(Number(m[2]), 0);
  return m[1]!;
}

/** Every record of `topic` from the beginning, one `kcat -f` line each, once there are at least `count`. */
async function kcatRead(address: string, topic: string, format: string, count: number): Promise<string[]> {
  return eventually(async () => {
    const { stdout } = await run('kcat', ['-b', address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', format], { timeoutMs: 10_000 });
    const lines = stdout.toString().split('\n').filter((l) => l !== '');
    return lines.length >= count ? lines : undefined;
  }, 20_000, `${count} record(s) on ${topic}`);
}

test('oxbow up without datasets prints the broker and a hint where to declare datasets; kcat works; SIGTERM stops it', async (t) => {
  const dataDir = await tempDir(t);
  const emptyConfig = path.join(dataDir, 'empty.config.ts');
  await writeFile(emptyConfig, 'export default {};\n');
  const up = startUp(t, ['--kafka-port', '0', '--data-dir', path.join(dataDir, 'lake'), '--config', emptyConfig]);
  const lines = (await up.ready()).split('\n');
  assert.equal(lines[0], 'Oxbow is up.');
  const address = kafkaAddress(lines[1]);
  assert.equal(lines[2], `  stream   no datasets declared; declare them in ${emptyConfig} with defineLake({ datasets: {...} }), see docs/stream.md`);
  assert.match(lines[3]!, /^ {2}lake {5}file:\/\/\/.*\/lake\/lake {4}\(golden zone: golden\/<topic>\/YYYY\/MM\/DD\/HH\/; try: oxbow lake ls <dataset> --storage .*\)$/);
  assert.match(lines[4]!, /^ {2}catalog {2}sqlite:\/\/\/.*\/lake\/catalog\.db {4}\(crawled every 30000 ms and after each sink commit\)$/);
  assert.match(lines[5]!, /^ {2}http {5}http:\/\/127\.0\.0\.1:\d+\/v1\/sql {4}\(try: curl /);
  assert.match(lines[6]!, /^ {2}postgres 127\.0\.0\.1:\d+ {4}\(try: psql -h 127\.0\.0\.1 -p \d+ -c 'SELECT 42'\)$/);
  assert.equal(lines[7], `  data     ${path.join(dataDir, 'lake')}`);
  const md = JSON.parse((await run('kcat', ['-b', address, '-L', '-J'])).stdout.toString()) as { brokers: { id: number; name: string }[] };
  assert.deepEqual(md.brokers.map((x) => `${x.id}@${x.name}`), [`1@${address}`]);
  await run('kcat', ['-b', address, '-P', '-t', 'from-kcat'], { input: 'hello\n' });
  assert.deepEqual(await kcatRead(address, 'from-kcat', '%s\n', 1), ['hello']);
  up.child.kill('SIGTERM');
  assert.equal(await up.exited, 0);
  assert.match(up.stderr(), /SIGTERM: shutting down\nstopped cleanly\n$/);
  assert.deepEqual((await readdir(path.join(dataDir, 'lake'))).filter((n) => !n.startsWith('catalog.db-')).sort(), ['broker', 'catalog.db', 'lake', 'query-cache']);
});

test('oxbow up runs a stream worker per dataset: JSON lines from kcat come out processed with _source, a bad line on the dlq', async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'lake');
  const configFile = path.join(dir, 'oxbow.config.ts');
  await writeFile(
    configFile,
    `import { defineLake, validate } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
export default defineLake({
  stream: { offsetCommitIntervalMs: 200 },
  sink: { rotateScheduleIntervalMs: '300ms' },
  datasets: {
    orders: {
      schema: { type: 'object', properties: { id: { type: 'integer' }, item: { type: 'string' } }, required: ['id', 'item'], additionalProperties: false },
      steps: [validate()],
    },
  },
});
`,
  );
  const up = startUp(t, ['--kafka-port', '0', '--data-dir', dataDir, '--config', configFile, '--status-every', '200ms']);
  const lines = (await up.ready()).split('\n');
  const address = kafkaAddress(lines[1]);
  assert.equal(lines[2], '  stream   orders: orders.raw → orders.processed (dead letters: orders.dlq)');
  assert.equal(lines[7], `  data     ${dataDir}`);

  const input = ['{"id": 1, "item": "apple"}', '{"id": 2, "item": "pear"}', 'not json at all', '{"id": 3, "item": "plum"}'];
  await run('kcat', ['-b', address, '-P', '-t', 'orders.raw', '-K', '|'], { input: input.map((l, i) => `k${i}|${l}`).join('\n') + '\n' });

  const processed = (await kcatRead(address, 'orders.processed', '%k\t%s\n', 3)).map((l) => {
    const [key, value] = l.split('\t') as [string, string];
    return { key, value: JSON.parse(value) as Record<string, unknown> };
  });
  assert.deepEqual(
    processed.map((r) => ({ key: r.key, id: r.value.id, item: r.value.item, source: r.value._source })),
    [
      { key: 'k0', id: 1, item: 'apple', source: { topic: 'orders.raw', partition: 0, offset: 0 } },
      { key: 'k1', id: 2, item: 'pear', source: { topic: 'orders.raw', partition: 0, offset: 1 } },
      { key: 'k3', id: 3, item: 'plum', source: { topic: 'orders.raw', partition: 0, offset: 3 } },
    ],
  );
  const [dead] = await kcatRead(address, 'orders.dlq', '%k\t%s\t%h\n', 1);
  const [key, value, headers] = dead!.split('\t') as [string, string, string];
  assert.equal(key, 'k2');
  assert.equal(value, 'not json at all', 'a dead letter keeps the original value');
  assert.match(headers, /oxbow\.error\.code=OXBOW_STREAM_INVALID_JSON/);
  assert.match(headers, /oxbow\.source\.offset=2/);

  // The worker's status file is under <data-dir>/stream, since the config does not set stream.stateDir.
  const status = await eventually(async () => {
    const files = await readdir(path.join(dataDir, 'stream', 'orders')).catch(() => []);
    const file = files.find((f) => f.endsWith('.json'));
    if (file === undefined) return undefined;
    const s = JSON.parse(await readFile(path.join(dataDir, 'stream', 'orders', file), 'utf8')) as StreamWorkerStatus;
    return s.counters.recordsIn === 4 ? s : undefined;
  }, 10_000, 'a status file counting 4 records');
  assert.deepEqual(status.counters, { recordsIn: 4, processed: 3, filtered: {}, deadLettered: { OXBOW_STREAM_INVALID_JSON: 1 } });

  // The sink commits the file (wall-clock rule of 300 ms), the catalog is crawled after the commit, and both SQL
  // endpoints see the three records.
  const httpUrl = /^ {2}http {5}(http:\S+)/m.exec(lines.join('\n'))![1]!;
  const pgPort = /^ {2}postgres 127\.0\.0\.1:(\d+)/m.exec(lines.join('\n'))![1]!;
  const rows = await eventually(async () => {
    const res = await fetch(httpUrl, { method: 'POST', body: JSON.stringify({ sql: 'SELECT id, item, _source_offset FROM orders ORDER BY id' }) });
    const body = (await res.json()) as { rows?: unknown[][] };
    return body.rows?.length === 3 ? body.rows : undefined;
  }, 20_000, 'the three records through POST /v1/sql');
  assert.deepEqual(rows, [['1', 'apple', '0'], ['2', 'pear', '1'], ['3', 'plum', '3']]);
  const psql = await run('psql', ['-h', '127.0.0.1', '-p', pgPort, '-U', 'analyst', '-d', 'lake', '-At', '-F', ',', '-c', 'SELECT item, id * 10 FROM lake.orders WHERE id > 1 ORDER BY id']);
  assert.equal(psql.stdout.toString(), 'pear,20\nplum,30\n');
  // oxbow sql asks the running lake when given its URL.
  const viaUrl = await run(process.execPath, [OXBOW_BIN, 'sql', '--url', httpUrl.replace('/v1/sql', ''), '--format', 'csv', 'SELECT id, item FROM orders ORDER BY id']);
  assert.equal(viaUrl.stdout.toString(), 'id,item\n1,apple\n2,pear\n3,plum\n');
  // Without --url it finds the lake running on the configured HTTP port by itself.
  const clientConfig = path.join(dir, 'client.config.ts');
  await writeFile(clientConfig, `export default { server: { httpPort: ${new URL(httpUrl).port} } };\n`);
  const found = await run(process.execPath, [OXBOW_BIN, 'sql', '--config', clientConfig, '--format', 'json', 'SELECT count(*) AS n FROM orders']);
  assert.deepEqual(JSON.parse(found.stdout.toString()), { columns: [{ name: 'n', type: 'BIGINT' }], rows: [{ n: '3' }] });

  // The status line counts what happened, per dataset.
  await eventually(() => (/status: orders: 4 in, 3 processed, 0 filtered, 1 dead, lag 0, 1 files, last commit \d+\.\d s ago\n/.test(up.stderr()) ? true : undefined), 10_000, `a status line in:\n${up.stderr()}`);

  up.child.kill('SIGTERM');
  assert.equal(await up.exited, 0, up.stderr());
  // The worker stops, with its counts, then the sink, which commits the open file, then the broker.
  assert.match(up.stderr(), /SIGTERM: shutting down\n(?:.*\n)*.* stream orders: stopped: 4 in, 3 processed, 0 filtered, 1 dead-lettered\n(?:.*\n)*.* sink orders: stopped: 3 read, 3 rows in 1 files committed, 0 already in the lake, 0 dead-lettered\n(?:.*\n)*stopped cleanly\n$/);
  assert.doesNotMatch(up.stderr(), /failed|bug/);
  assert.deepEqual((await readdir(dataDir)).filter((n) => !n.startsWith('catalog.db-')).sort(), ['broker', 'catalog.db', 'lake', 'query-cache', 'sink', 'stream']);
  // The three processed records are in the golden zone, in the hour partition of their Kafka timestamp.
  const ls = await run(process.execPath, [OXBOW_BIN, 'lake', 'ls', 'orders', '--storage', path.join(dataDir, 'lake'), '--config', configFile, '--format', 'json']);
  const listing = JSON.parse(ls.stdout.toString()) as { partitions: { path: string; rows: number; files: { key: string; rows: number }[] }[] };
  assert.equal(listing.partitions.length, 1);
  assert.match(listing.partitions[0]!.path, /^golden\/orders\.processed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/$/);
  assert.deepEqual(listing.partitions[0]!.files.map((f) => [f.key.slice(f.key.lastIndexOf('/') + 1), f.rows]), [['orders.processed+0+0+2.snappy.parquet', 3]]);
  // With the lake stopped, oxbow sql --local reads the catalog and the files itself, and prints a table.
  const local = await run(process.execPath, [
    OXBOW_BIN, 'sql', '--local', '--config', configFile, '--storage', path.join(dataDir, 'lake'), '--catalog', path.join(dataDir, 'catalog.db'),
    'SELECT item, count(*) AS n FROM orders GROUP BY item ORDER BY item',
  ]);
  assert.equal(local.stdout.toString(), 'item  | n\n------+--\napple | 1\npear  | 1\nplum  | 1\n(3 rows)\n');
});

for (const stepThreads of [0, 1]) {
  const what = stepThreads === 0 ? 'a stream thread that ends on its own (a step calls process.exit, stream.stepThreads 0) is started again' : 'a step thread that ends (a step calls process.exit) is replaced and its records run again';
  test(`${what}; every record still lands once in SQL`, async (t) => {
    const dir = await tempDir(t);
    const dataDir = path.join(dir, 'lake');
    const marker = path.join(dir, 'exited-once');
    const configFile = path.join(dir, 'oxbow.config.ts');
    await writeFile(
      configFile,
      `import { existsSync, writeFileSync } from 'node:fs';
  import { defineLake, enrich } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
  export default defineLake({
    stream: { offsetCommitIntervalMs: 100, stepThreads: ${stepThreads} },
    sink: { rotateScheduleIntervalMs: '300ms' },
    datasets: {
      orders: {
        schema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
        steps: [
          enrich('exit-once', (r) => {
            if (r.id === 7 && !existsSync(${JSON.stringify(marker)})) {
              writeFileSync(${JSON.stringify(marker)}, '');
              process.exit(7);
            }
            return r;
          }),
        ],
      },
    },
  });
  `,
    );
    const up = startUp(t, ['--kafka-port', '0', '--data-dir', dataDir, '--config', configFile, '--status-every', '200ms']);
    const lines = (await up.ready()).split('\n');
    const address = kafkaAddress(lines[1]);
    const httpUrl = /^ {2}http {5}(http:\S+)/m.exec(lines.join('\n'))![1]!;
    await run('kcat', ['-b', address, '-P', '-t', 'orders.raw'], { input: Array.from({ length: 20 }, (_, i) => `{"id": ${i}}`).join('\n') + '\n' });
    if (stepThreads === 0) {
      await eventually(() => (/stream orders: the stream thread of orders started again\n/.test(up.stderr()) ? true : undefined), 20_000, `a restart in:\n${up.stderr()}`);
      assert.match(up.stderr(), /stream orders: the stream thread of orders ended unexpectedly \(exit code 7\); starting it again in 1000 ms\n/);
    } else {
      await eventually(() => (/stream orders: a step thread of orders ended \(exit code 7\) while holding \d+ record\(s\); starting another and running them again\n/.test(up.stderr()) ? true : undefined), 20_000, `a replaced step thread in:\n${up.stderr()}`);
    }
    const rows = await eventually(async () => {
      const res = await fetch(httpUrl, { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM orders' }) });
      const body = (await res.json()) as { rows?: unknown[][] };
      return body.rows?.[0]?.[0] === '20' ? body.rows : undefined;
    }, 20_000, 'the 20 records through POST /v1/sql');
    assert.deepEqual(rows, [['20', '20', '0', '19']]);
    if (stepThreads === 0) await eventually(() => (/status: orders: .*, stream restarted 1×\n/.test(up.stderr()) ? true : undefined), 10_000, `a status line that tells the restart in:\n${up.stderr()}`);
    else assert.doesNotMatch(up.stderr(), /stream restarted|dead-lettered/, 'the stream thread itself kept running');
    up.child.kill('SIGTERM');
    assert.equal(await up.exited, 0, up.stderr());
    assert.match(up.stderr(), /stopped cleanly\n$/);
  });
}

test('with kafka.brokers set, oxbow up runs no broker of its own and its workers use that cluster; stream.stateDir is kept', async (t) => {
  const cluster = await startBroker(t);
  const dir = await tempDir(t);
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'oxbow.config.ts');
  await writeFile(
    configFile,
    `export default ${JSON.stringify({ kafka: { brokers: [cluster.address] }, stream: { stateDir }, datasets: { clicks: { schema: { type: 'object' } } } })};\n`,
  );
  const up = startUp(t, ['--data-dir', path.join(dir, 'lake'), '--config', configFile]);
  const lines = (await up.ready()).split('\n');
  assert.equal(lines[1], `  kafka    ${cluster.address}    (external cluster from kafka.brokers; no embedded broker)`);
  assert.equal(lines[2], '  stream   clicks: clicks.raw → clicks.processed (dead letters: clicks.dlq)');
  await run('kcat', ['-b', cluster.address, '-P', '-t', 'clicks.raw'], { input: '{"page": "/"}\n' });
  const [value] = await kcatRead(cluster.address, 'clicks.processed', '%s\n', 1);
  assert.deepEqual(JSON.parse(value!), { page: '/', _source: { topic: 'clicks.raw', partition: 0, offset: 0 } });
  await eventually(async () => ((await readdir(path.join(stateDir, 'clicks')).catch(() => [])).length > 0 ? true : undefined), 10_000, 'a status file in stream.stateDir');
  up.child.kill('SIGINT');
  assert.equal(await up.exited, 0, up.stderr());
  assert.match(up.stderr(), /SIGINT: shutting down\n(?:.*\n)*.* stream clicks: stopped: 1 in, 1 processed, 0 filtered, 0 dead-lettered\n.* sink clicks: stopped: 1 read, 1 rows in 1 files committed, 0 already in the lake, 0 dead-lettered\nstopped cleanly\n$/);
  assert.deepEqual(await readdir(dir).then((names) => names.sort()), ['lake', 'oxbow.config.ts', 'state'], 'status files in stream.stateDir');
  assert.deepEqual(
    (await readdir(path.join(dir, 'lake'))).filter((n) => !n.startsWith('catalog.db-')).sort(),
    ['catalog.db', 'lake', 'query-cache', 'sink'],
    'no embedded broker under --data-dir: only the catalog, the golden zone and the sink and query work directories',
  );
});

test('oxbow up exits 1 naming the problem when a worker cannot start, and releases the broker it started', async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'lake');
  const table = path.join(dir, 'countries.csv');
  await writeFile(table, 'name\nGermany\n');
  const configFile = path.join(dir, 'oxbow.config.ts');
  const lookupStep = `lookup('country', { file: ${JSON.stringify(table)}, format: 'csv', key: 'code', on: 'cc', miss: 'null' })`;
  await writeFile(
    configFile,
    `import { defineLake, lookup } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
export default defineLake({ datasets: { fine: { schema: { type: 'object' } }, sales: { schema: { type: 'object' }, steps: [${lookupStep}] } } });
`,
  );
  const first = startUp(t, ['--kafka-port', '0', '--data-dir', dataDir, '--config', configFile]);
  assert.equal(await first.exited, 1);
  assert.match(first.stderr(), /^oxbow up: dataset sales, lookup "country": cannot load .*countries\.csv: .*"code".* \[OXBOW_STREAM_LOOKUP_UNREADABLE\]\n$/m);
  // The broker's data directory is free again: a fixed table starts on the same directory.
  await writeFile(table, 'code,name\nDE,Germany\n');
  const second = startUp(t, ['--kafka-port', '0', '--data-dir', dataDir, '--config', configFile]);
  assert.match(await second.ready(), /stream {3}fine: .*\n {2}stream {3}sales: /);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr());
});

test('oxbow up exits 1 with a clear message when the HTTP port is taken, and releases what it started', async (t) => {
  const dir = await tempDir(t);
  const emptyConfig = path.join(dir, 'empty.config.ts');
  await writeFile(emptyConfig, 'export default {};\n');
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as net.AddressInfo).port;
  const up = startUp(t, ['--kafka-port', '0', '--data-dir', path.join(dir, 'data'), '--config', emptyConfig, '--http-port', String(port)]);
  assert.equal(await up.exited, 1);
  assert.match(up.stderr(), new RegExp(`oxbow up: cannot listen on 127\\.0\\.0\\.1:${port} for HTTP: the port is in use \\(another oxbow up\\?\\); pick another with --http-port or server\\.httpPort, 0 for a free one \\[OXBOW_QUERY_LISTEN_FAILED\\]\\n$`));
  // Everything it had started is released: the same data directory starts again at once.
  const again = startUp(t, ['--kafka-port', '0', '--data-dir', path.join(dir, 'data'), '--config', emptyConfig]);
  await again.ready();
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0, again.stderr());
});
