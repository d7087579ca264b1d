// The embedded broker: a TCP server speaking the Kafka protocol over the topic store and the group coordinator.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { BrokerConfig } from '../config/index.ts';
import type { ApiCodec } from '../kafka/api.ts';
import { ApiVersionsApi } from '../kafka/apis/api-versions.ts';
import { FetchApi } from '../kafka/apis/fetch.ts';
import { ProduceApi } from '../kafka/apis/produce.ts';
import { KafkaErrorCode } from '../kafka/errors.ts';
import { responseHeaderIsFlexible, type RequestHeader } from '../kafka/header.ts';
import type { Reader } from '../kafka/reader.ts';
import type { Writer } from '../kafka/writer.ts';
import { CloseConnection, Connection, NO_RESPONSE, SHARED_READ_BUFFER, type ConnectionInfo } from './connection.ts';
import { BrokerError, BrokerErrorCode } from './errors.ts';
import { FrameLease, FramePool } from './frame-pool.ts';
import { GroupCoordinator } from './groups/index.ts';
import { type HandlerContext, type HandlerEntry } from './handlers/context.ts';
import { HANDLERS } from './handlers/index.ts';
import { ProducerIdAllocator } from './producer-ids.ts';
import { TopicStore } from './topics.ts';

/**
 * One broker per data directory: dataDir/broker.lock holds the owner's pid. A lock left by a process that no longer
 * runs (a crash, kill -9) is taken over.
 */
export type OnRead = { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean };

/**
 * Moves an accepted connection (paused) to a socket made with `onread`, so that its bytes are read into buffers the
 * connection chooses — large produce frames straight into reused ones — instead of a new 64 KiB buffer per read, whose
 * external memory makes V8 run full collections several times a second under load. Node's server has no option for
 * this, so the accepted socket's handle is handed over: the new socket owns it from here, and the accepted one is
 * destroyed without it, which settles the server's connection count. Null (use the accepted socket as it is) where
 * the runtime does not offer what this needs.
 */
