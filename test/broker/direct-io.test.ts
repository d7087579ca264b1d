// broker.directIo: appends written with O_DIRECT from aligned staging memory. The log on disk must be the same log:
// every batch readable while it is written and after a restart, files cut back to their batches when sealed or
// closed, the zeros after the end of a crashed writer's log taken for what they are, and a clear answer where the
// file system refuses direct I/O.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ARENA_BLOCKS, DIRECT_ALIGN, KEPT_ARENAS, STAGING_BLOCK_BYTES, StagingPool, probeDirectIo } from '../../src/broker/log/direct-io.ts';
import { PartitionLog, type LogConfig } from '../../src/broker/log/index.ts';
import { BATCH_HEADER_BYTES, decodeRecords, encodeRecordBatch, readBatchHeader, validateBatches } from '../../src/kafka/record-batch.ts';
import { OXBOW_BIN, killWriterAt, run } from '../helpers/broker.ts';

async function tempDir(t: TestContext, parent = os.tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(parent, 'oxbow-dio-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function config(staging: StagingPool, over: Partial<LogConfig> = {}): LogConfig {
  return { segmentBytes: 64 << 10, retentionMs: -1, retentionBytes: -1, maxMessageBytes: 1 << 20, fsync: { mode: 'always' }, indexIntervalBytes: 1024, staging, ...over };
}

/** A batch of `n` records whose values have lengths that put batch ends anywhere within a block. */
function batch(i: number, n = 1 + (i % 7)): Buffer {
  return encodeRecordBatch({ records: Array.from({ length: n }, (_, k) => ({ key: null, value: `${i}-${k}-${'x'.repeat((i * 37 + k * 101) % 900)}`, timestamp: 1_000 + i })) });
}

async function append(log: PartitionLog, bytes: Buffer): Promise<number> {
  const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
  assert.ok(v.ok);
  const r = await log.append(bytes, v.batches);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.lastOffset;
}

/** Every record value from the start of the log, in offset order, checking offsets are contiguous. */
async function readValues(log: PartitionLog): Promise<string[]> {
  const out: string[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { records } = await log.read(next, 256 << 10);
    assert.ok(records.length > 0, `no progress at offset ${next}`);
    // A read that reaches its byte limit may end with part of a batch; the next read starts with that batch.
    for (let pos = 0; pos + BATCH_HEADER_BYTES <= records.length; ) {
      const h = readBatchHeader(records, pos);
      if (pos + h.byteLength > records.length) break;
      for (const r of await decodeRecords(records.subarray(pos, pos + h.byteLength))) {
        if (r.offset < next) continue;
        assert.equal(r.offset, next, 'offsets are contiguous');
        out.push(r.value!.toString());
        next++;
      }
      pos += h.byteLength;
    }
  }
  return out;
}

async function expectedValues(batches: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < batches; i++) for (const r of await decodeRecords(batch(i))) out.push(r.value!.toString());
  return out;
}

async function logSizes(dir: string): Promise<number[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
  return Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).size));
}

void test('staging memory grows with the appends written at once and lets go of what a burst needed', () => {
  const pool = new StagingPool();
  const arenaBytes = ARENA_BLOCKS * STAGING_BLOCK_BYTES;
  const burst = Array.from({ length: 5 * ARENA_BLOCKS }, (_, i) => {
    const [block] = pool.acquire(STAGING_BLOCK_BYTES);
    assert.equal(block!.length, STAGING_BLOCK_BYTES);
    block!.fill(i % 251);
    return block!;
  });
  assert.equal(pool.allocatedBytes, 5 * arenaBytes);
  assert.equal(pool.blocksInUse, 5 * ARENA_BLOCKS);
  // No two blocks share memory.
  burst.forEach((b, i) => assert.ok(b[0] === i % 251 && b[STAGING_BLOCK_BYTES - 1] === i % 251, `block ${i}`));
  pool.release(burst);
  assert.equal(pool.blocksInUse, 0);
  assert.equal(pool.allocatedBytes, KEPT_ARENAS * arenaBytes);
  // A large append takes several blocks; what is kept is used again before anything new is allocated.
  const big = pool.acquire(3 * STAGING_BLOCK_BYTES + 1);
  assert.equal(big.length, 4);
  assert.equal(pool.allocatedBytes, KEPT_ARENAS * arenaBytes);
  pool.release(big);
});

