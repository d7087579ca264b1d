// The partitioner: event time to directories in UTC or a zone, granularities, presets, field partitions, bad settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPartitioner, partitionPath, SinkError, type PartitionerOptions, type PartitionResult } from '../../src/sink/index.ts';

const topic = 'orders.processed';
const kafkaTimestampMs = Date.parse('2026-11-22T05:30:00Z');

function pathOf(result: PartitionResult): string {
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.path;
}

function at(value: Record<string, unknown>, options: Omit<PartitionerOptions, 'topic'> = {}): string {
  return pathOf(partitionPath({ value, kafkaTimestampMs }, { topic, eventTimeField: 'ts', ...options }));
}

test('default layout is golden/<topic>/YYYY/MM/DD/HH/ from the event-time field in UTC', () => {
  assert.equal(at({ ts: '2026-11-22T05:59:59.999Z' }), 'golden/orders.processed/2026/11/22/05/');
  assert.equal(at({ ts: '2026-11-22T06:30:00+01:00' }), 'golden/orders.processed/2026/11/22/05/');
  assert.equal(at({ ts: '2026-01-01T00:30:00.123456789-01:00' }), 'golden/orders.processed/2026/01/01/01/');
  assert.equal(at({ ts: Date.parse('2026-02-03T04:05:06Z') }), 'golden/orders.processed/2026/02/03/04/');
});

test('the Kafka timestamp is used without an event-time field, or when the field is absent or null', () => {
  assert.equal(pathOf(partitionPath({ value: {}, kafkaTimestampMs }, { topic })), 'golden/orders.processed/2026/11/22/05/');
  assert.equal(at({}), 'golden/orders.processed/2026/11/22/05/');
  assert.equal(at({ ts: null }), 'golden/orders.processed/2026/11/22/05/');
});

test('a late record goes to the partition of its own event time', () => {
  const p = createPartitioner({ topic, eventTimeField: 'ts' });
  const late = p.partitionPath({ value: { ts: '2026-11-20T23:10:00Z' }, kafkaTimestampMs });
  assert.ok(late.ok);
  assert.equal(late.path, 'golden/orders.processed/2026/11/20/23/');
  assert.equal(late.eventTimeMs, Date.parse('2026-11-20T23:10:00Z'));
});

test('granularities cut the default and Hive layouts', () => {
  const ts = '2026-11-22T05:30:00Z';
  assert.equal(at({ ts }, { granularity: 'day' }), 'golden/orders.processed/2026/11/22/');
  assert.equal(at({ ts }, { granularity: 'month' }), 'golden/orders.processed/2026/11/');
  assert.equal(at({ ts }, { granularity: 'year' }), 'golden/orders.processed/2026/');
  assert.equal(at({ ts }, { pathFormat: 'hive' }), 'golden/orders.processed/year=2026/month=11/day=22/hour=05/');
  assert.equal(at({ ts }, { pathFormat: 'hive', granularity: 'day' }), 'golden/orders.processed/year=2026/month=11/day=22/');
  assert.equal(at({ ts }, { pathFormat: 'lake/{topic}/dt={yyyy}-{MM}-{dd}/', granularity: 'day' }), 'lake/orders.processed/dt=2026-11-22/');
});

test('a time zone shifts the partition, across a daylight saving change', () => {
  assert.equal(at({ ts: '2026-11-22T23:30:00Z' }, { timeZone: 'Asia/Tokyo' }), 'golden/orders.processed/2026/11/23/08/');
  assert.equal(at({ ts: '2026-11-22T05:30:00Z' }, { timeZone: 'America/St_Johns' }), 'golden/orders.processed/2026/11/22/02/');
  // Europe/Berlin leaves summer time on 2026-10-25: 01:30Z is 02:30 CET, 00:30Z is 02:30 CEST; 03:00 local happens once.
  const berlin = { timeZone: 'Europe/Berlin' };
  assert.equal(at({ ts: '2026-10-25T00:30:00Z' }, berlin), 'golden/orders.processed/2026/10/25/02/');
  assert.equal(at({ ts: '2026-10-25T01:30:00Z' }, berlin), 'golden/orders.processed/2026/10/25/02/');
  assert.equal(at({ ts: '2026-10-25T02:30:00Z' }, berlin), 'golden/orders.processed/2026/10/25/03/');
  // And enters it on 2026-03-29: 02:00 local never happens.
  assert.equal(at({ ts: '2026-03-29T00:59:59Z' }, berlin), 'golden/orders.processed/2026/03/29/01/');
  assert.equal(at({ ts: '2026-03-29T01:00:00Z' }, berlin), 'golden/orders.processed/2026/03/29/03/');
  assert.equal(at({ ts: '2026-11-22T23:30:00Z' }, { timeZone: 'Europe/Berlin', granularity: 'day' }), 'golden/orders.processed/2026/11/23/');
});

