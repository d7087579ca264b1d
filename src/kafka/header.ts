// Request and response headers.
//
// RequestHeader v1 => api_key:int16 api_version:int16 correlation_id:int32 client_id:nullable STRING(int16 len)
// RequestHeader v2 => v1 fields, then TAG_BUFFER (client_id keeps its int16 length even in v2)
// ResponseHeader v0 => correlation_id:int32
// ResponseHeader v1 => correlation_id:int32 TAG_BUFFER
// ApiVersions responses always use header v0 (KIP-511), so a client can parse them before it knows our versions.
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

export type RequestHeader = {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
};

/** Reads the fixed part of the header: enough to route the request and to answer errors. */
export function decodeRequestHeaderPrefix(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString(false);
  return { apiKey, apiVersion, correlationId, clientId };
}

export function encodeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId).nullableString(h.clientId, false);
  w.tags(flexible);
}

export const API_VERSIONS_KEY = 18;

export function responseHeaderIsFlexible(apiKey: number, bodyFlexible: boolean): boolean {
  return apiKey !== API_VERSIONS_KEY && bodyFlexible;
}
