// Bull Board at /admin/queues: anonymous page views go to the sign-in page, anonymous and tenant
// API callers are refused with the error envelope (Bull Board's own errors too),
// an admin sees every queue of the catalog, read-only mode refuses actions; and a real headless
// Chromium (Debian's, driven by playwright-core) renders the board with the queue names.
import t from 'tap'
import { chromium } from 'playwright-core'
import { QUEUE_NAMES } from '@xeno/queues'
import { buildTestApp } from './support/app.ts'
import { ADMIN_COOKIE } from '../src/plugins/auth.ts'

type QueuesBody = { queues: { name: string; readOnlyMode: boolean }[] }

t.test('anonymous and tenant callers are refused; an admin sees every queue', async (t) => {
  const h = await buildTestApp(t)
  // A page without a session: to the sign-in page, with the way back.
  for (const url of ['/admin/queues', '/admin/queues/', '/admin/queues/queue/sync']) {
    const res = await h.app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 302, `anonymous GET ${url}`)
    t.equal(res.headers.location, `/admin/login?next=${encodeURIComponent(url)}`)
  }
  // The board's API answers the envelope (a script gets a status, not a page).
  const api401 = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues' })
  t.equal(api401.statusCode, 401, 'anonymous GET of the API')
  t.equal(api401.json<{ error: { code: string } }>().error.code, 'UNAUTHORIZED')
  // An expired or forged session cookie is no session either.
  const forged = await h.app.inject({
    method: 'GET',
    url: '/admin/queues',
    headers: { cookie: `${ADMIN_COOKIE}=forged` },
  })
  t.equal(forged.statusCode, 302, 'a forged cookie goes to the sign-in page')
  const pause = await h.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/sync/pause' })
  t.equal(pause.statusCode, 401, 'anonymous action refused')

  const tenant = await h.tenant('board-store')
  const owner = await h.user(tenant.id, { role: 'owner' })
  const key = await h.apiKey(tenant.id)
  for (const headers of [owner.basic, await h.session(owner), key.headers]) {
    const res = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers })
    t.equal(res.statusCode, 401, 'tenant credentials do not open the board')
  }

  const admin = await h.admin()
  const page = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: admin.headers })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  const api = await h.app.inject({
    method: 'GET',
    url: '/admin/queues/api/queues',
    headers: admin.headers,
  })
  t.equal(api.statusCode, 200)
  // Bull Board's own errors answer in Xeno's envelope.
  const missing = await h.app.inject({
    method: 'GET',
    url: '/admin/queues/api/queues/no-such-queue/1',
    headers: admin.headers,
  })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { error: { code: 'NOT_FOUND', message: /queue not found/ } })
  t.notOk('key' in missing.json<{ error: object }>().error, 'no Bull Board error key')
  const body = api.json<QueuesBody>()
  t.same(body.queues.map((q) => q.name).sort(), [...QUEUE_NAMES].sort(), 'every catalog queue')
  t.ok(
    body.queues.every((q) => !q.readOnlyMode),
    'actions available by default',
  )

  // Board actions (bodiless PUTs) still need the same origin: the admin cookie alone is not enough.
  const cookieOnly = { cookie: admin.headers.cookie }
  const crossSite = await h.app.inject({
    method: 'PUT',
    url: '/admin/queues/api/queues/sync/pause',
    headers: { ...cookieOnly, origin: 'https://evil.example' },
  })
  t.equal(crossSite.statusCode, 403, 'cross-origin action refused')
  const noOrigin = await h.app.inject({
    method: 'PUT',
    url: '/admin/queues/api/queues/sync/pause',
    headers: cookieOnly,
  })
  t.equal(noOrigin.statusCode, 403, 'origin-less action refused')
  t.equal(await h.producer.queue('sync').isPaused(), false, 'nothing was paused')
  const sameOrigin = await h.app.inject({
    method: 'PUT',
    url: '/admin/queues/api/queues/sync/resume',
    headers: admin.headers,
  })
  t.equal(sameOrigin.statusCode, 200, 'same-origin bodiless action accepted')
})

t.test('read-only mode refuses actions', async (t) => {
  const h = await buildTestApp(t, {
    deps: ({ producer }) => ({ bullBoard: { queues: producer.allQueues(), readOnly: true } }),
  })
  const admin = await h.admin()
  const api = await h.app.inject({
    method: 'GET',
    url: '/admin/queues/api/queues',
    headers: admin.headers,
  })
  t.ok(api.json<QueuesBody>().queues.every((q) => q.readOnlyMode))
  const pause = await h.app.inject({
    method: 'PUT',
    url: '/admin/queues/api/queues/sync/pause',
    headers: { ...admin.headers, 'content-type': 'application/json' },
    payload: '{}',
  })
  t.equal(pause.statusCode, 405, 'pausing a queue is refused')
  t.equal(await h.producer.queue('sync').isPaused(), false, 'the queue still runs')
})

t.test('headless Chromium renders the board with every queue name', async (t) => {
  const h = await buildTestApp(t, { cookieSecure: false })
  const admin = await h.admin()
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const address = h.app.server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  const base = `http://127.0.0.1:${address.port}`
  const cookie = /xeno_admin=([^;]+)/.exec(admin.headers.cookie)?.[1]
  if (!cookie) throw new Error('no admin cookie')

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  t.teardown(() => browser.close())

  // Without the cookie the browser lands on the sign-in page, not the board.
  const anon = await browser.newPage()
  const refused = await anon.goto(`${base}/admin/queues`)
  t.equal(refused?.status(), 200)
  t.match(anon.url(), /\/admin\/login\?next=%2Fadmin%2Fqueues$/)

  const context = await browser.newContext()
  await context.addCookies([{ name: ADMIN_COOKIE, value: cookie, url: base }])
  const page = await context.newPage()
  const res = await page.goto(`${base}/admin/queues`)
  t.equal(res?.status(), 200)
  for (const name of QUEUE_NAMES)
    await page.getByText(name, { exact: true }).first().waitFor({ timeout: 20_000 })
  const text = await page.locator('body').innerText()
  for (const name of QUEUE_NAMES) t.match(text, new RegExp(`\\b${name}\\b`), `board shows ${name}`)

  // An action as the board's UI sends it: a bodiless PUT from the page (same origin) works…
  const action = await page.evaluate(async () => {
    const r = await fetch('/admin/queues/api/queues/sync/pause', { method: 'PUT' })
    return r.status
  })
  t.equal(action, 200, 'the board can pause a queue')
  t.equal(await h.producer.queue('sync').isPaused(), true, 'the queue is paused')
})
