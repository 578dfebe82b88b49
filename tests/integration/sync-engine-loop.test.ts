import { afterEach, describe, expect, it } from 'vitest'
import { createSyncWorld, type SyncWorld } from '../helpers/sync.ts'

let world: SyncWorld | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

const until = async (check: () => boolean) => {
  for (let i = 0; i < 1_000 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

/**
 * start() runs the same step as runPass in a loop; here on a clock that does
 * not move, so the loop sends exactly what the window allows at that instant
 * and then parks until stopped.
 */
describe('the production loop', () => {
  it('sends what the window allows, stops gracefully (answers written, claims released), and moves idle → running → stopping → stopped', async () => {
    world = await createSyncWorld()
    const { engine } = world.makeSync()
    expect(engine.state).toBe('idle')
    engine.start()
    expect(engine.state).toBe('running')
    // 30/min spread in 10 s steps: 5 places now.
    await until(() => world!.sandbox.stats().requests >= 5)
    const stopping = engine.stop()
    expect(engine.state).toBe('stopping')
    expect(engine.stop()).toBe(stopping)
    await stopping
    expect(engine.state).toBe('stopped')
    expect(engine.inFlight).toBe(0)
    expect(world.sandbox.stats().requests).toBe(5)
    const [row] = await world.db.prisma.$queryRawUnsafe<{ fetched: number; claimed: number }[]>(
      `SELECT count(*) FILTER (WHERE last_fetched_at IS NOT NULL)::int AS fetched, count(*) FILTER (WHERE claimed_by IS NOT NULL)::int AS claimed FROM day_fetch_state`,
    )
    expect(row).toEqual({ fetched: 5, claimed: 0 })
    // Stopped for good: no step, no restart.
    expect((await engine.runPass()).skipped).toBe('stopping')
    engine.start()
    expect(engine.state).toBe('stopped')
    expect(world.sandbox.stats().requests).toBe(5)
  })
})
