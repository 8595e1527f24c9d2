import argon2 from 'argon2'

/**
 * argon2id at OWASP's floor or above: 19 MiB, 2 passes, 1 lane. Raising these later is safe:
 * `needsRehash` upgrades each stored hash at its owner's next successful login.
 */
export const PASSWORD_PARAMS: PasswordParams = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
}

export type PasswordParams = {
  type: typeof argon2.argon2id
  memoryCost: number
  timeCost: number
  parallelism: number
}

export type PasswordHasher = {
  hash(password: string): Promise<string>
  /** Constant-time compare inside argon2; false for a malformed hash instead of throwing. */
  verify(hash: string, password: string): Promise<boolean>
  needsRehash(hash: string): boolean
  /** Spends the same time as a real verification, for unknown users. */
  burn(password: string): Promise<void>
}

/** The argon2id hasher used for admins and tenant users. */
export function createPasswordHasher(params: PasswordParams = PASSWORD_PARAMS): PasswordHasher {
  let dummy: Promise<string> | undefined
  const verify = async (hash: string, password: string) => {
    try {
      return await argon2.verify(hash, password)
    } catch {
      return false
    }
  }
  return {
    hash: (password) => argon2.hash(password, params),
    verify,
    needsRehash: (hash) => {
      try {
        return argon2.needsRehash(hash, params)
      } catch {
        return true
      }
    },
    async burn(password) {
      dummy ??= argon2.hash('xeno-unknown-user', params)
      await verify(await dummy, password)
    },
  }
}
