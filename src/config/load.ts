// Loads the lake declaration (oxbow.config.ts exporting defineLake({...})) and merges command-line overrides.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import { resolveConfig, type OxbowConfig, type OxbowConfigInput } from './model.ts';

/** Declares a lake in oxbow.config.ts; the identity function that gives editors the types. */
export function defineLake(config: OxbowConfigInput): OxbowConfigInput {
  return config;
}

export const DEFAULT_CONFIG_FILES = ['oxbow.config.ts', 'oxbow.config.js', 'oxbow.config.mjs'];

/** The example lake shipped with the package (dataset `orders`), used when no configuration file is given or found. */
export const EXAMPLE_CONFIG_FILE = fileURLToPath(new URL('../../examples/oxbow.config.ts', import.meta.url));

async function importConfigFile(file: string): Promise<OxbowConfigInput> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
  } catch (cause) {
    throw new ConfigError(ConfigErrorCode.FILE_UNREADABLE, `cannot load configuration file ${file}: ${(cause as Error).message}`, { cause, fields: { file } });
  }
  if (typeof mod.default !== 'object' || mod.default === null) {
    throw new ConfigError(ConfigErrorCode.FILE_UNREADABLE, `configuration file ${file} must \`export default defineLake({...})\``, { fields: { file } });
  }
  return mod.default as OxbowConfigInput;
}

function merge(base: OxbowConfigInput, over: OxbowConfigInput): OxbowConfigInput {
  const out: Record<string, Record<string, unknown>> = {};
  for (const src of [base, over] as Record<string, Record<string, unknown> | undefined>[]) {
    for (const [section, body] of Object.entries(src)) {
      if (body === undefined) continue;
      if (typeof body !== 'object' || body === null) {
        (out as Record<string, unknown>)[section] = body;
        continue;
      }
      out[section] = { ...(out[section] ?? {}), ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) };
    }
  }
  return out as OxbowConfigInput;
}

/**
 * The file `loadConfig` reads: `file` when given (relative to `cwd`), else the first of DEFAULT_CONFIG_FILES in `cwd`,
 * else the example lake, with `example: true` so that a command can say which lake it runs.
 */
export function configFileFor(options: { file?: string | undefined; cwd?: string } = {}): { file: string; example: boolean } {
  const cwd = options.cwd ?? process.cwd();
  if (options.file !== undefined) return { file: path.resolve(cwd, options.file), example: false };
  const found = DEFAULT_CONFIG_FILES.map((f) => path.join(cwd, f)).find((f) => existsSync(f));
  return found === undefined ? { file: EXAMPLE_CONFIG_FILE, example: true } : { file: found, example: false };
}

/**
 * The configuration for this process: the config file (explicit, or oxbow.config.ts in `cwd` when present, else the
 * example lake, reported through `onExample`), then overrides from the command line; validated once.
 */
export async function loadConfig(
  options: { file?: string | undefined; cwd?: string; overrides?: OxbowConfigInput; onExample?: (file: string) => void } = {},
): Promise<OxbowConfig> {
  const cwd = options.cwd ?? process.cwd();
  const { file, example } = configFileFor({ file: options.file, cwd });
  if (options.file !== undefined && !existsSync(file)) {
    throw new ConfigError(ConfigErrorCode.FILE_UNREADABLE, `configuration file ${options.file} does not exist`, { fields: { file: options.file } });
  }
  const fromFile = await importConfigFile(file);
  if (example) options.onExample?.(file);
  return resolveConfig(merge(fromFile, options.overrides ?? {}), { cwd });
}
