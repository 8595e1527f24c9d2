import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  ForbiddenError,
  ValidationError,
  type ApiKeyService,
  type TenantRow,
  type TenantService,
  type TenantUserService,
} from '@xeno/core'
import { WRONG_CURRENT_PASSWORD, type Authenticator } from '../plugins/auth.ts'
import { authErrors, errorBody } from '../http/schemas.ts'

// Shared request/response pieces of the identity and tenancy routes.

const noNul = (s: string) => !s.includes('\0')
/** A string of 1..max characters without NUL bytes. */
export const text = (max: number, min = 1) =>
  z.string().min(min).max(max).refine(noNul, 'must not contain NUL bytes')
/** Usernames: no ':' (HTTP Basic splits on it), no spaces or control characters. */
export const usernameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@+-]+$/, 'letters, digits and . _ @ + - only')
/** Passwords: 10..256 characters, no NUL bytes. */
export const passwordSchema = text(256, 10)
export const idSchema = z.guid()
export const roleSchema = z.enum(['owner', 'viewer'])

const iso = (d: Date | null) => (d ? d.toISOString() : null)

export const tenantJson = z.object({
  id: z.string(),
  shop_domain: z.string(),
  status: z.string(),
  shop_name: z.string().nullable(),
  iana_timezone: z.string(),
  currency: z.string(),
  plan: z.string().nullable(),
  installed_at: z.string().nullable(),
  created_at: z.string(),
})
export function tenantOut(t: TenantRow): z.infer<typeof tenantJson> {
  return {
    id: t.id,
    shop_domain: t.shopDomain,
    status: t.status,
    shop_name: t.shopName,
    iana_timezone: t.ianaTimezone,
    currency: t.currency,
    plan: t.plan,
    installed_at: iso(t.installedAt),
    created_at: t.createdAt.toISOString(),
  }
}

const userJson = z.object({
  id: z.string(),
  username: z.string(),
  role: roleSchema,
  created_at: z.string(),
  password_changed_at: z.string(),
})
type UserRow = {
  id: string
  username: string
  role: string
  createdAt: Date
  passwordChangedAt: Date
}
const userOut = (u: UserRow): z.infer<typeof userJson> => ({
  id: u.id,
  username: u.username,
  role: u.role === 'owner' ? 'owner' : 'viewer',
  created_at: u.createdAt.toISOString(),
  password_changed_at: u.passwordChangedAt.toISOString(),
})

const apiKeyJson = z.object({
  id: z.string(),
  prefix: z.string(),
  label: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
})
type ApiKeyRow = {
  id: string
  prefix: string
  label: string
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}
const apiKeyOut = (k: ApiKeyRow): z.infer<typeof apiKeyJson> => ({
  id: k.id,
  prefix: k.prefix,
  label: k.label,
  created_at: k.createdAt.toISOString(),
  last_used_at: iso(k.lastUsedAt),
  revoked_at: iso(k.revokedAt),
})

const tenantParams = z.object({ id: idSchema })

export type TenantsRoutesDeps = {
  tenants: TenantService
  tenantUsers: TenantUserService
  apiKeys: ApiKeyService
  auth: Authenticator
}

