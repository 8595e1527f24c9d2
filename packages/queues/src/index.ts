/** Job catalog: queues, job names, payload schemas and retry policies. */
export { JOBS, QUEUES, QUEUE_NAMES, RESOURCES, parseJobPayload, jobsOfQueue } from './catalog.ts'
export type { JobName, JobPayload, JobInput, QueueName, Resource } from './catalog.ts'
/** Redis connections for producers and workers, key prefix and health. */
export { createRedis, queuePrefix, pingRedis } from './connection.ts'
/** Typed producer. */
export { createProducer } from './producer.ts'
export type { Producer } from './producer.ts'
