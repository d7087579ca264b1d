// ApiVersions (key 18), v0–v3. v3 is flexible. The response header is always v0 (see header.ts).
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type ApiVersionsRequest = {
  clientSoftwareName: string | null; // v3+
  clientSoftwareVersion: string | null; // v3+
};

export type ApiVersionRange = { apiKey: number; minVersion: number; maxVersion: number };

export type ApiVersionsResponse = {
  errorCode: number;
  apiKeys: ApiVersionRange[];
  throttleTimeMs: number; // v1+
};

const FLEX = 3;

// Request v0–v2 => (empty)
// Request v3 => client_software_name:COMPACT_STRING client_software_version:COMPACT_STRING TAG_BUFFER
function decodeRequest(r: Reader, version: number): ApiVersionsRequest {
  if (version < FLEX) return { clientSoftwareName: null, clientSoftwareVersion: null };
  const clientSoftwareName = r.string(true);
  const clientSoftwareVersion = r.string(true);
  r.tags(true);
  return { clientSoftwareName, clientSoftwareVersion };
}

function encodeRequest(w: Writer, version: number, req: ApiVersionsRequest): void {
  if (version < FLEX) return;
  w.string(req.clientSoftwareName ?? '', true).string(req.clientSoftwareVersion ?? '', true).tags(true);
}

// Response v0 => error_code:int16 [api_key:int16 min_version:int16 max_version:int16]
// Response v1–v2 => error_code [api_keys] throttle_time_ms:int32
// Response v3 => error_code:int16 api_keys:COMPACT_ARRAY[api_key min max TAG_BUFFER] throttle_time_ms:int32 TAG_BUFFER
function encodeResponse(w: Writer, version: number, res: ApiVersionsResponse): void {
  const flex = version >= FLEX;
  w.int16(res.errorCode);
  w.array(res.apiKeys, flex, (w, k) => {
    w.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion).tags(flex);
  });
  if (version >= 1) w.int32(res.throttleTimeMs);
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): ApiVersionsResponse {
  const flex = version >= FLEX;
  const errorCode = r.int16();
  const apiKeys = r.array(flex, (r) => {
    const k = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() };
    r.tags(flex);
    return k;
  });
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  r.tags(flex);
  return { errorCode, apiKeys, throttleTimeMs };
}

export const ApiVersionsApi: ApiCodec<ApiVersionsRequest, ApiVersionsResponse> = {
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
