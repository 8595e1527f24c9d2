import { randomUUID } from 'node:crypto'
import { PassThrough } from 'node:stream'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
  type RouteOptions,
} from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import type { Logger } from '@xeno/logger'
import type {
  AnalyticsService,
  CustomerAnalyticsService,
  EventsService,
  HealthService,
  IngestService,
} from '@xeno/core'
import { frameworkErrors, registerErrorHandling } from './plugins/errors.ts'
import { registerAuth, registerAuthFailClosed, type AuthDeps } from './plugins/auth.ts'
import { adminRoutes } from './routes/admin.routes.ts'
import { tenantsRoutes } from './routes/tenants.routes.ts'
import { tenantRoutes } from './routes/tenant.routes.ts'
import { healthRoutes } from './routes/health.routes.ts'
import { analyticsRoutes } from './routes/analytics.routes.ts'
import { customerAnalyticsRoutes } from './routes/customer-analytics.routes.ts'
import { registerCsvExport } from './plugins/csv-export.ts'
import { eventsRoutes } from './routes/events.routes.ts'
import { ingestRoutes } from './routes/ingest.routes.ts'
import { webhookRoutes, type WebhookRoutesDeps } from './routes/webhooks.routes.ts'
import { shopifyRoutes, type ShopifyRoutesDeps } from './routes/shopify.routes.ts'
import { registerDocs } from './plugins/docs.ts'
import { registerMetrics, type MetricsDeps } from './plugins/metrics.ts'
import {
  allowBodilessBoardActions,
  registerBullBoard,
  type BullBoardDeps,
} from './plugins/bull-board.ts'
import { metricsRoutes } from './routes/metrics.routes.ts'
import {
  createAdmissionGate,
  DEFAULT_ADMISSION_LIMITS,
  registerAdmission,
  type AdmissionLimits,
} from './plugins/admission.ts'
import { registerWeb, type WebDeps } from './plugins/web.ts'
import { registerSecurityHeaders } from './plugins/security-headers.ts'

/** Everything the HTTP layer needs, built by the composition root (or a test). */
export type AppDeps = {
  logger: Logger
  health: HealthService
  /** Largest JSON body accepted by default (routes may lower or raise it). */
  bodyLimit?: number
  /** A request body not fully received this long after its headers is cut with 408 (15 s). */
  bodyTimeoutMs?: number
  /**
   * Identity and tenancy (admins, tenants, users, API keys, sessions; plugins/auth.ts). Without
   * it every route that is not public answers 401 and the identity routes are absent.
   */
  auth?: AuthDeps
  /** Sees every route as it is registered (the route-table tests collect routes with it). */
  onRoute?: (route: RouteOptions) => void
  /** Analytics of DESIGN.md §6 (routes/analytics.routes.ts). */
  analytics?: AnalyticsService
  /** Cohorts, repeat purchase, RFM, lifetime value (routes/customer-analytics.routes.ts). */
  customerAnalytics?: CustomerAnalyticsService
  /** Custom events, POST /api/events (routes/events.routes.ts). */
  events?: EventsService
  /** Shopify webhook intake, admin replay and compliance requests (routes/webhooks.routes.ts). */
  webhooks?: WebhookRoutesDeps
  /** Ingestion trigger and sync status (routes/ingest.routes.ts). */
  ingest?: IngestService
  /** Shopify install (OAuth) and the OAuth configuration view (routes/shopify.routes.ts). */
  shopify?: ShopifyRoutesDeps
  /**
   * GET /metrics (plugins/metrics.ts): HTTP, readiness and process metrics; a bearer token when
   * `token` is set. Fleet-wide gauges come from the worker exporter, not the API.
   */
  metrics?: MetricsDeps
  /** Bull Board at /admin/queues for admin sessions (plugins/bull-board.ts). */
  bullBoard?: BullBoardDeps
  /**
   * Concurrency limits of the routes declaring `config.admission` (plugins/admission.ts);
   * defaults when absent, `false` for none (benchmarks measuring the difference).
   */
  admission?: Partial<AdmissionLimits> | false
  /**
   * TRUST_PROXY: the proxies whose X-Forwarded-For sets `request.ip` (a hop count, or
   * addresses/CIDRs); default none.
   */
  trustProxy?: false | number | string[]
  /** The dashboard web app under /app/ (plugins/web.ts), from apps/web/dist. */
  web?: WebDeps
}

