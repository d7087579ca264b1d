// What a step thread loads: it imports the lake's configuration file, which imports the oxbow package, and only ever
// runs steps. The Kafka client (about half a second to import on a small machine) must not come with it, or every
// worker start and every replaced step thread waits for it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'node:test';
import { ROOT } from '../helpers/broker.ts';

/** The URLs of every module that importing `entry` in a fresh Node.js process resolves. */
function modulesLoadedBy(entry: string): string[] {
  const script = [
    "import { registerHooks } from 'node:module';",
    'const seen = [];',
    'registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });',
    `await import(${JSON.stringify(pathToFileURL(entry).href)});`,
    'process.stdout.write(JSON.stringify(seen));',
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as string[];
}

test('the oxbow package and the example configuration load without the Kafka client, which only the workers that talk to Kafka import', () => {
  for (const entry of [path.join(ROOT, 'src', 'index.ts'), path.join(ROOT, 'examples', 'oxbow.config.ts'), path.join(ROOT, 'src', 'stream', 'step-batch.ts')]) {
    const loaded = modulesLoadedBy(entry);
    assert.ok(loaded.some((url) => url.includes('/src/')), `importing ${entry} loads Oxbow's modules (the hook sees them)`);
    const kafka = loaded.filter((url) => url.includes('@platformatic/kafka'));
    assert.deepEqual(kafka, [], `importing ${path.relative(ROOT, entry)} must not load the Kafka client`);
  }
});

test('a worker still gets its Kafka client when it starts: the client is loaded on first use', async () => {
  const { kafka } = await import('../../src/kafka-client.ts');
  const first = kafka();
  assert.equal(kafka(), first, 'one import, shared by every caller');
  const module = await first;
  assert.equal(typeof module.Consumer, 'function');
  assert.equal(typeof module.Producer, 'function');
});
