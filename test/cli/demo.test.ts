// `oxbow demo` against a real broker, its records read back with kcat and judged by the example lake's own pipeline;
// and the example lake itself, which loadConfig falls back to when there is no oxbow.config.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import example from '../../examples/oxbow.config.ts';
import { loadConfig } from '../../src/config/index.ts';
import { compilePipeline, resolveDatasets, type Outcome } from '../../src/stream/index.ts';
import { defer, eventually, OXBOW_BIN, run, startBroker, tempDir } from '../helpers/broker.ts';

type Outcomes = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** `oxbow <args>` as a child process in `cwd`; `done` resolves when it exits, a hang fails after `timeoutMs`. */
function oxbow(t: TestContext, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  const child = spawn(process.execPath, [OXBOW_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const done = new Promise<Outcomes>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oxbow ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, stderr: () => stderr };
}

/** Every record of `topic`, key and value, in offset order (the demo's topics have one partition). */
async function kcatRecords(address: string, topic: string): Promise<{ key: string; value: string }[]> {
  const { stdout } = await run('kcat', ['-b', address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'], { timeoutMs: 20_000 });
  return stdout.toString().split('\n').filter((l) => l !== '').map((l) => {
    const at = l.indexOf('\t');
    return { key: l.slice(0, at), value: l.slice(at + 1) };
  });
}

/** The counts the demo prints: valid, test and malformed orders, and malformed ones by kind. */
function printedCounts(stdout: string) {
  const count = (label: string) => Number(new RegExp(`^ {2}${label} +(\\d+)`, 'm').exec(stdout)?.[1] ?? NaN);
  const kinds: Record<string, number> = Object.fromEntries([.../(invalid-json|missing-field|negative-amount|bad-date|wrong-type) (\d+)/g[Symbol.matchAll](stdout)].map((m) => [m[1], Number(m[2])]));
  return { valid: count('valid'), test: count('test'), malformed: count('malformed'), kinds };
}

/** The example lake's `orders` pipeline, compiled from the declaration in examples/oxbow.config.ts. */
async function examplePipeline() {
  const resolved = resolveDatasets((example as { datasets?: unknown }).datasets);
  assert.ok(resolved.ok, 'the example datasets resolve');
  return compilePipeline(resolved.datasets.orders!);
}

const DEMO = ['--events', '500', '--rate', '5000', '--bad-ratio', '0.1', '--seed', '1'];

test('oxbow demo sends exactly the orders it reports; the example pipeline dead-letters the malformed ones and filters the test orders; a seed repeats a run', async (t) => {
  const { address } = await startBroker(t);
  const first = await oxbow(t, ['demo', '--brokers', address, ...DEMO]).done;
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^sent 500 orders to orders\\.raw at ${address.replaceAll('.', '\\.')} in (\\d+\\.\\d) s\\n`));
  // 500 at 5000/s go out in batches on a 100 ms timer: the last batch is due 0.1 s after the first tick.
  assert.ok(Number(/ in (\d+\.\d) s/.exec(first.stdout)![1]) >= 0.1, 'the rate is held, not exceeded');
  assert.match(first.stdout, /npx oxbow sql "SELECT country_name, count\(\*\), sum\(amount_eur\) FROM orders GROUP BY 1 ORDER BY 2 DESC"\n/);
  assert.match(first.stdout, /npx oxbow dlq inspect orders\n/);
  assert.match(first.stdout, /psql -h 127\.0\.0\.1 -p 5433 -c /);
  assert.match(first.stderr, /^sent 500\/500 \(100%\)/m, 'a progress line on stderr');
  const printed = printedCounts(first.stdout);
  assert.equal(printed.valid + printed.test + printed.malformed, 500);
  assert.ok(printed.malformed >= 25 && printed.malformed <= 80, `about 10% malformed: ${printed.malformed}`);
  assert.ok(printed.test > 0, 'some test orders');
  assert.equal(Object.values(printed.kinds).reduce((a, b) => a + b, 0), printed.malformed);
  assert.equal(Object.keys(printed.kinds).length, 5, 'every kind of malformed order is counted');

  const records = await kcatRecords(address, 'orders.raw');
  assert.equal(records.length, 500);
  const pipeline = await examplePipeline();
  const outcomes: Outcome[] = [];
  for (const [offset, r] of records.entries()) {
    outcomes.push(await pipeline.process({ key: Buffer.from(r.key), value: Buffer.from(r.value), headers: [], topic: 'orders.raw', partition: 0, offset, timestamp: Date.now() }));
  }
  const dead = outcomes.filter((o) => o.kind === 'dead-letter');
  assert.equal(dead.length, printed.malformed, `dead letters: ${JSON.stringify(dead.slice(0, 3))}`);
  assert.deepEqual(new Set(dead.map((o) => o.code)), new Set(['OXBOW_STREAM_INVALID_JSON', 'OXBOW_STREAM_SCHEMA_VIOLATION']));
  assert.equal(dead.filter((o) => o.code === 'OXBOW_STREAM_INVALID_JSON').length, printed.kinds['invalid-json']);
  assert.deepEqual(pipeline.counters.filtered, { 'no-test-orders': printed.test });
  assert.equal(pipeline.counters.processed, printed.valid);
  // Processed orders carry the enriched fields; the country lookup fills name and region, or nulls for LU.
  const processed = outcomes.flatMap((o) => (o.kind === 'processed' ? [JSON.parse(o.value.toString()) as Record<string, unknown>] : []));
  for (const o of processed) {
    assert.equal(typeof o.amount_eur, 'number');
    assert.ok((o.item_count as number) >= 1);
    assert.equal(o.country_name === null, o.country === 'LU', `lookup of ${String(o.country)}`);
  }
  assert.ok(processed.some((o) => o.country_name === 'Germany' && o.region === 'Europe' && o.currency === 'EUR' && o.amount_eur === o.amount));

  // The same seed again, into another dataset's raw topic: the same keys and values, the same counts.
  const second = await oxbow(t, ['demo', '--brokers', address, ...DEMO, '--dataset', 'again']).done;
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^sent 500 orders to again\.raw /);
  assert.deepEqual(printedCounts(second.stdout), printed);
  assert.deepEqual(await kcatRecords(address, 'again.raw'), records);
});

test('oxbow demo at a high rate stays within the broker\'s request size: every order arrives', async (t) => {
  const { address } = await startBroker(t);
  const r = await oxbow(t, ['demo', '--brokers', address, '--events', '30000', '--rate', '100000', '--seed', '3']).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sent 30000 orders to orders\.raw /);
  assert.equal((await kcatRecords(address, 'orders.raw')).length, 30000);
});

test('oxbow demo stops cleanly on SIGINT and reports exactly what it sent', async (t) => {
  const { address } = await startBroker(t);
  const demo = oxbow(t, ['demo', '--brokers', address, '--events', '100000', '--rate', '2000', '--seed', '7']);
  await eventually(() => (/^sent [1-9]\d*\/100000/m.test(demo.stderr()) ? true : undefined), 20_000, 'a progress line');
  demo.child.kill('SIGINT');
  const r = await demo.done;
  assert.equal(r.code, 130, r.stderr);
  const m = /^SIGINT: stopped after (\d+) of 100000 orders to orders\.raw /.exec(r.stdout);
  assert.ok(m, r.stdout);
  const sent = Number(m[1]);
  assert.ok(sent > 0 && sent < 100000);
  const counts = printedCounts(r.stdout);
  assert.equal(counts.valid + counts.test + counts.malformed, sent);
  assert.equal((await kcatRecords(address, 'orders.raw')).length, sent);
});

test('oxbow demo: bad flags are usage errors (exit 2); an unreachable lake fails fast, naming the address (exit 1)', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--events', '0'], /--events: "0" is not allowed; expected an integer from 1 to/],
    [['--rate', 'fast'], /--rate: "fast" is not allowed/],
    [['--bad-ratio', '1.5'], /--bad-ratio: "1\.5" is not allowed; expected a number from 0 to 1/],
    [['--bad-ratio=-0.1'], /--bad-ratio: "-0\.1" is not allowed/],
    [['--seed', 'x'], /--seed: "x" is not allowed/],
    [['--dataset', 'a b'], /--dataset: "a b" is not allowed/],
    [['--brokers', 'nohost'], /--brokers: "nohost" is not allowed; expected host:port/],
    [['--bogus'], /unknown option --bogus/],
    [['extra'], /demo takes no arguments, got "extra"/],
  ];
  const results = await Promise.all(cases.map(([args]) => oxbow(t, ['demo', ...args]).done));
  for (const [i, r] of results.entries()) {
    assert.equal(r.code, 2, `oxbow demo ${cases[i]![0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[i]![1]);
    assert.match(r.stderr, /\[OXBOW_CLI_USAGE\]/);
  }
  const started = Date.now();
  const down = await oxbow(t, ['demo', '--brokers', '127.0.0.1:1']).done;
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, /^oxbow demo: no lake answers at 127\.0\.0\.1:1: .*ECONNREFUSED.*; start one with `npx oxbow up`, or pass --brokers <host:port> \[OXBOW_CLI_KAFKA_REQUEST_FAILED\]\n$/);
  assert.equal(down.stdout, '');
  assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
});

test('with no oxbow.config.ts, loadConfig gives the example lake: orders with its lookup table loaded', async (t) => {
  const dir = await tempDir(t);
  const seen: string[] = [];
  const config = await loadConfig({ cwd: dir, onExample: (file) => seen.push(file) });
  assert.equal(seen.length, 1);
  assert.match(seen[0]!, /examples\/oxbow\.config\.ts$/);
  const orders = config.datasets.orders;
  assert.ok(orders);
  assert.equal(orders.eventTimeField, 'ts');
  assert.deepEqual(orders.steps.map((s) => `${s.kind} ${s.name}`), ['parse parse', 'validate validate', 'filter no-test-orders', 'enrich amount-eur', 'lookup country']);
  const pipeline = await compilePipeline(orders);
  const order = { order_id: '0b7c5f7e-8a4b-4c1e-9d2f-3a6b1c0d2e4f', ts: '2026-01-01T09:00:00Z', customer_id: 42, country: 'GB', amount: 10, currency: 'GBP', items: [{ sku: 'TEE-0001', qty: 2 }], coupon: null, channel: 'web' };
  const out = await pipeline.process({ key: null, value: Buffer.from(JSON.stringify(order)), headers: [], topic: 'orders.raw', partition: 0, offset: 0, timestamp: 0 });
  assert.equal(out.kind, 'processed', JSON.stringify(out));
  assert.deepEqual(
    out.kind === 'processed' && JSON.parse(out.value.toString()),
    { ...order, amount_eur: 11.7, item_count: 2, country_name: 'United Kingdom', region: 'Europe', _source: { topic: 'orders.raw', partition: 0, offset: 0 } },
  );
  // A configuration file in the working directory still wins, and says nothing about the example.
  await writeFile(path.join(dir, 'oxbow.config.ts'), 'export default {};\n');
  const none: string[] = [];
  assert.deepEqual((await loadConfig({ cwd: dir, onExample: (f) => none.push(f) })).datasets, {});
  assert.deepEqual(none, []);
});

test('commands that run datasets say so on stderr when they fall back to the example lake', async (t) => {
  const dir = await tempDir(t);
  const r = await oxbow(t, ['stream', '--dataset', 'nope', '--brokers', '127.0.0.1:1'], { cwd: dir }).done;
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^no oxbow\.config\.ts here: running the example lake \S+\/examples\/oxbow\.config\.ts \(dataset orders; see docs\/demo\.md\)\n/);
  assert.match(r.stderr, /unknown dataset "nope"; configured: orders/);
  const help = await oxbow(t, ['up', '--help'], { cwd: dir }).done;
  assert.equal(help.code, 0);
  assert.doesNotMatch(help.stderr, /example lake/);
});
