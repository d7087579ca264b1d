// Threads that carry records get larger young generations: V8 sizes a heap when a thread starts, so the size is set
// while the stream threads start and put back afterwards (src/young-generation.ts). Each case runs in a Node.js
// process of its own, since the setting is the process's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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

test('a supervised thread with largerYoungGeneration gets it at every start, the start after it ended on its own too', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oxbow-young-'));
  try {
    // The thread reports its new space with `started`, then ends on its own the first time, so that it is started again.
    const threadFile = path.join(dir, 'thread.mjs');
    writeFileSync(
      threadFile,
      [
        "import v8 from 'node:v8';",
        "import { parentPort, workerData } from 'node:worker_threads';",
        "import { existsSync, writeFileSync } from 'node:fs';",
        "const mb = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;",
        "parentPort.postMessage({ type: 'started', mb });",
        "parentPort.on('message', (m) => { if (m.type === 'close') parentPort.close(); });",
        // Only the first start ends: the mark says it has happened.
        "if (workerData.endFirst && !existsSync(workerData.mark)) { writeFileSync(workerData.mark, ''); setTimeout(() => process.exit(3), 50); }",
      ].join('\n'),
    );
    const supervised = pathToFileURL(path.join(ROOT, 'src', 'supervised-worker.ts')).href;
    const script = [
      `import { SupervisedWorker } from ${JSON.stringify(supervised)};`,
      'const sizes = [];',
      'let restarted;',
      'const again = new Promise((resolve) => { restarted = resolve; });',
      'const start = (largerYoungGeneration, endFirst) => SupervisedWorker.start({',
      `  url: new URL(${JSON.stringify(pathToFileURL(threadFile).href)}), name: 't', workerData: { endFirst, mark: ${JSON.stringify(path.join(dir, 'ended'))} }, describe: 'the test thread',`,
      "  startFailedCode: 'TEST_START_FAILED', log: () => undefined, restartDelayMs: 10, largerYoungGeneration,",
      "  onMessage: (m) => { if (m.type === 'started') { sizes.push(m.mb); if (sizes.length === 2) restarted(); } },",
      '});',
      'const t = await start(true, true);',
      'await again;',
      'await t.close({ type: \'close\' });',
      'const plain = await start(false, false);',
      'await plain.close({ type: \'close\' });',
      'process.stdout.write(JSON.stringify({ sizes, restarts: t.restarts }));',
    ].join('\n');
    // A file rather than -e: the threads would inherit --input-type, which only goes with -e.
    const driverFile = path.join(dir, 'driver.mjs');
    writeFileSync(driverFile, script);
    const r = JSON.parse(execFileSync(process.execPath, [driverFile], { cwd: ROOT, encoding: 'utf8' })) as { sizes: number[]; restarts: number };
    assert.equal(r.restarts, 1, 'the thread that ended on its own was started again');
    assert.equal(r.sizes.length, 3);
    assert.ok(r.sizes[0]! >= RECORD_THREAD_SEMI_SPACE_MB, `first start: ${r.sizes[0]} MiB`);
    assert.ok(r.sizes[1]! >= RECORD_THREAD_SEMI_SPACE_MB, `the start after it ended on its own: ${r.sizes[1]} MiB`);
    assert.ok(r.sizes[2]! < RECORD_THREAD_SEMI_SPACE_MB / 2, `a supervised thread without the option keeps V8's default (${r.sizes[2]} MiB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
