import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { webhookHmac } from '@xeno/shopify'

/** Shopify's official sample payloads and example delivery headers (@xeno/shopify-reference). */
export const SAMPLES_DIR = WEBHOOK_SAMPLES_DIR

export type SampleDelivery = {
  file: string
  topic: string
  body: Buffer
  headers: Record<string, string>
}

/** Loads every sample with its published headers (signed with `secret`, shop `shopDomain`). */
export async function loadSamples(): Promise<{
  secret: string
  shopDomain: string
  deliveries: SampleDelivery[]
}> {
  const vectors = JSON.parse(
    await fs.readFile(path.join(SAMPLES_DIR, '_headers.json'), 'utf8'),
  ) as {
    secret: string
    shopDomain: string
    deliveries: { file: string; headers: Record<string, string> }[]
  }
  const deliveries = await Promise.all(
    vectors.deliveries.map(async (d) => ({
      file: d.file,
      topic: d.headers['X-Shopify-Topic']!,
      body: await fs.readFile(path.join(SAMPLES_DIR, d.file)),
      headers: Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toLowerCase(), v])),
    })),
  )
  return { secret: vectors.secret, shopDomain: vectors.shopDomain, deliveries }
}

/** Headers of a delivery of `body` for `topic`, signed with `secret`. */
export function signedHeaders(
  topic: string,
  body: Buffer | string,
  secret: string,
  shop: string,
  webhookId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-hmac-sha256': webhookHmac(body, secret),
    'x-shopify-shop-domain': shop,
    'x-shopify-api-version': '2026-10',
    'x-shopify-webhook-id': webhookId,
    'x-shopify-triggered-at': new Date().toISOString(),
    ...extra,
  }
}
