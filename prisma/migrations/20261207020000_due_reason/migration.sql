-- Why a pair's next_due_at is what it is (server/sync/policy/deadline.ts
-- DueReason), for the plan (planned or timed) and for sync/explain. Rows
-- written before the policy get the reason their outcome implies.
ALTER TABLE "day_fetch_state" ADD COLUMN "due_reason" VARCHAR(16) NOT NULL DEFAULT 'never';
UPDATE "day_fetch_state" SET "due_reason" = CASE
  WHEN "last_outcome" = 'ok' THEN 'tier'
  WHEN "last_outcome" = 'empty' THEN 'empty'
  WHEN "last_outcome" = 'rate_limited' THEN 'rate_limited'
  WHEN "last_outcome" IN ('error', 'invalid') THEN 'backoff'
  ELSE 'never' END
WHERE "last_outcome" IS NOT NULL;
