// Public face of the embedded broker.
export { Broker, type BrokerOptions, type BrokerStats } from './broker.ts';
export { BrokerError, BrokerErrorCode } from './errors.ts';
export { topicNameProblem, TOPIC_CONFIG_KEYS } from './topics.ts';
