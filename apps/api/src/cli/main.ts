// Operator CLI of the API: `pnpm admin:create -- --username alice` creates an admin whatever
// exists already (the operator has database access anyway). The password comes from
// ADMIN_PASSWORD or, when unset, from the first line of standard input, so it never appears
// in the process list or shell history.
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { ConfigError, databaseEnv, parseEnv, secretsEnv, tenantContextKey } from '@xeno/config'
import { createDb } from '@xeno/db'
import { AppError, createAdminAuthService, createPasswordHasher } from '@xeno/core'

const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/

async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD
  if (process.stdin.isTTY) process.stderr.write('password: ')
  const rl = createInterface({ input: process.stdin })
  for await (const line of rl) {
    rl.close()
    return line
  }
  return ''
}

async function adminCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { username: { type: 'string' } } })
  const username = values.username ?? ''
  if (!USERNAME.test(username)) {
    process.stderr.write(
      'usage: pnpm admin:create -- --username NAME (letters, digits, . _ @ + -)\n',
    )
    return 2
  }
  const password = await readPassword()
  if (password.length < 10 || password.length > 256 || password.includes('\0')) {
    process.stderr.write('the password must be 10 to 256 characters\n')
    return 2
  }
  const config = parseEnv(
    databaseEnv.extend({ API_PEPPER: secretsEnv.shape.API_PEPPER.optional() }),
    process.env,
  )
  let key: Buffer
  try {
    key = tenantContextKey(config)
  } catch (err) {
    process.stderr.write(`${(err as Error).message} (the key the API signs tenant contexts with)\n`)
    return 2
  }
  const { db } = createDb({
    url: config.DATABASE_URL,
    applicationName: 'xeno-cli',
    poolMax: 1,
    tenantContextKey: key,
  })
  try {
    const admins = createAdminAuthService({ db, hasher: createPasswordHasher() })
    const admin = await admins.createAdmin(username, password)
    process.stdout.write(`${JSON.stringify({ id: admin.id, username: admin.username })}\n`)
    return 0
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`${err.message}\n`)
      return 1
    }
    throw err
  } finally {
    await db.destroy()
  }
}

async function main(): Promise<number> {
  // `pnpm admin:create -- --username x` may pass the `--` through.
  const [command, ...rest] = process.argv.slice(2).filter((a) => a !== '--')
  try {
    if (command === 'admin-create') return await adminCreate(rest)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      return 1
    }
    throw err
  }
  process.stderr.write('commands: admin-create --username NAME\n')
  return 2
}

process.exitCode = await main()
