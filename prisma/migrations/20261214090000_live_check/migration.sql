-- Live checks (issue 27): the budget's live lane counts its own sends in the
-- shared window, and sync/explain says when a day's last fetch was a live check.

-- AlterTable
ALTER TABLE "day_fetch_state" ADD COLUMN     "fetched_live" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "partner_request" ADD COLUMN     "live" BOOLEAN NOT NULL DEFAULT false;
