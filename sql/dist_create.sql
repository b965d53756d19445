--
-- create_distributed_table: hash and range tables, shards and placements,
-- co-location, names, where the rows land on the workers, bad input, and
-- undistribute_table
--
\getenv coord_port SHARDEXT_COORD_PORT
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
SELECT node_id AS w1 FROM shardext.nodes WHERE role = 'worker' AND port = :worker1_port \gset
SELECT node_id AS w2 FROM shardext.nodes WHERE role = 'worker' AND port = :worker2_port \gset

CREATE SCHEMA dist_create;
SET search_path = dist_create, public;

-- node ids as names in the output
CREATE TABLE node_names (node_id int PRIMARY KEY, name text);
INSERT INTO node_names VALUES (0, 'coordinator'), (:w1, 'w1'), (:w2, 'w2');
CREATE FUNCTION node_name(int) RETURNS text LANGUAGE sql STABLE
	AS $$ SELECT coalesce((SELECT name FROM dist_create.node_names WHERE node_id = $1), 'node ' || $1) $$;

-- the placements of a table's shards, in shard order
CREATE FUNCTION placement_list(tbl regclass) RETURNS text LANGUAGE sql STABLE
	AS $$ SELECT string_agg(dist_create.node_name(p.node_id), ' ' ORDER BY s.shard_index)
	        FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
	       WHERE s.table_name = tbl $$;

-- what every shard of a table should hold, computed on the coordinator with
-- the routing functions: its node, its row count and a digest of its rows
CREATE FUNCTION expected_shards(tbl regclass)
RETURNS TABLE (shard_id bigint, node_id int, nrows bigint, digest text)
LANGUAGE plpgsql AS $$
DECLARE
	col text := (SELECT distribution_column FROM shardext.tables t WHERE t.table_name = tbl);
