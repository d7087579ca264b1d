// Command-line parsing shared by every `oxbow` command: flags with clear errors for unknown or malformed ones.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OxbowError } from '../errors.ts';

export const CliErrorCode = {
  /** The command line has an unknown command, an unknown flag or a bad value. */
  USAGE: 'OXBOW_CLI_USAGE',
  /** The Kafka cluster could not be reached, or it refused a request (the Kafka error name and the broker's reason follow). */
  KAFKA_REQUEST_FAILED: 'OXBOW_CLI_KAFKA_REQUEST_FAILED',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

export class CliError extends OxbowError {}

/** A usage error; `usage` is printed after the message so the user sees the options of the command. */
export function usageError(message: string, usage?: string): CliError {
  return new CliError(CliErrorCode.USAGE, message, usage === undefined ? {} : { fields: { usage } });
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed = { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };

export function parse(argv: string[], options: Options, usage: string): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    // Node's own text for an unknown option explains `--` escaping at length; the option's name is what matters.
    const unknown = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec(e.message)?.[1] : undefined;
    throw usageError(unknown !== undefined ? `unknown option ${unknown}` : e.message, usage);
  }
}

export function intFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || n < min || n > max) {
    throw usageError(`--${name}: ${JSON.stringify(value)} is not allowed; expected an integer from ${min} to ${max}`);
  }
  return n;
}

/**
 * A flag that sets a configuration value is handed to the configuration model unchecked, so that a bad one is reported
 * like a bad value in oxbow.config.ts (key, value, what is allowed; exit code 78). Integers go in as numbers.
 */
export function settingFlag(value: unknown): string | number | undefined {
  if (typeof value !== 'string') return undefined;
  return /^-?\d+$/.test(value) ? Number(value) : value;
}
