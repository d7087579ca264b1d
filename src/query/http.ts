// HTTP endpoint of the SQL engine: POST /v1/sql with {"sql": "...", "params": [...]} answers with the columns (name
// and DuckDB type) and the rows, written out as they are encoded, so a large result never sits in memory twice.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { LakeEngine } from './engine.ts';
import { QueryError, QueryErrorCode } from './errors.ts';

export type SqlHttpServerOptions = {
  engine: LakeEngine;
  host?: string;
  port?: number;
  /** Largest request body accepted. */
  maxBodyBytes?: number;
  log?: (line: string) => void;
};

const STATUS: Record<string, number> = {
  [QueryErrorCode.SYNTAX]: 400,
  [QueryErrorCode.NOT_ALLOWED]: 403,
  [QueryErrorCode.UNKNOWN_TABLE]: 404,
  [QueryErrorCode.TOO_MANY_ROWS]: 413,
  [QueryErrorCode.TIMEOUT]: 504,
  [QueryErrorCode.FAILED]: 422,
};

export class SqlHttpServer {
  readonly #server: Server;
  readonly address: string;
  readonly port: number;

  private constructor(server: Server, host: string, port: number) {
    this.#server = server;
    this.port = port;
    this.address = `${host}:${port}`;
  }

  static async start(options: SqlHttpServerOptions): Promise<SqlHttpServer> {
    const host = options.host ?? '127.0.0.1';
    const maxBody = options.maxBodyBytes ?? 1024 ** 2;
    const log = options.log ?? (() => undefined);
    const server = createServer((req, res) => {
      handle(req, res, options.engine, maxBody).catch((err: unknown) => {
        log(`HTTP ${req.method} ${req.url} failed: ${(err as Error).message}`);
        if (!res.headersSent) sendError(res, 500, 'OXBOW_HTTP_INTERNAL', 'XX000', 'internal error; see the server log');
        else res.destroy();
      });
    });
    server.listen(options.port ?? 0, host);
    try {
      await once(server, 'listening');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use (another oxbow up?); pick another with --http-port or server.httpPort, 0 for a free one' : (err as Error).message;
      throw new QueryError(QueryErrorCode.LISTEN_FAILED, `cannot listen on ${host}:${options.port ?? 0} for HTTP: ${why}`, { cause: err });
    }
    return new SqlHttpServer(server, host, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function sendError(res: ServerResponse, status: number, code: string, sqlState: string, message: string): void {
  const body = JSON.stringify({ error: { code, sqlState, message } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage, maxBody: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBody) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req: IncomingMessage, res: ServerResponse, engine: LakeEngine, maxBody: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/v1/health' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  if (url.pathname !== '/v1/sql') return sendError(res, 404, 'OXBOW_HTTP_NOT_FOUND', '42000', `no such endpoint ${url.pathname}; POST /v1/sql`);
  if (req.method !== 'POST') return sendError(res, 405, 'OXBOW_HTTP_BAD_REQUEST', '42000', 'use POST with a JSON body {"sql": "..."}');
  const text = await readBody(req, maxBody);
  if (text === null) return sendError(res, 413, 'OXBOW_HTTP_BODY_TOO_LARGE', '54000', `the request body is larger than ${maxBody} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return sendError(res, 400, 'OXBOW_HTTP_BAD_REQUEST', '22P02', `the request body is not JSON: ${(err as Error).message}`);
  }
  const { sql, params } = (typeof body === 'object' && body !== null ? body : {}) as { sql?: unknown; params?: unknown };
  if (typeof sql !== 'string') return sendError(res, 400, 'OXBOW_HTTP_BAD_REQUEST', '22023', 'the body needs "sql": a string holding one query');
  if (params !== undefined && !(Array.isArray(params) && params.every((p) => p === null || ['string', 'number', 'boolean'].includes(typeof p)))) {
    return sendError(res, 400, 'OXBOW_HTTP_BAD_REQUEST', '22023', '"params" must be a list of strings, numbers, booleans or nulls');
  }
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let result;
  try {
    result = await engine.query(sql, ((params as unknown[] | undefined) ?? []).map((p) => (p === null ? null : String(p))), abort.signal);
  } catch (err) {
    if (err instanceof QueryError) return sendError(res, STATUS[err.code] ?? 400, err.code, err.sqlState, err.message);
    throw err;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  const head = JSON.stringify({ columns: result.columns, tables: result.tables, elapsedMs: Math.round(result.elapsedMs) });
  if (!res.write(`${head.slice(0, -1)},"rows":[`)) await once(res, 'drain');
  for (let i = 0; i < result.rows.length; i += 1000) {
    const part = result.rows.slice(i, i + 1000).map((r) => JSON.stringify(r)).join(',');
    if (!res.write(i === 0 ? part : `,${part}`)) await once(res, 'drain');
  }
  res.end(']}');
}
