import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { normalizeShopDomain } from '@xeno/shopify'
import {
  NotFoundError,
  ValidationError,
  type TenantService,
  type TenantUserService,
} from '@xeno/core'
import type { Principal } from '../app.ts'
import { TENANT_COOKIE, type Authenticator } from '../plugins/auth.ts'
import { authErrors, errorBody } from '../http/schemas.ts'
import {
  idSchema,
  passwordSchema,
  roleSchema,
  tenantJson,
  tenantOut,
  text,
  usernameSchema,
} from './tenants.routes.ts'

/** The tenant a /api/tenant/... request acts for: the caller's own, or `tenant_id` for admins. */
function tenantIdOf(principal: Principal | undefined, explicit?: string): string {
  if (principal?.kind === 'tenant-user' || principal?.kind === 'api-key') {
    if (explicit !== undefined && explicit !== principal.tenantId)
      throw new NotFoundError('tenant not found')
    return principal.tenantId
  }
  if (explicit === undefined)
    throw new ValidationError('invalid body.tenant_id', [
      { field: 'body.tenant_id', message: 'admins must name the tenant' },
    ])
  return explicit
}

const badShop = () =>
  new ValidationError('invalid query.shop', [
    { field: 'query.shop', message: 'must be a store name or a *.myshopify.com domain' },
  ])

/** /api/tenant: a tenant user's own session, profile, manual token, and shop lookup. */
export function tenantRoutes(deps: {
  tenants: TenantService
  tenantUsers: TenantUserService
  auth: Authenticator
}): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.post(
      '/api/tenant/login',
      {
        schema: {
          tags: ['tenant'],
          summary:
            'Open a tenant session (HttpOnly cookie xeno_session) with shop, username and password',
          body: z.object({ shop: text(255), username: usernameSchema, password: passwordSchema }),
          response: {
            200: z.object({
              data: z.object({
                tenant_id: z.string(),
                user_id: z.string(),
                username: z.string(),
                role: roleSchema,
                expires_at: z.string(),
              }),
            }),
            429: errorBody,
            ...authErrors,
          },
        },
        config: { auth: 'public' },
      },
      async (request, reply) => {
        const shop = normalizeShopDomain(request.body.shop) ?? request.body.shop.toLowerCase()
        const { user, session } = await deps.auth.guardLogin(
          request,
          `tenant:${shop}:${request.body.username}`,
          () => deps.tenantUsers.login(request.body),
        )
        // A new token on every login; the session the browser held before ends now.
        const previous = deps.auth.sessionToken(request, TENANT_COOKIE)
        if (previous) {
          const old = await deps.tenantUsers.authenticateSession(previous)
          if (old) await deps.tenantUsers.logout(old.tenantId, old.sessionId)
        }
        deps.auth.setSessionCookie(reply, TENANT_COOKIE, session.token, session.expiresAt)
        return {
          data: {
            tenant_id: user.tenantId,
            user_id: user.userId,
            username: user.username,
            role: user.role,
            expires_at: session.expiresAt.toISOString(),
          },
        }
      },
    )

    app.post(
      '/api/tenant/logout',
      {
        schema: {
          tags: ['tenant'],
          summary: 'End the tenant session (send a JSON body, e.g. {})',
          response: {
            200: z.object({ data: z.object({ logged_out: z.boolean() }) }),
            ...authErrors,
          },
        },
        config: { auth: 'tenant' },
      },
      async (request, reply) => {
        const token = deps.auth.sessionToken(request, TENANT_COOKIE)
        const session = token ? await deps.tenantUsers.authenticateSession(token) : null
        if (session) await deps.tenantUsers.logout(session.tenantId, session.sessionId)
        deps.auth.clearSessionCookie(reply, TENANT_COOKIE)
        return { data: { logged_out: session !== null } }
      },
    )

    app.get(
      '/api/tenant/me',
      {
        schema: {
          tags: ['tenant'],
          summary: 'The calling tenant user (session) or API key, and its tenant',
          response: {
            200: z.object({
              data: z.object({
                tenant: tenantJson,
                user: z
                  .object({ id: z.string(), username: z.string(), role: roleSchema })
                  .nullable(),
                api_key_id: z.string().nullable(),
              }),
            }),
            ...authErrors,
          },
        },
        config: { auth: 'tenant' },
      },
      async (request) => {
        const p = request.principal
        if (p?.kind !== 'tenant-user' && p?.kind !== 'api-key')
          throw new NotFoundError('no tenant: admins use /api/admin/me')
        const tenant = await deps.tenants.get(p.tenantId)
        const user =
          p.kind === 'tenant-user' ? await deps.tenantUsers.get(p.tenantId, p.userId) : null
        return {
          data: {
            tenant: tenantOut(tenant),
            user: user
              ? {
                  id: user.id,
                  username: user.username,
                  role: user.role === 'owner' ? ('owner' as const) : ('viewer' as const),
                }
              : null,
            api_key_id: p.kind === 'api-key' ? p.keyId : null,
          },
        }
      },
    )

    app.post(
      '/api/tenant/set-token',
      {
        schema: {
          tags: ['tenant'],
          summary:
            'Store a manual Admin API token: checked with a `shop` query against Shopify, stored encrypted, tenant marked active',
          body: z.object({
            access_token: z
              .string()
              .min(1)
              .max(255)
              .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
            tenant_id: idSchema.optional(),
          }),
          response: {
            200: z.object({ data: tenantJson }),
            503: errorBody,
            ...authErrors,
          },
        },
        config: { auth: 'tenant', role: 'owner' },
      },
      async (request) => {
        const tenantId = tenantIdOf(request.principal, request.body.tenant_id)
        const tenant = await deps.tenants.setManualToken(tenantId, request.body.access_token)
        return { data: tenantOut(tenant) }
      },
    )

    app.get(
      '/api/tenant/lookup',
      {
        schema: {
          tags: ['tenant'],
          summary:
            'Normalise a shop; the tenant id and status only for an admin or a user of that shop (anonymous callers learn nothing)',
          querystring: z.object({ shop: text(255) }),
          response: {
            200: z.object({
              data: z.object({
                shop_domain: z.string(),
                tenant: z.object({ id: z.string(), status: z.string() }).nullable().optional(),
              }),
            }),
            400: errorBody,
          },
        },
        config: { auth: 'public' },
      },
      async (request) => {
        const shopDomain = normalizeShopDomain(request.query.shop)
        if (!shopDomain) throw badShop()
        const principal = await deps.auth.optionalSession(request)
        if (!principal) return { data: { shop_domain: shopDomain } }
        const tenant = await deps.tenants.findByShop(shopDomain)
        const visible =
          tenant &&
          (principal.kind === 'admin' ||
            (principal.kind === 'tenant-user' && principal.tenantId === tenant.id))
        return {
          data: {
            shop_domain: shopDomain,
            tenant: visible ? { id: tenant.id, status: tenant.status } : null,
          },
        }
      },
    )
    done()
  }
}
