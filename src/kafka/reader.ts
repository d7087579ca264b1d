// Reads Kafka protocol primitives from a frame. Fixed-width ints are big-endian; flexible (KIP-482)
// versions use unsigned varint lengths (length+1, 0 = null) and end each struct with tagged fields.
// Every read checks bounds, so a truncated or lying frame raises KafkaCodecError instead of reading junk.
import { KafkaCodecError, KafkaCodecErrorCode } from './errors.ts';

export type TaggedFields = Map<number, Buffer>;

export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new KafkaCodecError(
        KafkaCodecErrorCode.TRUNCATED,
        `frame ends before ${what}: need ${n} bytes at offset ${this.offset}, have ${this.end - this.offset}`,
      );
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.offset++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** int64 as a number: offsets, timestamps and producer ids stay far below 2^53 in practice. */
  int64(): number {
    this.need(8, 'int64');
    const hi = this.buf.readInt32BE(this.offset);
    const lo = this.buf.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  uuid(): Buffer {
    this.need(16, 'uuid');
    const v = this.buf.subarray(this.offset, this.offset + 16);
    this.offset += 16;
    return v;
  }

  /** Unsigned LEB128 varint (flexible lengths, tags). At most 5 bytes for 32-bit values. */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1, 'varint');
      const b = this.buf[this.offset++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `unsigned varint longer than 5 bytes at offset ${this.offset}`);
  }

  /** Zigzag varint (record fields), up to 64-bit; returned as a number. */
  varint(): number {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      this.need(1, 'varint');
      const b = this.buf[this.offset++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return Number((result >> 1n) ^ -(result & 1n));
      shift += 7n;
    }
    throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `varint longer than 10 bytes at offset ${this.offset}`);
  }

  /** Fast zigzag varint for values that fit in 32 bits. */
  varint32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1, 'varint');
      const b = this.buf[this.offset++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
      shift += 7;
    }
    throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `varint longer than 5 bytes at offset ${this.offset}`);
  }

  private length(flexible: boolean, what: string): number {
    if (flexible) return this.uvarint() - 1;
    return what === 'string' ? this.int16() : this.int32();
  }

  nullableString(flexible: boolean): string | null {
    const n = this.length(flexible, 'string');
    if (n < 0) return null;
    this.need(n, 'string');
    const v = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  string(flexible: boolean): string {
    const v = this.nullableString(flexible);
    if (v === null) throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `null where a string is required at offset ${this.offset}`);
    return v;
  }

  nullableBytes(flexible: boolean): Buffer | null {
    const n = this.length(flexible, 'bytes');
    if (n < 0) return null;
    this.need(n, 'bytes');
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  bytes(flexible: boolean): Buffer {
    return this.nullableBytes(flexible) ?? Buffer.alloc(0);
  }

  /** An array; every element needs at least one byte, so a count larger than the frame is rejected early. */
  nullableArray<T>(flexible: boolean, item: (r: Reader) => T): T[] | null {
    const n = flexible ? this.uvarint() - 1 : this.int32();
    if (n < 0) return null;
    if (n > this.remaining) {
      throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `array count ${n} exceeds the ${this.remaining} bytes left in the frame`);
    }
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  array<T>(flexible: boolean, item: (r: Reader) => T): T[] {
    return this.nullableArray(flexible, item) ?? [];
  }

  /** Tagged fields at the end of a flexible struct; unknown tags are kept raw (and usually ignored). */
  taggedFields(): TaggedFields {
    const fields: TaggedFields = new Map();
    const count = this.uvarint();
    if (count > this.remaining) {
      throw new KafkaCodecError(KafkaCodecErrorCode.MALFORMED, `tagged field count ${count} exceeds the frame`);
    }
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      this.need(size, 'tagged field');
      fields.set(tag, this.buf.subarray(this.offset, this.offset + size));
      this.offset += size;
    }
    return fields;
  }

  /** Skips tagged fields when the struct is flexible; a no-op otherwise. */
  tags(flexible: boolean): void {
    if (flexible) this.taggedFields();
  }

  raw(n: number): Buffer {
    this.need(n, 'bytes');
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}
