import type pg from 'pg'

// A connection that dies while checked out (Postgres restarted between two
// statements of a transaction) emits 'error' on the client; with no listener
// that is an uncaught exception. The statement in progress, or the next one,
// fails with the same error, which is where it is handled.
const ignore = () => {}

/** No SQLSTATE, or a connection/shutdown class (08, 57): the connection itself is gone. */
function connectionLost(err: unknown): boolean {
  const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : ''
  return !/^[0-9A-Z]{5}$/.test(code) || /^(08|57)/.test(code)
}

/** Runs `fn` in one transaction on one pooled connection: commit on success, roll back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  client.on('error', ignore)
  let broken: unknown
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    broken = err
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.off('error', ignore)
    // A connection that failed mid-transaction is not trusted back into the pool.
    client.release(broken !== undefined && connectionLost(broken) ? (broken as Error) : undefined)
  }
}
