import type { Database } from '@xeno/db'
import { ShopifyAuthError, type TokenGrant } from '@xeno/shopify'
import type { TokenCipher } from '../crypto/token-cipher.ts'
import { createCredentialsRepository } from './credentials.repository.ts'

export type ShopAccess = { shopDomain: string; accessToken: string; status: string }

export type ShopAccessDeps = {
  db: Database
  cipher: TokenCipher
  refresh: (shop: string, refreshToken: string) => Promise<TokenGrant>
  /** Refresh this long before the access token expires (default 5 minutes). */
  refreshMarginMs?: number
  now?: () => Date
}

/** No usable credentials: the tenant never connected, or its refresh token is dead. */
export class MissingCredentialsError extends ShopifyAuthError {
  constructor(message: string) {
    super(message, 401)
    this.name = 'MissingCredentialsError'
  }
}

/**
 * Hands out a valid Admin API token for a tenant. Expiring offline tokens (1 h) are refreshed
 * before they expire under the tenant's credentials row lock (SELECT … FOR UPDATE): concurrent
 * callers wait for the one refresher and then read the rotated pair, so Shopify sees exactly one
 * refresh (its old refresh token is single-use).
 */
export function createShopAccessService(deps: ShopAccessDeps) {
  const repo = createCredentialsRepository(deps.db)
  const margin = deps.refreshMarginMs ?? 5 * 60_000
  const now = deps.now ?? (() => new Date())
  const fresh = (expiresAt: Date | null): boolean =>
    expiresAt === null || expiresAt.getTime() - now().getTime() > margin

  return {
    async accessFor(tenantId: string): Promise<ShopAccess> {
      const row = await repo.find(tenantId)
      if (!row) throw new MissingCredentialsError('tenant has no Shopify credentials')
      if (fresh(row.expiresAt))
        return {
          shopDomain: row.shopDomain,
          status: row.status,
          accessToken: deps.cipher.decrypt(row.accessTokenEnc, tenantId),
        }
      return repo.withLocked(tenantId, async (locked, trx) => {
        if (!locked) throw new MissingCredentialsError('tenant has no Shopify credentials')
        const base = { shopDomain: locked.shopDomain, status: locked.status }
        // Someone refreshed while we waited for the lock.
        if (fresh(locked.expiresAt))
          return { ...base, accessToken: deps.cipher.decrypt(locked.accessTokenEnc, tenantId) }
        if (!locked.refreshTokenEnc)
          throw new MissingCredentialsError('access token expired and no refresh token is stored')
        const grant = await deps.refresh(
          locked.shopDomain,
          deps.cipher.decrypt(locked.refreshTokenEnc, tenantId),
        )
        await repo.saveRotated(trx, tenantId, {
          accessTokenEnc: deps.cipher.encrypt(grant.accessToken, tenantId),
          refreshTokenEnc: grant.refreshToken
            ? deps.cipher.encrypt(grant.refreshToken, tenantId)
            : locked.refreshTokenEnc,
          expiresAt: grant.expiresAt,
          refreshExpiresAt: grant.refreshExpiresAt ?? locked.refreshExpiresAt,
          scope: grant.scope,
        })
        return { ...base, accessToken: grant.accessToken }
      })
    },
    /** Stores an expiring OAuth grant encrypted (the OAuth callback and tests use it). */
    async storeGrant(tenantId: string, grant: TokenGrant): Promise<void> {
      await repo.saveOAuthGrant(tenantId, {
        accessTokenEnc: deps.cipher.encrypt(grant.accessToken, tenantId),
        refreshTokenEnc: grant.refreshToken
          ? deps.cipher.encrypt(grant.refreshToken, tenantId)
          : null,
        expiresAt: grant.expiresAt,
        refreshExpiresAt: grant.refreshExpiresAt,
        scope: grant.scope,
      })
    },
  }
}

export type ShopAccessService = ReturnType<typeof createShopAccessService>
