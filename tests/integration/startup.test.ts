import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { postgresPidsFor, startProcess, startupRecord } from '../helpers/process.ts'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-start-'))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

const env = { PORT: '0', SLOTSYNC_DATA_DIR: dataDir, LOG_LEVEL: 'info', SANDBOX_PORT: '0' }

describe('the service as `npm start` runs it', () => {
  it('starts on the embedded Postgres with no configuration, answers /ready, and stops it on SIGTERM', async () => {
    const p = await startProcess('server/main.ts', env)
    try {
      const ready = await fetch(`${p.url}/ready`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toEqual({ ready: true, database: true, migrations: true })
      // One structured start-up record; the generated token stays off a pipe.
      const banner = startupRecord(p.output())
      expect(banner).toMatchObject({
        url: p.url,
        dashboard: `${p.url}/`,
        database: 'embedded',
        dataDir: path.join(dataDir, 'postgres'),
        partnerSandbox: true,
        syncEnabled: true,
        // OCTO_API_KEYS unset: the face is off, and the record says so.
        octo: 'off',
      })
      expect(banner!.adminTokenHint).toMatch(/not shown \(stdout is not a terminal\): set ADMIN_TOKEN/)
      expect(p.output()).not.toMatch(/admin token for this run/)
      expect(
        p
          .output()
          .split('\n')
          .filter((l) => l.trim() && !l.startsWith('{')),
      ).toEqual([])
      expect(postgresPidsFor(path.join(dataDir, 'postgres')).length).toBe(1)
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
    expect(postgresPidsFor(path.join(dataDir, 'postgres'))).toEqual([])
  })

  it('reuses the data on the next start instead of initialising again', async () => {
    const p = await startProcess('server/main.ts', env)
    try {
      expect((await fetch(`${p.url}/ready`)).status).toBe(200)
      expect(p.output()).not.toContain('initialising a new Postgres cluster')
      expect(p.output()).not.toContain('applied migration')
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
  })

  it('recovers after kill -9 left Postgres running on the data directory', async () => {
    const first = await startProcess('server/main.ts', env)
    first.child.kill('SIGKILL')
    await first.exited
    const orphans = postgresPidsFor(path.join(dataDir, 'postgres'))
    expect(orphans.length).toBe(1)
    const second = await startProcess('server/main.ts', env)
    try {
      expect((await fetch(`${second.url}/ready`)).status).toBe(200)
      expect(second.output()).toContain('left running by an earlier run')
    } finally {
      second.child.kill('SIGTERM')
    }
    expect(await second.exited).toBe(0)
    expect(postgresPidsFor(path.join(dataDir, 'postgres'))).toEqual([])
  })

  it('writes the start-up record at LOG_LEVEL=warn too, and nothing else at info', async () => {
    const p = await startProcess('server/main.ts', { ...env, LOG_LEVEL: 'warn' })
    try {
      expect(startupRecord(p.output())).toMatchObject({ level: 30, url: p.url })
      const infoLines = p
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{"level":30'))
      expect(infoLines).toHaveLength(1)
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
  })

  it('stops at start with one message naming a bad variable', async () => {
    await expect(startProcess('server/main.ts', { ...env, PORT: 'eighty' }, 10_000)).rejects.toThrow(/exited with 2[\s\S]*PORT/)
  })
})
