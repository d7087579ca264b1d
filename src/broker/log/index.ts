// The partition log's public face: what the broker's request handlers and topic store use.
export { PartitionLog } from './partition-log.ts';
export type { AppendResult, Clock, FsyncPolicy, LogConfig, ReadResult } from './partition-log.ts';
