import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { Database } from '@xeno/db'
import { createLogger } from '@xeno/logger'
import { createShopifyAdmin } from '@xeno/shopify'
import {
  createFakeShopify,
  type CreatedShop,
  type FakeShopify,
  type ShopParams,
} from '@xeno/shopify-fake'
import { createShopAccessService, createShopReadback, createTokenCipher } from '@xeno/core'

/**
 * A fake Shopify shop for an existing tenant, its token stored (encrypted) for that tenant, and
 * the webhook read-back wired to both: what the worker's processor uses to read a data topic's
 * object back from the header shop.
 */
export async function shopForTenant(
  t: Test,
  o: {
    db: Database
    ownerQuery: (sql: string, params?: unknown[]) => Promise<unknown>
    tenantId: string
    domain: string
    shop?: Omit<ShopParams, 'domain'>
    fake?: FakeShopify
    /** A shop the test created already (else a new empty one). */
    created?: CreatedShop
    /** The token encryption key, when a worker process must read the token too. */
    key?: Buffer
    secret?: string
  },
) {
  const fake = o.fake ?? (await createFakeShopify({ clock: { auto: false } }))
  if (!o.fake) t.teardown(() => fake.close())
  const created =
    o.created ??
    fake.createShop({
      domain: o.domain,
      seed: 3,
      orders: 0,
      customers: 0,
      products: 0,
      ...o.shop,
    })
  const admin = createShopifyAdmin({
    clientId: 'fake-client-id',
    clientSecret: o.secret ?? 'fake-client-secret',
    adminOrigin: fake.origin,
    backoffBaseMs: 20,
    backoffMaxMs: 200,
  })
  const access = createShopAccessService({
    db: o.db,
    cipher: createTokenCipher({ current: o.key ?? randomBytes(32) }),
    refresh: admin.refreshAccessToken,
  })
  await access.storeGrant(o.tenantId, {
    accessToken: created.accessToken,
    scope: created.scope,
    expiresAt: null,
    refreshToken: null,
    refreshExpiresAt: null,
  })
  await o.ownerQuery(`UPDATE tenants SET status = 'active', shopify_shop_id = $2 WHERE id = $1`, [
    o.tenantId,
    created.shopId,
  ])
  const readback = createShopReadback({ admin, access, logger: createLogger({ level: 'silent' }) })
  return { fake, created, store: fake.shop(o.domain), readback, admin, access }
}