void test('direct appends of batches of every length read back whole while written, across rolls, and after a restart', async (t) => {
  const dir = await tempDir(t);
  const pool = new StagingPool();
  assert.equal(await probeDirectIo(dir, pool), null, 'the test directory takes direct I/O');
  const log = await PartitionLog.open(dir, config(pool));
  const n = 300;
  // Appends in flight together are written as groups; reads run between them.
  const pending: Array<Promise<number>> = [];
  for (let i = 0; i < n; i++) {
    pending.push(append(log, batch(i)));
    if (i % 10 === 9) {
      await Promise.all(pending.splice(0));
      const seen = await readValues(log);
      assert.deepEqual(seen, (await expectedValues(i + 1)), `after ${i + 1} batches`);
    }
  }
  await Promise.all(pending);
  assert.ok(log.segmentCount > 3, `the log rolled (${log.segmentCount} segments)`);
  const active = (await logSizes(dir)).at(-1)!;
  assert.equal(active % DIRECT_ALIGN, 0, 'the active file ends on a block boundary while it is written');
  assert.equal(pool.blocksInUse, 0, 'every staging block came back');
  const size = log.sizeBytes;
  await log.close();

  const sizes = await logSizes(dir);
  assert.equal(sizes.reduce((a, b) => a + b, 0), size, 'sealed and closed files hold their batches and nothing after them');
  const reopened = await PartitionLog.open(dir, config(pool));
  t.after(() => reopened.close());
  assert.deepEqual(reopened.recovery, { truncatedBytes: 0, reason: null });
  assert.deepEqual(await readValues(reopened), await expectedValues(n));
  assert.equal(await append(reopened, batch(n)), reopened.logEndOffset - 1);
  assert.deepEqual(await readValues(reopened), await expectedValues(n + 1));
});

void test('the zeros after the last batch of a log left by a stopped direct writer are not reported as a torn tail', async (t) => {
  const dir = await tempDir(t);
  const pool = new StagingPool();
  const log = await PartitionLog.open(dir, config(pool, { segmentBytes: 1 << 20 }));
  for (let i = 0; i < 5; i++) await append(log, batch(i));
  const file = path.join(dir, '00000000000000000000.log');
  // The file as a crash would leave it: the batches, then zeros up to the block boundary.
  const padded = await readFile(file);
  assert.ok(padded.length > log.sizeBytes && padded.length % DIRECT_ALIGN === 0, `${padded.length} bytes on disk for ${log.sizeBytes} of batches`);
  await log.close();
  await writeFile(file, padded);
  const reopened = await PartitionLog.open(dir, config(pool));
  assert.deepEqual(reopened.recovery, { truncatedBytes: 0, reason: null });
  assert.deepEqual(await readValues(reopened), await expectedValues(5));
  await append(reopened, batch(5));
  await reopened.close();
  // Bytes other than zeros there are a torn batch, and said so.
  const torn = await readFile(file);
  await writeFile(file, Buffer.concat([torn, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])]));
  const again = await PartitionLog.open(dir, config(pool));
  t.after(() => again.close());
  assert.equal(again.recovery.truncatedBytes, 12);
  assert.match(again.recovery.reason ?? '', /at byte/);
  assert.deepEqual(await readValues(again), await expectedValues(6));
});

void test('a sealed segment still holding the zeros of its last direct append is cut back to its batches on open', async (t) => {
  const dir = await tempDir(t);
  const pool = new StagingPool();
  const log = await PartitionLog.open(dir, config(pool, { segmentBytes: 8000 }));
  for (let i = 0; i < 40; i++) await append(log, batch(i));
  assert.ok(log.segmentCount >= 3);
  await log.close();
  // As a crash between the segment's closing index entry and the cut would leave it.
  const sealed = path.join(dir, (await readdir(dir)).filter((f) => f.endsWith('.log')).sort()[0]!);
  const bytes = await readFile(sealed);
  await writeFile(sealed, Buffer.concat([bytes, Buffer.alloc(DIRECT_ALIGN - (bytes.length % DIRECT_ALIGN))]));
  const reopened = await PartitionLog.open(dir, config(pool, { segmentBytes: 8000 }));
  t.after(() => reopened.close());
  assert.deepEqual(reopened.recovery, { truncatedBytes: 0, reason: null });
  assert.equal((await stat(sealed)).size, bytes.length);
  assert.deepEqual(await readValues(reopened), await expectedValues(40));
});

