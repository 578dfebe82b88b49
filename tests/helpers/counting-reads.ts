import type { Db } from '../../server/db/client.ts'

/**
 * The real client, with every raw read it is sent recorded by the name in
 * the statement's leading comment (or its text): how many queries a read
 * costs is measured, not mocked.
 */
export function countingReads(prisma: Pick<Db, '$queryRaw'>): { prisma: Pick<Db, '$queryRaw'>; queries: string[] } {
  const queries: string[] = []
  return {
    queries,
    prisma: {
      $queryRaw: ((q: { sql?: string } | TemplateStringsArray, ...rest: unknown[]) => {
        const text = 'sql' in q && typeof q.sql === 'string' ? q.sql : String(q)
        queries.push(/^\/\* (\w+) \*\//.exec(text)?.[1] ?? text)
        return (prisma.$queryRaw as (...a: unknown[]) => unknown)(q, ...rest)
      }) as Db['$queryRaw'],
    },
  }
}
