--
-- Router statements send their constants as parameters
-- (shardext.parameterize_router_queries).  Every query of this file runs on a
-- distributed table and on a local copy with the same rows, with the setting
-- on and off, and the results must be the same; the constants cover the
-- types, literals and SQL-syntax functions a WHERE clause commonly uses.
--
-- shard ids of this test start at a number of its own, whatever ran before
SELECT setval('shardext.shard_id_seq', 700000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA router_constants;
CREATE SCHEMA rc_local;
CREATE SCHEMA rc_dist;
SET search_path = router_constants, public;

-- compare(q): 'same: N rows' when both schemas return the same rows (as
-- text, in any order), otherwise what differs
CREATE FUNCTION rows_of(q text, schema_name text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	result text[] := '{}';
BEGIN
	PERFORM set_config('search_path', format('%I, router_constants, public', schema_name), true);
	FOR r IN EXECUTE q LOOP
		result := result || r::text;
	END LOOP;
	RETURN ARRAY(SELECT x FROM unnest(result) x ORDER BY x COLLATE "C");
END
$$;

CREATE FUNCTION compare(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text[];
	l text[];
	d_err text;
	l_err text;
	saved_path text := current_setting('search_path');
BEGIN
	BEGIN
		d := rows_of(q, 'rc_dist');
	EXCEPTION WHEN OTHERS THEN
		d_err := SQLSTATE || ': ' || SQLERRM;
	END;
	BEGIN
		l := rows_of(q, 'rc_local');
	EXCEPTION WHEN OTHERS THEN
		l_err := SQLSTATE || ': ' || SQLERRM;
	END;
	PERFORM set_config('search_path', saved_path, true);
	IF d_err IS NOT NULL OR l_err IS NOT NULL THEN
		IF d_err IS NOT DISTINCT FROM l_err THEN
			RETURN 'same error: ' || l_err;
		END IF;
		RETURN 'DIFFERENT: distributed ' || coalesce(d_err, cardinality(d) || ' rows')
			|| ', local ' || coalesce(l_err, cardinality(l) || ' rows');
	END IF;
	IF d = l THEN
		RETURN 'same: ' || cardinality(l) || ' rows';
	END IF;
	RETURN 'DIFFERENT: distributed ' || d::text || ', local ' || l::text;
END
$$;

CREATE TABLE queries (n int PRIMARY KEY, q text);

-- the same table in both schemas
CREATE TABLE rc_local.items (
	id bigint PRIMARY KEY,
	name text,
	price numeric(10, 2),
	ratio float8,
	flag bool,
	born date,
	seen timestamptz,
	span interval,
	tags text[],
	doc jsonb,
	uid uuid,
	raw bytea,
	addr inet
);
CREATE TABLE rc_dist.items (LIKE rc_local.items INCLUDING ALL);
SELECT create_distributed_table('rc_dist.items', 'id', shard_count => 4);
INSERT INTO rc_local.items
SELECT g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'item ''' || g || '''' END,
       g * 1.25,
       g / 3.0,
       g % 2 = 0,
       date '2026-01-01' + g,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '90 minutes',
       g * interval '1 hour',
       ARRAY['t' || g % 3, 't' || g % 5],
       jsonb_build_object('g', g, 'even', g % 2 = 0),
       md5(g::text)::uuid,
       decode(lpad(to_hex(g), 4, '0'), 'hex'),
       ('10.0.' || g % 256 || '.1')::inet
  FROM generate_series(1, 200) g;
INSERT INTO rc_dist.items SELECT * FROM rc_local.items;

INSERT INTO queries VALUES
 (1,  $q$SELECT * FROM items WHERE id = 42$q$),
 (2,  $q$SELECT id, name FROM items WHERE id = 43 AND name = 'item ''43'''$q$),
 (3,  $q$SELECT id FROM items WHERE id = 43 AND price > 50.5 AND ratio < 15.0$q$),
 (4,  $q$SELECT id FROM items WHERE id = 44 AND flag AND flag IS NOT FALSE AND flag = true$q$),
 (5,  $q$SELECT id, born FROM items WHERE id = 45 AND born BETWEEN '2026-01-01' AND date '2026-12-31'$q$),
 (6,  $q$SELECT id, seen FROM items WHERE id = 46 AND seen > timestamptz '2026-01-02 01:00+02'$q$),
 (7,  $q$SELECT id FROM items WHERE id = 47 AND span >= interval '1 day 23 hours'$q$),
 (8,  $q$SELECT id, tags FROM items WHERE id = 48 AND tags @> ARRAY['t0'] AND 't3' = ANY (tags)$q$),
 (9,  $q$SELECT id, doc FROM items WHERE id = 49 AND doc @> '{"even": false}' AND doc ->> 'g' = '49'$q$),
 (10, $q$SELECT id FROM items WHERE id = 50 AND uid = md5('50')::uuid$q$),
 (11, $q$SELECT id, raw FROM items WHERE id = 51 AND raw = '\x0033'::bytea$q$),
 (12, $q$SELECT id FROM items WHERE id = 52 AND addr << inet '10.0.52.0/24'$q$),
 (13, $q$SELECT id, extract(dow FROM born), substring(name FROM 2 FOR 4) FROM items WHERE id = 53$q$),
 (14, $q$SELECT id, name LIKE 'item%', name ILIKE '%''5_''' FROM items WHERE id = 54$q$),
 (15, $q$SELECT id FROM items WHERE id = 56 AND name IS NULL$q$),
 (16, $q$SELECT id, coalesce(name, 'none'), name || ' x', price * 2, round(ratio::numeric, 3) FROM items WHERE id = 70$q$),
 (17, $q$SELECT id, CASE WHEN price > 80 THEN 'dear' ELSE 'cheap' END, to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM items WHERE id = 71$q$),
 (18, $q$SELECT id FROM items WHERE id = 72 AND name IN ('item ''72''', 'nothing', NULL)$q$),
 (19, $q$SELECT id, 1, 'lit', NULL::text, 2.5, true FROM items WHERE id = 73$q$),
 (20, $q$SELECT count(*), sum(price), max(seen) FROM items WHERE id = 74 AND price <> 0$q$),
 (21, $q$SELECT id FROM items WHERE id = 75 ORDER BY price DESC LIMIT 1 OFFSET 0$q$),
 (22, $q$SELECT id, (SELECT 'sub' || id) FROM items WHERE id = 76$q$),
 (23, $q$SELECT id FROM items WHERE id = 77 AND date_trunc('day', seen AT TIME ZONE 'UTC') = timestamp '2026-01-05'$q$),
 (24, $q$SELECT id, 1/0 FROM items WHERE id = 78$q$),
 (25, $q$SELECT id FROM items WHERE id = 79 AND price = '98.75'$q$),
 (26, $q$SELECT id, position('7' IN name), overlay(name PLACING 'X' FROM 1 FOR 1), trim(BOTH '''' FROM name) FROM items WHERE id = 77$q$),
 (27, $q$SELECT id, born + 3, seen - interval '1 week', now() > seen FROM items WHERE id = 80$q$),
 (28, $q$SELECT id, doc -> 'g', doc #>> '{even}', jsonb_set(doc, '{g}', '0') FROM items WHERE id = 81$q$),
 (29, $q$SELECT id FROM items WHERE id = 82 AND (flag OR price > 1e6) AND NOT (ratio = 'NaN')$q$),
 (30, $q$SELECT id, CAST('12' AS int) + 1, '7'::int8 * id FROM items WHERE id = 83$q$),
 -- IN lists read only the shards of their values
 (31, $q$SELECT id, name FROM items WHERE id IN (5, 6, 300, 5)$q$),
 (32, $q$SELECT id FROM items WHERE id IN (8, NULL)$q$),
 (33, $q$SELECT id FROM items WHERE id = ANY ('{}')$q$),
 (34, $q$SELECT id, price FROM items WHERE id = ANY (ARRAY[9, 10, 11]::int8[]) AND price > 12$q$),
 (35, $q$SELECT id FROM items WHERE id IN (12::int2, 13::int4)$q$),
 (36, $q$SELECT count(*) FROM items WHERE id NOT IN (1, 2)$q$),
 (37, $q$SELECT id FROM items WHERE id IN (14.0, 15.5)$q$),
 (38, $q$SELECT id FROM items WHERE id IN (16, 17) OR name = 'item ''18'''$q$),
 (39, $q$SELECT count(*), sum(price) FROM items WHERE id IN (SELECT generate_series(20, 40))$q$),
 (40, $q$SELECT id FROM items WHERE id IN (41, 42) AND id IN (42, 43)$q$);

SET shardext.parameterize_router_queries = on;
SELECT n, compare(q) FROM queries ORDER BY n;
SET shardext.parameterize_router_queries = off;
SELECT n, compare(q) FROM queries ORDER BY n;
RESET shardext.parameterize_router_queries;

-- the statement sent carries $n for the constants, whose values the log
-- shows, or the constants themselves when the setting is off
SET search_path = rc_dist, router_constants, public;
SET shardext.log_remote_commands = on;
SELECT name FROM items WHERE id = 42 AND price > 10.5 AND name IS DISTINCT FROM 'it''s';
SET shardext.parameterize_router_queries = off;
SELECT name FROM items WHERE id = 42 AND price > 10.5 AND name IS DISTINCT FROM 'it''s';
RESET shardext.parameterize_router_queries;
RESET shardext.log_remote_commands;

-- which shards an IN list reads
SET search_path = rc_dist, router_constants, public;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id IN (5, 6, 300, 5);
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id IN (8, NULL);
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id = ANY ('{}');
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id NOT IN (1, 2);
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id IN (14.0, 15.5);
PREPARE in_list(int8, int8) AS SELECT id, name FROM items WHERE id IN ($1, $2);
EXECUTE in_list(60, 61);
EXPLAIN (COSTS OFF) EXECUTE in_list(60, 61);
EXECUTE in_list(62, NULL);
DEALLOCATE in_list;
RESET search_path;

-- router writes with constants, then compare the tables
UPDATE rc_dist.items SET name = 'renamed ''x''', price = price + 0.5, seen = '2027-01-01 12:00+00' WHERE id = 90;
UPDATE rc_local.items SET name = 'renamed ''x''', price = price + 0.5, seen = '2027-01-01 12:00+00' WHERE id = 90;
DELETE FROM rc_dist.items WHERE id = 91 AND price > 1.5;
DELETE FROM rc_local.items WHERE id = 91 AND price > 1.5;
INSERT INTO rc_dist.items (id, name, tags, doc) VALUES (1000, 'new', '{a,b}', '{"k": [1, 2]}');
INSERT INTO rc_local.items (id, name, tags, doc) VALUES (1000, 'new', '{a,b}', '{"k": [1, 2]}');
SELECT compare('SELECT * FROM items');

-- a prepared statement with both parameters and constants
PREPARE both_kinds(bigint) AS SELECT id, name FROM rc_dist.items WHERE id = $1 AND price > 1.0 AND name <> 'x';
EXECUTE both_kinds(60);
EXECUTE both_kinds(61);
EXECUTE both_kinds(62);
EXECUTE both_kinds(63);
EXECUTE both_kinds(64);
EXECUTE both_kinds(65);
DEALLOCATE both_kinds;

RESET search_path;
DROP SCHEMA rc_dist CASCADE;
DROP SCHEMA rc_local CASCADE;
DROP SCHEMA router_constants CASCADE;
