import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { restartDelayMs } from './health-state.ts'

/** What the embedded database is doing, for /ready's reason and the logs. */
export type EmbeddedState = { status: 'running' } | { status: 'restarting'; since: number; attempts: number; lastError?: string } | { status: 'stopped' }

/**
 * Every process whose working directory is `dataDir`: the postmaster and
 * all its backends (Postgres chdirs into its data directory and children
 * inherit it). Backends are not in the postmaster's process group (each
 * calls setsid), so this is how they are found: to continue a stopped
 * cluster, or to end the orphans of a postmaster that was killed. Linux
 * only (/proc); elsewhere none are found and Postgres' own checks remain.
 */
export function processesIn(dataDir: string): number[] {
  let target: string
  let entries: string[]
  try {
    target = fs.realpathSync(dataDir)
    entries = fs.readdirSync('/proc')
  } catch {
    return []
  }
  const pids: number[] = []
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue
    try {
      if (fs.readlinkSync(`/proc/${e}/cwd`) === target) pids.push(Number(e))
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    /* already gone */
  }
}

function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer))
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/**
 * Stops a postmaster in whatever state it is: already dead (returns at
 * once), stopped with SIGSTOP (continued first, or it would never act on
 * the request), or too slow (fast shutdown, then immediate, then SIGKILL).
 * Bounded at about 15 s in all.
 */
export async function stopPostmaster(child: ChildProcess, dataDir: string, log: (m: string) => void): Promise<void> {
  if (hasExited(child)) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (const pid of processesIn(dataDir)) signal(pid, 'SIGCONT')
  child.kill('SIGINT') // fast shutdown: open transactions roll back, nothing committed is lost
  if (await within(exited, 10_000)) return
  log('embedded Postgres did not stop within 10 s: immediate shutdown')
  child.kill('SIGQUIT')
  if (await within(exited, 3_000)) return
  for (const pid of processesIn(dataDir)) signal(pid, 'SIGKILL')
  child.kill('SIGKILL')
  await within(exited, 2_000)
}

/**
 * After its postmaster died, its backends notice within moments and exit,
 * but while they live they hold the shared memory the next postmaster must
 * create (it refuses: "pre-existing shared memory block is still in use").
 * They belong to a dead cluster that crash recovery will replay anyway, so
 * they are ended rather than waited for.
 */
export async function endOrphans(dataDir: string): Promise<void> {
  const orphans = processesIn(dataDir)
  for (const pid of orphans) signal(pid, 'SIGKILL')
  const deadline = Date.now() + 3_000
  while (processesIn(dataDir).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
}

export interface SupervisorOptions {
  dataDir: string
  /** Starts a new postmaster (same data directory and port); rejects when it does not come up. */
  launch(): Promise<ChildProcess>
  log: { info(m: string, o?: object): void; warn(m: string, o?: object): void }
}

export interface Supervisor {
  state(): EmbeddedState
  stop(): Promise<void>
}

/**
 * Keeps the embedded Postgres running: when its postmaster exits without
 * being asked to, a new one is started on the same port with backoff
 * (restartDelayMs), so the pools' URLs stay valid and their next connection
 * finds it. Committed data survives (crash recovery replays the WAL); work
 * in flight fails and is retried by its owner (the engine backs off, a read
 * answers 503).
 */
export function supervise(first: ChildProcess, o: SupervisorOptions): Supervisor {
  let current: ChildProcess | undefined
  let state: EmbeddedState = { status: 'running' }
  let stopping = false
  let timer: NodeJS.Timeout | undefined
  let attempt: Promise<void> | undefined

  function watch(child: ChildProcess): void {
    current = child
    child.once('exit', (code, sig) => {
      if (stopping || current !== child) return
      current = undefined
      state = { status: 'restarting', since: Date.now(), attempts: 0 }
      o.log.warn('embedded Postgres exited unexpectedly; restarting it', { code, signal: sig })
      schedule()
    })
  }

  function schedule(): void {
    if (stopping || state.status !== 'restarting') return
    const delay = restartDelayMs(state.attempts + 1)
    timer = setTimeout(() => {
      attempt = restart().finally(() => (attempt = undefined))
    }, delay)
  }

  async function restart(): Promise<void> {
    if (state.status !== 'restarting' || stopping) return
    const s = state
    s.attempts++
    try {
      await endOrphans(o.dataDir)
      const child = await o.launch()
      if (stopping) return void (await stopPostmaster(child, o.dataDir, (m) => o.log.warn(m)))
      watch(child)
      state = { status: 'running' }
      o.log.info('embedded Postgres restarted', { attempts: s.attempts, downMs: Date.now() - s.since })
    } catch (err) {
      s.lastError = err instanceof Error ? err.message.split('\n')[0] : String(err)
      o.log.warn('embedded Postgres restart failed; retrying', { attempt: s.attempts, err: s.lastError, retryInMs: restartDelayMs(s.attempts + 1) })
      schedule()
    }
  }

  watch(first)
  return {
    state: () => state,
    async stop() {
      stopping = true
      clearTimeout(timer)
      // A start under way is let finish (bounded), then stopped like any other.
      if (attempt) await within(attempt, 15_000)
      const child = current
      current = undefined
      state = { status: 'stopped' }
      if (child) await stopPostmaster(child, o.dataDir, (m) => o.log.warn(m))
    },
  }
}
