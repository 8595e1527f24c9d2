import { isIP } from 'node:net'
import {
  authEnv,
  databaseEnv,
  httpEnv,
  logEnv,
  assertProductionSafe,
  parseEnv,
  redisEnv,
  secretsEnv,
  shopifyEnv,
  opsEnv,
  workerEnv,
  z,
} from '@xeno/config'

// proxy-addr's (Fastify's) names for address ranges.
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])
const isAddressOrCidr = (item: string) => {
  if (NAMED_RANGES.has(item)) return true
  const [addr = '', bits, ...rest] = item.split('/')
  const family = isIP(addr)
  if (!family || rest.length) return false
  if (bits === undefined) return true
  if (!/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}

/**
 * TRUST_PROXY → Fastify's trustProxy: which proxies' X-Forwarded-For decide the client address
 * (what per-IP limits and lockouts count). Empty or "false": none (the socket's peer is the
 * client); a number: that many hops; otherwise a comma-separated list of addresses, CIDRs or
 * loopback/linklocal/uniquelocal. "true" (trust any sender) is refused: anyone could then
 * choose their address and escape every per-address limit.
 */
export const trustProxyEnv = z
  .string()
  .optional()
  .transform((v, ctx): false | number | string[] => {
    const raw = (v ?? '').trim()
    if (raw === '' || raw === 'false') return false
    if (/^\d+$/.test(raw)) return Number(raw)
    const items = raw.split(',').map((x) => x.trim())
    const bad = items.filter((x) => !isAddressOrCidr(x))
    if (raw === 'true' || bad.length) {
      ctx.addIssue({
        code: 'custom',
        message:
          raw === 'true'
            ? 'must name the proxies (addresses, CIDRs or a hop count): "true" would trust any client'
            : `not an address, CIDR, hop count or loopback/linklocal/uniquelocal: ${bad.join(', ')}`,
      })
      return z.NEVER
    }
    return items
  })

/** The API process's configuration schema. */
export const apiEnv = z.object({
  ...databaseEnv.shape,
  ...redisEnv.shape,
  ...httpEnv.shape,
  ...secretsEnv.shape,
  ...authEnv.shape,
  ...shopifyEnv.shape,
  ...logEnv.shape,
  METRICS_TOKEN: opsEnv.shape.METRICS_TOKEN,
  BULL_BOARD_READ_ONLY: opsEnv.shape.BULL_BOARD_READ_ONLY,
  // The API creates each tenant's sync schedules at install.
  SYNC_INTERVAL_MINUTES: workerEnv.shape.SYNC_INTERVAL_MINUTES,
  TRUST_PROXY: trustProxyEnv,
  // Admission control: a bounded wait for a pool connection (then 503), the webhook inbox's
  // own pool, and the concurrency shares of analytics and ingest routes (plugins/admission.ts).
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  DATABASE_WEBHOOK_POOL_MAX: z.coerce.number().int().min(1).max(100).default(3),
  ADMISSION_PER_CREDENTIAL: z.coerce.number().int().min(1).max(1000).default(3),
  ADMISSION_PER_TENANT: z.coerce.number().int().min(1).max(1000).default(4),
  // Unset: DATABASE_POOL_MAX − 2 (at least 1), leaving connections for auth and other routes.
  ADMISSION_TOTAL: z.coerce.number().int().min(1).max(1000).optional(),
  ADMISSION_QUEUE: z.coerce.number().int().min(0).max(100_000).default(32),
  ADMISSION_MAX_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
})
export type ApiConfig = z.output<typeof apiEnv>

/** The admission limits the configuration describes. */
export function admissionLimits(config: ApiConfig) {
  return {
    perCredential: config.ADMISSION_PER_CREDENTIAL,
    perTenant: config.ADMISSION_PER_TENANT,
    total: config.ADMISSION_TOTAL ?? Math.max(1, config.DATABASE_POOL_MAX - 2),
    queue: config.ADMISSION_QUEUE,
    maxWaitMs: config.ADMISSION_MAX_WAIT_MS,
  }
}

/** Parses the API's environment; throws one ConfigError naming every bad variable. */
export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return assertProductionSafe(parseEnv(apiEnv, env))
}
