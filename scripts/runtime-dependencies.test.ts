// An image installs production dependencies only: a package imported at run time but declared
// only as a devDependency (or not at all) crashes the container at start. Walks the production
// import graph of both processes and fails on any import its package does not declare.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runtimeImports, undeclaredImports } from './import-graph.ts'
import { workspacePackages } from './image-install.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const workspace = new Map(
  [...workspacePackages(root).values()].map((p) => [p.name, path.join(root, p.dir)]),
)

for (const entry of [
  'apps/api/src/main.ts',
  'apps/worker/src/main.ts',
  'packages/db/src/cli/main.ts',
])
  t.test(`every run-time import reachable from ${entry} is declared in dependencies`, async (t) => {
    const { visited, undeclared } = undeclaredImports([path.join(root, entry)], workspace)
    t.ok(visited.length > 5, `walked ${visited.length} modules`)
    t.ok(
      visited.some((f) => f.includes(`${path.sep}packages${path.sep}config${path.sep}`)),
      'the walk went into workspace packages',
    )
    t.same(
      undeclared.map(
        (u) =>
          `${path.relative(root, u.file)} imports ${u.specifier}: add "${u.pkg}" to dependencies of ${path.relative(root, u.packageJson)}`,
      ),
      [],
    )
  })

t.test('type-only imports load nothing; value, re-export and dynamic imports count', async (t) => {
  const src = [
    "import type { A } from 'types-only'",
    "import { type B, c } from 'mixed'",
    "export { d } from 'reexported'",
    "export type { E } from 'type-reexport'",
    "const m = await import('dynamic')",
    "import 'side-effect'",
  ].join('\n')
  t.same(runtimeImports('x.ts', src).sort(), ['dynamic', 'mixed', 'reexported', 'side-effect'])
})

t.test(
  'the check fails on a devDependency imported at run time, across a workspace link',
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xeno-deps-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const write = (p: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true })
      writeFileSync(path.join(dir, p), text)
    }
    write(
      'apps/a/package.json',
      JSON.stringify({ name: '@x/a', dependencies: { '@x/lib': 'workspace:*' } }),
    )
    write('apps/a/src/main.ts', "import { f } from '@x/lib'\nimport './local.ts'\nf()\n")
    write('apps/a/src/local.ts', "import 'node:fs'\nimport 'fs'\n")
    write(
      'packages/lib/package.json',
      JSON.stringify({
        name: '@x/lib',
        exports: { '.': './src/index.ts' },
        dependencies: { zod: '^4' },
        devDependencies: { pg: '^8' },
      }),
    )
    write(
      'packages/lib/src/index.ts',
      "import 'zod'\nimport pg from 'pg'\nexport const f = () => pg\n",
    )
    write('packages/lib/src/index.test.ts', "import 'tap'\n")
    const { undeclared } = undeclaredImports(
      [path.join(dir, 'apps/a/src/main.ts')],
      new Map([['@x/lib', path.join(dir, 'packages/lib')]]),
    )
    t.same(
      undeclared.map((u) => [path.relative(dir, u.file), u.pkg]),
      [['packages/lib/src/index.ts', 'pg']],
    )
  },
)
