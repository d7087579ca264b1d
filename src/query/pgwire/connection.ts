// One PostgreSQL client connection: startup, then simple and extended queries run one message at a time. Frames are
// read into a bounded queue, rows are streamed to the socket as the client reads them, and any failure stays inside
// this connection (an ErrorResponse for a statement, a closed socket for a broken client).
import type { Socket } from 'node:net';
import { BackendWriter, type ErrorFields, type FieldDescription } from './backend-v3.ts';
import { PgWireError, PgWireErrorCode } from './errors.ts';
import {
  decodeBind,
  decodeCancelRequest,
  decodeExecute,
  decodeParse,
  decodeQuery,
  decodeStartupParameters,
  decodeTarget,
  StartupCode,
} from './frontend-v3.ts';
import { PgOid, pgTypeFor, type PgType } from './pg-types.ts';
import { countParameters, firstKeyword, splitStatements } from './sql-text.ts';
import { SqlError, SqlState, type SqlColumn, type SqlExecutor, type SqlResult } from './types.ts';

/** What a connection needs from the server it belongs to. */
export type ConnectionHost = {
  executor: SqlExecutor;
  log: (line: string) => void;
  serverVersion: string;
  maxMessageBytes: number;
  /** Called once startup succeeds; false means the server is full and the client is turned away. */
  admit: (conn: PgWireConnection) => boolean;
  /** A CancelRequest arrived on this connection for another one. */
  cancel: (processId: number, secretKey: Buffer) => void;
  /** The connection is gone. */
  released: (conn: PgWireConnection) => void;
};

/** PostgreSQL's own bound on a startup packet. */
const MAX_STARTUP_BYTES = 10_000;
/** Output is handed to the socket in pieces of about this size while rows stream. */
const FLUSH_BYTES = 64 * 1024;
/** Above this many unsent bytes in the socket, row streaming waits for the client to read. */
const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;
/** Above this many bytes of received, unprocessed messages, the socket stops reading. */
const QUEUE_HIGH_WATER_BYTES = 1024 * 1024;
/** Prepared statements one connection may hold; each holds its SQL text. */
const MAX_PREPARED_STATEMENTS = 10_000;

type Frame = { type: string; body: Buffer };

type PreparedStatement = {
  sql: string;
  paramTypeOids: number[];
  paramCount: number;
  /** From executor.describe, once asked; null when unknown. */
  described?: SqlColumn[] | null;
};

type RowSource = { next: () => readonly unknown[] | undefined | Promise<readonly unknown[] | undefined>; release: () => void };

type Portal = {
  statement: PreparedStatement;
  params: (string | null)[];
  resultFormats: number[];
  controller: AbortController;
  /** Set once the statement has run (at Describe or at the first Execute). */
  result?: { columns: SqlColumn[]; types: PgType[]; formats: number[]; rows: RowSource; command: string | undefined };
  finished: boolean;
};

/** Thrown inside row streaming when the client went away; nothing more can be sent. */
class ClientGone extends Error {}

