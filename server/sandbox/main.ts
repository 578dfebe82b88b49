import { type Config, ConfigError, loadConfig } from '../config.ts'
import { LONG_RUN_REMEMBER, startSandbox } from './server.ts'

/** `npm run sandbox`: the partner sandbox on its own, configured by SANDBOX_* variables. */
let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`slotsync sandbox: ${err.message}\n`)
    process.exit(2)
  }
  throw err
}

const { port, apiKey, rateLimitPerMinute, products, latency } = config.sandbox
const sandbox = await startSandbox({ port: port ?? 4010, apiKey, rateLimitPerMinute, products, latency, remember: LONG_RUN_REMEMBER })

// The sandbox key guards nothing real, so printing it is what makes the sandbox usable by hand.
process.stdout.write(
  `${[
    '',
    `  partner sandbox running at ${sandbox.url}`,
    `  api key: ${sandbox.apiKey}   rate limit: ${rateLimitPerMinute}/min   products: ${sandbox.catalogue.productIds().length} (14, 15 and ${products} generated)`,
    `  try: curl -H 'x-api-key: ${sandbox.apiKey}' '${sandbox.url}/api/v1/inventory/14?date=YYYY-MM-DD'`,
    `  stats: GET ${sandbox.url}/__sandbox/stats   faults: POST ${sandbox.url}/__sandbox/faults`,
    '',
  ].join('\n')}\n`,
)

let stopping = false
async function shutdown() {
  if (stopping) return
  stopping = true
  await sandbox.close()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
