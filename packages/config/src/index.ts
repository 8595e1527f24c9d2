import { hkdfSync } from 'node:crypto'
import { z } from 'zod'

/** Raised by parseEnv with every bad variable listed in one readable message. */
export class ConfigError extends Error {
  readonly issues: { variable: string; message: string }[]
  constructor(issues: { variable: string; message: string }[], title = 'invalid configuration') {
    super(`${title}:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}`)
    this.name = 'ConfigError'
    this.issues = issues
  }
}

/** Parses "true"/"false" explicitly (anything else is an error, never truthy by accident). */
export const boolString = (defaultValue: boolean) =>
  z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true')

const urlWithProtocol = (protocols: string[]) =>
  z.string({ message: 'is required' }).refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol)
      } catch {
        return false
      }
    },
    { message: `must be a URL with protocol ${protocols.join(' or ')}` },
  )

const port = (defaultValue: number) =>
  z.coerce.number().int().min(1).max(65535).default(defaultValue)

/** Postgres: DATABASE_URL is what the runtime connects with (a non-owner role, so RLS applies);
 * DATABASE_OWNER_URL is what migrations use (defaults to DATABASE_URL). */
export const databaseEnv = z.object({
  DATABASE_URL: urlWithProtocol(['postgres:', 'postgresql:']),
  DATABASE_OWNER_URL: urlWithProtocol(['postgres:', 'postgresql:']).optional(),
  // The worker's cross-tenant role (schedulers, sweepers); never given to the API.
  DATABASE_SYSTEM_URL: urlWithProtocol(['postgres:', 'postgresql:']).optional(),
  // Signs each transaction's tenant context; derived from API_PEPPER when unset.
  TENANT_CONTEXT_KEY: z
    .string()
    .refine((v) => decodeKey(v).length === 32, {
      message: 'must be 32 bytes, as 64 hex characters or base64',
    })
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  AUTO_MIGRATE: boolString(false),
})

/** Where Redis is: one server (`redis://`, `rediss://`) or a Redis Cluster's seed nodes. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster'
      nodes: { host: string; port: number }[]
      username?: string
      password?: string
      tls: boolean
    }

/**
 * Parses REDIS_URL. A cluster is `redis+cluster://[user:password@]host:port,host:port,…` (or
 * `rediss+cluster://` for TLS): WHATWG URLs hold one host only, so the seed list is split here.
 * Throws an Error saying what is wrong.
 */
export function parseRedisTarget(value: string): RedisTarget {
  const m = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)\/?$/.exec(value)
  if (!m) {
    let protocol
    try {
      protocol = new URL(value).protocol
    } catch {
      throw new Error('must be a redis://, rediss:// or redis+cluster://host:port,… URL')
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:')
      throw new Error('must be a redis://, rediss:// or redis+cluster://host:port,… URL')
    return { kind: 'single', url: value }
  }
  const [, scheme, auth, hosts] = m as unknown as [string, string, string | undefined, string]
  const nodes = hosts.split(',').map((h) => {
    const hm = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(h.trim())
    const port = Number(hm?.[2])
    if (!hm || port < 1 || port > 65535) throw new Error(`cluster node "${h}" must be host:port`)
    return { host: hm[1]!.replace(/^\[|\]$/g, ''), port }
  })
  let username: string | undefined
  let password: string | undefined
  if (auth !== undefined) {
    const i = auth.indexOf(':')
    const user = decodeURIComponent(i < 0 ? auth : auth.slice(0, i))
    username = user || undefined
    password = i < 0 ? undefined : decodeURIComponent(auth.slice(i + 1))
  }
  return { kind: 'cluster', nodes, username, password, tls: scheme === 'rediss' }
}

const redisUrl = z.string().superRefine((v, ctx) => {
  try {
    parseRedisTarget(v)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
  }
})

/** Redis for BullMQ. */
export const redisEnv = z.object({
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  /** Webhook jobs spread over this many queues by tenant hash (each its own cluster slot). */
  WEBHOOK_QUEUE_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_:-]{1,64}$/, 'letters, digits, _ : - only')
    .default('xeno'),
})

