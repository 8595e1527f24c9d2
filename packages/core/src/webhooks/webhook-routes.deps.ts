import type { Database } from '@xeno/db'
import type { Logger } from '@xeno/logger'
import type { Producer } from '@xeno/queues'
import { createTenantRepository } from '../tenancy/tenant.repository.ts'
import { createComplianceRepository } from './compliance.repository.ts'
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
}) {
  const receipts = createWebhookReceiptRepository(deps.db)
  const tenants = createTenantRepository(deps.db)
  return {
    intake: createWebhookIntakeService({
      receipts,
      producer: deps.producer,
      secrets: deps.secrets,
      findTenantByShop: (shop) => tenants.findTenantByShopDomain(shop),
      logger: deps.logger,
    }),
    sweeper: createWebhookSweeper({ receipts, producer: deps.producer, logger: deps.logger }),
    compliance: createComplianceRepository(deps.db),
  }
}

export type WebhookApi = ReturnType<typeof createWebhookApi>
