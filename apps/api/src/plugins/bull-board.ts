// Bull Board at /admin/queues: every queue of the catalog, admin sessions only, read-only on
// request (BULL_BOARD_READ_ONLY). Its routes are Bull Board's own; an onRoute hook scoped to them
// gives each `config.auth: 'admin'` (the auth plugin then rejects anyone else) and lists only the
// board's page in the OpenAPI document, under the `queues` tag.
import type { FastifyInstance } from 'fastify'
import type { Queue } from 'bullmq'
import { z } from 'zod'
import { ADMIN_LOGIN_PATH, adminLoginRoutes } from './admin-login.ts'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
} from '@xeno/core'

export const BULL_BOARD_PREFIX = '/admin/queues'

export type BullBoardDeps = {
  /** Every queue to show (the producer's `allQueues()`: the whole catalog). */
  queues: Queue[]
  /** BULL_BOARD_READ_ONLY: no retry, clean, pause, add or delete from the board. */
  readOnly?: boolean
}

function statusOf(err: AppError): number {
  if (err instanceof ValidationError) return 400
  if (err instanceof UnauthorizedError) return 401
  if (err instanceof ForbiddenError) return 403
  if (err instanceof NotFoundError) return 404
  if (err instanceof RateLimitedError) return 429
  return 400
}

// Bull Board's UI sends its actions (pause, retry, clean …) as bodiless PUTs without a
// content-type, which the auth plugin's CSRF rule refuses ("state-changing requests must send a
// JSON body"). For those requests only, a hook that runs before the auth plugin's marks them
// JSON, so the rest of the CSRF check (same origin: Origin = APP_URL or Sec-Fetch-Site) still
// decides; a hook in the board's scope removes the mark again before Fastify parses the body.
const BOARD_ACTION = new RegExp(`^${BULL_BOARD_PREFIX}/api/`)
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const marked = new WeakSet<object>()

/** Call before the auth plugin registers (its onRequest hook must run after this one). */
export function allowBodilessBoardActions(app: FastifyInstance) {
  app.addHook('onRequest', (request, _reply, done) => {
    const h = request.headers
    if (
      STATE_CHANGING.has(request.method) &&
      BOARD_ACTION.test(request.url) &&
      h['content-type'] === undefined &&
      h['transfer-encoding'] === undefined &&
      (h['content-length'] === undefined || h['content-length'] === '0')
    ) {
      h['content-type'] = 'application/json'
      marked.add(request)
    }
    done()
  })
}

// The board's JSON API and static assets (not pages a person opens).
const BOARD_INTERNAL = new RegExp(`^${BULL_BOARD_PREFIX}/(api|static)/`)

/**
 * Bull Board's page, less what would leave the origin or break the CSP: its Google Fonts link
 * (the UI falls back to the system font stack) and the loading placeholder's inline styles (the
 * app replaces the placeholder as soon as it starts).
 */
function withoutOutsideAssets(html: string): string {
  return html
    .replace(/<link[^>]+fonts\.(googleapis|gstatic)\.com[^>]*>/g, '')
    .replace(/<div id="root">[\s\S]*?<\/div>\s*(?=<script)/, '<div id="root"></div>\n')
}

/** An error body of Bull Board's as `{ error: { code, message } }` (ours pass unchanged). */
function inEnvelope(payload: string, status: number): string {
  let body: unknown
  try {
    body = JSON.parse(payload)
  } catch {
    body = undefined
  }
  const error = (body as { error?: unknown } | undefined)?.error
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) return payload
  const fields = error && typeof error === 'object' ? (error as Record<string, unknown>) : {}
  const first = [error, fields.message, fields.key].find((v) => typeof v === 'string')
  const detail = typeof first === 'string' ? first : ''
  const code =
    status === 404
      ? 'NOT_FOUND'
      : status === 405
        ? 'METHOD_NOT_ALLOWED'
        : status >= 500
          ? 'INTERNAL_ERROR'
          : 'BAD_REQUEST'
  const message =
    status >= 500
      ? 'internal error'
      : detail
          .replace(/^ERRORS\./, '')
          .toLowerCase()
          .replaceAll('_', ' ') || code.toLowerCase()
  return JSON.stringify({ error: { code, message } })
}

/** Registers the board under /admin/queues; call after the auth plugin. */
export async function registerBullBoard(app: FastifyInstance, deps: BullBoardDeps) {
  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(BULL_BOARD_PREFIX)
  const readOnlyMode = deps.readOnly ?? false
  createBullBoard({
    queues: deps.queues.map(
      (q) => new BullMQAdapter(q, { readOnlyMode, allowRetries: !readOnlyMode }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Xeno queues' } },
  })
  // Bull Board answers errors from its own scope; ours (401 from the auth hook) keep our envelope.
  type Answer = ReturnType<Parameters<FastifyAdapter['setErrorHandler']>[0]>
  serverAdapter.setErrorHandler((err: Error & { statusCode?: number }): Answer => {
    if (err instanceof AppError)
      return {
        status: statusOf(err) as Answer['status'],
        body: { error: { code: err.code, message: err.message } },
      }
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500
    return {
      status: status as Answer['status'],
      body: {
        error: {
          code: status === 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST',
          message: status === 500 ? 'internal error' : err.message.slice(0, 200),
        },
      },
    }
  })

  await app.register(adminLoginRoutes({ fallback: BULL_BOARD_PREFIX }))
  await app.register(async (scope) => {
    scope.addHook('onRequest', (request, _reply, done) => {
      if (marked.has(request)) delete request.headers['content-type']
      done()
    })
    scope.addHook('onSend', async (request, reply, payload) => {
      const path = request.url.split('?')[0] ?? ''
      const page = request.method === 'GET' && !BOARD_INTERNAL.test(path)
      // A person opening the board without a (valid) session: to the sign-in page and back.
      if (page && reply.statusCode === 401) {
        void reply
          .code(302)
          .header('location', `${ADMIN_LOGIN_PATH}?next=${encodeURIComponent(request.url)}`)
          .header('content-type', 'text/plain; charset=utf-8')
        return ''
      }
      if (typeof payload !== 'string') return payload
      const type = String(reply.getHeader('content-type') ?? '')
      if (type.startsWith('text/html')) return withoutOutsideAssets(payload)
      // Bull Board's own errors ({"error":{"key":…}} and the like) in Xeno's envelope.
      if (reply.statusCode >= 400 && type.startsWith('application/json'))
        return inEnvelope(payload, reply.statusCode)
      return payload
    })
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'admin' }
      // Only the board's page is in the OpenAPI document: its JSON API and static assets are
      // Bull Board's internals, not Xeno's API.
      const page = route.url === BULL_BOARD_PREFIX && route.method === 'GET'
      route.schema = {
        ...route.schema,
        hide: !page,
        tags: ['queues'],
        summary: 'Bull Board (HTML page)',
        ...(page
          ? {
              response: {
                200: {
                  description: 'The Bull Board single-page app',
                  content: { 'text/html': { schema: z.string() } },
                },
                302: z.null().describe('No (valid) admin session: to /admin/login?next=…'),
              },
            }
          : {}),
      }
    })
    await scope.register(serverAdapter.registerPlugin(), {
      prefix: BULL_BOARD_PREFIX,
    })
  })
}
