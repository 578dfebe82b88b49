/** What a procedure call turns into: `client.a.b.query(x, o)` → `call('query', 'a.b', x, o)`. */
export type Call = (type: 'query' | 'mutation' | 'subscription', path: string, input: unknown, opts: unknown) => unknown

const METHODS: Record<string, 'query' | 'mutation' | 'subscription'> = { query: 'query', mutate: 'mutation', subscribe: 'subscription' }

/**
 * The object behind the typed client: any property chain, ending in
 * `.query()` or `.mutate()`, becomes one call with the dotted path. Our own
 * (instead of tRPC's proxy) so every call goes through the error mapping
 * and the retry policy.
 */
export function procedureProxy(call: Call, path: readonly string[] = [], root: Record<string, unknown> = {}): unknown {
  // A function target, so that the `apply` trap is allowed.
  return new Proxy(function procedure() {}, {
    get(_target, key) {
      // Not thenable: `await client` or returning it from an async function must not call a procedure.
      if (typeof key !== 'string' || key === 'then') return undefined
      // The client's own methods (watchChanges) sit beside the routers.
      if (path.length === 0 && Object.hasOwn(root, key)) return root[key]
      return procedureProxy(call, [...path, key])
    },
    apply(_target, _this, args: unknown[]) {
      const method = path[path.length - 1]
      const type = method === undefined ? undefined : METHODS[method]
      if (!type || path.length < 2)
        throw new TypeError(`slotsync: ${path.join('.') || 'client'} is not a procedure call (use .query(), .mutate() or .subscribe())`)
      return call(type, path.slice(0, -1).join('.'), args[0], args[1])
    },
  })
}
