// What every request handler receives, and the shape of the handler table.
import type { ApiCodec } from '../../kafka/api.ts';
import type { RequestHeader } from '../../kafka/header.ts';
import type { Broker } from '../broker.ts';
import type { ConnectionInfo, NO_RESPONSE } from '../connection.ts';
import type { FrameLease } from '../frame-pool.ts';

/** `lease`: buffers for the answer (a fetch's record batches), given back once the answer is written. */
export type HandlerContext = { broker: Broker; conn: ConnectionInfo; header: RequestHeader; lease: FrameLease };

export type HandlerEntry = {
  api: ApiCodec<never, never> | ApiCodec<unknown, unknown>;
  handle: (ctx: HandlerContext, req: unknown) => Promise<unknown>;
};

/** Pairs a codec with its handler, keeping the request and response types tied together. */
export function handler<Req, Res>(
  api: ApiCodec<Req, Res>,
  handle: (ctx: HandlerContext, req: Req) => Promise<Res | typeof NO_RESPONSE>,
): HandlerEntry {
  return { api: api as unknown as ApiCodec<unknown, unknown>, handle: handle as (ctx: HandlerContext, req: unknown) => Promise<unknown> };
}
