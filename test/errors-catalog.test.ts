// docs/errors.md is the catalog of error codes: every code the code can raise is documented there, and back.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('every OXBOW_ code in src/ is in docs/errors.md and every documented code exists in src/', async () => {
  const inCode = new Set<string>();
  for (const f of await sourceFiles(path.join(root, 'src'))) {
    for (const m of (await readFile(f, 'utf8')).matchAll(/'(OXBOW_[A-Z0-9_]*[A-Z0-9])'/g)) inCode.add(m[1]!);
  }
  const doc = await readFile(path.join(root, 'docs', 'errors.md'), 'utf8');
  const inDoc = new Set([...doc.matchAll(/^\|\s*`(OXBOW_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));
  assert.ok(inCode.size > 0, 'no error codes found in src/');
  assert.deepEqual([...inCode].filter((c) => !inDoc.has(c)).sort(), [], 'codes used in src/ but missing from docs/errors.md');
  assert.deepEqual([...inDoc].filter((c) => !inCode.has(c)).sort(), [], 'codes documented in docs/errors.md but not used in src/');
});

test('every documented code says what it means and what to do', async () => {
  const doc = await readFile(path.join(root, 'docs', 'errors.md'), 'utf8');
  for (const line of doc.split('\n').filter((l) => /^\|\s*`OXBOW_/.test(l))) {
    const cells = line.split('|').map((c) => c.trim()).filter((c, i, all) => i > 0 && i < all.length - 1);
    assert.equal(cells.length, 4, `row needs code, retryable, meaning, what to do: ${line}`);
    assert.ok(cells.every((c) => c.length > 0), `empty cell in: ${line}`);
  }
});
