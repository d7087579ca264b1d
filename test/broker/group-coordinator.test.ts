// The classic group protocol as clients see it: joins, syncs, heartbeats, leaves, expiry, offsets, describe and list.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { KafkaErrorCode } from '../../src/kafka/errors.ts';
import { GroupCoordinator, type Clock, type GroupConfig, type JoinRequest, type JoinResult } from '../../src/broker/groups/index.ts';

// A clock that moves only when told to, running due timers in time order.
class FakeClock implements Clock {
  private time = 1_000_000;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + ms, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}

const SESSION_MS = 10_000;
const REBALANCE_MS = 30_000;
const GROUP = 'orders-sink';

async function openCoordinator(
  t: TestContext,
  config: Partial<GroupConfig> = {},
): Promise<{ coordinator: GroupCoordinator; clock: FakeClock; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'oxbow-groups-'));
  const clock = new FakeClock();
  const coordinator = await GroupCoordinator.open(
    dir,
    { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 1_800_000, offsetMetadataMaxBytes: 4096, ...config },
    clock,
  );
  t.after(async () => {
    await coordinator.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { coordinator, clock, dir };
}

function joinRequest(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: GROUP,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('subscription:orders') }],
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    clientId: 'rdkafka',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: true,
    reason: null,
    ...overrides,
  };
}

// Tracks whether a parked promise has been answered yet.
function watch<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  void promise.then(() => (done = true));
  return { promise, settled: () => done };
}

