--
-- VACUUM and ANALYZE of distributed tables: they reach the shards, record
-- the shards' sizes, and give the coordinator's planner column statistics.
-- The oracle is PostgreSQL's own ANALYZE of a local copy: a table of fewer
-- rows than ANALYZE samples is read whole by both, so their statistics
-- must be the same (but for correlation, which follows the rows' physical
-- order).
--
SELECT setval('shardext.shard_id_seq', 800000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA stats;
SET search_path = stats, public;
SET client_min_messages = warning;
CREATE TABLE st (id int PRIMARY KEY, tenant int, cat text, val numeric, note text, d date);
INSERT INTO st
  SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 50 END,
         CASE WHEN g % 10 < 6 THEN 'common' WHEN g % 10 < 9 THEN 'mid' ELSE 'rare' || (g % 300) END,
         (g * 37) % 1000 / 10.0, repeat('x', g % 40), date '2026-01-01' + g % 365
  FROM generate_series(1, 20000) g;
CREATE TABLE local_st (LIKE st INCLUDING ALL);
INSERT INTO local_st SELECT * FROM st;
ANALYZE local_st;
SELECT create_distributed_table('st', 'id', shard_count => 8);
RESET client_min_messages;

-- stats_diff(): the columns whose statistics differ between a distributed
-- table and its local copy (st and local_st unless named)
CREATE FUNCTION stats_diff(dist text DEFAULT 'st', local text DEFAULT 'local_st')
RETURNS SETOF text LANGUAGE sql AS $$
	WITH s AS (
		SELECT tablename AS t, attname AS a, null_frac, avg_width, n_distinct,
			   most_common_vals::text AS mcv, most_common_freqs::text AS mcf,
			   histogram_bounds::text AS hist
		FROM pg_stats WHERE schemaname = 'stats'
	)
	SELECT a || ': ' || coalesce(d.n_distinct::text, '-') || ' vs ' || coalesce(l.n_distinct::text, '-')
	FROM (SELECT * FROM s WHERE t = dist) d FULL JOIN (SELECT * FROM s WHERE t = local) l USING (a)
	WHERE (d.null_frac, d.avg_width, d.n_distinct, d.mcv, d.mcf, d.hist)
		  IS DISTINCT FROM (l.null_frac, l.avg_width, l.n_distinct, l.mcv, l.mcf, l.hist)
	ORDER BY 1
$$;

-- plan_rows(q): the planner's row estimate for q
CREATE FUNCTION plan_rows(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END
$$;

-- plan_lines(q): the lines of q's plan, without costs
CREATE FUNCTION plan_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		RETURN NEXT line;
	END LOOP;
END
$$;

-- same_estimate(where): the estimates on st and local_st agree within 2%
CREATE FUNCTION same_estimate(cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d float8 := plan_rows('SELECT * FROM st WHERE ' || cond);
	l float8 := plan_rows('SELECT * FROM local_st WHERE ' || cond);
BEGIN
	IF abs(d - l) <= 0.02 * l + 1 THEN
		RETURN 'same';
	END IF;
	RETURN format('distributed %s, local %s', d, l);
END
$$;

-- create_distributed_table analyzed the rows it moved, and recorded the
-- shards' sizes
SELECT count(*) AS shards, sum(row_count) AS row_count, bool_and(page_count > 0) AS pages
  FROM shardext.shard_statistics JOIN shardext.shards USING (shard_id)
  WHERE table_name = 'st'::regclass;
SELECT * FROM stats_diff();

-- ANALYZE of the distributed table samples the shards on the nodes
DELETE FROM pg_statistic WHERE starelid = 'st'::regclass;
SELECT count(*) FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'st';
ANALYZE st;
SELECT * FROM stats_diff();
SELECT cond, same_estimate(cond) FROM (VALUES
	('tenant = 5'), ('tenant IS NULL'), ('cat = ''mid'''), ('cat = ''rare7'''),
	('val < 10'), ('d BETWEEN ''2026-02-01'' AND ''2026-03-01'''), ('note LIKE ''xxx%'''),
	('id > 15000'), ('tenant = 5 AND cat = ''common'''),
	-- a key's distinct count grows with the table (n_distinct < 0)
	('id = 5 OR id = 7'), ('id IN (1, 2, 3)'), ('id <> 5 AND id < 30')) AS c(cond);

-- a column list refreshes those columns only
DELETE FROM pg_statistic WHERE starelid = 'st'::regclass;
ANALYZE st (tenant, cat);
SELECT attname FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'st' ORDER BY 1;
ANALYZE st (nope);

-- the row count follows the data at the next VACUUM or ANALYZE, also when
-- they name no table
INSERT INTO st SELECT g, g % 50, 'new', 1, '', NULL FROM generate_series(20001, 25000) g;
INSERT INTO local_st SELECT g, g % 50, 'new', 1, '', NULL FROM generate_series(20001, 25000) g;
ANALYZE;
SELECT sum(row_count) AS row_count FROM shardext.shard_statistics
  JOIN shardext.shards USING (shard_id) WHERE table_name = 'st'::regclass;
SELECT * FROM stats_diff();
SELECT same_estimate('cat = ''new''');
DELETE FROM st WHERE id > 22000;
VACUUM st;
SELECT sum(row_count) AS row_count FROM shardext.shard_statistics
  JOIN shardext.shards USING (shard_id) WHERE table_name = 'st'::regclass;
DELETE FROM local_st WHERE id > 22000;
VACUUM (ANALYZE, VERBOSE false) st, local_st;
SELECT * FROM stats_diff();
VACUUM FULL st;
SELECT count(*) FROM st;
VACUUM;

-- VACUUM keeps PostgreSQL's rules: not in a transaction; owners only
BEGIN;
VACUUM st;
ROLLBACK;
BEGIN;
ANALYZE st;
COMMIT;
CREATE ROLE stats_reader;
GRANT USAGE ON SCHEMA stats TO stats_reader;
GRANT SELECT ON st TO stats_reader;
SET ROLE stats_reader;
ANALYZE st;
VACUUM st;
RESET ROLE;

-- a table whose shards are empty keeps the statistics it had, as
-- PostgreSQL's ANALYZE of an empty table does
CREATE TABLE empty_t (a int, b text);
SELECT create_distributed_table('empty_t', 'a', shard_count => 2);
INSERT INTO empty_t SELECT g, 'b' FROM generate_series(1, 100) g;
ANALYZE empty_t;
SELECT count(*) FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'empty_t';
DELETE FROM empty_t;
ANALYZE empty_t;
SELECT count(*) FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'empty_t';

-- a table of more pages than rows sampled: the nodes sample pages
-- (TABLESAMPLE SYSTEM), then rows; the estimates stay close
CREATE TABLE wide (id int, grp int, pad text);
SELECT create_distributed_table('wide', 'id', shard_count => 4);
INSERT INTO wide SELECT g, g % 10, repeat('p', 400) FROM generate_series(1, 6000) g;
ALTER TABLE wide ALTER COLUMN grp SET STATISTICS 1, ALTER COLUMN id SET STATISTICS 1;
ANALYZE wide (id, grp);
SELECT attname, n_distinct FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'wide' ORDER BY 1;
SELECT plan_rows('SELECT * FROM wide WHERE grp = 3') BETWEEN 250 AND 1000 AS grp_estimate;

-- types with statistics of their own (ranges, tsvector), values too wide
-- to count (over 1 kB), a table whose owner may not create temporary tables
CREATE TABLE kinds (id int NOT NULL, r int4range, tv tsvector, w text);
INSERT INTO kinds SELECT g, int4range(g % 5, g % 5 + 2), to_tsvector('simple', 'w' || (g % 5)),
  repeat('x', 1100) || (g % 5) FROM generate_series(1, 1000) g;
CREATE TABLE local_kinds AS SELECT * FROM kinds;
SET client_min_messages = warning;
SELECT create_distributed_table('kinds', 'id', shard_count => 4);
RESET client_min_messages;
CREATE ROLE stats_owner;
GRANT USAGE, CREATE ON SCHEMA stats TO stats_owner;
ALTER TABLE kinds OWNER TO stats_owner;
ALTER TABLE local_kinds OWNER TO stats_owner;
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;
DELETE FROM pg_statistic WHERE starelid = 'kinds'::regclass;
ANALYZE kinds;
ANALYZE local_kinds;
DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database()); END $$;
SELECT * FROM stats_diff('kinds', 'local_kinds');
SELECT attname, n_distinct FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'kinds' ORDER BY 1;

-- counts measured before a load do not make the planner take the loaded
-- tables for empty (a nested loop would query the shards per outer row):
-- a distributed table is taken to hold at least 1,000 rows per shard
CREATE TABLE j1 (id int NOT NULL, v int);
CREATE TABLE j2 (id int NOT NULL, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('j1', 'id', shard_count => 4);
SELECT create_distributed_table('j2', 'v', shard_count => 4);
RESET client_min_messages;
ANALYZE j1, j2;
INSERT INTO j1 SELECT g, g FROM generate_series(1, 20000) g;
INSERT INTO j2 SELECT g, g FROM generate_series(1, 20000) g;
SELECT plan_rows('SELECT * FROM j1') >= 4000 AS at_least_guess;
SELECT count(*) FILTER (WHERE line ~ 'Nested Loop') AS nested_loops
  FROM plan_lines('SELECT count(*) FROM j1 JOIN j2 USING (id)') AS line;
SELECT count(*) FROM j1 JOIN j2 USING (id);

-- extended statistics (CREATE STATISTICS) are built from the sample too
CREATE TABLE corr (id int NOT NULL, g int, val int);
INSERT INTO corr SELECT i, i % 100, (i % 100) * 10 + 5 FROM generate_series(1, 20000) i;
CREATE TABLE local_corr AS SELECT * FROM corr;
SET client_min_messages = warning;
SELECT create_distributed_table('corr', 'id', shard_count => 4);
RESET client_min_messages;
CREATE STATISTICS corr_dep (dependencies, ndistinct, mcv) ON g, val FROM corr;
CREATE STATISTICS local_corr_dep (dependencies, ndistinct, mcv) ON g, val FROM local_corr;
ANALYZE corr;
ANALYZE local_corr;
SELECT d.statistics_name, d.dependencies::text = l.dependencies::text AS same_dependencies,
       d.n_distinct::text = l.n_distinct::text AS same_ndistinct,
       d.most_common_vals::text = l.most_common_vals::text AS same_mcv
  FROM pg_stats_ext d, pg_stats_ext l
 WHERE d.statistics_name = 'corr_dep' AND l.statistics_name = 'local_corr_dep';
SELECT plan_rows('SELECT * FROM corr WHERE g = 5 AND val = 55') AS distributed,
       plan_rows('SELECT * FROM local_corr WHERE g = 5 AND val = 55') AS local;

-- reference tables are sampled from one copy
CREATE TABLE rt (k int PRIMARY KEY, v text);
INSERT INTO rt SELECT g, 'v' || (g % 13) FROM generate_series(1, 500) g;
SELECT create_reference_table('rt');
DELETE FROM pg_statistic WHERE starelid = 'rt'::regclass;
ANALYZE rt;
SELECT attname, n_distinct FROM pg_stats WHERE schemaname = 'stats' AND tablename = 'rt' ORDER BY 1;
-- the coordinator's copy is its own table (not vacuumed through a
-- connection to itself, which would wait for this statement's locks)
VACUUM rt;
VACUUM (ANALYZE) rt, st, wide;
BEGIN;
ANALYZE;
COMMIT;

SET client_min_messages = warning;
DROP SCHEMA stats CASCADE;
DROP ROLE stats_reader;
DROP ROLE stats_owner;
RESET client_min_messages;
