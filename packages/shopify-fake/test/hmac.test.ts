import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { oauthHmac, webhookHmac } from '../src/index.ts'

const dir = WEBHOOK_SAMPLES_DIR

t.test('reproduces every webhook HMAC test vector byte for byte', async (t) => {
  const vectors = JSON.parse(readFileSync(`${dir}_headers.json`, 'utf8')) as {
    secret: string
    deliveries: { file: string; headers: Record<string, string> }[]
  }
  t.ok(vectors.deliveries.length >= 16)
  for (const d of vectors.deliveries) {
    const bytes = readFileSync(dir + d.file)
    t.equal(webhookHmac(vectors.secret, bytes), d.headers['X-Shopify-Hmac-Sha256'], d.file)
  }
})

t.test("reproduces FACTS' OAuth vector", async (t) => {
  t.equal(
    oauthHmac('hush', {
      code: '0907a61c0c8d55e99db179b68161bc00',
      shop: 'some-shop.myshopify.com',
      state: '0.6784241404160823',
      timestamp: '1337178173',
      hmac: 'ignored',
    }),
    '700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf',
  )
})
