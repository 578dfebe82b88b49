import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { dataDirError } from '../start-errors.ts'
import { assertRunnableAs, type Cluster, createCluster, loadEmbeddedPostgres } from './embedded-postgres-adapter.ts'
import { type EmbeddedState, stopPostmaster, supervise, type SupervisorOptions } from './embedded-supervisor.ts'

export interface EmbeddedDatabase {
  /** postgresql:// URL of the `postgres` database on the cluster. */
  url: string
  port: number
  dataDir: string
  /** Connection URL for another database on the same cluster. */
  urlFor(database: string): string
  /** Running, restarting after its postmaster died (when supervised), or stopped. */
  state(): EmbeddedState
  /** Bounded in every state: dead, stalled (SIGSTOP), restarting. */
  stop(): Promise<void>
}

export interface StartEmbeddedOptions {
  dataDir: string
  log?: (message: string) => void
  /** Default: any free port. A fixed one lets a restarted cluster keep its URL (clients reconnect to it). */
  port?: number
  /** Restart the postmaster when it dies (the service's own database); tests' clusters are not supervised. */
  supervise?: boolean
  /** Where the supervisor's records go (structured); default `log`. */
  supervisorLog?: SupervisorOptions['log']
}

const USER = 'postgres'
// Local-only cluster bound to 127.0.0.1; the password only keeps other local
// users out by accident, it is not a secret the service hands out.
const PASSWORD = 'slotsync-embedded'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

function postgresIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', USER]).toString().trim())
    const gid = Number(execFileSync('id', ['-g', USER]).toString().trim())
    return { uid, gid }
  } catch {
    return undefined
  }
}

/**
 * Postgres refuses to run as root; embedded-postgres then runs it as the
 * `postgres` user, which must own the data directory and be able to traverse
 * every parent of it. The library's `createPostgresUser` would create the
 * user only inside initialise(), right before the initdb spawn that must be
 * tried first (assertRunnableAs), so the user is made here, before that.
 */
function ensurePostgresUser(): { uid: number; gid: number } {
  let ids = postgresIds()
  if (!ids) {
    try {
      execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd postgres; useradd -g postgres -M -s /usr/sbin/nologin postgres'])
    } catch (err) {
      throw new Error(`running as root, and no "postgres" user exists to run the embedded Postgres as (creating one failed: ${(err as Error).message})`)
    }
    ids = postgresIds()
    if (!ids) throw new Error('running as root and the "postgres" user could not be created')
  }
  return ids
}

function prepareDirForRoot(dataDir: string): void {
  const ids = ensurePostgresUser()
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  fs.chownSync(dataDir, ids.uid, ids.gid)
  fs.chmodSync(dataDir, 0o700)
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode
    if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001)
  }
}

/** The first directory on the way to `file` that `uid`/`gid` may not traverse (mode bits only). */
export function blockingDir(file: string, uid: number, gid: number): string | undefined {
  const dirs: string[] = []
  for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
    dirs.unshift(dir)
    if (dir === path.dirname(dir)) break
  }
  for (const dir of dirs) {
    const st = fs.statSync(dir)
    const x = st.uid === uid ? st.mode & 0o100 : st.gid === gid ? st.mode & 0o010 : st.mode & 0o001
    if (!x) return dir
  }
  return undefined
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A crash (kill -9 of the service) can leave two things behind: a
 * postmaster.pid whose process is gone (harmless to Postgres, which checks
 * the pid, but removed here so a reused pid cannot fool it), or a Postgres
 * still running on this data directory with nobody to stop it. That one is
 * ours, so it is shut down before a new one starts.
 */
