-- Coverage in every answer (issue 27): /dates says which days were never
-- fetched, and the OCTO calendar is read from one stored row per fetched day
-- instead of every slot and pax row of 60 days.

-- CreateTable
CREATE TABLE "day_calendar" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,
    "slot_count" INTEGER NOT NULL,
    "vacancies" INTEGER NOT NULL,
    "unit_prices" TEXT NOT NULL,

    CONSTRAINT "day_calendar_pkey" PRIMARY KEY ("product_id","date")
);

-- AddForeignKey
ALTER TABLE "day_calendar" ADD CONSTRAINT "day_calendar_product_id_date_fkey" FOREIGN KEY ("product_id", "date") REFERENCES "day_fetch_state"("product_id", "date") ON DELETE CASCADE ON UPDATE CASCADE;

-- A day's calendar row from its stored /slots text (day_slots_json.body, the
-- SlotView[] the snapshot writer stores): the slot count, the largest
-- remaining of its slots (OCTO vacancies), and per pax type its lowest price
-- among all the day's slots, sold out or not (octo.md unitPricingFrom), lowest
-- final price, then original, then the first in the day's slot order, types
-- in code point order. Prices stay decimal text from the body's JSON numbers
-- (two decimals at most), so no float stands between the stored numeric and
-- OCTO's minor units (server/octo/money.ts converts them).
-- The body is self-contained, so the row is derived from the write alone:
-- written by a trigger, whoever writes the day (the snapshot writer is not
-- changed), in the same statement and transaction.
-- unit_prices is JSON text: [["ADULT_12~99","242.1","242.1","SGD"], ...].
CREATE FUNCTION "day_calendar_row"(p_body text, OUT slot_count integer, OUT vacancies integer, OUT unit_prices text)
LANGUAGE sql IMMUTABLE AS $$
  SELECT (SELECT count(*)::int FROM json_array_elements(p_body::json)),
         (SELECT COALESCE(max((s->>'remaining')::int), 0) FROM json_array_elements(p_body::json) s),
         '[' || COALESCE((
           SELECT string_agg('[' || to_json(u.type)::text || ',"' || u.fin::text || '","' || u.orig::text || '",' || to_json(u.cur)::text || ']',
                             ',' ORDER BY u.type COLLATE "C")
           FROM (
             SELECT DISTINCT ON (p->>'type') p->>'type' AS type, (p->'price'->>'finalPrice')::numeric AS fin,
                    (p->'price'->>'originalPrice')::numeric AS orig, p->'price'->>'currencyCode' AS cur
             FROM json_array_elements(p_body::json) WITH ORDINALITY AS s(slot, n)
             CROSS JOIN LATERAL json_array_elements(s.slot->'paxAvailability') AS p
             ORDER BY p->>'type', (p->'price'->>'finalPrice')::numeric, (p->'price'->>'originalPrice')::numeric, s.n
           ) u), '') || ']'
$$;

CREATE FUNCTION "day_calendar_write"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO day_calendar AS c (product_id, date, fetched_at, slot_count, vacancies, unit_prices)
  SELECT NEW.product_id, NEW.date, NEW.fetched_at, r.slot_count, r.vacancies, r.unit_prices FROM day_calendar_row(NEW.body) r
  ON CONFLICT (product_id, date) DO UPDATE SET
    fetched_at = EXCLUDED.fetched_at, slot_count = EXCLUDED.slot_count, vacancies = EXCLUDED.vacancies, unit_prices = EXCLUDED.unit_prices;
  RETURN NULL;
END
$$;

CREATE TRIGGER "day_calendar_write" AFTER INSERT OR UPDATE ON "day_slots_json"
FOR EACH ROW EXECUTE FUNCTION "day_calendar_write"();

-- Backfill: every day already stored gets its row, as the trigger would write it.
INSERT INTO "day_calendar" (product_id, date, fetched_at, slot_count, vacancies, unit_prices)
SELECT v.product_id, v.date, v.fetched_at, r.slot_count, r.vacancies, r.unit_prices
FROM "day_slots_json" v CROSS JOIN LATERAL day_calendar_row(v.body) r;

-- The OCTO calendar's read: the product's time zone and its fetched days from
-- p_from to p_to as JSON text, ascending, [["2026-12-01",slots,vacancies,[units]], ...]
-- (a day with no row was never fetched). One range scan of the primary key,
-- planned once per connection (see 20261130090000_read_functions). Removed
-- (inactive) products have no row, as in the range read.
CREATE FUNCTION "availability_calendar"(p_product_id integer, p_from date, p_to date, OUT tz text, OUT days text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT p.time_zone,
         '[' || COALESCE((
           SELECT string_agg('["' || to_char(c.date, 'YYYY-MM-DD') || '",' || c.slot_count::text || ',' || c.vacancies::text || ',' || c.unit_prices || ']',
                             ',' ORDER BY c.date)
           FROM day_calendar c
           WHERE c.product_id = p.id AND c.date BETWEEN p_from AND p_to), '') || ']'
  INTO tz, days
  FROM product p
  WHERE p.id = p_product_id AND p.active;
END
$$;

-- /dates with its coverage: the open days as before (the same text), plus
-- every fetched day of the window with its fetch time, "YYYY-MM-DD:<epoch ms>"
-- comma-separated, ascending, from which server/availability/coverage.ts
-- cuts the product's horizon: the days without an entry are `pending`, the
-- smallest time is `oldestFetchedAt`. A day is fetched when the snapshot
-- writer stored it (its summary row), as /slots' freshness counts it. One
-- scan of day_summary's primary key for both. Replaced, not altered: a
-- function's OUT columns cannot change in place; callers that select tz
-- and dates by name read it as before.
DROP FUNCTION "availability_dates"(integer, date, date);
CREATE FUNCTION "availability_dates"(p_product_id integer, p_from date, p_to date, OUT tz text, OUT dates text, OUT fetched text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT p.time_zone,
         '[' || COALESCE(a.open_days, '') || ']',
         COALESCE(a.fetched, '')
  INTO tz, dates, fetched
  FROM product p
  LEFT JOIN LATERAL (
    SELECT string_agg('{"date":' || to_json(d.date)::text || ',"price":{"finalPrice":' || trim_scale(d.lowest_final_price)::text
                      || ',"currencyCode":"' || d.lowest_currency || '","originalPrice":' || trim_scale(d.lowest_original_price)::text || '}}',
                      ',' ORDER BY d.date) FILTER (WHERE d.open) AS open_days,
           string_agg(to_char(d.date, 'YYYY-MM-DD') || ':' || (extract(epoch FROM d.fetched_at) * 1000)::bigint::text, ',' ORDER BY d.date) AS fetched
    FROM day_summary d
    WHERE d.product_id = p.id AND d.date BETWEEN p_from AND p_to
  ) a ON true
  WHERE p.id = p_product_id;
END
$$;
