-- Reads precomputed at write time (issue 15): each slot's client price and one
-- summary row per fetched day, so /slots and /dates read instead of compute.

-- AlterTable
ALTER TABLE "slot" ADD COLUMN     "price_currency" VARCHAR(3),
ADD COLUMN     "price_final" DECIMAL(12,2),
ADD COLUMN     "price_original" DECIMAL(12,2),
ADD COLUMN     "primary_pax_type" VARCHAR(100);

-- CreateTable
CREATE TABLE "day_summary" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "open" BOOLEAN NOT NULL,
    "lowest_final_price" DECIMAL(12,2),
    "lowest_original_price" DECIMAL(12,2),
    "lowest_currency" VARCHAR(3),
    "slot_count" INTEGER NOT NULL,
    "total_remaining" INTEGER NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "day_summary_pkey" PRIMARY KEY ("product_id","date")
);

-- AddForeignKey
ALTER TABLE "day_summary" ADD CONSTRAINT "day_summary_product_id_date_fkey" FOREIGN KEY ("product_id", "date") REFERENCES "day_fetch_state"("product_id", "date") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill, so a database that already holds snapshots answers correctly the
-- moment it is upgraded. From then on the snapshot writer fills these columns
-- from server/availability/pricing.ts (the rule's one definition). This is a
-- one-time translation of that rule as it stands, checked against the writer
-- by tests/integration/precomputed-backfill.test.ts.
-- Flagged first, then a type starting with ADULT (ASCII, any case), then the
-- rest by price, ties by type in code point order.
UPDATE "slot" s
SET "price_final" = pp.final_price, "price_original" = pp.original_price, "price_currency" = pp.currency_code, "primary_pax_type" = pp.type
FROM (
  SELECT DISTINCT ON (pa.slot_id) pa.slot_id, pa.type, pa.final_price, pa.original_price, pa.currency_code
  FROM "pax_availability" pa
  ORDER BY pa.slot_id,
    CASE WHEN pa.is_primary THEN 0 WHEN upper(left(pa.type, 5)) = 'ADULT' THEN 1 ELSE 2 END,
    CASE WHEN NOT pa.is_primary AND upper(left(pa.type, 5)) <> 'ADULT' THEN pa.final_price END,
    pa.type COLLATE "C"
) pp
WHERE pp.slot_id = s.id;

-- One row per successfully fetched day, with the lowest price among slots with
-- seats left and a price, ties by original price, then currency.
INSERT INTO "day_summary" ("product_id", "date", "open", "lowest_final_price", "lowest_original_price", "lowest_currency", "slot_count", "total_remaining", "fetched_at")
SELECT f.product_id, f.date, lp.final_price IS NOT NULL, lp.final_price, lp.original_price, lp.currency_code,
       COALESCE(agg.n, 0), COALESCE(agg.remaining, 0), f.last_fetched_at
FROM "day_fetch_state" f
LEFT JOIN LATERAL (
  SELECT count(*)::int AS n, sum(s.remaining)::int AS remaining FROM "slot" s WHERE s.product_id = f.product_id AND s.date = f.date
) agg ON true
LEFT JOIN LATERAL (
  SELECT s.price_final AS final_price, s.price_original AS original_price, s.price_currency AS currency_code
  FROM "slot" s
  WHERE s.product_id = f.product_id AND s.date = f.date AND s.remaining > 0 AND s.price_final IS NOT NULL
  ORDER BY s.price_final, s.price_original, s.price_currency COLLATE "C"
  LIMIT 1
) lp ON true
WHERE f.last_fetched_at IS NOT NULL;
