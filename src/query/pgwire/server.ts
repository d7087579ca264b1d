// The PostgreSQL wire-protocol server: listens, admits connections, and routes CancelRequests to the connection they
// name. It knows nothing of how SQL runs; that is the executor's job.
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { PgWireConnection, type ConnectionHost } from './connection.ts';
import { PgWireError, PgWireErrorCode } from './errors.ts';
import type { SqlExecutor } from './types.ts';

export type PgWireServerOptions = {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 5432. */
  port?: number;
  executor: SqlExecutor;
  /** Where log lines go (default: stderr with a timestamp). */
  log?: (line: string) => void;
  /** Connections past startup at once; more are refused with SQLSTATE 53300. Default 100. */
  maxConnections?: number;
  /** Reported as server_version; clients read the leading number. Default "15.0 (Oxbow)". */
  serverVersion?: string;
  /** Largest message a client may send; a larger one closes its connection. Default 64 MiB. */
  maxMessageBytes?: number;
};

export class PgWireServer {
  readonly host: string;
  private boundPort = 0;
  private readonly server: net.Server;
  private readonly connections = new Set<PgWireConnection>();
  private readonly admitted = new Map<number, PgWireConnection>();
  private nextProcessId = 1;
  private readonly connectionHost: ConnectionHost;
  private readonly maxConnections: number;
  private closing: Promise<void> | null = null;

  private constructor(options: PgWireServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.maxConnections = options.maxConnections ?? 100;
    const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} pgwire: ${line}\n`));
    this.connectionHost = {
      executor: options.executor,
      log,
      serverVersion: options.serverVersion ?? '15.0 (Oxbow)',
      maxMessageBytes: options.maxMessageBytes ?? 64 * 1024 * 1024,
      admit: (conn) => {
        if (this.admitted.size >= this.maxConnections) return false;
        this.admitted.set(conn.processId, conn);
        return true;
      },
      cancel: (processId, secretKey) => {
        const conn = this.admitted.get(processId);
        if (conn && secretKey.length === 4 && secretKey.readInt32BE(0) === conn.secretKey) conn.cancel();
      },
      released: (conn) => {
        this.connections.delete(conn);
        if (this.admitted.get(conn.processId) === conn) this.admitted.delete(conn.processId);
      },
    };
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: PgWireServerOptions): Promise<PgWireServer> {
    const server = new PgWireServer(options);
    server.server.listen({ host: server.host, port: options.port ?? 5432 });
    try {
      await Promise.race([once(server.server, 'listening'), once(server.server, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (cause) {
      throw new PgWireError(PgWireErrorCode.LISTEN_FAILED, `cannot listen on ${server.host}:${options.port ?? 5432}: ${(cause as Error).message}`, { cause });
    }
    server.boundPort = (server.server.address() as net.AddressInfo).port;
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  /** host:port */
  get address(): string {
    return `${this.host}:${this.boundPort}`;
  }

  /** Connections past startup. */
  get connectionCount(): number {
    return this.admitted.size;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // The process id and secret key identify the connection in a CancelRequest; the key must not be guessable.
    const processId = this.nextProcessId++;
    const conn = new PgWireConnection(socket, processId, randomBytes(4).readInt32BE(0), this.connectionHost);
    this.connections.add(conn);
  }

  /** Stops listening and closes every connection, cancelling their queries. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const c of [...this.connections]) {
        c.close(null, { severity: 'FATAL', sqlState: '57P01', message: 'terminating connection due to administrator command' });
      }
      await closed;
    })();
    return this.closing;
  }
}
