import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Queue } from 'bullmq'
import { buildTestApp } from './support/app.ts'

t.test('POST /api/tenants/:id/ingest enqueues at once and absorbs a second trigger', async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant('ingest-shop')
  const owner = await h.user(tenant.id, { role: 'owner' })
  const viewer = await h.user(tenant.id)
  const admin = await h.admin()
  const url = `/api/tenants/${tenant.id}/ingest`

  const first = await h.app.inject({ method: 'POST', url, headers: owner.basic, payload: {} })
  t.equal(first.statusCode, 202, first.body)
  const body = first.json<{
    data: { mode: string; jobs: { resource: string; job_id: string }[] }
  }>()
  t.equal(body.data.mode, 'incremental')
  t.same(
    body.data.jobs.map((j) => j.resource),
    ['shop', 'customers', 'products', 'orders'],
  )
  const again = await h.app.inject({
    method: 'POST',
    url,
    headers: owner.basic,
    payload: { mode: 'full', resources: ['orders'] },
  })
  t.equal(again.statusCode, 202, 'not a 409')
  const orders = body.data.jobs.find((j) => j.resource === 'orders')!
  t.same(
    again.json<typeof body>().data.jobs,
    [{ resource: 'orders', job_id: orders.job_id }],
    'absorbed',
  )

  const q = new Queue('sync', {
    connection: h.producer.queue('sync').opts.connection,
    prefix: h.queuePrefix,
  })
  t.teardown(() => q.close())
  t.equal(await q.getWaitingCount(), 4, 'one job per resource, none duplicated')
  const job = await q.getJob(orders.job_id)
  t.same(job?.data, {
    tenantId: tenant.id,
    resource: 'orders',
    mode: 'incremental',
    requestId: job?.data.requestId,
  })

  const denied = await h.app.inject({ method: 'POST', url, headers: viewer.basic, payload: {} })
  t.equal(denied.statusCode, 403, 'viewers cannot trigger')
  const bad = await h.app.inject({
    method: 'POST',
    url,
    headers: owner.basic,
    payload: { resources: ['discounts'], mode: 'reconcile' },
  })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /resources/)
  const missing = await h.app.inject({
    method: 'POST',
    url: `/api/tenants/${randomUUID()}/ingest`,
    headers: admin.headers,
    payload: {},
  })
  t.equal(missing.statusCode, 404)

  const status = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/sync-status`,
    headers: viewer.basic,
  })
  t.equal(status.statusCode, 200, status.body)
  const rows = status.json<{ data: { resource: string; state: string; lag_seconds: null }[] }>()
    .data
  t.same(
    rows.map((r) => [r.resource, r.state, r.lag_seconds]),
    [
      ['shop', 'never', null],
      ['customers', 'never', null],
      ['products', 'never', null],
      ['orders', 'never', null],
    ],
  )

  await h.ownerQuery(`UPDATE tenants SET status = 'disabled' WHERE id = $1`, [tenant.id])
  const stopped = await h.app.inject({ method: 'POST', url, headers: owner.basic, payload: {} })
  t.equal(stopped.statusCode, 409, 'a stopped tenant is told to reconnect')
})
