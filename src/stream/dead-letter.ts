// Headers of a dead-letter record: the original headers, then what went wrong and where the record came from.
import type { ResolvedDataset } from './dataset.ts';
import type { SourceRecord } from './pipeline.ts';
import type { StreamHeader } from './steps.ts';

export const DeadLetterHeader = {
  CODE: 'oxbow.error.code',
  MESSAGE: 'oxbow.error.message',
  SOURCE_TOPIC: 'oxbow.source.topic',
  SOURCE_PARTITION: 'oxbow.source.partition',
  SOURCE_OFFSET: 'oxbow.source.offset',
  DATASET: 'oxbow.dataset',
  STEP: 'oxbow.step',
  TIME: 'oxbow.time',
} as const;

/** Longest oxbow.error.message, in UTF-16 code units; a longer message is cut and ends with "…". */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

const OWN_KEYS: ReadonlySet<string> = new Set(Object.values(DeadLetterHeader));

/**
 * The headers to write with a dead-letter record, whose key and value are the original ones, untouched.
 * The stream job and the lake sink both use it; `step` names where the record failed (`sink` for the lake sink).
 * Original headers come first, in order; any of them that uses one of the oxbow.* names below (a record that was
 * dead-lettered before and replayed) is dropped, so each name appears once and describes this failure.
 */
export function deadLetterHeaders(outcome: { readonly code: string; readonly message: string; readonly step: string }, record: SourceRecord, dataset: ResolvedDataset, now: Date | number): StreamHeader[] {
  const message = outcome.message.length > MAX_ERROR_MESSAGE_CHARS ? `${outcome.message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : outcome.message;
  const added: [string, string][] = [
    [DeadLetterHeader.CODE, outcome.code],
    [DeadLetterHeader.MESSAGE, message],
    [DeadLetterHeader.SOURCE_TOPIC, record.topic],
    [DeadLetterHeader.SOURCE_PARTITION, String(record.partition)],
    [DeadLetterHeader.SOURCE_OFFSET, String(record.offset)],
    [DeadLetterHeader.DATASET, dataset.name],
    [DeadLetterHeader.STEP, outcome.step],
    [DeadLetterHeader.TIME, new Date(now).toISOString()],
  ];
  return [...record.headers.filter((h) => !OWN_KEYS.has(h.key)), ...added.map(([key, value]) => ({ key, value: Buffer.from(value, 'utf8') }))];
}