/** HTTP listener. */
export const httpEnv = z.object({
  PORT: port(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  APP_URL: urlWithProtocol(['http:', 'https:']).default('http://127.0.0.1:3000'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  // A body that has not fully arrived by then is cut with 408: a client trickling bytes would
  // otherwise hold a connection (and its parser's buffer) for as long as it likes.
  REQUEST_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
})

/** 32 bytes, base64 or hex. */
const key32 = z.string().refine(
  (v) => {
    const buf = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')
    return buf.length === 32
  },
  { message: 'must be 32 bytes, as 64 hex characters or base64' },
)

/** Secrets that protect data at rest. A missing or malformed key stops the process. */
export const secretsEnv = z.object({
  API_PEPPER: z.string({ message: 'is required' }).min(32, 'must be at least 32 characters'),
  TOKEN_ENCRYPTION_KEY: key32,
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: z
    .string()
    .optional()
    .refine(
      (v) =>
        v === undefined || v === '' || v.split(',').every((k) => key32.safeParse(k.trim()).success),
      { message: 'must be a comma-separated list of 32-byte keys' },
    ),
})

/** Admin bootstrap and cookies. */
export const authEnv = z.object({
  // When set, POST /api/admin/bootstrap must present it (a fresh deployment is then not
  // claimable by whoever reaches it first).
  ADMIN_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Session cookies carry `Secure` unless this is "false" (local HTTP only).
  COOKIE_SECURE: boolString(true),
})

const apiVersion = z
  .string()
  .regex(/^(\d{4}-(01|04|07|10)|unstable)$/, 'must look like 2026-10')
  .default('2026-10')

/** The Shopify app's credentials and where Admin API calls go. */
export const shopifyEnv = z.object({
  SHOPIFY_CLIENT_ID: z.string({ message: 'is required' }).min(1, 'is required'),
  SHOPIFY_CLIENT_SECRET: z.string({ message: 'is required' }).min(1, 'is required'),
  /** The previous client secret, accepted for webhook signatures while rotating. */
  SHOPIFY_CLIENT_SECRET_PREVIOUS: z.string().min(1).optional(),
  SHOPIFY_REDIRECT_URI: urlWithProtocol(['http:', 'https:']).optional(),
  SHOPIFY_SCOPES: z
    .string()
    .regex(/^[a-z_]+(,[a-z_]+)*$/, 'must be a comma-separated list like read_orders,read_customers')
    .default('read_orders,read_all_orders,read_customers,read_products'),
  SHOPIFY_API_VERSION: apiVersion,
  SHOPIFY_ADMIN_ORIGIN: urlWithProtocol(['http:', 'https:']).optional(),
})

/** Logging. */
export const logEnv = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
})

/** Operator surfaces: /metrics, Bull Board, the worker's metrics listener. */
export const opsEnv = z.object({
  // When set, GET /metrics (API and worker) needs `Authorization: Bearer <METRICS_TOKEN>`.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Bull Board at /admin/queues shows queues without retry/clean/pause/add/remove actions.
  BULL_BOARD_READ_ONLY: boolString(false),
  // Port of the worker's own /metrics (job durations and failures); unset: no listener.
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  // Interface the worker's metrics listener binds.
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // A file the worker touches every few seconds while it runs (the image's HEALTHCHECK reads it).
  WORKER_HEARTBEAT_FILE: z.string().min(1).optional(),
  // This worker also exports the fleet-wide gauges (queue depths, sync, webhook inbox) on its
  // metrics listener; run exactly one such exporter so sums over processes stay right.
  WORKER_EXPORTER: boolString(false),
  // Sync checkpoints without a success for this long count as stale (xeno_sync_stale_checkpoints).
  SYNC_STALE_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .default(3600),
})

/** Worker process knobs. */
export const workerEnv = z.object({
  WORKER_QUEUES: z.string().optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  SYNC_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  // Processed webhook receipts are deleted after this many days (at least 3: a receipt also
  // deduplicates Shopify's redeliveries, which go on for 48 hours).
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(3).max(3650).default(7),
})

/**
 * Parses env against schema; throws one ConfigError naming every bad variable.
 * Empty strings count as unset, as in most .env tooling.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const cleaned: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v
  const result = schema.safeParse(cleaned)
  if (result.success) return result.data
  throw new ConfigError(
    result.error.issues.map((i) => ({
      variable: i.path.map(String).join('.') || '(root)',
      message: i.message,
    })),
  )
}

/** Placeholder secrets shipped in .env.example and earlier compose files: never for production. */
export const EXAMPLE_SECRETS: readonly string[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  'change-me-to-64-hex-characters-change-me-to-64-hex-characters-00',
  'dev-pepper-change-me-dev-pepper-change-me',
]

/** Why a secret string is unfit for production, or null. */
export function weakSecretReason(value: string): string | null {
  if (EXAMPLE_SECRETS.includes(value)) return 'is the example value from .env.example'
  if (/change-?me|example|placeholder/i.test(value)) return 'looks like a placeholder'
  // A block repeated over and over (abcabcabc…) carries the entropy of one block.
  if (/^(.{1,16}?)\1+$/s.test(value)) return 'has too little entropy (a repeated pattern)'
  if (new Set(value).size < 12) return 'has too little entropy (fewer than 12 distinct characters)'
  return null
}

/** Why a 32-byte key is unfit for production, or null (random keys have ~27 distinct bytes). */
export function weakKeyReason(value: string): string | null {
  if (EXAMPLE_SECRETS.includes(value)) return 'is the example value from .env.example'
  const bytes = decodeKey(value)
  if (new Set(bytes).size < 16)
    return 'has too little entropy (generate one with: openssl rand -hex 32)'
  return null
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]'])

