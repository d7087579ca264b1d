// Data file names in the golden zone: <topic>+<kafkaPartition>+<firstOffset>+<lastOffset>.<codec>.parquet.
// The offsets in the name are what makes sink recovery exact: listing a partition's files says which offsets are committed.
import { assert } from '../errors.ts';

export const PARQUET_CODECS = ['snappy', 'zstd', 'gzip'] as const;
export type ParquetCodec = (typeof PARQUET_CODECS)[number];

/** The codec part of a file name; `gz` for gzip, as Spark and Hive name theirs. */
const CODEC_EXTENSION: Record<ParquetCodec, string> = { snappy: 'snappy', zstd: 'zstd', gzip: 'gz' };

export type DataFileName = {
  topic: string;
  kafkaPartition: number;
  firstOffset: number;
  lastOffset: number;
  codec: ParquetCodec;
};

// Kafka topic names are letters, digits, '.', '_' and '-', so '+' never occurs in one; the parser still reads the
// numbers from the right, so a name from another system with a '+' in its topic part is read correctly too.
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** `<topic>+<kafkaPartition>+<firstOffset>+<lastOffset>.<codec>.parquet`; the offsets are inclusive. */
export function dataFileName(topic: string, kafkaPartition: number, firstOffset: number, lastOffset: number, codec: ParquetCodec = 'snappy'): string {
  assert(TOPIC.test(topic), `topic ${JSON.stringify(topic)} is not a Kafka topic name`);
  assert(Number.isSafeInteger(kafkaPartition) && kafkaPartition >= 0, `kafkaPartition ${kafkaPartition} is not a partition number`);
  assert(Number.isSafeInteger(firstOffset) && firstOffset >= 0, `firstOffset ${firstOffset} is not an offset`);
  assert(Number.isSafeInteger(lastOffset) && lastOffset >= firstOffset, `lastOffset ${lastOffset} is before firstOffset ${firstOffset}`);
  assert(Object.hasOwn(CODEC_EXTENSION, codec), `codec ${String(codec)} is not one of ${PARQUET_CODECS.join(', ')}`);
  return `${topic}+${kafkaPartition}+${firstOffset}+${lastOffset}.${CODEC_EXTENSION[codec]}.parquet`;
}

/**
 * The parts of a data file name (the last path segment; a directory prefix is ignored), or null when the name is not
 * one (a temporary file, a file some other tool wrote). Only canonical names parse: dataFileName(parse(n)) === n.
 */
export function parseDataFileName(name: string): DataFileName | null {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const m = /^(.+)\+([0-9]+)\+([0-9]+)\+([0-9]+)\.(snappy|zstd|gz)\.parquet$/.exec(base);
  if (m === null) return null;
  const [, topic, p, first, last, ext] = m as unknown as [string, string, string, string, string, string];
  if (![p, first, last].every((d) => DECIMAL.test(d))) return null;
  const kafkaPartition = Number(p);
  const firstOffset = Number(first);
  const lastOffset = Number(last);
  if (![kafkaPartition, firstOffset, lastOffset].every(Number.isSafeInteger) || lastOffset < firstOffset) return null;
  const codec = ext === 'gz' ? 'gzip' : (ext as ParquetCodec);
  return { topic, kafkaPartition, firstOffset, lastOffset, codec };
}
