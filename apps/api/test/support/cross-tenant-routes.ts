// The cross-tenant table: one entry per route the API registers, keyed "METHOD /path" exactly as
// Fastify registers it (path parameters as `:name`; HEAD twins of GET routes need no entry).
// apps/api/test/cross-tenant.test.ts calls every registered route with tenant B's credentials
// (HTTP Basic, session cookie, API key) against tenant A's ids and fails when
//   - a registered route has no entry here (so a new route cannot skip the suite), or
//   - any response contains anything of tenant A (ids, shop, usernames, key prefixes), or
//   - an entry with `denied` (the default) answers 2xx, or tenant A's rows changed.
//
// To add a route: add `'METHOD /api/path/:id/...': { build: (a, b) => ({ url, payload? }) }`
// addressing tenant A's resources (a.tenantId, a.ownerId, a.keyId, a.shopDomain, …). Set
// `denied: false` only when B legitimately gets a 2xx answer about itself (e.g. /api/tenant/me).
// If your routes are registered only when your service is passed to buildApp, also pass it in
// buildTestApp's defaults (support/app.ts) so the suite sees them.

import { appRoutes as bullBoardRoutes } from '@bull-board/api/dist/routes.js'

/** What the suite knows of tenant A (the victim). Nothing of it may leak to B. */
export type TenantA = {
  tenantId: string
  shopDomain: string
  ownerId: string
  ownerUsername: string
  viewerId: string
  keyId: string
  keyPrefix: string
}

/** What tenant B (the caller) knows: its own credentials. */
export type TenantB = {
  tenantId: string
  ownerUsername: string
  ownerPassword: string
}

export type CrossTenantCase = {
  build: (a: TenantA, b: TenantB) => { url: string; payload?: unknown }
  /** B must be refused (4xx). False only for routes that answer B about B. Default true. */
  denied?: boolean
}

const pw = 'some-long-password'

