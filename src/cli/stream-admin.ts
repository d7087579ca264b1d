// `oxbow stream replay|status`: move a dataset's stream group back in its raw topic, and show how far the workers are.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { loadConfig, type OxbowConfig } from '../config/index.ts';
import {
  committedOffsets,
  describeGroup,
  logRanges,
  parseReplayFrom,
  replayDataset,
  streamGroupId,
  topicPartitions,
  NO_OFFSET,
  StreamErrorCode,
  type ResolvedDataset,
  type StreamAdmin,
} from '../stream/index.ts';
import { parse, usageError } from './args.ts';
import { bootstrapBrokers, CLIENT_FLAGS, CLIENT_USAGE, kafkaFailure } from './client.ts';

export const STREAM_ADMIN_USAGE = `  replay <dataset> --from <where>
                        move the committed offsets of group oxbow.stream.<dataset> on its raw topic, so workers
                        read again from there; <where> is "earliest", an ISO time (2024-05-01T10:00:00Z: the first
                        record at or after it) or an offset (for every partition, clamped to the log).
                        Stop the dataset's workers first: Kafka refuses to move the offsets of an active group.
  status [<dataset>]    per partition: committed offset, end offset and lag; the group's state and members; and the
                        counters of each worker from its status file (stale when not updated for 10 s)`;

const USAGE = `Usage: oxbow stream <replay|status> [dataset] [options]

${STREAM_ADMIN_USAGE}
${CLIENT_USAGE}`;

/** A status file not rewritten for this long belongs to a worker that stopped or hangs. */
export const STALE_STATUS_MS = 10_000;

export async function streamAdmin(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_FLAGS, from: { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [action, ...names] = positionals;
  if (action !== 'replay' && action !== 'status') throw usageError(action === undefined ? 'stream needs an action' : `unknown stream action "${action}"`, USAGE);
  if (action === 'replay') {
    if (names.length !== 1) throw usageError('stream replay needs exactly one dataset', USAGE);
    if (typeof values.from !== 'string') throw usageError('stream replay needs --from earliest|<ISO time>|<offset>', USAGE);
  } else {
    if (names.length > 1) throw usageError('stream status takes at most one dataset', USAGE);
    if (values.from !== undefined) throw usageError('--from applies to stream replay only', USAGE);
  }
  const from = typeof values.from === 'string' ? parseReplayFrom(values.from) : null;
  if (action === 'replay' && from === null) {
    throw usageError(`--from: ${JSON.stringify(values.from)} is not allowed; expected "earliest", an ISO 8601 time such as 2024-05-01T10:00:00Z, or an offset`, USAGE);
  }
  const config = await loadConfig({ file: values.config as string | undefined });
  const datasets = selectDatasets(config, names[0]);
  const { brokers, clientId } = await bootstrapBrokers(values);
  const admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, retries: 2 });
  try {
    if (action === 'replay') {
      const result = await replayDataset(admin, datasets[0]!, from!);
      process.stdout.write(`replayed ${result.topic} for group ${result.groupId}:\n`);
      for (const m of result.moves) {
        const old = m.from === NO_OFFSET ? 'none' : String(m.from);
        process.stdout.write(`  partition ${m.partition}\t${old} → ${m.to}${m.note === null ? '' : `\t(${m.note})`}\n`);
      }
      if (result.moves.length === 0) process.stdout.write('  (the topic has no partitions)\n');
      return 0;
    }
    const now = Date.now();
    const sections: string[] = [];
    for (const d of datasets) sections.push(await datasetStatus(admin, d, path.resolve(config.stream.stateDir), now));
    process.stdout.write(sections.join('\n'));
    return 0;
  } catch (err) {
    throw kafkaFailure(err);
  } finally {
    await admin.close();
  }
}

/** The datasets a command is about: the one named (it must be configured), else all of them. */
export function selectDatasets(config: OxbowConfig, name: string | undefined): ResolvedDataset[] {
  const all = Object.values(config.datasets);
  if (all.length === 0) throw usageError('no datasets are configured; declare them in oxbow.config.ts (defineLake({ datasets: {...} })) or pass --config');
  if (name === undefined) return all;
  const d = config.datasets[name];
  if (!d) throw usageError(`unknown dataset "${name}"; configured: ${Object.keys(config.datasets).join(', ')}`);
  return [d];
}

/** Lines of text as columns, each as wide as its widest cell. */
export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n') + '\n';
}

type WorkerStatus = {
  workerId?: unknown;
  pid?: unknown;
  startedAt?: unknown;
  updatedAt?: unknown;
  assignments?: { topic?: unknown; partitions?: unknown }[];
  counters?: { recordsIn?: unknown; processed?: unknown; filtered?: Record<string, unknown>; deadLettered?: Record<string, unknown> };
};