test('field partitions lead the time segments, escaped the Hive way', () => {
  const ts = '2026-11-22T05:30:00Z';
  assert.equal(at({ ts, country: 'DE' }, { fieldPartitions: ['country'] }), 'golden/orders.processed/country=DE/2026/11/22/05/');
  assert.equal(
    at({ ts, country: 'DE', tier: 2 }, { fieldPartitions: ['country', 'tier'], pathFormat: 'hive' }),
    'golden/orders.processed/country=DE/tier=2/year=2026/month=11/day=22/hour=05/',
  );
  assert.equal(at({ ts, country: 'a/b=c%d:é' }, { fieldPartitions: ['country'] }), 'golden/orders.processed/country=a%2Fb%3Dc%25d%3Aé/2026/11/22/05/');
  assert.equal(at({ ts, country: '..' }, { fieldPartitions: ['country'] }), 'golden/orders.processed/country=%2E%2E/2026/11/22/05/');
  assert.equal(at({ ts, country: null }, { fieldPartitions: ['country'] }), 'golden/orders.processed/country=__HIVE_DEFAULT_PARTITION__/2026/11/22/05/');
  assert.equal(at({ ts, country: '' }, { fieldPartitions: ['country'] }), 'golden/orders.processed/country=__HIVE_DEFAULT_PARTITION__/2026/11/22/05/');
  assert.equal(at({ ts, ok: true }, { fieldPartitions: ['ok'] }), 'golden/orders.processed/ok=true/2026/11/22/05/');
  assert.equal(
    at({ ts, country: 'FR' }, { fieldPartitions: ['country'], pathFormat: 'golden/{topic}/{yyyy}/{fields}/{MM}/{dd}/{HH}/' }),
    'golden/orders.processed/2026/country=FR/11/22/05/',
  );
});

test('a bad event time or partition value is a per-record result with a code', () => {
  const p = createPartitioner({ topic, eventTimeField: 'ts', fieldPartitions: ['country'] });
  for (const ts of ['yesterday', '2026-11-22', '2026-11-22T05:30:00', '2026-13-45T05:30:00Z', true, {}, Number.NaN, 1e20]) {
    const r = p.partitionPath({ value: { ts, country: 'DE' }, kafkaTimestampMs });
    assert.ok(!r.ok && r.code === 'OXBOW_SINK_BAD_EVENT_TIME', `${String(ts)}: ${JSON.stringify(r)}`);
  }
  const r = p.partitionPath({ value: { ts: '2026-11-22T05:30:00Z', country: { code: 'DE' } }, kafkaTimestampMs });
  assert.ok(!r.ok && r.code === 'OXBOW_SINK_BAD_PARTITION_VALUE' && r.message.includes('"country"'));
});

test('bad settings are refused at creation with a message that names them', () => {
  const bad: [Omit<PartitionerOptions, 'topic'> & { topic?: string }, RegExp][] = [
    [{ pathFormat: 'golden/{topic}/{yyyy}/{MM}/{dd}/{HH}' }, /must end with "\/"/],
    [{ pathFormat: '/golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/' }, /must be relative/],
    [{ pathFormat: 'golden//{yyyy}/{MM}/{dd}/{HH}/' }, /empty segment/],
    [{ pathFormat: 'golden/../{yyyy}/{MM}/{dd}/{HH}/' }, /"\.\." segment/],
    [{ pathFormat: 'golden/{topic}/{YYYY}/{MM}/{dd}/{HH}/' }, /unknown token \{YYYY\}/],
    [{ pathFormat: 'golden/{topic}/{yyyy/{MM}/{dd}/{HH}/' }, /unknown token|without/],
    [{ pathFormat: 'golden/{topic}/{yyyy}/{MM}/{dd}/' }, /granularity "hour" needs the token \{HH\}/],
    [{ pathFormat: 'golden/{topic}/{yyyy}/{MM}/{dd}/{HH}/', granularity: 'day' }, /\{HH\} is finer than granularity "day"/],
    [{ pathFormat: 'golden/{topic}/{MM}/{yyyy}/{dd}/{HH}/' }, /coarsest first/],
    [{ pathFormat: 'golden/{topic}/{yyyy}/{yyyy}/{MM}/{dd}/{HH}/' }, /appears twice/],
    [{ pathFormat: 'golden/my topic/{yyyy}/{MM}/{dd}/{HH}/' }, /character other than/],
    [{ pathFormat: 'golden/x{fields}/{yyyy}/{MM}/{dd}/{HH}/' }, /whole segment/],
    [{ granularity: 'week' as 'day' }, /granularity "week" is not one of/],
    [{ timeZone: 'Mars/Olympus' }, /timeZone "Mars\/Olympus" is not an IANA time zone/],
    [{ fieldPartitions: ['country', 'country'] }, /twice/],
    [{ fieldPartitions: ['a/b'] }, /not a field name/],
    [{ fieldPartitions: ['ts'], eventTimeField: 'ts' }, /event-time field/],
    [{ topic: 'bad/topic' }, /not a Kafka topic name/],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => createPartitioner({ topic, ...options }),
      (e: unknown) => e instanceof SinkError && e.code === 'OXBOW_SINK_INVALID_PATH_FORMAT' && message.test(e.message),
      JSON.stringify(options),
    );
  }
});

test('reports the effective format and zone', () => {
  const p = createPartitioner({ topic, pathFormat: 'hive', granularity: 'month', timeZone: 'Europe/Berlin' });
  assert.equal(p.pathFormat, 'golden/{topic}/year={yyyy}/month={MM}/');
  assert.equal(p.granularity, 'month');
  assert.equal(p.timeZone, 'Europe/Berlin');
});
