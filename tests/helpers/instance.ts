import { loadConfig } from '../../server/config.ts'
import { createServer, type SlotsyncServer } from '../../server/server.ts'
import { captureLogStream, type LogCapture } from './reliability-server.ts'

export interface Instance {
  url: string
  server: SlotsyncServer
  logs: LogCapture
  stop(): Promise<void>
}

/** One slotsync instance in this process (createServer, as `npm start` runs it) on a given database and partner. */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const logs = captureLogStream()
  const server = createServer(loadConfig({ PORT: '0', LOG_LEVEL: 'warn', ...env }), { logStream: logs.stream })
  const { url } = await server.start()
  let stopped: Promise<void> | undefined
  return { url, server, logs, stop: () => (stopped ??= server.stop()) }
}
