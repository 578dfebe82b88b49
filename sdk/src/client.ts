import { createTRPCUntypedClient, httpLink, type TRPCClient, type TRPCProcedureOptions } from '@trpc/client'
import superjson from 'superjson'
import { ForeignReply, parseRetryAfter, toSlotsyncError } from './errors.ts'
import type { AppRouter } from './generated/app-router.ts'
import { procedureProxy } from './proxy.ts'
import { retryPolicy, withRetry, type RetryOptions } from './retry.ts'

/** What the SDK calls `fetch` with: the request URL as a string and an init. The global fetch fits. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>

/** Header values by name (an undefined value is left out), or a `Headers`. */
export type HeadersInput = Record<string, string | undefined> | Headers

export interface SlotsyncClientOptions {
  /** The server's address, e.g. `http://127.0.0.1:3000`; `/trpc` is added unless the URL already ends with it. */
  url: string | URL
  /** Sent as `Authorization: Bearer <token>`; `sync.pause`, `sync.resume` and `sync.run` need it. */
  adminToken?: string
  /** Replaces the global `fetch` (proxies, instrumentation, tests). */
  fetch?: FetchLike
  /** Extra headers on every request, or a function giving them per request. */
  headers?: HeadersInput | (() => HeadersInput | Promise<HeadersInput>)
  /**
   * Retry queries (never mutations) that failed with no answer, 408, 429 or
   * 5xx, with exponential backoff. Off by default; `true` = 2 retries.
   */
  retry?: boolean | RetryOptions
}

/**
 * The typed client: `client.availability.slots.query({ productId, date })`,
 * `client.sync.pause.mutate()`... Every call rejects with `SlotsyncError` only.
 */
export type SlotsyncClient = { [K in keyof TRPCClient<AppRouter> as K extends string ? K : never]: TRPCClient<AppRouter>[K] }

/** Creates a typed client for a slotsync server. Throws TypeError on invalid options. */
export function createSlotsyncClient(options: SlotsyncClientOptions): SlotsyncClient {
  const url = trpcUrl(options.url)
  const policy = retryPolicy(options.retry)
  const baseFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init))
  const untyped = createTRPCUntypedClient<AppRouter>({
    links: [
      httpLink({
        url,
        transformer: superjson,
        headers: () => headersFor(options),
        // httpLink calls fetch(url: string, init).
        fetch: async (input, init) => {
          const res = await baseFetch(String(input), init as RequestInit | undefined)
          if (!res.ok && !/\bjson\b/i.test(res.headers.get('content-type') ?? '')) {
            throw new ForeignReply(res.status, parseRetryAfter(res.headers.get('retry-after')))
          }
          return res
        },
      }),
    ],
  })

  return procedureProxy((type, path, input, opts) => {
    const o = opts as TRPCProcedureOptions | undefined
    const once = () => untyped[type](path, input, o).catch((err: unknown) => Promise.reject(toSlotsyncError(err, path, o?.signal)))
    // Only queries are retried: a mutation whose answer was lost may have
    // been applied, and queuing a `run` twice is not what the caller asked.
    return type === 'query' ? withRetry(once, policy, path, o?.signal) : once()
  }) as SlotsyncClient
}

function trpcUrl(input: string | URL): string {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    throw new TypeError(`slotsync: url is not a valid URL: ${String(input)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`slotsync: url must be http(s), got ${url.protocol}`)
  const base = url.href.replace(/[?#].*$/, '').replace(/\/+$/, '')
  return base.endsWith('/trpc') ? base : `${base}/trpc`
}

async function headersFor(options: SlotsyncClientOptions): Promise<Record<string, string>> {
  const given = typeof options.headers === 'function' ? await options.headers() : options.headers
  // Headers folds case, so the explicit token replaces any Authorization
  // among the extra headers instead of being sent beside it.
  const h = new Headers()
  if (given instanceof Headers) given.forEach((value, name) => h.set(name, value))
  else for (const [name, value] of Object.entries(given ?? {})) if (value !== undefined) h.set(name, value)
  if (options.adminToken) h.set('authorization', `Bearer ${options.adminToken}`)
  const out: Record<string, string> = {}
  h.forEach((value, name) => (out[name] = value))
  return out
}
