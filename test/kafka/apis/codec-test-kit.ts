// Shared checks for the codec tests: round trips over every version, and bytes from clients no one here wrote
// (KafkaJS 2.2.4, @platformatic/kafka 2.12.1) decoded by ours, and ours parsed by theirs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as platformatic from '@platformatic/kafka';
import type { ApiCodec } from '../../../src/kafka/api.ts';
import { KafkaCodecError } from '../../../src/kafka/errors.ts';
import { Reader } from '../../../src/kafka/reader.ts';
import { Writer } from '../../../src/kafka/writer.ts';

export function versionsOf(api: { minVersion: number; maxVersion: number }): number[] {
  return Array.from({ length: api.maxVersion - api.minVersion + 1 }, (_, i) => api.minVersion + i);
}

export function encodeRequestBytes<Req>(api: ApiCodec<Req, unknown>, version: number, req: Req): Buffer {
  const w = new Writer(8);
  api.encodeRequest(w, version, req);
  return Buffer.from(w.bytesWritten());
}

export function encodeResponseBytes<Res>(api: ApiCodec<unknown, Res>, version: number, res: Res): Buffer {
  const w = new Writer(8);
  api.encodeResponse(w, version, res);
  return Buffer.from(w.bytesWritten());
}

/** Decodes a whole request body; bytes left over mean the codec and the sender disagree on the layout. */
export function decodeRequestBytes<Req>(api: ApiCodec<Req, unknown>, version: number, bytes: Buffer): Req {
  const r = new Reader(bytes);
  const req = api.decodeRequest(r, version);
  assert.equal(r.remaining, 0, `${api.name} v${version} request: ${r.remaining} bytes left undecoded`);
  return req;
}

export function decodeResponseBytes<Res>(api: ApiCodec<unknown, Res>, version: number, bytes: Buffer): Res {
  const r = new Reader(bytes);
  const res = api.decodeResponse(r, version);
  assert.equal(r.remaining, 0, `${api.name} v${version} response: ${r.remaining} bytes left undecoded`);
  return res;
}

/** Every proper prefix of a body is refused with the codec's own error, never decoded into something. */
export function assertPrefixesRefused(decode: (r: Reader) => unknown, bytes: Buffer): void {
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decode(new Reader(bytes.subarray(0, n))), KafkaCodecError, `prefix of ${n}/${bytes.length} bytes was accepted`);
  }
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
      assert.deepStrictEqual(decodeRequestBytes(api, v, encodeRequestBytes(api, v, input)), req, `${api.name} v${v} request`);
    }
    for (const input of [full.response, res]) {
      assert.deepStrictEqual(decodeResponseBytes(api, v, encodeResponseBytes(api, v, input)), res, `${api.name} v${v} response`);
    }
    const reqBytes = encodeRequestBytes(api, v, req);
    const resBytes = encodeResponseBytes(api, v, res);
    assertPrefixesRefused((r) => api.decodeRequest(r, v), reqBytes);
    assertPrefixesRefused((r) => api.decodeResponse(r, v), resBytes);
    // A body whose own tag buffer carries known fields (Fetch's cluster id) is checked in that API's test instead.
    if (v >= api.flexibleFrom && reqBytes[reqBytes.length - 1] === 0) {
      assert.deepStrictEqual(decodeRequestBytes(api, v, withUnknownTaggedField(reqBytes)), req, `${api.name} v${v} request, unknown tag`);
    }
    if (v >= api.flexibleFrom && resBytes[resBytes.length - 1] === 0) {
      assert.deepStrictEqual(decodeResponseBytes(api, v, withUnknownTaggedField(resBytes)), res, `${api.name} v${v} response, unknown tag`);
    }
  }
}

/**
 * Replaces the empty top-level tag buffer that ends a flexible body with one unknown tagged field, as a newer
 * client might send; the decoder must skip it.
 */
export function withUnknownTaggedField(bytes: Buffer): Buffer {
  assert.equal(bytes[bytes.length - 1], 0, 'a flexible body ends with an empty tag buffer');
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([1, 0x7f, 3, 0xca, 0xfe, 0x00])]);
}

// KafkaJS ships CommonJS request/response modules per API version: src/protocol/requests/<api>/v<N>/.
const requireCjs = createRequire(import.meta.url);

type KafkaJsRequest = { apiKey: number; apiVersion: number; encode(): Promise<{ buffer: Buffer }> };
type KafkaJsRequestFactory = (args: Record<string, unknown>) => KafkaJsRequest;
type KafkaJsResponseModule = { decode(bytes: Buffer): Promise<unknown> };

export async function kafkajsRequestBytes(
  apiDir: string,
  version: number,
  args: Record<string, unknown>,
  expectedApiKey: number,
): Promise<Buffer> {
  const factory = requireCjs(`kafkajs/src/protocol/requests/${apiDir}/v${version}/request.js`) as KafkaJsRequestFactory;
  const request = factory(args);
  assert.equal(request.apiKey, expectedApiKey);
  assert.equal(request.apiVersion, version);
  return (await request.encode()).buffer;
}

export async function kafkajsDecodeResponse(apiDir: string, version: number, bytes: Buffer): Promise<unknown> {
  const mod = requireCjs(`kafkajs/src/protocol/requests/${apiDir}/v${version}/response.js`) as KafkaJsResponseModule;
  return mod.decode(bytes);
}

// @platformatic/kafka exports one module per API version (joinGroupV6, ...) with createRequest and parseResponse.
type PlatformaticWriter = { buffers: Buffer[] };
type PlatformaticReader = InstanceType<typeof platformatic.Reader>;
type PlatformaticApi = {
  createRequest(...args: unknown[]): PlatformaticWriter;
  parseResponse(correlationId: number, apiKey: number, apiVersion: number, reader: PlatformaticReader): unknown;
};

function platformaticApi(name: string, version: number): PlatformaticApi {
  const mod = (platformatic as unknown as Record<string, PlatformaticApi | undefined>)[`${name}V${version}`];
  assert.ok(mod && typeof mod.createRequest === 'function', `@platformatic/kafka has no ${name}V${version}`);
  return mod;
}

export function platformaticRequestBytes(name: string, version: number, ...args: unknown[]): Buffer {
  return Buffer.concat(platformaticApi(name, version).createRequest(...args).buffers);
}

/**
 * Parses our response bytes with platformatic's parser. It throws a ResponseError carrying the parsed response
 * when any error code is set; that response is what a caller sees, so it is returned too. `parserVersion` names
 * the module whose parser a version reuses when its own module does not export one.
 */
export function platformaticParseResponse(name: string, apiKey: number, version: number, bytes: Buffer, parserVersion = version): unknown {
  const reader = platformatic.Reader.from(bytes);
  const { parseResponse } = platformaticApi(name, parserVersion);
  let parsed: unknown;
  try {
    parsed = parseResponse(1, apiKey, version, reader);
  } catch (err) {
    if (!(err instanceof platformatic.ResponseError)) throw err;
    parsed = (err as unknown as { response: unknown }).response;
  }
  assert.equal(reader.position, bytes.length, `platformatic ${name}V${version} left ${bytes.length - reader.position} bytes unread`);
  return parsed;
}
