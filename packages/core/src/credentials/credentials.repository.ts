import { sql, withTenant, type Database, type Tx } from '@xeno/db'

// The refresh path of shopify_credentials (manual-token storage lives in
// tenancy/tenant.repository.ts). The row lock serialises refreshes of one tenant.

export type CredentialsRecord = {
  shopDomain: string
  status: string
  accessTokenEnc: string
  refreshTokenEnc: string | null
  expiresAt: Date | null
  refreshExpiresAt: Date | null
  source: string
}

export function createCredentialsRepository(db: Database) {
  const read = (trx: Tx, tenantId: string, lock: boolean) =>
    sql<CredentialsRecord>`SELECT t.shop_domain, t.status, c.access_token_enc, c.refresh_token_enc,
        c.expires_at, c.refresh_expires_at, c.source
      FROM shopify_credentials c JOIN tenants t ON t.id = c.tenant_id
      WHERE c.tenant_id = ${tenantId} ${lock ? sql`FOR UPDATE OF c` : sql``}`
      .execute(trx)
      .then((r) => r.rows[0])

  return {
    find: (tenantId: string) => withTenant(db, tenantId, (trx) => read(trx, tenantId, false)),
    /** Runs fn holding the tenant's credentials row lock (one refresher at a time). */
    withLocked<T>(
      tenantId: string,
      fn: (row: CredentialsRecord | undefined, trx: Tx) => Promise<T>,
    ) {
      return withTenant(db, tenantId, async (trx) => fn(await read(trx, tenantId, true), trx))
    },
    async saveRotated(
      trx: Tx,
      tenantId: string,
      v: {
        accessTokenEnc: string
        refreshTokenEnc: string | null
        expiresAt: Date | null
        refreshExpiresAt: Date | null
        scope: string
      },
    ): Promise<void> {
      await trx
        .updateTable('shopifyCredentials')
        .set({ ...v, updatedAt: new Date() })
        .where('tenantId', '=', tenantId)
        .execute()
    },
    /** Stores an OAuth (expiring) grant; used by tests and the OAuth callback. */
    async saveOAuthGrant(
      tenantId: string,
      v: {
        accessTokenEnc: string
        refreshTokenEnc: string | null
        expiresAt: Date | null
        refreshExpiresAt: Date | null
        scope: string
      },
    ): Promise<void> {
      await withTenant(db, tenantId, async (trx) => {
        const now = new Date()
        await trx
          .insertInto('shopifyCredentials')
          .values({ tenantId, ...v, source: 'oauth', createdAt: now, updatedAt: now })
          .onConflict((oc) =>
            oc.column('tenantId').doUpdateSet({ ...v, source: 'oauth', updatedAt: now }),
          )
          .execute()
      })
    },
  }
}

export type CredentialsRepository = ReturnType<typeof createCredentialsRepository>
