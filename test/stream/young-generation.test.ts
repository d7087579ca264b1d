// Threads that carry records get larger young generations: V8 sizes a heap when a thread starts, so the size is set
// while the stream threads start and put back afterwards (src/young-generation.ts). Each case runs in a Node.js
// process of its own, since the setting is the process's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import test from 'node:test';
import { ROOT } from '../helpers/broker.ts';
import { RECORD_THREAD_SEMI_SPACE_MB } from '../../src/young-generation.ts';

type NewSpaces = { main: number; inside: number; after: number };

/** New-space sizes in MiB: of the running thread, of a thread started inside startWithLargerYoungGeneration(), and of one started after it. */
function newSpaces(nodeArgs: string[] = []): NewSpaces {
  const module = pathToFileURL(path.join(ROOT, 'src', 'young-generation.ts')).href;
  const script = [
    "import { Worker } from 'node:worker_threads';",
    "import v8 from 'node:v8';",
    `import { startWithLargerYoungGeneration } from ${JSON.stringify(module)};`,
    "const newSpaceMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;",
    "const body = `import v8 from 'node:v8'; import { parentPort } from 'node:worker_threads'; parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;",
    'const thread = async () => {',
    "  const worker = new Worker(body, { eval: true, execArgv: ['--input-type=module'] });",
    "  const mb = await new Promise((resolve) => worker.once('message', resolve));",
    '  await worker.terminate();',
    '  return mb;',
    '};',
    'const inside = await startWithLargerYoungGeneration(thread);',
    'const after = await thread();',
    'process.stdout.write(JSON.stringify({ main: newSpaceMb(), inside, after }));',
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as NewSpaces;
}

test('a thread started inside startWithLargerYoungGeneration() gets semi-spaces of RECORD_THREAD_SEMI_SPACE_MB; the running thread and threads started later keep the default', () => {
  const r = newSpaces();
  assert.ok(r.inside >= RECORD_THREAD_SEMI_SPACE_MB, `the thread started inside starts with a new space of ${r.inside} MiB, expected at least ${RECORD_THREAD_SEMI_SPACE_MB}`);
  assert.ok(r.after < RECORD_THREAD_SEMI_SPACE_MB / 2, `a thread started afterwards has V8's default again (${r.after} MiB)`);
  assert.ok(r.main < RECORD_THREAD_SEMI_SPACE_MB / 2, `the thread that was already running keeps V8's default (${r.main} MiB)`);
});

test('a semi-space size given to Node.js is left as given', () => {
  const r = newSpaces(['--max-semi-space-size=8']);
  assert.ok(r.inside < RECORD_THREAD_SEMI_SPACE_MB / 2, `the thread keeps the size Node.js was given (${r.inside} MiB)`);
});
