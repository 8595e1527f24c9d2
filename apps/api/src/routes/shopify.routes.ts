import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError, RateLimitedError, type InstallService } from '@xeno/core'
import { normalizeShopDomain } from '@xeno/shopify'
import { statusOf as statusOfError } from '../plugins/errors.ts'

export type OAuthConfigView = {
  clientId: string
  clientSecretSet: boolean
  scopes: string
  redirectUri: string
  appUrl: string
  apiVersion: string
  adminOrigin: string | null
}

type Limit = { max: number; windowMs: number }

export type ShopifyRoutesDeps = {
  install: InstallService
  oauthConfig: OAuthConfigView
  /** GET /api/shopify/install per client address and per shop (defaults 30 and 10 a minute). */
  installLimits?: { perIp?: Limit; perShop?: Limit }
}

/** Checks a misconfigured app fails, in the words an operator can act on. */
export function oauthConfigChecks(
  c: OAuthConfigView,
): { check: string; ok: boolean; detail: string }[] {
  let redirect: URL | undefined
  let app: URL | undefined
  try {
    redirect = new URL(c.redirectUri)
    app = new URL(c.appUrl)
  } catch {
    /* reported below */
  }
  const scopes = c.scopes.split(',')
  return [
    {
      check: 'redirect_uri host matches APP_URL',
      ok: !!redirect && !!app && redirect.host === app.host,
      detail: `${redirect?.host ?? c.redirectUri} vs ${app?.host ?? c.appUrl}`,
    },
    {
      check: 'redirect_uri points at /api/shopify/callback',
      ok: redirect?.pathname === '/api/shopify/callback',
      detail: redirect?.pathname ?? c.redirectUri,
    },
    {
      check: 'redirect_uri is https (Shopify requires it outside local development)',
      ok:
        redirect?.protocol === 'https:' ||
        redirect?.hostname === '127.0.0.1' ||
        redirect?.hostname === 'localhost',
      detail: redirect?.protocol ?? 'invalid URL',
    },
    {
      check: 'scopes cover orders, customers and products',
      ok: ['read_orders', 'read_customers', 'read_products'].every(
        (s) => scopes.includes(s) || scopes.includes(s.replace('read_', 'write_')),
      ),
      detail: c.scopes,
    },
    {
      check: 'read_all_orders requested (otherwise only the last 60 days of orders are visible)',
      ok: scopes.includes('read_all_orders'),
      detail: c.scopes,
    },
    {
      check: 'client secret configured',
      ok: c.clientSecretSet,
      detail: c.clientSecretSet ? '[redacted]' : 'missing',
    },
  ]
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** Shopify install (OAuth) routes and the admin's view of the effective OAuth configuration. */
export function shopifyRoutes(deps: ShopifyRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Anonymous: every install request stores a state. Limited per address (a flood from one
    // client) and per shop (states piling up for one shop from many addresses); the limiter is
    // the auth plugin's when registered (one store for the app).
    if (!app.hasDecorator('createRateLimit'))
      await app.register(fastifyRateLimit, { global: false })
    const limiter = (name: string, limit: Limit, key: (r: FastifyRequest) => string) => {
      const check = app.createRateLimit({
        max: limit.max,
        timeWindow: limit.windowMs,
        keyGenerator: (r) => `${name}:${key(r)}`,
      })
      return async (request: FastifyRequest) => {
        const r = await check(request)
        if (!r.isAllowed && r.isExceeded)
          throw new RateLimitedError(Math.max(1, r.ttlInSeconds), 'too many install requests')
      }
    }
    const shopKey = (r: FastifyRequest) => {
      const raw = (r.query as { shop?: unknown }).shop
      return typeof raw === 'string' ? (normalizeShopDomain(raw) ?? raw.toLowerCase()) : ''
    }
    const installPerIp = limiter(
      'install:ip',
      deps.installLimits?.perIp ?? { max: 30, windowMs: 60_000 },
      (r) => r.ip,
    )
    const installPerShop = limiter(
      'install:shop',
      deps.installLimits?.perShop ?? { max: 10, windowMs: 60_000 },
      shopKey,
    )

    app.get(
      '/api/shopify/install',
      {
        config: { auth: 'shopify-oauth' },
        schema: {
          tags: ['shopify'],
          summary: 'Start installing Xeno on a shop',
          description:
            "Redirects (302) to Shopify's authorize page with a single-use state bound to the shop. Rate limited per client address and per shop, and refused while too many installs are in progress (429 with Retry-After).",
          querystring: z.object({ shop: z.string().min(1).max(255) }).passthrough(),
          response: { 302: z.null().describe("Redirect to Shopify's authorize page") },
        },
      },
      async (request, reply) => {
        await installPerIp(request)
        await installPerShop(request)
        const { redirectTo } = await deps.install.begin(request.query.shop)
        return reply.redirect(redirectTo, 302)
      },
    )

    app.get(
      '/api/shopify/callback',
      {
        config: { auth: 'shopify-oauth' },
        schema: {
          tags: ['shopify'],
          summary: 'OAuth callback from Shopify',
          description:
            'Checks state (single use, same shop), HMAC, timestamp (±90 s) and shop; exchanges the code for an expiring offline token; creates or reactivates the tenant; registers webhooks; starts the initial backfill; redirects to the success page.',
          querystring: z.record(z.string(), z.string().max(2048)),
          response: { 302: z.null().describe('Redirect to the install success page') },
        },
      },
      async (request, reply) => {
        let result
        try {
          result = await deps.install.callback(request.query, request.id)
        } catch (err) {
          // The callback is a page in the merchant's browser: answer a page there, saying what
          // to do (other clients get the JSON envelope from the error handler).
          if (err instanceof AppError && request.headers.accept?.includes('text/html')) {
            const shop = typeof request.query.shop === 'string' ? request.query.shop : ''
            const again = shop
              ? ` <a href="/api/shopify/install?shop=${encodeURIComponent(shop)}">Start the install again</a>.`
              : ' Start the install again from your Shopify admin.'
            // The route's schema types its success answer (302); this page answers an error.
            return (reply as unknown as FastifyReply)
              .code(statusOfError(err))
              .type('text/html; charset=utf-8')
              .send(
                `<!doctype html><meta charset="utf-8"><title>Xeno was not installed</title><h1>Xeno was not installed</h1><p>${escapeHtml(err.message)}.${again}</p>`,
              )
          }
          throw err
        }
        return reply.redirect(`/api/shopify/installed?shop=${encodeURIComponent(result.shop)}`, 302)
      },
    )

    app.get(
      '/api/shopify/installed',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['shopify'],
          summary: 'Install success page',
          querystring: z.object({ shop: z.string().max(255).default('') }),
          response: {
            200: {
              description: 'The install success page',
              content: { 'text/html': { schema: z.string() } },
            },
          },
        },
      },
      async (request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .send(
            `<!doctype html><meta charset="utf-8"><title>Xeno installed</title><h1>Xeno is connected</h1><p>${escapeHtml(request.query.shop)} is syncing its customers, products and orders.</p>`,
          ),
    )

    app.get(
      '/api/debug/oauth-config',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['shopify'],
          summary: 'Effective OAuth configuration (secrets redacted) and what fails',
          response: {
            200: z.object({
              data: z.object({
                config: z.object({
                  client_id: z.string(),
                  client_secret: z.string(),
                  scopes: z.string(),
                  redirect_uri: z.string(),
                  app_url: z.string(),
                  api_version: z.string(),
                  admin_origin: z.string().nullable(),
                }),
                checks: z.array(
                  z.object({ check: z.string(), ok: z.boolean(), detail: z.string() }),
                ),
              }),
            }),
          },
        },
      },
      async () => {
        const c = deps.oauthConfig
        return {
          data: {
            config: {
              client_id: c.clientId,
              client_secret: c.clientSecretSet ? '[redacted]' : '',
              scopes: c.scopes,
              redirect_uri: c.redirectUri,
              app_url: c.appUrl,
              api_version: c.apiVersion,
              admin_origin: c.adminOrigin,
            },
            checks: oauthConfigChecks(c),
          },
        }
      },
    )
  }
}
