// Command-line parsing shared by every `oxbow` command: flags with clear errors for unknown or malformed ones.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OxbowError } from '../errors.ts';

export const CliErrorCode = {
  /** The command line has an unknown command, an unknown flag or a bad value. */
  USAGE: 'OXBOW_CLI_USAGE',
} as const;

export class CliError extends OxbowError {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed = { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };

export function parse(argv: string[], options: Options, usage: string): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, `${(err as Error).message}\n\n${usage}`);
  }
}

export function intFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || n < min || n > max) {
    throw new CliError(CliErrorCode.USAGE, `--${name}: ${JSON.stringify(value)} is not allowed; expected an integer from ${min} to ${max}`);
  }
  return n;
}
