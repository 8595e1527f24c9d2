import t from 'tap'
import { missingScopes, oauthQueryHmac, verifyOAuthQuery } from './oauth.ts'

t.test("reproduces Shopify's documented OAuth HMAC vector", async (t) => {
  const query = {
    code: '0907a61c0c8d55e99db179b68161bc00',
    shop: 'some-shop.myshopify.com',
    state: '0.6784241404160823',
    timestamp: '1337178173',
  }
  t.equal(
    oauthQueryHmac(query, 'hush'),
    '700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf',
  )
  const signed = {
    ...query,
    hmac: '700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf',
  }
  t.ok(verifyOAuthQuery(signed, ['hush']))
  t.notOk(
    verifyOAuthQuery({ ...signed, shop: 'other-shop.myshopify.com' }, ['hush']),
    'tampered shop',
  )
  t.notOk(verifyOAuthQuery({ ...signed, hmac: 'zz' }, ['hush']), 'malformed')
  t.notOk(verifyOAuthQuery(query, ['hush']), 'missing')
  t.ok(verifyOAuthQuery(signed, ['new', 'hush']), 'previous secret accepted while rotating')
})

t.test('missing scopes, with write implying read', async (t) => {
  t.same(missingScopes('read_orders,read_customers', 'read_orders,read_customers'), [])
  t.same(missingScopes('read_orders,read_customers', 'write_orders'), ['read_customers'])
  t.same(missingScopes('read_orders,read_all_orders', 'read_orders'), ['read_all_orders'])
})
