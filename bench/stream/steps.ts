// The steps alone: microseconds per record of the stream benchmark's pipeline (parse, validate, one enrich function,
// one lookup, the output check and the JSON of the output) on one thread, with no Kafka, no threads and no I/O. The
// figure to watch when changing the per-record engine: the runs of one invocation agree within a few percent, where
// records/s through the broker share two cores with the broker, the client and the garbage collector. The machine's
// speed still moves it between invocations, so compare two builds in alternating invocations.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compilePipeline, resolveDatasets, type SourceRecord } from '../../src/stream/index.ts';
import { fmt, median, wholeNumber } from '../broker/stats.ts';
import { scratchDir } from '../scratch.ts';
import { orderDataset, orderRecord, writeCountriesCsv } from './records.ts';

const USAGE = `Usage: node bench/stream/steps.ts [options]

Runs the stream benchmark's records through its compiled pipeline on this thread, as a step thread does, and prints
microseconds per record for each run (after one untimed warm-up run) and their median.

  --records <n>       records per run (default 200000)
  --record-bytes <n>  bytes of each JSON value (default 300)
  --runs <n>          timed runs (default 5)
  --countries <n>     rows of the lookup table (default 200)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'record-bytes': { type: 'string' },
      runs: { type: 'string' },
      countries: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const records = wholeNumber('records', values.records, 200_000);
  const recordBytes = wholeNumber('record-bytes', values['record-bytes'], 300);
  const runs = wholeNumber('runs', values.runs, 5);
  const countries = wholeNumber('countries', values.countries, 200);
  const scratch = scratchDir(os.tmpdir(), 'oxbow-bench-steps-');
  try {
    const csv = path.join(scratch.dir, 'countries.csv');
    writeCountriesCsv(csv, countries);
    const resolved = resolveDatasets({ bench: orderDataset({ raw: 'bench.raw', processed: 'bench.processed', dlq: 'bench.dlq' }, csv) });
    if (!resolved.ok) throw new Error(`the benchmark's dataset is invalid: ${JSON.stringify(resolved.problems)}`);
    const pipeline = await compilePipeline(resolved.datasets.bench!);
    // Distinct records, as a topic holds them; 4096 of them cycle, so the run measures the steps, not the making of input.
    const sources: SourceRecord[] = Array.from({ length: 4096 }, (_, i) => ({
      key: Buffer.from(`ord-${i}`),
      value: orderRecord(i, countries, recordBytes),
      headers: [],
      topic: 'bench.raw',
      partition: i % 4,
      offset: i,
      timestamp: Date.now(),
    }));
    // A lookup step looks at its file once a second (reloadCheckMs), and that record's outcome comes as a promise.
    const once = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      let bytes = 0;
      for (let i = 0; i < records; i++) {
        const returned = pipeline.processText(sources[i & 4095]!);
        const outcome = returned instanceof Promise ? await returned : returned;
        if (outcome.kind !== 'processed') throw new Error(`record ${i} was not processed: ${JSON.stringify(outcome)}`);
        bytes += outcome.json.length;
      }
      if (bytes === 0) throw new Error('no output');
      return Number(process.hrtime.bigint() - started) / 1000 / records;
    };
    await once();
    const figures: number[] = [];
    for (let r = 0; r < runs; r++) figures.push(await once());
    process.stdout.write(
      `steps of the stream benchmark on one thread, ${fmt(records)} records of ${recordBytes} B per run, Node ${process.versions.node}\n` +
        `  µs/record per run: ${figures.map((f) => fmt(f, 2)).join(', ')}; median ${fmt(median(figures), 2)} (${fmt(1e6 / median(figures))} records/s)\n`,
    );
    return 0;
  } finally {
    scratch.release();
  }
}

process.exitCode = await main();
