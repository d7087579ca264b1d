// The body of a stream thread (see thread.ts): load the configuration, start the dataset's worker, report, stop when told.
import { parentPort, workerData } from 'node:worker_threads';
import { OxbowError } from '../errors.ts';
import { loadThreadDataset, STREAM_THREAD_REPORT_MS, type StreamThreadInput, type StreamThreadMessage } from './thread.ts';
import type { ResolvedDataset } from './dataset.ts';
import { StepPool } from './step-pool.ts';
import { StreamWorker } from './worker.ts';

const port = parentPort!;
const input = workerData as StreamThreadInput;
const send = (m: StreamThreadMessage) => port.postMessage(m);

async function main(): Promise<void> {
  let worker: StreamWorker;
  const log = (line: string) => send({ type: 'log', line });
  // The step threads start now, on their own cores, while this thread loads the configuration and the Kafka client.
  const { stepThreads = 0, configSource = null } = input.options;
  const steps = stepThreads > 0 && configSource !== null ? StepPool.start({ threads: stepThreads, configFile: configSource.configFile, cwd: configSource.cwd, dataset: input.dataset, log }) : null;
  steps?.catch(() => undefined);
  try {
    let dataset: ResolvedDataset;
    try {
      dataset = await loadThreadDataset(input);
    } catch (err) {
      await steps?.then((pool) => pool.close(), () => undefined);
      throw err;
    }
    worker = await StreamWorker.start({ ...input.options, dataset, stepPool: steps, log });
  } catch (err) {
    send({ type: 'failed', code: err instanceof OxbowError ? err.code : 'OXBOW_STREAM_START_FAILED', message: (err as Error).message });
    port.close();
    return;
  }
  send({ type: 'started', workerId: worker.workerId, groupId: worker.groupId, dataset: { name: worker.dataset.name, topics: worker.dataset.topics }, status: worker.status() });
  const timer = setInterval(() => send({ type: 'status', status: worker.status() }), STREAM_THREAD_REPORT_MS);
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'close') return;
    clearInterval(timer);
    void (async () => {
      await worker.close();
      send({ type: 'closed', status: worker.status() });
      port.close();
    })();
  });
}

void main();
