// Nothing that runs, tests, benchmarks or documents Xeno may read outside its own checkout: a
// user's clone has nothing beside it. Every relative path written in a tracked file must resolve
// inside the repository, and no file may name the reference folder the project was built from.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Tracked files, as the checkout has them (the lockfile and large data files aside). */
function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  return (
    out
      .split('\0')
      .filter((f) => f && f !== 'pnpm-lock.yaml' && !f.endsWith('.graphql'))
      // This file's own examples of what the check catches.
      .filter((f) => f !== 'scripts/self-contained.test.ts')
  )
}

/** Relative paths (`../x`, `../../x`) written in a text; each with its line number. */
export function relativePaths(text: string): { line: number; ref: string }[] {
  const found: { line: number; ref: string }[] = []
  text.split('\n').forEach((l, i) => {
    for (const m of l.matchAll(/(?<![\w.])((?:\.\.\/)+)[\w.@{}$/-]*/g))
      found.push({ line: i + 1, ref: m[0] })
  })
  return found
}

t.test('every relative path in a tracked file stays inside the repository', async (t) => {
  const escapes: string[] = []
  for (const file of trackedTextFiles()) {
    let text: string
    try {
      text = readFileSync(path.join(root, file), 'utf8')
    } catch {
      continue // deleted in the working tree
    }
    if (text.includes('\0')) continue
    for (const { line, ref } of relativePaths(text)) {
      const resolved = path.resolve(root, path.dirname(file), ref)
      if (resolved !== root && !resolved.startsWith(root + path.sep)) {
        escapes.push(`${file}:${line}: ${ref}`)
      }
    }
    if (/\.\.\/shared\b|\bshared\/shopify\b/.test(text)) escapes.push(`${file}: names ../shared`)
  }
  t.same(escapes, [], 'no tracked file reaches outside the checkout')
})

t.test('the check sees a path that leaves the repository', async (t) => {
  t.same(relativePaths("new URL('../../../../x/y.json', import.meta.url)"), [
    { line: 1, ref: '../../../../x/y.json' },
  ])
  t.same(relativePaths('see [docs](../docs/a.md) and ./b'), [{ line: 1, ref: '../docs/a.md' }])
})
