// One-shot demo set-up against running processes (docker compose --profile demo): the admin,
// the demo tenant through the real OAuth flow and the backfill, as `pnpm dev` does; then it
// prints the credentials. Variables: DEMO_API_ORIGIN (http://api:3000), DEMO_FAKE_ORIGIN
// (http://fake-shopify:4010), DEV_ADMIN_USERNAME/PASSWORD, DEV_DEMO_USERNAME/PASSWORD,
// ADMIN_BOOTSTRAP_TOKEN.
import { setUpDemo } from './demo.ts'

const env = process.env
const api = env.DEMO_API_ORIGIN ?? 'http://api:3000'
const admin = {
  username: env.DEV_ADMIN_USERNAME ?? 'admin',
  password: env.DEV_ADMIN_PASSWORD ?? 'xeno-dev-admin-password',
  bootstrapToken: env.ADMIN_BOOTSTRAP_TOKEN || undefined,
}
const user = {
  username: env.DEV_DEMO_USERNAME ?? 'demo',
  password: env.DEV_DEMO_PASSWORD ?? 'xeno-demo-password',
}
const log = (line: string) => process.stdout.write(`[demo] ${line}\n`)

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${api}/api/health`)).status === 200) break
  } catch {
    // not up yet
  }
  if (i > 240) throw new Error(`${api} did not become healthy`)
  await new Promise((r) => setTimeout(r, 500))
}
const result = await setUpDemo({
  api,
  fake: env.DEMO_FAKE_ORIGIN ?? 'http://fake-shopify:4010',
  shop: 'xeno-demo.myshopify.com',
  admin,
  user,
  log,
})
log(`admin ${admin.username} / ${admin.password}; demo owner ${user.username} / ${user.password}`)
log(
  `curl -u ${user.username}:${user.password} 'http://localhost:3000/api/tenants/${result.tenantId}/metrics/revenue?granularity=month'`,
)
