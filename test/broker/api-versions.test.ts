// What the broker advertises in ApiVersions is exactly the table in docs/kafka-protocol.md, every minimum is 0, and the
// table's other columns (names, implemented versions, flexible versions, @platformatic/kafka's choice) follow the code.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import * as platformatic from '@platformatic/kafka';
import { HANDLERS } from '../../src/broker/handlers/index.ts';
import { ApiVersionsApi, type ApiVersionRange } from '../../src/kafka/apis/api-versions.ts';
import { defer, startBroker } from '../helpers/broker.ts';
import { RawClient } from '../helpers/raw-client.ts';

const DOC = path.resolve(import.meta.dirname, '..', '..', 'docs', 'kafka-protocol.md');
const PLATFORMATIC_COLUMN = '@platformatic/kafka 2.12.1';

type DocRow = { apiKey: number; name: string; advertised: [number, number]; implemented: [number, number]; flexibleFrom: number | null; clients: Map<string, string> };

function range(text: string, what: string): [number, number] {
  const m = /^(\d+)\s*[–-]\s*(\d+)$/.exec(text);
  assert.ok(m, `${what}: "${text}" is not a range like 0–7`);
  return [Number(m[1]), Number(m[2])];
}

/** The rows of the API table in docs/kafka-protocol.md: the first table whose header starts with "| key | API |". */
async function documentedApis(): Promise<DocRow[]> {
  const lines = (await readFile(DOC, 'utf8')).split('\n');
  const start = lines.findIndex((l) => /^\|\s*key\s*\|\s*API\s*\|/.test(l));
  assert.ok(start >= 0, 'docs/kafka-protocol.md has a table starting with | key | API |');
  const header = lines[start]!.split('|').slice(1, -1).map((c) => c.trim());
  const rows: DocRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const c = line.split('|').slice(1, -1).map((x) => x.trim());
    const [key, name, advertised, implemented, flexible] = c;
    rows.push({
      apiKey: Number(key),
      name: name!,
      advertised: range(advertised!, `${name} advertised`),
      implemented: range(implemented!, `${name} implemented`),
      flexibleFrom: flexible === '—' ? null : Number(flexible),
      clients: new Map(header.slice(5).map((h, i) => [h, c[5 + i]!])),
    });
  }
  return rows;
}

test('ApiVersions advertises exactly the APIs and version ranges documented in docs/kafka-protocol.md', async (t) => {
  const { address } = await startBroker(t);
  const client = await RawClient.connect(Number(address.split(':')[1]));
  defer(t, () => client.close());
  const byVersion = new Map<number, ApiVersionRange[]>();
  for (const version of [0, 1, 2, 3]) {
    const res = await client.request(ApiVersionsApi, version, { clientSoftwareName: 'oxbow-test', clientSoftwareVersion: '0.1.0' });
    assert.equal(res.errorCode, 0, `ApiVersions v${version}`);
    byVersion.set(version, [...res.apiKeys].sort((a, b) => a.apiKey - b.apiKey));
  }
  const advertised = byVersion.get(3)!;
  for (const [version, list] of byVersion) assert.deepEqual(list, advertised, `ApiVersions v${version} lists the same ranges as v3`);

  const documented = (await documentedApis()).map((r) => ({ apiKey: r.apiKey, minVersion: r.advertised[0], maxVersion: r.advertised[1] }));
  assert.deepEqual(advertised, documented);
  assert.deepEqual(advertised.filter((a) => a.minVersion !== 0), [], 'every advertised API starts at version 0 (old librdkafka gates features on it)');
});

test('the table names each API as its codec does, with its implemented and flexible versions', async () => {
  const rows = await documentedApis();
  const codecs = new Map(HANDLERS.map((h) => [h.api.key, h.api]));
  for (const row of rows) {
    const api = codecs.get(row.apiKey);
    assert.ok(api, `docs/kafka-protocol.md lists key ${row.apiKey}, which no handler answers`);
    assert.equal(row.name, api.name, `name of key ${row.apiKey}`);
    assert.deepEqual(row.implemented, [api.minImplementedVersion, api.maxVersion], `implemented versions of ${api.name}`);
    assert.equal(row.flexibleFrom, api.flexibleFrom <= api.maxVersion ? api.flexibleFrom : null, `flexible-from of ${api.name} ("—" when beyond the advertised range)`);
  }
});

test('the @platformatic/kafka column is the version that client picks: its highest implemented one within the advertised range', async () => {
  const implemented = platformatic as unknown as Record<string, unknown>;
  for (const row of await documentedApis()) {
    const documented = row.clients.get(PLATFORMATIC_COLUMN);
    assert.ok(documented !== undefined, `column ${PLATFORMATIC_COLUMN}`);
    // ApiVersions is sent at a fixed version, and "—" marks an API its clients never send.
    if (row.name === 'ApiVersions' || documented === '—') continue;
    const base = row.name[0]!.toLowerCase() + row.name.slice(1);
    let pick: number | null = null;
    for (let v = row.advertised[1]; v >= row.advertised[0] && pick === null; v--) if (implemented[`${base}V${v}`] !== undefined) pick = v;
    assert.equal(documented, String(pick), `${row.name}: @platformatic/kafka would send v${pick}`);
  }
});
