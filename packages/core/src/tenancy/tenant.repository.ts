import { signContext, sql, withTenant, type Database } from '@xeno/db'

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

    /**
     * Admin listing across tenants, keyset-paginated by id: the database's narrow listing
     * function, vouched for by the app's signature (callers have checked the admin).
     */
    async listTenants(page: { limit: number; after?: string | undefined }): Promise<TenantRow[]> {
      const { rows } = await sql<TenantRow>`
        SELECT id, shop_domain, status, shop_name, iana_timezone, currency, plan, installed_at,
          created_at
        FROM app_list_tenants(${page.after ?? null}::uuid, ${page.limit}, ${signContext(db, 'tenants')})`.execute(
        db,
      )
      return rows
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
    ): Promise<{ id: string; status: string; shopifyShopId: string | null } | undefined> {
      // A shop domain is public: the app signs the lookup so a bare role cannot make it.
      const { rows } = await sql<{ id: string; status: string }>`
        SELECT id, status FROM app_tenant_by_shop(${shopDomain}, ${signContext(db, `shop:${shopDomain}`)})`.execute(
        db,
      )
      const found = rows[0]
      if (!found) return undefined
      // The Shopify shop id (what webhook bodies must name), read as that tenant.
      const shop = await withTenant(db, found.id, (trx) =>
        trx
          .selectFrom('tenants')
          .select('shopifyShopId')
          .where('id', '=', found.id)
          .executeTakeFirst(),
      )
      return { ...found, shopifyShopId: shop?.shopifyShopId ?? null }
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
