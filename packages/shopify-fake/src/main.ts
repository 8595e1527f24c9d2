import { createFakeShopify } from './server.ts'

// Composition root of the standalone fake (`pnpm fake-shopify`): the only file that reads the env.
const env = process.env
const port = Number(env.FAKE_SHOPIFY_PORT ?? 4010)
const clientId = env.FAKE_SHOPIFY_CLIENT_ID ?? env.SHOPIFY_CLIENT_ID ?? 'fake-client-id'
const clientSecret =
  env.FAKE_SHOPIFY_CLIENT_SECRET ?? env.SHOPIFY_CLIENT_SECRET ?? 'fake-client-secret'
const demo = (env.FAKE_SHOPIFY_DEMO ?? 'true') !== 'false'
const DAY = 86_400_000

const fake = await createFakeShopify({
  port,
  host: env.FAKE_SHOPIFY_HOST ?? '127.0.0.1',
  apps: [{ clientId, clientSecret }],
  log: (e) => console.error(JSON.stringify(e)),
})
if (demo) {
  const now = Date.now()
  const shop = fake.createShop({
    domain: 'xeno-demo.myshopify.com',
    name: 'Xeno Demo',
    seed: 20261126,
    orders: 2000,
    customers: 600,
    products: 60,
    from: Math.floor(now / DAY) * DAY - 400 * DAY,
    to: now,
  })
  console.log(
    JSON.stringify({
      msg: 'demo shop ready',
      domain: shop.domain,
      accessToken: shop.accessToken,
      scope: shop.scope,
    }),
  )
}
console.log(JSON.stringify({ msg: 'fake shopify listening', origin: fake.origin }))

const stop = (): void => {
  void fake.close().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
