// The consumer group coordinator (Kafka's classic group protocol): joins, syncs, heartbeats, leaves, and committed offsets.
import { randomUUID } from 'node:crypto';
import { assert } from '../../errors.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { realClock } from './clock.ts';
import { EMPTY_BYTES, Group, GroupState, sameProtocols, type Member } from './group.ts';
import { BrokerError } from '../errors.ts';
import { OffsetStore } from './offset-store.ts';
import type {
  Clock,
  GroupConfig,
  GroupDescription,
  GroupListing,
  JoinRequest,
  JoinResult,
  LeaveMember,
  LeaveResult,
  OffsetCommitEntry,
  OffsetCommitResult,
  OffsetFetchResult,
  SyncRequest,
  SyncResult,
} from './types.ts';

/** Defaults for an embedded broker: Apache's session bounds, and a short initial delay instead of Apache's 3 s. */
export const defaultGroupConfig: GroupConfig = {
  initialRebalanceDelayMs: 100,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1800000,
  offsetMetadataMaxBytes: 4096,
};

// How long a member that joined during a rebalance may wait for it to finish before it is dropped
// (Apache's new-member join timeout): it guards against members whose client gave up on the join.
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export class GroupCoordinator {
  private readonly store: OffsetStore;
  private readonly config: GroupConfig;
  private readonly clock: Clock;
  private readonly groups = new Map<string, Group>();
  private closed = false;

  private constructor(store: OffsetStore, config: GroupConfig, clock: Clock) {
    this.store = store;
    this.config = config;
    this.clock = clock;
  }

  static async open(dir: string, config: GroupConfig, clock: Clock = realClock): Promise<GroupCoordinator> {
    assert(config.initialRebalanceDelayMs >= 0, 'initialRebalanceDelayMs must not be negative');
    assert(config.minSessionTimeoutMs <= config.maxSessionTimeoutMs, 'minSessionTimeoutMs must not exceed maxSessionTimeoutMs');
    assert(config.offsetMetadataMaxBytes >= 0, 'offsetMetadataMaxBytes must not be negative');
    const store = await OffsetStore.open(dir, { now: () => clock.now() });
    return new GroupCoordinator(store, config, clock);
  }

  // ---- JoinGroup -------------------------------------------------------------------------------------------------

  /** Resolves when the join phase completes (or at once for errors and for members that need no rebalance). */
  join(req: JoinRequest): Promise<JoinResult> {
    if (this.closed) return Promise.resolve(joinError(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId));
    if (req.groupId === '') return Promise.resolve(joinError(KafkaErrorCode.INVALID_GROUP_ID, req.memberId));
    if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return Promise.resolve(joinError(KafkaErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    }
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      if (req.memberId !== '') return Promise.resolve(joinError(KafkaErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = new Group(req.groupId);
      this.groups.set(req.groupId, group);
    }
    // A static member rejoining with no id replaces its old self, so the old one's protocols do not count against it.
    const replacing = req.memberId === '' && req.groupInstanceId !== null ? group.staticMembers.get(req.groupInstanceId) : undefined;
    const names = req.protocols.map((p) => p.name);
    if (!group.supportsProtocols(req.protocolType, names, replacing ?? req.memberId)) {
      this.forgetIfUnused(group);
      return Promise.resolve(joinError(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    }
    return req.memberId === '' ? this.joinNewMember(group, req) : this.joinKnownMember(group, req);
  }

  private joinNewMember(group: Group, req: JoinRequest): Promise<JoinResult> {
    const memberId = `${req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const previousId = group.staticMembers.get(req.groupInstanceId);
      const previous = previousId === undefined ? undefined : group.members.get(previousId);
      if (previous === undefined) return this.addMemberAndRebalance(group, req, memberId);
      // The same instance restarted: it takes over the old member's place (and its leadership).
      const wasLeader = group.isLeader(previous.memberId);
      this.dropMember(group, previous, KafkaErrorCode.FENCED_INSTANCE_ID);
      return this.addMemberAndRebalance(group, req, memberId, wasLeader);
    }
    if (!req.requireKnownMemberId) return this.addMemberAndRebalance(group, req, memberId);
    const expiry = this.clock.setTimeout(() => this.expirePendingMember(group, memberId), req.sessionTimeoutMs);
    group.pendingMembers.set(memberId, expiry);
    return Promise.resolve(joinError(KafkaErrorCode.MEMBER_ID_REQUIRED, memberId));
  }

  private joinKnownMember(group: Group, req: JoinRequest): Promise<JoinResult> {
    const pendingExpiry = group.pendingMembers.get(req.memberId);
    if (pendingExpiry !== undefined) {
      pendingExpiry.cancel();
      group.pendingMembers.delete(req.memberId);
      return this.addMemberAndRebalance(group, req, req.memberId);
    }
    if (group.isFenced(req.memberId, req.groupInstanceId)) {
      return Promise.resolve(joinError(KafkaErrorCode.FENCED_INSTANCE_ID, req.memberId));
    }
    const member = group.members.get(req.memberId);
    if (member === undefined) return Promise.resolve(joinError(KafkaErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    switch (group.state) {
      case GroupState.PREPARING_REBALANCE:
        return this.updateMemberAndRebalance(group, member, req);
      case GroupState.COMPLETING_REBALANCE:
        // Same metadata: the member probably lost its JoinGroup response, so send this generation's answer again.
        if (sameProtocols(member.protocols, req.protocols)) {
          this.armSession(group, member);
          return Promise.resolve(this.joinAnswer(group, member));
        }
        return this.updateMemberAndRebalance(group, member, req);
      case GroupState.STABLE:
        // The leader rejoins when something outside member metadata changed (e.g. partition counts): always rebalance.
        if (group.isLeader(member.memberId) || !sameProtocols(member.protocols, req.protocols)) {
          return this.updateMemberAndRebalance(group, member, req);
        }
        this.armSession(group, member);
        return Promise.resolve(this.joinAnswer(group, member));
      case GroupState.EMPTY:
      case GroupState.DEAD:
        return Promise.resolve(joinError(KafkaErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    }
  }

  private addMemberAndRebalance(group: Group, req: JoinRequest, memberId: string, asLeader = false): Promise<JoinResult> {
    if (group.members.size === 0) group.protocolType = req.protocolType;
    const member: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
      assignment: EMPTY_BYTES,
      joinWaiters: [],
      syncWaiters: [],
      isNew: true,
      sessionTimer: null,
    };
    group.add(member);
    if (asLeader) group.leaderId = memberId;
    this.armSession(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    const joined = parkJoin(member);
    if (group.initialDelay !== null) group.initialDelay.newMemberAdded = true;
    this.rebalanceOrCheckJoin(group);
    return joined;
  }

  private updateMemberAndRebalance(group: Group, member: Member, req: JoinRequest): Promise<JoinResult> {
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    const joined = parkJoin(member);
    this.rebalanceOrCheckJoin(group);
    return joined;
  }

  private rebalanceOrCheckJoin(group: Group): void {
    if (group.state === GroupState.PREPARING_REBALANCE) this.maybeCompleteJoin(group);
    else this.prepareRebalance(group);
  }

  private prepareRebalance(group: Group): void {
    if (group.state === GroupState.COMPLETING_REBALANCE) {
      // The assignment being synced is for a membership that no longer holds: send everyone back to join.
      for (const m of group.members.values()) {
        m.assignment = EMPTY_BYTES;
        this.answerSync(group, m, syncError(KafkaErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    const fromEmpty = group.state === GroupState.EMPTY;
    group.transitionTo(GroupState.PREPARING_REBALANCE);
    group.joinTimer?.cancel();
    const rebalanceTimeoutMs = group.maxRebalanceTimeoutMs();
    if (fromEmpty && this.config.initialRebalanceDelayMs > 0) {
      const delayMs = Math.min(this.config.initialRebalanceDelayMs, rebalanceTimeoutMs);
      group.initialDelay = { remainingMs: Math.max(rebalanceTimeoutMs - delayMs, 0), newMemberAdded: false };
      group.joinTimer = this.clock.setTimeout(() => this.onInitialDelayElapsed(group), delayMs);
      return;
    }
    group.joinTimer = this.clock.setTimeout(() => this.completeJoin(group), rebalanceTimeoutMs);
    this.maybeCompleteJoin(group);
  }

  // Apache's initial delay: keep waiting, one delay at a time, while new members keep arriving, up to the rebalance timeout.
  private onInitialDelayElapsed(group: Group): void {
    group.joinTimer = null;
    const delay = group.initialDelay;
    assert(delay !== null, 'initial delay timer fired without an initial delay');
    if (delay.newMemberAdded && delay.remainingMs > 0) {
      const nextMs = Math.min(this.config.initialRebalanceDelayMs, delay.remainingMs);
      group.initialDelay = { remainingMs: delay.remainingMs - nextMs, newMemberAdded: false };
      group.joinTimer = this.clock.setTimeout(() => this.onInitialDelayElapsed(group), nextMs);
      return;
    }
    this.completeJoin(group);
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state === GroupState.PREPARING_REBALANCE && group.initialDelay === null && group.hasAllMembersJoined()) {
      this.completeJoin(group);
    }
  }

  // Ends the join phase: members that did not rejoin are dropped, the generation advances, and every parked join is answered.
  private completeJoin(group: Group): void {
    if (this.closed || group.state !== GroupState.PREPARING_REBALANCE) return;
    group.joinTimer?.cancel();
    group.joinTimer = null;
    group.initialDelay = null;
    for (const m of [...group.members.values()]) {
      if (m.joinWaiters.length === 0) this.dropMember(group, m, KafkaErrorCode.UNKNOWN_MEMBER_ID);
    }
    group.generationId += 1;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.leaderId = null;
      group.transitionTo(GroupState.EMPTY);
      this.forgetIfUnused(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo(GroupState.COMPLETING_REBALANCE);
    for (const m of group.members.values()) {
      m.isNew = false;
      this.answerJoin(group, m, this.joinAnswer(group, m));
    }
  }

  private joinAnswer(group: Group, member: Member): JoinResult {
    assert(group.leaderId !== null, 'a group with members has a leader');
    return {
      errorCode: KafkaErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId,
      memberId: member.memberId,
      members: group.isLeader(member.memberId) ? group.memberMetadata() : [],
      skipAssignment: false,
    };
  }

  // ---- SyncGroup -------------------------------------------------------------------------------------------------

  /** Resolves with this member's assignment; a follower waits for the leader's sync. */
  sync(req: SyncRequest): Promise<SyncResult> {
    if (this.closed) return Promise.resolve(syncError(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (req.groupId === '') return Promise.resolve(syncError(KafkaErrorCode.INVALID_GROUP_ID));
    const group = this.groups.get(req.groupId);
    if (group === undefined) return Promise.resolve(syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (group.isFenced(req.memberId, req.groupInstanceId)) return Promise.resolve(syncError(KafkaErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (member === undefined) return Promise.resolve(syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== group.generationId) return Promise.resolve(syncError(KafkaErrorCode.ILLEGAL_GENERATION));
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    ) {
      return Promise.resolve(syncError(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (group.state) {
      case GroupState.EMPTY:
      case GroupState.DEAD:
        return Promise.resolve(syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
      case GroupState.PREPARING_REBALANCE:
        return Promise.resolve(syncError(KafkaErrorCode.REBALANCE_IN_PROGRESS));
      case GroupState.STABLE:
        this.armSession(group, member);
        return Promise.resolve(this.syncAnswer(group, member));
      case GroupState.COMPLETING_REBALANCE: {
        const synced = new Promise<SyncResult>((resolve) => member.syncWaiters.push(resolve));
        if (group.isLeader(member.memberId)) this.applyAssignment(group, req.assignments);
        return synced;
      }
    }
  }

  private applyAssignment(group: Group, assignments: { memberId: string; assignment: Buffer }[]): void {
    const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    for (const m of group.members.values()) m.assignment = byMember.get(m.memberId) ?? EMPTY_BYTES;
    group.transitionTo(GroupState.STABLE);
    for (const m of group.members.values()) this.answerSync(group, m, this.syncAnswer(group, m));
  }

  private syncAnswer(group: Group, member: Member): SyncResult {
    return { errorCode: KafkaErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  // ---- Heartbeat and LeaveGroup ----------------------------------------------------------------------------------

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (this.closed) return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupId === '') return KafkaErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (group === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (group.isFenced(memberId, groupInstanceId)) return KafkaErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return KafkaErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.EMPTY:
      case GroupState.DEAD:
        return KafkaErrorCode.UNKNOWN_MEMBER_ID;
      case GroupState.PREPARING_REBALANCE:
        this.armSession(group, member);
        return KafkaErrorCode.REBALANCE_IN_PROGRESS;
      case GroupState.COMPLETING_REBALANCE:
      // Apache answers OK here: a member may heartbeat between its JoinGroup and SyncGroup responses, and telling it
      // to rejoin would restart the rebalance it is finishing.
      case GroupState.STABLE:
        this.armSession(group, member);
        return KafkaErrorCode.NONE;
    }
  }

  leave(groupId: string, members: LeaveMember[]): LeaveResult {
    if (this.closed) return { errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    if (groupId === '') return { errorCode: KafkaErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(groupId);
    const results = members.map(({ memberId, groupInstanceId }) => {
      const errorCode = group === undefined ? KafkaErrorCode.UNKNOWN_MEMBER_ID : this.leaveOne(group, memberId, groupInstanceId);
      return { memberId, groupInstanceId, errorCode };
    });
    if (group !== undefined) this.forgetIfUnused(group);
    return { errorCode: KafkaErrorCode.NONE, members: results };
  }

  private leaveOne(group: Group, memberId: string, groupInstanceId: string | null): number {
    // LeaveGroup v3+ may name a static member by instance id alone.
    const id = memberId === '' && groupInstanceId !== null ? group.staticMembers.get(groupInstanceId) : memberId;
    if (id === undefined || id === '') return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (group.isFenced(id, groupInstanceId)) return KafkaErrorCode.FENCED_INSTANCE_ID;
    const pendingExpiry = group.pendingMembers.get(id);
    if (pendingExpiry !== undefined) {
      pendingExpiry.cancel();
      group.pendingMembers.delete(id);
      this.maybeCompleteJoin(group);
      return KafkaErrorCode.NONE;
    }
    const member = group.members.get(id);
    if (member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMemberAndRebalance(group, member);
    return KafkaErrorCode.NONE;
  }

  // ---- Sessions --------------------------------------------------------------------------------------------------

  private armSession(group: Group, member: Member, timeoutMs = member.sessionTimeoutMs): void {
    member.sessionTimer?.cancel();
    member.sessionTimer = this.clock.setTimeout(() => this.onSessionExpired(group, member), timeoutMs);
  }

  private onSessionExpired(group: Group, member: Member): void {
    member.sessionTimer = null;
    if (this.closed || group.members.get(member.memberId) !== member) return;
    // A parked request is proof of life; the timer is armed again when it is answered. A member that joined during
    // this rebalance gets no such credit, so a client that gave up on its join cannot hold the group forever.
    const parked = member.joinWaiters.length > 0 || member.syncWaiters.length > 0;
    if (parked && !member.isNew) return;
    this.removeMemberAndRebalance(group, member);
    this.forgetIfUnused(group);
  }

  private expirePendingMember(group: Group, memberId: string): void {
    if (this.closed || !group.pendingMembers.delete(memberId)) return;
    this.maybeCompleteJoin(group);
    this.forgetIfUnused(group);
  }

  private removeMemberAndRebalance(group: Group, member: Member): void {
    this.dropMember(group, member, KafkaErrorCode.UNKNOWN_MEMBER_ID);
    switch (group.state) {
      case GroupState.STABLE:
      case GroupState.COMPLETING_REBALANCE:
        this.prepareRebalance(group);
        break;
      case GroupState.PREPARING_REBALANCE:
        this.maybeCompleteJoin(group);
        break;
      case GroupState.EMPTY:
      case GroupState.DEAD:
        break;
    }
  }

  // Takes a member out without touching the group's state; its parked requests get `errorCode`.
  private dropMember(group: Group, member: Member, errorCode: number): void {
    member.sessionTimer?.cancel();
    member.sessionTimer = null;
    group.remove(member);
    for (const answer of member.joinWaiters.splice(0)) answer(joinError(errorCode, member.memberId));
    for (const answer of member.syncWaiters.splice(0)) answer(syncError(errorCode));
  }

  private answerJoin(group: Group, member: Member, result: JoinResult): void {
    for (const answer of member.joinWaiters.splice(0)) answer(result);
    this.armSession(group, member);
  }

  private answerSync(group: Group, member: Member, result: SyncResult): void {
    if (member.syncWaiters.length === 0) return;
    for (const answer of member.syncWaiters.splice(0)) answer(result);
    this.armSession(group, member);
  }

  // An Empty group with nobody on the way and no committed offsets has nothing worth keeping.
  private forgetIfUnused(group: Group): void {
    if (
      group.state === GroupState.EMPTY &&
      group.members.size === 0 &&
      group.pendingMembers.size === 0 &&
      !this.store.hasGroup(group.groupId) &&
      this.groups.get(group.groupId) === group
    ) {
      group.joinTimer?.cancel();
      this.groups.delete(group.groupId);
    }
  }

  // ---- Offsets ---------------------------------------------------------------------------------------------------

  /** Resolves once accepted offsets are durable; errors are per partition, as OffsetCommit reports them. */
  async commitOffsets(groupId: string, generationId: number, memberId: string, offsets: OffsetCommitEntry[]): Promise<OffsetCommitResult[]> {
    const groupError = this.checkCommitter(groupId, generationId, memberId);
    const results = offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      errorCode: groupError === KafkaErrorCode.NONE ? this.checkOffset(o) : groupError,
    }));
    const accepted = offsets.filter((_, i) => results[i]?.errorCode === KafkaErrorCode.NONE);
    if (accepted.length === 0) return results;
    try {
      await this.store.commit(groupId, accepted);
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      // Clients retry COORDINATOR_NOT_AVAILABLE after looking the coordinator up again, which suits a disk that may recover.
      for (const r of results) if (r.errorCode === KafkaErrorCode.NONE) r.errorCode = KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return results;
  }

  private checkOffset(o: OffsetCommitEntry): number {
    if (!Number.isInteger(o.partition) || o.partition < 0) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    // No log here can reach 2^53 records, so such an offset cannot name a real position.
    if (!Number.isSafeInteger(o.offset)) return KafkaErrorCode.OFFSET_OUT_OF_RANGE;
    if (o.metadata !== null && Buffer.byteLength(o.metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
      return KafkaErrorCode.OFFSET_METADATA_TOO_LARGE;
    }
    return KafkaErrorCode.NONE;
  }

  private checkCommitter(groupId: string, generationId: number, memberId: string): number {
    if (this.closed) return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    const group = this.groups.get(groupId);
    // Consumers that assign partitions themselves (and admin tools) commit with generation -1 to a group without members.
    if (generationId < 0 && (group === undefined || group.members.size === 0)) return KafkaErrorCode.NONE;
    if (group === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    const member = group.members.get(memberId);
    if (member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return KafkaErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.COMPLETING_REBALANCE:
        return KafkaErrorCode.REBALANCE_IN_PROGRESS;
      case GroupState.STABLE:
      // During PreparingRebalance the generation has not moved yet: members may still commit what they consumed.
      case GroupState.PREPARING_REBALANCE:
        this.armSession(group, member);
        return KafkaErrorCode.NONE;
      case GroupState.EMPTY:
      case GroupState.DEAD:
        return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  /** Committed offsets; partitions never committed come back as offset -1. `null` asks for everything committed. */
  fetchOffsets(groupId: string, partitions: { topic: string; partitions: number[] }[] | null): OffsetFetchResult[] {
    const errorCode = this.closed ? KafkaErrorCode.COORDINATOR_NOT_AVAILABLE : KafkaErrorCode.NONE;
    if (partitions === null) {
      if (this.closed) return [];
      return this.store.listGroup(groupId).map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode,
      }));
    }
    return partitions.flatMap(({ topic, partitions: indexes }) =>
      indexes.map((partition) => {
        const committed = this.closed ? undefined : this.store.get(groupId, topic, partition);
        // Apache answers a partition with no commit with offset -1 and empty (not null) metadata.
        if (committed === undefined) return { topic, partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode };
        return { topic, partition, offset: committed.offset, leaderEpoch: committed.leaderEpoch, metadata: committed.metadata, errorCode };
      }),
    );
  }

  async deleteTopicOffsets(topic: string): Promise<void> {
    // The store is closed: offsets of a topic deleted during shutdown stay committed (harmless until it is recreated).
    if (this.closed) return;
    await this.store.deleteTopic(topic);
    for (const group of [...this.groups.values()]) this.forgetIfUnused(group);
  }

  // ---- DescribeGroups and ListGroups -----------------------------------------------------------------------------

  describeGroup(groupId: string): GroupDescription {
    const group = this.closed ? undefined : this.groups.get(groupId);
    if (group === undefined) {
      const errorCode = this.closed ? KafkaErrorCode.COORDINATOR_NOT_AVAILABLE : KafkaErrorCode.NONE;
      const state = !this.closed && this.store.hasGroup(groupId) ? GroupState.EMPTY : GroupState.DEAD;
      return { errorCode, groupId, state, protocolType: '', protocolName: '', members: [] };
    }
    // As Apache does, metadata and assignments are shown only when they are settled (Stable).
    const stable = group.state === GroupState.STABLE;
    const protocolName = stable ? (group.protocolName ?? '') : '';
    return {
      errorCode: KafkaErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? (m.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BYTES) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Groups with members or committed offsets; `statesFilter` (ListGroups v4+) matches states case-insensitively. */
  listGroups(statesFilter?: string[]): GroupListing[] {
    if (this.closed) return [];
    const listings: GroupListing[] = [];
    for (const group of this.groups.values()) {
      listings.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state });
    }
    for (const groupId of this.store.groupIds()) {
      if (!this.groups.has(groupId)) listings.push({ groupId, protocolType: '', state: GroupState.EMPTY });
    }
    if (statesFilter === undefined || statesFilter.length === 0) return listings;
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    return listings.filter((l) => wanted.has(l.state.toLowerCase()));
  }

  // ---- Lifecycle -------------------------------------------------------------------------------------------------

  /** Stops all timers, answers parked joins and syncs with COORDINATOR_NOT_AVAILABLE, and flushes committed offsets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const group of this.groups.values()) {
      group.joinTimer?.cancel();
      group.joinTimer = null;
      for (const expiry of group.pendingMembers.values()) expiry.cancel();
      group.pendingMembers.clear();
      for (const m of group.members.values()) {
        m.sessionTimer?.cancel();
        m.sessionTimer = null;
        for (const answer of m.joinWaiters.splice(0)) answer(joinError(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, m.memberId));
        for (const answer of m.syncWaiters.splice(0)) answer(syncError(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
    }
    this.groups.clear();
    await this.store.close();
  }
}

function parkJoin(member: Member): Promise<JoinResult> {
  return new Promise<JoinResult>((resolve) => member.joinWaiters.push(resolve));
}

function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [], skipAssignment: false };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}