export class PgWireConnection {
  readonly processId: number;
  readonly secretKey: number;
  readonly remote: string;
  private readonly socket: Socket;
  private readonly host: ConnectionHost;
  private readonly out = new BackendWriter();
  private phase: 'startup' | 'ready' | 'closed' = 'startup';
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Frame[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private paused = false;
  private skipUntilSync = false;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  /** The controller of the statement running now, for CancelRequest. */
  private active: AbortController | null = null;
  user = '';
  database = '';

  constructor(socket: Socket, processId: number, secretKey: number, host: ConnectionHost) {
    this.socket = socket;
    this.processId = processId;
    this.secretKey = secretKey;
    this.host = host;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.close(null));
    socket.on('error', () => this.close(null));
    socket.on('close', () => this.close(null));
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Aborts the running statement, if any (CancelRequest). */
  cancel(): void {
    this.active?.abort(new SqlError(SqlState.QUERY_CANCELED, 'canceling statement due to user request'));
  }

  /** Closes the connection; with a reason, logs it. A FATAL error may be sent first. */
  close(reason: string | null, fatal?: ErrorFields): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (reason) this.host.log(`closing connection ${this.processId} from ${this.remote}: ${reason}`);
    this.active?.abort(new SqlError(SqlState.QUERY_CANCELED, 'canceling statement because the connection closed'));
    for (const p of this.portals.values()) this.releasePortal(p);
    this.portals.clear();
    this.queue.length = 0;
    this.chunks = [];
    if (fatal && !this.socket.destroyed) {
      this.out.errorResponse(fatal);
      this.socket.end(this.out.take());
      // The client should close on a FATAL error; one that does not is cut off shortly after.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else this.socket.destroy();
    this.host.released(this);
  }

  // ---- framing ----

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.isClosed) {
      if (this.phase === 'startup') {
        if (this.buffered < 4) return;
        const len = this.peek(4).readInt32BE(0);
        if (len < 8 || len > MAX_STARTUP_BYTES) {
          this.close(`invalid startup packet length ${len} (allowed 8..${MAX_STARTUP_BYTES})`);
          return;
        }
        if (this.buffered < len) return;
        const packet = this.take(len);
        this.onStartupPacket(packet.readInt32BE(4), packet.subarray(8));
      } else {
        if (this.buffered < 5) return;
        const head = this.peek(5);
        const type = String.fromCharCode(head[0]!);
        const len = head.readInt32BE(1);
        if (len < 4) {
          this.protocolViolation(`message ${JSON.stringify(type)} has invalid length ${len}`);
          return;
        }
        if (len > this.host.maxMessageBytes) {
          const e = new PgWireError(PgWireErrorCode.MESSAGE_TOO_LARGE, `message ${JSON.stringify(type)} of ${len} bytes exceeds maxMessageBytes (${this.host.maxMessageBytes})`);
          this.close(`${e.code}: ${e.message}`, { severity: 'FATAL', sqlState: SqlState.PROGRAM_LIMIT_EXCEEDED, message: e.message });
          return;
        }
        if (this.buffered < 1 + len) return;
        const frame = this.take(1 + len);
        this.queue.push({ type, body: frame.subarray(5) });
        this.queuedBytes += frame.length;
        if (this.queuedBytes > QUEUE_HIGH_WATER_BYTES && !this.paused) {
          this.paused = true;
          this.socket.pause();
        }
        this.startPump();
      }
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }

  private protocolViolation(message: string): void {
    const e = new PgWireError(PgWireErrorCode.PROTOCOL_VIOLATION, message);
    this.close(`${e.code}: ${e.message}`, { severity: 'FATAL', sqlState: SqlState.PROTOCOL_VIOLATION, message });
  }

  // ---- startup ----

