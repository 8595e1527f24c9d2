import t from 'tap'
import { normalizeShopDomain } from './shop-domain.ts'

t.test('normalises shop input', async (t) => {
  t.equal(normalizeShopDomain('My-Store'), 'my-store.myshopify.com')
  t.equal(normalizeShopDomain('my-store.myshopify.com'), 'my-store.myshopify.com')
  t.equal(normalizeShopDomain(' HTTPS://My-Store.MyShopify.com/ '), 'my-store.myshopify.com')
  for (const bad of [
    '',
    '-x',
    'a.b.com',
    'evil.com/x.myshopify.com',
    'a_b',
    'x.myshopify.com.evil.com',
    'a'.repeat(300),
  ])
    t.equal(normalizeShopDomain(bad), null, `rejects ${bad.slice(0, 20)}`)
})
