// kcat (librdkafka 2.0.2 from Debian) against the embedded broker: metadata, produce with every codec, consume back
// byte-for-byte, and consume as a group member.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { readBatchHeader } from '../../src/kafka/record-batch.ts';
import { defer, eventually, run, startBroker } from '../helpers/broker.ts';

const RECORDS = 10_000;

function records(tag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < RECORDS; i++) {
    // Varied, partly repetitive payloads so that every codec has something to compress.
    out.push(`key-${i % 97}:{"tag":"${tag}","seq":${i},"payload":"${'x'.repeat(i % 50)}${(i * 2654435761) % 4294967296}"}`);
  }
  return out;
}

test('kcat lists metadata: broker, topics and partitions', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('orders.raw', 3);
  const { stdout } = await run('kcat', ['-b', address, '-L', '-J']);
  const md = JSON.parse(stdout.toString()) as { brokers: { id: number; name: string }[]; topics: { topic: string; partitions: { partition: number; leader: number }[] }[] };
  assert.deepEqual(md.brokers.map((b) => `${b.id}@${b.name}`), [`1@${address}`]);
  const topic = md.topics.find((x) => x.topic === 'orders.raw');
  assert.ok(topic, 'orders.raw is listed');
  assert.deepEqual(topic.partitions.map((p) => [p.partition, p.leader]), [[0, 1], [1, 1], [2, 1]]);
});

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`kcat produces ${RECORDS} records with ${codec} compression and reads them back byte-for-byte`, async (t) => {
    const { broker, address } = await startBroker(t);
    const topic = `kcat-${codec}`;
    const lines = records(codec);
    // kcat relies on the broker creating the topic on first use.
    await run('kcat', ['-b', address, '-P', '-t', topic, '-K', ':', '-z', codec, '-X', 'linger.ms=20'], { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 });
    const { stdout } = await run('kcat', ['-b', address, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%k:%s\n'], { timeoutMs: 60_000 });
    const got = stdout.toString().split('\n').slice(0, -1);
    assert.equal(got.length, RECORDS);
    assert.deepEqual(got, lines);
    // The batches on disk carry the codec kcat chose: compression was not silently disabled by version gating.
    const log = broker.topics.get(topic)!.partitions[0]!;
    assert.equal(log.logEndOffset, RECORDS);
    const { records: bytes } = await log.read(0, 1 << 30);
    const codecs = new Set<number>();
    for (let pos = 0; pos + 61 <= bytes.length; ) {
      const h = readBatchHeader(bytes, pos);
      codecs.add(h.attributes & 7);
      pos += h.byteLength;
    }
    const expected = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec];
    // librdkafka sends a batch uncompressed when compressing would not make it smaller (a short tail batch), so a few
    // plain batches may sit beside the compressed ones.
    assert.ok(codecs.has(expected), `batches carry codec ${expected}; found ${[...codecs].join(', ')}`);
    assert.deepEqual([...codecs].filter((c) => c !== expected && c !== 0), [], 'no other codec appears');
  });
}

test('kcat consumes as a group member and commits its position', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('grouped', 2);
  const lines = Array.from({ length: 2000 }, (_, i) => `${i % 10}:value-${i}`);
  await run('kcat', ['-b', address, '-P', '-t', 'grouped', '-K', ':'], { input: `${lines.join('\n')}\n` });
  const { stdout } = await run(
    'kcat',
    ['-b', address, '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-c', String(lines.length), '-f', '%k:%s\n', 'grouped'],
    { timeoutMs: 90_000 },
  );
  const got = stdout.toString().split('\n').slice(0, -1);
  assert.deepEqual([...got].sort(), [...lines].sort());
  const committed = broker.groups.fetchOffsets('kcat-group', null);
  const total = committed.reduce((n, c) => n + Math.max(0, c.offset), 0);
  assert.equal(total, lines.length, `committed offsets ${JSON.stringify(committed)}`);
});

test('a kcat group member killed without leaving is expired, and the other member takes over its partitions', async (t) => {
  const { broker, address } = await startBroker(t);
  await broker.topics.create('expiry', 4);
  const member = (name: string) => {
    const child = spawn('kcat', ['-b', address, '-G', 'expiry-group', '-u', '-f', '%s\n', '-X', 'auto.offset.reset=earliest',
      '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=300', '-X', `client.id=${name}`, 'expiry'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const seen: string[] = [];
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      seen.push(...parts);
    });
    defer(t, () => child.kill('SIGKILL'));
    return { child, seen };
  };
  const a = member('member-a');
  await eventually(() => (broker.groups.describeGroup('expiry-group').state === 'Stable' ? true : undefined), 20_000, 'member a joined');
  const b = member('member-b');
  await eventually(() => {
    const d = broker.groups.describeGroup('expiry-group');
    return d.state === 'Stable' && d.members.length === 2 ? true : undefined;
  }, 20_000, 'two members');
  const first = Array.from({ length: 400 }, (_, i) => `${i % 4}:first-${i}`);
  await run('kcat', ['-b', address, '-P', '-t', 'expiry', '-K', ':'], { input: `${first.join('\n')}\n` });
  await eventually(() => (a.seen.length + b.seen.length >= 400 ? true : undefined), 20_000, 'first 400 consumed');
  assert.ok(a.seen.length > 0 && b.seen.length > 0, `both members consumed (a ${a.seen.length}, b ${b.seen.length})`);

  a.child.kill('SIGKILL'); // no LeaveGroup: only the session timeout can notice
  const killedAt = Date.now();
  await eventually(() => {
    const d = broker.groups.describeGroup('expiry-group');
    return d.state === 'Stable' && d.members.length === 1 ? true : undefined;
  }, 20_000, 'the dead member expired');
  const waited = Date.now() - killedAt;
  assert.ok(waited >= 4000, `expired after ${waited} ms, before its 6 s session timeout`);

  const second = Array.from({ length: 400 }, (_, i) => `${i % 4}:second-${i}`);
  await run('kcat', ['-b', address, '-P', '-t', 'expiry', '-K', ':'], { input: `${second.join('\n')}\n` });
  await eventually(() => (second.every((l) => b.seen.includes(l.slice(2))) ? true : undefined), 20_000, 'member b reads every partition');
});
