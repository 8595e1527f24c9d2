// The operator pages in a real headless Chromium (Debian's, driven by playwright-core) under the
// app's Content-Security-Policy: a person opening /admin/queues without a session signs in on
// the login page and comes back to the board; Swagger UI renders the document. Along the way no
// CSP violation is reported and no request goes to any host but the API's own (Bull Board's
// Google Fonts are gone). Every response, errors included, carries the security headers.
import t from 'tap'
import { chromium } from 'playwright-core'
import { QUEUE_NAMES } from '@xeno/queues'
import { buildTestApp } from './support/app.ts'

t.test('security headers on every response, errors included', async (t) => {
  const h = await buildTestApp(t)
  for (const [url, status] of [
    ['/api/health', 200],
    ['/no/such/route', 404],
    ['/api/admin/me', 401],
    ['/metrics', 200],
    ['/admin/login', 200],
    ['/docs/json', 200],
  ] as const) {
    const res = await h.app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status, url)
    const csp = String(res.headers['content-security-policy'])
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ])
      t.ok(csp.includes(directive), `${url}: ${directive}`)
    t.notMatch(csp, /script-src[^;]*unsafe/, `${url}: no unsafe script source`)
    t.equal(res.headers['x-frame-options'], 'SAMEORIGIN', `${url}: X-Frame-Options`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${url}: X-Content-Type-Options`)
    t.equal(res.headers['referrer-policy'], 'no-referrer', `${url}: Referrer-Policy`)
  }
  // The sign-in page only goes back to a path under /admin/ (no open redirect).
  for (const next of ['https://evil.example/', '//evil.example/admin/', '/api/admin/me']) {
    const res = await h.app.inject({
      method: 'GET',
      url: `/admin/login?next=${encodeURIComponent(next)}`,
    })
    t.match(res.body, /data-next="\/admin\/queues"/, `next=${next} falls back to the board`)
  }
})

t.test(
  'Chromium: sign-in redirect and back, Swagger UI, no CSP violation, no outside request',
  async (t) => {
    const h = await buildTestApp(t, { cookieSecure: false })
    const admin = await h.admin()
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const address = h.app.server.address()
    if (!address || typeof address === 'string') throw new Error('no address')
    const base = `http://127.0.0.1:${address.port}`

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
    const context = await browser.newContext()
    const violations: string[] = []
    const outside: string[] = []
    // Anything not of this origin is recorded and refused (the test never reaches the internet).
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (new URL(url).origin === base) return route.continue()
      outside.push(url)
      return route.abort()
    })
    // The page's own CSP violation events, plus Chromium's console reports of them.
    // (A string: it runs in the page, where `document` exists.)
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))`)
    const page = await context.newPage()
    page.on('console', (m) => {
      if (/Content Security Policy|CSP violation/i.test(m.text()))
        violations.push(`${page.url()} ${m.text()}`)
    })

    // Without a session: the board sends the browser to the sign-in page…
    await page.goto(`${base}/admin/queues/queue/sync`)
    t.match(page.url(), /\/admin\/login\?next=%2Fadmin%2Fqueues%2Fqueue%2Fsync$/)
    // …a wrong password is said so on the page…
    await page.getByLabel('Username').fill(admin.username)
    await page.getByLabel('Password').fill('wrong-password-123')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').waitFor({ state: 'visible', timeout: 10_000 })
    t.match(await page.getByRole('alert').innerText(), /invalid|credentials/i)
    // …and the right one goes back to where the person was going.
    await page.getByLabel('Password').fill(admin.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${base}/admin/queues/queue/sync`, { timeout: 15_000 })
    await page.goto(`${base}/admin/queues`)
    for (const name of QUEUE_NAMES)
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 20_000 })
    const text = await page.locator('body').innerText()
    for (const name of QUEUE_NAMES)
      t.match(text, new RegExp(`\\b${name}\\b`), `board shows ${name}`)

    // Swagger UI renders the document under the same policy.
    await page.goto(`${base}/docs`)
    await page.locator('.swagger-ui .info .title').first().waitFor({ timeout: 20_000 })
    t.match(await page.locator('.swagger-ui .info .title').first().innerText(), /Xeno API/)
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 })
    t.ok((await page.locator('.opblock').count()) > 20, 'operations listed')

    t.same(violations, [], 'no CSP violation reported')
    t.same(outside, [], 'no request to another host')
  },
)
