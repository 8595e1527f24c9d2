import type { Database } from '@xeno/db'
import type { Logger } from '@xeno/logger'
import type { Producer } from '@xeno/queues'
import { createTenantRepository } from '../tenancy/tenant.repository.ts'
import { createComplianceRepository } from './compliance.repository.ts'
import { createWebhookInbox } from './webhook-inbox.service.ts'
import { createWebhookIntakeService } from './webhook-intake.service.ts'
import { createWebhookReceiptRepository } from './webhook-receipt.repository.ts'
import { createWebhookSweeper } from './webhook-sweeper.service.ts'

/** Everything the API's webhook routes need (intake, replay, compliance), built on one database. */
export function createWebhookApi(deps: {
  db: Database
  producer: Producer
  /** The client secret, then any previous one accepted while rotating. */
  secrets: readonly string[]
  logger: Logger
  /** Most receipts committed in one intake transaction (default 64). */
  maxBatch?: number
}) {
  const receipts = createWebhookReceiptRepository(deps.db)
  const tenants = createTenantRepository(deps.db)
  const inbox = createWebhookInbox({
    receipts,
    producer: deps.producer,
    logger: deps.logger,
    maxBatch: deps.maxBatch,
  })
  return {
    intake: createWebhookIntakeService({
      receipts,
      producer: deps.producer,
      inbox,
      secrets: deps.secrets,
      findTenantByShop: (shop) => tenants.findTenantByShopDomain(shop),
      logger: deps.logger,
    }),
    sweeper: createWebhookSweeper({ receipts, producer: deps.producer, logger: deps.logger }),
    compliance: createComplianceRepository(deps.db),
    /** Waits for receipts still being committed, then refuses new ones (shutdown). */
    close: () => inbox.close(),
  }
}

export type WebhookApi = ReturnType<typeof createWebhookApi>
