// The configuration model: defaults, human units, and errors that name the key, the value and what is allowed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, resolveConfig } from '../../src/config/index.ts';

test('defaults describe a one-machine lake', () => {
  const c = resolveConfig();
  assert.equal(c.broker.host, '127.0.0.1');
  assert.equal(c.broker.port, 9092);
  assert.equal(c.broker.advertisedHost, '127.0.0.1');
  assert.deepEqual(c.broker.fsync, { mode: 'always' });
  assert.equal(c.broker.autoCreateTopics, true);
  assert.deepEqual(c.kafka.brokers, []);
});

test('durations and sizes accept human units', () => {
  const c = resolveConfig({ broker: { retentionMs: '7d', segmentBytes: '64MiB', fsync: '200ms', maxMessageBytes: '1MB' } });
  assert.equal(c.broker.retentionMs, 7 * 86_400_000);
  assert.equal(c.broker.segmentBytes, 64 * 1024 * 1024);
  assert.deepEqual(c.broker.fsync, { mode: 'interval', intervalMs: 200 });
  assert.equal(c.broker.maxMessageBytes, 1_000_000);
});

test('a bad value names the key, the value and what is allowed', () => {
  assert.throws(
    () => resolveConfig({ broker: { port: 70000 } }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === 'OXBOW_CONFIG_INVALID' &&
      err.message === 'broker.port: 70000 is not allowed; expected an integer from 0 to 65535',
  );
  assert.throws(() => resolveConfig({ broker: { fsync: 'sometimes' } }), /broker\.fsync: "sometimes" is not allowed; expected "always"/);
  assert.throws(() => resolveConfig({ kafka: { brokers: ['nohost'] } }), /kafka\.brokers: \["nohost"\] is not allowed; expected a list of host:port/);
});

test('an unknown key is refused, with the known keys listed', () => {
  assert.throws(
    () => resolveConfig({ broker: { prot: 1 } } as never),
    (err: unknown) => err instanceof ConfigError && err.code === 'OXBOW_CONFIG_UNKNOWN_KEY' && /"broker\.prot".*port/.test(err.message),
  );
  assert.throws(() => resolveConfig({ brokr: {} } as never), /unknown configuration section "brokr"/);
});

test('oxbow.config.ts is loaded from the working directory and command-line overrides win', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oxbow-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = path.resolve(import.meta.dirname, '../../src/config/index.ts');
  await writeFile(
    path.join(dir, 'oxbow.config.ts'),
    `import { defineLake } from ${JSON.stringify(src)};\nexport default defineLake({ broker: { port: 19092, retentionMs: '1h' } });\n`,
  );
  const c = await loadConfig({ cwd: dir, overrides: { broker: { retentionMs: '2h' } } });
  assert.equal(c.broker.port, 19092);
  assert.equal(c.broker.retentionMs, 2 * 3_600_000);
});

test('a config file that is missing or has no default export is a clear error', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oxbow-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(loadConfig({ cwd: dir, file: 'nope.ts' }), /configuration file nope\.ts does not exist/);
  await writeFile(path.join(dir, 'bad.ts'), 'export const x = 1;\n');
  await assert.rejects(loadConfig({ cwd: dir, file: 'bad.ts' }), /must `export default defineLake/);
});