export function directReads(accepted: net.Socket, onread: OnRead): net.Socket | null {
  const internals = accepted as unknown as { _handle?: { useUserBuffer?: unknown } | null };
  const handle = internals._handle;
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') return null;
  const own = new net.Socket({ handle, readable: true, writable: true, onread } as unknown as net.SocketConstructorOpts);
  internals._handle = null;
  accepted.destroy();
  return own;
}

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, 'broker.lock');
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (cause) {
    throw new BrokerError(BrokerErrorCode.DATA_DIR_UNUSABLE, `cannot create data directory ${dataDir}: ${(cause as Error).message}`, { cause });
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BrokerError(BrokerErrorCode.DATA_DIR_UNUSABLE, `cannot write ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
    const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && processIsAlive(owner)) {
      throw new BrokerError(BrokerErrorCode.DATA_DIR_LOCKED, `data directory ${dataDir} is in use by another broker (process ${owner}); stop it or use another --data-dir`, {
        fields: { dataDir, pid: owner },
      });
    }
    await rm(file, { force: true }); // stale: its owner is gone
  }
  throw new BrokerError(BrokerErrorCode.DATA_DIR_LOCKED, `data directory ${dataDir} is being taken by another broker starting at the same time`, { fields: { dataDir } });
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cluster id lives in dataDir/cluster.json, made once (22 url-safe characters, like Kafka's). */
async function readOrCreateClusterId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'cluster.json');
  try {
    const meta = JSON.parse(await readFile(file, 'utf8')) as { clusterId?: unknown };
    if (typeof meta.clusterId === 'string' && meta.clusterId.length > 0) return meta.clusterId;
  } catch {
    // first start: no file yet
  }
  const clusterId = randomBytes(16).toString('base64url');
  await writeFile(`${file}.tmp`, JSON.stringify({ clusterId }, null, 2));
  await rename(`${file}.tmp`, file);
  return clusterId;
}

/** Fetch answers can be megabytes each; see ConnectionOptions.serialApiKeys. */
const SERIAL_API_KEYS: ReadonlySet<number> = new Set([FetchApi.key]);
/** Requests whose frames go back to the frame pool once answered: Produce keeps nothing of its request (see FramePool). */
const REUSABLE_FRAME_API_KEYS: ReadonlySet<number> = new Set([ProduceApi.key]);
/** Bytes of large-request buffers the broker keeps between requests for reuse. */
const FRAME_POOL_IDLE_BYTES = 32 * 1024 * 1024;
/**
 * Bytes of one connection's requests the broker holds unanswered before it stops reading that connection. A client
 * that pipelines large produce requests while appends wait for a slow fdatasync would otherwise have the broker read
 * them all into new buffers: on a machine where fresh memory is slow to fault in (a VM that hands free pages back to
 * its host), that burst of page faults held the event loop for over 100 ms and made the stall it was queued behind
 * longer. Beyond this the requests wait in the socket; the client's own limits do the rest.
 */
const MAX_IN_FLIGHT_REQUEST_BYTES = 8 * 1024 * 1024;

export type BrokerOptions = {
  /** Where log lines go (default: stderr with a timestamp). */
  log?: (line: string) => void;
};

export type BrokerStats = { connectionsOpen: number; connectionsTotal: number; requestsTotal: number; connectionsClosedForErrors: number };

export class Broker {
  readonly config: BrokerConfig;
  readonly topics: TopicStore;
  readonly groups: GroupCoordinator;
  readonly producerIds: ProducerIdAllocator;
  readonly log: (line: string) => void;
  /** Stable id of this broker's data directory, reported in Metadata. */
  readonly clusterId: string;
  readonly stats: BrokerStats = { connectionsOpen: 0, connectionsTotal: 0, requestsTotal: 0, connectionsClosedForErrors: 0 };
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly framePool = new FramePool(FRAME_POOL_IDLE_BYTES);
  private readonly apis: Map<number, HandlerEntry>;
  private retentionTimer: NodeJS.Timeout | null = null;
  private nextConnectionId = 1;
  private boundPort = 0;
  private closing: Promise<void> | null = null;
  private unlock: () => Promise<void> = async () => undefined;

  private constructor(
    config: BrokerConfig,
    clusterId: string,
    topics: TopicStore,
    groups: GroupCoordinator,
    producerIds: ProducerIdAllocator,
    log: (line: string) => void,
  ) {
    this.config = config;
    this.producerIds = producerIds;
    this.clusterId = clusterId;
    this.topics = topics;
    this.groups = groups;
    this.log = log;
    this.apis = new Map(HANDLERS.map((h) => [h.api.key, h]));
    // Paused on connect, so that accept() can move the connection to a socket that reads into the broker's buffers.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  /** Opens the data directory (recovering every partition log) and starts listening. */
  static async start(config: BrokerConfig, options: BrokerOptions = {}): Promise<Broker> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} broker: ${line}\n`));
    const unlock = await lockDataDir(config.dataDir);
    let topics: TopicStore;
    try {
      topics = await TopicStore.open(config, log);
    } catch (err) {
      await unlock();
      throw err;
    }
    const clusterId = await readOrCreateClusterId(config.dataDir);
    let groups: GroupCoordinator;
    try {
      groups = await GroupCoordinator.open(path.join(config.dataDir, 'groups'), {
      initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      offsetMetadataMaxBytes: 4096,
    });
    } catch (err) {
      await topics.close();
      await unlock();
      throw err;
    }
    const broker = new Broker(config, clusterId, topics, groups, await ProducerIdAllocator.open(config.dataDir), log);
    broker.unlock = unlock;
    broker.server.listen({ host: config.host, port: config.port });
    try {
      await Promise.race([once(broker.server, 'listening'), once(broker.server, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (cause) {
      await groups.close();
      await topics.close();
      await unlock();
      throw new BrokerError(BrokerErrorCode.LISTEN_FAILED, `cannot listen on ${config.host}:${config.port}: ${(cause as Error).message}`, { cause });
    }
    broker.boundPort = (broker.server.address() as net.AddressInfo).port;
    broker.retentionTimer = setInterval(() => {
      broker.topics.applyRetention().then(
        (n) => n > 0 && log(`retention deleted ${n} segment(s)`),
        (err: unknown) => log(`retention failed: ${(err as Error).message}`),
      );
    }, config.retentionCheckIntervalMs);
    broker.retentionTimer.unref();
    return broker;
  }

  get host(): string {
    return this.config.advertisedHost;
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** The ApiVersions answer: every API with a handler, at the range its codec advertises. */
  advertisedApis(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.apis.values()]
      .map((h) => ({ apiKey: h.api.key, minVersion: h.api.minVersion, maxVersion: h.api.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // The socket asks for its first read buffer while it is made, before the connection exists.
    const made: { conn?: Connection } = {};
    const own = directReads(socket, {
      buffer: () => made.conn?.nextReadBuffer() ?? SHARED_READ_BUFFER,
      callback: (n, buf) => made.conn?.onRead(n, buf) ?? false,
    });
    if (own === null) socket.resume();
    const conn = new Connection(own ?? socket, this.nextConnectionId++, (c, h, b) => this.handleFrame(c, h, b), {
      directReads: own !== null,
      maxRequestBytes: this.config.maxRequestBytes,
      maxInFlight: 64,
      maxInFlightBytes: MAX_IN_FLIGHT_REQUEST_BYTES,
      serialApiKeys: SERIAL_API_KEYS,
      responseHighWaterBytes: 4 * 1024 * 1024,
      idleTimeoutMs: this.config.connectionsMaxIdleMs,
      framePool: this.framePool,
      reusableApiKeys: REUSABLE_FRAME_API_KEYS,
      log: (line) => {
        this.stats.connectionsClosedForErrors++;
        this.log(line);
      },
    });
    made.conn = conn;
    this.connections.add(conn);
    this.stats.connectionsOpen++;
    this.stats.connectionsTotal++;
    (own ?? socket).on('close', () => {
      this.connections.delete(conn);
      this.stats.connectionsOpen--;
    });
  }

  private async handleFrame(conn: ConnectionInfo, header: RequestHeader, body: Reader) {
    this.stats.requestsTotal++;
    const entry = this.apis.get(header.apiKey);
    const who = `client ${JSON.stringify(header.clientId)} (${conn.remote})`;
    if (!entry) throw new CloseConnection(`unknown api key ${header.apiKey} v${header.apiVersion} from ${who}`);
    const api = entry.api as ApiCodec<unknown, unknown>;
    const version = header.apiVersion;
    if (version < 0 || version > api.maxVersion) {
      if (api.key === ApiVersionsApi.key) {
        // KIP-511: answer an unknown ApiVersions version with a v0 body carrying UNSUPPORTED_VERSION and our ranges,
        // so the client can retry with a version we speak.
        const res = { errorCode: KafkaErrorCode.UNSUPPORTED_VERSION, apiKeys: this.advertisedApis(), throttleTimeMs: 0 };
        return { flexibleHeader: false, write: (w: Writer) => ApiVersionsApi.encodeResponse(w, 0, res) };
      }
      throw new CloseConnection(`unsupported ${api.name} version ${version} (supported ${api.minVersion}–${api.maxVersion}) from ${who}`);
    }
    const flexible = version >= api.flexibleFrom;
    let req: unknown;
    try {
      if (flexible) body.taggedFields(); // request header v2 ends with tagged fields
      req = api.decodeRequest(body, version);
    } catch (err) {
      throw new CloseConnection(`malformed ${api.name} v${version} request from ${who}: ${(err as Error).message}`);
    }
    const lease = new FrameLease(this.framePool);
    const ctx: HandlerContext = { broker: this, conn, header, lease };
    let res: unknown;
    try {
      res = await entry.handle(ctx, req);
    } catch (err) {
      lease.release();
      throw err;
    }
    if (res === NO_RESPONSE) {
      lease.release();
      return NO_RESPONSE;
    }
    return {
      flexibleHeader: responseHeaderIsFlexible(api.key, flexible),
      write: (w: Writer) => api.encodeResponse(w, version, res),
      written: () => lease.release(),
    };
  }

  /** Stops accepting, closes every connection, and closes logs and the offset store cleanly. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.retentionTimer) clearInterval(this.retentionTimer);
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const c of this.connections) c.close(null);
      await serverClosed;
      await this.groups.close();
      await this.topics.close();
      await this.unlock();
    })();
    return this.closing;
  }
}