async function clearLeftovers(dataDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid')
  if (!fs.existsSync(pidFile)) return
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
    log(`removing stale ${pidFile}`)
    fs.rmSync(pidFile, { force: true })
    return
  }
  let cmd = ''
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    /* not Linux, or gone */
  }
  if (cmd && !cmd.includes('postgres')) {
    log(`removing ${pidFile}: pid ${pid} is not a Postgres process`)
    fs.rmSync(pidFile, { force: true })
    return
  }
  log(`a Postgres left running by an earlier run holds ${dataDir} (pid ${pid}); stopping it`)
  process.kill(pid, 'SIGINT')
  const deadline = Date.now() + 20_000
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  if (processAlive(pid)) throw new Error(`Postgres pid ${pid} on ${dataDir} did not stop; stop it by hand`)
}

/**
 * Starts a Postgres cluster in `dataDir`: initialised on first use, reused
 * after, on a free local port. Stopped by `stop()` only: nothing stops it
 * behind the caller's back (see embedded-postgres-adapter.ts). With
 * `supervise`, a postmaster that dies is started again on the same port
 * (embedded-supervisor.ts).
 */
export async function startEmbeddedPostgres(opts: StartEmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = opts.log ?? (() => {})
  const dataDir = path.resolve(opts.dataDir)
  // Checked before anything is created, so a refusal leaves nothing behind.
  await loadEmbeddedPostgres()
  if (isRoot()) {
    const ids = ensurePostgresUser()
    assertRunnableAs(ids, (file) => blockingDir(file, ids.uid, ids.gid))
  }
  const created = !fs.existsSync(dataDir)
  try {
    if (isRoot()) prepareDirForRoot(dataDir)
    else fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC'].includes(code)) throw dataDirError(dataDir, code)
    throw err
  }
  await clearLeftovers(dataDir, log)

  const port = opts.port ?? (await freePort())
  const pgLog: string[] = []
  const launch = async () => {
    const cluster = await createCluster({
      dataDir,
      port,
      user: USER,
      password: PASSWORD,
      // Listen on loopback only; no Unix socket dir that a non-root user could not write.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${os.tmpdir()}`, '-c', 'max_connections=300'],
      onLog: (m: string) => {
        pgLog.push(m)
        if (pgLog.length > 50) pgLog.shift()
      },
      onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
    })
    // initialise() on a directory that already holds a cluster fails: an existing one is only started.
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      log(`initialising a new Postgres cluster in ${dataDir}`)
      try {
        await cluster.initialise()
      } catch (err) {
        // A half-initialised cluster would make every later start fail differently.
        if (created) fs.rmSync(dataDir, { recursive: true, force: true })
        throw err
      }
    }
    try {
      await startWithin(cluster, START_TIMEOUT_MS)
    } catch (err) {
      const child = cluster.postmaster()
      if (child) await stopPostmaster(child, dataDir, log)
      throw new Error(`embedded Postgres did not start in ${dataDir}: ${err ? String(err) : ''}\n${pgLog.join('').slice(-2000)}`)
    }
    const child = cluster.postmaster()
    if (!child) throw new Error(`embedded Postgres did not start in ${dataDir}: no process`)
    return child
  }
  const postmaster = await launch()
  const supervisor = opts.supervise
    ? supervise(postmaster, {
        dataDir,
        launch: async () => {
          await clearLeftovers(dataDir, log)
          return launch()
        },
        log: opts.supervisorLog ?? { info: (m) => log(m), warn: (m) => log(m) },
      })
    : undefined
  const urlFor = (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`
  let stopped: Promise<void> | undefined
  return {
    url: urlFor('postgres'),
    port,
    dataDir,
    urlFor,
    state: () => supervisor?.state() ?? { status: stopped ? 'stopped' : 'running' },
    stop() {
      stopped ??= supervisor ? supervisor.stop() : stopPostmaster(postmaster, dataDir, log)
      return stopped
    },
  }
}

/** Crash recovery after a kill can take a while on a big WAL; a start that outlasts this is treated as failed. */
const START_TIMEOUT_MS = 60_000

async function startWithin(cluster: Cluster, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      cluster.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${ms / 1000} s`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Creates `name` on the cluster behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err // created concurrently
      })
    }
  } finally {
    await client.end()
  }
}