BEGIN
	RETURN QUERY EXECUTE format(
		'WITH r AS (SELECT shardext_shard_for_value($1, t.%1$I) AS shard_id,
		                   shardext_node_for_value($1, t.%1$I) AS node_id,
		                   t::text AS row_text
		              FROM %2$s t)
		 SELECT s.shard_id, coalesce(r.node_id, p.node_id), count(r.row_text),
		        md5(coalesce(string_agg(r.row_text, ''|'' ORDER BY r.row_text), ''''))
		   FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
		   LEFT JOIN r USING (shard_id)
		  WHERE s.table_name = $1
		  GROUP BY 1, 2', col, tbl) USING tbl;
END
$$;

-- the distributed tables of this test
CREATE VIEW my_tables AS
SELECT t.table_name FROM shardext.tables t
  JOIN pg_class c ON c.oid = t.table_name
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('dist_create', 'dist_create_other', 'My Schema');

--
-- A hash-distributed table with data
--
CREATE TABLE items (
	id int PRIMARY KEY,
	name text NOT NULL DEFAULT 'unnamed',
	qty int DEFAULT 1 CHECK (qty >= 0),
	added date,
	tag text,
	UNIQUE (tag, id)
);
CREATE INDEX items_name ON items (name);
INSERT INTO items
SELECT g, 'item ' || g, g % 13, date '2024-01-01' + g % 400,
       CASE WHEN g % 5 <> 0 THEN 'tag' || g % 17 END
  FROM generate_series(1, 1000) g;
CREATE TABLE items_saved AS SELECT * FROM items;

SELECT create_distributed_table('items', 'id', shard_count => 4);
SELECT table_name, distribution_type, distribution_column, shard_count
  FROM shardext.tables WHERE table_name = 'items'::regclass;
-- equal ranges of the int4 hash space, one shard table each
SELECT shard_index, min_value, max_value,
       shard_relation = 'dist_create.items_' || shard_id AS relation_named
  FROM shardext.shards WHERE table_name = 'items'::regclass ORDER BY shard_index;
-- round-robin over the two workers
SELECT placement_list('items');
-- the local table keeps no row; every row is readable through the table
SELECT pg_relation_size('items') AS local_bytes;
SELECT count(*), sum(id), count(tag) AS tags FROM items;
SELECT count(*) AS differing FROM (
	(TABLE items EXCEPT ALL TABLE items_saved)
	UNION ALL
	(TABLE items_saved EXCEPT ALL TABLE items)) d;

-- the routing functions agree with each other and with the shard bounds
SELECT count(*) AS rows_checked,
       count(*) FILTER (WHERE shardext_hash(i.id) NOT BETWEEN s.min_value::int AND s.max_value::int) AS outside_bounds,
       count(*) FILTER (WHERE shardext_node_for_value('items', i.id) <> p.node_id) AS wrong_node
  FROM items_saved i
  JOIN shardext.shards s ON s.shard_id = shardext_shard_for_value('items', i.id)
  JOIN shardext.placements p ON p.shard_id = s.shard_id;
SELECT shardext_hash(1) = shardext_hash(1::bigint) AS int4_int8,
       shardext_hash(1::smallint) = shardext_hash(1) AS int2_int4,
       shardext_hash('abc'::text) = shardext_hash('abc'::varchar) AS text_varchar,
       shardext_hash(NULL::int) IS NULL AS null_hash;
-- a value of another type is converted to the column's type
SELECT shardext_shard_for_value('items', 7::bigint) = shardext_shard_for_value('items', 7) AS bigint_arg,
       shardext_shard_for_value('items', '7'::text) = shardext_shard_for_value('items', 7) AS text_arg;
SELECT expect_error($$SELECT shardext_shard_for_value('items', 'seven'::text)$$);
SELECT expect_error($$SELECT shardext_shard_for_value('items', NULL::int)$$);
SELECT expect_error($$SELECT shardext_node_for_value('items_saved', 1)$$);
SELECT expect_error($$SELECT shardext_hash(point '(1,2)')$$);

-- shard count from the GUC when shard_count is NULL
CREATE TABLE by_default (k bigint);
SELECT create_distributed_table('by_default', 'k');
SET shardext.shard_count = 6;
CREATE TABLE by_guc (k bigint);
SELECT create_distributed_table('by_guc', 'k', shard_count => NULL);
RESET shardext.shard_count;
SELECT table_name, shard_count,
       (SELECT count(*) FROM shardext.shards s WHERE s.table_name = t.table_name) AS shards
  FROM shardext.tables t WHERE table_name IN ('by_default'::regclass, 'by_guc'::regclass)
 ORDER BY 1;
-- neighbouring shards sit on different workers, half on each
SELECT node_name(p.node_id), count(*),
       count(*) FILTER (WHERE p.node_id = (SELECT p2.node_id FROM shardext.shards s2
                        JOIN shardext.placements p2 USING (shard_id)
                        WHERE s2.table_name = s.table_name AND s2.shard_index = s.shard_index + 1)) AS same_as_next
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE s.table_name = 'by_default'::regclass GROUP BY 1 ORDER BY 1;
-- the first and last bounds of 32 and 6 shards
SELECT t, shard_index, min_value, max_value
  FROM (SELECT s.table_name::text AS t, s.*,
               max(shard_index) OVER (PARTITION BY s.table_name) AS last
          FROM shardext.shards s
         WHERE s.table_name IN ('by_default'::regclass, 'by_guc'::regclass)) x
 WHERE shard_index IN (0, 1, last) ORDER BY 1, 2;

--
-- Co-location
--
CREATE TABLE item_notes (item_id int, note text);
CREATE TABLE item_alone (item_id int);
CREATE TABLE item_named (item_id int);
CREATE TABLE item_big (item_id bigint);
CREATE TABLE item_8 (item_id int);
SELECT create_distributed_table('item_notes', 'item_id', shard_count => 4);
SELECT create_distributed_table('item_alone', 'item_id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('item_named', 'item_id', 'hash', 4, colocate_with => 'items');
SELECT create_distributed_table('item_big', 'item_id', shard_count => 4);
SELECT create_distributed_table('item_8', 'item_id', shard_count => 8);
SELECT t.table_name,
       t.colocation_id = i.colocation_id AS with_items,
       (SELECT count(*) FROM shardext.tables o WHERE o.colocation_id = t.colocation_id) AS group_size
  FROM shardext.tables t, shardext.tables i
 WHERE i.table_name = 'items'::regclass
   AND t.table_name IN ('item_notes'::regclass, 'item_alone'::regclass, 'item_named'::regclass,
                        'item_big'::regclass, 'item_8'::regclass)
 ORDER BY 1;
-- co-located shards of equal index share their node
SELECT count(*) AS shard_pairs, count(*) FILTER (WHERE p1.node_id <> p2.node_id) AS apart
  FROM shardext.shards s1 JOIN shardext.placements p1 ON p1.shard_id = s1.shard_id
  JOIN shardext.shards s2 ON s2.shard_index = s1.shard_index
  JOIN shardext.placements p2 ON p2.shard_id = s2.shard_id
 WHERE s1.table_name = 'items'::regclass
   AND s2.table_name IN ('item_notes'::regclass, 'item_named'::regclass);
SELECT count(*) AS same_bounds_as_items
  FROM shardext.shards s1 JOIN shardext.shards s2 USING (shard_index, min_value, max_value)
 WHERE s1.table_name = 'items'::regclass AND s2.table_name = 'item_alone'::regclass;
-- co-locating with a table that does not match
CREATE TABLE co_bad (id int, big bigint, day date);
SELECT expect_error($$SELECT create_distributed_table('co_bad', 'id', shard_count => 8, colocate_with => 'items')$$);
SELECT expect_error($$SELECT create_distributed_table('co_bad', 'big', shard_count => 4, colocate_with => 'items')$$);
SELECT expect_error($$SELECT create_distributed_table('co_bad', 'id', shard_count => 4, colocate_with => 'items_saved')$$);
SELECT expect_error($$SELECT create_distributed_table('co_bad', 'id', shard_count => 4, colocate_with => 'no_such_table')$$);
SELECT expect_error($$SELECT create_distributed_table('co_bad', 'id', 'range', range_bounds => '{10}', colocate_with => 'items')$$);
SELECT count(*) AS co_bad_distributed FROM shardext.tables WHERE table_name = 'co_bad'::regclass;

--
-- Range distribution
--
CREATE TABLE events (day date NOT NULL, kind text, n int);
INSERT INTO events
SELECT date '2024-01-01' + g % 150, CASE g % 3 WHEN 0 THEN 'click' WHEN 1 THEN 'view' ELSE NULL END, g
  FROM generate_series(1, 600) g;
CREATE TABLE events_saved AS SELECT * FROM events;
SELECT create_distributed_table('events', 'day', 'range',
	range_bounds => '{2024-02-01, 2024-03-01, 2024-04-01}');
SELECT table_name, distribution_type, distribution_column, shard_count
  FROM shardext.tables WHERE table_name = 'events'::regclass;
SELECT shard_index, min_value, max_value FROM shardext.shards
 WHERE table_name = 'events'::regclass ORDER BY shard_index;
SELECT placement_list('events');
SELECT pg_relation_size('events') AS local_bytes;
SELECT count(*) AS differing FROM (
	(TABLE events EXCEPT ALL TABLE events_saved)
	UNION ALL
	(TABLE events_saved EXCEPT ALL TABLE events)) d;
-- a bound belongs to the shard it starts
SELECT d, (SELECT shard_index FROM shardext.shards
            WHERE shard_id = shardext_shard_for_value('events', d)) AS shard_index
  FROM unnest('{1999-12-31, 2024-01-31, 2024-02-01, 2024-02-29, 2024-03-01, 2024-04-01, 9999-01-01}'::date[]) d
 ORDER BY d;
-- rows per shard, computed on the coordinator
SELECT s.shard_index, count(*)
  FROM events_saved e JOIN shardext.shards s ON s.shard_id = shardext_shard_for_value('events', e.day)
 GROUP BY 1 ORDER BY 1;
-- the bounds mean the same in a session with another DateStyle (a new
-- distributed table makes the session reload the shard map)
SET datestyle = 'ISO, DMY';
CREATE TABLE reload (id int);
SELECT create_distributed_table('reload', 'id', shard_count => 1);
SELECT (SELECT shard_index FROM shardext.shards
         WHERE shard_id = shardext_shard_for_value('events', date '2024-01-15')) AS shard_index;
SELECT count(*) FROM events WHERE day = '2024-01-15';
SELECT count(*) FROM events_saved WHERE day = '2024-01-15';
SELECT count(*) FROM events WHERE day < '2024-02-01';
SELECT count(*) FROM events_saved WHERE day < '2024-02-01';
RESET datestyle;

-- range tables: same bounds → co-located by default; other bounds → not
CREATE TABLE events_more (day date, extra text);
CREATE TABLE events_other (day date);
SELECT create_distributed_table('events_more', 'day', 'range',
	range_bounds => ARRAY['2024-02-01', '2024-03-01', '2024-04-01']);
SELECT create_distributed_table('events_other', 'day', 'range',
	range_bounds => ARRAY['2024-02-01', '2024-03-01']);
SELECT t.table_name, t.colocation_id = e.colocation_id AS with_events
  FROM shardext.tables t, shardext.tables e
 WHERE e.table_name = 'events'::regclass
   AND t.table_name IN ('events_more'::regclass, 'events_other'::regclass)
 ORDER BY 1;
SELECT expect_error($$SELECT create_distributed_table('co_bad', 'day', 'range', range_bounds => '{2024-02-01}', colocate_with => 'events')$$);

-- text ranges, and bounds written as other types that cast
CREATE TABLE words (w text COLLATE "C", n int);
INSERT INTO words SELECT chr(97 + g % 26) || g, g FROM generate_series(1, 260) g;
INSERT INTO words VALUES ('', 0), ('A capital', 1), ('~tilde', 2);
CREATE TABLE words_saved AS SELECT * FROM words;
SELECT create_distributed_table('words', 'w', 'range', range_bounds => '{g,n,t}');
SELECT shard_index, min_value, max_value FROM shardext.shards
 WHERE table_name = 'words'::regclass ORDER BY shard_index;
SELECT s.shard_index, count(*), min(w.w), max(w.w)
  FROM words_saved w JOIN shardext.shards s ON s.shard_id = shardext_shard_for_value('words', w.w)
 GROUP BY 1 ORDER BY 1;
CREATE TABLE nums (x numeric);
INSERT INTO nums SELECT g / 4.0 FROM generate_series(-20, 20) g;
SELECT create_distributed_table('nums', 'x', 'range', range_bounds => '{-1.5, 0, 2.25}');
SELECT shard_index, min_value, max_value FROM shardext.shards
 WHERE table_name = 'nums'::regclass ORDER BY shard_index;
SELECT count(*), sum(x), min(x), max(x) FROM nums;

--
-- Schemas, quoted names with spaces and quotes
--
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Order ""Items""" (
	"Customer Id" int NOT NULL,
	"Line" int NOT NULL,
	"Note; DROP TABLE x" text,
	PRIMARY KEY ("Customer Id", "Line")
);
INSERT INTO "My Schema"."Order ""Items"""
SELECT g % 10, g, format('it''s "line" %s;', g) FROM generate_series(1, 60) g;
SELECT expect_error($$SELECT create_distributed_table('"My Schema"."Order ""Items"""', 'customer id')$$);
SELECT expect_error($$SELECT create_distributed_table('"My Schema"."Order ""Items"""', '"Customer Id"')$$);
SELECT create_distributed_table('"My Schema"."Order ""Items"""', 'Customer Id', shard_count => 3);
SELECT table_name, distribution_column FROM shardext.tables
 WHERE table_name = '"My Schema"."Order ""Items"""'::regclass;
SELECT shard_index, replace(shard_relation, shard_id::text, 'ID') AS shard_relation
  FROM shardext.shards WHERE table_name = '"My Schema"."Order ""Items"""'::regclass
 ORDER BY shard_index;
SELECT "Customer Id", count(*), min("Note; DROP TABLE x")
  FROM "My Schema"."Order ""Items""" GROUP BY 1 ORDER BY 1;
SELECT * FROM "My Schema"."Order ""Items""" WHERE "Customer Id" = 3 ORDER BY "Line";
-- found through search_path too
SET search_path = "My Schema", dist_create, public;
SELECT count(*) FROM "Order ""Items""";
SELECT count(*) FROM "Order ""Items""" WHERE "Customer Id" = 7;
SET search_path = dist_create, public;

-- the same table name in two schemas
CREATE SCHEMA dist_create_other;
CREATE TABLE dist_create_other.items (id int, other bool DEFAULT true);
INSERT INTO dist_create_other.items SELECT g FROM generate_series(1, 10) g;
SELECT create_distributed_table('dist_create_other.items', 'id', shard_count => 4, colocate_with => 'none');
SELECT count(*), bool_and(other) FROM dist_create_other.items;
SELECT count(*) FROM items WHERE id <= 10;
SELECT count(*) AS shard_tables,
       count(*) FILTER (WHERE shard_relation LIKE 'dist_create_other.items\_%') AS in_other_schema
  FROM shardext.shards WHERE table_name = 'dist_create_other.items'::regclass;

--
-- On the workers: shard tables as the coordinator says, and every row on
-- the shard and node the routing functions name
--
SELECT string_agg(format('SELECT %L::text AS table_name, %s::bigint AS shard_id, count(*) AS nrows, '
                         'md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS digest '
                         'FROM %s t', s.table_name::text, s.shard_id, s.shard_relation),
                  ' UNION ALL ' ORDER BY s.shard_id) AS w1_query
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE p.node_id = :w1 AND s.table_name IN (SELECT table_name FROM my_tables) \gset
SELECT string_agg(format('SELECT %L::text AS table_name, %s::bigint AS shard_id, count(*) AS nrows, '
                         'md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS digest '
                         'FROM %s t', s.table_name::text, s.shard_id, s.shard_relation),
                  ' UNION ALL ' ORDER BY s.shard_id) AS w2_query
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE p.node_id = :w2 AND s.table_name IN (SELECT table_name FROM my_tables) \gset
SELECT array_agg(format('%s:%s:%s', e.shard_id, e.nrows, e.digest)) AS w1_expected
  FROM my_tables t, expected_shards(t.table_name) e WHERE e.node_id = :w1 \gset
SELECT array_agg(format('%s:%s:%s', e.shard_id, e.nrows, e.digest)) AS w2_expected
  FROM my_tables t, expected_shards(t.table_name) e WHERE e.node_id = :w2 \gset
SELECT shard_relation AS items_shard FROM shardext.shards
 WHERE table_name = 'items'::regclass AND shard_index = 0 \gset
SELECT count(*) AS shards_on_w1, sum(nrows) AS rows_on_w1 FROM my_tables t, expected_shards(t.table_name) e WHERE e.node_id = :w1;
SELECT count(*) AS shards_on_w2, sum(nrows) AS rows_on_w2 FROM my_tables t, expected_shards(t.table_name) e WHERE e.node_id = :w2;

\c regression - 127.0.0.1 :worker1_port
SELECT current_setting('port') = :'worker1_port' AS on_worker1;
SELECT table_name, count(*) AS shards, sum(nrows) AS rows,
       bool_and(format('%s:%s:%s', shard_id, nrows, digest) = ANY (:'w1_expected'::text[])) AS as_routed
  FROM (:w1_query) q GROUP BY 1 ORDER BY 1;
SELECT count(*) = cardinality(:'w1_expected'::text[]) AS every_shard_found FROM (:w1_query) q;
-- a shard table has the columns, defaults, constraints and indexes
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(d.adbin, d.adrelid) AS default
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = :'items_shard'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum;
SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = :'items_shard'::regclass ORDER BY 1, 2;
SELECT regexp_replace(indexdef, '_\d+', '_ID', 'g') AS indexdef FROM pg_indexes
 WHERE schemaname = 'dist_create' AND format('%I.%I', schemaname, tablename) = :'items_shard'
 ORDER BY 1;
-- the schema with a quoted name exists on the worker
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dist_create%' OR nspname = 'My Schema' ORDER BY 1;

\c regression - 127.0.0.1 :worker2_port
SELECT current_setting('port') = :'worker2_port' AS on_worker2;
SELECT table_name, count(*) AS shards, sum(nrows) AS rows,
       bool_and(format('%s:%s:%s', shard_id, nrows, digest) = ANY (:'w2_expected'::text[])) AS as_routed
  FROM (:w2_query) q GROUP BY 1 ORDER BY 1;
SELECT count(*) = cardinality(:'w2_expected'::text[]) AS every_shard_found FROM (:w2_query) q;

\c regression - 127.0.0.1 :coord_port
SET search_path = dist_create, public;
SELECT current_setting('port') = :'coord_port' AS on_coordinator;

--
-- Bad input: each call fails and changes nothing
--
SELECT expect_error($$SELECT create_distributed_table('items', 'id')$$);
SELECT expect_error($$SELECT create_distributed_table('no_such_table', 'id')$$);
CREATE TABLE bad (id int, "CamelCol" int, p point, r int4range, js json);
INSERT INTO bad VALUES (1, 1, '(1,1)', '[1,2)', '{}'), (2, 2, '(2,2)', '[2,3)', '[]');
SELECT expect_error($$SELECT create_distributed_table('bad', 'no_such_column')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'camelcol')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'p')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'js')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'p', 'range', range_bounds => '{"(1,1)"}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'modulo')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', shard_count => 0)$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', shard_count => -3)$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', shard_count => 64001)$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'hash', range_bounds => '{1}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range', range_bounds => '{}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range', range_bounds => '{10, 5}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range', range_bounds => '{5, 5}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range', range_bounds => '{5, ten}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range', range_bounds => '{5, NULL}')$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', 'range', range_bounds => '{1, 2}', shard_count => 2)$$);
SELECT expect_error($$SELECT create_distributed_table('bad', NULL)$$);
SELECT expect_error($$SELECT create_distributed_table('bad', 'id', NULL)$$);
SELECT count(*) AS bad_rows FROM bad;

-- workers have only the built-in types
-- (enums and domains of built-in functions are fine: see node_types)
CREATE TYPE dist_create_span AS RANGE (subtype = int4);
CREATE FUNCTION dist_create_positive(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
CREATE DOMAIN dist_create_posint AS int CHECK (dist_create_positive(VALUE));
CREATE TABLE with_range (id int, span dist_create_span);
CREATE TABLE with_domain (id dist_create_posint, v text);
SELECT expect_error($$SELECT create_distributed_table('with_range', 'id')$$, true);
SELECT expect_error($$SELECT create_distributed_table('with_domain', 'id')$$, true);
CREATE TABLE parted (id int) PARTITION BY HASH (id);
CREATE TABLE parted_0 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 0);
SELECT expect_error($$SELECT create_distributed_table('parted', 'id')$$);
SELECT expect_error($$SELECT create_distributed_table('parted_0', 'id')$$);
CREATE TEMP TABLE temp_t (id int);
SELECT regexp_replace(expect_error($$SELECT create_distributed_table('temp_t', 'id')$$),
                      'pg_temp_\d+', 'pg_temp_N') AS expect_error;
CREATE VIEW a_view AS SELECT 1 AS id;
SELECT expect_error($$SELECT create_distributed_table('a_view', 'id')$$);
CREATE TABLE fk_parent (id int PRIMARY KEY);
CREATE TABLE fk_child (id int, parent_id int REFERENCES fk_parent);
SELECT expect_error($$SELECT create_distributed_table('fk_child', 'id')$$);
SELECT expect_error($$SELECT create_distributed_table('fk_parent', 'id')$$);
CREATE TABLE uniq (id int, code text UNIQUE);
SELECT expect_error($$SELECT create_distributed_table('uniq', 'id')$$);
CREATE TABLE uniq_pk (id int, code text PRIMARY KEY);
SELECT expect_error($$SELECT create_distributed_table('uniq_pk', 'id')$$);
CREATE TABLE uniq_idx (id int, code text);
CREATE UNIQUE INDEX ON uniq_idx (code);
SELECT expect_error($$SELECT create_distributed_table('uniq_idx', 'id')$$);
-- a unique key that includes the distribution column is fine
CREATE TABLE uniq_ok (id int, code text, UNIQUE (code, id));
SELECT create_distributed_table('uniq_ok', 'id', shard_count => 2);

-- a NULL distribution value while moving rows: the call fails as a whole
CREATE TABLE with_null (id int, v text);
INSERT INTO with_null SELECT g, 'v' || g FROM generate_series(1, 100) g;
INSERT INTO with_null VALUES (NULL, 'no key');
SELECT expect_error($$SELECT create_distributed_table('with_null', 'id', shard_count => 4)$$, true);
SELECT count(*), count(id) FROM with_null;
SELECT count(*) AS catalog_rows FROM shardext.tables WHERE table_name = 'with_null'::regclass;
SELECT pg_relation_size('with_null') > 0 AS local_rows_kept;
-- once the row has a key the table distributes
UPDATE with_null SET id = 0 WHERE id IS NULL;
SELECT create_distributed_table('with_null', 'id', shard_count => 4);
SELECT count(*), count(id), sum(id) FROM with_null;

-- a rolled-back distribution leaves the table as it was
CREATE TABLE rolled (id int, v text);
INSERT INTO rolled SELECT g, 'r' || g FROM generate_series(1, 50) g;
BEGIN;
SELECT create_distributed_table('rolled', 'id', shard_count => 2);
SELECT count(*) FROM rolled;
ROLLBACK;
SELECT count(*) AS catalog_rows FROM shardext.tables WHERE table_name = 'rolled'::regclass;
SELECT count(*), sum(id) FROM rolled;
SELECT pg_relation_size('rolled') > 0 AS local_rows_kept;

-- failed and rolled-back calls left no shard table on the workers
\c regression - 127.0.0.1 :worker1_port
SELECT tablename FROM pg_tables
 WHERE schemaname = 'dist_create' AND tablename ~ '^(with_null|rolled|bad|co_bad|uniq|parted|fk)'
   AND tablename !~ '^(with_null|uniq_ok)_'
 ORDER BY 1;
SELECT count(*) AS rolled_shards FROM pg_tables WHERE schemaname = 'dist_create' AND tablename LIKE 'rolled%';
\c regression - 127.0.0.1 :worker2_port
SELECT count(*) AS rolled_shards FROM pg_tables WHERE schemaname = 'dist_create' AND tablename LIKE 'rolled%';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_create, public;

--
-- undistribute_table brings every row back
--
SELECT expect_error($$SELECT undistribute_table('items_saved')$$);
SELECT min(shard_relation) AS events_shard FROM shardext.shards JOIN shardext.placements USING (shard_id)
 WHERE table_name = 'events'::regclass AND node_id = :w2 \gset
SELECT undistribute_table('events');
SELECT count(*) AS catalog_rows FROM shardext.tables WHERE table_name = 'events'::regclass;
SELECT count(*) AS shard_rows FROM shardext.shards WHERE table_name::oid = 'events'::regclass::oid;
SELECT count(*) AS differing FROM (
	(TABLE events EXCEPT ALL TABLE events_saved)
	UNION ALL
	(TABLE events_saved EXCEPT ALL TABLE events)) d;
SELECT pg_relation_size('events') > 0 AS local_rows;
SELECT expect_error($$SELECT shardext_shard_for_value('events', date '2024-01-01')$$);
SELECT undistribute_table('items');
SELECT count(*) AS differing FROM (
	(TABLE items EXCEPT ALL TABLE items_saved)
	UNION ALL
	(TABLE items_saved EXCEPT ALL TABLE items)) d;
-- constraints still hold on the local table
SELECT expect_error($$INSERT INTO items VALUES (1, 'duplicate')$$);
SELECT undistribute_table('"My Schema"."Order ""Items"""');
SELECT count(*), count(DISTINCT "Customer Id") FROM "My Schema"."Order ""Items""";
SELECT expect_error($$SELECT undistribute_table('items')$$);
-- and distributing again works
SELECT create_distributed_table('items', 'id', shard_count => 2, colocate_with => 'none');
SELECT count(*) AS differing FROM (
	(TABLE items EXCEPT ALL TABLE items_saved)
	UNION ALL
	(TABLE items_saved EXCEPT ALL TABLE items)) d;
-- the shards of an undistributed table are gone from the workers
\c regression - 127.0.0.1 :worker2_port
SELECT to_regclass(:'events_shard') IS NULL AS events_shard_dropped;
\c regression - 127.0.0.1 :coord_port
-- many shards: the shard map is built a few times, not once per shard
-- (each build is kept to the end of the transaction)
CREATE TABLE many_shards (id int PRIMARY KEY);
BEGIN;
SELECT create_distributed_table('many_shards', 'id', shard_count => 256);
SELECT count(*) < 10 AS few_map_builds
  FROM pg_backend_memory_contexts WHERE name = 'shardext metadata cache';
ROLLBACK;
DROP TABLE many_shards;

-- without shard_count, a table named in colocate_with gives its own
CREATE TABLE co_first (id int);
SELECT create_distributed_table('co_first', 'id', shard_count => 6);
CREATE TABLE co_named (id int);
SELECT create_distributed_table('co_named', 'id', colocate_with => 'co_first');
SELECT t.shard_count AS shards, t.colocation_id = i.colocation_id AS colocated
  FROM shardext.tables t, shardext.tables i
 WHERE t.table_name = 'co_named'::regclass AND i.table_name = 'co_first'::regclass;
DROP TABLE co_named, co_first;

-- ids the shard map has are never drawn again, also when the sequences were
-- set back (by hand, or by the setval of a refused data-only restore)
CREATE TABLE seq_a (id int PRIMARY KEY);
CREATE TABLE seq_b (id int PRIMARY KEY);
CREATE TABLE seq_c (id int PRIMARY KEY);
SET client_min_messages = warning;
SELECT last_value AS coloc_before FROM shardext.colocation_id_seq \gset
SELECT create_distributed_table('seq_a', 'id', shard_count => 2, colocate_with => 'none');
SELECT setval('shardext.colocation_id_seq', :coloc_before) IS NOT NULL AS set_back;
SELECT min(shard_id) - 1 AS before_a FROM shardext.shards WHERE table_name = 'seq_a'::regclass \gset
SELECT setval('shardext.shard_id_seq', :before_a) IS NOT NULL AS set_back;
SELECT create_distributed_table('seq_b', 'id', shard_count => 2, colocate_with => 'none');
SELECT setval('shardext.shard_id_seq', :before_a) IS NOT NULL AS set_back;
SELECT create_distributed_table('seq_c', 'id', shard_count => 2, colocate_with => 'seq_a');
RESET client_min_messages;
SELECT (SELECT colocation_id FROM shardext.tables WHERE table_name = 'seq_a'::regclass) <>
       (SELECT colocation_id FROM shardext.tables WHERE table_name = 'seq_b'::regclass) AS separate_groups,
       (SELECT colocation_id FROM shardext.tables WHERE table_name = 'seq_a'::regclass) =
       (SELECT colocation_id FROM shardext.tables WHERE table_name = 'seq_c'::regclass) AS asked_group,
       (SELECT count(*) = count(DISTINCT shard_id) FROM shardext.shards) AS distinct_shard_ids;
INSERT INTO seq_b VALUES (1), (2), (3);
SELECT count(*) FROM seq_b;
DROP TABLE seq_a, seq_b, seq_c;
