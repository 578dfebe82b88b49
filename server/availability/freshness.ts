export type FreshnessState = 'fresh' | 'stale' | 'never'
