import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { AddressInfo } from 'node:net'
import { Kind, execute, parse, validate, GraphQLError } from 'graphql'
import type {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLSchema,
  OperationDefinitionNode,
} from 'graphql'
import { bulkLines, planBulk } from './bulk.ts'
import { createClock } from './clock.ts'
import type { Clock, ClockOptions } from './clock.ts'
import { createBucket, queryCost } from './cost.ts'
import type { Bucket } from './cost.ts'
import { gid, localIso } from './format.ts'
import { resolveSpec, totalRefunded } from './generator.ts'
import { oauthHmac, oauthHost, randomToken } from './oauth.ts'
import { createRng } from './prng.ts'
import { fieldResolver, typeResolver } from './resolvers.ts'
import type { BulkOp, GqlContext, ResolverShop, Subscription } from './resolvers.ts'
import {
  restCustomer,
  restCustomerDelete,
  restOrder,
  restOrderDelete,
  restProduct,
  restProductDelete,
  restRefund,
  restShop,
} from './rest.ts'
import { loadSchema } from './schema.ts'
import { BadRequest, NotFound, createShopStore, customerById, orderAt } from './store.ts'
import type { ShopStore, StoreEvent } from './store.ts'
import type { ShopInfo, ShopParams, TruthRow } from './types.ts'
import { createWebhookSender } from './webhooks.ts'
import type { DeliveryKnobs, WebhookSender } from './webhooks.ts'

/** An app the fake knows (client id and secret), with its app-wide (TOML-style) webhooks. */
export type FakeApp = {
  clientId: string
  clientSecret: string
  /** App-wide subscriptions, including the compliance topics that only config can set. */
  webhooks?: { topics: string[]; uri: string }[]
}

/** One injected fault. `count` makes it one-shot (or n-shot); `rate` makes it random. */
export type Fault = {
  kind:
    | 'http429'
    | 'http5xx'
    | 'graphqlInternal'
    | 'latency'
    | 'drop'
    | 'malformed'
    | 'http402'
    | 'http423'
  rate?: number
  count?: number
  status?: number
  retryAfter?: string
  latencyMs?: number
  /** Which routes it hits (default graphql only). */
  routes?: ('graphql' | 'bulk' | 'oauth')[]
}

/** Options of createFakeShopify. */
export type FakeShopifyOptions = {
  port?: number
  host?: string
  apps?: FakeApp[]
  clock?: Clock | ClockOptions
  schemaPath?: string
  /** Shops created at start. */
  shops?: (ShopParams & { scopes?: string[] })[]
  /** Seed for fault and delivery randomness. */
  seed?: number
  /** Minimum fake ms a bulk operation stays RUNNING (default 0). */
  bulkMinDurationMs?: number
  /**
   * Pace of a bulk operation's result, in objects per real second (default: as fast as it can
   * be written). Shopify's `objectCount` grows while an operation runs; with a pace it does here
   * too, so a client's progress display can be watched moving.
   */
  bulkObjectsPerSecond?: number
  log?: (entry: Record<string, unknown>) => void
}

/** The running fake. */
export type FakeShopify = {
  origin: string
  port: number
  clock: Clock
  apps: FakeApp[]
  schema: GraphQLSchema
  createShop(
    params: ShopParams & { scopes?: string[]; expiring?: boolean; clientId?: string },
  ): CreatedShop
  shop(domain: string): ShopStore
  issueToken(
    domain: string,
    opts?: { scopes?: string[]; expiring?: boolean; clientId?: string },
  ): IssuedToken
  setFaults(domain: string, faults: Fault[]): void
  setWebhookKnobs(domain: string, knobs: DeliveryKnobs): void
  webhooks: WebhookSender
  close(): Promise<void>
}

export type CreatedShop = {
  domain: string
  shopId: number
  accessToken: string
  scope: string
  refreshToken?: string
  expiresIn?: number
}
export type IssuedToken = {
  accessToken: string
  scope: string
  refreshToken?: string
  expiresIn?: number
  refreshTokenExpiresIn?: number
}

const DEFAULT_SCOPES = ['read_orders', 'read_all_orders', 'read_customers', 'read_products']
const ACCESS_TTL = 3600_000
const REFRESH_TTL = 90 * 86_400_000
const API_VERSION_RE = /^(\d{4}-\d{2}|unstable)$/
const BULK_URL_TTL = 7 * 86_400_000

type Token = {
  token: string
  shop: string
  clientId: string
  scopes: string[]
  expiresAt: number | null
}
type RefreshToken = {
  token: string
  shop: string
  clientId: string
  scopes: string[]
  expiresAt: number
  replacement: string | null
  used: boolean
}

type Shop = ResolverShop & {
  info: ShopInfo
  store: ShopStore
  buckets: Map<string, Bucket>
  throttle: { maximumAvailable: number; restoreRate: number }
  faults: Fault[]
  knobs: DeliveryKnobs
  installed: Set<string>
  ops: BulkOp[]
  subs: Subscription[]
  snapshots: Map<number, { ctx: GqlContext; plan: Exclude<ReturnType<typeof planBulk>, string> }>
  rng: ReturnType<typeof createRng>
}

class HttpError extends Error {
  status: number
  body: unknown
  constructor(status: number, body: unknown) {
    super(typeof body === 'string' ? body : JSON.stringify(body))
    this.status = status
    this.body = body
  }
}

