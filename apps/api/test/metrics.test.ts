// GET /metrics answers the Prometheus text format (parsed by a real parser, and clean under
// Prometheus' own `promtool check metrics`), needs the bearer token when one is configured,
// labels HTTP series by route pattern, and its series move when requests happen. It carries no
// fleet-wide gauge (those come from the worker exporter): a sum over API replicas stays right.
import { createRequire } from 'node:module'
import t from 'tap'
import { createHealthService } from '@xeno/core'
import { promtool } from '@xeno/core/testing'
import { buildTestApp, type TestApp } from './support/app.ts'

type Sample = { labels?: Record<string, string>; value?: string; count?: string }
type Family = { name: string; help: string; type: string; metrics: Sample[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Family[]

const TOKEN = 'metrics-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }

async function scrape(h: TestApp): Promise<Family[]> {
  const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: auth })
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${res.body}`)
  return parse(res.body)
}

/** The value of the first sample of `name` whose labels include `labels` (undefined if none). */
function value(families: Family[], name: string, labels: Record<string, string> = {}) {
  const family = families.find((f) => f.name === name)
  const sample = family?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  )
  const v = sample?.value ?? sample?.count
  return v === undefined ? undefined : Number(v)
}

async function app(t: Parameters<typeof buildTestApp>[0]) {
  return buildTestApp(t, {
    deps: () => ({ metrics: { token: TOKEN } }),
  })
}

t.test('the bearer token is required when configured', async (t) => {
  const h = await app(t)
  const none = await h.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(none.statusCode, 401)
  t.equal(none.json<{ error: { code: string } }>().error.code, 'UNAUTHORIZED')
  const wrong = await h.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TOKEN}x` },
  })
  t.equal(wrong.statusCode, 401)
  const basic = await h.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
  })
  t.equal(basic.statusCode, 401)
  const ok = await h.app.inject({ method: 'GET', url: '/metrics', headers: auth })
  t.equal(ok.statusCode, 200)
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/)
})

t.test('without a token /metrics is open', async (t) => {
  const h = await buildTestApp(t)
  const res = await h.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  const families = parse(res.body)
  // prom-client's defaults under their standard names: stock Node.js dashboards work.
  t.ok(families.find((f) => f.name === 'process_cpu_user_seconds_total'))
  t.notOk(families.find((f) => f.name.startsWith('xeno_api_process')))
})

t.test('promtool check metrics is clean on the live output', async (t) => {
  const h = await app(t)
  // Series of every kind: requests with several statuses and routes, the readiness gauge.
  await h.app.inject({ method: 'GET', url: '/api/health' })
  await h.app.inject({ method: 'GET', url: '/no/such/route' })
  const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: auth })
  t.match(res.body, /^xeno_http_requests_total\{/m)
  const check = promtool(['check', 'metrics'], res.body)
  if (!check) return t.comment('promtool not installed: live check not run')
  t.equal(check.status, 0, `promtool check metrics: ${check.output}`)
  t.equal(check.output.trim(), '', 'no lint finding')
})

t.test('readiness of this replica: xeno_api_dependency_up', async (t) => {
  let redisUp = true
  const h = await buildTestApp(t, {
    deps: () => ({
      health: createHealthService({ pingDb: async () => true, pingRedis: async () => redisUp }),
    }),
  })
  const read = async () => parse((await h.app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(value(await read(), 'xeno_api_dependency_up', { dependency: 'redis' }), 1)
  redisUp = false
  const down = await read()
  t.equal(value(down, 'xeno_api_dependency_up', { dependency: 'redis' }), 0)
  t.equal(value(down, 'xeno_api_dependency_up', { dependency: 'database' }), 1)
})

t.test('parses as Prometheus text and moves when work happens', async (t) => {
  const h = await app(t)
  const before = await scrape(h)
  for (const name of [
    'xeno_http_requests_total',
    'xeno_http_request_duration_seconds',
    'xeno_api_dependency_up',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ])
    t.ok(
      before.find((f) => f.name === name),
      `${name} is exported`,
    )
  t.equal(before.find((f) => f.name === 'xeno_http_request_duration_seconds')?.type, 'HISTOGRAM')
  for (const fleet of ['xeno_queue_jobs', 'xeno_webhook_receipts', 'xeno_sync_lag_seconds'])
    t.notOk(
      before.find((f) => f.name === fleet),
      `${fleet} is the exporter's, not the API's`,
    )

  // HTTP: the route pattern, never the raw URL.
  const admin = await h.admin()
  const tenant = await h.tenant('metrics-store')
  const healthBefore =
    value(before, 'xeno_http_requests_total', { route: '/api/health', status_code: '200' }) ?? 0
  for (let i = 0; i < 3; i++) await h.app.inject({ method: 'GET', url: '/api/health' })
  await h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: admin.headers })
  await h.app.inject({ method: 'GET', url: '/no/such/route' })

  const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: auth })
  const after = parse(res.body)
  t.equal(
    value(after, 'xeno_http_requests_total', {
      method: 'GET',
      route: '/api/health',
      status_code: '200',
    }),
    healthBefore + 3,
    'the health counter moved by 3',
  )
  t.equal(
    value(after, 'xeno_http_requests_total', { route: '/api/tenants/:id', status_code: '200' }),
    1,
    'tenant route labelled with its pattern',
  )
  t.equal(
    value(after, 'xeno_http_requests_total', { route: 'unmatched', status_code: '404' }),
    1,
    'unmatched URLs share one label',
  )
  t.notOk(res.body.includes(`/api/tenants/${tenant.id}`), 'no raw URL in any label')
  t.notOk(res.body.includes('/no/such/route'), 'no raw unmatched URL in any label')
  // The parser keeps histogram buckets but drops their labels: read _count from the text.
  const healthCount =
    /^xeno_http_request_duration_seconds_count\{method="GET",route="\/api\/health",status_code="200"\} (\d+)$/m.exec(
      res.body,
    )?.[1]
  t.equal(Number(healthCount), healthBefore + 3, 'latency observed per request')
})
