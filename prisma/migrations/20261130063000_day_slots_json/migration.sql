-- /slots' answer stored as JSON text when a day is written (issue 15), so a
-- read is one primary-key lookup whose text is sent as is.

-- CreateTable
CREATE TABLE "day_slots_json" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,
    "body" TEXT NOT NULL,

    CONSTRAINT "day_slots_json_pkey" PRIMARY KEY ("product_id","date")
);

-- AddForeignKey
ALTER TABLE "day_slots_json" ADD CONSTRAINT "day_slots_json_product_id_date_fkey" FOREIGN KEY ("product_id", "date") REFERENCES "day_fetch_state"("product_id", "date") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill, so a database that already holds snapshots answers the moment it
-- is upgraded: every fetched day (one with a summary) gets the text the
-- snapshot writer would store (server/availability/precompute.ts
-- daySlotsView, then JSON.stringify). Built by concatenation, not json_agg:
-- Postgres' json functions put spaces around separators and keep numeric
-- scale (242.10), and the text must be byte for byte JSON.stringify's.
-- to_json(text) escapes strings as JSON.stringify does; trim_scale gives a
-- two-decimal price's shortest form (242.1, 10). The order is the stored
-- rows' (what reads used): slots by start time then slot id, pax with the
-- primary type first then by type, all in code point order ("C").
-- tests/integration/day-slots-json-backfill.test.ts checks it against the writer.
INSERT INTO "day_slots_json" ("product_id", "date", "fetched_at", "body")
SELECT d.product_id, d.date, d.fetched_at,
  '[' || COALESCE((
    SELECT string_agg(
      '{"startTime":' || to_json(s.start_time)::text
      || ',"startDate":"' || to_char(d.date, 'YYYY-MM-DD') || '"'
      || ',"endTime":' || to_json(s.end_time)::text
      || ',"providerSlotId":' || to_json(s.provider_slot_id)::text
      || ',"price":' || CASE WHEN s.price_final IS NULL THEN 'null'
           ELSE '{"finalPrice":' || trim_scale(s.price_final)::text || ',"currencyCode":' || to_json(s.price_currency)::text
                || ',"originalPrice":' || trim_scale(s.price_original)::text || '}' END
      || ',"remaining":' || s.remaining::text
      || ',"paxAvailability":[' || COALESCE((
           SELECT string_agg(
             '{"type":' || to_json(pa.type)::text || ',"name":' || to_json(pa.name)::text || ',"description":' || to_json(pa.description)::text
             || ',"price":{"finalPrice":' || trim_scale(pa.final_price)::text || ',"currencyCode":' || to_json(pa.currency_code)::text
             || ',"originalPrice":' || trim_scale(pa.original_price)::text || '}'
             || ',"min":' || pa.min::text || ',"max":' || pa.max::text || ',"remaining":' || pa.remaining::text
             || ',"isPrimary":' || CASE WHEN pa.is_primary THEN 'true' ELSE 'false' END || '}',
             ',' ORDER BY pa.type = s.primary_pax_type DESC, pa.type COLLATE "C")
           FROM "pax_availability" pa WHERE pa.slot_id = s.id), '') || ']}',
      ',' ORDER BY s.start_time COLLATE "C", s.provider_slot_id COLLATE "C")
    FROM "slot" s WHERE s.product_id = d.product_id AND s.date = d.date), '') || ']'
FROM "day_summary" d;