async function tick(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/** KIP-394 handshake: the first join returns an id, the second joins with it. Returns the parked join. */
async function joinWithId(coordinator: GroupCoordinator, overrides: Partial<JoinRequest> = {}): Promise<{ memberId: string; joined: Promise<JoinResult> }> {
  const first = await coordinator.join(joinRequest(overrides));
  assert.equal(first.errorCode, KafkaErrorCode.MEMBER_ID_REQUIRED);
  return { memberId: first.memberId, joined: coordinator.join(joinRequest({ ...overrides, memberId: first.memberId })) };
}

/** Several members start together: every one gets its id first, then all join, so they share one generation. */
async function joinTogether(coordinator: GroupCoordinator, members: Partial<JoinRequest>[]): Promise<{ memberId: string; joined: Promise<JoinResult> }[]> {
  const ids: string[] = [];
  for (const overrides of members) {
    const first = await coordinator.join(joinRequest(overrides));
    assert.equal(first.errorCode, KafkaErrorCode.MEMBER_ID_REQUIRED);
    ids.push(first.memberId);
  }
  return members.map((overrides, i) => {
    const memberId = ids[i] ?? '';
    return { memberId, joined: coordinator.join(joinRequest({ ...overrides, memberId })) };
  });
}

/** Brings up a Stable group of the named members (all supporting 'range'); returns their ids in join order. */
async function stableGroup(coordinator: GroupCoordinator, clientIds: string[]): Promise<{ ids: string[]; generationId: number }> {
  const pending = [];
  for (const clientId of clientIds) {
    const first = await coordinator.join(joinRequest({ clientId }));
    pending.push({ clientId, memberId: first.memberId });
  }
  const results = await Promise.all(
    pending.map(({ clientId, memberId }) =>
      coordinator.join(joinRequest({ clientId, memberId, protocols: [{ name: 'range', metadata: Buffer.from(`sub:${clientId}`) }] })),
    ),
  );
  const leader = results.find((r) => r.members.length > 0);
  assert.ok(leader, 'one member leads');
  const generationId = leader.generationId;
  const syncs = results.map((r) =>
    coordinator.sync({
      groupId: GROUP,
      generationId,
      memberId: r.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: r === leader ? results.map((m) => ({ memberId: m.memberId, assignment: Buffer.from(`assigned:${m.memberId}`) })) : [],
    }),
  );
  for (const s of await Promise.all(syncs)) assert.equal(s.errorCode, KafkaErrorCode.NONE);
  return { ids: results.map((r) => r.memberId), generationId };
}

void test('a new member gets MEMBER_ID_REQUIRED with an id, then joins with it; unused ids expire', async (t) => {
  const { coordinator, clock } = await openCoordinator(t);

  const first = await coordinator.join(joinRequest({ clientId: 'kcat' }));
  assert.equal(first.errorCode, KafkaErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^kcat-[0-9a-f-]{36}$/);
  assert.equal(first.generationId, -1);
  // A pending id is not a member yet.
  assert.equal(coordinator.heartbeat(GROUP, 0, first.memberId, null), KafkaErrorCode.UNKNOWN_MEMBER_ID);

  const joined = await coordinator.join(joinRequest({ clientId: 'kcat', memberId: first.memberId }));
  assert.equal(joined.errorCode, KafkaErrorCode.NONE);
  assert.equal(joined.memberId, first.memberId);
  assert.equal(joined.generationId, 1);
  assert.equal(joined.leader, first.memberId);
  assert.equal(joined.protocolName, 'range');

  // An id handed out but never used expires after the session timeout.
  const abandoned = await coordinator.join(joinRequest({ clientId: 'kafkajs' }));
  assert.equal(abandoned.errorCode, KafkaErrorCode.MEMBER_ID_REQUIRED);
  clock.advance(SESSION_MS + 1);
  const late = await coordinator.join(joinRequest({ clientId: 'kafkajs', memberId: abandoned.memberId }));
  assert.equal(late.errorCode, KafkaErrorCode.UNKNOWN_MEMBER_ID);

  // JoinGroup v0-v3 clients (no KIP-394) are added straight away.
  const old = await coordinator.join(joinRequest({ groupId: 'legacy', requireKnownMemberId: false }));
  assert.equal(old.errorCode, KafkaErrorCode.NONE);
  assert.equal(old.generationId, 1);
});

void test('three members join: the leader gets every member metadata, followers get none, sync hands out assignments', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const [aFirst, bFirst, cFirst] = await Promise.all(
    ['a', 'b', 'c'].map((id) => coordinator.join(joinRequest({ clientId: id }))),
  );
  assert.ok(aFirst && bFirst && cFirst);
  const joinAs = (memberId: string, meta: string) =>
    coordinator.join(joinRequest({ memberId, protocols: [{ name: 'range', metadata: Buffer.from(meta) }] }));
  const a = { memberId: aFirst.memberId, joined: watch(joinAs(aFirst.memberId, 'meta-a')) };
  const b = { memberId: bFirst.memberId, joined: watch(joinAs(bFirst.memberId, 'meta-b')) };
  await tick();
  // The join phase waits while c, which holds an id, has not joined with it yet.
  assert.equal(a.joined.settled(), false);
  const c = { memberId: cFirst.memberId, joined: watch(joinAs(cFirst.memberId, 'meta-c')) };
  const [ra, rb, rc] = await Promise.all([a.joined.promise, b.joined.promise, c.joined.promise]);
  assert.ok(ra && rb && rc);

  for (const r of [ra, rb, rc]) {
    assert.equal(r.errorCode, KafkaErrorCode.NONE);
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, a.memberId);
    assert.equal(r.protocolType, 'consumer');
    assert.equal(r.protocolName, 'range');
  }
  assert.deepEqual(
    ra.members.map((m) => [m.memberId, m.metadata.toString()]),
    [
      [a.memberId, 'meta-a'],
      [b.memberId, 'meta-b'],
      [c.memberId, 'meta-c'],
    ],
  );
  assert.deepEqual(rb.members, []);
  assert.deepEqual(rc.members, []);

  const syncOf = (memberId: string, assignments: { memberId: string; assignment: Buffer }[] = []) =>
    coordinator.sync({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments });
  const bSync = watch(syncOf(b.memberId));
  const cSync = watch(syncOf(c.memberId));
  await tick();
  assert.equal(bSync.settled(), false, 'a follower waits for the leader');
  assert.equal(coordinator.describeGroup(GROUP).state, 'CompletingRebalance');

  // The leader assigns nothing to c: c must still get an answer, with empty bytes.
  const aSync = await syncOf(a.memberId, [
    { memberId: a.memberId, assignment: Buffer.from('orders-0') },
    { memberId: b.memberId, assignment: Buffer.from('orders-1') },
  ]);
  assert.equal(aSync.errorCode, KafkaErrorCode.NONE);
  assert.equal(aSync.assignment.toString(), 'orders-0');
  assert.equal((await bSync.promise).assignment.toString(), 'orders-1');
  const cResult = await cSync.promise;
  assert.equal(cResult.errorCode, KafkaErrorCode.NONE);
  assert.equal(cResult.assignment.length, 0);
  assert.equal(cResult.protocolName, 'range');

  assert.equal(coordinator.describeGroup(GROUP).state, 'Stable');
  for (const id of [a.memberId, b.memberId, c.memberId]) assert.equal(coordinator.heartbeat(GROUP, 1, id, null), KafkaErrorCode.NONE);
  // A sync after the group is Stable returns the stored assignment at once.
  assert.equal((await syncOf(b.memberId)).assignment.toString(), 'orders-1');
});

