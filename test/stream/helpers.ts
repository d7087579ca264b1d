// Shared helpers of the stream tests: temporary directories and raw records.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { resolveDatasets, type DatasetDeclaration, type ResolvedDataset, type SourceRecord, type StreamHeader } from '../../src/stream/index.ts';

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oxbow-stream-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A raw record at `offset`: an object is written as JSON, a string as UTF-8, a Buffer as it is, null as a tombstone. */
export function raw(offset: number, value: unknown, options: { topic?: string; partition?: number; key?: string; headers?: StreamHeader[] } = {}): SourceRecord {
  const bytes = value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  return {
    key: options.key === undefined ? null : Buffer.from(options.key),
    value: bytes,
    headers: options.headers ?? [],
    topic: options.topic ?? 'orders.raw',
    partition: options.partition ?? 0,
    offset: BigInt(offset),
    timestamp: BigInt(1_700_000_000_000 + offset),
  };
}

/** Resolves one dataset declaration, failing the test with the problems when it is refused. */
export function dataset(name: string, declaration: DatasetDeclaration, cwd?: string): ResolvedDataset {
  const r = resolveDatasets({ [name]: declaration }, cwd);
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.datasets[name]!;
}

export function json(value: Buffer): Record<string, unknown> {
  return JSON.parse(value.toString('utf8')) as Record<string, unknown>;
}
