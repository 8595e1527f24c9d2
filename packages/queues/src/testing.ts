import { randomBytes } from 'node:crypto'

/** A unique BullMQ prefix per test file, so parallel files never share queues. */
export function testQueuePrefix(): string {
  return `{xeno-test-${randomBytes(5).toString('hex')}}`
}

/** Redis the tests use. */
export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
}
