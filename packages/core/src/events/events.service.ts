import { createHash, randomUUID } from 'node:crypto'
import { z } from 'zod'
import { withTenant, type Database, type Tx } from '@xeno/db'
import { ConflictError, ValidationError, type FieldIssue } from '../errors.ts'
import { refreshEventRollups } from '../analytics/analytics.service.ts'
import * as repo from './events.repository.ts'

/** Most events in one POST /api/events. */
export const MAX_EVENTS_PER_BATCH = 500
/** Largest `properties` object, as UTF-8 JSON. */
export const MAX_PROPERTIES_BYTES = 16 * 1024
/** How far in the future occurred_at may be (client clock skew). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000

// Postgres text and jsonb cannot hold U+0000, and jsonb refuses a lone surrogate's \u escape
// (and text would store it as U+FFFD, silently changing the key): refused up front, naming the
// field, instead of failing the INSERT.
const STORABLE = 'must not contain NUL characters or unpaired surrogates'
const storable = (s: string): boolean => !s.includes('\u0000') && s.isWellFormed()
const storableText = (max: number) => z.string().min(1).max(max).refine(storable, STORABLE)

/** Where in a JSON value the first string Postgres cannot store is (keys and values). */
function unstorablePath(value: unknown, path: (string | number)[]): (string | number)[] | null {
  if (typeof value === 'string') return storable(value) ? null : path
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = unstorablePath(v, [...path, i])
      if (p) return p
    }
    return null
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!storable(k)) return [...path, k]
      const p = unstorablePath(v, [...path, k])
      if (p) return p
    }
  }
  return null
}

/** One custom event as clients send it (snake_case JSON). */
export const customEventInput = z.object({
  event_type: z
    .string()
    .regex(/^[a-z0-9_.:-]{1,64}$/, 'must be 1–64 characters of a-z 0-9 _ . : -'),
  occurred_at: z.iso.datetime({ offset: true }),
  customer_id: z
    .union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]{0,18}$/)])
    .nullish(),
  session_id: storableText(128).nullish(),
  properties: z
    .record(z.string(), z.unknown())
    .superRefine((v, ctx) => {
      const at = unstorablePath(v, [])
      if (at) ctx.addIssue({ code: 'custom', path: at, message: STORABLE })
    })
    .optional(),
  idempotency_key: storableText(255).nullish(),
})
export type CustomEventInput = z.infer<typeof customEventInput>

/** A single event, or `{ events: [...] }` with 1–500 of them. */
export const customEventsBody = z.union([
  z.object({ events: z.array(customEventInput).min(1).max(MAX_EVENTS_PER_BATCH) }),
  customEventInput,
])
export type CustomEventsBody = z.infer<typeof customEventsBody>

export type RecordResult = {
  received: number
  stored: number
  duplicates: number
  events: { id: string; idempotency_key: string | null; status: 'stored' | 'duplicate' }[]
}

// Keys sorted at every depth, so the same content always hashes the same.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(value) ?? 'null'
}

function normalise(
  e: CustomEventInput,
  path: string,
  now: number,
  issues: FieldIssue[],
): repo.EventRow {
  const occurred = Date.parse(e.occurred_at)
  if (!Number.isFinite(occurred)) issues.push({ field: `${path}occurred_at`, message: 'invalid' })
  else if (occurred > now + MAX_FUTURE_SKEW_MS)
    issues.push({
      field: `${path}occurred_at`,
      message: 'must not be more than 5 minutes in the future',
    })
  const properties = e.properties ?? {}
  if (Buffer.byteLength(JSON.stringify(properties), 'utf8') > MAX_PROPERTIES_BYTES)
    issues.push({ field: `${path}properties`, message: 'must be at most 16 KB of JSON' })
  const row = {
    eventType: e.event_type,
    occurredAt: Number.isFinite(occurred) ? new Date(occurred).toISOString() : e.occurred_at,
    customerId:
      e.customer_id === null || e.customer_id === undefined ? null : String(e.customer_id),
    sessionId: e.session_id ?? null,
    properties,
    idempotencyKey: e.idempotency_key ?? null,
  }
  const bodyHash = createHash('sha256')
    .update(
      canonical({
        event_type: row.eventType,
        occurred_at: row.occurredAt,
        customer_id: row.customerId,
        session_id: row.sessionId,
        properties: row.properties,
      }),
    )
    .digest('hex')
  return { ...row, bodyHash }
}

