import { withSystem, withTenant, type Database } from '@xeno/db'

const TENANT_COLUMNS = [
  'id',
  'shopDomain',
  'status',
  'shopName',
  'ianaTimezone',
  'currency',
  'plan',
  'installedAt',
  'createdAt',
] as const

export type TenantRow = {
  id: string
  shopDomain: string
  status: string
  shopName: string | null
  ianaTimezone: string
  currency: string
  plan: string | null
  installedAt: Date | null
  createdAt: Date
}

/** All SQL on tenants and shopify_credentials. */
export function createTenantRepository(db: Database) {
  return {
    /** The id is chosen here so the insert itself runs as that tenant (no system access). */
    async insertTenant(id: string, shopDomain: string): Promise<TenantRow> {
      return withTenant(db, id, (trx) =>
        trx
          .insertInto('tenants')
          .values({ id, shopDomain })
          .returning(TENANT_COLUMNS)
          .executeTakeFirstOrThrow(),
      )
    },

    /** Admin listing across tenants, keyset-paginated by id. */
    async listTenants(page: { limit: number; after?: string | undefined }): Promise<TenantRow[]> {
      return withSystem(db, (trx) => {
        let q = trx.selectFrom('tenants').select(TENANT_COLUMNS).orderBy('id').limit(page.limit)
        if (page.after) q = q.where('id', '>', page.after)
        return q.execute()
      })
    },

    async findTenant(tenantId: string): Promise<TenantRow | undefined> {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('tenants')
          .select(TENANT_COLUMNS)
          .where('id', '=', tenantId)
          .executeTakeFirst(),
      )
    },

    /** Resolves a shop domain before any tenant is known (login, lookup). */
    async findTenantByShopDomain(
      shopDomain: string,
    ): Promise<{ id: string; status: string } | undefined> {
      return withSystem(db, (trx) =>
        trx
          .selectFrom('tenants')
          .select(['id', 'status'])
          .where('shopDomain', '=', shopDomain)
          .executeTakeFirst(),
      )
    },

    /** Stores a manual Admin API token (already encrypted) and marks the tenant active. */
    async saveManualCredentials(
      tenantId: string,
      c: { accessTokenEnc: string; shopName: string; ianaTimezone: string; currency: string },
      now: Date,
    ): Promise<TenantRow> {
      return withTenant(db, tenantId, async (trx) => {
        await trx
          .insertInto('shopifyCredentials')
          .values({
            tenantId,
            accessTokenEnc: c.accessTokenEnc,
            refreshTokenEnc: null,
            expiresAt: null,
            refreshExpiresAt: null,
            scope: '',
            source: 'manual',
            createdAt: now,
            updatedAt: now,
          })
          .onConflict((oc) =>
            oc.column('tenantId').doUpdateSet({
              accessTokenEnc: c.accessTokenEnc,
              refreshTokenEnc: null,
              expiresAt: null,
              refreshExpiresAt: null,
              scope: '',
              source: 'manual',
              updatedAt: now,
            }),
          )
          .execute()
        return trx
          .updateTable('tenants')
          .set((eb) => ({
            status: 'active',
            shopName: c.shopName,
            ianaTimezone: c.ianaTimezone,
            currency: c.currency,
            installedAt: eb.fn.coalesce('installedAt', eb.val(now)),
            uninstalledAt: null,
            updatedAt: now,
          }))
          .where('id', '=', tenantId)
          .returning(TENANT_COLUMNS)
          .executeTakeFirstOrThrow()
      })
    },

    /** The stored (encrypted) credentials row, for the services that call Shopify. */
    async findCredentials(tenantId: string) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('shopifyCredentials')
          .selectAll()
          .where('tenantId', '=', tenantId)
          .executeTakeFirst(),
      )
    },
  }
}

export type TenantRepository = ReturnType<typeof createTenantRepository>
