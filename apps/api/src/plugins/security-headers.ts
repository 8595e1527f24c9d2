// Security headers on every response (@fastify/helmet), errors and 404s included: a strict but
// standard Content-Security-Policy that Swagger UI (/docs), Bull Board (/admin/queues), the admin
// login page and the dashboard under /app/ all work under, plus X-Frame-Options,
// X-Content-Type-Options, Referrer-Policy and the other helmet defaults. Pages served here load
// scripts, styles, fonts and data from this origin only: no inline script, no CDN, no web font.
import type { FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'

/**
 * Inline <style> elements that the bundled UIs insert from their scripts, allowed by hash only
 * (their exact text; nothing else inline is). A dependency upgrade that changes one makes the
 * browser test (apps/api/test/pages-browser.test.ts) report the violation with the new hash.
 */
export const INLINE_STYLE_HASHES = {
  /** @bull-board/ui 9.10.1: the style element its app adds at start. */
  bullBoard: "'sha256-r2N1TB/gHbBtBZFKg7ejmq1acVSREzucTAEw6ga4hoU='",
  /** swagger-ui-dist (@fastify/swagger-ui 6.1.3): the style element it adds at start. */
  swaggerUi: "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
}

/**
 * The policy (also in README.md, for pages added under it, such as the dashboard under /app/):
 * everything from this origin only, no inline script, no inline style but the two hashed
 * elements of Bull Board and Swagger UI, images also as data: URLs, never framed.
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", INLINE_STYLE_HASHES.bullBoard, INLINE_STYLE_HASHES.swaggerUi],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
} as const

/** Registers helmet at the root (before any route, so every response carries the headers). */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: { appUrl?: string | undefined } = {},
) {
  const https = options.appUrl?.startsWith('https:') ?? false
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...CSP_DIRECTIVES,
        // Upgrading requests only makes sense where the app is served over HTTPS; on plain
        // HTTP (local runs) it would send every asset to an https:// URL nobody answers.
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // HSTS only where the app is HTTPS (browsers ignore it over HTTP anyway).
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // Swagger UI and Bull Board load nothing cross-origin; keep the defaults otherwise.
    crossOriginEmbedderPolicy: false,
  })
}
