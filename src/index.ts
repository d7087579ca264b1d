// The oxbow package: what an oxbow.config.ts and programs embedding Oxbow import.
export { defineLake, loadConfig, resolveConfig, ConfigError, type OxbowConfig, type OxbowConfigInput } from './config/index.ts';
export { Broker, BrokerError } from './broker/index.ts';
export { OxbowError } from './errors.ts';
export * from './stream/index.ts';
