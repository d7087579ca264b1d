// The error model shared by every area: a stable code, a retryable flag, structured fields and a cause.
// Each area subclasses OxbowError (BrokerError, ConfigError, ...); callers branch on `code`, never on text.
// Every code used in src/ is listed in docs/errors.md, and test/errors-catalog.test.ts keeps the two in step.

export type OxbowErrorOptions = {
  retryable?: boolean;
  fields?: Record<string, unknown>;
  cause?: unknown;
};

export class OxbowError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly fields: Record<string, unknown>;

  constructor(code: string, message: string, options: OxbowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.fields = options.fields ?? {};
  }
}

/** Assert an invariant; a failure is a programmer error and should crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
