// The Kafka protocol as the rest of Oxbow uses it from the client side: reading a topic's record batches with Oxbow's
// own codecs. (The broker, which implements the protocol, works with the codec files directly.)
export { TopicFetcher, type FetchedPartition, type TopicFetcherOptions } from './topic-fetcher.ts';
export { forEachRecord, readRecordKeyAndHeaders, type RecordVisitor, type RecordWalk, type RecordHeader } from './record-batch.ts';
export { KafkaClientError, KafkaClientErrorCode } from './errors.ts';