/** True for an address only this machine reaches. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\./.test(host)
}

function urlUser(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username)
  } catch {
    return ''
  }
}

/** The settings a production process may not start with, each named (empty: none). */
export function productionIssues(config: {
  API_PEPPER?: string
  TOKEN_ENCRYPTION_KEY?: string
  COOKIE_SECURE?: boolean
  HOST?: string
  METRICS_TOKEN?: string | undefined
  WORKER_METRICS_PORT?: number | undefined
  WORKER_METRICS_HOST?: string
  DATABASE_URL?: string
  DATABASE_OWNER_URL?: string | undefined
  DATABASE_SYSTEM_URL?: string | undefined
}): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = []
  const add = (variable: string, message: string) => issues.push({ variable, message })
  if (config.TOKEN_ENCRYPTION_KEY !== undefined) {
    const why = weakKeyReason(config.TOKEN_ENCRYPTION_KEY)
    if (why) add('TOKEN_ENCRYPTION_KEY', why)
  }
  if (config.API_PEPPER !== undefined) {
    const why = weakSecretReason(config.API_PEPPER)
    if (why) add('API_PEPPER', `${why} (generate one with: openssl rand -hex 32)`)
  }
  if (config.COOKIE_SECURE === false)
    add('COOKIE_SECURE', 'must not be false in production (session cookies would travel in clear)')
  // /metrics names tenants and queue sizes: off loopback it needs its bearer token.
  if (config.HOST !== undefined && !isLoopback(config.HOST) && !config.METRICS_TOKEN)
    add('METRICS_TOKEN', `is required in production when HOST (${config.HOST}) is not loopback`)
  if (
    config.WORKER_METRICS_PORT !== undefined &&
    config.WORKER_METRICS_HOST !== undefined &&
    !isLoopback(config.WORKER_METRICS_HOST) &&
    !config.METRICS_TOKEN
  )
    add(
      'METRICS_TOKEN',
      `is required in production when WORKER_METRICS_HOST (${config.WORKER_METRICS_HOST}) is not loopback`,
    )
  if (config.DATABASE_URL !== undefined) {
    const user = urlUser(config.DATABASE_URL)
    if (config.DATABASE_OWNER_URL && user && user === urlUser(config.DATABASE_OWNER_URL))
      add(
        'DATABASE_URL',
        `connects as ${user}, the owner of DATABASE_OWNER_URL; use the non-owner runtime role (row-level security)`,
      )
    else if (user === 'postgres')
      add('DATABASE_URL', 'connects as the postgres superuser; use the non-owner runtime role')
  }
  if (config.DATABASE_SYSTEM_URL && config.DATABASE_OWNER_URL) {
    const user = urlUser(config.DATABASE_SYSTEM_URL)
    if (user && user === urlUser(config.DATABASE_OWNER_URL))
      add(
        'DATABASE_SYSTEM_URL',
        `connects as ${user}, the owner of DATABASE_OWNER_URL; use the non-owner system role`,
      )
  }
  return issues
}

/** Throws one ConfigError naming every setting production refuses, when NODE_ENV=production. */
export function assertProductionSafe<C extends { NODE_ENV: 'development' | 'production' | 'test' }>(
  config: C & Parameters<typeof productionIssues>[0],
): C {
  if (config.NODE_ENV !== 'production') return config
  const issues = productionIssues(config)
  if (issues.length) throw new ConfigError(issues, 'refused in production (NODE_ENV=production)')
  return config
}

/** Decodes a 32-byte key given as hex or base64. */
export function decodeKey(v: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')
}

/** The token-encryption keys of a process's config: the current one and any previous ones. */
export function tokenKeys(config: {
  TOKEN_ENCRYPTION_KEY: string
  TOKEN_ENCRYPTION_PREVIOUS_KEYS?: string | undefined
}): { current: Buffer; previous: Buffer[] } {
  return {
    current: decodeKey(config.TOKEN_ENCRYPTION_KEY),
    previous: (config.TOKEN_ENCRYPTION_PREVIOUS_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '')
      .map(decodeKey),
  }
}

/**
 * The key tenant contexts are signed with: TENANT_CONTEXT_KEY, or else HKDF-SHA256 of API_PEPPER
 * (its own label, so it reveals nothing of the pepper). The migrator stores it where only the
 * database's xeno_definer role reads it; API and worker sign with it.
 */
export function tenantContextKey(config: {
  TENANT_CONTEXT_KEY?: string | undefined
  API_PEPPER?: string | undefined
}): Buffer {
  if (config.TENANT_CONTEXT_KEY) return decodeKey(config.TENANT_CONTEXT_KEY)
  if (!config.API_PEPPER) throw new Error('TENANT_CONTEXT_KEY or API_PEPPER is required')
  return Buffer.from(
    hkdfSync('sha256', config.API_PEPPER, Buffer.alloc(0), 'xeno tenant context v1', 32),
  )
}

export { z }
