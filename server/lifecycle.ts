import type { Logger } from './logger.ts'

/**
 * Waits for `p` at most `ms`: a shutdown step that cannot finish (a
 * connection to a stalled database never closes) must not hold the exit.
 * A failure or an overrun is one warning, and the caller goes on.
 */
export async function bounded(p: Promise<unknown> | undefined, ms: number, what: string, log?: Pick<Logger, 'warn'>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const overrun = new Promise<'overrun'>((r) => (timer = setTimeout(() => r('overrun'), ms)))
  try {
    if ((await Promise.race([p, overrun])) === 'overrun') log?.warn({ afterMs: ms }, `${what}: not done in time; going on`)
  } catch (err) {
    log?.warn({ err }, `${what} failed`)
  } finally {
    clearTimeout(timer)
  }
}
