// Child processes of the sink benchmark: the broker and the measured sink runs, read line by line, killed at the end.
// The same patterns as bench/stream/run.ts, which keeps its own copies inside its script.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const OXBOW_BIN = path.join(ROOT, 'bin', 'oxbow.js');

const children = new Set<ChildProcess>();

/** Kills every child still running; for the end of the run and for signals. */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

export type Spawned = {
  child: ChildProcess;
  pid: number;
  /** The last 8 KiB of the child's stderr, for error messages. */
  stderr: () => string;
  /** The next line of the child's stdout; rejects when the child exits first or the time is up. */
  nextLine: (timeoutMs: number) => Promise<string>;
};

/**
 * Starts `node <args>` in the repository root. With `forwardPrefix`, each stderr line is also written to this
 * process's stderr behind that prefix (progress of long runs).
 */
export function spawnNode(args: string[], what: string, forwardPrefix: string | null = null): Spawned {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let err = '';
  const stderr = () => err;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    err = `${err}${line}\n`.slice(-8192);
    if (forwardPrefix !== null) process.stderr.write(`${forwardPrefix}${line}\n`);
  });
  const queued: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queued.push(line);
  });
  const nextLine = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const line = queued.shift();
      if (line !== undefined) return resolve(line);
      const timer = setTimeout(() => fail(new Error(`${what}: no output line after ${timeoutMs} ms\n${stderr()}`)), timeoutMs);
      const onExit = (code: number | null) => fail(new Error(`${what} exited with ${code}\n${stderr()}`));
      function fail(e: Error) {
        clearTimeout(timer);
        child.off('exit', onExit);
        const i = waiters.indexOf(take);
        if (i >= 0) waiters.splice(i, 1);
        reject(e);
      }
      function take(l: string) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(l);
      }
      waiters.push(take);
      child.once('exit', onExit);
    });
  if (child.pid === undefined) throw new Error(`${what} could not be started`);
  return { child, pid: child.pid, stderr, nextLine };
}

export type BrokerProcess = { child: ChildProcess; pid: number; address: string };

/** `oxbow broker --port 0` on `dataDir`; resolves with the address it printed. */
export async function startBroker(dataDir: string): Promise<BrokerProcess> {
  const { child, pid, stderr, nextLine } = spawnNode([OXBOW_BIN, 'broker', '--port', '0', '--data-dir', dataDir], 'oxbow broker');
  for (let i = 0; i < 20; i++) {
    const m = /^listening on (\S+)$/.exec(await nextLine(30_000));
    if (m) return { child, pid, address: m[1]! };
  }
  throw new Error(`oxbow broker printed no "listening on" line\n${stderr()}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Waits up to `timeoutMs` for the child to exit by itself, then stops it. */
export async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([once(child, 'exit'), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  await stopChild(child, 10_000);
}
