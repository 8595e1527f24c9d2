import t from 'tap'
import { bearerMatches } from './bearer.ts'

t.test('a bearer token matches only itself, in the Bearer scheme', async (t) => {
  t.ok(bearerMatches('Bearer s3cret', 's3cret'))
  t.ok(bearerMatches('bearer s3cret ', 's3cret'), 'scheme is case-insensitive, trailing space ok')
  t.notOk(bearerMatches('Bearer s3cre', 's3cret'), 'a prefix is not enough')
  t.notOk(bearerMatches('Bearer s3cret2', 's3cret'))
  t.notOk(bearerMatches('Basic s3cret', 's3cret'), 'another scheme')
  t.notOk(bearerMatches('s3cret', 's3cret'), 'no scheme')
  t.notOk(bearerMatches(undefined, 's3cret'), 'no header')
  t.notOk(bearerMatches('Bearer a b', 'a b'), 'one token, no spaces')
})
