// Replay: moves the committed offsets of a dataset's stream group on its raw topic, so the workers read again from there.
import type { ResolvedDataset } from './dataset.ts';
import { committedOffsets, describeGroup, logOffsets, logRanges, setCommittedOffsets, topicPartitions, type GroupView, type StreamAdmin } from './admin.ts';
import { StreamError, StreamErrorCode } from './errors.ts';
import { streamGroupId } from './runtime-names.ts';

/** Where replay starts: the log start, the first record at or after a time, or one offset for every partition. */
export type ReplayFrom = { kind: 'earliest' } | { kind: 'time'; timestampMs: number } | { kind: 'offset'; offset: bigint };

/** Reads `earliest`, an ISO 8601 time with a date (`2024-05-01`, `2024-05-01T10:00:00Z`) or a whole offset; null when it is none of these. */
export function parseReplayFrom(text: string): ReplayFrom | null {
  if (text === 'earliest') return { kind: 'earliest' };
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: BigInt(text) };
  if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms) && ms >= 0) return { kind: 'time', timestampMs: ms };
  }
  return null;
}

export type ReplayMove = {
  partition: number;
  /** The committed offset before; -1 when the group had committed nothing. */
  from: bigint;
  to: bigint;
  /** Why `to` is not what was asked for: a requested offset outside the log, or no record at or after the time. */
  note: string | null;
};

export type ReplayResult = { groupId: string; topic: string; moves: ReplayMove[] };

/**
 * Moves the committed offsets of `oxbow.stream.<dataset>` on the raw topic to `from`. Refuses (OXBOW_STREAM_GROUP_ACTIVE)
 * while the group has members: Kafka only lets a group without active members have its offsets changed from outside,
 * and running workers would overwrite the new positions with their own commits anyway.
 */
export async function replayDataset(admin: StreamAdmin, dataset: ResolvedDataset, from: ReplayFrom): Promise<ReplayResult> {
  const groupId = streamGroupId(dataset.name);
  const topic = dataset.topics.raw;
  const partitions = await topicPartitions(admin, topic);
  const group = await describeGroup(admin, groupId, topic);
  if (group.members.length > 0) throw groupActive(group);
  const ranges = await logRanges(admin, topic, partitions);
  const before = await committedOffsets(admin, groupId, topic, partitions);
  const atTime = from.kind === 'time' ? await logOffsets(admin, topic, partitions, BigInt(from.timestampMs)) : null;
  const moves: ReplayMove[] = partitions.map((partition) => {
    const range = ranges.get(partition) ?? { start: 0n, end: 0n };
    const old = before.get(partition) ?? -1n;
    switch (from.kind) {
      case 'earliest':
        return { partition, from: old, to: range.start, note: null };
      case 'time': {
        const found = atTime?.get(partition) ?? -1n;
        return found < 0n ? { partition, from: old, to: range.end, note: 'no record at or after that time: log end' } : { partition, from: old, to: found, note: null };
      }
      case 'offset': {
        if (from.offset < range.start) return { partition, from: old, to: range.start, note: `offset ${from.offset} is before the log start: clamped to ${range.start}` };
        if (from.offset > range.end) return { partition, from: old, to: range.end, note: `offset ${from.offset} is past the log end: clamped to ${range.end}` };
        return { partition, from: old, to: from.offset, note: null };
      }
    }
  });
  try {
    await setCommittedOffsets(admin, groupId, topic, new Map(moves.map((m) => [m.partition, m.to])));
  } catch (err) {
    // A worker joined between the check above and the commit: the coordinator refused the commit of a non-member.
    const now = await describeGroup(admin, groupId, topic).catch(() => null);
    if (now !== null && now.members.length > 0) throw groupActive(now, err);
    throw err;
  }
  return { groupId, topic, moves };
}

function groupActive(group: GroupView, cause?: unknown): StreamError {
  const members = group.members.map((m) => `${m.clientId}@${m.clientHost} (${m.memberId})`).join(', ');
  return new StreamError(
    StreamErrorCode.GROUP_ACTIVE,
    `group ${group.groupId} is ${group.state} with ${group.members.length} active member(s): ${members}; ` +
      'Kafka only lets the offsets of a group without active members be moved: stop the workers, replay, start them again',
    { cause, retryable: true, fields: { groupId: group.groupId, state: group.state, members: group.members } },
  );
}
