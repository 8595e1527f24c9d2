import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { UnauthorizedError, type AdminAuthService } from '@xeno/core'
import { ADMIN_COOKIE, type Authenticator } from '../plugins/auth.ts'
import { authErrors, errorBody } from '../http/schemas.ts'
import { passwordSchema, text, usernameSchema } from './tenants.routes.ts'

const adminJson = z.object({ id: z.string(), username: z.string() })
const credentials = z.object({ username: usernameSchema, password: passwordSchema })

/** /api/admin: first-admin bootstrap, login, logout, me. */
export function adminRoutes(deps: {
  admins: AdminAuthService
  auth: Authenticator
}): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.post(
      '/api/admin/bootstrap',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Create the first admin; refused once one exists. Needs `token` when ADMIN_BOOTSTRAP_TOKEN is set',
          body: credentials.extend({ token: text(512).optional() }),
          response: {
            201: z.object({ data: adminJson }),
            409: errorBody,
            429: errorBody,
            ...authErrors,
          },
        },
        config: { auth: 'public' },
      },
      async (request, reply) => {
        await deps.auth.limitBootstrap(request, request.body.username)
        const admin = await deps.admins.bootstrap(request.body)
        return reply.code(201).send({ data: { id: admin.id, username: admin.username } })
      },
    )

    app.post(
      '/api/admin/login',
      {
        schema: {
          tags: ['admin'],
          summary: 'Open an admin session (HttpOnly cookie xeno_admin)',
          body: credentials,
          response: {
            200: z.object({ data: adminJson.extend({ expires_at: z.string() }) }),
            429: errorBody,
            ...authErrors,
          },
        },
        config: { auth: 'public' },
      },
      async (request, reply) => {
        const { admin, session } = await deps.auth.guardLogin(
          request,
          `admin:${request.body.username}`,
          () => deps.admins.login(request.body),
        )
        // A new token on every login; the session the browser held before ends now.
        const previous = deps.auth.sessionToken(request, ADMIN_COOKIE)
        if (previous) await deps.admins.logout(previous)
        deps.auth.setSessionCookie(reply, ADMIN_COOKIE, session.token, session.expiresAt)
        return { data: { ...admin, expires_at: session.expiresAt.toISOString() } }
      },
    )

    app.post(
      '/api/admin/logout',
      {
        schema: {
          tags: ['admin'],
          summary: 'End the admin session (send a JSON body, e.g. {})',
          response: {
            200: z.object({ data: z.object({ logged_out: z.boolean() }) }),
            ...authErrors,
          },
        },
        config: { auth: 'admin' },
      },
      async (request, reply) => {
        const token = deps.auth.sessionToken(request, ADMIN_COOKIE)
        if (token) await deps.admins.logout(token)
        deps.auth.clearSessionCookie(reply, ADMIN_COOKIE)
        return { data: { logged_out: true } }
      },
    )

    app.get(
      '/api/admin/me',
      {
        schema: {
          tags: ['admin'],
          summary: 'The signed-in admin',
          response: {
            200: z.object({ data: adminJson.extend({ created_at: z.string() }) }),
            ...authErrors,
          },
        },
        config: { auth: 'admin' },
      },
      async (request) => {
        const p = request.principal
        const admin = p?.kind === 'admin' ? await deps.admins.me(p.adminId) : undefined
        if (!admin) throw new UnauthorizedError('admin session required')
        return {
          data: {
            id: admin.id,
            username: admin.username,
            created_at: admin.createdAt.toISOString(),
          },
        }
      },
    )
    done()
  }
}
