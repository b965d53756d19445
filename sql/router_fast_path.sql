--
-- The router fast path: prepared statements and generic plans, parameters
-- of many types, implicit remote transactions, re-planning after changes.
--
-- shard ids of this test start at a number of its own, whatever ran before
SELECT setval('shardext.shard_id_seq', 200000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA fast;
SET search_path = fast, public;
SET client_min_messages = warning;

-- one table per distribution column type, each row's value as text too
CREATE TABLE t_int2 (k int2 PRIMARY KEY, v text);
CREATE TABLE t_int8 (k int8 PRIMARY KEY, v text);
CREATE TABLE t_text (k text PRIMARY KEY, v text);
CREATE TABLE t_numeric (k numeric PRIMARY KEY, v text);
CREATE TABLE t_date (k date PRIMARY KEY, v text);
CREATE TABLE t_tstz (k timestamptz PRIMARY KEY, v text);
CREATE TABLE t_uuid (k uuid PRIMARY KEY, v text);
INSERT INTO t_int2 SELECT g, g::text FROM generate_series(1, 50) g;
INSERT INTO t_int8 SELECT g * 1000000000::int8, g::text FROM generate_series(1, 50) g;
INSERT INTO t_text SELECT 'key ' || g, g::text FROM generate_series(1, 50) g;
INSERT INTO t_numeric SELECT g / 4.0, g::text FROM generate_series(1, 50) g;
INSERT INTO t_date SELECT date '2026-01-01' + g, g::text FROM generate_series(1, 50) g;
INSERT INTO t_tstz SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 hour', g::text
  FROM generate_series(1, 50) g;
INSERT INTO t_uuid SELECT md5(g::text)::uuid, g::text FROM generate_series(1, 50) g;
SELECT create_distributed_table(t, 'k', shard_count => 4)
  FROM unnest(ARRAY['t_int2', 't_int8', 't_text', 't_numeric', 't_date',
                    't_tstz', 't_uuid']) t;
RESET client_min_messages;

-- each statement runs 8 times: plans 6 and later are generic plans, which
-- pick the shard from the parameter at execution time
PREPARE q_int2(int2) AS SELECT v FROM t_int2 WHERE k = $1;
PREPARE q_int8(int8) AS SELECT v FROM t_int8 WHERE k = $1;
PREPARE q_text(text) AS SELECT v FROM t_text WHERE k = $1;
PREPARE q_numeric(numeric) AS SELECT v FROM t_numeric WHERE k = $1;
PREPARE q_date(date) AS SELECT v FROM t_date WHERE k = $1;
PREPARE q_tstz(timestamptz) AS SELECT v FROM t_tstz WHERE k = $1;
PREPARE q_uuid(uuid) AS SELECT v FROM t_uuid WHERE k = $1;
SELECT format('EXECUTE q_int2(%s)', i),
       format('EXECUTE q_int8(%s)', i * 1000000000::int8),
       format('EXECUTE q_text(%L)', 'key ' || i),
       format('EXECUTE q_numeric(%s)', i / 4.0),
       format('EXECUTE q_date(%L)', date '2026-01-01' + i),
       format('EXECUTE q_tstz(%L)', timestamptz '2026-01-01 00:00+00' + i * interval '1 hour'),
       format('EXECUTE q_uuid(%L)', md5(i::text)::uuid)
  FROM generate_series(1, 8) i \gexec

-- after many executions the plans are generic, and still router plans
EXPLAIN (COSTS OFF) EXECUTE q_uuid(md5('9')::uuid);
EXECUTE q_uuid(md5('9')::uuid);
SELECT generic_plans > 0 AS generic, custom_plans FROM pg_prepared_statements
 WHERE name = 'q_text';

-- a parameter that is not the distribution column, and NULLs
PREPARE q_other(int8, text) AS
  SELECT k, v FROM t_int8 WHERE k = $1 AND v IS DISTINCT FROM $2;
EXECUTE q_other(3000000000, NULL);
EXECUTE q_other(3000000000, '3');
EXECUTE q_other(NULL, '3');
PREPARE ins_text(text, text) AS INSERT INTO t_text VALUES ($1, $2) RETURNING k, v;
EXECUTE ins_text('new key', NULL);
EXECUTE ins_text(NULL, 'x');
SELECT k, v FROM t_text WHERE k = 'new key';

-- DML through prepared statements, many times (generic plans)
PREPARE upd(int2, text) AS UPDATE t_int2 SET v = $2 WHERE k = $1;
EXECUTE upd(1, 'a'); EXECUTE upd(2, 'b'); EXECUTE upd(3, 'c');
EXECUTE upd(4, 'd'); EXECUTE upd(5, 'e'); EXECUTE upd(6, 'f');
EXECUTE upd(7, 'g');
SELECT k, v FROM t_int2 WHERE k <= 8 ORDER BY k;
PREPARE del(int2) AS DELETE FROM t_int2 WHERE k = $1 RETURNING k;
EXECUTE del(50); EXECUTE del(49); EXECUTE del(48); EXECUTE del(47);
EXECUTE del(46); EXECUTE del(45); EXECUTE del(44);
SELECT count(*) FROM t_int2;

-- a change of the table makes the plan be made again
PREPARE by_key(int8) AS SELECT k, v FROM t_int8 WHERE k = $1;
EXECUTE by_key(1000000000); EXECUTE by_key(2000000000); EXECUTE by_key(3000000000);
EXECUTE by_key(4000000000); EXECUTE by_key(5000000000); EXECUTE by_key(6000000000);
ALTER TABLE t_int8 RENAME COLUMN v TO w;
EXECUTE by_key(7000000000);
ALTER TABLE t_int8 RENAME COLUMN w TO v;
ALTER TABLE t_int8 ADD COLUMN extra int DEFAULT 7;
EXECUTE by_key(8000000000);
PREPARE with_extra(int8) AS SELECT k, v, extra FROM t_int8 WHERE k = $1;
EXECUTE with_extra(9000000000);
ALTER TABLE t_int8 DROP COLUMN extra;
EXECUTE with_extra(9000000000);
-- the table becomes local again: the plan reads it locally
SELECT undistribute_table('t_int8');
EXECUTE by_key(10000000000);
EXPLAIN (COSTS OFF) EXECUTE by_key(10000000000);

-- search_path decides which table a prepared statement reads
CREATE SCHEMA fast_other;
CREATE TABLE fast_other.t_text (k text PRIMARY KEY, v text);
INSERT INTO fast_other.t_text VALUES ('key 1', 'other one');
SET client_min_messages = warning;
SELECT create_distributed_table('fast_other.t_text', 'k', shard_count => 2);
RESET client_min_messages;
PREPARE by_text(text) AS SELECT v FROM t_text WHERE k = $1;
EXECUTE by_text('key 1');
SET search_path = fast_other, public;
EXECUTE by_text('key 1');
SET search_path = fast, public;
EXECUTE by_text('key 1');

-- statements that are their own transaction skip BEGIN/COMMIT on the node;
-- inside a transaction block, a function or a DO block they do not
SET shardext.log_remote_commands = on;
\set VERBOSITY terse
SELECT v FROM t_text WHERE k = 'key 2';
UPDATE t_text SET v = 'two' WHERE k = 'key 2';
BEGIN;
SELECT v FROM t_text WHERE k = 'key 2';
COMMIT;
SELECT count(*) FROM t_text;
-- a top-level EXECUTE is the whole statement too; inside a block it is not
EXECUTE q_text('key 2');
BEGIN;
EXECUTE q_text('key 2');
COMMIT;
\set VERBOSITY default
RESET shardext.log_remote_commands;

-- a function and a DO block are one transaction: an error after two
-- router writes undoes both
CREATE FUNCTION two_writes_then_fail() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO t_text VALUES ('f1', 'x');
	INSERT INTO t_text VALUES ('f2', 'y');
	RAISE EXCEPTION 'boom';
END $$;
SELECT two_writes_then_fail();
SELECT count(*) AS left_behind FROM t_text WHERE k IN ('f1', 'f2');
DO $$
BEGIN
	UPDATE t_text SET v = 'changed' WHERE k = 'key 3';
	INSERT INTO t_text VALUES ('key 3', 'duplicate');
END $$;
SELECT v FROM t_text WHERE k = 'key 3';
-- a multi-statement query string is one transaction too
SELECT 1 \; UPDATE t_text SET v = 'changed' WHERE k = 'key 4' \; SELECT 1/0;
SELECT v FROM t_text WHERE k = 'key 4';

RESET search_path;
