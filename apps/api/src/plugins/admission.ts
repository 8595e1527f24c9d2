import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import { ExternalServiceError, RateLimitedError } from '@xeno/core'

/**
 * Admission control for the routes that hold a database connection for long (analytics) or
 * write in volume (custom events, the ingest trigger): how many of them run at once per
 * credential, per tenant and in the whole process, and how long a request may wait for a turn.
 */
export type AdmissionLimits = {
  /** Requests of one credential (an API key, a user, an admin) running at once. */
  perCredential: number
  /** Requests of one tenant running at once, whatever the credential. */
  perTenant: number
  /**
   * Admitted requests running at once in this process. Keep it below the pool size so that
   * authentication and every other route always find a connection.
   */
  total: number
  /** Requests that may wait for a turn, per credential and per tenant; beyond: 429 at once. */
  queue: number
  /** Longest wait for a turn, in ms; then 429 (the caller's share) or 503 (the process). */
  maxWaitMs: number
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  perCredential: 3,
  perTenant: 4,
  total: 8,
  queue: 32,
  maxWaitMs: 2_000,
}

/** Seconds a refused caller is told to wait: a turn frees up within a request's duration. */
const RETRY_AFTER_SECONDS = 1

type Waiter = { grant: () => void; timer: NodeJS.Timeout }

/** A counting semaphore with a bounded, time-limited FIFO of waiters. */
class Slots {
  active = 0
  readonly waiting: Waiter[] = []
  readonly limit: number
  readonly queue: number
  constructor(limit: number, queue: number) {
    this.limit = limit
    this.queue = queue
  }

  /** Resolves true once a slot is held, false when the queue is full or the deadline passes. */
  take(waitMs: number): Promise<boolean> {
    if (this.active < this.limit && this.waiting.length === 0) {
      this.active++
      return Promise.resolve(true)
    }
    if (this.waiting.length >= this.queue || waitMs <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer)
          resolve(true)
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter)
          if (i >= 0) this.waiting.splice(i, 1)
          resolve(false)
        }, waitMs),
      }
      this.waiting.push(waiter)
    })
  }

  /** Hands the slot to the oldest waiter, or frees it. */
  give() {
    const next = this.waiting.shift()
    if (next) next.grant()
    else this.active--
  }

  get idle() {
    return this.active === 0 && this.waiting.length === 0
  }
}

/** Slots per key (a tenant, a credential), dropped when idle so the map stays small. */
function keyedSlots(limit: number, queue: number) {
  const byKey = new Map<string, Slots>()
  return {
    async take(key: string, waitMs: number): Promise<boolean> {
      let s = byKey.get(key)
      if (!s) byKey.set(key, (s = new Slots(limit, queue)))
      const ok = await s.take(waitMs)
      if (!ok && s.idle) byKey.delete(key)
      return ok
    },
    give(key: string) {
      const s = byKey.get(key)
      if (!s) return
      s.give()
      if (s.idle) byKey.delete(key)
    },
    size: () => byKey.size,
  }
}

export type AdmissionGate = ReturnType<typeof createAdmissionGate>

/**
 * The three-level gate: a request takes a credential slot, then a tenant slot, then a process
 * slot, all within one deadline. A full credential or tenant share is the caller's own load:
 * 429. No process slot in time means the whole API is saturated: 503. Both carry Retry-After.
 */
export function createAdmissionGate(limits: AdmissionLimits, now = () => Date.now()) {
  const credentials = keyedSlots(limits.perCredential, limits.queue)
  const tenants = keyedSlots(limits.perTenant, limits.queue)
  // Waiters here each hold a tenant slot, so their number is bounded by the tenant limits.
  const total = new Slots(limits.total, Number.POSITIVE_INFINITY)

  return {
    /** Holds a turn for `tenant`/`credential`; resolves to the release function, or throws. */
    async admit(tenant: string, credential: string): Promise<() => void> {
      const deadline = now() + limits.maxWaitMs
      const left = () => deadline - now()
      if (!(await credentials.take(credential, left())))
        throw new RateLimitedError(
          RETRY_AFTER_SECONDS,
          'too many concurrent requests for this credential',
        )
      if (!(await tenants.take(tenant, left()))) {
        credentials.give(credential)
        throw new RateLimitedError(
          RETRY_AFTER_SECONDS,
          'too many concurrent requests for this tenant',
        )
      }
      if (!(await total.take(left()))) {
        tenants.give(tenant)
        credentials.give(credential)
        throw new ServerBusyError(RETRY_AFTER_SECONDS)
      }
      let released = false
      return () => {
        if (released) return
        released = true
        total.give()
        tenants.give(tenant)
        credentials.give(credential)
      }
    },
    /** For tests and metrics: what is running and waiting now. */
    stats: () => ({
      running: total.active,
      waiting: total.waiting.length,
      tenants: tenants.size(),
      credentials: credentials.size(),
    }),
  }
}

/** 503 with Retry-After: the process (not the caller) has no capacity left in time. */
export class ServerBusyError extends ExternalServiceError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number, message = 'the server is busy; retry shortly') {
    super('api', message, 'SERVER_BUSY')
    this.name = 'ServerBusyError'
    this.retryAfterSeconds = retryAfterSeconds
  }
}

function who(request: FastifyRequest): { tenant: string; credential: string } | undefined {
  const p = request.principal
  if (!p) return undefined
  if (p.kind === 'admin') {
    const id = (request.params as Record<string, string | undefined> | undefined)?.id
    return { tenant: id?.toLowerCase() ?? 'admin', credential: `admin:${p.adminId}` }
  }
  const credential = p.kind === 'api-key' ? `key:${p.keyId}` : `user:${p.userId}`
  return { tenant: p.tenantId, credential }
}

/**
 * Wraps the handler of every route declaring `config.admission` in the gate. The handler (not
 * the response) bounds the turn: the database work is over when it returns. Must be called
 * before the routes are registered (it is an onRoute hook).
 */
export function registerAdmission(app: FastifyInstance, gate: AdmissionGate) {
  app.addHook('onRoute', (route: RouteOptions) => {
    const kind = route.config?.admission
    if (!kind) return
    const handler = route.handler
    route.handler = async function admitted(request, reply) {
      const caller = who(request)
      // The auth hook ran already; a route without a principal is refused there.
      if (!caller) return handler.call(this, request, reply)
      // Analytics and ingest have separate shares: an events burst leaves dashboards alone.
      const release = await gate.admit(`${kind}:${caller.tenant}`, `${kind}:${caller.credential}`)
      try {
        return await handler.call(this, request, reply)
      } finally {
        release()
      }
    }
  })
}
