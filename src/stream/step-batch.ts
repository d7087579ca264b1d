// How a slice of raw records travels to a step thread and how its outcomes come back: a few flat arrays each way,
// moved (not copied) between threads, instead of one cloned object per record. Both sides of step-pool.ts use it.
import type { DeadLetterCode } from './errors.ts';
import type { Outcome, SourceRecord, TextOutcome } from './pipeline.ts';
import type { StreamHeader } from './steps.ts';

/** Records of one slice: values and keys packed in `data`, four numbers per record in `index`. */
export type StepJob = {
  id: number;
  topic: string;
  partition: number;
  data: Uint8Array;
  /** Per record: value start, value length (-1: null), key start, key length (-1: null). */
  index: Int32Array;
  offsets: Float64Array;
  timestamps: Float64Array;
  /** Headers of the records that have any, by record position. */
  headers: [number, { key: string; value: Uint8Array | null }[]][];
  /** A reply buffer the worker is done with, for this job's processed texts (null: the thread makes one). */
  replyInto: ArrayBuffer | null;
};

const PROCESSED = 0;
const FILTERED = 1;
const DEAD_LETTER = 2;

/** Outcomes of one slice: processed values packed in `out` (record i's value ends at ends[i]), the rest in `notes`. */
export type StepResult = {
  id: number;
  /** The job's `data`, sent back for the next job to be packed into (null when the step thread kept it). */
  spare: ArrayBuffer | null;
  kinds: Uint8Array;
  out: Uint8Array;
  ends: Int32Array;
  /** Filtered: [position, rule]; dead letter: [position, code, message, step]. */
  notes: ([number, string] | [number, string, string, string])[];
};

/**
 * Packs records (all of one topic and partition) for a step thread; `transfer` lists the buffers that move with it.
 * `spare` (a job's data sent back) is packed into when it is large enough, instead of a new buffer.
 */
export function encodeJob(id: number, sources: readonly SourceRecord[], spare: ArrayBuffer | null = null, replyInto: ArrayBuffer | null = null): { job: StepJob; transfer: ArrayBuffer[] } {
  const n = sources.length;
  let bytes = 0;
  for (const s of sources) bytes += (s.value?.length ?? 0) + (s.key?.length ?? 0);
  const data = spare !== null && spare.byteLength >= bytes ? new Uint8Array(spare, 0, bytes) : new Uint8Array(Buffer.allocUnsafeSlow(spareCapacity(bytes)).buffer, 0, bytes);
  const index = new Int32Array(4 * n);
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const headers: StepJob['headers'] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const s = sources[i]!;
    const j = 4 * i;
    if (s.value === null) {
      index[j] = at;
      index[j + 1] = -1;
    } else {
      data.set(s.value, at);
      index[j] = at;
      index[j + 1] = s.value.length;
      at += s.value.length;
    }
    if (s.key === null) {
      index[j + 2] = at;
      index[j + 3] = -1;
    } else {
      data.set(s.key, at);
      index[j + 2] = at;
      index[j + 3] = s.key.length;
      at += s.key.length;
    }
    offsets[i] = Number(s.offset);
    timestamps[i] = Number(s.timestamp);
    if (s.headers.length > 0) headers.push([i, s.headers.map((h) => ({ key: h.key, value: h.value === null ? null : new Uint8Array(h.value) }))]);
  }
  const first = sources[0];
  const job: StepJob = { id, topic: first?.topic ?? '', partition: first?.partition ?? 0, data, index, offsets, timestamps, headers, replyInto };
  const transfer = [data.buffer, index.buffer, offsets.buffer, timestamps.buffer];
  if (replyInto !== null) transfer.push(replyInto);
  return { job, transfer };
}

/** Room for `bytes`, with some to spare, so that a buffer sent back fits the next slices of about the same size. */
function spareCapacity(bytes: number): number {
  return Math.ceil((bytes * 1.25) / 4096) * 4096;
}

