-- The partner breaker (issue 25, server/sync/backoff.ts): failures of the
-- partner itself in a row, counted across days and instances, and when the
-- last probe went out while sending is backed off. In sync_control so every
-- instance reads the same state under the dispatch lock.
ALTER TABLE "sync_control" ADD COLUMN     "partner_failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "partner_probe_at" TIMESTAMPTZ(3);
