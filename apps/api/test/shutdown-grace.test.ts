// Both processes stop inside SHUTDOWN_GRACE_MS and exit 0 when SIGTERM finds them busy: a worker
// sleeping in a Shopify retry backoff (Shopify answering 5xx to everything), and the API in the
// middle of a few thousand analytics requests. Real processes (apps/*/src/main.ts).
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import http from 'node:http'
import { createFakeShopify } from '@xeno/shopify-fake'
import { buildTestApp } from './support/app.ts'
import { testEnv } from './support/env.ts'
import { freePort, startProcess, waitForHttp } from './support/process.ts'
import { runtimeUrl, shopTenant } from './support/shop-tenant.ts'

const WORKER = fileURLToPath(new URL('../../worker/src/main.ts', import.meta.url))
const API = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const GRACE_MS = 5_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('a worker mid-backoff against a failing Shopify exits 0 within its grace', async (t) => {
  const fake = await createFakeShopify({})
  t.teardown(() => fake.close())
  const prefixName = `xeno-grace-${randomBytes(4).toString('hex')}`
  const h = await buildTestApp(t, { queuePrefix: `{${prefixName}}` })
  const s = await shopTenant(h, fake, { orders: 50, customers: 10, products: 5 })
  fake.setFaults(s.domain, [{ kind: 'http5xx', rate: 1, status: 503 }])

  const worker = startProcess(
    WORKER,
    s.workerEnv(prefixName, { SHUTDOWN_GRACE_MS: String(GRACE_MS) }),
    ['--queues', 'sync'],
  )
  t.teardown(() => worker.child.kill('SIGKILL'))
  const res = await s.ingest({ resources: ['orders'], mode: 'full' })
  t.equal(res.statusCode, 202, res.body)

  // Wait until the worker sleeps in a backoff longer than the rest of this test allows.
  const deadline = Date.now() + 60_000
  let backoff: { attempt: number; delayMs: number } | undefined
  while (!backoff && Date.now() < deadline) {
    for (const line of worker.output().split('\n')) {
      if (!line.includes('shopify request retried')) continue
      const r = JSON.parse(line) as { attempt: number; delayMs: number }
      if (r.delayMs >= 2_000) backoff = r
    }
    await sleep(100)
  }
  t.ok(backoff, `in a backoff of ${backoff?.delayMs} ms (attempt ${backoff?.attempt})`)
  const signalled = Date.now()
  worker.child.kill('SIGTERM')
  const code = await worker.exited
  const took = Date.now() - signalled
  if (!t.equal(code, 0, 'exit 0')) t.comment(worker.output().slice(-4000))
  t.ok(took < GRACE_MS, `stopped in ${took} ms, inside the ${GRACE_MS} ms grace`)
  t.notMatch(worker.output(), /grace period over/)
  t.match(worker.output(), /job interrupted by shutdown; requeued/)
  // Nothing lost: the job is back in the queue for the next worker, no attempt spent on it.
  const queue = h.producer.queue('sync')
  const counts = await queue.getJobCounts('failed', 'waiting', 'delayed', 'active')
  t.equal(counts.failed, 0, 'not failed')
  t.equal(counts.active, 0, 'not left active (stalled)')
  t.ok((counts.waiting ?? 0) + (counts.delayed ?? 0) >= 1, 'requeued')
})

t.test('the API under a few thousand analytics requests exits 0 within its grace', async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant()
  await h.ownerQuery(`UPDATE tenants SET status = 'active' WHERE id = $1`, [tenant.id])
  const key = await h.apiKey(tenant.id)
  const port = await freePort()
  const api = startProcess(
    API,
    testEnv({
      DATABASE_URL: runtimeUrl(h.ownerUrl),
      API_PEPPER: h.pepper,
      PORT: String(port),
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
    }),
  )
  t.teardown(() => api.child.kill('SIGKILL'))
  const origin = `http://127.0.0.1:${port}`
  await waitForHttp(`${origin}/api/health/ready`, [200])
  // Keep-alive connections, as a load generator or a reverse proxy holds them.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  t.teardown(() => agent.destroy())
  const path = `/api/tenants/${tenant.id}/analytics?from=2026-01-01&to=2026-03-31`
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path, agent, headers: key.headers },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
          res.on('error', reject)
        },
      )
      req.on('error', reject)
    })
  let ok = 0
  let before = 0 // anything but 200 before the signal
  let signalledAt = 0
  const client = async () => {
    for (;;) {
      try {
        const status = await get()
        if (status === 200) ok++
        else if (!signalledAt) before++
      } catch {
        if (signalledAt) return // refused once the listener closed: expected
        before++
      }
    }
  }
  const clients = Array.from({ length: 32 }, client)
  while (ok < 2_000 && api.child.exitCode === null) await sleep(20)
  t.ok(ok >= 2_000, `${ok} analytics requests answered before the signal`)
  signalledAt = Date.now()
  api.child.kill('SIGTERM') // the clients keep sending
  const code = await api.exited
  const took = Date.now() - signalledAt
  await Promise.all(clients)
  t.equal(code, 0, 'exit 0')
  t.ok(took < GRACE_MS, `stopped in ${took} ms under load, inside the ${GRACE_MS} ms grace`)
  t.notMatch(api.output(), /grace period over/)
  t.equal(before, 0, 'every request before the signal answered 200')
})
