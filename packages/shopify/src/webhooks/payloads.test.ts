import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import { readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseShopifyJson } from '../json.ts'
import { checkWebhookPayload } from './payloads.ts'
import { WEBHOOK_TOPICS, type WebhookTopic } from './topics.ts'

const file = (topic: string) => path.join(WEBHOOK_SAMPLES_DIR, `${topic.replace('/', '__')}.json`)
// Shopify publishes no orders/delete sample; its body is the order id alone (FACTS §4).
const sampleOf = (topic: WebhookTopic): unknown =>
  existsSync(file(topic))
    ? parseShopifyJson(readFileSync(file(topic), 'utf8'))
    : topic === 'orders/delete'
      ? { id: '450789469' }
      : undefined
const samples = WEBHOOK_TOPICS.map((topic) => ({ topic, body: sampleOf(topic) }))

t.test("every topic's published sample parses as that topic", async (t) => {
  for (const { topic, body } of samples) {
    t.ok(body, `${topic} has a sample`)
    const r = checkWebhookPayload(topic, body)
    t.ok(r.ok, `${topic}: ${r.ok ? 'ok' : `${r.field} ${r.message}`}`)
  }
  // Plain JSON.parse (numbers instead of decimal strings) is accepted as well.
  const plain = JSON.parse(readFileSync(file('shop/redact'), 'utf8')) as unknown
  t.ok(checkWebhookPayload('shop/redact', plain).ok)
})

// Bodies that carry only an id cannot be told apart by shape (their proof is the Admin API
// read-back); every other pair must be refused.
const ID_ONLY = new Set<string>(['orders/delete', 'products/delete', 'customers/delete'])
const kind = (topic: string) => topic.split('/')[0]

t.test("another topic's body is refused, naming the field", async (t) => {
  let refused = 0
  for (const target of WEBHOOK_TOPICS) {
    for (const { topic, body } of samples) {
      if (topic === target) continue
      if (kind(topic) === kind(target) && target !== 'customers/redact') {
        // orders/create vs orders/paid carry the same body by design.
        if (!(ID_ONLY.has(target) || ID_ONLY.has(topic))) continue
      }
      if (ID_ONLY.has(target) && ID_ONLY.has(topic)) continue
      if (ID_ONLY.has(target)) continue // any body with an id passes an id-only shape
      const r = checkWebhookPayload(target, body)
      if (r.ok) {
        t.fail(`${topic} body accepted as ${target}`)
        continue
      }
      refused++
      t.match(r.field, /^body(\.|$)/, `${topic} as ${target}: ${r.field} ${r.message}`)
    }
  }
  t.ok(refused > 150, `${refused} cross-topic bodies refused`)
})

t.test('the destructive topics name the field at fault', async (t) => {
  const orders = sampleOf('orders/create')
  const r = checkWebhookPayload('customers/redact', orders)
  t.notOk(r.ok)
  if (!r.ok) t.equal(r.field, 'body.shop_id')
  const noDomain = { ...(sampleOf('shop/redact') as object), shop_domain: undefined }
  const r2 = checkWebhookPayload('shop/redact', noDomain)
  t.notOk(r2.ok)
  if (!r2.ok) t.equal(r2.field, 'body.shop_domain')
  const r3 = checkWebhookPayload('app/uninstalled', sampleOf('products/update'))
  t.notOk(r3.ok)
  if (!r3.ok) t.equal(r3.field, 'body.myshopify_domain')
  const r4 = checkWebhookPayload('customers/redact', {
    ...(sampleOf('customers/redact') as object),
    customer: { id: 'x' },
  })
  t.notOk(r4.ok)
  if (!r4.ok) t.equal(r4.field, 'body.customer.id')
  t.notOk(checkWebhookPayload('shop/redact', []).ok, 'an array is not a body')
  t.notOk(checkWebhookPayload('shop/redact', null).ok, 'null is not a body')
})
