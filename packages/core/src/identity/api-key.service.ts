import type { Database } from '@xeno/db'
import { NotFoundError } from '../errors.ts'
import { createApiKeyRepository } from './api-key.repository.ts'
import { API_KEY_RE, hmac, newApiKey } from './secrets.ts'
import { singleFlight } from './single-flight.ts'

export type ApiKeyDeps = {
  db: Database
  /** API_PEPPER: keys are stored as HMAC-SHA256(pepper, key), useless without it. */
  pepper: string
  now?: () => Date
}

// last_used_at is written at most once a minute per key, so hot keys cost reads only.
const TOUCH_EVERY_MS = 60_000
// What the listing shows to tell keys apart: `xeno_` and 8 characters of the secret.
const DISPLAY_PREFIX_LENGTH = 13

/** API keys of a tenant: created (shown once), listed, revoked (at once), resolved. */
export function createApiKeyService(deps: ApiKeyDeps) {
  const repo = createApiKeyRepository(deps.db)
  const now = deps.now ?? (() => new Date())
  const hash = (key: string) => hmac(deps.pepper, key)

  return {
    /** The only time the full key exists outside the caller's hands. */
    async create(tenantId: string, label: string) {
      const key = newApiKey()
      const row = await repo.insertApiKey(tenantId, {
        prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
        keyHash: hash(key),
        label,
        now: now(),
      })
      return { ...row, key }
    },

    list: (tenantId: string) => repo.listApiKeys(tenantId),

    async revoke(tenantId: string, keyId: string) {
      const row = await repo.revokeApiKey(tenantId, keyId, now())
      if (!row) throw new NotFoundError('api key not found')
      return row
    },

    /** The tenant and key an X-API-Key value names, or null (unknown, malformed or revoked). */
    authenticate: singleFlight(
      (key: string) => key,
      async (key: string): Promise<{ tenantId: string; keyId: string } | null> => {
        if (!API_KEY_RE.test(key)) return null
        const row = await repo.findApiKeyByHash(hash(key))
        if (!row || row.revokedAt) return null
        const t = now()
        if (!row.lastUsedAt || t.getTime() - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS)
          await repo.touchApiKey(row.tenantId, row.id, t)
        return { tenantId: row.tenantId, keyId: row.id }
      },
    ),
  }
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>