/** Who is calling, as resolved by the auth plugin. */
export type Principal =
  | { kind: 'admin'; adminId: string }
  | { kind: 'tenant-user'; tenantId: string; userId: string; role: 'owner' | 'viewer' }
  | { kind: 'api-key'; tenantId: string; keyId: string }

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call a route; every route declares it (checked by the route-table test).
     * 'tenant' routes carry the tenant in `:id` and accept an admin session, a session or
     * HTTP Basic credentials of a user of that tenant, or an API key of that tenant.
     */
    auth?: 'public' | 'admin' | 'tenant' | 'api-key' | 'shopify-webhook' | 'shopify-oauth'
    /** For 'tenant' routes: the least tenant role required ('viewer' when absent). */
    role?: 'owner' | 'viewer'
    /**
     * Routes that hold a connection for long or write in volume: run under the per-credential,
     * per-tenant and per-process concurrency limits (plugins/admission.ts).
     */
    admission?: 'analytics' | 'ingest'
  }
  interface FastifyRequest {
    principal?: Principal
  }
}

/** The API's Fastify instance type, with zod schemas as the type provider. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Builds the Fastify app from its dependencies; opens nothing itself. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // A hop count as Fastify applies one (its types accept only the function form).
    trustProxy:
      typeof deps.trustProxy === 'number'
        ? (_addr: string, hop: number) => hop < (deps.trustProxy as number)
        : (deps.trustProxy ?? false),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>()

  // A request in flight when close() starts keeps its keep-alive connection open once answered
  // (Node closes idle connections only at that moment), holding close() — and a rolling
  // restart — until the keep-alive timeout: close connections as they go idle until closed.
  app.addHook('preClose', async () => {
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100)
    sweep.unref()
    app.server.once('close', () => clearInterval(sweep))
  })
  // Node's own requestTimeout is only checked every 30 s and Fastify turns it off; this cuts a
  // trickling body on time. Only requests that carry a body get a timer, and it stops when the
  // body ended or the response went out.
  const bodyTimeoutMs = deps.bodyTimeoutMs ?? 15_000
  app.addHook('preParsing', async (request, reply, payload) => {
    const h = request.headers
    if (!h['transfer-encoding'] && (h['content-length'] ?? '0') === '0') return payload
    // The parser reads a pass-through, so the cut fails only the parse: destroying the request
    // itself would drop the socket before the 408 is written.
    const body = new PassThrough()
    payload.pipe(body)
    const timer = setTimeout(() => {
      payload.unpipe(body)
      void reply.header('connection', 'close')
      body.destroy(
        Object.assign(new Error(`the request body did not arrive within ${bodyTimeoutMs} ms`), {
          statusCode: 408,
          code: 'XENO_BODY_TIMEOUT',
        }),
      )
    }, bodyTimeoutMs)
    const clear = () => clearTimeout(timer)
    payload.once('end', clear)
    payload.once('close', clear)
    reply.raw.once('finish', clear)
    return body
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  // Before any route: helmet's headers (CSP, X-Frame-Options, …) on every response.
  await registerSecurityHeaders(app, { appUrl: deps.auth?.appUrl })
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id)
  })

  if (deps.onRoute) app.addHook('onRoute', deps.onRoute)
  // Before any route: it wraps the handlers of the routes that declare `config.admission`.
  if (deps.admission !== false)
    registerAdmission(app, createAdmissionGate({ ...DEFAULT_ADMISSION_LIMITS, ...deps.admission }))
  // Before any route: the auth plugin's onRequest hook must see every route.
  if (deps.bullBoard) allowBodilessBoardActions(app) // before the auth plugin's CSRF check
  const auth = deps.auth ? await registerAuth(app, deps.auth) : registerAuthFailClosed(app)
  // Before any route: the OpenAPI generator and the request metrics hook see every route.
  await registerDocs(app, { appUrl: deps.auth?.appUrl })
  const registry = registerMetrics(app, {
    health: deps.health,
    ...deps.metrics,
    logger: deps.logger,
  })
  await app.register(metricsRoutes({ registry, token: deps.metrics?.token }))
  if (deps.bullBoard) await registerBullBoard(app, deps.bullBoard)
  if (deps.web) await registerWeb(app, deps.web)

  await app.register(healthRoutes({ health: deps.health }))
  // Before the analytics routes: their answers also come as text/csv.
  registerCsvExport(app)
  if (deps.analytics) await app.register(analyticsRoutes({ analytics: deps.analytics }))
  if (deps.customerAnalytics)
    await app.register(customerAnalyticsRoutes({ customerAnalytics: deps.customerAnalytics }))
  if (deps.events) await app.register(eventsRoutes({ events: deps.events }))
  if (deps.webhooks) await app.register(webhookRoutes(deps.webhooks))
  if (deps.shopify) await app.register(shopifyRoutes(deps.shopify))
  if (deps.ingest) await app.register(ingestRoutes({ ingest: deps.ingest }))
  if (deps.auth && auth) {
    await app.register(adminRoutes({ admins: deps.auth.admins, auth }))
    await app.register(tenantsRoutes({ ...deps.auth, auth }))
    await app.register(tenantRoutes({ ...deps.auth, auth }))
  }
  return app
}
