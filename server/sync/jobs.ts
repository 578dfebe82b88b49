import { SimpleIntervalJob, Task, ToadScheduler } from 'toad-scheduler'

/**
 * Periodic jobs of the sync engine, and why they are due by the engine's
 * clock rather than by timers.
 *
 * The engine's jobs (horizon upkeep, re-ranking) must happen in order with
 * the sends: a ranking reads the horizon the upkeep just kept, a send takes
 * the head of the ranking. And the simulation runs the same engine on a
 * discrete-event clock that jumps hours in seconds, where a timer would fire
 * at the wrong simulated instant or not at all. So each job is a `cadence`
 * on the injected clock, and the engine's one step runs it when it is due.
 *
 * In production the loop may be parked for up to a minute (a 429's halt,
 * the partner backing off, a full window): toad-scheduler wakes it when a
 * job falls due, so the horizon is kept on time while nothing can be sent.
 * Waking only makes the step look at the clock; what runs and when is the
 * same decision the simulation measures.
 */
export interface Cadence {
  /** Whether `everyMs` of the clock passed since the job last ran (true before its first run). */
  due(now: number): boolean
  ran(now: number): void
}

export function cadence(everyMs: number): Cadence {
  let last = -Infinity
  return {
    due: (now) => now - last >= everyMs,
    ran(now) {
      last = now
    },
  }
}

/** Real-time wake-ups every `everyMs` of each job (production only); stop() clears them. */
export function wakeOnSchedule(jobs: readonly { id: string; everyMs: number }[], wake: () => void): { stop(): void } {
  const scheduler = new ToadScheduler()
  for (const j of jobs) scheduler.addSimpleIntervalJob(new SimpleIntervalJob({ milliseconds: j.everyMs }, new Task(j.id, wake), { id: j.id }))
  return { stop: () => scheduler.stop() }
}
