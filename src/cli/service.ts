// The life of the long-running commands (broker, up, stream, sink): say they are ready, run until a signal, stop cleanly.

/**
 * Prints `readyText` on stdout, waits for SIGTERM or SIGINT, then shuts down cleanly; a second signal exits at once.
 * The handlers are in place before the text goes out: whoever waits for it (a supervisor, a test) may signal at once.
 */
export async function runUntilSignal(readyText: string, shutdown: () => Promise<void>): Promise<number> {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const first = (s: NodeJS.Signals) => {
      for (const name of signals) process.off(name, first);
      resolve(s);
    };
    for (const name of signals) process.on(name, first);
    process.stdout.write(readyText);
  });
  const exitNow = () => process.exit(130);
  for (const name of signals) process.once(name, exitNow);
  process.stderr.write(`${signal}: shutting down\n`);
  await shutdown();
  for (const name of signals) process.off(name, exitNow);
  process.stderr.write('stopped cleanly\n');
  return 0;
}