export const CROSS_TENANT_ROUTES: Record<string, CrossTenantCase> = {
  'GET /api/health': { build: () => ({ url: '/api/health' }), denied: false },
  'GET /api/health/live': { build: () => ({ url: '/api/health/live' }), denied: false },
  'GET /api/health/ready': { build: () => ({ url: '/api/health/ready' }), denied: false },

  // Admin surface: tenant credentials never open it.
  'POST /api/admin/bootstrap': {
    build: (_a, b) => ({
      url: '/api/admin/bootstrap',
      payload: { username: b.ownerUsername, password: b.ownerPassword },
    }),
  },
  'POST /api/admin/login': {
    build: (a) => ({
      url: '/api/admin/login',
      payload: { username: a.ownerUsername, password: pw },
    }),
  },
  'POST /api/admin/logout': { build: () => ({ url: '/api/admin/logout', payload: {} }) },
  'GET /api/admin/me': { build: () => ({ url: '/api/admin/me' }) },
  'POST /api/tenants': {
    build: (a) => ({ url: '/api/tenants', payload: { shop_domain: a.shopDomain } }),
  },
  'GET /api/tenants': { build: () => ({ url: '/api/tenants' }) },

  // Tenant A's resources.
  'GET /api/tenants/:id': { build: (a) => ({ url: `/api/tenants/${a.tenantId}` }) },
  'POST /api/tenants/:id/ingest': {
    build: (a) => ({ url: `/api/tenants/${a.tenantId}/ingest`, payload: { mode: 'full' } }),
  },
  'GET /api/tenants/:id/sync-status': {
    build: (a) => ({ url: `/api/tenants/${a.tenantId}/sync-status` }),
  },
  'POST /api/tenants/:id/users': {
    build: (a) => ({
      url: `/api/tenants/${a.tenantId}/users`,
      payload: { username: 'intruder', password: pw, role: 'owner' },
    }),
  },
  'GET /api/tenants/:id/users': { build: (a) => ({ url: `/api/tenants/${a.tenantId}/users` }) },
  'PATCH /api/tenants/:id/users/:userId': {
    build: (a) => ({
      url: `/api/tenants/${a.tenantId}/users/${a.ownerId}`,
      payload: { password: 'taken-over-password' },
    }),
  },
  'POST /api/tenants/:id/api-keys': {
    build: (a) => ({ url: `/api/tenants/${a.tenantId}/api-keys`, payload: { label: 'x' } }),
  },
  'GET /api/tenants/:id/api-keys': {
    build: (a) => ({ url: `/api/tenants/${a.tenantId}/api-keys` }),
  },
  'DELETE /api/tenants/:id/api-keys/:keyId': {
    build: (a) => ({ url: `/api/tenants/${a.tenantId}/api-keys/${a.keyId}` }),
  },

  // /api/tenant acts for the caller's own tenant; naming A's must not reach it.
  'POST /api/tenant/login': {
    build: (a, b) => ({
      url: '/api/tenant/login',
      payload: { shop: a.shopDomain, username: b.ownerUsername, password: b.ownerPassword },
    }),
  },
  'POST /api/tenant/logout': {
    build: () => ({ url: '/api/tenant/logout', payload: {} }),
    denied: false,
  },
  'GET /api/tenant/me': { build: () => ({ url: '/api/tenant/me' }), denied: false },
  'POST /api/tenant/set-token': {
    build: (a) => ({
      url: '/api/tenant/set-token',
      payload: { access_token: 'shpat_cross_tenant', tenant_id: a.tenantId },
    }),
  },
  // Analytics (routes/analytics.routes.ts).
  ...Object.fromEntries(
    [
      'analytics',
      'metrics/revenue',
      'metrics/orders',
      'metrics/customers',
      'metrics/events',
      'metrics/customer-growth',
      'metrics/product-growth',
      'metrics/products',
      // routes/customer-analytics.routes.ts
      'metrics/cohorts',
      'metrics/repeat-purchase',
      'metrics/rfm',
      'metrics/rfm/customers',
      'metrics/lifetime-value',
    ].map((path): [string, CrossTenantCase] => [
      `GET /api/tenants/:id/${path}`,
      {
        build: (a) => ({ url: `/api/tenants/${a.tenantId}/${path}?from=2026-01-01&to=2026-12-31` }),
      },
    ]),
  ),
  // Custom events go to the API key's own tenant; B's key records for B only.
  'POST /api/events': {
    build: () => ({
      url: '/api/events',
      payload: {
        event_type: 'b_event',
        occurred_at: '2026-06-01T00:00:00Z',
        idempotency_key: 'a-key-1',
      },
    }),
    denied: false,
  },
  // Webhooks (routes/webhooks.routes.ts): unsigned deliveries, admin replay, compliance records.
  'POST /api/webhooks/:resource/:event': {
    build: (a) => ({ url: '/api/webhooks/orders/create', payload: { shop_domain: a.shopDomain } }),
  },
  'GET /api/admin/webhooks': { build: () => ({ url: '/api/admin/webhooks?status=failed' }) },
  'GET /api/admin/webhooks/:receiptId': {
    build: () => ({ url: '/api/admin/webhooks/00000000-0000-4000-8000-000000000001' }),
  },
  'POST /api/admin/webhooks/:receiptId/replay': {
    build: () => ({
      url: '/api/admin/webhooks/00000000-0000-4000-8000-000000000001/replay',
      payload: {},
    }),
  },
  'GET /api/tenants/:id/compliance/requests': {
    build: (a) => ({ url: `/api/tenants/${a.tenantId}/compliance/requests` }),
  },
  'GET /api/tenants/:id/compliance/requests/:requestId': {
    build: (a) => ({
      url: `/api/tenants/${a.tenantId}/compliance/requests/00000000-0000-4000-8000-000000000001`,
    }),
  },
  // Shopify install (routes/shopify.routes.ts): public by design (Shopify authenticates the
  // merchant); B can start an install only for a shop it names, and a forged callback is refused.
  'GET /api/shopify/install': {
    build: () => ({ url: '/api/shopify/install?shop=someone-else-store' }),
    denied: false, // a 302 to Shopify for the shop B named; nothing of A in it
  },
  'GET /api/shopify/callback': {
    build: (a) => ({
      url: `/api/shopify/callback?code=x&shop=${a.shopDomain}&state=${'0'.repeat(64)}&timestamp=${Math.floor(Date.now() / 1000)}&hmac=${'0'.repeat(64)}`,
    }),
  },
  'GET /api/shopify/installed': {
    build: () => ({ url: '/api/shopify/installed?shop=b-store' }),
    denied: false,
  },
  'GET /api/debug/oauth-config': { build: () => ({ url: '/api/debug/oauth-config' }) },
  'GET /api/tenant/lookup': {
    build: (a) => ({ url: `/api/tenant/lookup?shop=${a.shopDomain}` }),
    denied: false,
  },
  // API documentation (plugins/docs.ts): public, the same for everyone, nothing of any tenant.
  ...Object.fromEntries(
    [
      'GET /docs/',
      'HEAD /docs',
      'GET /docs/json',
      'GET /docs/yaml',
      'GET /docs/static/index.html',
      'GET /docs/static/swagger-initializer.js',
      'GET /docs/static/*',
    ].map((key): [string, CrossTenantCase] => [
      key,
      {
        build: () => ({ url: key.split(' ')[1]!.replace('*', 'swagger-ui.css') }),
        denied: false,
      },
    ]),
  ),
  // The dashboard (plugins/web.ts): the same static page and assets for everyone, no data.
  'GET /app': { build: () => ({ url: '/app' }), denied: false },
  'GET /app/*': { build: (a) => ({ url: `/app/overview?tenant=${a.tenantId}` }), denied: false },
  'GET /app/assets/*': { build: () => ({ url: '/app/assets/missing.js' }), denied: false },
  // The admin sign-in page and its assets (plugins/admin-login.ts): public, the same for everyone.
  ...Object.fromEntries(
    ['GET /admin/login', 'GET /admin/login.js', 'GET /admin/login.css'].map(
      (key): [string, CrossTenantCase] => [
        key,
        { build: () => ({ url: key.split(' ')[1]! }), denied: false },
      ],
    ),
  ),
  // Prometheus metrics (routes/metrics.routes.ts): public unless METRICS_TOKEN is set; the suite's
  // app reports no per-tenant series.
  'GET /metrics': { build: () => ({ url: '/metrics' }), denied: false },
  // Bull Board (plugins/bull-board.ts): admin sessions only, so B is refused on every route. The
  // API routes come from Bull Board's own route list, so an upgrade that adds one is covered.
  ...Object.fromEntries(
    [
      'GET /',
      'HEAD ',
      'GET /static/*',
      ...[bullBoardRoutes.entryPoint.route]
        .flat()
        .filter((r) => r !== '/')
        .map((r) => `GET ${r}`),
      ...bullBoardRoutes.api.flatMap((r) =>
        [r.method]
          .flat()
          .flatMap((m) => [r.route].flat().map((route) => `${m.toUpperCase()} ${route}`)),
      ),
    ].map((k): [string, CrossTenantCase] => {
      const [method, path] = k.split(' ') as [string, string]
      const url = `/admin/queues${path}`
        .replace(':queueName', 'sync')
        .replace(/:[A-Za-z]+/g, 'x')
        .replace('*', 'main.js')
      return [`${method} /admin/queues${path}`, { build: () => ({ url, payload: {} }) }]
    }),
  ),
}
