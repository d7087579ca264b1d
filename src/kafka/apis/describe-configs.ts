// DescribeConfigs (key 32), v0–v4: configuration entries of topics and brokers. v4 is flexible.
import type { ApiCodec } from '../api.ts';
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';

export type DescribeConfigsResource = {
  resourceType: number;
  resourceName: string;
  /** null asks for every key. */
  configurationKeys: string[] | null;
};

export type DescribeConfigsRequest = {
  resources: DescribeConfigsResource[];
  includeSynonyms: boolean; // v1+, default false
  includeDocumentation: boolean; // v3+, default false
};

export type DescribeConfigsSynonym = { name: string; value: string | null; source: number };

export type DescribeConfigsResourceResult = {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean; // v0 only, default false
  configSource: number; // v1+, default -1
  isSensitive: boolean;
  synonyms: DescribeConfigsSynonym[]; // v1+
  configType: number; // v3+, default 0
  documentation: string | null; // v3+, default null
};

export type DescribeConfigsResult = {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
  configs: DescribeConfigsResourceResult[];
};

export type DescribeConfigsResponse = {
  throttleTimeMs: number;
  results: DescribeConfigsResult[];
};

const FLEX = 4;

// Request v0 => [resources:resource_type:INT8 resource_name:STRING [configuration_keys:STRING] (nullable)]
// Request v1–v2 => [resources] include_synonyms:BOOLEAN
// Request v3 => [resources] include_synonyms include_documentation:BOOLEAN
// Request v4 => compact strings/arrays; TAG_BUFFER after each resource and the body
function decodeRequest(r: Reader, version: number): DescribeConfigsRequest {
  const flex = version >= FLEX;
  const resources = r.array(flex, (r) => {
    const resourceType = r.int8();
    const resourceName = r.string(flex);
    const configurationKeys = r.nullableArray(flex, (r) => r.string(flex));
    r.tags(flex);
    return { resourceType, resourceName, configurationKeys };
  });
  const includeSynonyms = version >= 1 ? r.bool() : false;
  const includeDocumentation = version >= 3 ? r.bool() : false;
  r.tags(flex);
  return { resources, includeSynonyms, includeDocumentation };
}

function encodeRequest(w: Writer, version: number, req: DescribeConfigsRequest): void {
  const flex = version >= FLEX;
  w.array(req.resources, flex, (w, res) => {
    w.int8(res.resourceType).string(res.resourceName, flex);
    w.nullableArray(res.configurationKeys, flex, (w, k) => {
      w.string(k, flex);
    });
    w.tags(flex);
  });
  if (version >= 1) w.bool(req.includeSynonyms);
  if (version >= 3) w.bool(req.includeDocumentation);
  w.tags(flex);
}

// Response v0 => throttle_time_ms:INT32 [results:error_code:INT16 error_message:NULLABLE_STRING resource_type:INT8 resource_name:STRING
//                [configs:name:STRING value:NULLABLE_STRING read_only:BOOLEAN is_default:BOOLEAN is_sensitive:BOOLEAN]]
// Response v1–v2 => configs: name value read_only config_source:INT8 is_sensitive
//                   [synonyms:name:STRING value:NULLABLE_STRING source:INT8]
// Response v3 => configs: ... [synonyms] config_type:INT8 documentation:NULLABLE_STRING
// Response v4 => compact strings/arrays; TAG_BUFFER after each synonym, config, result and the body
function encodeResponse(w: Writer, version: number, res: DescribeConfigsResponse): void {
  const flex = version >= FLEX;
  w.int32(res.throttleTimeMs);
  w.array(res.results, flex, (w, result) => {
    w.int16(result.errorCode).nullableString(result.errorMessage, flex).int8(result.resourceType).string(result.resourceName, flex);
    w.array(result.configs, flex, (w, c) => {
      w.string(c.name, flex).nullableString(c.value, flex).bool(c.readOnly);
      if (version === 0) w.bool(c.isDefault);
      else w.int8(c.configSource);
      w.bool(c.isSensitive);
      if (version >= 1) {
        w.array(c.synonyms, flex, (w, s) => {
          w.string(s.name, flex).nullableString(s.value, flex).int8(s.source).tags(flex);
        });
      }
      if (version >= 3) w.int8(c.configType).nullableString(c.documentation, flex);
      w.tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
}

function decodeResponse(r: Reader, version: number): DescribeConfigsResponse {
  const flex = version >= FLEX;
  const throttleTimeMs = r.int32();
  const results = r.array(flex, (r) => {
    const errorCode = r.int16();
    const errorMessage = r.nullableString(flex);
    const resourceType = r.int8();
    const resourceName = r.string(flex);
    const configs = r.array(flex, (r) => {
      const name = r.string(flex);
      const value = r.nullableString(flex);
      const readOnly = r.bool();
      const isDefault = version === 0 ? r.bool() : false;
      const configSource = version >= 1 ? r.int8() : -1;
      const isSensitive = r.bool();
      const synonyms =
        version >= 1
          ? r.array(flex, (r) => {
              const s = { name: r.string(flex), value: r.nullableString(flex), source: r.int8() };
              r.tags(flex);
              return s;
            })
          : [];
      const configType = version >= 3 ? r.int8() : 0;
      const documentation = version >= 3 ? r.nullableString(flex) : null;
      r.tags(flex);
      return { name, value, readOnly, isDefault, configSource, isSensitive, synonyms, configType, documentation };
    });
    r.tags(flex);
    return { errorCode, errorMessage, resourceType, resourceName, configs };
  });
  r.tags(flex);
  return { throttleTimeMs, results };
}

export const DescribeConfigsApi: ApiCodec<DescribeConfigsRequest, DescribeConfigsResponse> = {
  key: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  minImplementedVersion: 0,
  flexibleFrom: FLEX,
  decodeRequest,
  encodeRequest,
  decodeResponse,
  encodeResponse,
};
