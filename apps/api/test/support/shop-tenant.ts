// An active tenant of a shop of the fake Shopify, with its Admin API token stored encrypted, and
// the environment a spawned worker process needs to sync it.
import { randomBytes } from 'node:crypto'
import { createShopAccessService, createTokenCipher } from '@xeno/core'
import { TEST_RUNTIME_ROLE, TEST_SYSTEM_ROLE } from '@xeno/db/testing'
import type { createFakeShopify } from '@xeno/shopify-fake'
import type { buildTestApp } from './app.ts'
import { testEnv } from './env.ts'

type Harness = Awaited<ReturnType<typeof buildTestApp>>
type Fake = Awaited<ReturnType<typeof createFakeShopify>>

/** The test database as the runtime role (what a spawned process connects with). */
export function runtimeUrl(ownerUrl: string, role: string = TEST_RUNTIME_ROLE): string {
  const u = new URL(ownerUrl)
  u.username = role
  u.password = role
  return u.toString()
}

export async function shopTenant(
  h: Harness,
  fake: Fake,
  shopParams: { orders: number; customers: number; products: number },
) {
  const domain = `t${randomBytes(4).toString('hex')}.myshopify.com`
  const shop = fake.createShop({ domain, seed: 7, ...shopParams })
  const tenant = await h.tenant(domain)
  const owner = await h.user(tenant.id, { role: 'owner' })
  await h.ownerQuery(`UPDATE tenants SET status = 'active' WHERE id = $1`, [tenant.id])
  const keyHex = randomBytes(32).toString('hex')
  await createShopAccessService({
    db: h.db,
    cipher: createTokenCipher({ current: Buffer.from(keyHex, 'hex') }),
    refresh: async () => {
      throw new Error('not used')
    },
  }).storeGrant(tenant.id, {
    accessToken: shop.accessToken,
    scope: shop.scope,
    expiresAt: null,
    refreshToken: null,
    refreshExpiresAt: null,
  })
  /** Environment of a worker process syncing this tenant (queue prefix without braces). */
  const workerEnv = (prefixName: string, extra: Record<string, string> = {}) =>
    testEnv({
      DATABASE_URL: runtimeUrl(h.ownerUrl),
      DATABASE_SYSTEM_URL: runtimeUrl(h.ownerUrl, TEST_SYSTEM_ROLE),
      QUEUE_PREFIX: prefixName,
      TOKEN_ENCRYPTION_KEY: keyHex,
      SHOPIFY_ADMIN_ORIGIN: fake.origin,
      SYNC_INTERVAL_MINUTES: '60',
      LOG_LEVEL: 'info',
      ...extra,
    })
  /** POST /ingest as the owner. */
  const ingest = (payload: Record<string, unknown>) =>
    h.app.inject({
      method: 'POST',
      url: `/api/tenants/${tenant.id}/ingest`,
      headers: owner.basic,
      payload,
    })
  return { domain, tenant, owner, workerEnv, ingest }
}