void test('the protocol chosen is one every member supports, by the members’ preference', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const both = (first: string, second: string) => [
    { name: first, metadata: Buffer.from(`${first}-meta`) },
    { name: second, metadata: Buffer.from(`${second}-meta`) },
  ];
  const members = await joinTogether(coordinator, [
    { clientId: 'a', protocols: both('range', 'roundrobin') },
    { clientId: 'b', protocols: both('roundrobin', 'range') },
    { clientId: 'c', protocols: both('roundrobin', 'range') },
  ]);
  const [ra] = await Promise.all(members.map((m) => m.joined));
  assert.equal(ra?.protocolName, 'roundrobin');
  assert.deepEqual(
    ra.members.map((m) => m.metadata.toString()),
    ['roundrobin-meta', 'roundrobin-meta', 'roundrobin-meta'],
  );

  // A newcomer that shares no protocol with the group is refused; so is another protocol type.
  const stranger = await coordinator.join(joinRequest({ protocols: [{ name: 'cooperative-sticky', metadata: Buffer.alloc(0) }] }));
  assert.equal(stranger.errorCode, KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  const connect = await coordinator.join(joinRequest({ protocolType: 'connect', protocols: both('range', 'roundrobin') }));
  assert.equal(connect.errorCode, KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

void test('join requests are validated: group id, session timeout range, protocols', async (t) => {
  const { coordinator } = await openCoordinator(t);
  assert.equal((await coordinator.join(joinRequest({ groupId: '' }))).errorCode, KafkaErrorCode.INVALID_GROUP_ID);
  assert.equal((await coordinator.join(joinRequest({ sessionTimeoutMs: 5999 }))).errorCode, KafkaErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await coordinator.join(joinRequest({ sessionTimeoutMs: 1_800_001 }))).errorCode, KafkaErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await coordinator.join(joinRequest({ protocols: [] }))).errorCode, KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await coordinator.join(joinRequest({ memberId: 'never-issued' }))).errorCode, KafkaErrorCode.UNKNOWN_MEMBER_ID);
  // None of these left a group behind.
  assert.deepEqual(coordinator.listGroups(), []);
});

