// The temporary directory of a benchmark run: made at the start and removed at the end, and on SIGINT or SIGTERM as
// well (after the run's child processes are killed), or when the reader of its output goes away (`| head`), so an
// interrupted run leaves nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

export type Scratch = {
  dir: string;
  /** Kills the children, removes the directory and the signal handlers; for the end of the run. */
  release: () => void;
};

export function scratchDir(parent: string, prefix: string, killChildren: () => void = () => undefined): Scratch {
  const dir = mkdtempSync(path.join(parent, prefix));
  const cleanup = () => {
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  const onOutputError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    cleanup();
    process.exit(141);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  return {
    dir,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onOutputError);
      process.stderr.off('error', onOutputError);
      cleanup();
    },
  };
}
