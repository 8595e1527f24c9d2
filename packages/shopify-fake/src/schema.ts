import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildSchema } from 'graphql'
import type { GraphQLSchema } from 'graphql'

/** The saved Admin GraphQL schema, relative to this package: ../../../shared/shopify/schema. */
export const DEFAULT_SCHEMA_PATH = fileURLToPath(
  new URL('../../../../shared/shopify/schema/admin_2026-10.graphql', import.meta.url),
)

const cache = new Map<string, GraphQLSchema>()

/** Builds (once per path) the schema graphql-js executes against. */
export function loadSchema(path: string = DEFAULT_SCHEMA_PATH): GraphQLSchema {
  let s = cache.get(path)
  if (!s) {
    s = buildSchema(readFileSync(path, 'utf8'), { assumeValidSDL: true })
    cache.set(path, s)
  }
  return s
}
