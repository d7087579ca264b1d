// The body of a step thread (see step-pool.ts): load the configuration, compile the dataset's pipeline, then run the
// slices of records it is sent and send their outcomes back, until told to close.
import { parentPort, workerData } from 'node:worker_threads';
import { OxbowError } from '../errors.ts';
import { compilePipeline, processTextGuarded, type Pipeline, type TextOutcome } from './pipeline.ts';
import { decodeJob, encodeResult, type StepJob } from './step-batch.ts';
import type { StepThreadInput, StepThreadMessage } from './step-pool.ts';
import { loadThreadDataset } from './thread.ts';

const port = parentPort!;
const input = workerData as StepThreadInput;
const send = (m: StepThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function run(pipeline: Pipeline, job: StepJob): Promise<void> {
  const sources = decodeJob(job);
  const outcomes = new Array<TextOutcome>(sources.length);
  const log = (line: string) => send({ type: 'log', line });
  for (let i = 0; i < sources.length; i++) {
    const outcome = processTextGuarded(pipeline, sources[i]!, log);
    outcomes[i] = outcome instanceof Promise ? await outcome : outcome;
  }
  // The job's data goes back to be packed into again. Every outcome is in; only an enrich function that timed out and
  // still runs may hold a record's key, which then reads as empty (its result is no longer used).
  const { result, transfer } = encodeResult(job.id, outcomes, job.data.buffer as ArrayBuffer, job.replyInto);
  send({ type: 'result', result }, transfer);
}

async function main(): Promise<void> {
  let pipeline: Pipeline;
  try {
    const dataset = await loadThreadDataset(input);
    pipeline = await compilePipeline(dataset, { onWarning: (w) => send({ type: 'log', line: `warning: ${w.message}` }) });
  } catch (err) {
    send({ type: 'failed', code: err instanceof OxbowError ? err.code : 'OXBOW_STREAM_START_FAILED', message: (err as Error).message });
    port.close();
    return;
  }
  port.on('message', (m: { type: 'job'; job: StepJob } | { type: 'close' }) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    void run(pipeline, m.job);
  });
  send({ type: 'started' });
}

void main();
