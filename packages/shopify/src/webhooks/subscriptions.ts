import type { ShopClient } from '../admin-client.ts'
import { WEBHOOK_SUBSCRIPTIONS, WEBHOOK_SUBSCRIPTION_CREATE } from '../documents.ts'
import { ShopifyQueryError } from '../errors.ts'
import { DATA_TOPICS, graphqlTopic } from './topics.ts'

type SubscriptionsPage = {
  webhookSubscriptions: {
    nodes: { id: string; topic: string; uri: string }[]
    pageInfo: { hasNextPage: boolean; endCursor: string | null }
  }
}
type CreateResult = {
  webhookSubscriptionCreate: {
    webhookSubscription: { id: string } | null
    userErrors: { field: string[] | null; message: string }[]
  }
}

/** Where Xeno receives a topic: `{appUrl}/api/webhooks/{topic}`. */
export function webhookUri(appUrl: string, topic: string): string {
  return `${appUrl.replace(/\/+$/, '')}/api/webhooks/${topic}`
}

/**
 * Subscribes the shop to every data topic at Xeno's URL, creating only what is missing, so
 * running it again (reinstall, retry) changes nothing. Compliance topics are configured in the
 * Partner Dashboard, never here.
 */
export async function registerWebhooks(
  client: Pick<ShopClient, 'request'>,
  appUrl: string,
): Promise<{ created: string[]; existing: string[] }> {
  const have = new Set<string>()
  let after: string | null = null
  do {
    const page: SubscriptionsPage = await client.request<SubscriptionsPage>(WEBHOOK_SUBSCRIPTIONS, {
      after,
    })
    for (const s of page.webhookSubscriptions.nodes) have.add(`${s.topic} ${s.uri}`)
    after = page.webhookSubscriptions.pageInfo.hasNextPage
      ? page.webhookSubscriptions.pageInfo.endCursor
      : null
  } while (after)
  const created: string[] = []
  const existing: string[] = []
  for (const topic of DATA_TOPICS) {
    const gql = graphqlTopic(topic)
    const uri = webhookUri(appUrl, topic)
    if (have.has(`${gql} ${uri}`)) {
      existing.push(topic)
      continue
    }
    const res = await client.request<CreateResult>(WEBHOOK_SUBSCRIPTION_CREATE, { topic: gql, uri })
    const errors = res.webhookSubscriptionCreate.userErrors
    // "already taken" means an identical subscription exists: idempotent, not an error.
    if (errors.length && !errors.every((e) => /already|taken|exists/i.test(e.message)))
      throw new ShopifyQueryError(
        `webhookSubscriptionCreate ${topic}: ${errors.map((e) => e.message).join('; ')}`,
      )
    created.push(topic)
  }
  return { created, existing }
}
