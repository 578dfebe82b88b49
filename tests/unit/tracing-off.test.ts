import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// Tracing off must cost nothing: no OpenTelemetry module is loaded unless
// OTEL_* turns it on. The only door is server/otel.ts, and only main.ts
// opens it, with a dynamic import after reading the configuration. This
// holds the code to that: a static value import of the SDK anywhere else (or
// of otel.ts) would load it for every run.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const TRACING_PACKAGES = /^(@opentelemetry\/|@prisma\/instrumentation)/

function serverFiles(dir = path.join(root, 'server')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return e.name === 'generated' ? [] : serverFiles(p)
    return e.name.endsWith('.ts') ? [p] : []
  })
}

/** Imports that load a module at run time: every `import` declaration but `import type` (or all-type specifiers). */
function valueImports(file: string): { specifier: string; dynamic: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: { specifier: string; dynamic: boolean }[] = []
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const typeOnly =
        clause?.isTypeOnly ||
        (clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly))
      if (!typeOnly) found.push({ specifier: node.moduleSpecifier.text, dynamic: false })
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0]))
      found.push({ specifier: node.arguments[0].text, dynamic: true })
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('tracing off loads nothing of OpenTelemetry', () => {
  const files = serverFiles()
  it('only server/otel.ts imports the SDK and the instrumentations (others at most their types)', () => {
    const offenders = files
      .filter((f) => !f.endsWith(path.join('server', 'otel.ts')))
      .flatMap((f) =>
        valueImports(f)
          .filter((i) => TRACING_PACKAGES.test(i.specifier))
          .map((i) => `${path.relative(root, f)}: ${i.specifier}`),
      )
    expect(offenders).toEqual([])
    expect(valueImports(path.join(root, 'server/otel.ts')).some((i) => TRACING_PACKAGES.test(i.specifier))).toBe(true)
  })

  it('otel.ts is loaded only by main.ts, dynamically, before the server', () => {
    const importers = files.flatMap((f) =>
      valueImports(f)
        .filter((i) => /\/otel\.ts$/.test(i.specifier))
        .map((i) => ({ file: path.relative(root, f), ...i })),
    )
    expect(importers).toEqual([{ file: 'server/main.ts', specifier: './otel.ts', dynamic: true }])
    const main = valueImports(path.join(root, 'server/main.ts'))
    // The server comes after tracing: a static import would be evaluated before main's first line.
    expect(main.filter((i) => !i.dynamic).map((i) => i.specifier)).not.toContain('./server.ts')
    expect(main.filter((i) => i.dynamic).map((i) => i.specifier)).toEqual(['./otel.ts', './server.ts'])
  })
})
