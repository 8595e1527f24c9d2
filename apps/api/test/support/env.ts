import { randomBytes } from 'node:crypto'
import { TEST_TENANT_CONTEXT_KEY } from '@xeno/db/testing'

/** A complete, valid environment for starting the API or worker in tests. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    API_PEPPER: randomBytes(32).toString('hex'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    // The key the test template was migrated with: the database checks contexts against it.
    TENANT_CONTEXT_KEY: TEST_TENANT_CONTEXT_KEY.toString('hex'),
    SHOPIFY_CLIENT_ID: 'test-client-id',
    SHOPIFY_CLIENT_SECRET: 'test-client-secret',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    HOST: '127.0.0.1',
    ...overrides,
  }
}
