// Property-based fuzzing of every registered route through app.inject(). Requests are generated
// from each route's zod schemas (params, querystring, body) and beyond them: wrong types, NUL
// bytes, huge numbers, 2^53+ ids, deep JSON, long strings, bad dates, negative and huge
// pagination, SQL metacharacters, invalid shop domains and UUIDs, bad content types, oversize
// bodies, signed webhook deliveries with hostile bodies; sent with every kind of credential and
// none. Every answer must be < 500, and every 4xx must be the error envelope without a stack
// trace or SQL text.
//
// Reproduce a run: FUZZ_SEED=<seed printed below> FUZZ_RUNS=<n> pnpm exec tap apps/api/test/fuzz.test.ts
import t from 'tap'
import fc from 'fast-check'
import { z } from 'zod'
import type { RouteOptions } from 'fastify'
import { WEBHOOK_TOPICS, webhookHmac } from '@xeno/shopify'
import { fullApp, FULL_APP_WEBHOOK_SECRET } from './support/full-app.ts'

// 10,000 cases took 136 s on this 2-core machine at a load average of 7 (most of it in Postgres);
// raise FUZZ_RUNS for a longer hunt.
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261126
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 10_000

type JsonSchema = {
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  default?: unknown
}

const BIG = 2 ** 53
const ISO_DATE = fc
  .date({ min: new Date('1990-01-01'), max: new Date('2035-12-31'), noInvalidDate: true })
  .map((d) => d.toISOString())

/** Values a schema accepts (mostly): the fuzzer's "almost valid" requests start here. */
function fromSchema(s: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 6) return fc.jsonValue({ maxDepth: 2 })
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.enum) return fc.constantFrom(...s.enum)
  const union = s.anyOf ?? s.oneOf
  if (union?.length) return fc.oneof(...union.map((u) => fromSchema(u, depth + 1)))
  if (s.allOf?.[0]) return fromSchema(s.allOf[0], depth + 1)
  const type = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  if (type.length > 1)
    return fc.oneof(...type.map((ty) => fromSchema({ ...s, type: ty }, depth + 1)))
  switch (type[0]) {
    case 'string': {
      if (s.format === 'uuid' || s.format === 'guid') return fc.uuid()
      if (s.format === 'date-time') return ISO_DATE
      if (s.format === 'date') return ISO_DATE.map((d) => d.slice(0, 10))
      if (s.pattern) {
        try {
          return fc.stringMatching(new RegExp(s.pattern), { size: 'small' })
        } catch {
          // a pattern fast-check cannot invert: plain strings below
        }
      }
      const min = s.minLength ?? 0
      return fc.string({
        minLength: min,
        maxLength: Math.max(min, Math.min(s.maxLength ?? 40, 80)),
      })
    }
    case 'integer':
    case 'number': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1e6)
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1e6)
      return type[0] === 'integer'
        ? fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) })
        : fc.double({ min, max, noNaN: true })
    }
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, 6),
      })
    case 'object': {
      const props = s.properties ?? {}
      if (!Object.keys(props).length) return fc.dictionary(fc.string(), fc.jsonValue())
      return fc.record(
        Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, depth + 1)])),
        { requiredKeys: (s.required ?? []).filter((k) => k in props) },
      )
    }
    case undefined:
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