/** The records of a job, as the pipeline takes them; values and keys are views into the job's data. */
export function decodeJob(job: StepJob): SourceRecord[] {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  const n = job.offsets.length;
  const headers = new Map<number, StreamHeader[]>();
  for (const [i, list] of job.headers) headers.set(i, list.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value.buffer, h.value.byteOffset, h.value.byteLength) })));
  const sources = new Array<SourceRecord>(n);
  for (let i = 0; i < n; i++) {
    const j = 4 * i;
    const valueLength = job.index[j + 1]!;
    const keyLength = job.index[j + 3]!;
    sources[i] = {
      value: valueLength < 0 ? null : data.subarray(job.index[j]!, job.index[j]! + valueLength),
      key: keyLength < 0 ? null : data.subarray(job.index[j + 2]!, job.index[j + 2]! + keyLength),
      headers: headers.get(i) ?? [],
      topic: job.topic,
      partition: job.partition,
      offset: job.offsets[i]!,
      timestamp: job.timestamps[i]!,
    };
  }
  return sources;
}

/**
 * Packs a job's outcomes (in record order) for the way back. Processed records are written as UTF-8 straight from
 * their JSON text into one buffer, sized for ASCII and grown when a text needs more bytes than it has characters:
 * `replyInto` when it is large enough, else a new one. `spare` (the job's data) goes back with it.
 */
export function encodeResult(id: number, outcomes: readonly TextOutcome[], spare: ArrayBuffer | null = null, replyInto: ArrayBuffer | null = null): { result: StepResult; transfer: ArrayBuffer[] } {
  const n = outcomes.length;
  let chars = 0;
  for (const o of outcomes) if (o.kind === 'processed') chars += o.json.length;
  let out: Buffer<ArrayBuffer> = replyInto !== null && replyInto.byteLength >= chars ? Buffer.from(replyInto) : Buffer.allocUnsafeSlow(spareCapacity(chars));
  const kinds = new Uint8Array(n);
  const ends = new Int32Array(n);
  const notes: StepResult['notes'] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const o = outcomes[i]!;
    if (o.kind === 'processed') {
      kinds[i] = PROCESSED;
      const text = o.json;
      // A UTF-8 character takes at most 3 bytes per UTF-16 unit; below that margin the exact size decides.
      if (out.length - at < 3 * text.length) {
        const need = at + Buffer.byteLength(text, 'utf8');
        if (need > out.length) out = grow(out, at, need);
      }
      at += out.write(text, at, 'utf8');
    } else if (o.kind === 'filtered') {
      kinds[i] = FILTERED;
      notes.push([i, o.rule]);
    } else {
      kinds[i] = DEAD_LETTER;
      notes.push([i, o.code, o.message, o.step]);
    }
    ends[i] = at;
  }
  const packed = new Uint8Array(out.buffer, 0, at);
  const transfer = [out.buffer, kinds.buffer, ends.buffer];
  if (spare !== null) transfer.push(spare);
  return { result: { id, spare, kinds, out: packed, ends, notes }, transfer };
}

/** A buffer of at least `need` bytes (at least twice `buffer`'s) holding `buffer`'s first `used` bytes. */
function grow(buffer: Buffer<ArrayBuffer>, used: number, need: number): Buffer<ArrayBuffer> {
  const bigger = Buffer.allocUnsafeSlow(spareCapacity(Math.max(need, 2 * buffer.length)));
  buffer.copy(bigger, 0, 0, used);
  return bigger;
}

/**
 * The outcomes of a job from its result and the records that were sent: a processed record keeps its source's key
 * and headers, as on the worker's own thread; its value is a view into the result.
 */
export function decodeResult(result: StepResult, sources: readonly SourceRecord[]): Outcome[] {
  const out = Buffer.from(result.out.buffer, result.out.byteOffset, result.out.byteLength);
  const notes = new Map<number, StepResult['notes'][number]>();
  for (const note of result.notes) notes.set(note[0], note);
  const outcomes = new Array<Outcome>(sources.length);
  let start = 0;
  for (let i = 0; i < sources.length; i++) {
    const end = result.ends[i]!;
    const kind = result.kinds[i];
    if (kind === PROCESSED) {
      const s = sources[i]!;
      outcomes[i] = { kind: 'processed', value: out.subarray(start, end), key: s.key, headers: s.headers };
    } else {
      const note = notes.get(i)!;
      outcomes[i] = kind === FILTERED ? { kind: 'filtered', rule: note[1] } : { kind: 'dead-letter', code: note[1] as DeadLetterCode, message: note[2]!, step: note[3]! };
    }
    start = end;
  }
  return outcomes;
}
