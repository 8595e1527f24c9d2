/** A field at fault in a request, as the API reports it. */
export type FieldIssue = { field: string; message: string }

/** Base class of every error the API turns into a 4xx; `code` is stable for clients. */
export class AppError extends Error {
  readonly code: string
  readonly fields: FieldIssue[] | undefined
  constructor(code: string, message: string, fields?: FieldIssue[]) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.fields = fields
  }
}

/** Unknown ids, and other tenants' ids (never revealed as "forbidden"). */
export class NotFoundError extends AppError {
  constructor(message = 'not found') {
    super('NOT_FOUND', message)
    this.name = 'NotFoundError'
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'CONFLICT') {
    super(code, message)
    this.name = 'ConflictError'
  }
}

export class ValidationError extends AppError {
  constructor(message: string, fields?: FieldIssue[]) {
    super('VALIDATION_ERROR', message, fields)
    this.name = 'ValidationError'
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'authentication required', code = 'UNAUTHORIZED') {
    super(code, message)
    this.name = 'UnauthorizedError'
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'not allowed', code = 'FORBIDDEN') {
    super(code, message)
    this.name = 'ForbiddenError'
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number, message = 'too many requests') {
    super('RATE_LIMITED', message)
    this.name = 'RateLimitedError'
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** Shopify, Postgres or Redis failed in a way the caller may retry. */
export class ExternalServiceError extends AppError {
  readonly service: string
  constructor(service: string, message: string, code = 'SERVICE_UNAVAILABLE') {
    super(code, message)
    this.name = 'ExternalServiceError'
    this.service = service
  }
}