void test('kill -9 of a direct writer with fsync=always loses no acknowledged batch, over several crashes', async (t) => {
  const dir = await tempDir(t);
  const logModule = fileURLToPath(new URL('../../src/broker/log/index.ts', import.meta.url));
  const dioModule = fileURLToPath(new URL('../../src/broker/log/direct-io.ts', import.meta.url));
  const batchModule = fileURLToPath(new URL('../../src/kafka/record-batch.ts', import.meta.url));
  const script = path.join(dir, 'writer.ts');
  await writeFile(
    script,
    `import { PartitionLog } from ${JSON.stringify(logModule)};
import { StagingPool } from ${JSON.stringify(dioModule)};
import { encodeRecordBatch, validateBatches } from ${JSON.stringify(batchModule)};
const log = await PartitionLog.open(process.argv[2], { segmentBytes: 40000, retentionMs: -1, retentionBytes: -1,
  maxMessageBytes: 1 << 20, fsync: { mode: 'always' }, indexIntervalBytes: 512, staging: new StagingPool() });
const start = log.logEndOffset;
const send = (i: number) => {
  const bytes = encodeRecordBatch({ records: Array.from({ length: 1 + (i % 5) }, (_, k) => ({ key: null, value: 'v' + (start + i) + '-' + k + 'x'.repeat(i % 700) })) });
  const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
  if (!v.ok) throw new Error(v.message);
  return log.append(bytes, v.batches);
};
for (let i = 0; ; i += 3) {
  // Several appends in flight, as from several connections: they are written as groups.
  const rs = await Promise.all([send(i), send(i + 1), send(i + 2)]);
  for (const r of rs) if (!r.ok) throw new Error(r.message);
  process.stdout.write(rs[2].lastOffset + '\\n');
}
`,
  );
  const logDir = path.join(dir, 'log');
  let acked = -1;
  for (let round = 0; round < 3; round++) {
    acked = await killWriterAt(script, [logDir], acked + 200 + Math.floor(Math.random() * 300));
    const log = await PartitionLog.open(logDir, config(new StagingPool(), { segmentBytes: 40000 }));
    try {
      assert.ok(log.logEndOffset > acked, `round ${round}: acked up to ${acked}, log ends at ${log.logEndOffset}`);
      const values = await readValues(log);
      assert.equal(values.length, log.logEndOffset);
    } finally {
      await log.close();
    }
  }
});

void test('a roll that cannot create its index files refuses the append and leaves no file open', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async (t) => {
  const dir = await tempDir(t);
  const log = await PartitionLog.open(dir, config(new StagingPool(), { segmentBytes: 4000 }));
  t.after(() => log.close().catch(() => {}));
  await append(log, batch(0));
  const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
  const before = await fds();
  const rolls = log.segmentCount;
  // A roll starts its segment at the log's end offset: a directory where that segment's index file goes, before every
  // append until one has to roll.
  let refused: unknown = null;
  for (let i = 1; i < 100 && refused === null; i++) {
    const blocker = path.join(dir, `${String(log.logEndOffset).padStart(20, '0')}.index`);
    await mkdir(blocker);
    const bytes = batch(i, 1);
    const v = validateBatches(bytes, { maxMessageBytes: 1 << 20, allowZstd: true });
    assert.ok(v.ok);
    await log.append(bytes, v.batches).then(
      (r) => assert.ok(r.ok),
      (err: unknown) => (refused = err),
    );
    if (refused === null) await rm(blocker, { recursive: true });
  }
  assert.match(String(refused), /rolling a new segment at offset \d+ .*EISDIR/);
  assert.equal(log.segmentCount, rolls);
  assert.equal(await fds(), before, 'the new segment\'s log file handles were closed');
});

/**
 * `oxbow broker` over a ramfs (which refuses O_DIRECT) mounted in a mount namespace of its own, with `directIo` set
 * through a lake declaration; resolves with its exit code (null while it runs) and its output so far.
 */
async function brokerOnRamfs(t: TestContext, directIo: string): Promise<{ output: () => string; exited: Promise<number | null>; address: Promise<string> }> {
  const dir = await tempDir(t);
  const configFile = path.join(dir, 'oxbow.config.mjs');
  await writeFile(configFile, `export default { broker: { directIo: ${JSON.stringify(directIo)} } };\n`);
  const mountPoint = path.join(dir, 'ramfs');
  const script = `mkdir -p "$1" && mount -t ramfs oxbow-test "$1" && exec "$2" "$3" broker --port 0 --data-dir "$1/data" --config "$4"`;
  const child = spawn('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', mountPoint, process.execPath, OXBOW_BIN, configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const address = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`broker exited with ${code}; output:\n${out}`)));
  });
  address.catch(() => {});
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { output: () => out, exited, address };
}

void test('broker.directIo: on stops the broker at start where the file system refuses direct I/O; auto says so and writes through the page cache', async (t) => {
  const on = await brokerOnRamfs(t, 'on');
  assert.equal(await on.exited, 1, on.output());
  assert.match(on.output(), /broker\.directIo is on, but .*\/ramfs\/data\/topics does not take direct I\/O: .*EINVAL/);

  const auto = await brokerOnRamfs(t, 'auto');
  const address = await auto.address;
  assert.match(auto.output(), /appends go through the page cache: .*\/ramfs\/data\/topics does not take direct I\/O \(.*EINVAL/);
  const lines = Array.from({ length: 500 }, (_, i) => `record-${i}`);
  await run('kcat', ['-P', '-b', address, '-t', 'ramfs-topic', '-p', '0'], { input: lines.join('\n') + '\n' });
  const { stdout } = await run('kcat', ['-C', '-b', address, '-t', 'ramfs-topic', '-p', '0', '-o', 'beginning', '-e', '-q']);
  assert.deepEqual(stdout.toString().trim().split('\n'), lines);
});
