// The body of a stream thread (see thread.ts): load the configuration, start the dataset's worker, report, stop when told.
import { parentPort, workerData } from 'node:worker_threads';
import { OxbowError } from '../errors.ts';
import { loadThreadDataset, STREAM_THREAD_REPORT_MS, type StreamThreadInput, type StreamThreadMessage } from './thread.ts';
import { StreamWorker } from './worker.ts';

const port = parentPort!;
const input = workerData as StreamThreadInput;
const send = (m: StreamThreadMessage) => port.postMessage(m);

async function main(): Promise<void> {
  let worker: StreamWorker;
  try {
    const dataset = await loadThreadDataset(input);
    worker = await StreamWorker.start({ ...input.options, dataset, log: (line) => send({ type: 'log', line }) });
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
