// Public face of the consumer group coordinator and its committed-offset store.
export { GroupCoordinator, defaultGroupConfig } from './coordinator.ts';
export { GroupState } from './group.ts';
export { realClock } from './clock.ts';
export {
  OffsetStore,
  OFFSETS_FILE_NAME,
  type CommittedOffset,
  type OffsetStoreOptions,
  type StoredOffset,
} from './offset-store.ts';
export type {
  Clock,
  GroupConfig,
  GroupDescription,
  GroupListing,
  JoinRequest,
  JoinResult,
  JoinResultMember,
  LeaveMember,
  LeaveResult,
  OffsetCommitEntry,
  OffsetCommitResult,
  OffsetFetchResult,
  SyncRequest,
  SyncResult,
} from './types.ts';
