import { randomUUID } from 'node:crypto'
import type { Database } from '@xeno/db'
import { normalizeShopDomain } from '@xeno/shopify'
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts'
import type { TokenCipher } from '../crypto/token-cipher.ts'
import { isUniqueViolation } from '../identity/pg-errors.ts'
import { createTenantRepository, type TenantRow } from './tenant.repository.ts'
import type { CheckShopToken } from './shop-token-check.ts'

export type TenantServiceDeps = {
  db: Database
  cipher: TokenCipher
  checkShopToken: CheckShopToken
  now?: () => Date
}

export type { TenantRow }

const badShop = (field: string) =>
  new ValidationError(`invalid ${field}`, [
    { field, message: 'must be a store name or a *.myshopify.com domain' },
  ])

/** Tenants: creation, listing, lookup by shop, and the manual Admin API token. */
export function createTenantService(deps: TenantServiceDeps) {
  const repo = createTenantRepository(deps.db)
  const now = deps.now ?? (() => new Date())

  const get = async (tenantId: string): Promise<TenantRow> => {
    const tenant = await repo.findTenant(tenantId)
    if (!tenant) throw new NotFoundError('tenant not found')
    return tenant
  }

  return {
    /** Creates a pending tenant for a shop ("My-Store" becomes my-store.myshopify.com). */
    async create(input: { shopDomain: string }, field = 'body.shop_domain'): Promise<TenantRow> {
      const shopDomain = normalizeShopDomain(input.shopDomain)
      if (!shopDomain) throw badShop(field)
      try {
        return await repo.insertTenant(randomUUID(), shopDomain)
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError('a tenant already exists for this shop', 'SHOP_EXISTS')
        throw err
      }
    },

    /** One page of tenants ordered by id; `nextCursor` is null on the last page. */
    async list(page: { limit: number; cursor?: string | undefined }) {
      const rows = await repo.listTenants({ limit: page.limit + 1, after: page.cursor })
      const items = rows.slice(0, page.limit)
      return {
        items,
        nextCursor: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null,
      }
    },

    get,

    /** True when the tenant exists (admins reaching a tenant route for an unknown id get 404). */
    async exists(tenantId: string): Promise<boolean> {
      return (await repo.findTenant(tenantId)) !== undefined
    },

    /** The tenant of a shop domain (normalised), or undefined. */
    async findByShop(shop: string) {
      const shopDomain = normalizeShopDomain(shop)
      if (!shopDomain) return undefined
      return repo.findTenantByShopDomain(shopDomain)
    },

    /**
     * Checks a manual Admin API token with Shopify, stores it encrypted (bound to the tenant),
     * marks the tenant active and records the shop's name, time zone and currency.
     */
    async setManualToken(tenantId: string, accessToken: string): Promise<TenantRow> {
      const tenant = await get(tenantId)
      const shop = await deps.checkShopToken(tenant.shopDomain, accessToken)
      return repo.saveManualCredentials(
        tenantId,
        {
          accessTokenEnc: deps.cipher.encrypt(accessToken, tenantId),
          shopName: shop.name,
          ianaTimezone: shop.ianaTimezone,
          currency: shop.currencyCode,
        },
        now(),
      )
    },

    /** The decrypted Admin API token of a tenant, or undefined when none is stored. */
    async accessToken(tenantId: string): Promise<string | undefined> {
      const c = await repo.findCredentials(tenantId)
      return c ? deps.cipher.decrypt(c.accessTokenEnc, tenantId) : undefined
    },
  }
}

export type TenantService = ReturnType<typeof createTenantService>
