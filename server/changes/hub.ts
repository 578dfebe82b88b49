import pg from 'pg'
import type { Db } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import { CHANGES_CHANNEL, parseNotifyPayload, type ChangeEvent } from './event.ts'
import { latestEventId, readChangesAfter } from './log.ts'

/**
 * One LISTEN connection per instance, a dedicated pg.Client: the one
 * exception to "Prisma is the data layer", because Prisma has no API for
 * notifications and a pooled connection cannot hold a LISTEN (behind a
 * transaction-pooling PgBouncer it would not even stay on one server
 * session; it connects to DATABASE_DIRECT_URL for that). It fans change
 * events out to this process's subscribers. Events reach every instance
 * through NOTIFY in id order; if the connection drops, the hub reconnects
 * and reads what it missed from the log before passing on new
 * notifications, so subscribers still see every id once, in order.
 */
export interface ChangeHub {
  start(): Promise<void>
  /** `listener` is called for every event from now on, in id order; returns the unsubscribe. */
  subscribe(listener: (e: ChangeEvent) => void): () => void
  stop(): Promise<void>
  readonly subscribers: number
  /** Events passed on since start (for metrics). */
  readonly eventsReceived: number
}

export interface ChangeHubOptions {
  connectionString: string
  /** For the catch-up read after a reconnect. */
  prisma: Pick<Db, '$queryRaw'>
  logger: Pick<Logger, 'info' | 'warn'>
  /** First delay before reconnecting; doubles up to 30 s. */
  reconnectMs?: number
}

const CATCH_UP_PAGE = 1000

export function createChangeHub(o: ChangeHubOptions): ChangeHub {
  const listeners = new Set<(e: ChangeEvent) => void>()
  let client: pg.Client | undefined
  let lastId = 0
  let received = 0
  let stopping = false
  let retryMs = o.reconnectMs ?? 500
  let retryTimer: NodeJS.Timeout | undefined
  // While reading missed events after a reconnect, new notifications wait here so order holds.
  let held: ChangeEvent[] | undefined
  // Until the first connection, there is no position to catch up from: start from the newest event.
  let connectedOnce = false

  function deliver(e: ChangeEvent): void {
    if (e.id <= lastId) return
    lastId = e.id
    received++
    for (const l of listeners) {
      try {
        l(e)
      } catch (err) {
        o.logger.warn({ err: (err as Error).message }, 'change listener failed')
      }
    }
  }

  async function connect(catchUp: boolean): Promise<void> {
    const c = new pg.Client({ connectionString: o.connectionString })
    c.on('error', (err) => lost(c, err))
    c.on('end', () => lost(c))
    c.on('notification', (n) => {
      if (n.channel !== CHANGES_CHANNEL) return
      const e = parseNotifyPayload(n.payload)
      if (!e) return
      if (held) held.push(e)
      else deliver(e)
    })
    held = []
    try {
      await c.connect()
      await c.query(`LISTEN ${CHANGES_CHANNEL}`)
      client = c
      if (catchUp && connectedOnce) {
        for (;;) {
          const page = await readChangesAfter(o.prisma, lastId, { limit: CATCH_UP_PAGE })
          for (const e of page) deliver(e)
          if (page.length < CATCH_UP_PAGE) break
        }
      } else {
        lastId = Math.max(lastId, await latestEventId(o.prisma))
      }
      connectedOnce = true
      const pending = held
      held = undefined
      for (const e of pending) deliver(e)
    } catch (err) {
      held = undefined
      c.removeAllListeners('end')
      await c.end().catch(() => {})
      throw err
    }
  }

  function lost(c: pg.Client, err?: Error): void {
    if (client !== c || stopping) return
    client = undefined
    o.logger.warn({ err: err?.message }, 'change feed LISTEN connection lost; reconnecting')
    scheduleReconnect()
  }

  function scheduleReconnect(): void {
    if (stopping || retryTimer) return
    retryTimer = setTimeout(async () => {
      retryTimer = undefined
      try {
        await connect(true)
        retryMs = o.reconnectMs ?? 500
        o.logger.info({ lastId }, 'change feed LISTEN connection restored')
      } catch (err) {
        retryMs = Math.min(retryMs * 2, 30_000)
        o.logger.warn({ err: (err as Error).message, retryMs }, 'change feed reconnect failed')
        scheduleReconnect()
      }
    }, retryMs)
    retryTimer.unref()
  }

  return {
    /** Never throws: without a database the hub keeps retrying in the background (the API answers 503 meanwhile). */
    async start() {
      stopping = false
      try {
        await connect(false)
      } catch (err) {
        o.logger.warn({ err: (err as Error).message }, 'change feed cannot LISTEN yet; retrying')
        scheduleReconnect()
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    async stop() {
      stopping = true
      clearTimeout(retryTimer)
      retryTimer = undefined
      const c = client
      client = undefined
      await c?.end().catch(() => {})
    },
    get subscribers() {
      return listeners.size
    },
    get eventsReceived() {
      return received
    },
  }
}
