import { readFileSync } from 'node:fs'
import t from 'tap'
import { WORKER_NODE_FLAGS } from '../src/node-flags.ts'

const read = (p: string) => readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8')

t.test('every way of starting a worker passes the same V8 flags', async (t) => {
  t.ok(WORKER_NODE_FLAGS.length > 0)
  const root = JSON.parse(read('package.json')) as { scripts: Record<string, string> }
  const own = JSON.parse(read('apps/worker/package.json')) as { scripts: Record<string, string> }
  const docker = read('Dockerfile.worker')
  for (const flag of WORKER_NODE_FLAGS) {
    t.ok(root.scripts['start:worker']!.includes(flag), `pnpm start:worker has ${flag}`)
    t.ok(own.scripts.start!.includes(flag), `@xeno/worker start has ${flag}`)
    t.ok(docker.includes(`"${flag}"`), `Dockerfile.worker CMD has ${flag}`)
  }
  t.match(read('scripts/dev.ts'), /WORKER_NODE_FLAGS/, 'pnpm dev spawns the worker with them')
  t.match(read('bench/worker-memory.bench.ts'), /WORKER_NODE_FLAGS/, 'and so does the benchmark')
})