void test('a member that stops heartbeating expires and the others rebalance into a new generation', async (t) => {
  const { coordinator, clock } = await openCoordinator(t);
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b', 'c']);
  const [a, b, c] = ids;
  assert.ok(a && b && c);

  // a and b heartbeat every 3 s; c has gone silent.
  for (let i = 0; i < 3; i++) {
    clock.advance(3000);
    assert.equal(coordinator.heartbeat(GROUP, generationId, a, null), KafkaErrorCode.NONE);
    assert.equal(coordinator.heartbeat(GROUP, generationId, b, null), KafkaErrorCode.NONE);
  }
  assert.equal(coordinator.describeGroup(GROUP).state, 'Stable');
  clock.advance(SESSION_MS - 9000);
  assert.equal(coordinator.describeGroup(GROUP).state, 'PreparingRebalance');
  assert.equal(coordinator.heartbeat(GROUP, generationId, a, null), KafkaErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(coordinator.heartbeat(GROUP, generationId, c, null), KafkaErrorCode.UNKNOWN_MEMBER_ID);

  const [ra, rb] = await Promise.all([coordinator.join(joinRequest({ memberId: a })), coordinator.join(joinRequest({ memberId: b }))]);
  assert.equal(ra?.generationId, generationId + 1);
  assert.equal(rb?.generationId, generationId + 1);
  assert.equal(ra.leader, a, 'the leader stays while present');
  assert.deepEqual(ra.members.map((m) => m.memberId).sort(), [a, b].sort());
  assert.equal(coordinator.heartbeat(GROUP, generationId, a, null), KafkaErrorCode.ILLEGAL_GENERATION);
});

void test('a member parked in a join or sync is not expired while it waits', async (t) => {
  const { coordinator, clock } = await openCoordinator(t);
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b']);
  const [a, b] = ids;
  assert.ok(a && b);
  // a (the leader) rejoins and waits for b, which keeps heartbeating for a while before rejoining.
  const aJoin = watch(coordinator.join(joinRequest({ memberId: a })));
  for (let i = 0; i < 5; i++) {
    clock.advance(4000);
    assert.equal(coordinator.heartbeat(GROUP, generationId, b, null), KafkaErrorCode.REBALANCE_IN_PROGRESS);
  }
  await tick();
  assert.equal(aJoin.settled(), false);
  const rb = await coordinator.join(joinRequest({ memberId: b }));
  const ra = await aJoin.promise;
  assert.equal(ra.errorCode, KafkaErrorCode.NONE, 'a waited 20 s in its join, twice its session timeout, and is still a member');
  assert.equal(rb.generationId, generationId + 1);
  // b's sync waits for the leader longer than a session timeout, and b survives.
  const bSync = watch(coordinator.sync({ groupId: GROUP, generationId: rb.generationId, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }));
  clock.advance(SESSION_MS - 1);
  assert.equal(coordinator.heartbeat(GROUP, rb.generationId, a, null), KafkaErrorCode.NONE);
  clock.advance(SESSION_MS - 1);
  const aSync = await coordinator.sync({
    groupId: GROUP, generationId: rb.generationId, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null,
    assignments: [{ memberId: b, assignment: Buffer.from('p1') }],
  });
  assert.equal(aSync.errorCode, KafkaErrorCode.NONE);
  assert.equal((await bSync.promise).assignment.toString(), 'p1');
});

void test('leaving triggers a rebalance; the last member leaving empties the group', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b']);
  const [a, b] = ids;
  assert.ok(a && b);
  await coordinator.commitOffsets(GROUP, generationId, a, [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: 0, metadata: null }]);

  const left = coordinator.leave(GROUP, [{ memberId: b, groupInstanceId: null }]);
  assert.deepEqual(left, { errorCode: KafkaErrorCode.NONE, members: [{ memberId: b, groupInstanceId: null, errorCode: KafkaErrorCode.NONE }] });
  assert.equal(coordinator.heartbeat(GROUP, generationId, a, null), KafkaErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(coordinator.heartbeat(GROUP, generationId, b, null), KafkaErrorCode.UNKNOWN_MEMBER_ID);
  const ra = await coordinator.join(joinRequest({ memberId: a }));
  assert.equal(ra.generationId, generationId + 1);
  assert.deepEqual(ra.members.map((m) => m.memberId), [a]);

  const again = coordinator.leave(GROUP, [{ memberId: b, groupInstanceId: null }]);
  assert.equal(again.members[0]?.errorCode, KafkaErrorCode.UNKNOWN_MEMBER_ID);
  coordinator.leave(GROUP, [{ memberId: a, groupInstanceId: null }]);
  const described = coordinator.describeGroup(GROUP);
  assert.equal(described.state, 'Empty');
  assert.equal(described.protocolType, 'consumer');
  assert.deepEqual(described.members, []);
});

