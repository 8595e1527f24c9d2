import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { InstallService } from '@xeno/core'

export type OAuthConfigView = {
  clientId: string
  clientSecretSet: boolean
  scopes: string
  redirectUri: string
  appUrl: string
  apiVersion: string
  adminOrigin: string | null
}

export type ShopifyRoutesDeps = { install: InstallService; oauthConfig: OAuthConfigView }

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
export function shopifyRoutes(deps: ShopifyRoutesDeps): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.get(
      '/api/shopify/install',
      {
        config: { auth: 'shopify-oauth' },
        schema: {
          tags: ['shopify'],
          summary: 'Start installing Xeno on a shop',
          description:
            "Redirects (302) to Shopify's authorize page with a single-use state bound to the shop.",
          querystring: z.object({ shop: z.string().min(1).max(255) }).passthrough(),
          response: { 302: z.null().describe("Redirect to Shopify's authorize page") },
        },
      },
      async (request, reply) => {
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
        const result = await deps.install.callback(request.query, request.id)
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
    done()
  }
}
