import { readFileSync } from 'node:fs'
import { ADMIN_SCHEMA_PATH } from '@xeno/shopify-reference'
import { buildSchema } from 'graphql'
import type { GraphQLSchema } from 'graphql'

/** Shopify's published Admin GraphQL schema of the pinned version (@xeno/shopify-reference). */
export const DEFAULT_SCHEMA_PATH = ADMIN_SCHEMA_PATH

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
