// What the fuzzer (fuzz.test.ts) found, pinned down so it stays fixed.
import t from 'tap'
import { buildTestApp } from './support/app.ts'

t.test("router errors answer in the error envelope, not Fastify's default shape", async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id)
  // Found by seed 20261126: malformed percent-encoding in a path parameter (FST_ERR_BAD_URL) and
  // a path parameter over Fastify's maxParamLength (FST_ERR_MAX_PARAM_LENGTH) were answered as
  // { error: 'Bad Request', code: 'FST_ERR_…', message: <the whole URL>, statusCode }.
  const cases: [string, string, number, string][] = [
    ['GET', '/api/tenants/%zz/users', 400, 'BAD_URL'],
    ['GET', '/api/tenants/%E0%A4%A/sync-status', 400, 'BAD_URL'],
    ['POST', '/api/admin/webhooks/%zz/replay', 400, 'BAD_URL'],
    ['GET', `/api/tenants/${'a'.repeat(300)}/users`, 414, 'URI_TOO_LONG'],
    ['PATCH', `/api/tenants/${tenant.id}/users/${'x'.repeat(300)}`, 414, 'URI_TOO_LONG'],
  ]
  for (const [method, url, status, code] of cases) {
    const res = await h.app.inject({ method: method as 'GET', url, headers: owner.basic })
    t.equal(res.statusCode, status, `${method} ${url.slice(0, 40)}`)
    t.same(Object.keys(res.json<object>()), ['error'], 'only the envelope')
    t.equal(res.json().error.code, code)
    t.type(res.json().error.message, 'string')
    t.notMatch(res.body, /FST_ERR|statusCode/, 'no framework internals')
  }
  // Well-formed requests are unaffected.
  const ok = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: owner.basic,
  })
  t.equal(ok.statusCode, 200)
})