/**
 * Stores events in the caller's tenant transaction (the API, or a webhook job recording a
 * Shopify checkout as a `checkout_started` event) and keeps the event rollup current. A repeat
 * of an idempotency key with the same body is a duplicate (not stored again); with another body
 * it is a ConflictError and nothing of the batch is stored.
 */
export async function recordCustomEvents(
  trx: Tx,
  tenantId: string,
  events: CustomEventInput[],
  now: Date = new Date(),
): Promise<RecordResult> {
  const issues: FieldIssue[] = []
  const single = events.length === 1
  const rows = events.map((e, i): repo.EventRow & { id: string } => ({
    ...normalise(e, single ? '' : `events.${i}.`, now.getTime(), issues),
    id: randomUUID(),
  }))
  if (issues.length > 0)
    throw new ValidationError(`invalid ${issues.map((f) => f.field).join(', ')}`, issues)

  // The same key twice in one batch: one event, unless the bodies differ.
  const firstByKey = new Map<string, (typeof rows)[number]>()
  rows.forEach((r, i) => {
    if (r.idempotencyKey === null) return
    const first = firstByKey.get(r.idempotencyKey)
    if (!first) return void firstByKey.set(r.idempotencyKey, r)
    if (first.bodyHash !== r.bodyHash)
      throw new ConflictError(
        `idempotency_key ${JSON.stringify(r.idempotencyKey)} of event ${i} was used with a different body`,
        'IDEMPOTENCY_CONFLICT',
      )
    r.id = first.id
  })
  const unique = rows.filter(
    (r) => r.idempotencyKey === null || firstByKey.get(r.idempotencyKey) === r,
  )
  const stored = await repo.insertEvents(trx, tenantId, unique)
  const skippedKeys = unique
    .filter((r) => !stored.has(r.id) && r.idempotencyKey !== null)
    .map((r) => r.idempotencyKey!)
  const existing = await repo.findByKeys(trx, tenantId, skippedKeys)
  for (const r of unique) {
    if (stored.has(r.id) || r.idempotencyKey === null) continue
    const prior = existing.get(r.idempotencyKey)
    if (prior && prior.bodyHash !== r.bodyHash)
      throw new ConflictError(
        `idempotency_key ${JSON.stringify(r.idempotencyKey)} was used with a different body`,
        'IDEMPOTENCY_CONFLICT',
      )
    if (prior) r.id = prior.id
  }
  for (const r of rows)
    if (r.idempotencyKey !== null) r.id = firstByKey.get(r.idempotencyKey)?.id ?? r.id
  const storedRows = unique.filter((r) => stored.has(r.id))
  if (storedRows.length > 0)
    await refreshEventRollups(
      trx,
      tenantId,
      storedRows.map((r) => new Date(r.occurredAt)),
    )
  return {
    received: rows.length,
    stored: storedRows.length,
    duplicates: rows.length - storedRows.length,
    events: rows.map((r) => ({
      id: r.id,
      idempotency_key: r.idempotencyKey,
      status: stored.has(r.id) && unique.includes(r) ? 'stored' : 'duplicate',
    })),
  }
}

export type EventsDeps = { db: Database; now?: () => Date }

/** POST /api/events: custom events of one tenant, single or batched, idempotent by key. */
export function createEventsService(deps: EventsDeps) {
  const now = deps.now ?? (() => new Date())
  return {
    async record(tenantId: string, body: CustomEventsBody): Promise<RecordResult> {
      const events = 'events' in body ? body.events : [body]
      return withTenant(deps.db, tenantId, (trx) =>
        recordCustomEvents(trx, tenantId, events, now()),
      )
    },
  }
}

export type EventsService = ReturnType<typeof createEventsService>
