/**
 * Doc comments for the SDK's copy of the router type. TypeScript's
 * declaration emit prints a procedure's inferred input and output (zod's
 * `z.infer`, mapped types) without the comments of the fields they come
 * from, though the checker still knows them (an editor shows them on hover
 * in the server's code). This reads them through the checker and puts each
 * back on the property it belongs to in the printed type, so a consumer's
 * editor shows them too.
 *
 * A field's doc: its TSDoc comment in the schema, else the `description` of
 * its `.meta()` (what the OpenAPI document shows), following a schema named by
 * a variable (`productId: productIdSchema`) to its definition.
 */
import ts from 'typescript'

/** Docs by key: `output:<router>.<procedure>` for the router's entries, `<input|output>:<procedure path>.<field path>` for fields. */
export type FieldDocs = Map<string, string>

/**
 * Walks `inferRouterInputs<AppRouter>` and `inferRouterOutputs<AppRouter>`
 * (the types named `inputs` and `outputs` in `file`) and collects the doc of
 * every property declared in the project's own code.
 */
export function collectFieldDocs(program: ts.Program, file: string): FieldDocs {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  const module = source && checker.getSymbolAtLocation(source)
  if (!module) throw new Error(`no module ${file}`)
  const own = (s: ts.Symbol) =>
    (s.declarations ?? []).some((d) => {
      const sf = d.getSourceFile()
      return !program.isSourceFileFromExternalLibrary(sf) && !program.isSourceFileDefaultLibrary(sf) && !sf.fileName.includes('/node_modules/')
    })
  const docs: FieldDocs = new Map()
  const walk = (type: ts.Type, key: string, depth: number): void => {
    // A guard, not a limit the payloads come near: a self-referential type would recurse for ever.
    if (depth > 24) return
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) walk(t, key, depth + 1)
      return
    }
    if (!(type.flags & ts.TypeFlags.Object)) return
    const props = checker.getPropertiesOfType(type).filter(own)
    if (props.length === 0) {
      // A library's wrapper (Array, AsyncIterable, Record, tRPC's TrackedData): what it wraps.
      const args = type.aliasTypeArguments ?? (isReference(type) ? checker.getTypeArguments(type) : [])
      for (const t of args) walk(t, key, depth + 1)
      return
    }
    for (const p of props) {
      const k = key.endsWith(':') ? `${key}${p.name}` : `${key}.${p.name}`
      const doc = docOf(p, checker)
      if (doc) docs.set(k, doc)
      walk(checker.getTypeOfSymbol(p), k, depth + 1)
    }
  }
  for (const io of ['input', 'output'] as const) {
    const alias = checker.getExportsOfModule(module).find((s) => s.name === `${io}s`)
    if (!alias) throw new Error(`${file} exports no type ${io}s`)
    walk(checker.getDeclaredTypeOfSymbol(alias), `${io}:`, 0)
  }
  return docs
}

const isReference = (t: ts.Type): t is ts.TypeReference => ((t as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) !== 0

function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): string | undefined {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()
  if (text) return text
  for (const d of symbol.declarations ?? []) {
    if (ts.isPropertyAssignment(d)) {
      const described = metaDescription(d.initializer, checker)
      if (described) return described
    }
  }
  return undefined
}

/** The outermost `.meta({ description: '…' })` of a zod schema expression, through the variables it starts from. */
function metaDescription(start: ts.Expression, checker: ts.TypeChecker): string | undefined {
  let expr: ts.Expression = start
  // A few variables deep at most (`x = y.optional()`, `y = z.string().meta()`); the bound stops a cycle.
  for (let hops = 0; hops < 8; ) {
    if (ts.isCallExpression(expr)) {
      if (ts.isPropertyAccessExpression(expr.expression) && expr.expression.name.text === 'meta') {
        const arg = expr.arguments[0]
        const description =
          arg && ts.isObjectLiteralExpression(arg)
            ? arg.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'description')
            : undefined
        if (description && ts.isStringLiteralLike(description.initializer)) return description.initializer.text
      }
      expr = expr.expression
    } else if (ts.isPropertyAccessExpression(expr) || ts.isParenthesizedExpression(expr)) {
      expr = expr.expression
    } else if (ts.isIdentifier(expr)) {
      let symbol = checker.getSymbolAtLocation(expr)
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol)
      const decl = symbol?.valueDeclaration
      if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer) return undefined
      expr = decl.initializer
      hops++
    } else {
      return undefined
    }
  }
  return undefined
}

/**
 * Puts the docs on the printed router type (`TRPCBuiltRouter<…,
 * TRPCDecorateCreateRouterOptions<{ … }>>`): on each router and procedure
 * entry, and on each field of a procedure's input and output. Returns the
 * keys of the fields that have none.
 */
export function attachFieldDocs(router: ts.TypeNode, docs: FieldDocs): string[] {
  const undocumented: string[] = []
  const note = (node: ts.Node, key: string, required: boolean) => {
    const doc = docs.get(key)
    // Declaration emit keeps the comment of a property written out in the
    // router's own object literal (the root router's entries): printed from there.
    if (ts.getJSDocCommentsAndTags(ts.getOriginalNode(node)).length > 0) return
    // One line: the printer does not indent the lines of a comment it is handed.
    if (doc) ts.addSyntheticLeadingComment(node, ts.SyntaxKind.MultiLineCommentTrivia, `* ${doc.replace(/\s+/g, ' ').replaceAll('*/', '*\\/')} `, true)
    else if (required) undocumented.push(key)
  }
  const refName = (n: ts.TypeNode | undefined) => (n && ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName) ? n.typeName.text : undefined)
  const members = (n: ts.TypeNode | undefined) => (n && ts.isTypeLiteralNode(n) ? n.members.filter(ts.isPropertySignature) : [])
  const nameOf = (m: ts.PropertySignature) => (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText())

  const fields = (node: ts.TypeNode | undefined, key: string): void => {
    if (!node) return
    if (ts.isTypeLiteralNode(node)) {
      for (const m of members(node)) {
        const k = key.endsWith(':') ? `${key}${nameOf(m)}` : `${key}.${nameOf(m)}`
        note(m, k, true)
        fields(m.type, k)
      }
    } else if (ts.isUnionTypeNode(node) || ts.isIntersectionTypeNode(node)) {
      for (const t of node.types) fields(t, key)
    } else if (ts.isArrayTypeNode(node)) fields(node.elementType, key)
    else if (ts.isParenthesizedTypeNode(node) || ts.isTypeOperatorNode(node)) fields(node.type, key)
    else if (ts.isTypeReferenceNode(node)) for (const t of node.typeArguments ?? []) fields(t, key)
  }
  const entries = (node: ts.TypeNode | undefined, path: string): void => {
    if (!node || refName(node) !== 'TRPCBuiltRouter' || !ts.isTypeReferenceNode(node)) return
    const record = node.typeArguments?.[1]
    if (refName(record) !== 'TRPCDecorateCreateRouterOptions' || !record || !ts.isTypeReferenceNode(record)) return
    for (const m of members(record.typeArguments?.[0])) {
      const p = path ? `${path}.${nameOf(m)}` : nameOf(m)
      note(m, `output:${p}`, false)
      if (refName(m.type) === 'TRPCBuiltRouter') entries(m.type, p)
      else if (m.type && ts.isTypeReferenceNode(m.type) && refName(m.type)?.endsWith('Procedure')) {
        for (const part of members(m.type.typeArguments?.[0])) {
          const io = nameOf(part)
          if (io === 'input' || io === 'output') fields(part.type, `${io}:${p}`)
        }
      }
    }
  }
  entries(router, '')
  return undocumented
}
