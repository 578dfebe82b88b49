import { defineConfig } from 'prisma/config'

// Only the Prisma CLI reads this file (generate, migrate diff through the
// engine stand-in). The running service takes DATABASE_URL via server/config.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/slotsync' },
})
