import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CeleriacError, ErrorCode, isCeleriacError } from '@celeriac/core';

interface FastifyLikeError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly message?: string;
}

/**
 * Maps anything a route or Fastify itself throws onto the error catalogue, so every error answer has the same
 * shape and a catalogue code. Unknown errors become `CELERIAC_INTERNAL` with a generic message: their text may
 * contain internals, so it goes to the log, not to the client.
 */
export function toHttpError(error: unknown): CeleriacError {
  if (isCeleriacError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request';
    const issues = error.validation.map((issue) => ({
      path: [where, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
      message: issue.message,
    }));
    return new CeleriacError(
      ErrorCode.InvalidRequest,
      `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`,
      { details: { issues } },
    );
  }
  const fastifyError = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new CeleriacError(ErrorCode.PayloadTooLarge, 'The request body is larger than this server accepts. Send less, or raise bodyLimitBytes.');
  }
  if (fastifyError.statusCode === 415) {
    return new CeleriacError(ErrorCode.UnsupportedMediaType, `${fastifyError.message ?? 'Unsupported media type'}. Send JSON with content-type: application/json.`);
  }
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Malformed JSON, an empty JSON body and the like: Fastify's message says exactly what was wrong.
    return new CeleriacError(ErrorCode.InvalidRequest, `Invalid request: ${fastifyError.message ?? 'bad request'}.`, {
      details: { reason: fastifyError.code ?? 'bad-request' },
    });
  }
  return new CeleriacError(ErrorCode.Internal, 'The server failed to handle this request; the error is in its log.');
}
