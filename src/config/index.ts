// Public face of the configuration model.
export { ConfigError, ConfigErrorCode } from './errors.ts';
export { resolveConfig, SETTINGS, type BrokerConfig, type FsyncPolicy, type OxbowConfig, type OxbowConfigInput } from './model.ts';
export { configFileFor, defineLake, loadConfig, DEFAULT_CONFIG_FILES } from './load.ts';
export { parseBytes, parseDurationMs, formatBytes } from './units.ts';
export { allowedValues, defaultCell, formatDefault, parseDefaultLiteral, settingsTable, settingType, type DocDefault } from './docs.ts';
