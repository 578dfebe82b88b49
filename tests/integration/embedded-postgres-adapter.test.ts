import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../server/db/embedded-postgres.ts'
import { loadEmbeddedPostgres } from '../../server/db/embedded-postgres-adapter.ts'

// The workarounds in embedded-postgres-adapter.ts, each checked against the real library and a real cluster.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-adapter-'))
let db: EmbeddedDatabase | undefined
afterAll(async () => {
  await db?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const processGroup = (pid: number) =>
  Number(
    execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)])
      .toString()
      .trim(),
  )

describe('the embedded-postgres adapter', () => {
  it('leaves none of the library exit hooks behind (#31, #35): nothing forces exit 0 or stops the cluster on a signal', async () => {
    await loadEmbeddedPostgres()
    const exitHook = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))('async-exit-hook') as { hookedEvents(): string[] }
    expect(exitHook.hookedEvents()).toEqual([])
  })

  it('runs Postgres in its own process group (#28), so a Ctrl-C to ours does not reach it; stop() stops it', async () => {
    db = await startEmbeddedPostgres({ dataDir })
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    expect(processGroup(pid)).toBe(pid)
    expect(processGroup(pid)).not.toBe(processGroup(process.pid))
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await c.end()
    await db.stop()
    expect(() => process.kill(pid, 0)).toThrow()
  })
})
