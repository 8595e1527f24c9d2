// Forged, altered and replayed webhooks. Shopify signs the body only (X-Shopify-Hmac-Sha256):
// the topic, shop and webhook-id headers are not covered, so the intake must not let a captured
// body be turned into something else — above all a shop/redact that deletes a shop's data.
import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { webhookHmac } from '@xeno/shopify'
import { createLogger } from '@xeno/logger'
import {
  createComplianceRepository,
  createWebhookProcessor,
  createWebhookReceiptRepository,
} from '@xeno/core'
import { fullApp, FULL_APP_WEBHOOK_SECRET } from './support/full-app.ts'
import { SAMPLES_DIR, signedHeaders } from './support/webhooks.ts'
import { shopForTenant } from './support/readback.ts'

const SECRET = FULL_APP_WEBHOOK_SECRET

/** An official sample body with the placeholder shop replaced by `shop` (as Shopify sends it). */
async function sample(file: string, shop: string): Promise<Buffer> {
  const text = await readFile(path.join(SAMPLES_DIR, file), 'utf8')
  return Buffer.from(text.replaceAll('{shop}.myshopify.com', shop))
}

async function setup(t: Test) {
  const h = await fullApp(t)
  const victim = await h.tenant('victim-store')
  const other = await h.tenant('other-store')
  await h.ownerQuery(
    `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at, updated_at)
     VALUES ($1, 77, '#77', 'USD', 12.5, now(), now(), now())`,
    [victim.id],
  )
  const post = (topic: string, body: Buffer | string, headers: Record<string, string>) =>
    h.app.inject({ method: 'POST', url: `/api/webhooks/${topic}`, headers, payload: body })
  const receipts = async () =>
    (await h.ownerQuery<{ n: string }>('SELECT count(*)::text AS n FROM webhook_receipts'))[0]!.n
  const tenantsLeft = async () =>
    (await h.ownerQuery<{ shop_domain: string }>('SELECT shop_domain FROM tenants ORDER BY 1')).map(
      (r) => r.shop_domain,
    )
  return { h, victim, other, post, receipts, tenantsLeft }
}

t.test('forged and altered deliveries are refused and store nothing', async (t) => {
  const { victim, post, receipts } = await setup(t)
  const body = await sample('orders__create.json', victim.shopDomain)
  const good = signedHeaders('orders/create', body, SECRET, victim.shopDomain, randomUUID())

  const cases: [string, Buffer | string, Record<string, string>][] = [
    [
      'signed with another secret',
      body,
      signedHeaders('orders/create', body, 'not-our-secret', victim.shopDomain, randomUUID()),
    ],
    ['body altered after signing', Buffer.from(body.toString().replace('"id"', '"iD"')), good],
    ['one byte appended', Buffer.concat([body, Buffer.from(' ')]), good],
    ['signature missing', body, { ...good, 'x-shopify-hmac-sha256': '' }],
    ['signature as hex', body, { ...good, 'x-shopify-hmac-sha256': 'ab'.repeat(32) }],
    [
      'truncated signature',
      body,
      { ...good, 'x-shopify-hmac-sha256': good['x-shopify-hmac-sha256']!.slice(0, 20) },
    ],
    ['webhook id missing', body, { ...good, 'x-shopify-webhook-id': '' }],
  ]
  for (const [name, payload, headers] of cases) {
    const res = await post('orders/create', payload, headers)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error.code, 'INVALID_WEBHOOK', `${name}: envelope`)
  }
  t.equal(await receipts(), '0', 'nothing stored')

  // Positive control: the untouched delivery is accepted.
  const ok = await post('orders/create', body, good)
  t.same(ok.json(), { data: { status: 'accepted' } })
  t.equal(await receipts(), '1')
})

