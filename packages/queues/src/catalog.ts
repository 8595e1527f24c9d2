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
  // Expired OAuth install states, deleted in the background rather than on each install.
  'sweep-oauth-states': {
    queue: QUEUES.maintenance,
    payload: z.object({}),
    attempts: 1,
    backoff: { type: 'fixed', delay: 1_000 },
  },
  /** Retention of the inbox: deletes processed receipts older than the retention, in batches. */
  'prune-webhook-receipts': {
    queue: QUEUES.maintenance,
    payload: z.object({
      retentionDays: z.number().int().min(3).max(3650),
      batchSize: z.number().int().min(1).max(10_000).default(1000),
    }),
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

/**
 * The BullMQ queue of webhook shard `shard`. Shard 0 keeps the name `webhooks`, so one shard (the
 * default) is today's queue and raising WEBHOOK_QUEUE_SHARDS leaves queued jobs where they are.
 */
export function webhookQueueName(shard: number): string {
  return shard === 0 ? QUEUES.webhooks : `${QUEUES.webhooks}-${shard}`
}

/**
 * The webhook shard of a tenant: FNV-1a of its id, modulo the shard count. Stable across processes
 * and restarts, so one tenant's webhooks stay in one queue (in order of arrival) while tenants
 * spread over the shards (and a cluster's masters).
 */
export function webhookShardOf(tenantId: string, shards: number): number {
  if (shards <= 1) return 0
  let h = 0x811c9dc5
  for (let i = 0; i < tenantId.length; i++) {
    h ^= tenantId.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % shards
}

/** The BullMQ queues behind a catalog queue: the webhook shards, or the queue itself. */
export function physicalQueueNames(queue: QueueName, webhookShards: number): string[] {
  if (queue !== QUEUES.webhooks) return [queue]
  return Array.from({ length: Math.max(1, webhookShards) }, (_, i) => webhookQueueName(i))
}

/** The BullMQ queue a job goes to: its catalog queue, or for a webhook its tenant's shard. */
export function physicalQueueOf(name: JobName, payload: unknown, webhookShards: number): string {
  const queue = JOBS[name].queue
  if (queue !== QUEUES.webhooks) return queue
  const tenantId = (payload as { tenantId?: unknown } | undefined)?.tenantId
  return webhookQueueName(
    webhookShardOf(typeof tenantId === 'string' ? tenantId : '', webhookShards),
  )
}
