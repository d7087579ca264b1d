// The body of a step thread (see step-pool.ts): load the configuration, compile the dataset's pipeline, then run the
// slices of records it is sent and send their outcomes back, until told to close.
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../config/index.ts';
import { describeError } from '../async.ts';
import { OxbowError } from '../errors.ts';
import { DeadLetterCode } from './errors.ts';
import { compilePipeline, type Outcome, type Pipeline, type SourceRecord } from './pipeline.ts';
import { decodeJob, encodeResult, type StepJob } from './step-batch.ts';
import type { StepThreadInput, StepThreadMessage } from './step-pool.ts';

const port = parentPort!;
const input = workerData as StepThreadInput;
const send = (m: StepThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** An exception out of the pipeline is a bug in Oxbow; the record becomes a dead letter instead of being lost. */
function bug(err: unknown, source: SourceRecord): Outcome {
  send({ type: 'log', line: `bug: the pipeline threw for ${source.topic}/${source.partition}@${source.offset}: ${describeError(err)}` });
  return { kind: 'dead-letter', code: DeadLetterCode.STEP_FAILED, message: `internal error in the stream job: ${describeError(err)}`, step: 'runtime' };
}

async function run(pipeline: Pipeline, job: StepJob): Promise<void> {
  const sources = decodeJob(job);
  const outcomes = new Array<Outcome>(sources.length);
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i]!;
    try {
      const outcome = pipeline.processNow(source);
      outcomes[i] = outcome instanceof Promise ? await outcome.catch((err: unknown) => bug(err, source)) : outcome;
    } catch (err) {
      outcomes[i] = bug(err, source);
    }
  }
  const { result, transfer } = encodeResult(job.id, outcomes);
  send({ type: 'result', result }, transfer);
}

async function main(): Promise<void> {
  let pipeline: Pipeline;
  try {
    const config = await loadConfig({ file: input.configFile, cwd: input.cwd });
    const dataset = config.datasets[input.dataset];
    if (dataset === undefined) throw new OxbowError('OXBOW_STREAM_START_FAILED', `dataset ${input.dataset} is no longer declared in the configuration`);
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
