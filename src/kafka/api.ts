// The shape every API codec file exports: its key, the version range Oxbow advertises, where flexible
// (KIP-482) encoding starts, and encoders/decoders for both directions (the broker uses request-decode
// and response-encode; tests and tools use the other two to drive the broker with bytes of their own).
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

export type ApiCodec<Req, Res> = {
  readonly key: number;
  readonly name: string;
  /** Lowest version advertised in ApiVersions (0 for every classic API: old librdkafka gates features on it). */
  readonly minVersion: number;
  /** Highest version advertised; every version up to it has been exercised by a real client or a codec test. */
  readonly maxVersion: number;
  /** Versions below this one are decoded but answered with UNSUPPORTED_VERSION by the broker. */
  readonly minImplementedVersion: number;
  /** First flexible version (request header v2, response header v1, compact encodings); Infinity if none. */
  readonly flexibleFrom: number;
  decodeRequest(r: Reader, version: number): Req;
  encodeRequest(w: Writer, version: number, req: Req): void;
  decodeResponse(r: Reader, version: number): Res;
  encodeResponse(w: Writer, version: number, res: Res): void;
};

export function isFlexible(api: { flexibleFrom: number }, version: number): boolean {
  return version >= api.flexibleFrom;
}

/** "Authorized operations not requested", Kafka's INT32_MIN sentinel in Metadata and DescribeGroups. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
