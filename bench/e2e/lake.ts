// `oxbow up` as the end-to-end benchmark runs it: a child process on free ports, its endpoints read from what it
// prints, its status lines kept, SQL over its HTTP endpoint, and a clean stop with the stream's final counters.
import path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnNode, stopChild, type Spawned } from '../sink/children.ts';
import { wallMs } from '../broker/stats.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const OXBOW_BIN = path.join(ROOT, 'bin', 'oxbow.js');

/** The stream worker's counters as `oxbow up` prints them when it stops. */
export type StreamTotals = { recordsIn: number; processed: number; filtered: number; deadLettered: number };

export type QueryResult = { rows: unknown[][]; ms: number };

/** Log lines worth showing while the benchmark runs: a problem, not a routine commit or assignment. */
const PROBLEM = /error|fail|bug|cannot|could not|retr|timed out|warning/i;

export class Lake {
  readonly kafka: string;
  readonly http: string;
  readonly pid: number;
  /** The last status line `oxbow up` printed (records in, processed, filtered, dead, lag, files), without the time. */
  lastStatus = '';
  /** Problem lines from its log, the first 20. */
  readonly problems: string[] = [];
  private readonly spawned: Spawned;
  private stopped: StreamTotals | null = null;
  /** Resolves once the child's output is all read ('close' comes after 'exit' and the last stderr line). */
  private readonly closed: Promise<void>;

  private constructor(spawned: Spawned, kafka: string, http: string) {
    this.spawned = spawned;
    this.pid = spawned.pid;
    this.kafka = kafka;
    this.http = http;
    this.closed = new Promise((resolve) => spawned.child.once('close', () => resolve()));
    createInterface({ input: spawned.child.stderr! }).on('line', (line) => this.onLogLine(line));
  }

  /** Starts `oxbow up` on `dataDir` with `configFile`, every port free, a status line every `statusEvery`. */
  static async start(dataDir: string, configFile: string, statusEvery: string): Promise<Lake> {
    const args = [OXBOW_BIN, 'up', '--data-dir', dataDir, '--config', configFile, '--kafka-port', '0', '--http-port', '0', '--pg-port', '0', '--status-every', statusEvery];
    const spawned = spawnNode(args, 'oxbow up');
    const printed: string[] = [];
    try {
      for (;;) {
        const line = await spawned.nextLine(60_000);
        printed.push(line);
        if (line === 'Press Ctrl-C to stop.') break;
      }
    } catch (err) {
      await stopChild(spawned.child, 5000);
      throw err;
    }
    const text = printed.join('\n');
    const kafka = /^ {2}kafka {4}(\S+)/m.exec(text)?.[1];
    const http = /^ {2}http {5}(\S+)/m.exec(text)?.[1];
    if (kafka === undefined || http === undefined) {
      await stopChild(spawned.child, 5000);
      throw new Error(`oxbow up printed no kafka or http endpoint:\n${text}\n${spawned.stderr()}`);
    }
    return new Lake(spawned, kafka, http);
  }

  private onLogLine(line: string): void {
    const status = / status: (.*)$/.exec(line);
    if (status) {
      this.lastStatus = status[1]!;
      return;
    }
    const stopped = /stream events: stopped: (\d+) in, (\d+) processed, (\d+) filtered, (\d+) dead-lettered/.exec(line);
    if (stopped) {
      const [recordsIn, processed, filtered, deadLettered] = stopped.slice(1).map(Number) as [number, number, number, number];
      this.stopped = { recordsIn, processed, filtered, deadLettered };
      return;
    }
    if (PROBLEM.test(line) && this.problems.length < 20) {
      this.problems.push(line);
      process.stderr.write(`  [oxbow up] ${line}\n`);
    }
  }

  /** The raw topic's lag in the last status line, or null. */
  get lag(): number | null {
    const m = /lag ([\d,]+)/.exec(this.lastStatus);
    return m ? Number(m[1]!.replaceAll(',', '')) : null;
  }

  /** Runs `sql` through POST /v1/sql; rejects with the endpoint's error code and message. */
  async query(sql: string, timeoutMs = 60_000): Promise<QueryResult> {
    const started = wallMs();
    const res = await fetch(this.http, { method: 'POST', body: JSON.stringify({ sql }), signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { rows?: unknown[][]; error?: { code: string; message: string } };
    if (body.rows === undefined) throw new Error(`${body.error?.code ?? res.status}: ${body.error?.message ?? 'no rows'}`);
    return { rows: body.rows, ms: wallMs() - started };
  }

  /** SIGTERM (workers and sinks commit what they hold), SIGKILL after `graceMs`; the stream's final counters. */
  async stop(graceMs: number): Promise<{ exitCode: number | null; totals: StreamTotals | null; stderrTail: string }> {
    await stopChild(this.spawned.child, graceMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    return { exitCode: this.spawned.child.exitCode, totals: this.stopped, stderrTail: this.spawned.stderr() };
  }
}