t.test('a replay with the same X-Shopify-Webhook-Id stores nothing new', async (t) => {
  const { victim, post, receipts } = await setup(t)
  const body = await sample('orders__create.json', victim.shopDomain)
  const id = randomUUID()
  const first = await post(
    'orders/create',
    body,
    signedHeaders('orders/create', body, SECRET, victim.shopDomain, id),
  )
  t.same(first.json(), { data: { status: 'accepted' } })
  for (let i = 0; i < 5; i++) {
    // Replays may carry a fresh timestamp; the id alone decides.
    const again = await post(
      'orders/create',
      body,
      signedHeaders('orders/create', body, SECRET, victim.shopDomain, id, {
        'x-shopify-triggered-at': new Date(Date.now() + i * 1000).toISOString(),
      }),
    )
    t.equal(again.statusCode, 200)
    t.same(again.json(), { data: { status: 'duplicate' } }, `replay ${i} is a duplicate`)
  }
  t.equal(await receipts(), '1', 'one receipt for six deliveries')
})

t.test('a customers/redact body replayed on shop/redact cannot delete the shop', async (t) => {
  const { victim, post, receipts, tenantsLeft } = await setup(t)
  const redact = await sample('customers__redact.json', victim.shopDomain)
  const signature = webhookHmac(redact, SECRET)
  const id = randomUUID()

  // Topic header left as Shopify sent it: the path no longer matches.
  const asSent = signedHeaders('customers/redact', redact, SECRET, victim.shopDomain, id)
  t.equal(asSent['x-shopify-hmac-sha256'], signature)
  const mismatched = await post('shop/redact', redact, asSent)
  t.equal(mismatched.statusCode, 400, 'topic header does not match the path')
  t.match(mismatched.json().error.fields, [{ field: 'headers.x-shopify-topic' }])

  // Topic header rewritten too (it is not signed) and a new webhook id: the body gives it away.
  const rewritten = await post(
    'shop/redact',
    redact,
    signedHeaders('shop/redact', redact, SECRET, victim.shopDomain, randomUUID()),
  )
  t.equal(rewritten.statusCode, 400, 'a customers/redact body is not a shop/redact')
  t.match(rewritten.json().error, { code: 'VALIDATION_ERROR', fields: [{ field: 'body' }] })

  // The same for a data request body.
  const dataRequest = await sample('customers__data_request.json', victim.shopDomain)
  const asShopRedact = await post(
    'shop/redact',
    dataRequest,
    signedHeaders('shop/redact', dataRequest, SECRET, victim.shopDomain, randomUUID()),
  )
  t.equal(asShopRedact.statusCode, 400, 'a data request body is not a shop/redact')
  t.equal(await receipts(), '0', 'nothing stored for any of them')
  t.same(await tenantsLeft(), ['other-store.myshopify.com', 'victim-store.myshopify.com'])

  // Positive control: the genuine customers/redact on its own path is accepted.
  const genuine = await post('customers/redact', redact, asSent)
  t.same(genuine.json(), { data: { status: 'accepted' } })
})

