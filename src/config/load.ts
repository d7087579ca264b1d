// Loads the lake declaration (oxbow.config.ts exporting defineLake({...})) and merges command-line overrides.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import { resolveConfig, type OxbowConfig, type OxbowConfigInput } from './model.ts';

/** Declares a lake in oxbow.config.ts; the identity function that gives editors the types. */
export function defineLake(config: OxbowConfigInput): OxbowConfigInput {
  return config;
}

export const DEFAULT_CONFIG_FILES = ['oxbow.config.ts', 'oxbow.config.js', 'oxbow.config.mjs'];

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
 * The configuration for this process: the config file (explicit, or oxbow.config.ts in `cwd` when present),
 * then overrides from the command line; validated once.
 */
export async function loadConfig(options: { file?: string | undefined; cwd?: string; overrides?: OxbowConfigInput } = {}): Promise<OxbowConfig> {
  const cwd = options.cwd ?? process.cwd();
  let fromFile: OxbowConfigInput = {};
  if (options.file !== undefined) {
    if (!existsSync(path.resolve(cwd, options.file))) {
      throw new ConfigError(ConfigErrorCode.FILE_UNREADABLE, `configuration file ${options.file} does not exist`, { fields: { file: options.file } });
    }
    fromFile = await importConfigFile(path.resolve(cwd, options.file));
  } else {
    const found = DEFAULT_CONFIG_FILES.map((f) => path.join(cwd, f)).find((f) => existsSync(f));
    if (found) fromFile = await importConfigFile(found);
  }
  return resolveConfig(merge(fromFile, options.overrides ?? {}), { cwd });
}
