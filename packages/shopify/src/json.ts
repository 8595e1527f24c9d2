/**
 * Parses a Shopify REST-shaped JSON body without losing precision: every `id`, `*_id` and
 * `*_ids` number comes back as its exact decimal string (Shopify's sample ids exceed 2^53), and
 * so does any other integer too large for a double.
 */
export function parseShopifyJson(text: string): unknown {
  return JSON.parse(
    text,
    function (this: unknown, key, value: unknown, context?: { source?: string }) {
      if (typeof value !== 'number' || !context?.source) return value
      const idKey = key === 'id' || key.endsWith('_id') || /^\d+$/.test(key)
      if (idKey || !Number.isSafeInteger(value)) {
        if (/^-?\d+$/.test(context.source)) return context.source
      }
      return value
    },
  )
}