t.test("one shop's destructive webhooks cannot be pointed at another shop", async (t) => {
  const { h, victim, other, post, receipts, tenantsLeft } = await setup(t)
  const otherRedact = await sample('shop__redact.json', other.shopDomain)
  const res = await post(
    'shop/redact',
    otherRedact,
    signedHeaders('shop/redact', otherRedact, SECRET, victim.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 400, 'the body names another shop than the header')
  t.equal(await receipts(), '0')
  // And a customers/redact of another shop cannot redact the victim's customer either.
  const otherCustomer = await sample('customers__redact.json', other.shopDomain)
  const res2 = await post(
    'customers/redact',
    otherCustomer,
    signedHeaders('customers/redact', otherCustomer, SECRET, victim.shopDomain, randomUUID()),
  )
  t.equal(res2.statusCode, 400)
  t.equal(await receipts(), '0')
  t.same(await tenantsLeft(), ['other-store.myshopify.com', 'victim-store.myshopify.com'])

  // app/uninstalled destroys the shop's credentials: another shop's cannot be pointed here.
  const uninstall = (domain: string) =>
    sample('app__uninstalled.json', domain).then((b) =>
      Buffer.from(
        b.toString().replace('"myshopify_domain": null', `"myshopify_domain": "${domain}"`),
      ),
    )
  const otherUninstall = await uninstall(other.shopDomain)
  const res3 = await post(
    'app/uninstalled',
    otherUninstall,
    signedHeaders('app/uninstalled', otherUninstall, SECRET, victim.shopDomain, randomUUID()),
  )
  t.equal(res3.statusCode, 400, "another shop's app/uninstalled")
  t.equal(await receipts(), '0')
  const ownUninstall = await uninstall(victim.shopDomain)
  const res4 = await post(
    'app/uninstalled',
    ownUninstall,
    signedHeaders('app/uninstalled', ownUninstall, SECRET, victim.shopDomain, randomUUID()),
  )
  t.same(res4.json(), { data: { status: 'accepted' } }, 'its own app/uninstalled is accepted')
  await h.ownerQuery('DELETE FROM webhook_receipts')

  // Positive control: the victim's own shop/redact is stored (the processor then deletes).
  const own = await sample('shop__redact.json', victim.shopDomain)
  const ok = await post(
    'shop/redact',
    own,
    signedHeaders('shop/redact', own, SECRET, victim.shopDomain, randomUUID()),
  )
  t.same(ok.json(), { data: { status: 'accepted' } })
  t.equal(await receipts(), '1')
})

t.test('a genuine shop/redact replayed after a reinstall deletes nothing', async (t) => {
  const { h, victim, post, tenantsLeft } = await setup(t)
  const { readback, created } = await shopForTenant(t, {
    db: h.db,
    ownerQuery: h.ownerQuery,
    tenantId: victim.id,
    domain: victim.shopDomain,
  })
  const processor = createWebhookProcessor({
    db: h.db,
    receipts: createWebhookReceiptRepository(h.db),
    compliance: createComplianceRepository(h.db),
    readback,
    logger: createLogger({ level: 'silent' }),
  })
  // The shop's own body: its domain and its Shopify shop id.
  const body = Buffer.from(
    (await sample('shop__redact.json', victim.shopDomain))
      .toString()
      .replace('"shop_id": 954889', `"shop_id": ${created.shopId}`),
  )
  const deliver = async () => {
    const res = await post(
      'shop/redact',
      body,
      // The captured body, re-sent with a fresh (unsigned) webhook id.
      signedHeaders('shop/redact', body, SECRET, victim.shopDomain, randomUUID()),
    )
    t.same(res.json(), { data: { status: 'accepted' } })
    const [row] = await h.ownerQuery<{ id: string }>(
      `SELECT id FROM webhook_receipts WHERE status = 'received' ORDER BY received_at DESC LIMIT 1`,
    )
    return processor.process(victim.id, row!.id)
  }

  // The shop is installed (active): Shopify never sends shop/redact then.
  await h.ownerQuery(`UPDATE tenants SET status = 'active' WHERE id = $1`, [victim.id])
  t.equal(await deliver(), 'skipped', 'ignored for an installed shop')
  t.same(await tenantsLeft(), ['other-store.myshopify.com', 'victim-store.myshopify.com'])
  t.same(
    await h.ownerQuery('SELECT id FROM orders WHERE tenant_id = $1', [victim.id]),
    [{ id: '77' }],
    "the shop's data is intact",
  )

  // Positive control: after an uninstall the same body deletes the shop's data.
  await h.ownerQuery(
    `UPDATE tenants SET status = 'uninstalled', uninstalled_at = now() WHERE id = $1`,
    [victim.id],
  )
  t.equal(await deliver(), 'processed')
  t.same(await tenantsLeft(), ['other-store.myshopify.com'], 'deleted once uninstalled')
})
