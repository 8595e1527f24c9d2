// Bull Board at /admin/queues: every queue of the catalog, admin sessions only, read-only on
// request (BULL_BOARD_READ_ONLY). Its routes are Bull Board's own; an onRoute hook scoped to them
// gives each `config.auth: 'admin'` (the auth plugin then rejects anyone else) and lists only the
// board's page in the OpenAPI document, under the `queues` tag.
import type { FastifyInstance } from 'fastify'
import type { Queue } from 'bullmq'
import { z } from 'zod'
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

  await app.register(async (scope) => {
    scope.addHook('onRequest', (request, _reply, done) => {
      if (marked.has(request)) delete request.headers['content-type']
      done()
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
