// Configuration errors: each names the key, the bad value and what is allowed.
import { OxbowError, type OxbowErrorOptions } from '../errors.ts';

export const ConfigErrorCode = {
  /** A configuration value has the wrong type or is out of range. */
  INVALID: 'OXBOW_CONFIG_INVALID',
  /** A key is not part of the configuration model (often a typo). */
  UNKNOWN_KEY: 'OXBOW_CONFIG_UNKNOWN_KEY',
  /** The configuration file could not be loaded. */
  FILE_UNREADABLE: 'OXBOW_CONFIG_FILE_UNREADABLE',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

export class ConfigError extends OxbowError {
  declare readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
