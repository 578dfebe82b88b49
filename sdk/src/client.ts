import { createTRPCUntypedClient, httpLink, httpSubscriptionLink, splitLink, type TRPCClient, type TRPCProcedureOptions } from '@trpc/client'
import { EventSource } from 'eventsource'
import superjson from 'superjson'
import { watchChanges, type ChangeWatch, type SubscribeChanges, type WatchChangesOptions } from './changes.ts'
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
 * `watchChanges` follows the change feed, resuming by itself after drops.
 */
export type SlotsyncClient = { [K in keyof TRPCClient<AppRouter> as K extends string ? K : never]: TRPCClient<AppRouter>[K] } & {
  /** Calls `onEvent` for each change event, once and in id order, reconnecting (with the last id) after drops. */
  watchChanges(options: WatchChangesOptions): ChangeWatch
}

/** Creates a typed client for a slotsync server. Throws TypeError on invalid options. */
export function createSlotsyncClient(options: SlotsyncClientOptions): SlotsyncClient {
  const url = trpcUrl(options.url)
  const policy = retryPolicy(options.retry)
  const baseFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init))
  // Subscriptions (availability.changes) go over Server-Sent Events; the
  // `eventsource` package's EventSource takes a fetch, so the SDK's fetch and
  // headers (the token) apply to them as well, in Node as in browsers.
  const subscriptionLink = httpSubscriptionLink({
    url,
    transformer: superjson,
    EventSource,
    eventSourceOptions: async () => {
      const headers = await headersFor(options)
      return {
        fetch: (input: string | URL, init?: RequestInit) =>
          baseFetch(String(input), { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...headers } }),
      }
    },
  })
  const untyped = createTRPCUntypedClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: subscriptionLink,
        false: httpLink({
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
      }),
    ],
  })

  // With callbacks, tRPC's subscription() returns what stops it (its other overload is the async iterator).
  const subscribe = untyped.subscription.bind(untyped) as (path: string, input: unknown, opts: object) => { unsubscribe(): void }
  const subscribeChanges: SubscribeChanges = (input, handlers) => subscribe('availability.changes', input, handlers)
  const root = { watchChanges: (o: WatchChangesOptions) => watchChanges(subscribeChanges, o) }

  return procedureProxy(
    (type, path, input, opts) => {
      // Subscriptions answer through their callbacks (tRPC's errors as they are); watchChanges maps them to SlotsyncError.
      if (type === 'subscription') return subscribe(path, input, (opts ?? {}) as object)
      const o = opts as TRPCProcedureOptions | undefined
      const once = () => untyped[type](path, input, o).catch((err: unknown) => Promise.reject(toSlotsyncError(err, path, o?.signal)))
      // Only queries are retried: a mutation whose answer was lost may have
      // been applied, and queuing a `run` twice is not what the caller asked.
      return type === 'query' ? withRetry(once, policy, path, o?.signal) : once()
    },
    [],
    root,
  ) as SlotsyncClient
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
  if (given instanceof Headers)
    given.forEach((value, name) => {
      h.set(name, value)
    })
  else for (const [name, value] of Object.entries(given ?? {})) if (value !== undefined) h.set(name, value)
  if (options.adminToken) h.set('authorization', `Bearer ${options.adminToken}`)
  const out: Record<string, string> = {}
  h.forEach((value, name) => {
    out[name] = value
  })
  return out
}
