/** Job catalog: queues, job names, payload schemas and retry policies. */
export {
  JOBS,
  QUEUES,
  QUEUE_NAMES,
  RESOURCES,
  parseJobPayload,
  jobsOfQueue,
  physicalQueueNames,
  physicalQueueOf,
  webhookQueueName,
  webhookShardOf,
} from './catalog.ts'
export type { JobName, JobPayload, JobInput, QueueName, Resource } from './catalog.ts'
/** Redis connections (one server or a cluster) for producers and workers, key prefixes, health. */
export { createRedis, isCluster, queueKeyPrefix, queuePrefix, pingRedis } from './connection.ts'
export type { RedisConnection, RedisRole } from './connection.ts'
/** Typed producer. */
export { createProducer } from './producer.ts'
export type { Producer } from './producer.ts'
