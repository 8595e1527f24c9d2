// DESIGN.md §2, enforced: apps → core → {db, shopify, queues} → {config, logger}.
import t from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

// What each unit's production code (src/, tests excluded) may import.
const ALLOWED: Record<string, string[]> = {
  '@xeno/api': [
    '@xeno/core',
    '@xeno/db',
    '@xeno/shopify',
    '@xeno/queues',
    '@xeno/config',
    '@xeno/logger',
  ],
  '@xeno/worker': [
    '@xeno/core',
    '@xeno/db',
    '@xeno/shopify',
    '@xeno/queues',
    '@xeno/config',
    '@xeno/logger',
  ],
  // The dashboard talks to the API over HTTP only.
  '@xeno/web': [],
  '@xeno/core': ['@xeno/db', '@xeno/shopify', '@xeno/queues', '@xeno/config', '@xeno/logger'],
  '@xeno/db': ['@xeno/config', '@xeno/logger'],
  '@xeno/shopify': ['@xeno/config', '@xeno/logger'],
  '@xeno/queues': ['@xeno/config', '@xeno/logger'],
  '@xeno/config': [],
  '@xeno/logger': [],
  '@xeno/shopify-fake': ['@xeno/config', '@xeno/logger', '@xeno/shopify-reference'],
  // Data only (Shopify's published schema and samples): tests, the fake and benchmarks read it.
  '@xeno/shopify-reference': [],
}

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) yield* sourceFiles(p)
    else if (/\.tsx?$/.test(p) && !/\.test\.tsx?$/.test(p) && !/[/\\]testing\.ts$/.test(p)) yield p
  }
}

t.test('production code imports only along the dependency direction', async (t) => {
  const units: { name: string; dir: string }[] = []
  for (const group of ['apps', 'packages'])
    for (const d of await fs.readdir(path.join(root, group))) {
      const pkg = JSON.parse(
        await fs.readFile(path.join(root, group, d, 'package.json'), 'utf8'),
      ) as { name: string }
      units.push({ name: pkg.name, dir: path.join(root, group, d, 'src') })
    }
  t.ok(units.length >= 8, 'found the workspace units')
  for (const unit of units) {
    const allowed = ALLOWED[unit.name]
    t.ok(allowed, `${unit.name} has an entry in the dependency table`)
    if (!allowed) continue
    for await (const file of sourceFiles(unit.dir)) {
      const text = await fs.readFile(file, 'utf8')
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(@xeno\/[a-z-]+)(\/[^']*)?'/g)) {
        const target = m[1]!
        if (target === unit.name) continue
        if (!allowed.includes(target))
          t.fail(
            `${path.relative(root, file)} imports ${target}, which ${unit.name} must not depend on`,
          )
      }
    }
  }
})

t.test('everything runs on the pinned Node 24', async (t) => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
  t.equal(major, 24, `node ${process.versions.node}`)
  t.ok(minor >= 12, 'at least 24.12')
})
