// Rotation rules of open data files: size, event-time span and wall clock, with an injected clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenFileTracker, openFileKey, SinkError, SinkErrorCode, validateRotationPolicy, type Clock, type RotationPolicy } from '../../src/sink/index.ts';

type ManualClock = Clock & { advance(ms: number): void };

function manualClock(startMs = 1_795_320_000_000): ManualClock {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms) => void (nowMs += ms) };
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 22, 5, 0, 0);

test('flushSize: the record that reaches the count makes the file due, and it stays due until closed', () => {
  const tracker = new OpenFileTracker({ flushSize: 3 }, manualClock());
  const key = openFileKey(0, 'golden/orders.processed/2026/11/22/05/');
  assert.equal(tracker.add(key, T0), null);
  assert.equal(tracker.add(key, T0 + 1), null);
  assert.equal(tracker.add(key, T0 + 2), 'flushSize');
  assert.equal(tracker.add(key, T0 + 3), 'flushSize');
  assert.equal(tracker.close(key)?.records, 4);
  assert.equal(tracker.close(key), undefined);
  assert.equal(tracker.add(key, T0), null, 'after close the key opens a fresh file');
  assert.equal(tracker.get(key)?.records, 1);
});

test('files are counted separately per Kafka partition and lake path', () => {
  const tracker = new OpenFileTracker({ flushSize: 2 }, manualClock());
  const a = openFileKey(0, 'golden/t/2026/11/22/05/');
  const b = openFileKey(1, 'golden/t/2026/11/22/05/');
  const c = openFileKey(0, 'golden/t/2026/11/22/06/');
  assert.notEqual(a, b);
  assert.equal(tracker.add(a, T0), null);
  assert.equal(tracker.add(b, T0), null);
  assert.equal(tracker.add(c, T0 + HOUR), null);
  assert.equal(tracker.add(b, T0), 'flushSize');
  assert.deepEqual(tracker.keys(), [a, b, c]);
  assert.equal(tracker.size, 3);
});

test('rotateIntervalMs: the event-time span of a file, late records included, makes it due', () => {
  const tracker = new OpenFileTracker({ flushSize: 1000, rotateIntervalMs: 10 * 60_000 }, manualClock());
  const key = openFileKey(2, 'golden/t/2026/11/22/05/');
  assert.equal(tracker.add(key, T0 + 20 * 60_000), null);
  assert.equal(tracker.add(key, T0 + 29 * 60_000), null);
  // An earlier (late) record widens the span downwards.
  assert.equal(tracker.add(key, T0 + 19 * 60_000), 'rotateInterval');
  const state = tracker.close(key);
  assert.deepEqual([state?.minEventTimeMs, state?.maxEventTimeMs, state?.records], [T0 + 19 * 60_000, T0 + 29 * 60_000, 3]);
});

test('rotateScheduleIntervalMs: an idle file becomes due by wall clock, and nextDeadlineMs says when', () => {
  const clock = manualClock();
  const start = clock.now();
  const tracker = new OpenFileTracker({ flushSize: 1000, rotateScheduleIntervalMs: 60_000 }, clock);
  assert.equal(tracker.nextDeadlineMs(), null, 'no open files, no deadline');
  const early = openFileKey(0, 'golden/t/2026/11/22/05/');
  const late = openFileKey(1, 'golden/t/2026/11/22/05/');
  assert.equal(tracker.add(early, T0), null);
  clock.advance(20_000);
  assert.equal(tracker.add(late, T0), null);
  assert.equal(tracker.nextDeadlineMs(), start + 60_000);

  clock.advance(39_999);
  assert.deepEqual(tracker.dueByClock(), []);
  clock.advance(1);
  assert.deepEqual(tracker.dueByClock(), [early], 'the idle file fires without any new record');
  assert.equal(tracker.get(early)?.dueReason, 'rotateSchedule');
  assert.equal(tracker.get(late)?.dueReason, null);
  tracker.close(early);
  assert.equal(tracker.nextDeadlineMs(), start + 80_000);
  // dueByClock takes an explicit time too; both are due then, earliest deadline first.
  assert.equal(tracker.add(early, T0), null);
  assert.deepEqual(tracker.dueByClock(start + 200_000), [late, early]);
  tracker.close(early);
  tracker.close(late);
  assert.equal(tracker.nextDeadlineMs(), null);
});

test('a record added after the wall-clock deadline reports the file due', () => {
  const clock = manualClock();
  const tracker = new OpenFileTracker({ flushSize: 1000, rotateScheduleIntervalMs: 1000 }, clock);
  const key = openFileKey(0, 'p/');
  assert.equal(tracker.add(key, T0), null);
  clock.advance(1000);
  assert.equal(tracker.add(key, T0), 'rotateSchedule');
});

test('without a schedule rule there is never a deadline', () => {
  const clock = manualClock();
  const tracker = new OpenFileTracker({ flushSize: 10, rotateIntervalMs: HOUR }, clock);
  tracker.add('k', T0);
  clock.advance(10 * HOUR);
  assert.equal(tracker.nextDeadlineMs(), null);
  assert.deepEqual(tracker.dueByClock(), []);
});

test('a bad policy is refused with INVALID_ROTATION_POLICY naming the setting', () => {
  const bad: [RotationPolicy, string][] = [
    [{ flushSize: 0 }, 'flushSize'],
    [{ flushSize: 1.5 }, 'flushSize'],
    [{ flushSize: Number.NaN }, 'flushSize'],
    [{ flushSize: '10' as unknown as number }, 'flushSize'],
    [{ flushSize: 10, rotateIntervalMs: 0 }, 'rotateIntervalMs'],
    [{ flushSize: 10, rotateIntervalMs: -5 }, 'rotateIntervalMs'],
    [{ flushSize: 10, rotateScheduleIntervalMs: Infinity }, 'rotateScheduleIntervalMs'],
  ];
  for (const [policy, setting] of bad) {
    assert.throws(
      () => new OpenFileTracker(policy, manualClock()),
      (e: unknown) => {
        assert.ok(e instanceof SinkError, String(e));
        assert.equal(e.code, SinkErrorCode.INVALID_ROTATION_POLICY);
        assert.equal(e.retryable, false);
        assert.equal(e.fields['setting'], setting);
        assert.ok(e.message.includes(setting), e.message);
        return true;
      },
    );
  }
  assert.deepEqual(validateRotationPolicy({ flushSize: 5, rotateScheduleIntervalMs: 1 }), {
    flushSize: 5,
    rotateIntervalMs: undefined,
    rotateScheduleIntervalMs: 1,
  });
});
