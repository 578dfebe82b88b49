import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * Dependencies point down: the API uses the domain rooms, a domain room never
 * uses the API (docs: architecture). The TypeScript parser finds every way a
 * file can reach another module, so no spelling slips past: static and
 * type-only imports, re-exports, `import x = require()`, `import('…')` as a
 * call or in a type position, and `require()`.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const api = path.join(root, 'server', 'api')
const DOMAIN_ROOMS = ['server/sync', 'server/availability', 'server/db']

interface ModuleReference {
  specifier: string | undefined
  line: number
}

/** Every module a source file refers to; `specifier` is undefined for a dynamic import whose target is computed. */
function moduleReferences(fileName: string, text: string): ModuleReference[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: ModuleReference[] = []
  const add = (node: ts.Node, expr: ts.Node | undefined) => {
    const specifier = expr && (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) ? expr.text : undefined
    found.push({ specifier, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier) add(node, node.moduleSpecifier)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal)
    } else if (ts.isCallExpression(node)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require'
      if (isDynamicImport || isRequire) add(node, node.arguments[0])
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** Why this file breaks the rule, one line per reference into server/api or per import whose target cannot be known. */
function violations(fileName: string, text: string): string[] {
  const rel = path.relative(root, fileName)
  return moduleReferences(fileName, text).flatMap(({ specifier, line }) => {
    if (specifier === undefined) return [`${rel}:${line} imports a computed module name (cannot check its direction)`]
    // Bare names are packages; the project has no path aliases, so only a relative path can reach server/api.
    if (!specifier.startsWith('.') && !path.isAbsolute(specifier)) return []
    const target = path.resolve(path.dirname(fileName), specifier)
    return target === api || target.startsWith(api + path.sep) ? [`${rel}:${line} imports ${specifier}`] : []
  })
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[cm]?tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f))
}

describe('import direction: domain rooms never import from server/api', () => {
  for (const room of DOMAIN_ROOMS) {
    it(`${room} has no import of server/api`, () => {
      const files = sourceFiles(path.join(root, room))
      expect(files.length).toBeGreaterThan(0)
      const found = files.flatMap((f) => violations(f, readFileSync(f, 'utf8')))
      expect(found).toEqual([])
    })
  }

  // The check is only as good as the spellings it sees: each of these must be caught.
  const inSync = path.join(root, 'server/sync/example.ts')
  it.each([
    ["import { x } from '../api/services.ts'", 'static'],
    ["import type { SyncService } from '../api/services.ts'", 'type-only'],
    ["import { type X } from '../api/services'", 'inline type, no extension'],
    ["import '../api/trpc.ts'", 'side effect'],
    ["export * from '../api/schemas.ts'", 're-export'],
    ["export { a } from '../api/errors.ts'", 'named re-export'],
    ["const m = await import('../api/rest.ts')", 'dynamic'],
    ['const m = await import(`../api/rest.ts`)', 'dynamic, template literal'],
    ["type S = import('../api/services.ts').Services", 'import type node'],
    ["import x = require('../api/errors.ts')", 'import = require'],
    ["const e = require('../api/errors.js')", 'require'],
    ["import * as api from '../../server/api/index.ts'", 'round trip through the root'],
    ["import * as api from '../api'", 'the folder itself'],
    ['function f(n: string) { return import(n) }', 'computed dynamic import'],
  ])('catches %s (%s)', (code) => {
    expect(violations(inSync, code)).toHaveLength(1)
  })

  it.each([
    ["import { z } from 'zod'", 'a package'],
    ["import { tierOf } from './tiers.ts'", 'a sibling'],
    ["import { x } from '../apiary/x.ts'", 'a folder whose name starts like api'],
    ["const s = '../api/services.ts'", 'a string that is not an import'],
    ["// import { x } from '../api/services.ts'", 'a comment'],
  ])('lets %s pass (%s)', (code) => {
    expect(violations(inSync, code)).toEqual([])
  })
})
