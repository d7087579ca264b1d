// One measured run of the stream benchmark in its own process: the passthrough loop or a real StreamWorker. Started
// by run.ts with one JSON argument; prints `{"ready":true}` once set up, starts on the line "go", stops and closes on
// the line "stop", then prints its result as one JSON line.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { StreamThread, type StreamCounters } from '../../src/stream/index.ts';
import { Passthrough } from './passthrough.ts';

export type StreamJob =
  | { mode: 'passthrough'; address: string; groupId: string; from: string; to: string }
  | { mode: 'worker'; address: string; dataset: string; configFile: string; stateDir: string; stepThreads: number };

export type StreamJobResult = { copied: number; counters: StreamCounters | null; errors: string[] };

const lines = createInterface({ input: process.stdin });
const commands: string[] = [];
const waiting: ((line: string) => void)[] = [];
lines.on('line', (line) => {
  const w = waiting.shift();
  if (w) w(line.trim());
  else commands.push(line.trim());
});

/** The next line from run.ts; an orphaned job (stdin closed, or nothing for 10 minutes) exits. */
async function next(expected: string): Promise<void> {
  const queued = commands.shift();
  const line =
    queued ??
    (await Promise.race([
      new Promise<string>((resolve) => waiting.push(resolve)),
      once(lines, 'close').then(() => 'closed'),
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 600_000).unref()),
    ]));
  if (line !== expected) {
    process.stderr.write(`expected "${expected}", got ${line}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as StreamJob;
  const errors: string[] = [];
  if (job.mode === 'passthrough') {
    const loop = new Passthrough({ brokers: [job.address], groupId: job.groupId, from: job.from, to: job.to });
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
    await next('go');
    loop.start();
    await next('stop');
    await loop.close();
    const result: StreamJobResult = { copied: loop.copied, counters: null, errors: loop.errors };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  // As `oxbow stream` does: the configuration is loaded here, and the worker runs on a thread of its own that loads it
  // again, as its step threads do.
  const cwd = path.dirname(job.configFile);
  if ((await loadConfig({ file: job.configFile, cwd })).datasets[job.dataset] === undefined) throw new Error(`dataset ${job.dataset} is not in ${job.configFile}`);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await next('go');
  const worker = await StreamThread.start(
    {
      configFile: job.configFile,
      cwd,
      dataset: job.dataset,
      options: { brokers: [job.address], clientId: 'oxbow-bench', stateDir: job.stateDir, workerId: 'bench', stepThreads: job.stepThreads, configSource: { configFile: job.configFile, cwd } },
    },
    (line) => {
      errors.push(line);
      process.stderr.write(`${line}\n`);
    },
  );
  await next('stop');
  await worker.close();
  // The log lines worth failing a run: Kafka errors and retries; the start line and assignments are not errors.
  const problems = errors.filter((l) => /fail|bug|cannot|warning/.test(l));
  const result: StreamJobResult = { copied: worker.counters.processed, counters: worker.counters, errors: problems };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
lines.close();
