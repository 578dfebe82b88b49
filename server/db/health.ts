import type { PrismaClient } from './client.ts'
import { migrationsUpToDate } from './migrate.ts'
import type { HealthService } from './health-types.ts'

export function createHealthService(prisma: PrismaClient): HealthService {
  return {
    async ready() {
      let database = false
      let migrations = false
      try {
        await prisma.$executeRaw`SELECT 1`
        database = true
        migrations = await migrationsUpToDate(prisma)
      } catch {
        /* reported as not ready */
      }
      if (!database) return { ready: false, database, migrations, reason: 'the database is unreachable' }
      // A read-only instance (SYNC_ENABLED=false) never migrates: it waits here for one that does.
      if (!migrations)
        return {
          ready: false,
          database,
          migrations,
          reason: 'the database schema is not migrated yet: an instance with SYNC_ENABLED=true applies the migrations at start',
        }
      return { ready: true, database, migrations }
    },
  }
}
