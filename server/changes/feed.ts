import { AsyncTask, SimpleIntervalJob, ToadScheduler } from 'toad-scheduler'
import type { Db } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import type { ChangeEvent } from './event.ts'
import { createChangeHub, type ChangeHub } from './hub.ts'
import { pruneChanges } from './log.ts'
import { changeStream, type ChangeStreamOptions } from './stream.ts'

/** Events are kept at least 24 h (the contract); an hour more so a client at the edge is not cut short. */
export const CHANGE_RETENTION_MS = 25 * 3_600_000
const PRUNE_EVERY_MS = 15 * 60_000

/** The change feed of one instance: the LISTEN hub, subscriber streams, and the log's retention. */
export interface ChangeFeed {
  start(): Promise<void>
  /** A subscriber's events (see changeStream); ends when its signal aborts or the feed closes. */
  stream(opts: ChangeStreamOptions): AsyncGenerator<ChangeEvent>
  /** Ends every open stream and refuses new ones: open SSE responses would otherwise keep the HTTP server from closing. */
  closeStreams(): void
  stop(): Promise<void>
  stats(): { subscribers: number; eventsReceived: number }
}

export interface ChangeFeedOptions {
  connectionString: string
  prisma: Pick<Db, '$queryRaw' | '$executeRaw'>
  logger: Pick<Logger, 'info' | 'warn'>
  retentionMs?: number
}

export function createChangeFeed(o: ChangeFeedOptions): ChangeFeed {
  const hub: ChangeHub = createChangeHub({ connectionString: o.connectionString, prisma: o.prisma, logger: o.logger })
  const closing = new AbortController()
  // Retention runs on real timers: it compares with the database's clock
  // (created_at < now()), so no simulated clock is involved, and it need not
  // be ordered with anything else. One run at a time (toad's preventOverrun).
  const jobs = new ToadScheduler()
  const prune = new AsyncTask(
    'change-log retention',
    async () => {
      const n = await pruneChanges(o.prisma, o.retentionMs ?? CHANGE_RETENTION_MS)
      if (n) o.logger.info({ pruned: n }, 'pruned old change events')
    },
    (err: Error) => o.logger.warn({ err: err.message }, 'pruning change events failed'),
  )

  return {
    async start() {
      await hub.start()
      jobs.addSimpleIntervalJob(new SimpleIntervalJob({ milliseconds: PRUNE_EVERY_MS, runImmediately: true }, prune, { id: 'change-log retention' }))
    },
    stream(opts) {
      // One signal for "the client left or the feed closes". Listeners are
      // removed when the stream ends: a long-lived feed sees many short
      // streams, and each must not stay attached to the feed's own signal.
      const ac = new AbortController()
      const abort = () => ac.abort()
      closing.signal.addEventListener('abort', abort)
      opts.signal?.addEventListener('abort', abort)
      if (closing.signal.aborted || opts.signal?.aborted) ac.abort()
      const events = changeStream({ hub, prisma: o.prisma }, { ...opts, signal: ac.signal })
      return (async function* () {
        try {
          yield* events
        } finally {
          closing.signal.removeEventListener('abort', abort)
          opts.signal?.removeEventListener('abort', abort)
        }
      })()
    },
    closeStreams() {
      closing.abort()
    },
    async stop() {
      closing.abort()
      jobs.stop()
      await hub.stop()
    },
    stats: () => ({ subscribers: hub.subscribers, eventsReceived: hub.eventsReceived }),
  }
}