void test('the rebalance timeout drops members that never rejoin', async (t) => {
  const { coordinator, clock } = await openCoordinator(t);
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b', 'c']);
  const [a, b, c] = ids;
  assert.ok(a && b && c);
  // The leader rejoining forces a rebalance (it may have seen topic changes that member metadata does not show).
  const aJoin = watch(coordinator.join(joinRequest({ memberId: a })));
  const bJoin = watch(coordinator.join(joinRequest({ memberId: b })));
  // c keeps heartbeating but never rejoins (say, stuck in a long poll loop).
  for (let elapsed = 0; elapsed < REBALANCE_MS - 3000; elapsed += 3000) {
    clock.advance(3000);
    assert.equal(coordinator.heartbeat(GROUP, generationId, c, null), KafkaErrorCode.REBALANCE_IN_PROGRESS);
  }
  await tick();
  assert.equal(aJoin.settled(), false, 'still waiting for c');
  clock.advance(3000);
  const [ra, rb] = await Promise.all([aJoin.promise, bJoin.promise]);
  assert.equal(ra.generationId, generationId + 1);
  assert.equal(rb.generationId, generationId + 1);
  assert.deepEqual(ra.members.map((m) => m.memberId), [a, b]);
  assert.equal(coordinator.heartbeat(GROUP, generationId, c, null), KafkaErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await coordinator.join(joinRequest({ memberId: c }))).errorCode, KafkaErrorCode.UNKNOWN_MEMBER_ID);
});

