import { sql, withSystem, withTenant, type Database } from '@xeno/db'

/** All SQL of the OAuth install: single-use states and the installed tenant's shop details. */
export function createInstallRepository(db: Database) {
  return {
    async saveState(stateHash: Buffer, shopDomain: string, expiresAt: Date): Promise<void> {
      await db.insertInto('oauthStates').values({ stateHash, shopDomain, expiresAt }).execute()
      // Keep the table small: drop states that can no longer be used.
      await db
        .deleteFrom('oauthStates')
        .where('expiresAt', '<', sql<Date>`now() - interval '1 day'`)
        .execute()
    },

    /** Uses a state once, for the shop it was issued for: false when unknown, used, expired or another shop's. */
    async consumeState(stateHash: Buffer, shopDomain: string, now: Date): Promise<boolean> {
      const row = await db
        .updateTable('oauthStates')
        .set({ usedAt: now })
        .where('stateHash', '=', stateHash)
        .where('shopDomain', '=', shopDomain)
        .where('usedAt', 'is', null)
        .where('expiresAt', '>', now)
        .returning('id')
        .executeTakeFirst()
      return row !== undefined
    },

    /** Finds the tenant of a shop, or creates it (pending) — before any tenant context exists. */
    async findOrCreateTenant(shopDomain: string): Promise<{ id: string; created: boolean }> {
      const existing = await withSystem(db, (trx) =>
        trx
          .selectFrom('tenants')
          .select('id')
          .where('shopDomain', '=', shopDomain)
          .executeTakeFirst(),
      )
      if (existing) return { id: existing.id, created: false }
      return withSystem(db, async (trx) => {
        const inserted = await trx
          .insertInto('tenants')
          .values({ shopDomain })
          .onConflict((oc) => oc.column('shopDomain').doNothing())
          .returning('id')
          .executeTakeFirst()
        if (inserted) return { id: inserted.id, created: true }
        const row = await trx
          .selectFrom('tenants')
          .select('id')
          .where('shopDomain', '=', shopDomain)
          .executeTakeFirstOrThrow()
        return { id: row.id, created: false }
      })
    },

    /** Marks the tenant active (installed or reinstalled) with what Shopify says of the shop. */
    async activate(
      tenantId: string,
      shop: {
        name: string
        ianaTimezone: string
        currency: string
        plan: string | null
        scopes: string[]
      },
      now: Date,
    ): Promise<void> {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('tenants')
          .set({
            status: 'active',
            shopName: shop.name,
            ianaTimezone: shop.ianaTimezone,
            currency: shop.currency,
            plan: shop.plan,
            grantedScopes: shop.scopes,
            installedAt: now,
            uninstalledAt: null,
            updatedAt: now,
          })
          .where('id', '=', tenantId)
          .execute(),
      )
    },
  }
}

export type InstallRepository = ReturnType<typeof createInstallRepository>
