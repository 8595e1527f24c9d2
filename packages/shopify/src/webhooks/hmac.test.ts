import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import t from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { verifyWebhookHmac, webhookHmac } from './hmac.ts'
import { parseShopifyJson } from '../json.ts'

const samples = WEBHOOK_SAMPLES_DIR

/** The shape of _headers.json: example deliveries with their real signatures. */
type WebhookVectors = {
  secret: string
  shopDomain: string
  deliveries: { file: string; headers: Record<string, string> }[]
}

t.test("reproduces Shopify's published HMAC vectors byte for byte", async (t) => {
  const vectors = JSON.parse(
    await fs.readFile(path.join(samples, '_headers.json'), 'utf8'),
  ) as WebhookVectors
  t.ok(vectors.deliveries.length >= 16, 'all sample files have vectors')
  for (const { file, headers } of vectors.deliveries) {
    const hmacHeader = headers['X-Shopify-Hmac-Sha256']
    const body = await fs.readFile(path.join(samples, file))
    t.equal(webhookHmac(body, vectors.secret), hmacHeader, `${file} signature`)
    t.ok(verifyWebhookHmac(body, hmacHeader, [vectors.secret]), `${file} verifies`)
    const altered = Buffer.concat([body, Buffer.from(' ')])
    t.notOk(verifyWebhookHmac(altered, hmacHeader, [vectors.secret]), `${file} altered body fails`)
  }
})

t.test(
  'rejects missing, malformed and wrong-secret signatures; accepts a rotated secret',
  async (t) => {
    const body = Buffer.from('{"id":1}')
    const sig = webhookHmac(body, 'new')
    t.notOk(verifyWebhookHmac(body, undefined, ['new']))
    t.notOk(verifyWebhookHmac(body, '', ['new']))
    t.notOk(verifyWebhookHmac(body, 'not base64 at all!!', ['new']))
    t.notOk(verifyWebhookHmac(body, sig.slice(0, 20), ['new']), 'truncated digest')
    t.notOk(verifyWebhookHmac(body, sig, ['other']))
    t.ok(
      verifyWebhookHmac(body, webhookHmac(body, 'old'), ['new', 'old']),
      'previous secret during rotation',
    )
  },
)

t.test('parseShopifyJson keeps ids exact', async (t) => {
  const body = await fs.readFile(path.join(samples, 'orders__create.json'), 'utf8')
  const order = parseShopifyJson(body) as {
    id: string
    line_items: { id: string; product_id: string }[]
    total_price: string
  }
  t.equal(order.id, '820982911946154508')
  t.equal(typeof order.line_items[0]!.id, 'string')
  t.same(
    parseShopifyJson(
      '{"id": 9007199254740993, "qty": 2, "big": 12345678901234567890, "price": 1.5}',
    ),
    {
      id: '9007199254740993',
      qty: 2,
      big: '12345678901234567890',
      price: 1.5,
    },
  )
})

t.test('only the canonical base64 of the 32-byte digest is accepted', async (t) => {
  // A body whose signature has a "+" or "/" (where the URL-safe alphabet differs).
  let n = 1
  while (!/[+/]/.test(webhookHmac(`{"id":${n}}`, 's'))) n++
  const body = Buffer.from(`{"id":${n}}`)
  const sig = webhookHmac(body, 's')
  t.ok(verifyWebhookHmac(body, sig, ['s']), 'canonical')
  const digest = Buffer.from(sig, 'base64')
  const variants: [string, string][] = [
    ['without padding', sig.replace(/=$/, '')],
    ['URL-safe alphabet', digest.toString('base64url') + '='],
    ['with whitespace', ` ${sig}`],
    ['with a newline inside', `${sig.slice(0, 10)}\n${sig.slice(10)}`],
    ['trailing junk after padding', `${sig}AA==`],
    // The last character before "=" carries two padding bits; set one and the bytes stay equal.
    [
      'non-zero padding bits',
      sig.slice(0, 42) +
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(sig[42]!) + 1
        ]! +
        '=',
    ],
  ]
  for (const [name, header] of variants) {
    t.not(header, sig, `${name} differs from the canonical header`)
    t.notOk(verifyWebhookHmac(body, header, ['s']), name)
  }
  // Node's lenient decoder takes some of them as the same bytes: the check must not.
  t.ok(
    variants.some(([, h]) => Buffer.from(h, 'base64').equals(digest)),
    'the variants decode leniently to the same digest',
  )
})