  private onStartupPacket(code: number, body: Buffer): void {
    if (code === StartupCode.SSL_REQUEST || code === StartupCode.GSSENC_REQUEST) {
      // No TLS or GSS encryption yet: 'N', and the client goes on in plain text (or gives up, if it requires TLS).
      this.socket.write(this.out.refuseEncryption().take());
      return;
    }
    if (code === StartupCode.CANCEL_REQUEST) {
      try {
        const { processId, secretKey } = decodeCancelRequest(body);
        this.host.cancel(processId, secretKey);
      } catch {
        // A malformed cancel request is ignored, as PostgreSQL does.
      }
      this.close(null);
      return;
    }
    const major = code >>> 16;
    const minor = code & 0xffff;
    if (major !== 3) {
      this.close(`unsupported protocol ${major}.${minor}`, {
        severity: 'FATAL',
        sqlState: SqlState.FEATURE_NOT_SUPPORTED,
        message: `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`,
      });
      return;
    }
    let params: Map<string, string>;
    try {
      params = decodeStartupParameters(body);
    } catch (err) {
      this.protocolViolation((err as Error).message);
      return;
    }
    this.user = params.get('user') ?? '';
    this.database = params.get('database') ?? this.user;
    const unrecognized = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || unrecognized.length > 0) this.out.negotiateProtocolVersion(0, unrecognized);
    if (!this.host.admit(this)) {
      this.close('too many connections', { severity: 'FATAL', sqlState: SqlState.TOO_MANY_CONNECTIONS, message: 'sorry, too many clients already' });
      return;
    }
    this.phase = 'ready';
    this.out.authenticationOk();
    const status: [string, string][] = [
      ['server_version', this.host.serverVersion],
      ['server_encoding', 'UTF8'],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
      ['TimeZone', 'UTC'],
      ['IntervalStyle', 'postgres'],
      ['integer_datetimes', 'on'],
      ['standard_conforming_strings', 'on'],
      ['is_superuser', 'off'],
      ['session_authorization', this.user],
      ['application_name', params.get('application_name') ?? ''],
    ];
    for (const [k, v] of status) this.out.parameterStatus(k, v);
    this.out.backendKeyData(this.processId, this.secretKey);
    this.out.readyForQuery('I');
    this.socket.write(this.out.take());
  }

  // ---- message loop ----

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.pump().then(
      () => {
        this.pumping = false;
      },
      (err: unknown) => {
        this.pumping = false;
        if (err instanceof ClientGone) this.close(null);
        else this.close(`internal error: ${(err as Error)?.stack ?? String(err)}`);
      },
    );
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && this.phase === 'ready') {
      const frame = this.queue.shift()!;
      this.queuedBytes -= frame.body.length + 5;
      if (this.paused && this.queuedBytes <= QUEUE_HIGH_WATER_BYTES / 2) {
        this.paused = false;
        this.socket.resume();
      }
      await this.handle(frame);
    }
  }

  private async handle({ type, body }: Frame): Promise<void> {
    if (type === 'X') {
      this.close(null);
      return;
    }
    if (type === 'S') {
      this.skipUntilSync = false;
      // Each Sync ends the implicit transaction, and portals live only as long as their transaction.
      for (const p of this.portals.values()) this.releasePortal(p);
      this.portals.clear();
      this.out.readyForQuery('I');
      this.flush();
      return;
    }
    if (type === 'H') {
      this.flush();
      return;
    }
    if (this.skipUntilSync) return;
    try {
      switch (type) {
        case 'Q':
          await this.simpleQuery(decodeQuery(body));
          return;
        case 'P':
          this.parse(body);
          return;
        case 'B':
          this.bind(body);
          return;
        case 'D':
          await this.describe(body);
          return;
        case 'E':
          await this.execute(body);
          return;
        case 'C':
          this.closeTarget(body);
          return;
        case 'd':
        case 'c':
        case 'f':
          // Copy messages outside a COPY are ignored, as PostgreSQL does: the client may still be sending after an error.
          return;
        case 'F':
          throw new SqlError(SqlState.FEATURE_NOT_SUPPORTED, 'the function call protocol message is not supported');
        default:
          this.protocolViolation(`invalid frontend message type ${JSON.stringify(type)} (0x${type.charCodeAt(0).toString(16)})`);
          return;
      }
    } catch (err) {
      if (err instanceof ClientGone || this.phase === 'closed') throw new ClientGone();
      if (err instanceof PgWireError) {
        this.protocolViolation(err.message);
        return;
      }
      this.out.errorResponse(this.errorFields(err));
      if (type === 'Q' || type === 'F') {
        this.out.readyForQuery('I');
        this.flush();
      } else this.skipUntilSync = true;
    }
  }

  private errorFields(err: unknown): ErrorFields {
    if (err instanceof SqlError) return { severity: 'ERROR', sqlState: err.sqlState, message: err.message, detail: err.detail, hint: err.hint };
    // Another area's error that already names its SQLSTATE (a query engine's own error class) passes through as is.
    const sqlState = err instanceof Error ? (err as Error & { sqlState?: unknown }).sqlState : undefined;
    if (err instanceof Error && typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState)) {
      return { severity: 'ERROR', sqlState, message: err.message };
    }
    this.host.log(`connection ${this.processId}: unexpected error from the executor: ${(err as Error)?.stack ?? String(err)}`);
    return { severity: 'ERROR', sqlState: SqlState.INTERNAL_ERROR, message: `internal error: ${(err as Error)?.message ?? String(err)}` };
  }

  // ---- simple query ----

  private async simpleQuery(sql: string): Promise<void> {
    // A simple query drops the unnamed statement and portal.
    this.statements.delete('');
    const unnamed = this.portals.get('');
    if (unnamed) this.releasePortal(unnamed);
    this.portals.delete('');
    const statements = splitStatements(sql);
    if (statements.length === 0) this.out.emptyQueryResponse();
    for (const text of statements) {
      // An error here propagates: the rest of the statements are skipped, then ErrorResponse and ReadyForQuery.
      const portal = this.newPortal({ sql: text, paramTypeOids: [], paramCount: 0 }, [], []);
      try {
        await this.run(portal);
        await this.sendRows(portal, 0, true);
      } finally {
        this.releasePortal(portal);
      }
    }
    this.out.readyForQuery('I');
    this.flush();
  }

  // ---- extended query ----

  private parse(body: Buffer): void {
    const msg = decodeParse(body);
    if (msg.statement !== '' && this.statements.has(msg.statement)) {
      throw new SqlError(SqlState.DUPLICATE_PREPARED_STATEMENT, `prepared statement "${msg.statement}" already exists`);
    }
    if (msg.statement !== '' && this.statements.size >= MAX_PREPARED_STATEMENTS) {
      throw new SqlError(SqlState.PROGRAM_LIMIT_EXCEEDED, `too many prepared statements on this connection (limit ${MAX_PREPARED_STATEMENTS})`, {
        hint: 'Close prepared statements that are no longer needed.',
      });
    }
    const parts = splitStatements(msg.sql);
    if (parts.length > 1) throw new SqlError(SqlState.SYNTAX_ERROR, 'cannot insert multiple commands into a prepared statement');
    const sql = parts[0] ?? '';
    this.statements.set(msg.statement, {
      sql,
      paramTypeOids: msg.paramTypeOids,
      paramCount: Math.max(msg.paramTypeOids.length, countParameters(sql)),
    });
    this.out.parseComplete();
  }

  private bind(body: Buffer): void {
    const msg = decodeBind(body);
    const statement = this.statements.get(msg.statement);
    if (!statement) throw new SqlError(SqlState.UNDEFINED_PREPARED_STATEMENT, `prepared statement "${msg.statement}" does not exist`);
    if (msg.portal !== '' && this.portals.has(msg.portal)) throw new SqlError(SqlState.DUPLICATE_CURSOR, `portal "${msg.portal}" already exists`);
    if (msg.params.length !== statement.paramCount) {
      throw new SqlError(
        SqlState.PROTOCOL_VIOLATION,
        `bind message supplies ${msg.params.length} parameters, but prepared statement "${msg.statement}" requires ${statement.paramCount}`,
      );
    }
    const formats = expandFormats(msg.paramFormats, msg.params.length, 'parameter');
    const params = msg.params.map((raw, i) => (raw === null ? null : decodeParam(raw, formats[i]!, statement.paramTypeOids[i] ?? 0, i + 1)));
    for (const f of msg.resultFormats) {
      if (f !== 0 && f !== 1) throw new SqlError(SqlState.PROTOCOL_VIOLATION, `unsupported format code: ${f}`);
    }
    const old = this.portals.get(msg.portal);
    if (old) this.releasePortal(old);
    this.portals.set(msg.portal, this.newPortal(statement, params, msg.resultFormats));
    this.out.bindComplete();
  }

  private async describe(body: Buffer): Promise<void> {
    const { kind, name } = decodeTarget(body, 'Describe');
    if (kind === 'S') {
      const statement = this.statements.get(name);
      if (!statement) throw new SqlError(SqlState.UNDEFINED_PREPARED_STATEMENT, `prepared statement "${name}" does not exist`);
      const oids: number[] = [];
      for (let i = 0; i < statement.paramCount; i++) oids.push(statement.paramTypeOids[i] || PgOid.text);
      this.out.parameterDescription(oids);
      if (statement.described === undefined) {
        statement.described = statement.sql === '' || !this.host.executor.describe ? null : await this.host.executor.describe(statement.sql);
      }
      const columns = statement.described;
      if (columns && columns.length > 0) {
        this.out.rowDescription(columns.map((c) => fieldFor(c, pgTypeFor(c.type), 0)));
      } else this.out.noData();
      return;
    }
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError(SqlState.INVALID_CURSOR_NAME, `portal "${name}" does not exist`);
    // Clients describe a portal just before executing it; running the statement now gives the true columns, and the
    // rows wait in the portal for Execute.
    await this.run(portal);
    const r = portal.result;
    if (r && r.columns.length > 0) this.out.rowDescription(r.columns.map((c, i) => fieldFor(c, r.types[i]!, r.formats[i]!)));
    else this.out.noData();
  }

  private async execute(body: Buffer): Promise<void> {
    const { portal: name, maxRows } = decodeExecute(body);
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError(SqlState.INVALID_CURSOR_NAME, `portal "${name}" does not exist`);
    await this.run(portal);
    await this.sendRows(portal, maxRows, false);
  }

  private closeTarget(body: Buffer): void {
    const { kind, name } = decodeTarget(body, 'Close');
    if (kind === 'S') this.statements.delete(name);
    else {
      const portal = this.portals.get(name);
      if (portal) this.releasePortal(portal);
      this.portals.delete(name);
    }
    this.out.closeComplete();
  }

  // ---- running statements ----

  private newPortal(statement: PreparedStatement, params: (string | null)[], resultFormats: number[]): Portal {
    return { statement, params, resultFormats, controller: new AbortController(), finished: false };
  }

  /** Runs the portal's statement once; later calls find the result already there. */
  private async run(portal: Portal): Promise<void> {
    if (portal.result || portal.statement.sql === '') return;
    const signal = portal.controller.signal;
    let result: SqlResult;
    this.active = portal.controller;
    try {
      result = await this.host.executor.execute(portal.statement.sql, portal.params, signal);
    } catch (err) {
      throw canceledOr(err, signal);
    } finally {
      this.active = null;
    }
    if (this.phase === 'closed') {
      rowSource(result.rows).release();
      throw new ClientGone();
    }
    const types = result.columns.map((c) => pgTypeFor(c.type));
    const formats = expandFormats(portal.resultFormats, result.columns.length, 'result');
    const rows = rowSource(result.rows);
    portal.result = { columns: result.columns, types, formats, rows, command: result.command };
    formats.forEach((f, i) => {
      if (f === 1 && !types[i]!.binary) {
        throw new SqlError(SqlState.FEATURE_NOT_SUPPORTED, `binary format is not supported for column "${result.columns[i]!.name}" of type ${result.columns[i]!.type}`, {
          hint: 'Request text format (format code 0) for this column.',
        });
      }
    });
  }

  /**
   * Sends the portal's rows (at most `maxRows`, 0 for all) and then CommandComplete, or PortalSuspended when the limit
   * stopped it. Output goes to the socket in pieces, waiting whenever the client has not read what it was sent.
   */
  private async sendRows(portal: Portal, maxRows: number, withDescription: boolean): Promise<void> {
    const r = portal.result;
    if (!r) {
      this.out.emptyQueryResponse();
      return;
    }
    if (r.columns.length === 0) {
      if (!portal.finished) r.rows.release();
      portal.finished = true;
      this.out.commandComplete(r.command ?? commandTagFor(portal.statement.sql));
      return;
    }
    if (withDescription) this.out.rowDescription(r.columns.map((c, i) => fieldFor(c, r.types[i]!, r.formats[i]!)));
    const signal = portal.controller.signal;
    let sent = 0;
    this.active = portal.controller;
    try {
      while (!portal.finished) {
        if (maxRows > 0 && sent >= maxRows) {
          this.out.portalSuspended();
          return;
        }
        if (signal.aborted) throw canceledOr(signal.reason, signal);
        let row: readonly unknown[] | undefined;
        try {
          const next = r.rows.next();
          row = next instanceof Promise ? await next : next;
        } catch (err) {
          throw canceledOr(err, signal);
        }
        if (row === undefined) {
          portal.finished = true;
          break;
        }
        const values: (Buffer | null)[] = [];
        for (let i = 0; i < r.columns.length; i++) {
          const v = row[i];
          if (v === null || v === undefined) values.push(null);
          else if (r.formats[i] === 1) values.push(r.types[i]!.binary!(v));
          else values.push(Buffer.from(r.types[i]!.text(v), 'utf8'));
        }
        this.out.dataRow(values);
        sent++;
        if (this.out.length >= FLUSH_BYTES) await this.flushAndWait();
      }
    } finally {
      this.active = null;
    }
    this.out.commandComplete(`SELECT ${sent}`);
  }

  private releasePortal(portal: Portal): void {
    if (portal.result && !portal.finished) portal.result.rows.release();
    portal.finished = true;
  }

  // ---- output ----

  private flush(): void {
    if (this.out.length === 0 || this.phase === 'closed') return;
    this.socket.write(this.out.take());
  }

  /** Writes what is buffered and waits until the client has read the socket down to the high-water mark. */
  private async flushAndWait(): Promise<void> {
    this.flush();
    while (this.phase !== 'closed' && this.socket.writableLength > SOCKET_HIGH_WATER_BYTES) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
    if (this.phase === 'closed') throw new ClientGone();
  }
}

