// Composition root of the migrator CLI: `pnpm db:migrate | db:rollback [--all] | db:distribute [--plan] | db:make NAME | db:codegen [--verify]`.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { databaseEnv, parseEnv, ConfigError, secretsEnv, tenantContextKey } from '@xeno/config'
import { createProgressBar, type ProgressBar } from '@xeno/logger'
import {
  createOwnerDb,
  makeMigration,
  migrateToLatest,
  rollback,
  type MigrationStep,
} from '../migrator.ts'
import { applyDistribution, distributionPlan } from '../distribution.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const typesFile = path.join(here, '..', 'database.types.ts')

function progress(message: string) {
  process.stdout.write(`  ${message}\n`)
}

async function codegen(verify: boolean) {
  // Generate from a throwaway database migrated from scratch, so the types match the migrations.
  const { createEmptyDatabase } = await import('../testing.ts')
  const tmp = await createEmptyDatabase()
  try {
    await migrateToLatest({ ownerUrl: tmp.ownerUrl })
    const bin = path.join(here, '..', '..', 'node_modules', '.bin', 'kysely-codegen')
    execFileSync(
      bin,
      [
        '--dialect',
        'postgres',
        '--camel-case',
        '--url',
        tmp.ownerUrl,
        '--out-file',
        typesFile,
        '--exclude-pattern',
        'kysely_*',
        ...(verify ? ['--verify'] : []),
      ],
      { stdio: 'inherit' },
    )
  } finally {
    await tmp.close()
  }
}

/**
 * `db:distribute`: on a database with the citus extension, makes the reference tables and
 * distributes every tenant table (idempotent); `--plan` prints the plan only (any PostgreSQL).
 */
async function distribute(ownerUrl: string, args: string[]) {
  const db = createOwnerDb(ownerUrl)
  try {
    if (args.includes('--plan')) {
      for (const step of await distributionPlan(db))
        progress(
          step.kind === 'reference'
            ? `reference    ${step.table} (${step.reason})`
            : `distributed  ${step.table} by ${step.column}${step.colocateWith ? `, colocated with ${step.colocateWith}` : ''}`,
        )
      return
    }
    const ran = await applyDistribution(db, progress)
    progress(ran.length ? `${ran.length} table(s) distributed` : 'already distributed')
  } finally {
    await db.destroy()
  }
}

async function main() {
  const [command, ...args] = process.argv.slice(2)
  if (command === 'make') {
    const name = args[0]
    if (!name) throw new Error('usage: db:make NAME')
    progress(`created ${await makeMigration(name)}`)
    return
  }
  if (command === 'codegen') return codegen(args.includes('--verify'))
  const env = parseEnv(
    databaseEnv.extend({ API_PEPPER: secretsEnv.shape.API_PEPPER.optional() }),
    process.env,
  )
  if (command === 'distribute') return distribute(env.DATABASE_OWNER_URL ?? env.DATABASE_URL, args)
  if (command !== 'migrate' && command !== 'rollback')
    throw new Error(
      'usage: migrate | rollback [--all] | distribute [--plan] | make NAME | codegen [--verify]',
    )
  // A bar over the migrations (stderr), the step running named; messages print above it.
  let bar: ProgressBar | undefined
  const onStep = (s: MigrationStep) => {
    if (!bar && s.total > 0)
      bar = createProgressBar({
        label: command,
        total: s.total,
        unit: 'migrations',
        detail: s.name ?? undefined,
      })
    bar?.update(s.index, s.name ?? undefined)
  }
  const opts = {
    ownerUrl: env.DATABASE_OWNER_URL ?? env.DATABASE_URL,
    runtimeUrl: env.DATABASE_URL,
    systemUrl: env.DATABASE_SYSTEM_URL,
    // The key the API and worker sign tenant contexts with (TENANT_CONTEXT_KEY, or from API_PEPPER).
    tenantContextKey: command === 'migrate' ? tenantContextKey(env) : undefined,
    onProgress: (m: string) => (bar ? bar.log(`  ${m}`) : progress(m)),
    onStep,
  }
  try {
    if (command === 'migrate') {
      const ran = await migrateToLatest(opts)
      bar?.finish()
      progress(
        ran.length ? `${ran.length} migration(s) applied` : 'already at the latest migration',
      )
    } else {
      const ran = await rollback({ ...opts, all: args.includes('--all') })
      bar?.finish()
      progress(ran.length ? `${ran.length} migration(s) rolled back` : 'nothing to roll back')
    }
  } catch (err) {
    bar?.fail((err as Error).message.split('\n')[0]!)
    throw err
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : `error: ${(err as Error).message}`}\n`,
  )
  process.exit(1)
})
