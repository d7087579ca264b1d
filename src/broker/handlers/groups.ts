// Consumer group requests: translate between the wire shapes and the group coordinator.
import { AUTHORIZED_OPERATIONS_OMITTED } from '../../kafka/api.ts';
import { DescribeGroupsApi, type DescribeGroupsRequest, type DescribeGroupsResponse } from '../../kafka/apis/describe-groups.ts';
import { FindCoordinatorApi, type FindCoordinatorRequest, type FindCoordinatorResponse } from '../../kafka/apis/find-coordinator.ts';
import { HeartbeatApi, type HeartbeatRequest, type HeartbeatResponse } from '../../kafka/apis/heartbeat.ts';
import { JoinGroupApi, type JoinGroupRequest, type JoinGroupResponse } from '../../kafka/apis/join-group.ts';
import { LeaveGroupApi, type LeaveGroupRequest, type LeaveGroupResponse } from '../../kafka/apis/leave-group.ts';
import { ListGroupsApi, type ListGroupsRequest, type ListGroupsResponse } from '../../kafka/apis/list-groups.ts';
import { OffsetCommitApi, type OffsetCommitRequest, type OffsetCommitResponse } from '../../kafka/apis/offset-commit.ts';
import { OffsetFetchApi, type OffsetFetchRequest, type OffsetFetchResponse, type OffsetFetchResponseTopic } from '../../kafka/apis/offset-fetch.ts';
import { SyncGroupApi, type SyncGroupRequest, type SyncGroupResponse } from '../../kafka/apis/sync-group.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { handler, type HandlerContext } from './context.ts';

const KEY_TYPE_GROUP = 0;

async function findCoordinator(ctx: HandlerContext, req: FindCoordinatorRequest): Promise<FindCoordinatorResponse> {
  const { broker } = ctx;
  return {
    throttleTimeMs: 0,
    coordinators: req.coordinatorKeys.map((key) =>
      req.keyType === KEY_TYPE_GROUP
        ? { key, nodeId: broker.config.nodeId, host: broker.host, port: broker.port, errorCode: 0, errorMessage: null }
        : { key, nodeId: -1, host: '', port: -1, errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'transactions are not supported' },
    ),
  };
}

async function joinGroup(ctx: HandlerContext, req: JoinGroupRequest): Promise<JoinGroupResponse> {
  const version = ctx.header.apiVersion;
  const res = await ctx.broker.groups.join({
    groupId: req.groupId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    protocolType: req.protocolType,
    protocols: req.protocols,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
    clientId: ctx.header.clientId ?? '',
    clientHost: ctx.conn.remote.replace(/:\d+$/, ''),
    requireKnownMemberId: version >= 4,
    reason: null,
  });
  return {
    throttleTimeMs: 0,
    errorCode: res.errorCode,
    generationId: res.generationId,
    protocolName: res.protocolName ?? '',
    leader: res.leader,
    memberId: res.memberId,
    members: res.members,
  };
}

async function syncGroup(ctx: HandlerContext, req: SyncGroupRequest): Promise<SyncGroupResponse> {
  const res = await ctx.broker.groups.sync({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    protocolType: null,
    protocolName: null,
    assignments: req.assignments,
  });
  return { throttleTimeMs: 0, errorCode: res.errorCode, assignment: res.assignment };
}

async function heartbeat(ctx: HandlerContext, req: HeartbeatRequest): Promise<HeartbeatResponse> {
  return { throttleTimeMs: 0, errorCode: ctx.broker.groups.heartbeat(req.groupId, req.generationId, req.memberId, req.groupInstanceId) };
}

async function leaveGroup(ctx: HandlerContext, req: LeaveGroupRequest): Promise<LeaveGroupResponse> {
  const res = ctx.broker.groups.leave(req.groupId, req.members);
  // v0–v2 carry one member and report its result as the top-level error.
  const errorCode = ctx.header.apiVersion < 3 && res.errorCode === 0 ? (res.members[0]?.errorCode ?? 0) : res.errorCode;
  return { throttleTimeMs: 0, errorCode, members: res.members };
}

async function offsetCommit(ctx: HandlerContext, req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
  const entries = req.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata })),
  );
  // Offsets for partitions that do not exist are refused per partition; the rest are committed.
  const known = entries.filter((e) => ctx.broker.topics.get(e.topic)?.partitions[e.partition] !== undefined);
  const results = known.length > 0 ? await ctx.broker.groups.commitOffsets(req.groupId, req.generationIdOrMemberEpoch, req.memberId, known) : [];
  const byKey = new Map(results.map((r) => [`${r.topic}\u0000${r.partition}`, r.errorCode]));
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: byKey.get(`${t.name}\u0000${p.partitionIndex}`) ?? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      })),
    })),
  };
}

async function offsetFetch(ctx: HandlerContext, req: OffsetFetchRequest): Promise<OffsetFetchResponse> {
  return {
    throttleTimeMs: 0,
    groups: req.groups.map((g) => {
      const rows = ctx.broker.groups.fetchOffsets(
        g.groupId,
        g.topics === null ? null : g.topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes })),
      );
      const topics = new Map<string, OffsetFetchResponseTopic>();
      for (const r of rows) {
        let t = topics.get(r.topic);
        if (!t) topics.set(r.topic, (t = { name: r.topic, partitions: [] }));
        t.partitions.push({ partitionIndex: r.partition, committedOffset: r.offset, committedLeaderEpoch: r.leaderEpoch, metadata: r.metadata, errorCode: r.errorCode });
      }
      return { groupId: g.groupId, topics: [...topics.values()], errorCode: 0 };
    }),
  };
}

async function describeGroups(ctx: HandlerContext, req: DescribeGroupsRequest): Promise<DescribeGroupsResponse> {
  return {
    throttleTimeMs: 0,
    groups: req.groups.map((id) => {
      const d = ctx.broker.groups.describeGroup(id);
      return {
        errorCode: d.errorCode,
        groupId: d.groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: d.protocolName,
        members: d.members.map((m) => ({
          memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
          memberMetadata: m.metadata, memberAssignment: m.assignment,
        })),
        authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    }),
  };
}

async function listGroups(ctx: HandlerContext, req: ListGroupsRequest): Promise<ListGroupsResponse> {
  const groups = ctx.broker.groups.listGroups(req.statesFilter.length > 0 ? req.statesFilter : undefined);
  return { throttleTimeMs: 0, errorCode: 0, groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })) };
}

export const findCoordinatorHandler = handler(FindCoordinatorApi, findCoordinator);
export const joinGroupHandler = handler(JoinGroupApi, joinGroup);
export const syncGroupHandler = handler(SyncGroupApi, syncGroup);
export const heartbeatHandler = handler(HeartbeatApi, heartbeat);
export const leaveGroupHandler = handler(LeaveGroupApi, leaveGroup);
export const offsetCommitHandler = handler(OffsetCommitApi, offsetCommit);
export const offsetFetchHandler = handler(OffsetFetchApi, offsetFetch);
export const describeGroupsHandler = handler(DescribeGroupsApi, describeGroups);
export const listGroupsHandler = handler(ListGroupsApi, listGroups);
