// The body of a sink thread (see thread.ts): start the sink, report, stop when told.
import { parentPort, workerData } from 'node:worker_threads';
import type { OxbowConfig } from '../config/index.ts';
import { OxbowError } from '../errors.ts';
import { openObjectStore } from '../storage/index.ts';
import type { ResolvedDataset } from '../stream/index.ts';
import { startSinkFromConfig } from './from-config.ts';
import type { SinkThreadInput, SinkThreadMessage } from './thread.ts';

const port = parentPort!;
const input = workerData as SinkThreadInput;
const send = (m: SinkThreadMessage) => port.postMessage(m);

async function main(): Promise<void> {
  const dataset = { ...input.dataset, rawSchema: null, steps: [] } as unknown as ResolvedDataset;
  const config = { ...input.config, datasets: { [dataset.name]: dataset } } as OxbowConfig;
  let store;
  let sink;
  try {
    store = await openObjectStore(input.storageUrl);
    sink = await startSinkFromConfig({
      config,
      dataset,
      brokers: input.brokers,
      store,
      workDir: input.workDir,
      log: (line) => send({ type: 'log', line }),
      onCommit: () => send({ type: 'commit', counters: structuredClone(sink!.counters) }),
    });
  } catch (err) {
    await store?.close();
    send({ type: 'failed', code: err instanceof OxbowError ? err.code : 'OXBOW_SINK_START_FAILED', message: (err as Error).message });
    port.close();
    return;
  }
  send({ type: 'started', groupId: sink.groupId, storeUrl: store.url });
  const timer = setInterval(() => send({ type: 'counters', counters: structuredClone(sink.counters) }), 500);
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'close') return;
    clearInterval(timer);
    void (async () => {
      await sink.close();
      await store.close();
      send({ type: 'closed', counters: structuredClone(sink.counters) });
      port.close();
    })();
  });
}

void main();
