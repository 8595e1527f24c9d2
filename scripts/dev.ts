// `pnpm dev`: runs the API and one worker from source with .env, restarting nothing, stopping both on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'

const envFile = existsSync('.env') ? ['--env-file=.env'] : []
if (!envFile.length)
  process.stderr.write('no .env found: using the environment as it is (see .env.example)\n')

const children: ChildProcess[] = []
function run(name: string, entry: string, args: string[] = []) {
  const child = spawn(process.execPath, [...envFile, entry, ...args], { stdio: 'inherit' })
  child.on('exit', (code, signal) => {
    process.stderr.write(`${name} exited (${signal ?? code})\n`)
    for (const c of children) if (c !== child && c.exitCode === null) c.kill('SIGTERM')
    process.exitCode = code ?? 1
  })
  children.push(child)
}

run('api', 'apps/api/src/main.ts')
// The worker waits for the API's AUTO_MIGRATE to have created the schema.
setTimeout(() => run('worker', 'apps/worker/src/main.ts'), 1500)
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    for (const c of children) c.kill('SIGTERM')
  })
