// Test helpers that start real brokers: in this process on port 0, or as a separate `oxbow broker` process
// (for crash tests), each in a temporary data directory removed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { Broker } from '../../src/broker/index.ts';
import { resolveConfig, type OxbowConfigInput } from '../../src/config/index.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const OXBOW_BIN = path.join(ROOT, 'bin', 'oxbow.js');

const stacks = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Registers cleanup that runs when the test ends, last registered first (clients close before the broker they use,
 * the broker before its directory is removed).
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const fresh: (() => unknown)[] = [];
    stacks.set(t, fresh);
    stack = fresh;
    t.after(async () => {
      for (const f of fresh.reverse()) {
        try {
          await f();
        } catch {
          // cleanup of one resource must not skip the others
        }
      }
    });
  }
  stack.push(fn);
}

export async function tempDir(t: TestContext, prefix = 'oxbow-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

export type TestBroker = { broker: Broker; address: string; dataDir: string; logs: string[] };

/** An in-process broker on a free port with its own data directory; closed after the test. */
export async function startBroker(t: TestContext, broker: OxbowConfigInput['broker'] = {}, dataDir?: string): Promise<TestBroker> {
  const dir = dataDir ?? (await tempDir(t));
  const logs: string[] = [];
  const config = resolveConfig({ broker: { port: 0, dataDir: dir, fsync: 'os', ...broker } });
  const b = await Broker.start(config.broker, { log: (line) => logs.push(line) });
  defer(t, () => b.close());
  return { broker: b, address: b.address, dataDir: dir, logs };
}

export type BrokerProcess = { child: ChildProcess; address: string; port: number; output: () => string; exited: Promise<number | null> };

/** `oxbow broker` as a child process; resolves once it prints "listening on". */
export async function spawnBroker(t: TestContext, args: string[], options: { ownProcessGroup?: boolean } = {}): Promise<BrokerProcess> {
  const child = spawn(process.execPath, [OXBOW_BIN, 'broker', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownProcessGroup ?? false });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within 20 s; output:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening; output:\n${out}`));
    });
  });
  return { child, address, port: Number(address.split(':')[1]), output: () => out, exited };
}

/** Runs a command to completion, collecting its output; rejects on a non-zero exit or after `timeoutMs`. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms; stderr:\n${err.slice(-4000)}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr: err });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}; stderr:\n${err.slice(-4000)}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `node <script> <args...>`, a writer that prints the last acknowledged offset on a line after each append, and
 * kills it with SIGKILL once it has printed `target` or more; resolves with the last offset it printed.
 */
export function killWriterAt(script: string, args: string[], target: number): Promise<number> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = -1;
  let buffered = '';
  return new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer exited ${code} ${signal}`))));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) acked = Number(l);
      if (acked >= target && !child.killed) child.kill('SIGKILL');
    });
  });
}
