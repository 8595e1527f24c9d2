import { createHash, randomBytes } from 'node:crypto'
import type { Logger } from '@xeno/logger'
import {
  OAUTH_TIMESTAMP_TOLERANCE_SEC,
  SHOP_QUERY,
  ShopifyAuthError,
  ShopifyTransientError,
  authorizeUrl,
  gidToId,
  missingScopes,
  normalizeShopDomain,
  registerWebhooks,
  verifyOAuthQuery,
  type ShopClient,
  type TokenGrant,
} from '@xeno/shopify'
import {
  ExternalServiceError,
  ForbiddenError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
} from '../errors.ts'
import type { InstallRepository } from './install.repository.ts'

export type InstallConfig = {
  clientId: string
  /** The client secret, then any previous one accepted while rotating. */
  secrets: readonly string[]
  scopes: string
  redirectUri: string
  appUrl: string
  /** How long an issued state may be used (default 10 minutes). */
  stateTtlMs?: number
  /** Most unexpired states at once; past it installs get 429 (default 10,000). */
  maxLiveStates?: number
}

export type InstallDeps = {
  repo: InstallRepository
  config: InstallConfig
  exchangeCode: (shop: string, code: string) => Promise<TokenGrant>
  storeGrant: (tenantId: string, grant: TokenGrant) => Promise<void>
  shopClient: (shop: string, accessToken: string) => Pick<ShopClient, 'request'>
  /** Initial backfill and the tenant's recurring schedules. */
  startSync: (tenantId: string, requestId?: string) => Promise<void>
  logger: Logger
  now?: () => Date
}

type ShopResult = {
  shop: {
    id: string
    name: string
    ianaTimezone: string
    currencyCode: string
    plan: { publicDisplayName: string } | null
  }
}

const hashState = (state: string) => createHash('sha256').update(state).digest()

/**
 * Shopify's authorization-code install (FACTS.md §5.1): a single-use state stored server-side and
 * bound to the shop; a callback checked for state, HMAC, timestamp and shop before the code is
 * exchanged for an expiring offline token.
 */
export function createInstallService(deps: InstallDeps) {
  const now = deps.now ?? (() => new Date())
  const cfg = deps.config

  return {
    /** Issues a state and returns Shopify's authorize URL for the shop. */
    async begin(shopInput: string): Promise<{ shop: string; redirectTo: string }> {
      const shop = normalizeShopDomain(shopInput)
      if (!shop)
        throw new ValidationError('shop must be a *.myshopify.com domain', [
          { field: 'query.shop', message: 'must look like your-store.myshopify.com' },
        ])
      // Anonymous requests create these rows: past the cap, new installs wait until the
      // maintenance sweep (or expiry) frees room, instead of growing the table without bound.
      const cap = cfg.maxLiveStates ?? 10_000
      if ((await deps.repo.liveStates(now(), cap)) >= cap)
        throw new RateLimitedError(60, 'too many installs in progress; retry in a minute')
      const state = randomBytes(32).toString('hex')
      await deps.repo.saveState(
        hashState(state),
        shop,
        new Date(now().getTime() + (cfg.stateTtlMs ?? 600_000)),
      )
      return {
        shop,
        redirectTo: authorizeUrl({
          shop,
          clientId: cfg.clientId,
          scopes: cfg.scopes,
          redirectUri: cfg.redirectUri,
          state,
        }),
      }
    },

    /** Deletes expired states (the maintenance queue's sweep). */
    async sweepStates(): Promise<number> {
      return deps.repo.deleteExpiredStates(now(), 60 * 60_000)
    },

    /** Completes the install; returns the tenant it created or reactivated. */
    async callback(query: Record<string, string>, requestId?: string) {
      for (const k of ['code', 'hmac', 'shop', 'state', 'timestamp'] as const)
        if (!query[k])
          throw new ValidationError(`missing ${k}`, [
            { field: `query.${k}`, message: 'is required' },
          ])
      if (!verifyOAuthQuery(query, cfg.secrets))
        throw new UnauthorizedError(
          'OAuth callback signature does not match',
          'INVALID_OAUTH_CALLBACK',
        )
      const ts = Number(query.timestamp)
      if (
        !Number.isFinite(ts) ||
        Math.abs(now().getTime() / 1000 - ts) > OAUTH_TIMESTAMP_TOLERANCE_SEC
      )
        throw new UnauthorizedError(
          'OAuth callback timestamp is too old or in the future',
          'INVALID_OAUTH_CALLBACK',
        )
      const shop = normalizeShopDomain(query.shop!)
      if (!shop || shop !== query.shop)
        throw new ValidationError('shop is not a *.myshopify.com domain', [
          { field: 'query.shop', message: 'invalid' },
        ])
      if (!(await deps.repo.consumeState(hashState(query.state!), shop, now())))
        throw new UnauthorizedError(
          'OAuth state is unknown, expired, already used or for another shop',
          'INVALID_OAUTH_STATE',
        )

      let grant: TokenGrant
      try {
        grant = await deps.exchangeCode(shop, query.code!)
      } catch (err) {
        // The state was single-use and is spent: the merchant must start over either way.
        if (err instanceof ShopifyAuthError)
          throw new ValidationError(
            'Shopify refused the authorization code (expired, already used or issued to another app); start the install again',
            [{ field: 'query.code', message: 'rejected by Shopify' }],
          )
        if (err instanceof ShopifyTransientError)
          throw new ExternalServiceError(
            'shopify',
            'Shopify did not complete the token exchange; start the install again in a minute',
          )
        throw err
      }
      const missing = missingScopes(cfg.scopes, grant.scope)
      if (missing.length)
        throw new ForbiddenError(
          `the merchant did not grant ${missing.join(', ')}`,
          'SCOPES_NOT_GRANTED',
        )

      const tenant = await deps.repo.findOrCreateTenant(shop)
      await deps.storeGrant(tenant.id, grant)
      const client = deps.shopClient(shop, grant.accessToken)
      const { shop: details } = await client.request<ShopResult>(SHOP_QUERY)
      await deps.repo.activate(
        tenant.id,
        {
          shopifyShopId: gidToId(details.id),
          name: details.name,
          ianaTimezone: details.ianaTimezone,
          currency: details.currencyCode,
          plan: details.plan?.publicDisplayName ?? null,
          scopes: grant.scope.split(',').filter(Boolean),
        },
        now(),
      )
      const hooks = await registerWebhooks(client, cfg.appUrl)
      await deps.startSync(tenant.id, requestId)
      deps.logger.info(
        { tenantId: tenant.id, shop, created: tenant.created, webhooks: hooks.created.length },
        'shop installed',
      )
      return { tenantId: tenant.id, shop, created: tenant.created }
    },
  }
}

export type InstallService = ReturnType<typeof createInstallService>
