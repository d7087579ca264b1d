// Helpers shared by the long-running roles (stream worker, lake sink): a wait that an abort cuts short, and one line
// for an error with the errors nested in it (the Kafka client wraps the broker's reasons several levels deep).

/** Resolves after `ms`, or at once when `signal` aborts (already aborted: at once). Never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The error's message, then up to three nested errors' and its cause's, joined by ": ". */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = (err as Error & { errors?: unknown[] }).errors;
  const parts = Array.isArray(inner) && inner.length > 0 ? inner.slice(0, 3).map((e) => (e instanceof Error ? e.message : String(e))) : [];
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return [err.message, ...parts, ...(cause !== undefined && !err.message.includes(cause) ? [cause] : [])].join(': ');
}