/** Format codes: none means all text, one applies to all, otherwise one per item. */
function expandFormats(codes: readonly number[], n: number, what: string): number[] {
  if (codes.length === 0) return new Array<number>(n).fill(0);
  if (codes.length === 1) return new Array<number>(n).fill(codes[0]!);
  if (codes.length !== n) throw new SqlError(SqlState.PROTOCOL_VIOLATION, `bind message has ${codes.length} ${what} formats but ${n} ${what}s`);
  return [...codes];
}

/** A parameter as the text the executor takes; binary values of the common fixed-width types are converted. */
function decodeParam(raw: Buffer, format: number, typeOid: number, position: number): string {
  if (format === 0) {
    const s = raw.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(raw)) {
      throw new SqlError(SqlState.CHARACTER_NOT_IN_REPERTOIRE, `parameter $${position} is not valid UTF-8`);
    }
    return s;
  }
  if (format !== 1) throw new SqlError(SqlState.PROTOCOL_VIOLATION, `unsupported format code: ${format}`);
  const wrongSize = () => new SqlError(SqlState.INVALID_BINARY_REPRESENTATION, `incorrect binary data format in bind parameter $${position}`);
  switch (typeOid) {
    case PgOid.bool:
      if (raw.length !== 1) throw wrongSize();
      return raw[0] ? 'true' : 'false';
    case PgOid.int2:
      if (raw.length !== 2) throw wrongSize();
      return String(raw.readInt16BE(0));
    case PgOid.int4:
      if (raw.length !== 4) throw wrongSize();
      return String(raw.readInt32BE(0));
    case PgOid.int8:
      if (raw.length !== 8) throw wrongSize();
      return raw.readBigInt64BE(0).toString();
    case PgOid.float4:
      if (raw.length !== 4) throw wrongSize();
      return String(raw.readFloatBE(0));
    case PgOid.float8:
      if (raw.length !== 8) throw wrongSize();
      return String(raw.readDoubleBE(0));
    case PgOid.text:
    case PgOid.varchar:
    case PgOid.bpchar:
    case PgOid.json:
      return raw.toString('utf8');
    case PgOid.bytea:
      return `\\x${raw.toString('hex')}`;
    case PgOid.uuid: {
      if (raw.length !== 16) throw wrongSize();
      const h = raw.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    default:
      throw new SqlError(SqlState.FEATURE_NOT_SUPPORTED, `binary format for parameter $${position} of type OID ${typeOid} is not supported`, {
        hint: 'Send parameters in text format (format code 0).',
      });
  }
}

