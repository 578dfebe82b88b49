-- The two hot reads (/slots, /dates) as PL/pgSQL functions (issue 15).
-- Postgres plans an ad-hoc statement on every execution: for these reads
-- planning cost more than running them (one connection, Postgres CPU a call:
-- the day read 97 µs ad hoc against 23 µs as a named prepared statement,
-- the dates read 337 µs against 123 µs; bench/RESULTS.md). Named prepared
-- statements are ruled out (server/db/client.ts: a transaction-pooling
-- PgBouncer would mix them up between clients), but a PL/pgSQL function
-- keeps the plans of its statements in each backend's own cache, invisibly
-- to any pooler: the same reads cost 47 µs and 157 µs. The caller's
-- statement is a bare function call, next to nothing to plan.
--
-- A function returns exactly one row; an unknown product gives a row of
-- nulls (time zone null), which server/availability/queries.ts reads as "no
-- such product".

-- A day's stored /slots answer: two primary-key lookups, the product row and
-- day_slots_json (null body: the day was never fetched).
CREATE FUNCTION "availability_day"(p_product_id integer, p_date date, OUT tz text, OUT fetched_at timestamptz, OUT body text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT p.time_zone, v.fetched_at, v.body INTO tz, fetched_at, body
  FROM product p
  LEFT JOIN day_slots_json v ON v.product_id = p.id AND v.date = p_date
  WHERE p.id = p_product_id;
END
$$;

-- A product's open days from p_from to p_to as the JSON text of /dates'
-- `dates`, ascending: one range scan of day_summary's primary key. Each
-- entry is JSON.stringify's exact text: trim_scale gives a two-decimal
-- price's shortest form (242.1, 10) where Postgres' json keeps its scale;
-- to_json writes a date as ISO whatever the DateStyle; the currency is three
-- capital letters (partner/schema.ts), nothing to escape. cutDates
-- (queries.ts) relies on every entry starting with {"date":"YYYY-MM-DD".
CREATE FUNCTION "availability_dates"(p_product_id integer, p_from date, p_to date, OUT tz text, OUT dates text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT p.time_zone,
         '[' || COALESCE((
           SELECT string_agg('{"date":' || to_json(d.date)::text || ',"price":{"finalPrice":' || trim_scale(d.lowest_final_price)::text
                             || ',"currencyCode":"' || d.lowest_currency || '","originalPrice":' || trim_scale(d.lowest_original_price)::text || '}}',
                             ',' ORDER BY d.date)
           FROM day_summary d
           WHERE d.product_id = p.id AND d.date BETWEEN p_from AND p_to AND d.open), '') || ']'
  INTO tz, dates
  FROM product p
  WHERE p.id = p_product_id;
END
$$;
