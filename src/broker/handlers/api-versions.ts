// ApiVersions: the version range of every API this broker answers.
import { ApiVersionsApi, type ApiVersionsRequest, type ApiVersionsResponse } from '../../kafka/apis/api-versions.ts';
import { KafkaErrorCode } from '../../kafka/errors.ts';
import { handler, type HandlerContext } from './context.ts';

// KIP-511: client software name and version must look like this, or the request is invalid.
const SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

async function apiVersions(ctx: HandlerContext, req: ApiVersionsRequest): Promise<ApiVersionsResponse> {
  if (ctx.header.apiVersion >= 3 && (!SOFTWARE.test(req.clientSoftwareName ?? '') || !SOFTWARE.test(req.clientSoftwareVersion ?? ''))) {
    return { errorCode: KafkaErrorCode.INVALID_REQUEST, apiKeys: [], throttleTimeMs: 0 };
  }
  return { errorCode: 0, apiKeys: ctx.broker.advertisedApis(), throttleTimeMs: 0 };
}

export const apiVersionsHandler = handler(ApiVersionsApi, apiVersions);
