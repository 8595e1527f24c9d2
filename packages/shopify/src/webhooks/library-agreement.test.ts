// Xeno verifies webhook and OAuth signatures with its own constant-time code (no request/response
// adapters on the hot path). These tests hold it to @shopify/shopify-api's own validators.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import '@shopify/shopify-api/adapters/node'
import { LogSeverity, shopifyApi, type ApiVersion } from '@shopify/shopify-api'
import { verifyWebhookHmac, webhookHmac } from './hmac.ts'
import { oauthQueryHmac, verifyOAuthQuery } from '../oauth.ts'

const SECRET = 'library-agreement-secret'
const shopify = shopifyApi({
  apiKey: 'client',
  apiSecretKey: SECRET,
  scopes: ['read_orders'],
  hostName: 'xeno.example',
  apiVersion: '2026-10' as ApiVersion,
  isEmbeddedApp: false,
  logger: { level: LogSeverity.Error, log: async () => {} },
})

t.test('webhook signatures: Xeno and the library agree, valid and forged', async (t) => {
  for (let i = 0; i < 25; i++) {
    const body = JSON.stringify({
      id: i,
      note: randomBytes(i * 7).toString('base64'),
      emoji: '✓ ünïcode',
    })
    const forged = i % 3 === 0
    const hmac = forged ? webhookHmac(body, 'another-secret') : webhookHmac(body, SECRET)
    const headers = {
      'x-shopify-hmac-sha256': hmac,
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': 'agree.myshopify.com',
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': `w-${i}`,
    }
    const lib = await shopify.webhooks.validate({
      rawBody: body,
      rawRequest: { headers } as never,
      rawResponse: {} as never,
    })
    t.equal(
      verifyWebhookHmac(Buffer.from(body), hmac, [SECRET]),
      lib.valid,
      `delivery ${i} (${forged ? 'forged' : 'valid'})`,
    )
  }
})

t.test('OAuth callback signatures: Xeno and the library agree', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const cases: Record<string, string>[] = [
    {
      code: 'abc',
      shop: 'agree.myshopify.com',
      state: 'x'.repeat(64),
      timestamp: String(now),
      host: 'YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWdyZWU',
    },
    { code: 'a b+c&d=e', shop: 'agree.myshopify.com', state: 'st ate', timestamp: String(now) },
  ]
  for (const q of cases) {
    const signed = { ...q, hmac: oauthQueryHmac(q, SECRET) }
    t.ok(await shopify.utils.validateHmac(signed), 'the library accepts what Xeno signs')
    t.ok(verifyOAuthQuery(signed, [SECRET]), 'Xeno accepts it too')
    const tampered = { ...signed, code: `${q.code}x` }
    t.notOk(verifyOAuthQuery(tampered, [SECRET]))
    t.notOk(
      await shopify.utils.validateHmac(tampered).catch(() => false),
      'the library refuses the tampered one',
    )
  }
})
