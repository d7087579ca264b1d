// Drives `oxbow` as a user does, for the stream tools' tests: a child process of bin/oxbow.js, its exit code and output,
// and a lake declaration in a temporary directory naming the datasets.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { OXBOW_BIN, tempDir } from '../helpers/broker.ts';

export type CliOutcome = { code: number | null; stdout: string; stderr: string };

/** Runs `oxbow <args>` to completion; a hang fails the test after `timeoutMs`. */
export function oxbow(args: string[], timeoutMs = 20_000): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OXBOW_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oxbow ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `oxbow <args>` that must exit 0; returns its standard output. */
export async function oxbowOk(args: string[]): Promise<string> {
  const r = await oxbow(args);
  if (r.code !== 0) throw new Error(`oxbow ${args.join(' ')} exited with ${r.code}; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  return r.stdout;
}

/** Writes an oxbow.config.ts declaring `datasets` (each with an open object schema) and returns its path and the state directory. */
export async function lakeConfig(t: TestContext, datasets: string[]): Promise<{ file: string; stateDir: string }> {
  const dir = await tempDir(t);
  const stateDir = path.join(dir, 'stream-state');
  const body = {
    stream: { stateDir },
    datasets: Object.fromEntries(datasets.map((d) => [d, { schema: { type: 'object' } }])),
  };
  const file = path.join(dir, 'oxbow.config.ts');
  await writeFile(file, `export default ${JSON.stringify(body, null, 2)};\n`);
  return { file, stateDir };
}