void test('heartbeat answers by state, member and generation', async (t) => {
  const { coordinator } = await openCoordinator(t);
  assert.equal(coordinator.heartbeat('', 1, 'x', null), KafkaErrorCode.INVALID_GROUP_ID);
  assert.equal(coordinator.heartbeat('no-such-group', 1, 'x', null), KafkaErrorCode.UNKNOWN_MEMBER_ID);

  const a = await joinWithId(coordinator, { clientId: 'a' });
  const ra = await a.joined;
  // Between the JoinGroup and SyncGroup responses the group is CompletingRebalance; Apache answers OK there.
  assert.equal(coordinator.heartbeat(GROUP, ra.generationId, a.memberId, null), KafkaErrorCode.NONE);
  await coordinator.sync({ groupId: GROUP, generationId: ra.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(coordinator.heartbeat(GROUP, ra.generationId, a.memberId, null), KafkaErrorCode.NONE);
  assert.equal(coordinator.heartbeat(GROUP, ra.generationId + 1, a.memberId, null), KafkaErrorCode.ILLEGAL_GENERATION);
  assert.equal(coordinator.heartbeat(GROUP, ra.generationId, 'someone-else', null), KafkaErrorCode.UNKNOWN_MEMBER_ID);

  // A newcomer starts a rebalance: a's heartbeat tells it to rejoin.
  const b = await coordinator.join(joinRequest({ clientId: 'b' }));
  const bJoined = coordinator.join(joinRequest({ clientId: 'b', memberId: b.memberId }));
  assert.equal(coordinator.heartbeat(GROUP, ra.generationId, a.memberId, null), KafkaErrorCode.REBALANCE_IN_PROGRESS);
  const sync = await coordinator.sync({ groupId: GROUP, generationId: ra.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(sync.errorCode, KafkaErrorCode.REBALANCE_IN_PROGRESS);
  await coordinator.join(joinRequest({ memberId: a.memberId }));
  assert.equal((await bJoined).generationId, ra.generationId + 1);
});

void test('a follower rejoining with unchanged metadata keeps the generation; changed metadata rebalances', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b']);
  const [a, b] = ids;
  assert.ok(a && b);
  const same = await coordinator.join(joinRequest({ memberId: b, protocols: [{ name: 'range', metadata: Buffer.from('sub:b') }] }));
  assert.equal(same.errorCode, KafkaErrorCode.NONE);
  assert.equal(same.generationId, generationId);
  assert.deepEqual(same.members, []);
  assert.equal(coordinator.describeGroup(GROUP).state, 'Stable');

  const changed = watch(coordinator.join(joinRequest({ memberId: b, protocols: [{ name: 'range', metadata: Buffer.from('sub:b,payments') }] })));
  assert.equal(coordinator.describeGroup(GROUP).state, 'PreparingRebalance');
  const ra = await coordinator.join(joinRequest({ memberId: a, protocols: [{ name: 'range', metadata: Buffer.from('sub:a') }] }));
  assert.equal(ra.generationId, generationId + 1);
  assert.deepEqual(ra.members.map((m) => m.metadata.toString()), ['sub:a', 'sub:b,payments']);
  assert.equal((await changed.promise).generationId, generationId + 1);
});

void test('the initial rebalance delay lets members that start together share the first generation', async (t) => {
  const { coordinator, clock } = await openCoordinator(t, { initialRebalanceDelayMs: 100 });
  const a = watch(coordinator.join(joinRequest({ clientId: 'a', requireKnownMemberId: false })));
  clock.advance(60);
  const b = watch(coordinator.join(joinRequest({ clientId: 'b', requireKnownMemberId: false })));
  clock.advance(60);
  await tick();
  // b arrived during the first delay, so the coordinator waits one more delay for others.
  assert.equal(a.settled(), false);
  clock.advance(100);
  const [ra, rb] = await Promise.all([a.promise, b.promise]);
  assert.equal(ra.generationId, 1);
  assert.equal(rb.generationId, 1);
  assert.equal(ra.members.length, 2);
});

void test('a static member restarting with the same instance id replaces its old member id', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const first = await coordinator.join(joinRequest({ clientId: 'a', groupInstanceId: 'host-1' }));
  assert.equal(first.errorCode, KafkaErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED');
  await coordinator.sync({ groupId: GROUP, generationId: first.generationId, memberId: first.memberId, groupInstanceId: 'host-1', protocolType: null, protocolName: null, assignments: [] });

  const restarted = await coordinator.join(joinRequest({ clientId: 'a', groupInstanceId: 'host-1' }));
  assert.equal(restarted.errorCode, KafkaErrorCode.NONE);
  assert.notEqual(restarted.memberId, first.memberId);
  assert.equal(restarted.leader, restarted.memberId);
  assert.deepEqual(coordinator.describeGroup(GROUP).members.map((m) => [m.memberId, m.groupInstanceId]), [[restarted.memberId, 'host-1']]);
  // The old incarnation is fenced.
  assert.equal(coordinator.heartbeat(GROUP, restarted.generationId, first.memberId, 'host-1'), KafkaErrorCode.FENCED_INSTANCE_ID);
  // LeaveGroup v3+ may name a static member by instance id alone.
  const left = coordinator.leave(GROUP, [{ memberId: '', groupInstanceId: 'host-1' }]);
  assert.equal(left.members[0]?.errorCode, KafkaErrorCode.NONE);
  assert.deepEqual(coordinator.describeGroup(GROUP).members, []);
});

void test('offset commits are checked against membership and generation, and metadata round-trips exactly', async (t) => {
  const { coordinator } = await openCoordinator(t, { offsetMetadataMaxBytes: 16 });
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b']);
  const [a, b] = ids;
  assert.ok(a && b);
  const entry = (partition: number, offset: number, metadata: string | null) => ({ topic: 'orders', partition, offset, leaderEpoch: 3, metadata });

  const ok = await coordinator.commitOffsets(GROUP, generationId, a, [entry(0, 42, null), entry(1, 7, ''), entry(2, 9, 'x'.repeat(17)), entry(3, 11, 'ü-tf8 ✓')]);
  assert.deepEqual(ok.map((r) => r.errorCode), [0, 0, KafkaErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
  assert.deepEqual(coordinator.fetchOffsets(GROUP, [{ topic: 'orders', partitions: [0, 1, 2, 3] }, { topic: 'payments', partitions: [0] }]), [
    { topic: 'orders', partition: 0, offset: 42, leaderEpoch: 3, metadata: null, errorCode: 0 },
    { topic: 'orders', partition: 1, offset: 7, leaderEpoch: 3, metadata: '', errorCode: 0 },
    { topic: 'orders', partition: 2, offset: -1, leaderEpoch: -1, metadata: '', errorCode: 0 },
    { topic: 'orders', partition: 3, offset: 11, leaderEpoch: 3, metadata: 'ü-tf8 ✓', errorCode: 0 },
    { topic: 'payments', partition: 0, offset: -1, leaderEpoch: -1, metadata: '', errorCode: 0 },
  ]);
  assert.deepEqual(coordinator.fetchOffsets(GROUP, null).map((o) => [o.partition, o.offset]), [[0, 42], [1, 7], [3, 11]]);
  // Partitions and offsets that cannot exist are refused one by one.
  const impossible = await coordinator.commitOffsets(GROUP, generationId, a, [entry(-1, 1, null), entry(4, 2 ** 60, null), entry(5, 0, null)]);
  assert.deepEqual(impossible.map((r) => r.errorCode), [KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, KafkaErrorCode.OFFSET_OUT_OF_RANGE, 0]);

  const codes = async (gen: number, member: string) => (await coordinator.commitOffsets(GROUP, gen, member, [entry(0, 99, null)])).map((r) => r.errorCode);
  assert.deepEqual(await codes(generationId + 1, a), [KafkaErrorCode.ILLEGAL_GENERATION]);
  assert.deepEqual(await codes(generationId, 'stranger'), [KafkaErrorCode.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(await codes(-1, ''), [KafkaErrorCode.UNKNOWN_MEMBER_ID], 'a group with members refuses simple commits');

  // While preparing a rebalance, the generation that is ending may still commit what it consumed.
  coordinator.leave(GROUP, [{ memberId: b, groupInstanceId: null }]);
  assert.deepEqual(await codes(generationId, a), [KafkaErrorCode.NONE]);
  assert.equal(coordinator.fetchOffsets(GROUP, [{ topic: 'orders', partitions: [0] }])[0]?.offset, 99);
  // Between join and sync the new assignment is not known yet: commits must wait.
  const ra = await coordinator.join(joinRequest({ memberId: a }));
  assert.deepEqual(await codes(ra.generationId, a), [KafkaErrorCode.REBALANCE_IN_PROGRESS]);
  assert.equal(coordinator.fetchOffsets(GROUP, [{ topic: 'orders', partitions: [0] }])[0]?.offset, 99);

  // Simple consumers (no membership) commit with generation -1 into a group nobody has joined.
  const simple = await coordinator.commitOffsets('assign-mode', -1, '', [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: 'm' }]);
  assert.deepEqual(simple, [{ topic: 'orders', partition: 0, errorCode: 0 }]);
  assert.equal(coordinator.fetchOffsets('assign-mode', [{ topic: 'orders', partitions: [0] }])[0]?.metadata, 'm');
});

void test('committed offsets survive closing and reopening the coordinator, and deleted topics lose theirs', async (t) => {
  const { coordinator, dir } = await openCoordinator(t);
  await coordinator.commitOffsets('g1', -1, '', [
    { topic: 'orders', partition: 0, offset: 10, leaderEpoch: 1, metadata: null },
    { topic: 'payments', partition: 2, offset: 20, leaderEpoch: -1, metadata: '' },
  ]);
  await coordinator.close();

  const reopened = await GroupCoordinator.open(dir, { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 1_800_000, offsetMetadataMaxBytes: 4096 }, new FakeClock());
  t.after(() => reopened.close());
  assert.deepEqual(reopened.fetchOffsets('g1', null), [
    { topic: 'orders', partition: 0, offset: 10, leaderEpoch: 1, metadata: null, errorCode: 0 },
    { topic: 'payments', partition: 2, offset: 20, leaderEpoch: -1, metadata: '', errorCode: 0 },
  ]);
  assert.deepEqual(reopened.listGroups(), [{ groupId: 'g1', protocolType: '', state: 'Empty' }]);

  await reopened.deleteTopicOffsets('orders');
  assert.deepEqual(reopened.fetchOffsets('g1', null).map((o) => o.topic), ['payments']);
  await reopened.deleteTopicOffsets('payments');
  assert.deepEqual(reopened.listGroups(), []);
  assert.equal(reopened.describeGroup('g1').state, 'Dead');
  await reopened.close();
});

void test('describe and list show groups by state', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const { ids } = await stableGroup(coordinator, ['a', 'b']);
  await coordinator.commitOffsets('offsets-only', -1, '', [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }]);
  const first = await coordinator.join(joinRequest({ groupId: 'warming-up', requireKnownMemberId: false }));
  assert.equal(first.errorCode, KafkaErrorCode.NONE);
  // A second member arrives; its join waits for the first to rejoin: PreparingRebalance.
  void coordinator.join(joinRequest({ groupId: 'warming-up', requireKnownMemberId: false, clientId: 'late' }));

  const described = coordinator.describeGroup(GROUP);
  assert.equal(described.errorCode, KafkaErrorCode.NONE);
  assert.equal(described.state, 'Stable');
  assert.equal(described.protocolType, 'consumer');
  assert.equal(described.protocolName, 'range');
  assert.deepEqual(
    described.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.metadata.toString(), m.assignment.toString()]),
    ids.map((id, i) => [id, ['a', 'b'][i], '/127.0.0.1', `sub:${['a', 'b'][i]}`, `assigned:${id}`]),
  );
  const warming = coordinator.describeGroup('warming-up');
  assert.equal(warming.state, 'PreparingRebalance');
  assert.equal(warming.members.length, 2);
  assert.equal(warming.members[0]?.assignment.length, 0);
  assert.deepEqual(coordinator.describeGroup('never-heard-of'), {
    errorCode: 0, groupId: 'never-heard-of', state: 'Dead', protocolType: '', protocolName: '', members: [],
  });

  const byId = (l: { groupId: string }[]) => l.map((g) => g.groupId).sort();
  assert.deepEqual(byId(coordinator.listGroups()), ['offsets-only', GROUP, 'warming-up']);
  assert.deepEqual(coordinator.listGroups(['stable']), [{ groupId: GROUP, protocolType: 'consumer', state: 'Stable' }]);
  assert.deepEqual(byId(coordinator.listGroups(['Empty', 'PreparingRebalance'])), ['offsets-only', 'warming-up']);
  assert.deepEqual(coordinator.listGroups(['Dead']), []);
});

void test('close answers parked joins and syncs with COORDINATOR_NOT_AVAILABLE', async (t) => {
  const { coordinator } = await openCoordinator(t);
  const { ids, generationId } = await stableGroup(coordinator, ['a', 'b']);
  const [a] = ids;
  assert.ok(a);
  const parked = coordinator.join(joinRequest({ memberId: a }));
  await coordinator.close();
  assert.equal((await parked).errorCode, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(coordinator.heartbeat(GROUP, generationId, a, null), KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
  const commit = await coordinator.commitOffsets(GROUP, generationId, a, [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }]);
  assert.equal(commit[0]?.errorCode, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
});
