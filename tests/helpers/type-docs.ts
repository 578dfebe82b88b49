import path from 'node:path'
import ts from 'typescript'

/**
 * What an editor shows on hover, checked for every field of the SDK's
 * procedures: the properties of `RouterInputs` and `RouterOutputs`, as a
 * consumer's TypeScript resolves them (through the checker, so inferred and
 * mapped types count), each with the doc comment of its declaration.
 */
export interface DocReport {
  /** Every property walked: `input:` or `output:` + router.procedure.field path. */
  checked: string[]
  /** Those without a doc comment. */
  undocumented: string[]
}

/**
 * Compiles a module importing `RouterInputs`/`RouterOutputs` from `specifier`,
 * as if written at `probeFile`, and walks both types. Only properties declared
 * in a file for which `own(fileName)` holds are the SDK's to document; a
 * library's wrapper (Array, AsyncIterable, Record) is looked through.
 */
export function sdkFieldDocs(opts: { probeFile: string; specifier: string; options: ts.CompilerOptions; own: (fileName: string) => boolean }): DocReport {
  const text = `import type { RouterInputs, RouterOutputs } from '${opts.specifier}'\nexport type inputs = RouterInputs\nexport type outputs = RouterOutputs\n`
  const probe = path.resolve(opts.probeFile)
  const host = ts.createCompilerHost(opts.options)
  const { getSourceFile, fileExists } = host
  // The program's own options for the file (its module format, from its extension and package.json).
  host.getSourceFile = (f, version, ...rest) => (path.resolve(f) === probe ? ts.createSourceFile(f, text, version, true) : getSourceFile(f, version, ...rest))
  host.fileExists = (f) => path.resolve(f) === probe || fileExists(f)
  const program = ts.createProgram([probe], { ...opts.options, noEmit: true }, host)
  const errors = ts.getPreEmitDiagnostics(program, program.getSourceFile(probe))
  if (errors.length) throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => '/', getNewLine: () => '\n' }))
  const checker = program.getTypeChecker()
  const module = checker.getSymbolAtLocation(program.getSourceFile(probe)!)!
  const report: DocReport = { checked: [], undocumented: [] }
  const isOwn = (s: ts.Symbol) => (s.declarations ?? []).some((d) => opts.own(d.getSourceFile().fileName))
  const walk = (type: ts.Type, key: string, depth: number): void => {
    // A guard, not a limit the payloads come near: a self-referential type would recurse for ever.
    if (depth > 24) return
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) walk(t, key, depth + 1)
      return
    }
    if (!(type.flags & ts.TypeFlags.Object)) return
    const props = checker.getPropertiesOfType(type).filter(isOwn)
    if (props.length === 0) {
      const ref = ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) !== 0
      const args = type.aliasTypeArguments ?? (ref ? checker.getTypeArguments(type as ts.TypeReference) : [])
      for (const t of args) walk(t, key, depth + 1)
      return
    }
    for (const p of props) {
      const k = key.endsWith(':') ? `${key}${p.name}` : `${key}.${p.name}`
      report.checked.push(k)
      if (!ts.displayPartsToString(p.getDocumentationComment(checker)).trim()) report.undocumented.push(k)
      walk(checker.getTypeOfSymbol(p), k, depth + 1)
    }
  }
  for (const io of ['input', 'output']) {
    const alias = checker.getExportsOfModule(module).find((s) => s.name === `${io}s`)!
    walk(checker.getDeclaredTypeOfSymbol(alias), `${io}:`, 0)
  }
  return report
}
