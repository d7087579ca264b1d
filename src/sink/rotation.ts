// When an open data file is due to be committed: by record count, by the event-time span it holds, or by wall clock.
// Pure bookkeeping: no I/O and no timers; the runtime asks nextDeadlineMs() and sleeps until then.
import { assert } from '../errors.ts';
import { SinkError, SinkErrorCode } from './errors.ts';

export type RotationPolicy = {
  /** Commit a file once it holds this many records. */
  readonly flushSize: number;
  /** Commit a file once the event times it holds span at least this long (max − min); unset: no such rule. */
  readonly rotateIntervalMs?: number | undefined;
  /** Commit a file this long (wall clock) after it opened, even when no more records arrive; unset: no such rule. */
  readonly rotateScheduleIntervalMs?: number | undefined;
};

/** Wall-clock time in epoch milliseconds; injected so tests can advance it. */
export type Clock = { now(): number };

export const ROTATE_REASONS = ['flushSize', 'rotateInterval', 'rotateSchedule'] as const;
export type RotateReason = (typeof ROTATE_REASONS)[number];

/** What the tracker knows about one open file. */
export type OpenFileState = {
  readonly records: number;
  readonly minEventTimeMs: number;
  readonly maxEventTimeMs: number;
  /** Wall-clock time of the first record. */
  readonly openedAtMs: number;
  /** When the wall-clock rule makes the file due, or null without that rule. */
  readonly deadlineMs: number | null;
  /** Why the file is due, or null while it is not. The first rule that fired is kept. */
  readonly dueReason: RotateReason | null;
};

type MutableState = { -readonly [K in keyof OpenFileState]: OpenFileState[K] };

const systemClock: Clock = { now: () => Date.now() };

/** The key of one open file: one per Kafka partition and lake partition path. */
export function openFileKey(kafkaPartition: number, lakePath: string): string {
  assert(Number.isSafeInteger(kafkaPartition) && kafkaPartition >= 0, `kafkaPartition ${kafkaPartition} is not a partition number`);
  return `${kafkaPartition}|${lakePath}`;
}

/** Checks a policy and returns it normalized; SinkError INVALID_ROTATION_POLICY names the first bad setting. */
export function validateRotationPolicy(policy: RotationPolicy): RotationPolicy {
  if (typeof policy !== 'object' || policy === null) throw invalid('policy', policy, 'must be an object');
  const { flushSize, rotateIntervalMs, rotateScheduleIntervalMs } = policy;
  if (!isPositiveWhole(flushSize)) throw invalid('flushSize', flushSize, 'must be a whole number of records, at least 1');
  for (const [name, value] of [
    ['rotateIntervalMs', rotateIntervalMs],
    ['rotateScheduleIntervalMs', rotateScheduleIntervalMs],
  ] as const) {
    if (value !== undefined && !isPositiveWhole(value)) throw invalid(name, value, 'must be a whole number of milliseconds, at least 1, or unset');
  }
  return { flushSize, rotateIntervalMs, rotateScheduleIntervalMs };
}

function isPositiveWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function invalid(setting: string, value: unknown, why: string): SinkError {
  const shown = typeof value === 'number' || value === undefined || value === null ? String(value) : JSON.stringify(value);
  return new SinkError(SinkErrorCode.INVALID_ROTATION_POLICY, `rotation setting ${setting} = ${shown} ${why}`, { fields: { setting, value } });
}

/**
 * Tracks every open file of a sink task and says when each is due. A file opens with its first record (add) and is
 * forgotten when the runtime commits it (close); a due file stays due until then.
 */
export class OpenFileTracker {
  readonly policy: RotationPolicy;
  private readonly clock: Clock;
  private readonly files = new Map<string, MutableState>();

  constructor(policy: RotationPolicy, clock: Clock = systemClock) {
    this.policy = validateRotationPolicy(policy);
    this.clock = clock;
  }

  /**
   * Counts one record (already written to the file's buffer) and returns why the file is now due, or null. The record
   * that makes the file due is in it, so a file holds at most flushSize records.
   */
  add(key: string, eventTimeMs: number): RotateReason | null {
    // Checked before the message is made: this runs once per record.
    if (!Number.isFinite(eventTimeMs)) assert(false, `event time ${eventTimeMs} is not a number of milliseconds`);
    let state = this.files.get(key);
    if (state === undefined) {
      const openedAtMs = this.clock.now();
      const schedule = this.policy.rotateScheduleIntervalMs;
      state = {
        records: 0,
        minEventTimeMs: eventTimeMs,
        maxEventTimeMs: eventTimeMs,
        openedAtMs,
        deadlineMs: schedule === undefined ? null : openedAtMs + schedule,
        dueReason: null,
      };
      this.files.set(key, state);
    }
    state.records += 1;
    state.minEventTimeMs = Math.min(state.minEventTimeMs, eventTimeMs);
    state.maxEventTimeMs = Math.max(state.maxEventTimeMs, eventTimeMs);
    if (state.dueReason === null) {
      const span = this.policy.rotateIntervalMs;
      if (state.records >= this.policy.flushSize) state.dueReason = 'flushSize';
      else if (span !== undefined && state.maxEventTimeMs - state.minEventTimeMs >= span) state.dueReason = 'rotateInterval';
      else if (state.deadlineMs !== null && this.clock.now() >= state.deadlineMs) state.dueReason = 'rotateSchedule';
    }
    return state.dueReason;
  }

  /** Keys of open files whose wall-clock deadline has passed at `nowMs`, earliest deadline first; they become due. */
  dueByClock(nowMs: number = this.clock.now()): string[] {
    const due: [string, number][] = [];
    for (const [key, state] of this.files) {
      if (state.deadlineMs !== null && nowMs >= state.deadlineMs) {
        state.dueReason ??= 'rotateSchedule';
        due.push([key, state.deadlineMs]);
      }
    }
    return due.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([key]) => key);
  }

  /** The earliest wall-clock deadline of any open file, or null when none has one (no files, or no schedule rule). */
  nextDeadlineMs(): number | null {
    let next: number | null = null;
    for (const state of this.files.values()) {
      if (state.deadlineMs !== null && (next === null || state.deadlineMs < next)) next = state.deadlineMs;
    }
    return next;
  }

  /** Forgets a file (committed or abandoned) and returns what was known of it, or undefined if it was not open. */
  close(key: string): OpenFileState | undefined {
    const state = this.files.get(key);
    this.files.delete(key);
    return state === undefined ? undefined : { ...state };
  }

  /** A snapshot of one open file, or undefined. */
  get(key: string): OpenFileState | undefined {
    const state = this.files.get(key);
    return state === undefined ? undefined : { ...state };
  }

  /** Keys of all open files, in the order they opened. */
  keys(): string[] {
    return [...this.files.keys()];
  }

  get size(): number {
    return this.files.size;
  }
}
