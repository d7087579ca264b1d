// Idempotent-producer bookkeeping for one partition: per producerId the epoch, the last sequence and the last few
// batches, so a retried batch is answered with its original offsets and a gap in sequences is refused.
import { KafkaErrorCode } from '../../kafka/errors.ts';
import type { BatchHeader } from '../../kafka/record-batch.ts';

/** Kafka keeps this many batches per producer for duplicate detection (ProducerStateEntry.NUM_BATCHES_TO_RETAIN). */
export const BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fff_ffff;

export type RetainedBatch = { firstSeq: number; lastSeq: number; baseOffset: number; lastOffset: number };
export type ProducerEntry = { epoch: number; lastSeq: number; batches: RetainedBatch[] };

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number; lastOffset: number }
  | { kind: 'error'; errorCode: number; message: string };

/** Sequence numbers wrap from INT32_MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
export function incrementSequence(seq: number, by: number): number {
  return seq > INT32_MAX - by ? by - (INT32_MAX - seq) - 1 : seq + by;
}

export function batchLastSequence(h: BatchHeader): number {
  return incrementSequence(h.baseSequence, h.lastOffsetDelta);
}

export class ProducerState {
  private readonly producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Decides what to do with a batch. `pending` holds the entries already updated by earlier batches of the same
   * request, so several batches of one producer in one request are checked against each other.
   */
  check(h: BatchHeader, pending?: ReadonlyMap<number, ProducerEntry>): SequenceCheck {
    if (h.producerId < 0) return { kind: 'append' };
    const e = pending?.get(h.producerId) ?? this.producers.get(h.producerId);
    // An unknown producer is accepted with any sequence: its state may have aged out with the segments that held it.
    if (e === undefined) return { kind: 'append' };
    if (h.producerEpoch < e.epoch) {
      return {
        kind: 'error',
        errorCode: KafkaErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${h.producerId} epoch ${h.producerEpoch} is older than the current epoch ${e.epoch}`,
      };
    }
    if (h.producerEpoch > e.epoch) {
      if (h.baseSequence === 0) return { kind: 'append' };
      return {
        kind: 'error',
        errorCode: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `producer ${h.producerId} started epoch ${h.producerEpoch} at sequence ${h.baseSequence}, expected 0`,
      };
    }
    const lastSeq = batchLastSequence(h);
    const dup = e.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === lastSeq);
    if (dup !== undefined) return { kind: 'duplicate', baseOffset: dup.baseOffset, lastOffset: dup.lastOffset };
    const expected = incrementSequence(e.lastSeq, 1);
    if (h.baseSequence !== expected) {
      return {
        kind: 'error',
        errorCode: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `producer ${h.producerId} epoch ${h.producerEpoch} sent sequence ${h.baseSequence}, expected ${expected}`,
      };
    }
    return { kind: 'append' };
  }

  /** The entry a batch leaves behind once written at [baseOffset, lastOffset]; does not change this state. */
  next(h: BatchHeader, baseOffset: number, lastOffset: number, pending?: ReadonlyMap<number, ProducerEntry>): ProducerEntry {
    const prev = pending?.get(h.producerId) ?? this.producers.get(h.producerId);
    const lastSeq = batchLastSequence(h);
    const kept = prev !== undefined && prev.epoch === h.producerEpoch ? prev.batches.slice(-(BATCHES_TO_RETAIN - 1)) : [];
    kept.push({ firstSeq: h.baseSequence, lastSeq, baseOffset, lastOffset });
    return { epoch: h.producerEpoch, lastSeq, batches: kept };
  }

  set(producerId: number, entry: ProducerEntry): void {
    this.producers.set(producerId, entry);
  }

  /** Replays a batch found in the log (recovery); the log is the truth, so no checks. */
  replay(h: BatchHeader): void {
    if (h.producerId < 0) return;
    this.set(h.producerId, this.next(h, h.baseOffset, h.baseOffset + h.lastOffsetDelta));
  }
}
