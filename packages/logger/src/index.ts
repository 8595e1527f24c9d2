import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

export type { Logger }

/**
 * Paths pino censors anywhere we log: headers, credentials, tokens, OAuth codes. `code` is an
 * OAuth authorization code only where a request's query, params or body or an OAuth step carry
 * it (or at the top of a line); everywhere else it is an error's code (`err.code`: ECONNREFUSED,
 * a Postgres SQLSTATE such as 23505), which must stay readable, so there is no `*.code`.
 */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'password',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'secret',
  'clientSecret',
  'client_secret',
  'apiKey',
  'code',
  'hmac',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.apiKey',
  '*.hmac',
  'query.code',
  'params.code',
  'body.code',
  'oauth.code',
  'authorizationCode',
  'authorization_code',
  '*.query.code',
  '*.params.code',
  '*.body.code',
  '*.oauth.code',
  '*.authorizationCode',
  '*.authorization_code',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-shopify-access-token"]',
  'req.headers["x-shopify-hmac-sha256"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["x-shopify-access-token"]',
]

/** Query parameters whose values are secrets (OAuth code, HMAC, state nonce, tokens). */
export const SECRET_QUERY_PARAMS = new Set([
  'code',
  'hmac',
  'state',
  'signature',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'session',
  'password',
  'api_key',
  'apikey',
  'x-api-key',
  'key',
])

// Spelling variants of a secret's name (`x-api-key`, `X_Api_Key`, `apiKey`, `client_secret`)
// are caught by what the name contains once case and separators are dropped.
const SECRET_NAME_PARTS = ['key', 'token', 'secret', 'password', 'hmac', 'signature', 'session']
const isSecretParam = (name: string) => {
  const lower = name.toLowerCase()
  if (SECRET_QUERY_PARAMS.has(lower)) return true
  const bare = lower.replace(/[^a-z0-9]/g, '')
  return SECRET_NAME_PARTS.some((part) => bare.includes(part))
}

/** The URL with the values of secret query parameters replaced by [redacted]. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const raw = pair.split('=', 1)[0] ?? ''
      let name = raw
      try {
        name = decodeURIComponent(raw.replaceAll('+', ' '))
      } catch {
        // an undecodable name is compared as it is
      }
      return isSecretParam(name) ? `${raw}=[redacted]` : pair
    })
  return `${url.slice(0, q + 1)}${params.join('&')}`
}

/** Fastify's request serializer (method, url, host, address) with secret query values redacted. */
function serializeRequest(req: {
  method?: string
  url?: unknown
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

export type LoggerConfig = {
  level: string
  name?: string
  /** Where lines go; stdout when absent. Tests pass a stream to read what was logged. */
  destination?: DestinationStream
}

/** Creates the process's root pino logger with secret redaction. */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: config.name ? { service: config.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    // `req` replaces Fastify's own request serializer (the logger instance's serializers win).
    serializers: { err: pino.stdSerializers.err, req: serializeRequest },
  }
  return config.destination ? pino(options, config.destination) : pino(options)
}

export { createProgressBar, renderProgress } from './progress.ts'
export type { ProgressBar, ProgressFrame, ProgressOptions, ProgressStream } from './progress.ts'
