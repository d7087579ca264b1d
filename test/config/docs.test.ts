// docs/configuration.md describes every setting of the configuration model with its real default, and its example
// oxbow.config.ts loads. With OXBOW_UPDATE_DOCS=1 the settings table is rewritten from the code instead of checked.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { TOPIC_CONFIG_KEYS } from '../../src/broker/index.ts';
import { defaultCell, formatDefault, loadConfig, parseDefaultLiteral, resolveConfig, SETTINGS, settingsTable } from '../../src/config/index.ts';
import { tempDir } from '../helpers/broker.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'configuration.md');
const BEGIN = '<!-- settings table: generated from src/config/model.ts -->';
const END = '<!-- end of settings table -->';

type Row = { key: string; type: string; default: string; allowed: string; meaning: string };

function cells(line: string): string[] {
  // Split on pipes that are not escaped as \| inside a cell.
  return line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
}

async function readDoc(): Promise<{ text: string; table: string; withTable: (table: string) => string }> {
  const text = await readFile(DOC, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  assert.ok(begin >= 0 && end > begin, `docs/configuration.md needs the markers ${BEGIN} and ${END} around the settings table`);
  const withTable = (table: string) => `${text.slice(0, begin + BEGIN.length)}\n${table}\n${text.slice(end)}`;
  return { text, table: text.slice(begin + BEGIN.length, end).trim(), withTable };
}

function rows(table: string): Row[] {
  return table
    .split('\n')
    .filter((l) => /^\|\s*`/.test(l))
    .map((l) => {
      const [key, type, def, allowed, meaning] = cells(l);
      return { key: key!.replaceAll('`', ''), type: type!, default: def!, allowed: allowed!, meaning: meaning! };
    });
}

test('the settings table in docs/configuration.md is the one generated from SETTINGS', async (t) => {
  const { table, withTable } = await readDoc();
  const generated = settingsTable();
  if (process.env.OXBOW_UPDATE_DOCS === '1') {
    await writeFile(DOC, withTable(generated));
    t.diagnostic('rewrote the settings table in docs/configuration.md');
    return;
  }
  const documented = new Map(rows(table).map((r) => [r.key, r]));
  const missing = SETTINGS.map((s) => s.key).filter((k) => !documented.has(k));
  assert.deepEqual(missing, [], 'settings missing from docs/configuration.md (regenerate: OXBOW_UPDATE_DOCS=1 npx node --test test/config/docs.test.ts)');
  const unknown = [...documented.keys()].filter((k) => !SETTINGS.some((s) => s.key === k));
  assert.deepEqual(unknown, [], 'docs/configuration.md documents settings that do not exist');
  for (const s of SETTINGS) {
    assert.equal(documented.get(s.key)!.default, defaultCell(formatDefault(s)), `default of ${s.key} in docs/configuration.md`);
  }
  assert.equal(table, generated, 'the settings table differs from the code (regenerate: OXBOW_UPDATE_DOCS=1 npx node --test test/config/docs.test.ts)');
});

test('each documented default, written in oxbow.config.ts, gives the default the code uses', async () => {
  const { table } = await readDoc();
  for (const row of rows(table)) {
    const s = SETTINGS.find((x) => x.key === row.key);
    assert.ok(s, `unknown setting ${row.key}`);
    const literal = /^`([^`]*)`/.exec(row.default)?.[1];
    assert.ok(literal !== undefined, `default of ${row.key} should start with a literal in backticks: ${row.default}`);
    assert.deepEqual(s.parse(parseDefaultLiteral(literal)), s.parse(s.default), `documented default of ${row.key} is ${literal}`);
  }
});

test('human units in the generated defaults', () => {
  const byKey = new Map(SETTINGS.map((s) => [s.key, defaultCell(formatDefault(s))]));
  assert.equal(byKey.get('broker.retentionMs'), '`7d`');
  assert.equal(byKey.get('broker.segmentBytes'), '`128MiB`');
  assert.equal(byKey.get('broker.maxRequestBytes'), '`100MiB`');
  assert.equal(byKey.get('broker.retentionBytes'), '`-1` (unlimited)');
  assert.equal(byKey.get('broker.connectionsMaxIdleMs'), '`10min`');
  assert.equal(byKey.get('broker.maxMessageBytes'), '`1048588` (≈1.0 MiB)');
});

test('the example oxbow.config.ts in docs/configuration.md loads and means what it says', async (t) => {
  const { text } = await readDoc();
  const example = /```ts\n(\/\/ oxbow\.config\.ts\n[\s\S]*?)```/.exec(text)?.[1];
  assert.ok(example, 'docs/configuration.md has an example starting with // oxbow.config.ts');
  assert.match(example, /from 'oxbow'/);
  const dir = await tempDir(t);
  const src = path.join(ROOT, 'src', 'index.ts');
  await writeFile(path.join(dir, 'oxbow.config.ts'), example.replace(`from 'oxbow'`, `from ${JSON.stringify(src)}`));
  const config = await loadConfig({ cwd: dir });
  assert.equal(config.broker.host, '0.0.0.0');
  assert.equal(config.broker.advertisedHost, 'lake.example.internal');
  assert.equal(config.broker.retentionMs, 3 * 86_400_000);
  assert.equal(config.broker.segmentBytes, 256 * 1024 * 1024);
  assert.deepEqual(config.broker.fsync, { mode: 'interval', intervalMs: 200 });
  assert.equal(config.kafka.clientId, 'orders-lake');
  // Whatever the example leaves out keeps its default.
  assert.equal(config.broker.maxMessageBytes, resolveConfig().broker.maxMessageBytes);
});

test('every topic setting the broker accepts is documented', async () => {
  const { text } = await readDoc();
  for (const key of TOPIC_CONFIG_KEYS) assert.match(text, new RegExp(`^\\| \`${key.replaceAll('.', '\\.')}\` \\|`, 'm'), `topic setting ${key}`);
});
