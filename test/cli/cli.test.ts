// The `oxbow` command as a user drives it: real processes started from bin/oxbow.js, their output and exit codes,
// signals, and a broker spawned for the client commands (topics, produce, consume).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { defer, eventually, OXBOW_BIN, run, spawnBroker, tempDir } from '../helpers/broker.ts';

type Outcome = { code: number | null; stdout: string; stderr: string };

/** Runs `oxbow <args>` to completion and reports its exit code and output; a hang fails the test after `timeoutMs`. */
function oxbow(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OXBOW_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oxbow ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like `oxbow`, but a non-zero exit fails the test with the command's stderr. */
async function oxbowOk(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await oxbow(args, opts);
  assert.equal(r.code, 0, `oxbow ${args.join(' ')} exited with ${r.code}; stderr:\n${r.stderr}`);
  return r.stdout;
}

type ConsumedRecord = { topic: string; partition: number; offset: number; timestamp: number; key: string | null; value: string | null; headers: Record<string, string> };

function ndjson(stdout: string): ConsumedRecord[] {
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as ConsumedRecord);
}

/** A long-running `oxbow` command (`up`, `consume`); `waitFor` resolves once its standard output matches. */
function startOxbow(t: TestContext, args: string[]) {
  const child = spawn(process.execPath, [OXBOW_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const waitFor = async (pattern: RegExp, whileWaiting?: () => Promise<unknown>) => {
    await eventually(async () => {
      if (pattern.test(stdout)) return true;
      if (child.exitCode !== null) throw new Error(`oxbow ${args.join(' ')} exited with ${child.exitCode}; stderr:\n${stderr}`);
      await whileWaiting?.();
      return undefined;
    }, 20_000, `oxbow ${args.join(' ')} to print ${pattern}`);
  };
  return { child, exited, waitFor, stdout: () => stdout, stderr: () => stderr };
}

const COMMANDS = ['up', 'demo', 'broker', 'topics', 'produce', 'consume', 'stream', 'sink', 'lake', 'catalog', 'sql', 'dlq'];

test('oxbow --help lists every command on one line each, and each command has its own --help', async () => {
  const help = await oxbowOk(['--help']);
  const commandLines = help.split('\n').filter((l) => /^ {2}[a-z]+ {2,}\S/.test(l));
  assert.deepEqual(commandLines.map((l) => l.trim().split(/\s+/)[0]), COMMANDS);
  for (const l of commandLines) assert.ok(l.trim().split(/\s+/).length > 3, `a command needs a one-line summary: ${JSON.stringify(l)}`);
  const perCommand = await Promise.all(COMMANDS.map((c) => oxbow([c, '--help'])));
  for (const [i, r] of perCommand.entries()) {
    assert.equal(r.code, 0, `oxbow ${COMMANDS[i]} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: oxbow ${COMMANDS[i]}\\b`));
  }
});

test('usage errors exit 2 and say what is wrong: unknown command, unknown flag, bad flag value, missing topic', async () => {
  const unknown = await oxbow(['nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^oxbow nope: unknown command "nope" \[OXBOW_CLI_USAGE\]\n/);
  assert.match(unknown.stderr, /Commands:/, 'the list of commands follows');
  assert.equal(unknown.stdout, '');

  const nothing = await oxbow([]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /Usage: oxbow <command>/);

  const badFlag = await oxbow(['broker', '--bogus']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /^oxbow broker: unknown option --bogus \[OXBOW_CLI_USAGE\]\n\nUsage: oxbow broker/);

  const cases: [string[], RegExp][] = [
    [['consume', 'orders', '--max', '0'], /--max: "0" is not allowed; expected an integer from 1 to/],
    [['consume'], /consume needs exactly one topic/],
    [['produce', 'a', 'b'], /produce needs exactly one topic/],
    [['produce', 'a', '--key-separator', ''], /--key-separator must not be empty/],
    [['topics', 'create', 'x', '--partitions', 'many'], /--partitions: "many" is not allowed; expected an integer from 1 to 10000/],
    [['topics', 'frobnicate'], /unknown topics action "frobnicate"/],
    [['topics', 'list', '--brokers', 'nohost'], /--brokers: "nohost" is not allowed; expected host:port/],
    [['broker', 'extra'], /broker takes no arguments/],
  ];
  const outcomes = await Promise.all(cases.map(([args]) => oxbow(args)));
  for (const [i, r] of outcomes.entries()) {
    const [args, message] = cases[i]!;
    assert.equal(r.code, 2, `oxbow ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /\[OXBOW_CLI_USAGE\]/);
  }
});

test('a bad setting on the command line is a configuration error: exit 78, naming the key, the value and what is allowed', async () => {
  const [port, kafkaPort, notANumber] = await Promise.all([
    oxbow(['broker', '--port', '99999']),
    oxbow(['up', '--kafka-port', '70000']),
    oxbow(['broker', '--port', 'abc']),
  ]);
  assert.equal(port.code, 78);
  assert.equal(port.stderr, 'oxbow broker: broker.port: 99999 is not allowed; expected an integer from 0 to 65535 [OXBOW_CONFIG_INVALID]\n');
  assert.equal(kafkaPort.code, 78);
  assert.match(kafkaPort.stderr, /broker\.port: 70000 is not allowed; expected an integer from 0 to 65535/);
  assert.equal(notANumber.code, 78);
  assert.match(notANumber.stderr, /broker\.port: "abc" is not allowed; expected an integer from 0 to 65535/);
});

test('oxbow broker stops cleanly on SIGTERM and on SIGINT, and keeps its data across a restart', async (t) => {
  const dataDir = await tempDir(t);
  const first = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  assert.match(first.output(), /^listening on 127\.0\.0\.1:\d+\n/);
  assert.notEqual(first.port, 0);
  await oxbowOk(['produce', 'kept', '--brokers', first.address], { input: 'one\ntwo\nthree\n' });
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.match(first.output(), /SIGTERM: shutting down\nstopped cleanly\n/);

  const second = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  const out = await oxbowOk(['consume', 'kept', '--from-beginning', '--max', '3', '--brokers', second.address]);
  assert.deepEqual(ndjson(out).map((r) => [r.offset, r.value]), [[0, 'one'], [1, 'two'], [2, 'three']]);
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0);
  assert.match(second.output(), /SIGINT: shutting down\nstopped cleanly\n/);
});

test('oxbow broker shuts down without a complaint when Ctrl-C reaches its whole process group, as in a terminal', async (t) => {
  const dataDir = await tempDir(t);
  // broker.pageCache=recent, so the page-cache helper's child processes get the Ctrl-C too.
  const configFile = path.join(await tempDir(t), 'oxbow.config.mjs');
  await writeFile(configFile, "export default { broker: { pageCache: 'recent' } };\n");
  const b = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir, '--config', configFile], { ownProcessGroup: true });
  // Rolled a few times, so the page-cache helper has dropped segments: with segment.bytes 1 KiB, each produce's batch
  // of one 900-byte record starts a segment of its own.
  await oxbowOk(['topics', 'create', 'rolled', '--topic-config', 'segment.bytes=1024', '--brokers', b.address]);
  for (let i = 0; i < 4; i++) await oxbowOk(['produce', 'rolled', '--brokers', b.address], { input: `${'x'.repeat(900)}\n` });
  const segments = (await readdir(path.join(dataDir, 'topics', 'rolled', '0'))).filter((f) => f.endsWith('.log'));
  assert.equal(segments.length, 4, `expected a segment per batch, found ${segments.join(', ')}`);
  process.kill(-b.child.pid!, 'SIGINT');
  assert.equal(await b.exited, 0);
  assert.match(b.output(), /^listening on 127\.0\.0\.1:\d+\nSIGINT: shutting down\nstopped cleanly\n$/);
});

test('oxbow topics creates, lists, describes and deletes topics; the broker applies --partitions and --topic-config', async (t) => {
  const dataDir = await tempDir(t);
  const { address } = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  const b = ['--brokers', address];

  const created = await oxbowOk(['topics', 'create', 'orders.raw', '--partitions', '3', '--topic-config', 'retention.ms=86400000', '--topic-config', 'segment.bytes=1048576', ...b]);
  assert.equal(created, 'created orders.raw with 3 partition(s)\n');
  assert.equal(await oxbowOk(['topics', 'create', 'plain', ...b]), 'created plain with 1 partition(s)\n');
  assert.equal(await oxbowOk(['topics', 'list', ...b]), 'orders.raw\t3 partition(s)\nplain\t1 partition(s)\n');

  await oxbowOk(['produce', 'orders.raw', '--key-separator', ':', ...b], { input: 'a:1\na:2\n' });
  const described = (await oxbowOk(['topics', 'describe', 'orders.raw', ...b])).split('\n');
  assert.equal(described[0], 'orders.raw\t3 partition(s)');
  const partitions = described.filter((l) => l.startsWith('  partition '));
  assert.equal(partitions.length, 3);
  for (const [i, l] of partitions.entries()) assert.match(l, new RegExp(`^  partition ${i}\\tleader 1\\tearliest 0\\tlatest \\d+$`));
  // Both records share a key, so they went to one partition: the latest offsets add up to 2.
  assert.equal(partitions.reduce((n, l) => n + Number(/latest (\d+)$/.exec(l)![1]), 0), 2);
  assert.ok(described.includes('  retention.ms=86400000\t(topic)'), described.join('\n'));
  assert.ok(described.includes('  segment.bytes=1048576\t(topic)'), described.join('\n'));
  assert.ok(described.includes('  retention.bytes=-1\t(default)'), described.join('\n'));

  // A client no one here wrote sees the same partitions.
  const md = JSON.parse((await run('kcat', ['-b', address, '-L', '-J', '-t', 'orders.raw'])).stdout.toString()) as { topics: { topic: string; partitions: unknown[] }[] };
  assert.equal(md.topics.find((x) => x.topic === 'orders.raw')?.partitions.length, 3);

  const exists = await oxbow(['topics', 'create', 'plain', ...b]);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /topic "plain" already exists \(TOPIC_ALREADY_EXISTS\) \[OXBOW_CLI_KAFKA_REQUEST_FAILED\]/);

  assert.equal(await oxbowOk(['topics', 'delete', 'orders.raw', ...b]), 'deleted orders.raw\n');
  assert.equal(await oxbowOk(['topics', 'list', ...b]), 'plain\t1 partition(s)\n');
  const gone = await oxbow(['topics', 'describe', 'orders.raw', ...b]);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'oxbow topics: unknown topic "orders.raw" (UNKNOWN_TOPIC_OR_PARTITION) [OXBOW_CLI_KAFKA_REQUEST_FAILED]\n');
  assert.doesNotMatch(gone.stderr, /\n\s+at /, 'no stack trace for a failure the user can fix');
});

test('a bad --topic-config is refused with a message naming the setting, and no topic is created', async (t) => {
  const dataDir = await tempDir(t);
  const { address } = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  const b = ['--brokers', address];
  const [noValue, notANumber, unknownKey, tooSmall] = await Promise.all([
    oxbow(['topics', 'create', 'bad1', '--topic-config', 'retention.ms', ...b]),
    oxbow(['topics', 'create', 'bad2', '--topic-config', 'retention.ms=abc', ...b]),
    oxbow(['topics', 'create', 'bad3', '--topic-config', 'cleanup.policy=compact', ...b]),
    oxbow(['topics', 'create', 'bad4', '--topic-config', 'segment.bytes=10', ...b]),
  ]);
  assert.equal(noValue.code, 2);
  assert.match(noValue.stderr, /--topic-config: "retention\.ms" is not allowed; expected key=value, e.g\. retention\.ms=86400000 \[OXBOW_CLI_USAGE\]/);
  for (const r of [notANumber, unknownKey, tooSmall]) {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\(INVALID_CONFIG\) \[OXBOW_CLI_KAFKA_REQUEST_FAILED\]\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.match(notANumber.stderr, /retention\.ms: "abc" is not an integer/);
  assert.match(unknownKey.stderr, /unknown topic setting "cleanup\.policy"; supported: retention\.ms/);
  assert.match(tooSmall.stderr, /segment\.bytes: 10 is not allowed/);
  assert.equal(await oxbowOk(['topics', 'list', ...b]), '');
});

test('oxbow produce sends stdin lines, with and without --key-separator; oxbow consume prints them as NDJSON and stops at --max', async (t) => {
  const dataDir = await tempDir(t);
  const { address } = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  const b = ['--brokers', address];
  const before = Date.now();

  const produced = await oxbow(['produce', 'plain', ...b], { input: 'one\ntwo with spaces\n{"json":true}\nfour\nfive\n' });
  assert.equal(produced.code, 0, produced.stderr);
  assert.equal(produced.stderr, 'produced 5 record(s) to plain\n');
  const consumed = await oxbow(['consume', 'plain', '--from-beginning', '--max', '3', ...b]);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.equal(consumed.stderr, 'consumed 3 record(s) from plain\n');
  const records = ndjson(consumed.stdout);
  assert.deepEqual(
    records.map((r) => ({ ...r, timestamp: 0 })),
    [
      { topic: 'plain', partition: 0, offset: 0, timestamp: 0, key: null, value: 'one', headers: {} },
      { topic: 'plain', partition: 0, offset: 1, timestamp: 0, key: null, value: 'two with spaces', headers: {} },
      { topic: 'plain', partition: 0, offset: 2, timestamp: 0, key: null, value: '{"json":true}', headers: {} },
    ],
  );
  for (const r of records) assert.ok(r.timestamp >= before - 1000 && r.timestamp <= Date.now() + 1000, `timestamp ${r.timestamp}`);

  // The value keeps everything after the first separator; a line without one has no key.
  await oxbowOk(['produce', 'keyed', '--key-separator', ':', ...b], { input: 'k1:v1\nk2:v:2\nno-key\n:empty-key\n' });
  const keyed = ndjson(await oxbowOk(['consume', 'keyed', '--from-beginning', '--max', '4', ...b]));
  assert.deepEqual(keyed.map((r) => [r.offset, r.key, r.value]), [[0, 'k1', 'v1'], [1, 'k2', 'v:2'], [2, null, 'no-key'], [3, '', 'empty-key']]);
  // kcat reads the same keys and values.
  const { stdout } = await run('kcat', ['-b', address, '-C', '-t', 'keyed', '-o', 'beginning', '-e', '-f', '%o %K %k=%s\n']);
  assert.equal(stdout.toString(), '0 2 k1=v1\n1 2 k2=v:2\n2 -1 =no-key\n3 0 =empty-key\n');
});

test('oxbow consume --group continues where the previous run stopped (committed offsets)', async (t) => {
  const dataDir = await tempDir(t);
  const { address } = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  const b = ['--brokers', address];
  await oxbowOk(['produce', 'single', ...b], { input: `${Array.from({ length: 10 }, (_, i) => `r${i}`).join('\n')}\n` });
  // --from-beginning only says where a group without commits starts; once it has committed, the commits win.
  const first = ndjson(await oxbowOk(['consume', 'single', '--group', 'g', '--from-beginning', '--max', '4', ...b]));
  const second = ndjson(await oxbowOk(['consume', 'single', '--group', 'g', '--from-beginning', '--max', '4', ...b]));
  const third = ndjson(await oxbowOk(['consume', 'single', '--group', 'g', '--max', '2', ...b]));
  assert.deepEqual(first.map((r) => r.value), ['r0', 'r1', 'r2', 'r3']);
  assert.deepEqual(second.map((r) => r.value), ['r4', 'r5', 'r6', 'r7']);
  assert.deepEqual(third.map((r) => [r.offset, r.value]), [[8, 'r8'], [9, 'r9']]);
  // Another group has its own position.
  const other = ndjson(await oxbowOk(['consume', 'single', '--group', 'other', '--from-beginning', '--max', '1', ...b]));
  assert.deepEqual(other.map((r) => r.value), ['r0']);

  // Over several partitions: three runs see every record exactly once.
  await oxbowOk(['topics', 'create', 'spread', '--partitions', '3', ...b]);
  const lines = Array.from({ length: 12 }, (_, i) => `k${i}:v${i}`);
  await oxbowOk(['produce', 'spread', '--key-separator', ':', ...b], { input: `${lines.join('\n')}\n` });
  const seen: string[] = [];
  for (const max of [5, 5, 2]) {
    const out = ndjson(await oxbowOk(['consume', 'spread', '--group', 'spread-g', '--from-beginning', '--max', String(max), ...b]));
    assert.equal(out.length, max);
    seen.push(...out.map((r) => `${r.key}:${r.value}`));
  }
  assert.deepEqual([...seen].sort(), [...lines].sort());
});

test('oxbow consume ends cleanly when its reader goes away, on SIGTERM, and when the topic does not exist', async (t) => {
  const dataDir = await tempDir(t);
  const { address } = await spawnBroker(t, ['--port', '0', '--data-dir', dataDir]);
  const b = ['--brokers', address];
  await oxbowOk(['produce', 'many', ...b], { input: `${Array.from({ length: 5000 }, (_, i) => `record ${i}`).join('\n')}\n` });

  // `oxbow consume many | head -1`: standard output closes early (far more than a pipe buffer is waiting); no EPIPE
  // crash, exit 0.
  const script = `"${process.execPath}" "${OXBOW_BIN}" consume many --from-beginning --brokers ${address} | head -n 1; echo "exit \${PIPESTATUS[0]}"`;
  const piped = await run('bash', ['-c', script], { timeoutMs: 15_000 });
  const [line, status] = piped.stdout.toString().split('\n');
  assert.equal((JSON.parse(line!) as ConsumedRecord).value, 'record 0');
  assert.equal(status, 'exit 0');
  assert.doesNotMatch(piped.stderr, /EPIPE|Unhandled/);

  // Following the topic from its end: it prints what arrives (a record is sent until one shows up, since the consumer
  // starts at the end only once it has joined), and SIGTERM ends it with exit 0.
  const following = startOxbow(t, ['consume', 'many', '--group', 'following', ...b]);
  await following.waitFor(/"value":"ping"/, () => oxbowOk(['produce', 'many', ...b], { input: 'ping\n' }));
  assert.ok(ndjson(following.stdout()).every((r) => r.value === 'ping' && r.offset >= 5000), following.stdout());
  following.child.kill('SIGTERM');
  assert.equal(await following.exited, 0, following.stderr());
  assert.match(following.stderr(), /consumed [1-9]\d* record\(s\) from many\n$/);

  const missing = await oxbow(['consume', 'no-such-topic', '--from-beginning', '--max', '1', ...b]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'oxbow consume: unknown topic "no-such-topic" (UNKNOWN_TOPIC_OR_PARTITION) [OXBOW_CLI_KAFKA_REQUEST_FAILED]\n');

  const unreachable = await oxbow(['topics', 'list', '--brokers', '127.0.0.1:1']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /Connection to 127\.0\.0\.1:1 failed: connect ECONNREFUSED/);
});