const LONG = 'x'.repeat(100_000)
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  "'; DROP TABLE tenants; --",
  "' OR '1'='1",
  '"; SELECT pg_sleep(10); --',
  '%',
  '_',
  '\\',
  '$1',
  '{}',
  '[]',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1',
  '0',
  '-0',
  '0x10',
  '1.5',
  '9007199254740993',
  '18446744073709551616',
  '-9223372036854775809',
  '99999999999999999999999999999999999999',
  '2026-02-30',
  '2026-13-01',
  '0000-00-00',
  '0001-01-01',
  '9999-12-31',
  '+275760-09-13',
  '2026-01-01T25:61:00Z',
  '2026-06-01T00:00:00+99:00',
  'not-a-date',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'evil.com',
  'shop.myshopify.com.evil.com',
  'UPPER.MYSHOPIFY.COM',
  '-bad-.myshopify.com',
  `${'a'.repeat(300)}.myshopify.com`,
  'shop.myshopify.com:443',
  'https://shop.myshopify.com/admin',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-fffffffffffff',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  '\ud800',
  '\uffff',
  '💥'.repeat(50),
  'x'.repeat(5_000),
  LONG,
]
const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      BIG,
      BIG + 2,
      -BIG - 2,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      1e21,
      -1,
      0,
      -0,
      0.5,
      2 ** 31,
      -(2 ** 31) - 1,
    ),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
)
const deepJson = fc
  .integer({ min: 50, max: 5_000 })
  .chain((n) =>
    fc.constantFrom(
      '['.repeat(n) + ']'.repeat(n),
      '{"a":'.repeat(n) + '1' + '}'.repeat(n),
      `{"username":${'['.repeat(n)}${']'.repeat(n)}}`,
    ),
  )

/** An object with the schema's keys (and stray ones), each value almost valid or hostile. */
function mixedObject(s: JsonSchema | undefined): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(s?.properties ?? {})
  const keyArb = keys.length
    ? fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...keys) },
        { weight: 1, arbitrary: fc.string() },
      )
    : fc.string({ maxLength: 10 })
  return fc
    .array(
      fc.tuple(
        keyArb,
        fc.oneof(
          fc.constant(undefined),
          hostileScalar,
          fromSchema(undefined),
          ...keys.slice(0, 1).map((k) => fromSchema(s?.properties?.[k])),
        ),
      ),
      { maxLength: Math.max(keys.length + 1, 3) },
    )
    .chain((pairs) =>
      fromSchema(s).map((valid) => {
        const base = typeof valid === 'object' && valid && !Array.isArray(valid) ? valid : {}
        const o: Record<string, unknown> = { ...(base as Record<string, unknown>) }
        for (const [k, v] of pairs) if (v !== undefined) o[k] = v
        return o
      }),
    )
}

type RouteInfo = {
  method: string
  url: string
  params: string[]
  paramSchema?: JsonSchema
  querySchema?: JsonSchema
  bodySchema?: JsonSchema
}

function jsonSchemaOf(schema: unknown): JsonSchema | undefined {
  if (!schema || !(schema instanceof z.ZodType)) return undefined
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  } catch {
    return undefined
  }
}

function routeInfos(routes: RouteOptions[]): RouteInfo[] {
  const out: RouteInfo[] = []
  for (const r of routes)
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      if (method === 'HEAD') continue
      const s = r.schema as Record<string, unknown> | undefined
      out.push({
        method,
        url: r.url,
        params: [...r.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!),
        paramSchema: jsonSchemaOf(s?.params),
        querySchema: jsonSchemaOf(s?.querystring),
        bodySchema: jsonSchemaOf(s?.body),
      })
    }
  return out
}

const encodeValue = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v)

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json, text/plain',
  'application/octet-stream',
  '*/*',
  'garbage',
]
const FOREIGN_ERROR_SHAPE = /^\/admin\/queues(\/|$)/
const OVERSIZE = JSON.stringify({ username: 'x'.repeat(1_200_000) })

