// `pnpm dev` end to end: scripts/dev.ts starts the migrations, the fake Shopify, the API and a
// worker as real child processes, installs the app on the demo store through the OAuth redirects
// and waits for the backfill through the queue and worker; then the analytics answer with data.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase, TEST_RUNTIME_ROLE } from '@xeno/db/testing'
import { testEnv } from './support/env.ts'
import { freePort, startProcess } from './support/process.ts'

const DEV = fileURLToPath(new URL('../../../scripts/dev.ts', import.meta.url))

t.test('pnpm dev: install → backfill → analytics non-empty', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const runtimeUrl = new URL(tdb.ownerUrl)
  runtimeUrl.username = TEST_RUNTIME_ROLE
  runtimeUrl.password = TEST_RUNTIME_ROLE
  const [port, fakePort] = [await freePort(), await freePort()]
  const api = `http://127.0.0.1:${port}`
  const env = testEnv({
    DATABASE_URL: runtimeUrl.toString(),
    DATABASE_OWNER_URL: tdb.ownerUrl,
    QUEUE_PREFIX: `xeno-demo-${randomBytes(4).toString('hex')}`,
    PORT: String(port),
    APP_URL: api,
    SHOPIFY_REDIRECT_URI: `${api}/api/shopify/callback`,
    FAKE_SHOPIFY_PORT: String(fakePort),
    SHOPIFY_CLIENT_ID: 'demo-test-client',
    SHOPIFY_CLIENT_SECRET: 'demo-test-secret',
    DEV_ADMIN_PASSWORD: 'demo-test-admin-password',
    DEV_DEMO_PASSWORD: 'demo-test-user-password',
    LOG_LEVEL: 'info',
  })
  const dev = startProcess(DEV, env)
  t.teardown(async () => {
    if (dev.child.exitCode === null) {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  })

  const deadline = Date.now() + 240_000
  let ready: { tenantId: string } | undefined
  while (!ready) {
    const m = /\[dev\] ready (\{.*\})/.exec(dev.output())
    if (m) ready = JSON.parse(m[1]!) as { tenantId: string }
    else if (dev.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`pnpm dev did not get ready:\n${dev.output().slice(-4000)}`)
    else await new Promise((r) => setTimeout(r, 500))
  }
  const out = dev.output()
  t.match(out, /Admin\s+admin \/ demo-test-admin-password/, 'prints the admin credentials')
  t.match(out, /curl -u demo:demo-test-user-password '.*\/metrics\/revenue\?/, 'prints a curl')
  t.match(
    out,
    /\[dev\] backfill \[#{24}\] 100% [\d,]+\/[\d,]+ objects/,
    'a progress bar of the backfill reaches 100 %',
  )
  t.match(out, `${api}/docs`)
  t.match(out, new RegExp(`Dashboard\\s+${api}/app/\\s`), 'prints the dashboard URL')
  t.match(out, /merchant: shop xeno-demo\.myshopify\.com, demo \/ demo-test-user-password/)
  const dashboard = await fetch(`${api}/app/`)
  t.equal(dashboard.status, 200, 'pnpm dev built the dashboard and the API serves it')
  t.match(dashboard.headers.get('content-type'), /text\/html/)
  // The processes' JSON lines are pretty-printed (pino-pretty), not raw JSON.
  t.match(out, /\bINFO\b.*xeno-api/, 'API log lines are pretty-printed')
  t.notMatch(out, /^\{"level":/m, 'no raw JSON log line')
  t.match(out, `${api}/admin/queues`)

  const basic = {
    authorization: `Basic ${Buffer.from('demo:demo-test-user-password').toString('base64')}`,
  }
  const from = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10)
  const res = await fetch(
    `${api}/api/tenants/${ready.tenantId}/metrics/revenue?from=${from}&granularity=month`,
    { headers: basic },
  )
  t.equal(res.status, 200)
  const body = (await res.json()) as {
    data: { series: { orders: number; net_sales: string }[] }
  }
  const orders = body.data.series.reduce((n, b) => n + b.orders, 0)
  t.ok(orders > 100, `the demo store's orders are in the analytics (${orders})`)
  t.ok(
    body.data.series.some((b) => Number(b.net_sales) > 0),
    'net sales are non-zero',
  )

  const status = await fetch(`${api}/api/tenants/${ready.tenantId}/sync-status`, {
    headers: basic,
  })
  const rows = ((await status.json()) as { data: { rows_synced: number; resource: string }[] }).data
  t.ok(
    rows.filter((r) => r.resource !== 'shop').every((r) => r.rows_synced > 0),
    'every resource was synced by the worker',
  )
  t.equal((await fetch(`${api}/docs/json`)).status, 200)

  dev.child.kill('SIGTERM')
  t.equal(await dev.exited, 0, 'Ctrl-C stops every process cleanly')
})
