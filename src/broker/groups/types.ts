// The group coordinator's request and result shapes, as the Kafka request handlers hand them over and encode them back.

/** Injected time, so schedules (sessions, rebalances) can be driven by tests without sleeping. */
export type Clock = {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
};

export type TimerHandle = ReturnType<Clock['setTimeout']>;

export type GroupConfig = {
  /** Wait this long after the first join into an Empty group, so members starting together share one rebalance. */
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** Longest committed-offset metadata string, in UTF-8 bytes. */
  offsetMetadataMaxBytes: number;
};

export type JoinRequest = {
  groupId: string;
  /** '' for a member joining for the first time. */
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  sessionTimeoutMs: number;
  /** JoinGroup v0 has no rebalance timeout; the handler passes the session timeout. */
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** true for JoinGroup v4+ (KIP-394): a new member first gets MEMBER_ID_REQUIRED with its id. */
  requireKnownMemberId: boolean;
  reason: string | null;
};

export type JoinResultMember = { memberId: string; groupInstanceId: string | null; metadata: Buffer };

export type JoinResult = {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** Every member's metadata for the chosen protocol, for the leader only; [] for followers. */
  members: JoinResultMember[];
  skipAssignment: boolean;
};

export type SyncRequest = {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
};

export type SyncResult = {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
};

export type LeaveMember = { memberId: string; groupInstanceId: string | null };

export type LeaveResult = {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
};

export type OffsetCommitEntry = {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
};

export type OffsetCommitResult = { topic: string; partition: number; errorCode: number };

export type OffsetFetchResult = {
  topic: string;
  partition: number;
  /** -1 when nothing is committed. */
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  errorCode: number;
};

export type GroupDescription = {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocolName: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
};

export type GroupListing = { groupId: string; protocolType: string; state: string };
