// docs/stream.md: its example oxbow.config.ts loads and runs, and its dead-letter table lists exactly the codes the engine uses.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { compilePipeline, DeadLetterCode, DeadLetterHeader } from '../../src/stream/index.ts';
import { json, raw, tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'stream.md');

test('the example oxbow.config.ts in docs/stream.md loads and processes orders', async (t) => {
  const text = await readFile(DOC, 'utf8');
  const example = /```ts\n(\/\/ oxbow\.config\.ts\n[\s\S]*?)```/.exec(text)?.[1];
  assert.ok(example, 'docs/stream.md has an example starting with // oxbow.config.ts');
  assert.match(example, /from 'oxbow'/);
  const dir = await tempDir(t);
  // What `import ... from 'oxbow'` gives a config file: the configuration model and the step builders.
  await writeFile(
    path.join(dir, 'oxbow-shim.ts'),
    `export * from ${JSON.stringify(path.join(ROOT, 'src', 'config', 'index.ts'))};\nexport * from ${JSON.stringify(path.join(ROOT, 'src', 'stream', 'index.ts'))};\n`,
  );
  await writeFile(path.join(dir, 'oxbow.config.ts'), example.replace(`from 'oxbow'`, `from './oxbow-shim.ts'`));
  await writeFile(path.join(dir, 'countries.csv'), 'code,country_name\nDE,Germany\n');
  const config = await loadConfig({ cwd: dir });
  const orders = config.datasets.orders!;
  assert.deepEqual(orders.topics, { raw: 'orders.raw', processed: 'orders.processed', dlq: 'orders.dlq' });
  const pipeline = await compilePipeline(orders);
  const base = { id: 'o-1', amount: 10, currency: 'USD', country_code: 'DE', ts: '2024-01-01T10:00:00Z' };
  const [usd, test1, bad] = await pipeline.processBatch([raw(7, base), raw(8, { ...base, id: 'test-1' }), raw(9, { ...base, amount: -1 })]);
  assert.equal(usd!.kind, 'processed');
  assert.deepEqual(json(usd!.kind === 'processed' ? usd!.value : Buffer.from('{}')), {
    ...base,
    amount_eur: 9.2,
    country_name: 'Germany',
    _source: { topic: 'orders.raw', partition: 0, offset: 7 },
  });
  assert.deepEqual(test1, { kind: 'filtered', rule: 'no-test-orders' });
  assert.equal(bad!.kind === 'dead-letter' && bad!.code, 'OXBOW_STREAM_SCHEMA_VIOLATION');
});

test('the dead-letter tables in docs/stream.md list every code and header, and nothing else', async () => {
  const text = await readFile(DOC, 'utf8');
  const section = text.slice(text.indexOf('## Dead letters'));
  const codes = new Set([...section.matchAll(/^\| `(OXBOW_STREAM_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...codes].sort(), Object.values(DeadLetterCode).sort());
  const headers = [...section.matchAll(/^\| `(oxbow\.[a-z.]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(headers, Object.values(DeadLetterHeader));
});
