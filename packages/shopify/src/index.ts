/** Shop domain validation and normalisation. */
export { normalizeShopDomain } from './shop-domain.ts'
