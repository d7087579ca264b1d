// Threads that carry records get larger young generations: V8 sizes a heap when a thread starts, so the size is set
// for threads started afterwards (src/young-generation.ts). Each case runs in a Node.js process of its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import test from 'node:test';
import { ROOT } from '../helpers/broker.ts';
import { RECORD_THREAD_SEMI_SPACE_MB } from '../../src/young-generation.ts';

/** The new space, in MiB, of a thread started after enlargeYoungGenerationOfNewThreads(), and what that returned. */
function newSpaceOfThread(nodeArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): { set: boolean; threadMb: number; mainMb: number } {
  const module = pathToFileURL(path.join(ROOT, 'src', 'young-generation.ts')).href;
  const script = [
    "import { Worker } from 'node:worker_threads';",
    "import v8 from 'node:v8';",
    `import { enlargeYoungGenerationOfNewThreads } from ${JSON.stringify(module)};`,
    "const newSpaceMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;",
    'const set = enlargeYoungGenerationOfNewThreads();',
    "const body = `import v8 from 'node:v8'; import { parentPort } from 'node:worker_threads'; parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;",
    "const worker = new Worker(body, { eval: true, execArgv: ['--input-type=module'] });",
    "const threadMb = await new Promise((resolve) => worker.once('message', resolve));",
    'await worker.terminate();',
    'process.stdout.write(JSON.stringify({ set, threadMb, mainMb: newSpaceMb() }));',
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env })) as { set: boolean; threadMb: number; mainMb: number };
}

test('a thread started after enlargeYoungGenerationOfNewThreads() has semi-spaces of RECORD_THREAD_SEMI_SPACE_MB; the running thread keeps its own', () => {
  const r = newSpaceOfThread();
  assert.equal(r.set, true);
  assert.ok(r.threadMb >= RECORD_THREAD_SEMI_SPACE_MB, `the new thread starts with a new space of ${r.threadMb} MiB, expected at least ${RECORD_THREAD_SEMI_SPACE_MB}`);
  assert.ok(r.mainMb < RECORD_THREAD_SEMI_SPACE_MB / 2, `the thread that was already running keeps V8's default (${r.mainMb} MiB)`);
});

test('a semi-space size given to Node.js is left as given', () => {
  const r = newSpaceOfThread(['--max-semi-space-size=8']);
  assert.equal(r.set, false);
  assert.ok(r.threadMb < RECORD_THREAD_SEMI_SPACE_MB / 2, `the new thread keeps the size Node.js was given (${r.threadMb} MiB)`);
});
