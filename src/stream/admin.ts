// What the stream tools (replay, status, dead-letter redrive) ask of a Kafka cluster: partitions, log offsets, groups.
import type { Admin } from '@platformatic/kafka';
import { LIST_OFFSETS_EARLIEST, LIST_OFFSETS_LATEST } from '../kafka/index.ts';
import { StreamError, StreamErrorCode } from './errors.ts';

/** The few Admin calls the stream tools use; Oxbow's Kafka client provides them, against any Kafka cluster. */
export type StreamAdmin = Pick<Admin, 'listTopics' | 'metadata' | 'listOffsets' | 'describeGroups' | 'listConsumerGroupOffsets' | 'alterConsumerGroupOffsets'>;

/** Committed offset of a partition that has none. */
export const NO_OFFSET = -1n;

/** The partition numbers of `topic`; fails at once, naming the topic, when it does not exist. */
export async function topicPartitions(admin: StreamAdmin, topic: string): Promise<number[]> {
  // Asked about an unknown topic by name, the client retries for seconds; the list answers at once.
  const existing = new Set(await admin.listTopics({ includeInternals: true }));
  if (!existing.has(topic)) throw new StreamError(StreamErrorCode.UNKNOWN_TOPIC, `topic ${topic} does not exist`, { fields: { topic } });
  const md = await admin.metadata({ topics: [topic] });
  const count = md.topics.get(topic)?.partitionsCount ?? 0;
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * Per partition, the offset ListOffsets gives for `timestamp`: LIST_OFFSETS_EARLIEST (log start), LIST_OFFSETS_LATEST
 * (log end), or epoch milliseconds (first offset whose timestamp is at or after it; -1 when there is none).
 */
export async function logOffsets(admin: StreamAdmin, topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
  if (partitions.length === 0) return new Map();
  const listed = await admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
  const out = new Map<number, bigint>();
  for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
  return out;
}

export type LogRange = { start: bigint; end: bigint };

/** The log start and log end offset of each partition. */
export async function logRanges(admin: StreamAdmin, topic: string, partitions: number[]): Promise<Map<number, LogRange>> {
  const [start, end] = await Promise.all([logOffsets(admin, topic, partitions, BigInt(LIST_OFFSETS_EARLIEST)), logOffsets(admin, topic, partitions, BigInt(LIST_OFFSETS_LATEST))]);
  return new Map(partitions.map((p) => [p, { start: start.get(p) ?? 0n, end: end.get(p) ?? 0n }]));
}

/** The committed offset of `groupId` on each partition of `topic`; NO_OFFSET where nothing is committed. */
export async function committedOffsets(admin: StreamAdmin, groupId: string, topic: string, partitions: number[]): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>(partitions.map((p) => [p, NO_OFFSET]));
  if (partitions.length === 0) return out;
  const groups = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }] });
  for (const g of groups) {
    if (g.groupId !== groupId) continue;
    for (const t of g.topics) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) out.set(p.partitionIndex, p.committedOffset < 0n ? NO_OFFSET : p.committedOffset);
    }
  }
  return out;
}

export type GroupMemberView = { memberId: string; clientId: string; clientHost: string; partitions: number[] };
export type GroupView = { groupId: string; state: string; members: GroupMemberView[] };

/** The group's state (Kafka's names: Empty, Stable, PreparingRebalance, …, Dead) and its members with their partitions of `topic`. */
export async function describeGroup(admin: StreamAdmin, groupId: string, topic: string): Promise<GroupView> {
  const described = await admin.describeGroups({ groups: [groupId], includeAuthorizedOperations: false });
  const g = described.get(groupId);
  if (!g) return { groupId, state: 'Dead', members: [] };
  const members = [...g.members.values()].map((m) => ({
    memberId: m.id,
    clientId: m.clientId,
    clientHost: m.clientHost,
    partitions: [...(m.assignments?.get(topic)?.partitions ?? [])].sort((a, b) => a - b),
  }));
  return { groupId, state: String(g.state), members };
}

/** Sets committed offsets of a group that has no active members (Kafka refuses it otherwise). */
export async function setCommittedOffsets(admin: StreamAdmin, groupId: string, topic: string, offsets: Map<number, bigint>): Promise<void> {
  if (offsets.size === 0) return;
  await admin.alterConsumerGroupOffsets({
    groupId,
    topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })) }],
  });
}