function fieldFor(column: SqlColumn, type: PgType, format: number): FieldDescription {
  return { name: column.name, typeOid: type.oid, typeSize: type.size, typeModifier: type.modifier, format };
}

/** A command tag for a statement without rows whose executor named none: its first keyword, as PostgreSQL would. */
function commandTagFor(sql: string): string {
  const k = firstKeyword(sql);
  return k === '' ? 'OK' : k;
}

/** After an abort, whatever the executor threw becomes "query canceled" (57014). */
function canceledOr(err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted) return err;
  if (err instanceof SqlError && err.sqlState === SqlState.QUERY_CANCELED) return err;
  const reason: unknown = signal.reason;
  if (reason instanceof SqlError) return reason;
  return new SqlError(SqlState.QUERY_CANCELED, 'canceling statement due to user request', { cause: err });
}

function rowSource(rows: SqlResult['rows']): RowSource {
  if (Array.isArray(rows)) {
    const list = rows as readonly (readonly unknown[])[];
    let i = 0;
    return { next: () => (i < list.length ? list[i++] : undefined), release: () => undefined };
  }
  const it = (rows as AsyncIterable<readonly unknown[]>)[Symbol.asyncIterator]();
  return {
    next: async () => {
      const r = await it.next();
      return r.done ? undefined : r.value;
    },
    release: () => {
      it.return?.().catch(() => undefined);
    },
  };
}
