import type pg from 'pg'

/**
 * The real pool, with every statement it is sent recorded by its prepared
 * name (or text): how many queries a read costs is measured, not mocked.
 */
export function countingPool(pool: Pick<pg.Pool, 'query'>): { pool: Pick<pg.Pool, 'query'>; queries: string[] } {
  const queries: string[] = []
  return {
    queries,
    pool: {
      query: ((q: string | { name?: string; text: string }, ...rest: unknown[]) => {
        queries.push(typeof q === 'string' ? q : (q.name ?? q.text))
        return (pool.query as (...a: unknown[]) => unknown)(q, ...rest)
      }) as pg.Pool['query'],
    },
  }
}
