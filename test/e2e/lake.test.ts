// The whole lake as a user runs it: `oxbow up` as a child process, records in with kcat (some malformed), SQL out
// through HTTP and psql, dead letters on the dlq topic — and kill -9 of the whole process in mid-stream, then a
// restart: the totals are still exact.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import S3rver from 's3rver';
import { defer, OXBOW_BIN, ROOT, run, tempDir } from '../helpers/broker.ts';

type Up = { kafka: string; http: string; pgPort: string; kill: () => Promise<void>; stop: () => Promise<void>; output: () => string };

async function up(t: TestContext, dataDir: string, configFile: string): Promise<Up> {
  const child = spawn(process.execPath, [OXBOW_BIN, 'up', '--data-dir', dataDir, '--config', configFile, '--kafka-port', '0', '--http-port', '0', '--pg-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 30_000;
  while (!/Press Ctrl-C to stop\./.test(out)) {
    if (child.exitCode !== null) throw new Error(`oxbow up exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`oxbow up did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    kafka: /^ {2}kafka {4}(\S+)/m.exec(out)![1]!,
    http: /^ {2}http {5}(\S+)/m.exec(out)![1]!,
    pgPort: /^ {2}postgres 127\.0\.0\.1:(\d+)/m.exec(out)![1]!,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      assert.equal(child.exitCode, 0, out);
    },
    output: () => out,
  };
}

async function sql(lake: Up, query: string): Promise<unknown[][]> {
  const res = await fetch(lake.http, { method: 'POST', body: JSON.stringify({ sql: query }) });
  const body = (await res.json()) as { rows?: unknown[][]; error?: { message: string } };
  if (body.rows === undefined) throw new Error(`${query}: ${body.error?.message}`);
  return body.rows;
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${String(last)}); output:\n${output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `count` records from id `from`: every 10th malformed (alternately not JSON and lacking a required field). */
function records(from: number, count: number): { lines: string[]; good: number[]; bad: number } {
  const lines: string[] = [];
  const good: number[] = [];
  let bad = 0;
  for (let id = from; id < from + count; id++) {
    if (id % 10 === 3) {
      lines.push(id % 20 === 3 ? `{"id": ${id}, "ts": oops` : `{"id": ${id}, "value": 1}`);
      bad++;
    } else {
      lines.push(JSON.stringify({ id, ts: `2026-11-22T${String(id % 24).padStart(2, '0')}:15:00Z`, value: id * 0.5 }));
      good.push(id);
    }
  }
  return { lines, good, bad };
}

/** Where the lake keeps its catalog and files: the embedded defaults, or PostgreSQL and an S3 server. */
type Backends = { name: string; settings: (t: TestContext) => Promise<string> };

const embedded: Backends = { name: 'SQLite catalog and local files', settings: () => Promise.resolve('') };

const external: Backends = {
  name: 'PostgreSQL catalog and S3 storage',
  settings: async (t) => {
    const directory = await tempDir(t, 'oxbow-e2e-s3-');
    const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: 'lake' }] });
    const { port } = await server.run();
    defer(t, () => server.close());
    const schema = `oxbow_e2e_${randomBytes(4).toString('hex')}`;
    defer(t, async () => {
      const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const storage = `s3://lake/warehouse/?endpoint=http://127.0.0.1:${port}&region=us-east-1&forcePathStyle=true`;
    return `storage: { url: ${JSON.stringify(storage)} },\n  catalog: { url: ${JSON.stringify(`postgres://postgres@127.0.0.1:5432/postgres?schema=${schema}`)}, crawlIntervalMs: '1s' },`;
  },
};

for (const backends of [embedded, external]) {
  test(`oxbow up end to end (${backends.name}): kcat in, SQL and dead letters out, exact after kill -9 in mid-stream and a restart`, { timeout: 240_000 }, async (t) => {
    await endToEnd(t, await backends.settings(t));
  });
}

async function endToEnd(t: TestContext, backendSettings: string): Promise<void> {
  const dir = await tempDir(t, 'oxbow-e2e-');
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'oxbow.config.ts');
  await writeFile(
    configFile,
    `import { defineLake, validate } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
export default defineLake({
  ${backendSettings}
  stream: { offsetCommitIntervalMs: 200 },
  sink: { flushSize: 300, rotateScheduleIntervalMs: '500ms' },
  datasets: {
    events: {
      schema: { type: 'object', properties: { id: { type: 'integer' }, ts: { type: 'string', format: 'date-time' }, value: { type: 'number' } }, required: ['id', 'ts', 'value'] },
      eventTimeField: 'ts',
      steps: [validate()],
    },
  },
});
`,
  );
  const first = records(0, 2000);
  const middle = records(2000, 2000);
  const last = records(4000, 2000);
  const good = [...first.good, ...middle.good, ...last.good];
  const badCount = first.bad + middle.bad + last.bad;

  let lake = await up(t, dataDir, configFile);
  await run('kcat', ['-b', lake.kafka, '-P', '-t', 'events.raw', '-X', 'acks=all'], { input: `${first.lines.join('\n')}\n` });
  await waitFor('the first records in SQL', 60_000, async () => {
    const [[n]] = (await sql(lake, 'SELECT count(*) FROM events')) as [[string]];
    return Number(n) > 0 ? true : undefined;
  }, lake.output);
  // More records, and the whole process killed the moment they are acknowledged: the stream job and the sink are
  // in the middle of them.
  await run('kcat', ['-b', lake.kafka, '-P', '-t', 'events.raw', '-X', 'acks=all'], { input: `${middle.lines.join('\n')}\n` });
  await lake.kill();

  lake = await up(t, dataDir, configFile);
  await run('kcat', ['-b', lake.kafka, '-P', '-t', 'events.raw', '-X', 'acks=all'], { input: `${last.lines.join('\n')}\n` });
  const expectedSum = good.reduce((s, id) => s + id * 0.5, 0);
  const totals = await waitFor('every good record in SQL', 120_000, async () => {
    const rows = await sql(lake, 'SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(value) AS total, min(id) AS lo, max(id) AS hi FROM events');
    return Number(rows[0]![0]) >= good.length ? rows[0] : undefined;
  }, lake.output);
  assert.deepEqual(totals, [String(good.length), String(good.length), expectedSum, '0', String(6000 - 1)]);
  // Per hour, as SQL sees it, the counts equal the input's.
  const perHour = await sql(lake, `SELECT hour(ts) AS h, count(*) FROM events WHERE ts >= '2026-11-22 05:00:00+00' AND ts < '2026-11-22 06:00:00+00' GROUP BY 1`);
  assert.deepEqual(perHour, [['5', String(good.filter((id) => id % 24 === 5).length)]]);
  const psql = await run('psql', ['-h', '127.0.0.1', '-p', lake.pgPort, '-U', 'e2e', '-d', 'lake', '-At', '-c', 'SELECT count(*) FROM lake.events WHERE id % 2 = 0']);
  assert.equal(psql.stdout.toString(), `${good.filter((id) => id % 2 === 0).length}\n`);

  // Dead letters: every malformed record, with its code. Dead letters are at-least-once: a record dead-lettered
  // just before the kill may be dead-lettered again after it, so they are counted by their source offset.
  const dlq = await waitFor('every dead letter', 60_000, async () => {
    const { stdout } = await run('kcat', ['-b', lake.kafka, '-C', '-t', 'events.dlq', '-o', 'beginning', '-e', '-q', '-f', '%h\n']);
    const bySource = new Map<string, string>();
    for (const line of stdout.toString().split('\n').filter(Boolean)) {
      const h = Object.fromEntries(line.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      bySource.set(h['oxbow.source.offset']!, h['oxbow.error.code']!);
    }
    return bySource.size >= badCount ? bySource : undefined;
  }, lake.output);
  assert.equal(dlq.size, badCount);
  const codes = new Map<string, number>();
  for (const code of dlq.values()) codes.set(code, (codes.get(code) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(codes), { OXBOW_STREAM_INVALID_JSON: 300, OXBOW_STREAM_SCHEMA_VIOLATION: 300 });
  await lake.stop();
}
