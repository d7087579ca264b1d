// One classic-protocol consumer group: its members and state, and the pure rules over them (protocol vote, who has rejoined).
import { assert } from '../../errors.ts';
import type { JoinResult, JoinResultMember, SyncResult, TimerHandle } from './types.ts';

export const GroupState = {
  EMPTY: 'Empty',
  PREPARING_REBALANCE: 'PreparingRebalance',
  COMPLETING_REBALANCE: 'CompletingRebalance',
  STABLE: 'Stable',
  DEAD: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

// The states each state may be entered from (Apache's classic group state machine).
const ENTERED_FROM: Record<GroupState, readonly GroupState[]> = {
  Empty: [GroupState.PREPARING_REBALANCE],
  PreparingRebalance: [GroupState.EMPTY, GroupState.STABLE, GroupState.COMPLETING_REBALANCE],
  CompletingRebalance: [GroupState.PREPARING_REBALANCE],
  Stable: [GroupState.COMPLETING_REBALANCE],
  Dead: [GroupState.EMPTY, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE, GroupState.STABLE],
};

export type Protocol = { name: string; metadata: Buffer };

export type Member = {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: Protocol[];
  assignment: Buffer;
  /** Parked JoinGroup requests, answered when the join phase completes. */
  joinWaiters: ((result: JoinResult) => void)[];
  /** Parked SyncGroup requests, answered when the leader's assignment arrives. */
  syncWaiters: ((result: SyncResult) => void)[];
  /** Joined during the current rebalance; such a member is not kept alive by its parked join. */
  isNew: boolean;
  sessionTimer: TimerHandle | null;
};

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export class Group {
  readonly groupId: string;
  state: GroupState = GroupState.EMPTY;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** In join order, which decides the leader when the old one is gone. */
  readonly members = new Map<string, Member>();
  /** KIP-394: ids handed out with MEMBER_ID_REQUIRED, not yet members; each expires after the session timeout. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** KIP-345: group.instance.id → current member id. */
  readonly staticMembers = new Map<string, string>();
  /** The rebalance timeout, or the initial-delay timer while `initialDelay` is set. */
  joinTimer: TimerHandle | null = null;
  /** Set while a join into an Empty group waits for others to arrive. */
  initialDelay: { remainingMs: number; newMemberAdded: boolean } | null = null;

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  transitionTo(next: GroupState): void {
    assert(ENTERED_FROM[next].includes(this.state), `group ${this.groupId}: illegal transition ${this.state} -> ${next}`);
    this.state = next;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: Member): void {
    assert(!this.members.has(member.memberId), `member ${member.memberId} added twice`);
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.leaderId ??= member.memberId;
  }

  remove(member: Member): void {
    assert(this.members.get(member.memberId) === member, `member ${member.memberId} removed but not present`);
    this.members.delete(member.memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(member.memberId)) this.leaderId = this.members.keys().next().value ?? null;
  }

  /** A static member's request whose member id is not the one now holding that instance id. */
  isFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /**
   * Whether a member offering these protocols may join: an empty group takes any non-empty offer; otherwise the
   * protocol type must match and one offered protocol must be supported by every other member.
   */
  supportsProtocols(protocolType: string, names: string[], joiningMemberId: string): boolean {
    if (this.members.size === 0) return protocolType !== '' && names.length > 0;
    if (protocolType !== this.protocolType) return false;
    const others = [...this.members.values()].filter((m) => m.memberId !== joiningMemberId);
    return names.some((name) => others.every((m) => m.protocols.some((p) => p.name === name)));
  }

  /** Every member has a parked join, and no KIP-394 pending member is still on its way. */
  hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (m.joinWaiters.length === 0) return false;
    return this.pendingMembers.size === 0 || this.members.size === 0;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /**
   * The protocol every member supports; each member votes for the first such protocol in its own preference order,
   * and ties go to the earlier choice of the earliest member.
   */
  selectProtocol(): string {
    const members = [...this.members.values()];
    const first = members[0];
    assert(first !== undefined, 'selectProtocol on a group without members');
    const candidates = first.protocols.map((p) => p.name).filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    assert(candidates.length > 0, `group ${this.groupId} has no common protocol`);
    const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
    for (const m of members) {
      const choice = m.protocols.find((p) => votes.has(p.name));
      assert(choice !== undefined, 'every member supports a candidate');
      votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = candidates[0];
    assert(best !== undefined, 'a candidate exists');
    for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  /** The leader's view of the members: each one's metadata for the chosen protocol. */
  memberMetadata(): JoinResultMember[] {
    const protocolName = this.protocolName;
    assert(protocolName !== null, 'member metadata asked for before a protocol was chosen');
    return [...this.members.values()].map((m) => {
      const protocol = m.protocols.find((p) => p.name === protocolName);
      assert(protocol !== undefined, `member ${m.memberId} lacks the chosen protocol`);
      return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: protocol.metadata };
    });
  }
}

/** Same protocols, in the same order, with the same metadata bytes. */
export function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]?.name && p.metadata.equals(b[i].metadata));
}
