import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { ensureDatabase, startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts'
import { applyMigrations } from '../../server/db/migrate.ts'

/**
 * One Postgres for the whole run. A template database gets the migrations
 * once; each test file clones it (tests/helpers/db.ts), so files run in
 * parallel without sharing rows.
 *
 * By default an embedded cluster of its own. `.ci/run`'s real-Postgres legs
 * point the tests at a server instead (test-only variables, not the
 * service's configuration):
 *   SLOTSYNC_TEST_DATABASE_URL  a superuser URL of that server, direct: test
 *                               databases are created and dropped through it
 *   SLOTSYNC_TEST_CONNECT_URL   where tests and the service connect to those
 *                               databases (e.g. a PgBouncer in front of it);
 *                               default: the same server
 */
export default async function setup(project: TestProject) {
  const external = process.env.SLOTSYNC_TEST_DATABASE_URL
  if (external) {
    // A name of this run's own: runs on one server must not share a template.
    const template = `slotsync_template_${randomBytes(4).toString('hex')}`
    await ensureDatabase(external, template)
    await applyMigrations(withDatabase(external, template))
    project.provide('pgAdminUrl', external)
    project.provide('pgConnectUrl', process.env.SLOTSYNC_TEST_CONNECT_URL || external)
    project.provide('pgTemplate', template)
    return async () => {
      const c = new pg.Client({ connectionString: external })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {})
      await c.end()
    }
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-test-pg-'))
  const cluster = await startEmbeddedPostgres({ dataDir })
  const template = 'slotsync_template'
  await ensureDatabase(cluster.url, template)
  await applyMigrations(cluster.urlFor(template))
  project.provide('pgAdminUrl', cluster.url)
  project.provide('pgConnectUrl', cluster.url)
  project.provide('pgTemplate', template)
  return async () => {
    await cluster.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Direct superuser URL: create and drop databases here. */
    pgAdminUrl: string
    /** Where test databases are reached (the same server, or a pooler before it). */
    pgConnectUrl: string
    pgTemplate: string
  }
}
