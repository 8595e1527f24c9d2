import { randomUUID } from 'node:crypto'
import { signContext, sql, withTenant, type Database } from '@xeno/db'

/** All SQL of the OAuth install: single-use states and the installed tenant's shop details. */
export function createInstallRepository(db: Database) {
  return {
    async saveState(stateHash: Buffer, shopDomain: string, expiresAt: Date): Promise<void> {
      await db.insertInto('oauthStates').values({ stateHash, shopDomain, expiresAt }).execute()
    },

    /** Live (unexpired) states, counted up to `cap` (an index range scan on expires_at). */
    async liveStates(now: Date, cap: number): Promise<number> {
      // Live states are invisible to this role (row-level security): a narrow definer counts them.
      void now
      const row = await sql<{ n: number }>`SELECT app_live_oauth_states(${cap}) AS n`.execute(db)
      return row.rows[0]?.n ?? 0
    },

    /**
     * Deletes states that can no longer be used (the maintenance queue's sweep, not each
     * install request); `graceMs` keeps just-expired ones a while for the logs of a late callback.
     */
    async deleteExpiredStates(now: Date, graceMs = 0): Promise<number> {
      const res = await db
        .deleteFrom('oauthStates')
        .where('expiresAt', '<', new Date(now.getTime() - graceMs))
        .executeTakeFirst()
      return Number(res.numDeletedRows)
    },

    /** Uses a state once, for the shop it was issued for: false when unknown, used, expired or another shop's. */
    async consumeState(stateHash: Buffer, shopDomain: string, now: Date): Promise<boolean> {
      // Live states are invisible to the runtime role: the database's function uses one by hash.
      const { rows } = await sql<{ used: boolean }>`
        SELECT app_consume_oauth_state(${stateHash}, ${shopDomain}, ${now}) AS used`.execute(db)
      return rows[0]?.used === true
    },

    /**
     * Finds the tenant of a shop, or creates it (pending). No system mode: the lookup is the
     * database's signed shop function, and a new tenant is inserted acting as itself (its id
     * chosen here), so the install callback needs no cross-tenant rights.
     */
    async findOrCreateTenant(shopDomain: string): Promise<{ id: string; created: boolean }> {
      const find = async () => {
        const { rows } = await sql<{ id: string }>`
          SELECT id FROM app_tenant_by_shop(${shopDomain}, ${signContext(db, `shop:${shopDomain}`)})`.execute(
          db,
        )
        return rows[0]
      }
      const existing = await find()
      if (existing) return { id: existing.id, created: false }
      const id = randomUUID()
      const inserted = await withTenant(db, id, (trx) =>
        trx
          .insertInto('tenants')
          .values({ id, shopDomain })
          .onConflict((oc) => oc.column('shopDomain').doNothing())
          .returning('id')
          .executeTakeFirst(),
      )
      if (inserted) return { id: inserted.id, created: true }
      // A concurrent callback created it first.
      const row = await find()
      if (!row) throw new Error(`tenant of ${shopDomain} neither inserted nor found`)
      return { id: row.id, created: false }
    },

    /** Marks the tenant active (installed or reinstalled) with what Shopify says of the shop. */
    async activate(
      tenantId: string,
      shop: {
        shopifyShopId: string
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
            shopifyShopId: shop.shopifyShopId,
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