const TOPIC_ENUM = (topic: string): string => topic.toUpperCase().replace(/\//g, '_')

/** Starts the fake on 127.0.0.1 (random port by default). */
export async function createFakeShopify(opts: FakeShopifyOptions = {}): Promise<FakeShopify> {
  const clock: Clock = opts.clock && 'now' in opts.clock ? opts.clock : createClock(opts.clock)
  const schema = loadSchema(opts.schemaPath)
  const apps: FakeApp[] = opts.apps ?? [
    { clientId: 'fake-client-id', clientSecret: 'fake-client-secret' },
  ]
  const defaultApp = apps[0]
  if (!defaultApp) throw new Error('at least one app is required')
  const shops = new Map<string, Shop>()
  const tokens = new Map<string, Token>()
  const refreshTokens = new Map<string, RefreshToken>()
  const codes = new Map<
    string,
    { shop: string; clientId: string; scopes: string[]; online: boolean; expiresAt: number }
  >()
  const signingKey = randomUUID()
  const log = opts.log ?? (() => undefined)
  // Finished results are files, like Shopify's GCS objects, so downloads stream at disk speed.
  const resultDir = mkdtempSync(join(tmpdir(), 'shopify-fake-bulk-'))
  const resultFiles = new Map<number, string>()
  let origin = ''
  let bulkSeq = 4_400_000_000_000
  let subSeq = 1_900_000_000_000
  const currentKnobs: { value: DeliveryKnobs } = { value: {} }
  const sender = createWebhookSender(clock, { seed: opts.seed, knobs: () => currentKnobs.value })

  const appById = (id: string): FakeApp | undefined => apps.find((a) => a.clientId === id)

  const issueToken = (
    domain: string,
    o: { scopes?: string[]; expiring?: boolean; clientId?: string } = {},
  ): IssuedToken => {
    const shop = requireShop(domain)
    const clientId = o.clientId ?? defaultApp.clientId
    const scopes = o.scopes ?? DEFAULT_SCOPES
    shop.installed.add(clientId)
    const accessToken = randomToken('shpat_')
    const now = clock.now()
    tokens.set(accessToken, {
      token: accessToken,
      shop: shop.info.domain,
      clientId,
      scopes,
      expiresAt: o.expiring ? now + ACCESS_TTL : null,
    })
    const scope = scopes.join(',')
    if (!o.expiring) return { accessToken, scope }
    const refreshToken = randomToken('shprt_')
    refreshTokens.set(refreshToken, {
      token: refreshToken,
      shop: shop.info.domain,
      clientId,
      scopes,
      expiresAt: now + REFRESH_TTL,
      replacement: null,
      used: false,
    })
    return { accessToken, scope, refreshToken, expiresIn: 3600, refreshTokenExpiresIn: 7_776_000 }
  }

  const requireShop = (domain: string): Shop => {
    const s = shops.get(domain.toLowerCase())
    if (!s) throw new HttpError(404, { errors: 'Not Found' })
    return s
  }

  // ---------- webhooks ----------
  const deliver = (
    shop: Shop,
    clientId: string,
    topic: string,
    body: string,
    eventId: string,
  ): void => {
    const app = appById(clientId)
    if (!app) return
    const targets: { uri: string; apiVersion: string; name: string | null; sub?: Subscription }[] =
      []
    for (const s of shop.subs)
      if (s.appClientId === clientId && s.topic === TOPIC_ENUM(topic))
        targets.push({ uri: s.uri, apiVersion: s.apiVersion, name: s.name, sub: s })
    for (const w of app.webhooks ?? [])
      if (w.topics.includes(topic)) targets.push({ uri: w.uri, apiVersion: '2026-10', name: null })
    for (const t of targets) {
      sender.send({
        uri: t.uri,
        topic,
        shop: shop.info.domain,
        apiVersion: t.apiVersion,
        secret: app.clientSecret,
        body,
        eventId,
        name: t.name,
        onGiveUp: t.sub
          ? () => {
              shop.subs = shop.subs.filter((x) => x !== t.sub)
            }
          : undefined,
      })
    }
  }

  const payloadFor = (shop: Shop, e: StoreEvent): unknown => {
    const info = shop.info
    const d = shop.store.data()
    switch (e.topic) {
      case 'orders/create':
      case 'orders/updated':
      case 'orders/cancelled':
      case 'orders/paid':
        return restOrder(
          e.order,
          info,
          e.order.customerId === null ? null : customerById(d, e.order.customerId),
        )
      case 'orders/delete':
        return restOrderDelete(e.order)
      case 'refunds/create':
        return restRefund(e.refund, e.order, info)
      case 'customers/create':
      case 'customers/update':
        return restCustomer(e.customer, info)
      case 'customers/delete':
        return restCustomerDelete(e.customer)
      case 'products/create':
      case 'products/update':
        return restProduct(e.product, info)
      case 'products/delete':
        return restProductDelete(e.product)
    }
  }

  const broadcast = (shop: Shop, topic: string, payload: unknown): void => {
    currentKnobs.value = shop.knobs
    const body = JSON.stringify(payload)
    const eventId = randomUUID()
    for (const clientId of shop.installed) deliver(shop, clientId, topic, body, eventId)
  }

  // ---------- bulk ----------
  const finishBulk = (shop: Shop, op: BulkOp): void => {
    currentKnobs.value = shop.knobs
    const body = JSON.stringify({
      admin_graphql_api_id: gid('BulkOperation', op.id),
      completed_at: op.completedAt === null ? null : localIso(op.completedAt, shop.info.timezone),
      created_at: localIso(op.createdAt, shop.info.timezone),
      error_code: op.errorCode?.toLowerCase() ?? null,
      status: op.status.toLowerCase(),
      type: op.type.toLowerCase(),
    })
    deliver(shop, op.appClientId, 'bulk_operations/finish', body, randomUUID())
  }

  const signedUrl = (shop: Shop, op: BulkOp, limit: number | null): string => {
    const expires = clock.now() + BULK_URL_TTL
    const path = `/_fake/bulk/${shop.info.domain}/${op.id}.jsonl`
    const lim = limit === null ? '' : String(limit)
    const sig = createHmac('sha256', signingKey).update(`${path}|${expires}|${lim}`).digest('hex')
    return `${origin}${path}?expires=${expires}${lim ? `&limit=${lim}` : ''}&signature=${sig}&response-content-type=application%2Fjsonl`
  }

  const runBulkJob = async (shop: Shop, op: BulkOp): Promise<void> => {
    await new Promise((r) => setImmediate(r))
    if (op.status !== 'CREATED') return
    op.status = 'RUNNING'
    const snap = shop.snapshots.get(op.id)
    if (!snap) return
    const fault = takeFault(shop, 'bulk', ['http5xx'])
    let objects = 0
    let roots = 0
    let bytes = 0
    const failAfter = fault ? Math.floor(shop.rng.next() * 3) + 1 : Infinity
    const startedAt = Date.now()
    const pace = opts.bulkObjectsPerSecond
    const file = join(resultDir, `${op.id}.jsonl`)
    const out = createWriteStream(file, { highWaterMark: 1 << 20 })
    for (const chunk of bulkLines(schema, snap.plan, snap.ctx, {
      groupObjects: op.groupObjects,
      limit: failAfter,
      onObject: (root) => {
        objects++
        if (root) roots++
      },
    })) {
      bytes += Buffer.byteLength(chunk)
      if (!pace) {
        op.objectCount = objects
        op.rootObjectCount = roots
      }
      if ((op.status as string) === 'CANCELING') break
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
      else await new Promise((r) => setImmediate(r))
    }
    await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())))
    if (pace) {
      // The counts grow with real time at the pace, as Shopify's do while it runs the query.
      const totalMs = (objects / pace) * 1000
      await new Promise<void>((resolve) => {
        const tick = () => {
          const f = totalMs > 0 ? Math.min(1, (Date.now() - startedAt) / totalMs) : 1
          op.objectCount = Math.floor(objects * f)
          op.rootObjectCount = Math.floor(roots * f)
          if (f >= 1 || (op.status as string) === 'CANCELING') return resolve()
          setTimeout(tick, 100)
        }
        tick()
      })
    }
    resultFiles.set(op.id, file)
    const done = (): void => {
      op.completedAt = clock.now()
      if ((op.status as string) === 'CANCELING') {
        op.status = 'CANCELED'
      } else if (fault) {
        op.status = 'FAILED'
        op.errorCode = 'INTERNAL_SERVER_ERROR'
        op.partialDataUrl = objects > 0 ? signedUrl(shop, op, objects) : null
        op.fileSize = null
      } else {
        op.status = 'COMPLETED'
        op.fileSize = objects > 0 ? bytes : null
        op.url = objects > 0 ? signedUrl(shop, op, null) : null
      }
      finishBulk(shop, op)
    }
    const min = opts.bulkMinDurationMs ?? 0
    const left = op.createdAt + min - clock.now()
    if (left > 0 && op.status === 'RUNNING') clock.setTimer(done, left)
    else done()
  }

  const makeShop = (params: ShopParams): Shop => {
    const spec = resolveSpec(params, clock.now())
    if (shops.has(spec.info.domain))
      throw new HttpError(409, { errors: `shop ${spec.info.domain} exists` })
    const store = createShopStore(spec, clock)
    const shop: Shop = {
      info: spec.info,
      store,
      buckets: new Map(),
      throttle: spec.throttle,
      faults: [],
      knobs: {},
      installed: new Set(),
      ops: [],
      subs: [],
      snapshots: new Map(),
      rng: createRng(opts.seed ?? 11, `faults:${spec.info.domain}`),
      bulkOps: (clientId) => shop.ops.filter((o) => o.appClientId === clientId),
      runBulk(clientId, query, groupObjects) {
        const plan = planBulk(schema, query)
        if (typeof plan === 'string')
          return { op: null, userErrors: [{ field: ['query'], message: plan, code: 'INVALID' }] }
        const running = shop.ops.filter(
          (o) =>
            o.appClientId === clientId && ['CREATED', 'RUNNING', 'CANCELING'].includes(o.status),
        )
        const limit = requestCtx.apiVersion >= '2026-01' ? 5 : 1
        if (running.length >= limit) {
          return {
            op: null,
            userErrors: [
              {
                field: null,
                message: `A bulk query operation for this app and shop is already in progress: ${running.map((o) => gid('BulkOperation', o.id)).join(', ')}.`,
                code: 'OPERATION_IN_PROGRESS',
              },
            ],
          }
        }
        const op: BulkOp = {
          id: (bulkSeq += 1000 + Math.floor(shop.rng.next() * 1000)),
          appClientId: clientId,
          status: 'CREATED',
          type: 'QUERY',
          errorCode: null,
          query,
          groupObjects,
          createdAt: clock.now(),
          completedAt: null,
          objectCount: 0,
          rootObjectCount: 0,
          fileSize: null,
          url: null,
          partialDataUrl: null,
        }
        shop.ops.push(op)
        // The result reflects the data at the time the operation starts.
        shop.snapshots.set(op.id, { ctx: { ...requestCtx, data: store.data(), search: [] }, plan })
        void runBulkJob(shop, op).catch((e: unknown) => {
          op.status = 'FAILED'
          op.errorCode = 'INTERNAL_SERVER_ERROR'
          op.completedAt = clock.now()
          log({ err: String(e) })
        })
        return { op, userErrors: [] }
      },
      cancelBulk(clientId, id) {
        const op = shop.ops.find((o) => o.appClientId === clientId && o.id === id)
        if (!op)
          return {
            op: null,
            userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }],
          }
        if (op.status !== 'CREATED' && op.status !== 'RUNNING')
          return {
            op,
            userErrors: [
              {
                field: null,
                message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}`,
              },
            ],
          }
        if (op.status === 'CREATED') {
          op.status = 'CANCELED'
          op.completedAt = clock.now()
          finishBulk(shop, op)
        } else op.status = 'CANCELING'
        return { op, userErrors: [] }
      },
      subscriptions: (clientId) => shop.subs.filter((s) => s.appClientId === clientId),
      subscribe(clientId, topic, input, apiVersion) {
        const uri = (input.uri ?? input.callbackUrl) as string | undefined
        if (!uri)
          return {
            sub: null,
            userErrors: [
              { field: ['webhookSubscription', 'callbackUrl'], message: "Address can't be blank" },
            ],
          }
        try {
          new URL(uri)
        } catch {
          return {
            sub: null,
            userErrors: [
              { field: ['webhookSubscription', 'callbackUrl'], message: 'Address is invalid' },
            ],
          }
        }
        if (shop.subs.some((s) => s.appClientId === clientId && s.topic === topic && s.uri === uri))
          return {
            sub: null,
            userErrors: [
              {
                field: ['webhookSubscription', 'callbackUrl'],
                message: 'Address for this topic has already been taken',
              },
            ],
          }
        const now = clock.now()
        const sub: Subscription = {
          id: (subSeq += 1 + Math.floor(shop.rng.next() * 1000)),
          appClientId: clientId,
          topic,
          uri,
          format: (input.format as 'JSON' | 'XML' | undefined) ?? 'JSON',
          includeFields: (input.includeFields as string[] | undefined) ?? [],
          filter: (input.filter as string | undefined) ?? null,
          name: (input.name as string | undefined) ?? null,
          apiVersion: API_VERSION_RE.test(apiVersion) ? apiVersion : '2026-10',
          createdAt: now,
          updatedAt: now,
        }
        shop.subs.push(sub)
        return { sub, userErrors: [] }
      },
      unsubscribe(clientId, id) {
        const before = shop.subs.length
        shop.subs = shop.subs.filter((s) => !(s.appClientId === clientId && s.id === id))
        return shop.subs.length < before
      },
    }
    store.onEvent((e) => broadcast(shop, e.topic, payloadFor(shop, e)))
    shops.set(spec.info.domain, shop)
    return shop
  }
  // The context of the GraphQL request being executed (bulk snapshots copy it).
  let requestCtx: GqlContext = undefined as unknown as GqlContext

  const createShop = (
    params: ShopParams & { scopes?: string[]; expiring?: boolean; clientId?: string },
  ): CreatedShop => {
    const shop = makeShop(params)
    const t = issueToken(shop.info.domain, params)
    return { domain: shop.info.domain, shopId: shop.info.id, ...t }
  }

  // ---------- faults ----------
  function takeFault(
    shop: Shop,
    route: 'graphql' | 'bulk' | 'oauth',
    kinds?: Fault['kind'][],
  ): Fault | null {
    for (const f of shop.faults) {
      if (!(f.routes ?? ['graphql']).includes(route)) continue
      if (kinds && !kinds.includes(f.kind)) continue
      if (f.count !== undefined) {
        if (f.count <= 0) continue
        f.count--
        return f
      }
      if (shop.rng.chance(f.rate ?? 1)) return f
    }
    return null
  }

  // ---------- HTTP ----------
  const send = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': randomUUID(),
      ...headers,
    })
    res.end(text)
  }

  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      req.on('error', reject)
    })

  const shopHost = (req: http.IncomingMessage): string | null => {
    const h = req.headers['x-fake-shop']
    const v = (Array.isArray(h) ? h[0] : h) ?? req.headers.host ?? ''
    const host = v.toLowerCase().replace(/:\d+$/, '')
    return host.endsWith('.myshopify.com') ? host : null
  }

  const unauthorized = (res: http.ServerResponse): void =>
    send(
      res,
      401,
      { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
      {
        'www-authenticate': 'Basic Realm="Shopify API Authentication"',
      },
    )

  const applyFault = async (
    res: http.ServerResponse,
    f: Fault,
    costExt: unknown,
  ): Promise<boolean> => {
    switch (f.kind) {
      case 'latency':
        await new Promise((r) => setTimeout(r, f.latencyMs ?? 1000))
        return false
      case 'http429':
        send(
          res,
          429,
          {
            errors:
              'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
          },
          { 'retry-after': f.retryAfter ?? '2.0' },
        )
        return true
      case 'http5xx':
        send(
          res,
          f.status ?? 500,
          f.status === 503
            ? { errors: 'Unavailable Shop' }
            : { errors: 'An unexpected error occurred' },
        )
        return true
      case 'http402':
        send(res, 402, { errors: "This shop's plan does not have access to this feature" })
        return true
      case 'http423':
        send(res, 423, { errors: 'This shop is unavailable' })
        return true
      case 'graphqlInternal': {
        const requestId = randomUUID()
        send(res, 200, {
          errors: [
            {
              message: `Internal error. Looks like something went wrong on our end.\nRequest ID: ${requestId} (include this in support requests).`,
              extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
            },
          ],
          extensions: costExt,
        })
        return true
      }
      case 'drop':
        res.socket?.destroy()
        return true
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        res.end('{"data":{"orders":{"edges":[{"node":')
        return true
    }
  }

  const handleGraphql = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    version: string,
  ): Promise<void> => {
    const host = shopHost(req)
    const shop = host ? shops.get(host) : undefined
    if (!shop) return send(res, 404, { errors: 'Not Found' })
    const tokHeader = req.headers['x-shopify-access-token']
    const tok = tokens.get((Array.isArray(tokHeader) ? tokHeader[0] : tokHeader) ?? '')
    const now0 = clock.now()
    if (
      !tok ||
      tok.shop !== shop.info.domain ||
      (tok.expiresAt !== null && tok.expiresAt <= now0) ||
      !shop.installed.has(tok.clientId)
    )
      return unauthorized(res)
    let bucket = shop.buckets.get(tok.clientId)
    if (!bucket) {
      bucket = createBucket(shop.throttle, now0)
      shop.buckets.set(tok.clientId, bucket)
    }
    const fault = takeFault(shop, 'graphql')
    if (fault) {
      const handled = await applyFault(res, fault, {
        cost: {
          requestedQueryCost: 0,
          actualQueryCost: 0,
          throttleStatus: bucket.status(clock.now()),
        },
      })
      if (handled) return
    }
    const raw = await readBody(req)
    let body: { query?: unknown; variables?: unknown; operationName?: unknown }
    try {
      const ct = req.headers['content-type'] ?? ''
      body = ct.includes('application/graphql') ? { query: raw } : (JSON.parse(raw) as typeof body)
    } catch {
      return send(res, 400, { errors: { query: 'Required parameter missing or invalid' } })
    }
    if (typeof body.query !== 'string' || !body.query)
      return send(res, 400, { errors: { query: 'Required parameter missing or invalid' } })
    const vars = (body.variables ?? {}) as Record<string, unknown>
    const headers = { 'x-shopify-api-version': version }
    let doc: DocumentNode
    try {
      doc = parse(body.query)
    } catch (e) {
      return send(res, 200, { errors: [(e as GraphQLError).toJSON()] }, headers)
    }
    const verrs = validate(schema, doc)
    const now = clock.now()
    if (verrs.length > 0) {
      return send(
        res,
        200,
        {
          errors: verrs.map((e) => e.toJSON()),
          extensions: {
            cost: { requestedQueryCost: 0, actualQueryCost: 0, throttleStatus: bucket.status(now) },
          },
        },
        headers,
      )
    }
    const ops = doc.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    )
    const op =
      typeof body.operationName === 'string'
        ? ops.find((o) => o.name?.value === body.operationName)
        : ops[0]
    const fragments: Record<string, FragmentDefinitionNode> = {}
    for (const d of doc.definitions)
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d
    const requested = op ? queryCost(schema, op, fragments, vars) : 0
    if (requested > 1000) {
      return send(
        res,
        200,
        {
          errors: [
            {
              message: `Query cost is ${requested}, which exceeds the single query max cost limit (1000).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n`,
              extensions: {
                code: 'MAX_COST_EXCEEDED',
                cost: requested,
                maxCost: 1000,
                documentation: 'https://shopify.dev/api/usage/limits#rate-limits',
              },
            },
          ],
        },
        headers,
      )
    }
    if (!bucket.take(requested, now)) {
      return send(
        res,
        200,
        {
          errors: [
            {
              message: 'Throttled',
              extensions: {
                code: 'THROTTLED',
                documentation: 'https://shopify.dev/api/usage/rate-limits',
              },
            },
          ],
          extensions: {
            cost: {
              requestedQueryCost: requested,
              actualQueryCost: null,
              throttleStatus: bucket.status(now),
            },
          },
        },
        headers,
      )
    }
    const ctx: GqlContext = {
      shop,
      data: shop.store.data(),
      now,
      scopes: new Set(tok.scopes),
      appClientId: tok.clientId,
      apiVersion: version,
      search: [],
    }
    requestCtx = ctx
    const result = await execute({
      schema,
      document: doc,
      variableValues: vars,
      operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
      contextValue: ctx,
      fieldResolver,
      typeResolver,
    })
    const actual =
      op && result.data ? queryCost(schema, op, fragments, vars, result.data) : requested
    bucket.refund(Math.max(0, requested - actual), now)
    const extensions: Record<string, unknown> = {
      cost: {
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: bucket.status(now),
      },
    }
    if (ctx.search.length > 0) extensions.search = ctx.search
    const out: Record<string, unknown> = {}
    if (result.errors) out.errors = result.errors.map((e) => e.toJSON())
    out.data = result.data ?? null
    out.extensions = extensions
    send(res, 200, out, headers)
  }

  // ---------- OAuth ----------
  const handleAuthorize = (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void => {
    const host = shopHost(req) ?? url.searchParams.get('shop')?.toLowerCase() ?? null
    const shop = host ? shops.get(host) : undefined
    if (!shop) return send(res, 404, { errors: 'Not Found' })
    const clientId = url.searchParams.get('client_id') ?? ''
    const app = appById(clientId)
    const redirectUri = url.searchParams.get('redirect_uri')
    if (!app || !redirectUri) return send(res, 400, { errors: 'Invalid client_id or redirect_uri' })
    const code = randomBytesHex(16)
    const scopes = (url.searchParams.get('scope') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const online = url.searchParams.getAll('grant_options[]').includes('per-user')
    codes.set(code, {
      shop: shop.info.domain,
      clientId,
      scopes,
      online,
      expiresAt: clock.now() + 600_000,
    })
    const params: Record<string, string> = {
      code,
      host: oauthHost(shop.info.domain),
      shop: shop.info.domain,
      timestamp: String(Math.floor(Date.now() / 1000)),
    }
    const state = url.searchParams.get('state')
    if (state !== null) params.state = state
    const hmac = oauthHmac(app.clientSecret, params)
    const loc = new URL(redirectUri)
    for (const [k, v] of Object.entries(params)) loc.searchParams.set(k, v)
    loc.searchParams.set('hmac', hmac)
    res.writeHead(302, { location: loc.toString() })
    res.end()
  }

  const handleAccessToken = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> => {
    const host = shopHost(req)
    const shop = host ? shops.get(host) : undefined
    if (!shop) return send(res, 404, { errors: 'Not Found' })
    const fault = takeFault(shop, 'oauth')
    if (fault && (await applyFault(res, fault, undefined))) return
    const raw = await readBody(req)
    const ct = req.headers['content-type'] ?? ''
    let p: Record<string, unknown>
    try {
      p = ct.includes('json')
        ? (JSON.parse(raw) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw))
    } catch {
      return send(res, 400, { error: 'invalid_request', error_description: 'Malformed body' })
    }
    const str = (k: string): string => {
      const v = p[k]
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : ''
    }
    const app = appById(str('client_id'))
    if (!app || !safeEqual(app.clientSecret, str('client_secret')))
      return send(res, 401, {
        error: 'invalid_client',
        error_description: 'Client authentication failed.',
      })
    const grant = str('grant_type') || 'authorization_code'
    const expiring = str('expiring') === '1' || str('expiring') === 'true'
    const now = clock.now()
    if (grant === 'authorization_code') {
      const c = codes.get(str('code'))
      if (!c || c.clientId !== app.clientId || c.shop !== shop.info.domain || c.expiresAt < now)
        return send(res, 400, {
          error: 'invalid_request',
          error_description: 'The authorization code was not found or was already used',
        })
      codes.delete(str('code'))
      if (c.online) {
        const t = randomToken('shpua_')
        shop.installed.add(app.clientId)
        tokens.set(t, {
          token: t,
          shop: shop.info.domain,
          clientId: app.clientId,
          scopes: c.scopes,
          expiresAt: now + 86_399_000,
        })
        return send(res, 200, {
          access_token: t,
          scope: c.scopes.join(','),
          expires_in: 86399,
          associated_user_scope: c.scopes.join(','),
          associated_user: {
            id: 902541635,
            first_name: 'Fake',
            last_name: 'Owner',
            email: shop.info.email,
            email_verified: true,
            account_owner: true,
            locale: 'en',
            collaborator: false,
          },
        })
      }
      const t = issueToken(shop.info.domain, { scopes: c.scopes, expiring, clientId: app.clientId })
      return send(res, 200, tokenBody(t))
    }
    if (grant === 'refresh_token') {
      const rt = refreshTokens.get(str('refresh_token'))
      // The old refresh token may be retried until its replacement is first used.
      const replacementUsed = rt?.replacement
        ? (refreshTokens.get(rt.replacement)?.used ?? true)
        : false
      if (
        !rt ||
        rt.clientId !== app.clientId ||
        rt.shop !== shop.info.domain ||
        rt.expiresAt <= now ||
        replacementUsed
      )
        return send(res, 400, {
          error: 'invalid_grant',
          error_description: 'The refresh token is invalid or expired',
        })
      rt.used = true
      if (rt.replacement) refreshTokens.delete(rt.replacement)
      const t = issueToken(shop.info.domain, {
        scopes: rt.scopes,
        expiring: true,
        clientId: app.clientId,
      })
      rt.replacement = t.refreshToken ?? null
      for (const [k, v] of refreshTokens)
        if (
          v.token !== rt.token &&
          v.token !== rt.replacement &&
          v.shop === rt.shop &&
          v.clientId === rt.clientId &&
          !v.replacement
        )
          refreshTokens.delete(k)
      return send(res, 200, tokenBody(t))
    }
    if (grant === 'client_credentials') {
      const t = randomToken('shpat_')
      shop.installed.add(app.clientId)
      tokens.set(t, {
        token: t,
        shop: shop.info.domain,
        clientId: app.clientId,
        scopes: DEFAULT_SCOPES,
        expiresAt: now + 86_399_000,
      })
      return send(res, 200, { access_token: t, scope: DEFAULT_SCOPES.join(','), expires_in: 86399 })
    }
    return send(res, 400, {
      error: 'unsupported_grant_type',
      error_description: `Grant type ${grant} is not supported by the fake`,
    })
  }

  // ---------- bulk download ----------
  const handleBulkDownload = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    domain: string,
    id: number,
  ): Promise<void> => {
    const shop = shops.get(domain)
    const op = shop?.ops.find((o) => o.id === id)
    const expires = Number(url.searchParams.get('expires'))
    const lim = url.searchParams.get('limit') ?? ''
    const sig = createHmac('sha256', signingKey)
      .update(`${url.pathname}|${expires}|${lim}`)
      .digest('hex')
    if (!shop || !op || !safeEqual(sig, url.searchParams.get('signature') ?? '')) {
      res.writeHead(403, { 'content-type': 'application/xml; charset=UTF-8' })
      return void res.end(
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access denied.</Message></Error>",
      )
    }
    if (expires <= clock.now()) {
      res.writeHead(400, { 'content-type': 'application/xml; charset=UTF-8' })
      return void res.end(
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>",
      )
    }
    const file = resultFiles.get(op.id)
    const fault = takeFault(shop, 'bulk', ['drop', 'http5xx', 'latency'])
    if (fault && (await applyFault(res, fault, undefined))) return
    if (file) {
      res.writeHead(200, { 'content-type': 'application/jsonl' })
      return pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), res).catch(
        () => undefined,
      )
    }
    const snap = shop.snapshots.get(op.id)
    if (!snap) return send(res, 404, { errors: 'Not Found' })
    res.writeHead(200, {
      'content-type': 'application/jsonl',
      ...(op.fileSize !== null && !lim ? { 'content-length': String(op.fileSize) } : {}),
    })
    for (const chunk of bulkLines(schema, snap.plan, snap.ctx, {
      groupObjects: op.groupObjects,
      limit: lim ? Number(lim) : undefined,
    })) {
      if (res.destroyed) return
      if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()))
    }
    res.end()
  }

  // ---------- control API ----------
  const truth = async (res: http.ServerResponse, shop: Shop): Promise<void> => {
    res.writeHead(200, { 'content-type': 'application/jsonl' })
    const d = shop.store.data()
    const write = async (row: TruthRow): Promise<void> => {
      if (!res.write(JSON.stringify(row) + '\n'))
        await new Promise<void>((r) => res.once('drain', () => r()))
    }
    await write({ kind: 'shop', row: shop.info })
    for (const c of d.customers) {
      if (!c) continue
      const s = shop.store.customerStats(c.id)
      await write({
        kind: 'customer',
        row: { ...c, numberOfOrders: s.count, amountSpent: s.spent },
      })
    }
    for (const p of d.products) if (p) await write({ kind: 'product', row: p })
    for (let i = 0; i < d.orderCount; i++) {
      const o = orderAt(d, i)
      if (o) await write({ kind: 'order', row: o })
    }
    res.end()
  }

  const control = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> => {
    const parts = url.pathname.split('/').filter(Boolean).slice(1)
    const method = req.method ?? 'GET'
    const raw = method === 'GET' ? '' : await readBody(req)
    let body: Record<string, unknown> = {}
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>
      } catch {
        return send(res, 400, { error: 'invalid JSON' })
      }
    }
    const [a, b, c, d2, e] = parts
    if (a === 'clock') {
      if (b === 'advance' && method === 'POST') clock.advance(Number(body.ms ?? 0))
      return send(res, 200, { now: clock.now(), iso: new Date(clock.now()).toISOString() })
    }
    if (a === 'bulk' && b && c && method === 'GET') {
      const m = /^(\d+)\.jsonl$/.exec(c)
      if (m?.[1]) return handleBulkDownload(req, res, url, b, Number(m[1]))
    }
    if (a !== 'shops') return send(res, 404, { error: 'unknown control route' })
    if (!b) {
      if (method === 'POST')
        return send(res, 201, createShop(body as unknown as ShopParams & { scopes?: string[] }))
      return send(res, 200, {
        shops: [...shops.values()].map((s) => ({ ...s.info, counts: s.store.counts() })),
      })
    }
    const shop = requireShop(b.includes('.') ? b : `${b}.myshopify.com`)
    const st = shop.store
    const id = d2 ? Number(d2) : NaN
    const ok = (x: unknown): void => send(res, 200, x)
    switch (c) {
      case undefined:
        if (method === 'DELETE') {
          shops.delete(shop.info.domain)
          return ok({ deleted: shop.info.domain })
        }
        return ok({
          ...shop.info,
          counts: st.counts(),
          throttle: shop.throttle,
          installed: [...shop.installed],
        })
      case 'truth':
        return truth(res, shop)
      case 'tokens':
        return send(res, 201, issueToken(shop.info.domain, body))
      case 'faults':
        shop.faults = method === 'DELETE' ? [] : ((body.faults ?? []) as Fault[])
        return ok({ faults: shop.faults })
      case 'webhook-knobs':
        shop.knobs = body
        return ok({ knobs: shop.knobs })
      case 'deliveries':
        return ok({ deliveries: sender.records().filter((r) => r.shop === shop.info.domain) })
      case 'throttle':
        shop.throttle = {
          maximumAvailable: Number(body.maximumAvailable),
          restoreRate: Number(body.restoreRate),
        }
        for (const bk of shop.buckets.values()) bk.setLimits(shop.throttle)
        return ok({ throttle: shop.throttle })
      case 'uninstall': {
        const clientId = (body.clientId as string | undefined) ?? defaultApp.clientId
        const payload = restShop(shop.info)
        const bodyText = JSON.stringify(payload)
        currentKnobs.value = shop.knobs
        deliver(shop, clientId, 'app/uninstalled', bodyText, randomUUID())
        shop.installed.delete(clientId)
        shop.subs = shop.subs.filter((s) => s.appClientId !== clientId)
        for (const [k, t] of tokens)
          if (t.shop === shop.info.domain && t.clientId === clientId) tokens.delete(k)
        for (const [k, t] of refreshTokens)
          if (t.shop === shop.info.domain && t.clientId === clientId) refreshTokens.delete(k)
        return ok({ uninstalled: clientId })
      }
      case 'compliance': {
        const clientId = (body.clientId as string | undefined) ?? defaultApp.clientId
        const topic =
          d2 === 'customers-data-request'
            ? 'customers/data_request'
            : d2 === 'customers-redact'
              ? 'customers/redact'
              : d2 === 'shop-redact'
                ? 'shop/redact'
                : null
        if (!topic) return send(res, 404, { error: 'unknown compliance topic' })
        const cust = body.customerId ? customerById(st.data(), Number(body.customerId)) : null
        const orders: number[] = []
        if (cust) {
          const dd = st.data()
          for (let i = 0; i < dd.orderCount && orders.length < 50; i++) {
            const o = orderAt(dd, i)
            if (o?.customerId === cust.id) orders.push(o.id)
          }
        }
        const base = { shop_id: shop.info.id, shop_domain: shop.info.domain }
        const payload =
          topic === 'shop/redact'
            ? base
            : topic === 'customers/redact'
              ? {
                  ...base,
                  customer: {
                    id: cust?.id ?? null,
                    email: cust?.email ?? null,
                    phone: cust?.phone ?? null,
                  },
                  orders_to_redact: orders,
                }
              : {
                  ...base,
                  customer: {
                    id: cust?.id ?? null,
                    email: cust?.email ?? null,
                    phone: cust?.phone ?? null,
                  },
                  orders_requested: orders,
                  data_request: { id: Math.floor(shop.rng.next() * 1e6) },
                }
        currentKnobs.value = shop.knobs
        deliver(shop, clientId, topic, JSON.stringify(payload), randomUUID())
        return ok({ topic, payload })
      }
      case 'orders': {
        if (!d2 && method === 'POST') return send(res, 201, st.createOrder(body))
        if (!d2) return send(res, 405, { error: 'method not allowed' })
        if (e === 'cancel' && method === 'POST') return ok(st.cancelOrder(id, body))
        if (e === 'refund' && method === 'POST') return send(res, 201, st.refundOrder(id, body))
        if (e === 'pay' && method === 'POST') return ok(st.markPaid(id))
        if (!e && method === 'PATCH') return ok(st.updateOrder(id, body))
        if (!e && method === 'DELETE') return ok((st.deleteOrder(id), { deleted: id }))
        if (!e && method === 'GET') {
          const o = orderAt(st.data(), orderIdx(id))
          if (!o || o.id !== id) throw new NotFound(`order ${id}`)
          return ok({ ...o, totalRefunded: totalRefunded(o) })
        }
        break
      }
      case 'customers': {
        if (!d2 && method === 'POST') return send(res, 201, st.createCustomer(body))
        if (d2 && method === 'PATCH') return ok(st.updateCustomer(id, body))
        if (d2 && method === 'DELETE') return ok((st.deleteCustomer(id), { deleted: id }))
        break
      }
      case 'products': {
        if (!d2 && method === 'POST') return send(res, 201, st.createProduct(body))
        if (d2 && method === 'PATCH') return ok(st.updateProduct(id, body))
        if (d2 && method === 'DELETE') return ok((st.deleteProduct(id), { deleted: id }))
        break
      }
    }
    send(res, 404, { error: 'unknown control route' })
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake.local')
    const route = async (): Promise<void> => {
      const p = url.pathname
      if (p === '/' && req.method === 'GET')
        return send(res, 200, { ok: true, service: 'shopify-fake' })
      const gq = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(p)
      if (gq?.[1] && req.method === 'POST') {
        if (!API_VERSION_RE.test(gq[1])) return send(res, 404, { errors: 'Not Found' })
        return handleGraphql(req, res, gq[1])
      }
      if (p === '/admin/oauth/authorize' && req.method === 'GET')
        return handleAuthorize(req, res, url)
      if (p === '/admin/oauth/access_token' && req.method === 'POST')
        return handleAccessToken(req, res)
      if (p.startsWith('/_fake/')) return control(req, res, url)
      return send(res, 404, { errors: 'Not Found' })
    }
    route().catch((err: unknown) => {
      if (res.headersSent) return void res.destroy()
      if (err instanceof HttpError) return send(res, err.status, err.body)
      if (err instanceof NotFound) return send(res, 404, { error: err.message })
      if (err instanceof BadRequest) return send(res, 400, { error: err.message })
      log({ err: String(err), stack: (err as Error).stack })
      send(res, 500, { errors: 'An unexpected error occurred' })
    })
  })
  server.keepAliveTimeout = 5000

  await new Promise<void>((resolve) =>
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve),
  )
  const port = (server.address() as AddressInfo).port
  origin = `http://${opts.host ?? '127.0.0.1'}:${port}`
  for (const s of opts.shops ?? []) createShop(s)

  return {
    origin,
    port,
    clock,
    apps,
    schema,
    createShop,
    shop: (domain) => requireShop(domain).store,
    issueToken,
    setFaults(domain, faults) {
      requireShop(domain).faults = faults
    },
    setWebhookKnobs(domain, knobs) {
      requireShop(domain).knobs = knobs
    },
    webhooks: sender,
    async close() {
      clock.dispose()
      rmSync(resultDir, { recursive: true, force: true })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const orderIdx = (id: number): number => Math.floor((id - 5_600_000_000_000) / 1000)

function randomBytesHex(n: number): string {
  return randomUUID()
    .replace(/-/g, '')
    .slice(0, n * 2)
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function tokenBody(t: IssuedToken): Record<string, unknown> {
  return t.refreshToken
    ? {
        access_token: t.accessToken,
        scope: t.scope,
        expires_in: t.expiresIn,
        refresh_token: t.refreshToken,
        refresh_token_expires_in: t.refreshTokenExpiresIn,
      }
    : { access_token: t.accessToken, scope: t.scope }
}

export { GraphQLError }