t.test(`fuzz every route (seed ${SEED}, ${RUNS} cases)`, async (t) => {
  t.setTimeout(15 * 60_000)
  t.comment(`FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`)
  const h = await fullApp(t, {
    limits: {
      loginPerIp: { max: 1e9, windowMs: 60_000 },
      basicPerIp: { max: 1e9, windowMs: 60_000 },
      bootstrapPerIp: { max: 1e9, windowMs: 60_000 },
      bootstrapPerAccount: { max: 1e9, windowMs: 60_000 },
    },
    checkShopToken: () =>
      Promise.resolve({ name: 'Fuzz Store', ianaTimezone: 'UTC', currencyCode: 'USD' }),
  })
  const admin = await h.admin('fuzz-admin', 'fuzz-admin-password')
  const tenant = await h.tenant('fuzz-store')
  const owner = await h.user(tenant.id, { username: 'fuzz-owner', role: 'owner' })
  const viewer = await h.user(tenant.id, { username: 'fuzz-viewer' })
  const key = await h.apiKey(tenant.id, 'fuzz')
  const spareKey = await h.apiKey(tenant.id, 'spare')
  const other = await h.tenant('fuzz-other')
  await h.ownerQuery(
    `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at, updated_at)
     VALUES ($1, 4242, '#1', 'USD', 10.5, '2026-06-01T12:00:00Z', '2026-06-01T12:00:00Z', '2026-06-01T12:00:00Z')`,
    [tenant.id],
  )

  // Credentials by kind; logout routes end sessions, so those are renewed after a logout.
  const creds: Record<string, Record<string, string>> = {
    none: {},
    admin: admin.headers,
    'owner-basic': owner.basic,
    'viewer-basic': viewer.basic,
    'owner-session': await h.session(owner),
    'api-key': key.headers,
    'bad-basic': { authorization: `Basic ${Buffer.from('fuzz-owner:wrong').toString('base64')}` },
    'garbage-basic': { authorization: 'Basic !!!not-base64:::' },
    'empty-basic': { authorization: 'Basic ' },
    bearer: { authorization: 'Bearer abc' },
    'bad-key': { 'x-api-key': 'xeno_' + 'A'.repeat(40) },
    'garbage-cookie': { cookie: 'xeno_admin=%%%; xeno_session=' + 'a'.repeat(43), origin: 'x' },
  }
  const credKinds = Object.keys(creds)

  const routes = routeInfos(h.routes)
  t.ok(routes.length >= 33, `${routes.length} routes under fuzz`)

  const paramValue = (name: string): fc.Arbitrary<string> => {
    const known: Record<string, string[]> = {
      id: [tenant.id, other.id, tenant.id.toUpperCase()],
      userId: [viewer.id, owner.id.replace(/.$/, '0')],
      keyId: [spareKey.id],
      resource: ['orders', 'customers', 'shop', 'app', 'products'],
      event: ['create', 'updated', 'redact', 'uninstalled', 'data_request'],
    }
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(known[name] ?? ['x'])) },
      { weight: 2, arbitrary: fc.uuid() },
      {
        weight: 3,
        arbitrary: fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 6000 && s !== '')),
      },
      { weight: 1, arbitrary: fc.constantFrom('%00', '%zz', '%E0%A4%A', '..%2F..', '%2F') },
      { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
    )
  }

  type Req = {
    route: RouteInfo
    cred: string
    url: string
    headers: Record<string, string>
    payload?: string
  }

  const requestOf = (route: RouteInfo): fc.Arbitrary<Req> => {
    const params = fc.tuple(...route.params.map((p) => paramValue(p)))
    const query = fc.oneof(
      { weight: 2, arbitrary: fc.constant('') },
      {
        weight: 4,
        arbitrary: fromSchema(route.querySchema).map((q) =>
          q && typeof q === 'object'
            ? new URLSearchParams(
                Object.entries(q).map(([k, v]) => [k, encodeValue(v)] as [string, string]),
              ).toString()
            : '',
        ),
      },
      {
        weight: 4,
        arbitrary: mixedObject(route.querySchema).map((q) =>
          new URLSearchParams(
            Object.entries(q).map(([k, v]) => [k, encodeValue(v)] as [string, string]),
          ).toString(),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'limit=1&limit=2',
          'from[]=2026-01-01',
          'limit=-1',
          'limit=0',
          'limit=1e3',
          `limit=${BIG + 1}`,
          'limit=99999999999999999999',
          'from=2026-01-01&to=1900-01-01',
          'from=1000-01-01&to=9999-12-31',
          'granularity=year',
          'shop=%00',
          'shop=%zz',
          'cursor=%00',
          '__proto__[x]=1',
          'constructor=1',
        ),
      },
    )
    const body: fc.Arbitrary<{ payload?: string; contentType?: string }> = fc.oneof(
      { weight: 1, arbitrary: fc.constant({}) },
      {
        weight: 5,
        arbitrary: fromSchema(route.bodySchema).map((b) => ({
          payload: JSON.stringify(b ?? {}),
          contentType: 'application/json',
        })),
      },
      {
        weight: 5,
        arbitrary: mixedObject(route.bodySchema).map((b) => ({
          payload: JSON.stringify(b),
          contentType: 'application/json',
        })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...CONTENT_TYPES))
          .map(([v, contentType]) => ({ payload: JSON.stringify(v) ?? 'null', contentType })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.oneof(
              fc.string({ unit: 'binary', maxLength: 200 }),
              fc.constantFrom('{', '{"a":1,}', "{'a':1}", 'null', '', '\u0000', '{"a":"\\u0000"}'),
            ),
            fc.constantFrom(...CONTENT_TYPES),
          )
          .map(([payload, contentType]) => ({ payload, contentType })),
      },
      {
        weight: 1,
        arbitrary: deepJson.map((payload) => ({ payload, contentType: 'application/json' })),
      },
      {
        weight: 1,
        arbitrary: fc.constant({ payload: OVERSIZE, contentType: 'application/json' }),
      },
    )
    // The webhook intake verifies a signature before anything else: sign some hostile bodies so
    // the fuzzer gets past it (topic header matching the path, or not; known shop, or not).
    const webhook = route.url.startsWith('/api/webhooks/')
      ? fc.record({
          sign: fc.boolean(),
          topicMatches: fc.boolean(),
          shop: fc.oneof(
            fc.constant(tenant.shopDomain),
            fc.constantFrom('unknown-store.myshopify.com', 'evil.com', '', '%00'),
          ),
          webhookId: fc.oneof(fc.uuid(), fc.constantFrom('', 'x'.repeat(300), '1')),
          triggeredAt: fc.constantFrom('2026-06-01T00:00:00Z', 'not-a-date', '', '+275760-09-13'),
        })
      : fc.constant(undefined)
    return fc
      .tuple(params, query, body, fc.constantFrom(...credKinds), webhook, fc.boolean())
      .map(([ps, q, b, cred, wh, sameOrigin]) => {
        let url = route.url
        route.params.forEach((p, i) => {
          const v = ps[i]!
          url = url.replace(`:${p}`, /^%/.test(v) ? v : encodeSegment(v))
        })
        if (q) url += `?${q}`
        const headers: Record<string, string> = { ...creds[cred] }
        if (sameOrigin && !headers.origin) headers.origin = 'http://127.0.0.1:3000'
        if (b.contentType) headers['content-type'] = b.contentType
        if (wh) {
          const topic = url.split('?')[0]!.replace('/api/webhooks/', '')
          headers['x-shopify-topic'] = wh.topicMatches
            ? decodeURIComponentSafe(topic)
            : 'shop/redact'
          headers['x-shopify-shop-domain'] = wh.shop
          headers['x-shopify-webhook-id'] = wh.webhookId
          headers['x-shopify-triggered-at'] = wh.triggeredAt
          headers['x-shopify-api-version'] = '2026-10'
          headers['x-shopify-hmac-sha256'] = wh.sign
            ? webhookHmac(b.payload ?? '', FULL_APP_WEBHOOK_SECRET)
            : 'AAAA'
        }
        const req: Req = { route, cred, url, headers }
        if (b.payload !== undefined && route.method !== 'GET' && route.method !== 'DELETE')
          req.payload = b.payload
        return req
      })
  }

  // Bull Board (/admin/queues) is a third-party UI whose JSON API answers in its own error shape,
  // which its front end reads: fuzzed for 5xx, stack traces and SQL, not for our envelope, and
  // given a tenth of the cases so its ~50 routes do not crowd out ours.
  const own = routes.filter((r) => !FOREIGN_ERROR_SHAPE.test(r.url))
  const foreign = routes.filter((r) => FOREIGN_ERROR_SHAPE.test(r.url))
  const anyRequest = (
    foreign.length
      ? fc.oneof(
          { weight: 9, arbitrary: fc.constantFrom(...own) },
          { weight: 1, arbitrary: fc.constantFrom(...foreign) },
        )
      : fc.constantFrom(...own)
  ).chain(requestOf)

  const problems = new Map<string, string>()
  const statuses = new Map<string, Map<number, number>>()
  const STACK = /\n\s+at |at [\w.<>]+ \(.*:\d+:\d+\)|node:internal|\/work\/|\.ts:\d+/
  const SQL =
    /\b(select|insert|update|delete)\b[\s\S]{0,200}\b(from|into|set|where)\b|syntax error at or near|violates [a-z ]+constraint|relation "|duplicate key|invalid input syntax|pg_|kysely/i

  const record = (key: string, detail: string) => {
    if (!problems.has(key)) problems.set(key, detail)
  }

  const send = async (req: Req): Promise<boolean> => {
    const routeKey = `${req.route.method} ${req.route.url}`
    let res
    try {
      res = await h.app.inject({
        method: req.route.method as 'GET',
        url: req.url,
        headers: req.headers,
        ...(req.payload === undefined ? {} : { payload: req.payload }),
      })
    } catch (err) {
      record(`${routeKey} inject threw`, `${(err as Error).message} url=${req.url.slice(0, 200)}`)
      return true
    }
    const perRoute = statuses.get(routeKey) ?? new Map<number, number>()
    perRoute.set(res.statusCode, (perRoute.get(res.statusCode) ?? 0) + 1)
    statuses.set(routeKey, perRoute)
    const sample = () =>
      `cred=${req.cred} url=${req.url.slice(0, 300)} ct=${req.headers['content-type'] ?? ''} body=${(req.payload ?? '').slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`
    if (res.statusCode >= 500) {
      record(`${routeKey} ${res.statusCode}`, sample())
      return true
    }
    if (res.statusCode >= 400) {
      let code: unknown
      let message: unknown
      try {
        const parsed = res.json<{ error?: { code?: unknown; message?: unknown } }>()
        code = parsed.error?.code
        message = parsed.error?.message
      } catch {
        // not JSON: reported below
      }
      if (
        (typeof code !== 'string' || typeof message !== 'string') &&
        !FOREIGN_ERROR_SHAPE.test(req.route.url)
      )
        record(`${routeKey} ${res.statusCode} without the error envelope`, sample())
      if (STACK.test(res.body)) record(`${routeKey} ${res.statusCode} stack trace`, sample())
      if (SQL.test(res.body)) record(`${routeKey} ${res.statusCode} SQL text`, sample())
    }
    // Keep sessions alive for the rest of the run.
    if (req.route.url === '/api/admin/logout' && req.cred === 'admin' && res.statusCode === 200)
      creds.admin = (await h.admin()).headers
    if (
      req.route.url === '/api/tenant/logout' &&
      req.cred === 'owner-session' &&
      res.statusCode === 200
    )
      creds['owner-session'] = await h.session(owner)
    return true
  }

  const started = Date.now()
  const result = await fc.check(fc.asyncProperty(anyRequest, send), {
    seed: SEED,
    numRuns: RUNS,
    endOnFailure: true,
  })

  // Then deterministically, on every route of ours and every position (each path parameter,
  // each query key, each body key and a key itself), and on the webhook intake for every topic
  // with a valid signature: NUL, lone surrogates and deep nesting, which Postgres text and
  // jsonb cannot hold or parse. Random cases may miss a position; these do not.
  const NASTY = ['a\u0000b', '\ud800', 'x\udfffy\ud800']
  const DEEP = '['.repeat(100_000)
  const sweepStarted = Date.now()
  let swept = 0
  const known: Record<string, string> = {
    id: tenant.id,
    userId: viewer.id,
    keyId: spareKey.id,
    resource: 'orders',
    event: 'create',
    requestId: '00000000-0000-4000-8000-000000000000',
    receiptId: '00000000-0000-4000-8000-000000000000',
  }
  const sweep = async (route: RouteInfo, cred: string, url: string, payload?: string) => {
    swept++
    const headers: Record<string, string> = { ...creds[cred], origin: 'http://127.0.0.1:3000' }
    if (payload !== undefined) headers['content-type'] = 'application/json'
    await send({ route, cred, url, headers, ...(payload === undefined ? {} : { payload }) })
  }
  for (const route of own) {
    if (route.url.startsWith('/api/webhooks/')) continue
    const fill = (override?: [string, string]) =>
      route.params.reduce(
        (u, p) =>
          u.replace(`:${p}`, override?.[0] === p ? override[1] : encodeSegment(known[p] ?? 'x')),
        route.url,
      )
    const hasBody = route.method !== 'GET' && route.method !== 'DELETE'
    const queryKeys = [...Object.keys(route.querySchema?.properties ?? {}), 'x']
    const bodyKeys = [...Object.keys(route.bodySchema?.properties ?? {}), 'x']
    const [validBody] = fc.sample(fromSchema(route.bodySchema), { seed: SEED, numRuns: 1 })
    const base =
      validBody && typeof validBody === 'object' && !Array.isArray(validBody)
        ? (validBody as Record<string, unknown>)
        : {}
    // Credentials that get past authentication (the random cases cover the others).
    for (const cred of ['admin', 'owner-basic', 'api-key']) {
      for (const v of NASTY) {
        for (const p of route.params) await sweep(route, cred, fill([p, encodeSegment(v)]))
        for (const k of queryKeys) await sweep(route, cred, `${fill()}?${k}=${encodeSegment(v)}`)
        if (!hasBody) continue
        for (const k of bodyKeys)
          await sweep(route, cred, fill(), JSON.stringify({ ...base, [k]: v }))
        await sweep(route, cred, fill(), JSON.stringify({ ...base, [v]: 1 }))
        // One level down (an event's properties, a list of events).
        await sweep(route, cred, fill(), JSON.stringify({ ...base, properties: { [v]: v } }))
        await sweep(route, cred, fill(), JSON.stringify({ events: [{ ...base, session_id: v }] }))
      }
      if (hasBody) {
        await sweep(route, cred, fill(), DEEP)
        await sweep(route, cred, fill(), `{"${bodyKeys[0]}":${DEEP}`)
      }
      await sweep(route, cred, `${fill()}?${queryKeys[0]}=${'%5B'.repeat(10_000)}`)
    }
  }
  const intake = own.find((r) => r.url.startsWith('/api/webhooks/'))!
  for (const topic of WEBHOOK_TOPICS) {
    const bodies = [
      ...NASTY.map((v) => JSON.stringify({ id: v, shop_domain: v, name: v })),
      ...NASTY.map((v) => JSON.stringify({ id: 1, updated_at: v, line_items: [{ title: v }] })),
      ...NASTY.map((v) => JSON.stringify({ [v]: 1 })),
      DEEP,
      `{"id":1,"line_items":${DEEP}`,
    ]
    for (const body of bodies) {
      swept++
      await send({
        route: intake,
        cred: 'none',
        url: `/api/webhooks/${topic}`,
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-shop-domain': tenant.shopDomain,
          'x-shopify-webhook-id': `sweep-${swept}`,
          'x-shopify-api-version': '2026-10',
          'x-shopify-hmac-sha256': webhookHmac(body, FULL_APP_WEBHOOK_SECRET),
        },
        payload: body,
      })
    }
  }
  t.comment(`${swept} sweep cases in ${((Date.now() - sweepStarted) / 1000).toFixed(1)} s`)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  t.comment(`${result.numRuns} cases in ${seconds} s (seed ${SEED})`)
  for (const [route, counts] of [...statuses].sort())
    t.comment(
      `${route}: ${[...counts]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
    )
  t.notOk(result.failed, fc.defaultReportMessage(result) ?? 'property held')
  t.ok(result.numRuns >= RUNS, `${result.numRuns} cases ran`)
  t.same(Object.fromEntries(problems), {}, 'no 5xx, no envelope-less 4xx, no stack, no SQL')
  const missed = own.filter((r) => !statuses.has(`${r.method} ${r.url}`))
  t.same(
    missed.map((r) => `${r.method} ${r.url}`),
    [],
    'every route of ours was exercised',
  )

  // Still serving, and the known credentials still work.
  const health = await h.app.inject({ method: 'GET', url: '/api/health' })
  t.ok(health.statusCode < 500, 'the app still answers')
})

/** encodeURIComponent, except that a lone surrogate is sent as its raw UTF-8 (U+FFFD) bytes. */
function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s)
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
