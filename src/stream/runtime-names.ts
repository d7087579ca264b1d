// Names shared by stream workers and the tools that watch them: the consumer group and the status file of a worker.
import path from 'node:path';

/** The consumer group every stream worker of `dataset` joins; committed offsets of this group are the job's progress. */
export function streamGroupId(dataset: string): string {
  return `oxbow.stream.${dataset}`;
}

/** Where a worker writes its status every second: `<stateDir>/<dataset>/<workerId>.json`. */
export function streamStatusPath(stateDir: string, dataset: string, workerId: string): string {
  return path.join(stateDir, dataset, `${workerId}.json`);
}