async function readStatusFiles(dir: string): Promise<{ file: string; status: WorkerStatus | null; problem: string | null }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      try {
        const status = JSON.parse(await readFile(file, 'utf8')) as unknown;
        if (typeof status !== 'object' || status === null) return { file, status: null, problem: 'not a JSON object' };
        return { file, status: status as WorkerStatus, problem: null };
      } catch (err) {
        // A worker replaces its file atomically, so this is a file from something else, or a damaged one.
        return { file, status: null, problem: (err as Error).message };
      }
    }),
  );
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const sum = (o: Record<string, unknown> | undefined) => Object.values(o ?? {}).reduce<number>((n, v) => n + num(v), 0);
const breakdown = (o: Record<string, unknown> | undefined) =>
  Object.entries(o ?? {})
    .filter(([, v]) => num(v) > 0)
    .map(([k, v]) => `${k}=${num(v)}`)
    .join(' ');

function ago(ms: number): string {
  if (ms < 0) return 'now';
  if (ms < 120_000) return `${Math.round(ms / 1000)}s ago`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m ago`;
  return `${Math.round(ms / 3_600_000)}h ago`;
}

/**
 * One dataset's section, e.g.
 *   orders: raw orders.raw, group oxbow.stream.orders Stable with 1 member(s)
 *     partition  committed  end  lag  member
 *     0          40         42   2    oxbow-stream-w1@/127.0.0.1
 *   workers (data/stream/orders):
 *     worker  pid   updated  state  in   processed  filtered  dead-lettered  partitions
 *     w1      4242  1s ago   live   42   38         2         2              orders.raw:0
 */
async function datasetStatus(admin: StreamAdmin, d: ResolvedDataset, stateDir: string, now: number): Promise<string> {
  const groupId = streamGroupId(d.name);
  const topic = d.topics.raw;
  let out = '';
  let partitions: number[];
  try {
    partitions = await topicPartitions(admin, topic);
  } catch (err) {
    if ((err as { code?: unknown }).code !== StreamErrorCode.UNKNOWN_TOPIC) throw err;
    partitions = [];
    out += `${d.name}: raw topic ${topic} does not exist yet\n`;
  }
  if (partitions.length > 0) {
    const [group, ranges, committed] = await Promise.all([describeGroup(admin, groupId, topic), logRanges(admin, topic, partitions), committedOffsets(admin, groupId, topic, partitions)]);
    out += `${d.name}: raw ${topic}, group ${groupId} ${group.state} with ${group.members.length} member(s)\n`;
    const owner = new Map<number, string>();
    for (const m of group.members) for (const p of m.partitions) owner.set(p, `${m.clientId}@${m.clientHost}`);
    const rows = [['partition', 'committed', 'end', 'lag', 'member']];
    let totalLag = 0n;
    for (const p of partitions) {
      const range = ranges.get(p) ?? { start: 0n, end: 0n };
      const c = committed.get(p) ?? NO_OFFSET;
      // With nothing committed, a worker starts at the log start: everything in the log is still to do.
      const lag = range.end - (c === NO_OFFSET ? range.start : c > range.end ? range.end : c < range.start ? range.start : c);
      totalLag += lag;
      rows.push([String(p), c === NO_OFFSET ? 'none' : String(c), String(range.end), String(lag), owner.get(p) ?? '-']);
    }
    out += table(rows);
    out += `  total lag ${totalLag}\n`;
  }
  const dir = path.join(stateDir, d.name);
  const files = await readStatusFiles(dir);
  if (files.length === 0) {
    out += `  no worker status files in ${dir}\n`;
    return out;
  }
  out += `  workers (status files in ${dir}):\n`;
  const rows = [['worker', 'pid', 'updated', 'state', 'in', 'processed', 'filtered', 'dead-lettered', 'partitions']];
  const details: string[] = [];
  for (const { file, status, problem } of files) {
    if (status === null) {
      rows.push([path.basename(file, '.json'), '-', '-', `unreadable: ${problem ?? ''}`, '', '', '', '', '']);
      continue;
    }
    const updated = typeof status.updatedAt === 'string' ? Date.parse(status.updatedAt) : NaN;
    const age = Number.isFinite(updated) ? now - updated : Infinity;
    const c = status.counters ?? {};
    const assigned = (status.assignments ?? [])
      .map((a) => `${String(a.topic)}:${Array.isArray(a.partitions) ? a.partitions.join(',') : ''}`)
      .join(' ');
    const id = typeof status.workerId === 'string' ? status.workerId : path.basename(file, '.json');
    rows.push([
      id,
      String(status.pid ?? '-'),
      Number.isFinite(age) ? ago(age) : 'unknown',
      age > STALE_STATUS_MS ? 'stale' : 'live',
      String(num(c.recordsIn)),
      String(num(c.processed)),
      String(sum(c.filtered)),
      String(sum(c.deadLettered)),
      assigned || '-',
    ]);
    const f = breakdown(c.filtered);
    const dl = breakdown(c.deadLettered);
    if (f) details.push(`    ${id} filtered: ${f}`);
    if (dl) details.push(`    ${id} dead-lettered: ${dl}`);
  }
  out += table(rows, '    ');
  if (details.length > 0) out += `${details.join('\n')}\n`;
  return out;
}
