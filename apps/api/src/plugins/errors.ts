import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import {
  AppError,
  ConflictError,
  ExternalServiceError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
  type FieldIssue,
} from '@xeno/core'
import { isDatabaseBusy } from '@xeno/db'

/** The one error shape every route answers with. */
export type ErrorBody = { error: { code: string; message: string; fields?: FieldIssue[] } }

// Error kind → HTTP status, in one table. Order matters: subclasses before AppError.
const STATUS: [new (...a: never[]) => AppError, number][] = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [RateLimitedError, 429],
  [ExternalServiceError, 503],
]

export function statusOf(err: AppError): number {
  for (const [kind, status] of STATUS) if (err instanceof kind) return status
  return 400
}

function fieldPath(instancePath: string, prefix: string): string {
  const p = instancePath.replace(/^\//, '').replaceAll('/', '.')
  return p ? `${prefix}.${p}` : prefix
}

/**
 * Fastify's `frameworkErrors` option: errors its router raises before any route or error
 * handler runs (a malformed percent-encoding, a path parameter over maxParamLength) answer in
 * the envelope too, instead of Fastify's default `{ error, code, message, statusCode }`.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const [status, code, message] =
    err.code === 'FST_ERR_BAD_URL'
      ? [400, 'BAD_URL', 'the URL is not valid (malformed percent-encoding)']
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, 'URI_TOO_LONG', 'a path parameter is too long']
        : [500, 'INTERNAL_ERROR', 'internal error']
  void reply.code(status).send({ error: { code, message } } satisfies ErrorBody)
}

/** Installs the error envelope, the 404 envelope, and maps framework errors to clear 4xx. */
export function registerErrorHandling(app: FastifyInstance) {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route for ${request.method} ${request.url.split('?')[0]}`,
      },
    } satisfies ErrorBody)
  })

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const prefix = err.validationContext ?? 'body'
      const fields = err.validation.map((v) => ({
        field: fieldPath(v.instancePath, prefix),
        message: v.message ?? 'is invalid',
      }))
      return reply.code(400).send({
        error: {
          code: 'VALIDATION_ERROR',
          message: `invalid ${fields.map((f) => f.field).join(', ')}`,
          fields,
        },
      } satisfies ErrorBody)
    }
    if (err instanceof AppError) {
      const retryAfter = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds
      if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter))
      const body: ErrorBody = { error: { code: err.code, message: err.message } }
      if (err.fields) body.error.fields = err.fields
      return reply.code(statusOf(err)).send(body)
    }
    if (isDatabaseBusy(err)) {
      // Load, not a fault: no connection (or no statement time) was free in time.
      request.log.warn({ err: { message: err.message, code: err.code } }, 'database busy')
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({
          error: { code: 'DATABASE_BUSY', message: 'the database is busy; retry shortly' },
        } satisfies ErrorBody)
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500
    if (status >= 400 && status < 500) {
      const code =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'PAYLOAD_TOO_LARGE'
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
                err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
                err instanceof SyntaxError
              ? 'INVALID_JSON'
              : status === 429
                ? 'RATE_LIMITED'
                : err.code === 'XENO_BODY_TIMEOUT'
                  ? 'REQUEST_TIMEOUT'
                  : 'BAD_REQUEST'
      const message =
        code === 'INVALID_JSON'
          ? 'body is not valid JSON'
          : code === 'PAYLOAD_TOO_LARGE'
            ? 'body is too large'
            : err.message.slice(0, 200)
      const body: ErrorBody = { error: { code, message } }
      if (code === 'INVALID_JSON') body.error.fields = [{ field: 'body', message }]
      return reply.code(status).send(body)
    }
    request.log.error({ err }, 'unhandled error')
    return reply
      .code(status >= 500 && status < 600 ? status : 500)
      .send({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } } satisfies ErrorBody)
  })
}
