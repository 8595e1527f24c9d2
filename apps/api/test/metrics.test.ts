// GET /metrics answers the Prometheus text format (parsed by a real parser), needs the bearer
// token when one is configured, labels HTTP series by route pattern, and its series move when
// work happens: requests, enqueued jobs, sync checkpoints, webhook receipts.
import { createRequire } from 'node:module'
import t from 'tap'
import { createMetricsRepository } from '@xeno/core'
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
    deps: ({ db, producer }) => ({
      metrics: {
        token: TOKEN,
        queues: producer.allQueues,
        repository: createMetricsRepository(db),
      },
    }),
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
  t.ok(families.find((f) => f.name === 'xeno_api_process_cpu_user_seconds_total'))
})

t.test('parses as Prometheus text and moves when work happens', async (t) => {
  const h = await app(t)
  const before = await scrape(h)
  for (const name of [
    'xeno_http_requests_total',
    'xeno_http_request_duration_seconds',
    'xeno_queue_jobs',
    'xeno_webhook_receipts',
    'xeno_metrics_source_up',
    'xeno_api_process_resident_memory_bytes',
    'xeno_api_nodejs_eventloop_lag_seconds',
  ])
    t.ok(
      before.find((f) => f.name === name),
      `${name} is exported`,
    )
  t.equal(before.find((f) => f.name === 'xeno_http_request_duration_seconds')?.type, 'HISTOGRAM')
  t.equal(value(before, 'xeno_metrics_source_up', { source: 'queues' }), 1)
  t.equal(value(before, 'xeno_metrics_source_up', { source: 'sync_checkpoints' }), 1)

  // HTTP: the route pattern, never the raw URL.
  const admin = await h.admin()
  const tenant = await h.tenant('metrics-store')
  const healthBefore =
    value(before, 'xeno_http_requests_total', { route: '/api/health', status_code: '200' }) ?? 0
  for (let i = 0; i < 3; i++) await h.app.inject({ method: 'GET', url: '/api/health' })
  await h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: admin.headers })
  await h.app.inject({ method: 'GET', url: '/no/such/route' })

  // Queues: one job waiting on sync.
  const waitingBefore = value(before, 'xeno_queue_jobs', { queue: 'sync', state: 'waiting' })
  t.equal(waitingBefore, 0, 'a fresh prefix has no waiting sync job')
  await h.producer.enqueue('sync-tenant', { tenantId: tenant.id, mode: 'full' })

  // Sync checkpoints: orders synced up to 90 s ago, last success 10 s ago.
  const cursor = new Date(Date.now() - 90_000)
  const success = new Date(Date.now() - 10_000)
  await h.ownerQuery(
    `INSERT INTO sync_checkpoints (tenant_id, resource, state, cursor_updated_at, last_success_at)
     VALUES ($1, 'orders', 'idle', $2, $3)`,
    [tenant.id, cursor, success],
  )
  // Webhook inbox: one received, one processed.
  for (const [id, status] of [
    ['w-1', 'received'],
    ['w-2', 'processed'],
  ])
    await h.ownerQuery(
      `INSERT INTO webhook_receipts (tenant_id, webhook_id, topic, payload, status)
       VALUES ($1, $2, 'orders/create', '{}', $3)`,
      [tenant.id, id, status],
    )

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
  t.equal(value(after, 'xeno_queue_jobs', { queue: 'sync', state: 'waiting' }), 1)
  const lag = value(after, 'xeno_sync_lag_seconds', { tenant_id: tenant.id, resource: 'orders' })
  t.ok(lag !== undefined && lag >= 89 && lag < 150, `sync lag ≈ 90 s (${lag})`)
  t.equal(
    value(after, 'xeno_sync_last_success_timestamp_seconds', {
      tenant_id: tenant.id,
      resource: 'orders',
    }),
    success.getTime() / 1000,
  )
  t.equal(value(after, 'xeno_webhook_receipts', { status: 'received' }), 1)
  t.equal(value(after, 'xeno_webhook_receipts', { status: 'processed' }), 1)
})
