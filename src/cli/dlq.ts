// `oxbow dlq inspect|redrive`: what is in a dataset's dead-letter topic, and sending dead letters back to its raw topic.
import { Admin } from '@platformatic/kafka';
import { loadConfig } from '../config/index.ts';
import { inspectDeadLetters, redriveDeadLetters, type InspectResult } from '../stream/index.ts';
import { intFlag, parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE, kafkaFailure } from './client.ts';
import { selectDatasets } from './stream-admin.ts';

const USAGE = `Usage: oxbow dlq <inspect|redrive> <dataset> [options]

  inspect <dataset>     read the dataset's dead-letter topic from the beginning (committing nothing) and print the
                        dead letters counted by error code, with the step and up to 3 samples of each code
  redrive <dataset>     send dead letters back to the raw topic with their original key, value and headers (the
                        oxbow.* headers removed); progress is committed under group oxbow.dlq-redrive.<dataset>, so a
                        second redrive sends only dead letters that arrived since
  --code <code>         redrive only dead letters with this oxbow.error.code, e.g. OXBOW_STREAM_LOOKUP_MISS
  -n, --max <n>         inspect: read at most <n> dead letters; redrive: send at most <n>
${CLIENT_USAGE}`;

/** Longest sample value or message printed by inspect, in characters; longer ones end with "…". */
const SAMPLE_CHARS = 160;

export async function dlq(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_FLAGS, code: { type: 'string' }, max: { type: 'string', short: 'n' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [action, ...names] = positionals;
  if (action !== 'inspect' && action !== 'redrive') throw usageError(action === undefined ? 'dlq needs an action: inspect or redrive' : `unknown dlq action "${action}"`, USAGE);
  if (names.length !== 1) throw usageError(`dlq ${action} needs exactly one dataset`, USAGE);
  const max = intFlag('max', values.max, 1, Number.MAX_SAFE_INTEGER);
  const code = values.code as string | undefined;
  if (code !== undefined && action !== 'redrive') throw usageError('--code applies to dlq redrive only', USAGE);
  if (code !== undefined && !/^[A-Za-z0-9_.-]+$/.test(code)) throw usageError(`--code: ${JSON.stringify(code)} is not allowed; expected an error code such as OXBOW_STREAM_LOOKUP_MISS`);
  const config = await loadConfig({ file: values.config as string | undefined });
  const dataset = selectDatasets(config, names[0])[0]!;
  const { brokers, clientId } = await bootstrapBrokers(values);
  const clients = { bootstrapBrokers: brokers, clientId };
  const admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, retries: 2 });
  try {
    if (action === 'inspect') {
      process.stdout.write(formatInspect(await inspectDeadLetters(admin, clients, dataset, { max })));
      return 0;
    }
    const r = await redriveDeadLetters(admin, clients, dataset, { code, max });
    const total = [...r.sent.values()].reduce((n, v) => n + v, 0);
    process.stdout.write(`redrove ${total} dead letter(s) from ${r.dlqTopic} to ${r.rawTopic}${code === undefined ? '' : ` (code ${code})`}\n`);
    for (const [c, n] of [...r.sent].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) process.stdout.write(`  ${c}\t${n}\n`);
    if (r.skipped > 0) process.stdout.write(`  skipped ${r.skipped}: ${code === undefined ? 'already sent by redrive --code' : 'other codes'}\n`);
    process.stdout.write(`progress committed under group ${r.groupId}\n`);
    if (!r.complete) process.stderr.write('stopped early: no record arrived for a while before the end of the topic; run redrive again to go on\n');
    return 0;
  } catch (err) {
    throw kafkaFailure(err);
  } finally {
    await admin.close();
  }
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  return oneLine.length > SAMPLE_CHARS ? `${oneLine.slice(0, SAMPLE_CHARS - 1)}…` : oneLine;
}

function showValue(value: Buffer | null): string {
  if (value === null) return '(null)';
  try {
    return shorten(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch {
    return `(${value.length} bytes, not UTF-8) ${shorten(value.subarray(0, SAMPLE_CHARS / 2).toString('hex'))}`;
  }
}

/**
 * e.g.
 *   orders.dlq: 7 dead letter(s), 7 read
 *
 *   OXBOW_STREAM_INVALID_JSON  4  step parse
 *     partition 0 offset 3  Unexpected token 'x', "x" is not valid JSON
 *       value: x
 */
function formatInspect(r: InspectResult): string {
  let out = `${r.topic}: ${r.total} dead letter(s), ${r.read} read${r.complete ? '' : ' (stopped early: no record arrived for a while)'}\n`;
  if (r.codes.length === 0) return `${out}no dead letters\n`;
  const width = Math.max(...r.codes.map((c) => c.code.length));
  for (const c of r.codes) {
    const steps = [...c.steps].map(([s, n]) => (c.steps.size === 1 ? s : `${s} (${n})`)).join(', ');
    out += `\n${c.code.padEnd(width)}  ${c.count}  step ${steps}\n`;
    for (const s of c.samples) {
      out += `  partition ${s.partition} offset ${s.offset}  ${s.message === null ? '(no message)' : shorten(s.message)}\n`;
      out += `    value: ${showValue(s.value)}\n`;
    }
  }
  return out;
}
