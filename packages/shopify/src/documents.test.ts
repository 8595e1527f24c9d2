import { ADMIN_SCHEMA_PATH } from '@xeno/shopify-reference'
import { readFileSync } from 'node:fs'
import { buildSchema, parse, validate } from 'graphql'
import t from 'tap'
import { ALL_DOCUMENTS } from './documents.ts'

const SCHEMA = ADMIN_SCHEMA_PATH

t.test('every document is valid against the saved Admin 2026-10 schema', async (t) => {
  const schema = buildSchema(readFileSync(SCHEMA, 'utf8'), { assumeValidSDL: true })
  t.ok(Object.keys(ALL_DOCUMENTS).length >= 11)
  for (const [name, text] of Object.entries(ALL_DOCUMENTS)) {
    const errors = validate(schema, parse(text))
    t.same(
      errors.map((e) => e.message),
      [],
      `${name} validates`,
    )
  }
  // The test can fail: a field Shopify removed is caught.
  const bad = validate(schema, parse('{ orders(first: 1) { nodes { financialStatus } } }'))
  t.ok(bad.length > 0, 'a non-existent field is rejected')
})
