// Exactly-once under kill -9: `oxbow sink` is killed at random moments while records keep arriving, then restarted;
// in the end the lake holds every processed record exactly once (same count, same multiset of lineage values).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { defer, OXBOW_BIN, tempDir } from '../helpers/broker.ts';
import { lakeFiles, order, ordersSchema, queryLake, sinkEnv, until, type SinkEnv } from './helpers.ts';

const PARTITIONS = 3;
const RECORDS_PER_PARTITION = 4000;
const KILLS = 8;

/** A seeded generator, so a failing run can be repeated. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function writeConfig(env: SinkEnv, dir: string): Promise<string> {
  const file = path.join(dir, 'oxbow.config.ts');
  const config = {
    storage: { url: env.root },
    // Field partitions by country times four hours: a unit has up to 20 files, so kills often land between two of them.
    sink: { workDir: path.join(dir, 'work'), fieldPartitions: ['country'], flushSize: 60, rotateScheduleIntervalMs: 150, sessionTimeoutMs: 1000, offsetCommitIntervalMs: 1000 },
    datasets: { orders: { schema: ordersSchema, eventTimeField: 'ts' } },
  };
  await writeFile(file, `export default ${JSON.stringify(config, null, 2)};\n`);
  return file;
}

function spawnSink(t: TestContext, configFile: string, address: string) {
  const child = spawn(process.execPath, [OXBOW_BIN, 'sink', '--dataset', 'orders', '--config', configFile, '--brokers', address], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    started: () => until(() => {
      if (child.exitCode !== null) throw new Error(`oxbow sink exited with ${child.exitCode}:\n${out}`);
      return /sink of dataset orders started/.test(out);
    }, 30_000, () => out),
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

test('kill -9 of the sink at random moments, many times: every record is in the lake exactly once', { timeout: 240_000 }, async (t) => {
  const random = prng(Number(process.env.OXBOW_TEST_SEED ?? 20261122));
  const env = await sinkEnv(t, { partitions: PARTITIONS, brokerSettings: { groupMinSessionTimeoutMs: 1000 } });
  const dir = await tempDir(t, 'oxbow-sink-crash-');
  const configFile = await writeConfig(env, dir);

  // Records keep arriving while the sink is killed and restarted; event times jump between hours, late ones included.
  const hours = ['2026-11-22T03', '2026-11-22T04', '2026-11-22T05', '2026-11-21T23'];
  let produced = 0;
  const production = (async () => {
    for (let start = 0; start < RECORDS_PER_PARTITION; start += 100) {
      for (let p = 0; p < PARTITIONS; p++) {
        const batch = Array.from({ length: 100 }, (_, j) => {
          const id = p * RECORDS_PER_PARTITION + start + j;
          const h = hours[Math.floor(random() * (random() < 0.9 ? 2 : hours.length))]!;
          return order(id, `${h}:${String(Math.floor(random() * 60)).padStart(2, '0')}:00Z`, p);
        });
        await env.send(batch, p);
        produced += batch.length;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();

  const outputs: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const sink = spawnSink(t, configFile, env.address);
    await sink.started();
    // Killed once it has its partitions and has been writing for a random while.
    await until(() => /assigned partitions of orders\.processed: 0,1,2/.test(sink.output()), 30_000, sink.output);
    await new Promise((r) => setTimeout(r, 200 + random() * 2000));
    await sink.kill();
    outputs.push(sink.output());
  }
  await production;
  const total = PARTITIONS * RECORDS_PER_PARTITION;
  assert.equal(produced, total);

  const last = spawnSink(t, configFile, env.address);
  await last.started();
  await until(async () => Number((await queryLake(env.root, 'SELECT count(*) AS n FROM lake'))[0]?.n ?? 0) >= total, 90_000, last.output);
  await last.stop();

  const [summary] = await queryLake(
    env.root,
    `SELECT count(*) AS n, count(DISTINCT (_source_partition, _source_offset)) AS distinct_lineage, count(DISTINCT id) AS ids,
            sum(id) AS id_sum, min(id) AS lo, max(id) AS hi FROM lake`,
  );
  assert.deepEqual(
    { n: Number(summary!.n), lineage: Number(summary!.distinct_lineage), ids: Number(summary!.ids), sum: Number(summary!.id_sum), lo: Number(summary!.lo), hi: Number(summary!.hi) },
    { n: total, lineage: total, ids: total, sum: (total * (total - 1)) / 2, lo: 0, hi: total - 1 },
    `after ${KILLS} kills; outputs:\n${outputs.map((o) => o.split('\n').slice(-4).join('\n')).join('\n---\n')}`,
  );
  // The lineage of each record names the Kafka partition it was produced to, and its file says the same partition.
  const misplaced = await queryLake(env.root, `SELECT count(*) AS n FROM lake WHERE NOT regexp_matches(file, '\\+' || _source_partition || '\\+[0-9]+\\+[0-9]+\\.snappy\\.parquet$')`);
  assert.equal(Number(misplaced[0]!.n), 0);
  assert.ok((await lakeFiles(env.root)).length > KILLS, 'many files were committed');
});
