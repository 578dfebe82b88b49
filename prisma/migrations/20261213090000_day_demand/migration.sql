-- Demand (issue 27): reads per (product, date), counted in memory by each
-- instance and added here once a minute (server/sync/demand.ts), decayed
-- with a half-life of a day (server/sync/policy/demand.ts). `reads` is the
-- count as of `at`. A table of its own, not a column of day_fetch_state, and
-- no foreign key: a flush must not lock the fetch-state rows the engine
-- claims with FOR UPDATE SKIP LOCKED. Rows whose day left the horizon are
-- dropped by the flush.

-- CreateTable
CREATE TABLE "day_demand" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "reads" DECIMAL(16,6) NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "day_demand_pkey" PRIMARY KEY ("product_id","date")
);
