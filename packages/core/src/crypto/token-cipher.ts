import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const VERSION = 'v1'

/** A key id derived from the key itself, so rotating keys needs no extra configuration. */
function keyId(key: Buffer): string {
  return createHash('sha256').update('xeno-token-key-id').update(key).digest('hex').slice(0, 8)
}

export type TokenCipherKeys = {
  /** Encrypts everything new. */
  current: Buffer
  /** Still accepted for decryption while rotating. */
  previous?: Buffer[]
}

/**
 * AES-256-GCM for Shopify tokens at rest: a random 96-bit IV per value, the tenant id bound as
 * associated data (a ciphertext copied to another tenant's row does not decrypt), and a key-id
 * prefix so keys can rotate. Format: `v1:<keyid>:<iv b64url>:<tag b64url>:<ciphertext b64url>`.
 */
export function createTokenCipher(keys: TokenCipherKeys) {
  for (const k of [keys.current, ...(keys.previous ?? [])])
    if (k.length !== 32) throw new Error('token encryption keys must be 32 bytes')
  const byId = new Map<string, Buffer>()
  for (const k of [...(keys.previous ?? []), keys.current]) byId.set(keyId(k), k)
  const currentId = keyId(keys.current)

  return {
    encrypt(plaintext: string, tenantId: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', keys.current, iv)
      cipher.setAAD(Buffer.from(tenantId, 'utf8'))
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return [
        VERSION,
        currentId,
        iv.toString('base64url'),
        tag.toString('base64url'),
        ct.toString('base64url'),
      ].join(':')
    },
    /** Throws when the value was tampered with, bound to another tenant, or made with an unknown key. */
    decrypt(value: string, tenantId: string): string {
      const parts = value.split(':')
      if (parts.length !== 5 || parts[0] !== VERSION)
        throw new Error('token ciphertext: unknown format')
      const [, kid, ivS, tagS, ctS] = parts as [string, string, string, string, string]
      const key = byId.get(kid)
      if (!key) throw new Error('token ciphertext: unknown key id')
      const iv = Buffer.from(ivS, 'base64url')
      const tag = Buffer.from(tagS, 'base64url')
      if (iv.length !== 12 || tag.length !== 16) throw new Error('token ciphertext: malformed')
      const decipher = createDecipheriv('aes-256-gcm', key, iv)
      decipher.setAAD(Buffer.from(tenantId, 'utf8'))
      decipher.setAuthTag(tag)
      try {
        return Buffer.concat([
          decipher.update(Buffer.from(ctS, 'base64url')),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        throw new Error('token ciphertext: authentication failed')
      }
    },
    /** True when the value was made with an older key and should be re-encrypted. */
    needsReencrypt(value: string): boolean {
      return value.split(':')[1] !== currentId
    },
  }
}

export type TokenCipher = ReturnType<typeof createTokenCipher>
