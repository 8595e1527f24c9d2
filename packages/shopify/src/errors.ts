/** Base of the client's errors; `retryable` says whether the same call may succeed later. */
export class ShopifyError extends Error {
  readonly retryable: boolean
  constructor(message: string, retryable: boolean) {
    super(message)
    this.name = 'ShopifyError'
    this.retryable = retryable
  }
}

/** 401 (token revoked/expired, app uninstalled) or ACCESS_DENIED: the tenant's work must stop. */
export class ShopifyAuthError extends ShopifyError {
  readonly status: number
  constructor(message: string, status: number) {
    super(message, false)
    this.name = 'ShopifyAuthError'
    this.status = status
  }
}

/** 402 frozen / 403 unavailable / 423 locked shop: not retryable now. */
export class ShopifyShopUnavailableError extends ShopifyError {
  readonly status: number
  constructor(message: string, status: number) {
    super(message, false)
    this.name = 'ShopifyShopUnavailableError'
    this.status = status
  }
}

/** 429, 5xx, timeouts and dropped connections after the client's own retries. */
export class ShopifyTransientError extends ShopifyError {
  constructor(message: string) {
    super(message, true)
    this.name = 'ShopifyTransientError'
  }
}

/** A query Shopify refuses (validation, MAX_COST_EXCEEDED, userErrors): a bug, not weather. */
export class ShopifyQueryError extends ShopifyError {
  readonly code: string | undefined
  constructor(message: string, code?: string) {
    super(message, false)
    this.name = 'ShopifyQueryError'
    this.code = code
  }
}
