// Every API the broker answers; ApiVersions advertises exactly this list.
import { createPartitionsHandler, createTopicsHandler, deleteTopicsHandler, describeConfigsHandler, initProducerIdHandler, offsetForLeaderEpochHandler } from './admin.ts';
import { apiVersionsHandler } from './api-versions.ts';
import type { HandlerEntry } from './context.ts';
import { fetchHandler } from './fetch.ts';
import {
  describeGroupsHandler, findCoordinatorHandler, heartbeatHandler, joinGroupHandler, leaveGroupHandler, listGroupsHandler,
  offsetCommitHandler, offsetFetchHandler, syncGroupHandler,
} from './groups.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { metadataHandler } from './metadata.ts';
import { produceHandler } from './produce.ts';

export const HANDLERS: readonly HandlerEntry[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  syncGroupHandler,
  describeGroupsHandler,
  listGroupsHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  initProducerIdHandler,
  offsetForLeaderEpochHandler,
  describeConfigsHandler,
  createPartitionsHandler,
];
