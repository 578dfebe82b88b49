import * as highsModule from 'highs'

/** A linear program in CPLEX LP format, solved by HiGHS (WebAssembly); throws unless optimal. */
export interface LpSolution {
  objective: number
  columns: Record<string, { Primal: number }>
  ms: number
}

type Loader = (typeof highsModule.default)['default']
let solver: ReturnType<Loader> | undefined

export async function solveLp(text: string): Promise<LpSolution> {
  // The package types its ESM build as CommonJS (so `default` reads as the module); at run time it is the loader.
  solver ??= (highsModule.default as unknown as Loader)()
  const highs = await solver
  const t = Date.now()
  const r = highs.solve(text, { presolve: 'on' })
  if (r.Status !== 'Optimal') throw new Error(`LP not solved: ${r.Status}`)
  return { objective: r.ObjectiveValue, columns: r.Columns as Record<string, { Primal: number }>, ms: Date.now() - t }
}
