-- sync/status without a scan of the horizon (issue 11, server/sync/horizon-counts.ts).
-- Each product records the dates its fetch-state rows are known to cover,
-- written by maintainHorizon in the statement that inserts them, so a tier's
-- size is read from 450 product rows instead of counted over 27,000 days.
-- The partial indexes reach exactly the rows status counts beyond that:
-- asked for by run, claimed, never fetched, failing.

-- AlterTable
ALTER TABLE "product" ADD COLUMN "horizon_from" DATE,
ADD COLUMN "horizon_to" DATE;

-- CreateIndex
CREATE INDEX "day_fetch_state_forced_at_idx" ON "day_fetch_state"("forced_at") WHERE "forced_at" IS NOT NULL;
CREATE INDEX "day_fetch_state_claimed_until_idx" ON "day_fetch_state"("claimed_until") WHERE "claimed_until" IS NOT NULL;
CREATE INDEX "day_fetch_state_never_fetched_idx" ON "day_fetch_state"("date") WHERE "last_fetched_at" IS NULL;
CREATE INDEX "day_fetch_state_failing_idx" ON "day_fetch_state"("product_id") WHERE "consecutive_failures" > 0;
CREATE INDEX "day_fetch_state_date_last_fetched_at_idx" ON "day_fetch_state"("date", "last_fetched_at");

-- Backfill: what maintainHorizon does, once, so an upgraded database reports
-- its tiers at once (the engine repeats it on its first tick).
WITH h AS (SELECT id, (now() AT TIME ZONE time_zone)::date AS today FROM product WHERE active),
ins AS (
  INSERT INTO "day_fetch_state" (product_id, date, next_due_at)
  SELECT h.id, d::date, now() FROM h CROSS JOIN LATERAL generate_series(h.today, h.today + 59, interval '1 day') AS d
  ON CONFLICT DO NOTHING)
UPDATE "product" p SET horizon_from = h.today, horizon_to = h.today + 59 FROM h WHERE p.id = h.id;
