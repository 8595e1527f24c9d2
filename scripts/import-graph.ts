// The production import graph of an entry file: every module Node loads at run time from it,
// following relative imports and workspace packages (through their `exports`), never test files.
// Type-only imports are erased by type stripping and load nothing, so they are left out.
import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import ts from 'typescript'

export type Undeclared = { file: string; specifier: string; pkg: string; packageJson: string }

type Manifest = {
  name: string
  dependencies?: Record<string, string>
  exports?: Record<string, string> | string
}

/** Module specifiers a file loads at run time (static, re-exports and literal dynamic imports). */
export function runtimeImports(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const out: string[] = []
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.importClause?.isTypeOnly) out.push(node.moduleSpecifier.text)
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!node.isTypeOnly) out.push(node.moduleSpecifier.text)
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push(node.arguments[0].text)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

const builtins = new Set(builtinModules)

function nearestManifest(file: string): { dir: string; manifest: Manifest } {
  let dir = path.dirname(file)
  for (;;) {
    const p = path.join(dir, 'package.json')
    if (existsSync(p)) return { dir, manifest: JSON.parse(readFileSync(p, 'utf8')) as Manifest }
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`no package.json above ${file}`)
    dir = up
  }
}

function isTestFile(file: string): boolean {
  return /\.test\.ts$/.test(file) || /[/\\]test[/\\]/.test(file)
}

/**
 * Walks from the entries; returns every import of a package the importing file's package does not
 * declare in `dependencies`. workspace maps workspace package names to their folders.
 */
export function undeclaredImports(
  entries: string[],
  workspace: Map<string, string>,
): { visited: string[]; undeclared: Undeclared[] } {
  const seen = new Set<string>()
  const undeclared: Undeclared[] = []
  const queue = [...entries]
  while (queue.length) {
    const file = queue.pop()!
    if (seen.has(file) || isTestFile(file)) continue
    seen.add(file)
    const owner = nearestManifest(file)
    for (const spec of runtimeImports(file, readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        queue.push(path.resolve(path.dirname(file), spec))
        continue
      }
      if (spec.startsWith('node:') || builtins.has(spec)) continue
      const pkg = packageName(spec)
      if (pkg !== owner.manifest.name && !owner.manifest.dependencies?.[pkg])
        undeclared.push({
          file,
          specifier: spec,
          pkg,
          packageJson: path.join(owner.dir, 'package.json'),
        })
      const wsDir = workspace.get(pkg)
      if (wsDir) {
        const m = JSON.parse(readFileSync(path.join(wsDir, 'package.json'), 'utf8')) as Manifest
        const sub = `.${spec.slice(pkg.length)}`
        const target =
          typeof m.exports === 'string' ? (sub === '.' ? m.exports : undefined) : m.exports?.[sub]
        if (!target) throw new Error(`${spec} (from ${file}) is not exported by ${pkg}`)
        queue.push(path.resolve(wsDir, target))
      }
    }
  }
  return { visited: [...seen], undeclared }
}
