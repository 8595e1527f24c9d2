import { z } from 'zod'

const uuid = z.uuid()
/** Resources a sync job can target (DESIGN.md §4). */
export const RESOURCES = ['shop', 'customers', 'products', 'orders'] as const
export type Resource = (typeof RESOURCES)[number]

/** Queue names. Workers take a subset with --queues. */
export const QUEUES = {
  sync: 'sync',
  webhooks: 'webhooks',
  maintenance: 'maintenance',
} as const
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]
export const QUEUE_NAMES = Object.values(QUEUES) as QueueName[]

const requestId = z.string().max(128).optional()

/**
 * Every job, named once: its queue, payload schema and retry policy. Payloads carry ids only,
 * never secrets (job data sits in Redis in clear text).
 */
export const JOBS = {
  'sync-resource': {
    queue: QUEUES.sync,
    payload: z.object({
      tenantId: uuid,
      resource: z.enum(RESOURCES),
      mode: z.enum(['incremental', 'full', 'reconcile']),
      requestId,
    }),
    attempts: 8,
    backoff: { type: 'exponential', delay: 5_000 },
  },
  /** Fans out to one sync-resource job per resource (schedules and the ingest trigger). */
  'sync-tenant': {
    queue: QUEUES.sync,
    payload: z.object({
      tenantId: uuid,
      mode: z.enum(['incremental', 'full', 'reconcile']),
      resources: z.array(z.enum(RESOURCES)).min(1).optional(),
      requestId,
    }),
    attempts: 3,
    backoff: { type: 'exponential', delay: 2_000 },
  },
  'process-webhook': {
    queue: QUEUES.webhooks,
    payload: z.object({ tenantId: uuid, receiptId: uuid, requestId }),
    attempts: 10,
    backoff: { type: 'exponential', delay: 2_000 },
  },
  'sweep-webhook-receipts': {
    queue: QUEUES.maintenance,
    payload: z.object({ olderThanMs: z.number().int().min(0).default(30_000) }),
    attempts: 1,
    backoff: { type: 'fixed', delay: 1_000 },
  },
} as const

export type JobName = keyof typeof JOBS
export type JobPayload<N extends JobName> = z.output<(typeof JOBS)[N]['payload']>
export type JobInput<N extends JobName> = z.input<(typeof JOBS)[N]['payload']>

/** Validates a payload for job `name`; throws a ZodError naming the bad field. */
export function parseJobPayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return JOBS[name].payload.parse(data) as JobPayload<N>
}

/** Job names that run on a queue. */
export function jobsOfQueue(queue: QueueName): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((n) => JOBS[n].queue === queue)
}
