// Shared checks for the data and admin API codec tests: round trips over every version, and bytes from clients
// no one here wrote (KafkaJS 2.2.4, @platformatic/kafka 2.12.1) decoded by ours, and ours parsed by theirs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as platformatic from '@platformatic/kafka';
import type { ApiCodec } from '../../../src/kafka/api.ts';
import { KafkaCodecError } from '../../../src/kafka/errors.ts';
import { Reader } from '../../../src/kafka/reader.ts';
import { Writer } from '../../../src/kafka/writer.ts';

export function requestBytes<Req, Res>(api: ApiCodec<Req, Res>, version: number, req: Req): Buffer {
  const w = new Writer(8); // small, so the growth path runs too
  api.encodeRequest(w, version, req);
  return Buffer.from(w.bytesWritten());
}

export function responseBytes<Req, Res>(api: ApiCodec<Req, Res>, version: number, res: Res): Buffer {
  const w = new Writer(8);
  api.encodeResponse(w, version, res);
  return Buffer.from(w.bytesWritten());
}

/** Decodes a whole body; bytes left over mean the sender and the codec disagree on the layout. */
export function decodeRequest<Req, Res>(api: ApiCodec<Req, Res>, version: number, bytes: Buffer): Req {
  const r = new Reader(bytes);
  const req = api.decodeRequest(r, version);
  assert.equal(r.remaining, 0, `${api.name} v${version} request: ${r.remaining} bytes left undecoded`);
  return req;
}

export function decodeResponse<Req, Res>(api: ApiCodec<Req, Res>, version: number, bytes: Buffer): Res {
  const r = new Reader(bytes);
  const res = api.decodeResponse(r, version);
  assert.equal(r.remaining, 0, `${api.name} v${version} response: ${r.remaining} bytes left undecoded`);
  return res;
}

/**
 * For every version: encoding the full message and encoding what the version can carry both decode to what the
 * version can carry (fields it lacks at their defaults); every truncation of the body is refused with the codec's
 * error; and in flexible versions an unknown top-level tagged field from a newer peer is skipped.
 */
export function assertRoundTrips<Req, Res>(
  api: ApiCodec<Req, Res>,
  full: { request: Req; response: Res },
  at: { request: (version: number) => Req; response: (version: number) => Res },
): void {
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    const req = at.request(v);
    const res = at.response(v);
    for (const input of [full.request, req]) {
      assert.deepStrictEqual(decodeRequest(api, v, requestBytes(api, v, input)), req, `${api.name} v${v} request`);
    }
    for (const input of [full.response, res]) {
      assert.deepStrictEqual(decodeResponse(api, v, responseBytes(api, v, input)), res, `${api.name} v${v} response`);
    }
    const reqBytes = requestBytes(api, v, req);
    const resBytes = responseBytes(api, v, res);
    assertPrefixesRefused((r) => api.decodeRequest(r, v), reqBytes);
    assertPrefixesRefused((r) => api.decodeResponse(r, v), resBytes);
    // A body whose own tag buffer carries known fields (Fetch's cluster id) is checked in that API's test instead.
    if (v >= api.flexibleFrom && reqBytes[reqBytes.length - 1] === 0) {
      assert.deepStrictEqual(decodeRequest(api, v, withUnknownTaggedField(reqBytes)), req, `${api.name} v${v} request, unknown tag`);
    }
    if (v >= api.flexibleFrom && resBytes[resBytes.length - 1] === 0) {
      assert.deepStrictEqual(decodeResponse(api, v, withUnknownTaggedField(resBytes)), res, `${api.name} v${v} response, unknown tag`);
    }
  }
}

function assertPrefixesRefused(decode: (r: Reader) => unknown, bytes: Buffer): void {
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decode(new Reader(bytes.subarray(0, n))), KafkaCodecError, `a prefix of ${n}/${bytes.length} bytes was accepted`);
  }
}

/** A flexible body ends with an empty tag buffer; put one unknown tag (0x7f, 3 bytes) in it. */
export function withUnknownTaggedField(bytes: Buffer): Buffer {
  assert.equal(bytes[bytes.length - 1], 0, 'a flexible body ends with an empty tag buffer');
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([1, 0x7f, 3, 0xab, 0xcd, 0xef])]);
}

// KafkaJS ships CommonJS modules per API version: src/protocol/requests/<api>/v<N>/{request,response}.js.
const requireCjs = createRequire(import.meta.url);
type KafkaJsRequestFactory = (args: Record<string, unknown>) => { apiKey: number; apiVersion: number; encode(): Promise<{ buffer: Buffer }> };

export async function kafkajsRequest(apiDir: string, version: number, apiKey: number, args: Record<string, unknown>): Promise<Buffer> {
  const factory = requireCjs(`kafkajs/src/protocol/requests/${apiDir}/v${version}/request.js`) as KafkaJsRequestFactory;
  const request = factory(args);
  assert.equal(request.apiKey, apiKey);
  assert.equal(request.apiVersion, version);
  return (await request.encode()).buffer;
}

/** KafkaJS's decoder (not its parse step, which throws on error codes) applied to our bytes. */
export async function kafkajsResponse(apiDir: string, version: number, bytes: Buffer): Promise<unknown> {
  const mod = requireCjs(`kafkajs/src/protocol/requests/${apiDir}/v${version}/response.js`) as { decode(b: Buffer): Promise<unknown> };
  return mod.decode(bytes);
}

// @platformatic/kafka exports one module per API version (metadataV9, fetchV12, ...).
type PlatformaticApi = {
  createRequest(...args: unknown[]): { buffers: Buffer[] };
  parseResponse(correlationId: number, apiKey: number, apiVersion: number, reader: InstanceType<typeof platformatic.Reader>): unknown;
};

function platformaticApi(name: string, version: number): PlatformaticApi {
  const mod = (platformatic as unknown as Record<string, PlatformaticApi | undefined>)[`${name}V${version}`];
  assert.ok(mod && typeof mod.createRequest === 'function', `@platformatic/kafka has no ${name}V${version}`);
  return mod;
}

export function platformaticRequest(name: string, version: number, ...args: unknown[]): Buffer {
  return Buffer.concat(platformaticApi(name, version).createRequest(...args).buffers);
}

/** Their parser throws a ResponseError that carries the parsed response when an error code is set; both count. */
export function platformaticResponse(name: string, apiKey: number, version: number, bytes: Buffer): unknown {
  const reader = platformatic.Reader.from(bytes);
  let parsed: unknown;
  try {
    parsed = platformaticApi(name, version).parseResponse(1, apiKey, version, reader);
  } catch (err) {
    if (!(err instanceof platformatic.ResponseError)) throw err;
    parsed = (err as unknown as { response: unknown }).response;
  }
  assert.equal(reader.position, bytes.length, `@platformatic/kafka ${name}V${version} left ${bytes.length - reader.position} bytes unread`);
  return parsed;
}
