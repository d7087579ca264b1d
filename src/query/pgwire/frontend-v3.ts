// Decoders for the messages a PostgreSQL client sends (frontend/backend protocol 3.0). No I/O: bytes in, values out.
// Every decoder throws PgWireError(PROTOCOL_VIOLATION) when the bytes do not fit the grammar above it.
import { PgWireError, PgWireErrorCode } from './errors.ts';

/** Startup-phase request codes (the Int32 after the length). */
export const StartupCode = {
  PROTOCOL_3_0: 196608,
  CANCEL_REQUEST: 80877102,
  SSL_REQUEST: 80877103,
  GSSENC_REQUEST: 80877104,
} as const;

/** A reader over one message body that refuses to read past its end. */
export class BodyReader {
  private readonly buf: Buffer;
  private pos = 0;
  private readonly what: string;

  constructor(buf: Buffer, what: string) {
    this.buf = buf;
    this.what = what;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, `${this.what} message is truncated (needs ${n} more bytes at offset ${this.pos} of ${this.buf.length})`);
    }
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Null-terminated UTF-8 string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, `${this.what} message has a string without its terminating zero byte`);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    const b = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return b;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, `${this.what} message has ${this.buf.length - this.pos} unexpected trailing bytes`);
    }
  }
}

/** A count field must be >= 0; a negative count is a broken client, not a huge allocation. */
function count(n: number, what: string): number {
  if (n < 0) throw new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, `${what} count is negative (${n})`);
  return n;
}

// StartupMessage (after Int32 length, Int32 196608): (String name, String value)*, Byte1(0)
export function decodeStartupParameters(body: Buffer): Map<string, string> {
  const r = new BodyReader(body, 'StartupMessage');
  const params = new Map<string, string>();
  while (true) {
    const name = r.cstring();
    if (name === '') break;
    params.set(name, r.cstring());
  }
  r.end();
  return params;
}

// CancelRequest (after Int32 16, Int32 80877102): Int32 processId, Byte[n] secretKey (4 bytes in protocol 3.0)
export function decodeCancelRequest(body: Buffer): { processId: number; secretKey: Buffer } {
  const r = new BodyReader(body, 'CancelRequest');
  const processId = r.int32();
  return { processId, secretKey: r.rest() };
}

// Query 'Q': String query
export function decodeQuery(body: Buffer): string {
  const r = new BodyReader(body, 'Query');
  const sql = r.cstring();
  r.end();
  return sql;
}

export type ParseMessage = { statement: string; sql: string; paramTypeOids: number[] };

// Parse 'P': String statementName, String query, Int16 nParamTypes, Int32[nParamTypes] paramTypeOid (0 = unspecified)
export function decodeParse(body: Buffer): ParseMessage {
  const r = new BodyReader(body, 'Parse');
  const statement = r.cstring();
  const sql = r.cstring();
  const n = count(r.int16(), 'Parse parameter type');
  const paramTypeOids: number[] = [];
  for (let i = 0; i < n; i++) paramTypeOids.push(r.int32() >>> 0);
  r.end();
  return { statement, sql, paramTypeOids };
}

export type BindMessage = {
  portal: string;
  statement: string;
  /** 0 text, 1 binary; empty = all text, one = applies to all, else one per parameter. */
  paramFormats: number[];
  /** Raw parameter values; null is SQL NULL (length -1). */
  params: (Buffer | null)[];
  /** 0 text, 1 binary; empty = all text, one = applies to all, else one per result column. */
  resultFormats: number[];
};

// Bind 'B': String portalName, String statementName,
//   Int16 nParamFormats, Int16[nParamFormats] formatCode,
//   Int16 nParams, (Int32 length (-1 = NULL), Byte[length] value)[nParams],
//   Int16 nResultFormats, Int16[nResultFormats] formatCode
export function decodeBind(body: Buffer): BindMessage {
  const r = new BodyReader(body, 'Bind');
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats: number[] = [];
  for (let i = count(r.int16(), 'Bind parameter format'); i > 0; i--) paramFormats.push(r.int16());
  const params: (Buffer | null)[] = [];
  for (let i = count(r.int16(), 'Bind parameter'); i > 0; i--) {
    const len = r.int32();
    if (len < -1) throw new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, `Bind parameter length is ${len}`);
    params.push(len === -1 ? null : r.bytes(len));
  }
  const resultFormats: number[] = [];
  for (let i = count(r.int16(), 'Bind result format'); i > 0; i--) resultFormats.push(r.int16());
  r.end();
  return { portal, statement, paramFormats, params, resultFormats };
}

export type TargetKind = 'S' | 'P';

// Describe 'D' and Close 'C': Byte1 'S' (statement) or 'P' (portal), String name
export function decodeTarget(body: Buffer, what: 'Describe' | 'Close'): { kind: TargetKind; name: string } {
  const r = new BodyReader(body, what);
  const kind = String.fromCharCode(r.byte());
  if (kind !== 'S' && kind !== 'P') throw new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, `${what} target must be 'S' or 'P', got ${JSON.stringify(kind)}`);
  const name = r.cstring();
  r.end();
  return { kind, name };
}

// Execute 'E': String portalName, Int32 maxRows (0 = no limit)
export function decodeExecute(body: Buffer): { portal: string; maxRows: number } {
  const r = new BodyReader(body, 'Execute');
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  return { portal, maxRows: maxRows <= 0 ? 0 : maxRows };
}
