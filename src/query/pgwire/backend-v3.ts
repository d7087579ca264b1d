// Encoders for the messages the server sends (frontend/backend protocol 3.0). No I/O: messages are appended to an
// output buffer the connection drains to its socket. Each message is Byte1 type, Int32 length (including itself), body.

/** A field of a RowDescription. */
export type FieldDescription = {
  name: string;
  typeOid: number;
  /** pg_type.typlen: the fixed width in bytes, or -1 for variable width. */
  typeSize: number;
  typeModifier: number;
  /** 0 text, 1 binary. */
  format: number;
};

/** The fields of an ErrorResponse or NoticeResponse. */
export type ErrorFields = {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';
  sqlState: string;
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
};

export class BackendWriter {
  private buf: Buffer;
  private len = 0;
  private messageStart = -1;

  constructor(initialBytes = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes waiting to be written. */
  get length(): number {
    return this.len;
  }

  /** Hands out the bytes written so far and starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(16 * 1024);
    return out;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private begin(type: string): void {
    this.ensure(5);
    this.buf[this.len] = type.charCodeAt(0);
    this.messageStart = this.len + 1;
    this.len += 5;
  }

  private end(): this {
    this.buf.writeInt32BE(this.len - this.messageStart, this.messageStart);
    this.messageStart = -1;
    return this;
  }

  private byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  private int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.len);
    this.len += 2;
  }

  private int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.len);
    this.len += 4;
  }

  /** Null-terminated UTF-8; a NUL inside would end the string early, so it is dropped. */
  private cstring(s: string): void {
    const clean = s.includes('\0') ? s.replaceAll('\0', '') : s;
    const n = Buffer.byteLength(clean);
    this.ensure(n + 1);
    this.buf.write(clean, this.len, 'utf8');
    this.len += n;
    this.buf[this.len++] = 0;
  }

  private raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** The single byte 'N' answering SSLRequest or GSSENCRequest: not supported, continue in plain text. Not a message. */
  refuseEncryption(): this {
    this.byte('N'.charCodeAt(0));
    return this;
  }

  // AuthenticationOk 'R': Int32 0
  authenticationOk(): this {
    this.begin('R');
    this.int32(0);
    return this.end();
  }

  // NegotiateProtocolVersion 'v': Int32 newestMinorVersion, Int32 nUnrecognized, String[nUnrecognized] optionName
  negotiateProtocolVersion(newestMinor: number, unrecognized: readonly string[]): this {
    this.begin('v');
    this.int32(newestMinor);
    this.int32(unrecognized.length);
    for (const o of unrecognized) this.cstring(o);
    return this.end();
  }

  // ParameterStatus 'S': String name, String value
  parameterStatus(name: string, value: string): this {
    this.begin('S');
    this.cstring(name);
    this.cstring(value);
    return this.end();
  }

  // BackendKeyData 'K': Int32 processId, Int32 secretKey
  backendKeyData(processId: number, secretKey: number): this {
    this.begin('K');
    this.int32(processId);
    this.int32(secretKey);
    return this.end();
  }

  // ReadyForQuery 'Z': Byte1 status ('I' idle, 'T' in transaction, 'E' failed transaction)
  readyForQuery(status: 'I' | 'T' | 'E'): this {
    this.begin('Z');
    this.byte(status.charCodeAt(0));
    return this.end();
  }

  // RowDescription 'T': Int16 nFields, (String name, Int32 tableOid, Int16 columnAttnum, Int32 typeOid, Int16 typeSize,
  //   Int32 typeModifier, Int16 formatCode)[nFields]
  rowDescription(fields: readonly FieldDescription[]): this {
    this.begin('T');
    this.int16(fields.length);
    for (const f of fields) {
      this.cstring(f.name);
      this.int32(0);
      this.int16(0);
      this.int32(f.typeOid);
      this.int16(f.typeSize);
      this.int32(f.typeModifier);
      this.int16(f.format);
    }
    return this.end();
  }

  // DataRow 'D': Int16 nColumns, (Int32 length (-1 = NULL), Byte[length] value)[nColumns]
  dataRow(values: readonly (Uint8Array | null)[]): this {
    this.begin('D');
    this.int16(values.length);
    for (const v of values) {
      if (v === null) this.int32(-1);
      else {
        this.int32(v.length);
        this.raw(v);
      }
    }
    return this.end();
  }

  // CommandComplete 'C': String commandTag
  commandComplete(tag: string): this {
    this.begin('C');
    this.cstring(tag);
    return this.end();
  }

  // EmptyQueryResponse 'I': (no body)
  emptyQueryResponse(): this {
    this.begin('I');
    return this.end();
  }

  // ErrorResponse 'E' / NoticeResponse 'N': (Byte1 fieldType, String value)*, Byte1 0.
  //   S localized severity, V severity, C SQLSTATE, M message, D detail, H hint.
  errorResponse(e: ErrorFields): this {
    return this.fields('E', e);
  }

  noticeResponse(e: ErrorFields): this {
    return this.fields('N', e);
  }

  private fields(type: 'E' | 'N', e: ErrorFields): this {
    this.begin(type);
    const put = (code: string, value: string | undefined) => {
      if (value === undefined) return;
      this.byte(code.charCodeAt(0));
      this.cstring(value);
    };
    put('S', e.severity);
    put('V', e.severity);
    put('C', e.sqlState);
    put('M', e.message);
    put('D', e.detail);
    put('H', e.hint);
    this.byte(0);
    return this.end();
  }

  // ParseComplete '1', BindComplete '2', CloseComplete '3', NoData 'n', PortalSuspended 's': (no body)
  parseComplete(): this {
    this.begin('1');
    return this.end();
  }

  bindComplete(): this {
    this.begin('2');
    return this.end();
  }

  closeComplete(): this {
    this.begin('3');
    return this.end();
  }

  noData(): this {
    this.begin('n');
    return this.end();
  }

  portalSuspended(): this {
    this.begin('s');
    return this.end();
  }

  // ParameterDescription 't': Int16 nParams, Int32[nParams] typeOid
  parameterDescription(typeOids: readonly number[]): this {
    this.begin('t');
    this.int16(typeOids.length);
    for (const oid of typeOids) this.int32(oid);
    return this.end();
  }
}
