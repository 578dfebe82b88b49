import { type Config, ConfigError, loadConfig } from './config.ts'
import { StartupError } from './start-errors.ts'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`slotsync: ${err.message}\n`)
    process.exit(2)
  }
  throw err
}

// Tracing first, then the server's modules: instrumentations patch what loads after them,
// and without OTEL_* nothing of OpenTelemetry is loaded at all.
const tracing = config.tracing ? (await import('./otel.ts')).startTracing(config.tracing) : undefined
const { createServer } = await import('./server.ts')
const server = createServer(config)
let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  server.app.log.info({ signal }, 'shutting down')
  const force = setTimeout(() => process.exit(1), 30_000)
  force.unref()
  await server.stop()
  await tracing?.shutdown().catch(() => {})
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

server.start().catch((err) => {
  // A cause the operator can fix gets one line naming it and the fix; anything
  // else is a bug and keeps its stack in the log.
  if (err instanceof StartupError) process.stderr.write(`slotsync: ${err.message}\n`)
  else server.app.log.fatal({ err }, 'slotsync failed to start')
  process.exitCode = 1
})
