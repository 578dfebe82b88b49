import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { ensureDatabase, startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts'
import { applyMigrations } from '../../server/db/migrate.ts'

export const TEMPLATE_DB = 'slotsync_template'

/**
 * One embedded Postgres cluster for the whole run. A template database gets
 * the migrations once; each test file clones it (tests/helpers/db.ts), so
 * files run in parallel without sharing rows.
 */
export default async function setup(project: TestProject) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-test-pg-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  await ensureDatabase(pg.url, TEMPLATE_DB)
  await applyMigrations(pg.urlFor(TEMPLATE_DB))
  project.provide('pgAdminUrl', pg.url)
  project.provide('pgTemplate', TEMPLATE_DB)
  return async () => {
    await pg.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string
    pgTemplate: string
  }
}