/** /api/tenants: tenant management (admins) and each tenant's users and API keys. */
export function tenantsRoutes(deps: TenantsRoutesDeps): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.post(
      '/api/tenants',
      {
        schema: {
          tags: ['tenants'],
          summary: 'Create a tenant for a shop (a store name or *.myshopify.com domain)',
          body: z.object({ shop_domain: text(255) }),
          response: { 201: z.object({ data: tenantJson }), 409: errorBody, ...authErrors },
        },
        config: { auth: 'admin' },
      },
      async (request, reply) => {
        const tenant = await deps.tenants.create({ shopDomain: request.body.shop_domain })
        return reply.code(201).send({ data: tenantOut(tenant) })
      },
    )

    app.get(
      '/api/tenants',
      {
        schema: {
          tags: ['tenants'],
          summary: 'List tenants, ordered by id; pass page.next_cursor as cursor for more',
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(100).default(50),
            cursor: idSchema.optional(),
          }),
          response: {
            200: z.object({
              data: z.array(tenantJson),
              page: z.object({ next_cursor: z.string().nullable() }),
            }),
            ...authErrors,
          },
        },
        config: { auth: 'admin' },
      },
      async (request) => {
        const page = await deps.tenants.list({
          limit: request.query.limit,
          cursor: request.query.cursor,
        })
        return { data: page.items.map(tenantOut), page: { next_cursor: page.nextCursor } }
      },
    )

    app.get(
      '/api/tenants/:id',
      {
        schema: {
          tags: ['tenants'],
          summary: 'One tenant',
          params: tenantParams,
          response: { 200: z.object({ data: tenantJson }), ...authErrors },
        },
        config: { auth: 'tenant' },
      },
      async (request) => ({ data: tenantOut(await deps.tenants.get(request.params.id)) }),
    )

    app.post(
      '/api/tenants/:id/users',
      {
        schema: {
          tags: ['tenants'],
          summary: 'Create a user of the tenant (owner or viewer)',
          params: tenantParams,
          body: z.object({
            username: usernameSchema,
            password: passwordSchema,
            role: roleSchema.default('viewer'),
          }),
          response: { 201: z.object({ data: userJson }), 409: errorBody, ...authErrors },
        },
        config: { auth: 'tenant', role: 'owner' },
      },
      async (request, reply) => {
        const user = await deps.tenantUsers.create(request.params.id, request.body)
        return reply.code(201).send({ data: userOut(user) })
      },
    )

    app.get(
      '/api/tenants/:id/users',
      {
        schema: {
          tags: ['tenants'],
          summary: "The tenant's users",
          params: tenantParams,
          response: { 200: z.object({ data: z.array(userJson) }), ...authErrors },
        },
        config: { auth: 'tenant', role: 'owner' },
      },
      async (request) => ({
        data: (await deps.tenantUsers.list(request.params.id)).map(userOut),
      }),
    )

    app.patch(
      '/api/tenants/:id/users/:userId',
      {
        schema: {
          tags: ['tenants'],
          summary:
            "Change a user's password or role (owners: anyone; a user: their own password). A new password ends the user's sessions",
          description: `Changing one's own password needs \`current_password\` (a stolen session
must not become a permanent takeover): missing is a 400, wrong a 403 \`CURRENT_PASSWORD_INVALID\`,
and wrong attempts are slowed per (account, address) like logins (429 with Retry-After). An owner
or admin resetting another user's password does not give it.`,
          params: z.object({ id: idSchema, userId: idSchema }),
          body: z
            .object({
              password: passwordSchema.optional(),
              current_password: z
                .string()
                .max(256)
                .optional()
                .describe("the caller's current password: required to change one's own"),
              role: roleSchema.optional(),
            })
            .refine((b) => b.password !== undefined || b.role !== undefined, {
              message: 'give password or role',
              path: ['password'],
            }),
          response: { 200: z.object({ data: userJson }), ...authErrors },
        },
        config: { auth: 'tenant' },
      },
      async (request) => {
        const p = request.principal
        const isOwner = p?.kind === 'admin' || (p?.kind === 'tenant-user' && p.role === 'owner')
        const isSelf = p?.kind === 'tenant-user' && p.userId === request.params.userId
        if (!isOwner && !(isSelf && request.body.role === undefined))
          throw new ForbiddenError('the owner role is required', 'OWNER_REQUIRED')
        if (isSelf && request.body.password !== undefined) {
          const current = request.body.current_password
          if (current === undefined)
            throw new ValidationError('invalid body.current_password', [
              {
                field: 'body.current_password',
                message: 'is required to change your own password',
              },
            ])
          await deps.auth.guardPassword(request, `user:${request.params.userId}`, async () => {
            if (
              !(await deps.tenantUsers.verifyPassword(
                request.params.id,
                request.params.userId,
                current,
              ))
            )
              throw new ForbiddenError('the current password is wrong', WRONG_CURRENT_PASSWORD)
          })
        }
        const user = await deps.tenantUsers.update(request.params.id, request.params.userId, {
          password: request.body.password,
          role: request.body.role,
        })
        return { data: userOut(user) }
      },
    )

    app.post(
      '/api/tenants/:id/api-keys',
      {
        schema: {
          tags: ['tenants'],
          summary: 'Create an API key; the key is in this response only',
          params: tenantParams,
          body: z.object({ label: text(100, 0).default('') }),
          response: {
            201: z.object({ data: apiKeyJson.extend({ key: z.string() }) }),
            ...authErrors,
          },
        },
        config: { auth: 'tenant', role: 'owner' },
      },
      async (request, reply) => {
        const k = await deps.apiKeys.create(request.params.id, request.body.label)
        return reply.code(201).send({ data: { ...apiKeyOut(k), key: k.key } })
      },
    )

    app.get(
      '/api/tenants/:id/api-keys',
      {
        schema: {
          tags: ['tenants'],
          summary: "The tenant's API keys (never the keys themselves)",
          params: tenantParams,
          response: { 200: z.object({ data: z.array(apiKeyJson) }), ...authErrors },
        },
        config: { auth: 'tenant', role: 'owner' },
      },
      async (request) => ({
        data: (await deps.apiKeys.list(request.params.id)).map(apiKeyOut),
      }),
    )

    app.delete(
      '/api/tenants/:id/api-keys/:keyId',
      {
        schema: {
          tags: ['tenants'],
          summary: 'Revoke an API key (effective on the next request)',
          params: z.object({ id: idSchema, keyId: idSchema }),
          response: { 200: z.object({ data: apiKeyJson }), ...authErrors },
        },
        config: { auth: 'tenant', role: 'owner' },
      },
      async (request) => ({
        data: apiKeyOut(await deps.apiKeys.revoke(request.params.id, request.params.keyId)),
      }),
    )
    done()
  }
}
