import type pg from 'pg'
import { migrationsUpToDate } from './migrate.ts'
import type { HealthService } from '../api/services.ts'

export function createHealthService(pool: pg.Pool): HealthService {
  return {
    async ready() {
      let database = false
      let migrations = false
      try {
        await pool.query('SELECT 1')
        database = true
        migrations = await migrationsUpToDate(async (sql) => (await pool.query(sql)).rows)
      } catch {
        /* reported as not ready */
      }
      return { ready: database && migrations, database, migrations }
    },
  }
}
