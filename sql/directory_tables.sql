--
-- Directory (lookup) distribution: a key -> shard map in shardext.directory
-- decides where rows go.  Queries return what a plain table returns
-- (dir_local is the oracle); keys move between shards with their rows.
--
\getenv coord_port SHARDEXT_COORD_PORT
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
CREATE SCHEMA dir_test;        -- helpers
CREATE SCHEMA dir_local;
CREATE SCHEMA dir_dist;
CREATE FUNCTION dir_test.same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d text[];
	l text[];
BEGIN
	PERFORM set_config('search_path', 'dir_dist', true);
	EXECUTE format('SELECT array_agg(x::text ORDER BY x::text) FROM (%s) x', q) INTO d;
	PERFORM set_config('search_path', 'dir_local', true);
	EXECUTE format('SELECT array_agg(x::text ORDER BY x::text) FROM (%s) x', q) INTO l;
	PERFORM set_config('search_path', 'public', true);
	RETURN CASE WHEN d IS NOT DISTINCT FROM l THEN 'same: ' || coalesce(cardinality(l), 0) || ' rows'
	            ELSE 'DIFFERENT: ' || coalesce(cardinality(d), 0) || ' vs ' || coalesce(cardinality(l), 0) END;
END
$$;

CREATE TABLE dir_local.accounts (tenant text, id int, balance numeric, note text,
                                 PRIMARY KEY (tenant, id));
INSERT INTO dir_local.accounts
SELECT 'tenant ' || (g % 7), g, g * 1.25, CASE WHEN g % 5 <> 0 THEN 'n' || g END
  FROM generate_series(1, 700) g;
CREATE TABLE dir_dist.accounts (LIKE dir_local.accounts INCLUDING ALL);
INSERT INTO dir_dist.accounts SELECT * FROM dir_local.accounts;

-- existing rows: their keys are assigned to the shards with the fewest keys
SELECT create_distributed_table('dir_dist.accounts', 'tenant', 'directory', shard_count => 4);
SELECT t.distribution_type, t.distribution_column, t.shard_count,
       count(DISTINCT d.key) AS keys, count(DISTINCT d.shard_id) AS shards_used
  FROM shardext.tables t JOIN shardext.directory d USING (table_name)
 WHERE t.table_name = 'dir_dist.accounts'::regclass
 GROUP BY 1, 2, 3;
-- each key's rows are in the shard the directory names, and only there
SELECT d.key, s.shard_index,
       shardext_shard_for_value('dir_dist.accounts', d.key) = d.shard_id AS routed
  FROM shardext.directory d JOIN shardext.shards s USING (shard_id)
 WHERE d.table_name = 'dir_dist.accounts'::regclass ORDER BY d.key;

SELECT dir_test.same('SELECT * FROM accounts');
SELECT dir_test.same('SELECT * FROM accounts WHERE tenant = ''tenant 3''');
SELECT dir_test.same('SELECT tenant, count(*), sum(balance) FROM accounts GROUP BY tenant');
SELECT dir_test.same('SELECT * FROM accounts WHERE tenant IN (''tenant 1'', ''tenant 5'') AND id < 100');
SELECT dir_test.same('SELECT * FROM accounts WHERE tenant = ''no such tenant''');
SELECT dir_test.same('SELECT note, count(*) FROM accounts GROUP BY note HAVING count(*) > 1');
SELECT dir_test.same('SELECT a.tenant, b.id FROM accounts a JOIN accounts b ON a.tenant = b.tenant AND a.id = b.id - 7 WHERE a.tenant = ''tenant 2''');

-- a router query goes to the key's node; an unknown key reads nothing
CREATE FUNCTION dir_test.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		RETURN NEXT regexp_replace(regexp_replace(line, 'Node: (\d+) \(.*\)', 'Node: \1'),
		                           'Shard: \d+', 'Shard: N');
	END LOOP;
END
$$;
SELECT dir_test.plan($$SELECT * FROM dir_dist.accounts WHERE tenant = 'tenant 3'$$);
SELECT dir_test.plan($$SELECT count(*) FROM dir_dist.accounts WHERE tenant = 'nobody'$$);
SELECT count(*) FROM dir_dist.accounts WHERE tenant = 'nobody';
PREPARE by_tenant(text) AS SELECT count(*), sum(balance) FROM dir_dist.accounts WHERE tenant = $1;
EXECUTE by_tenant('tenant 4');
EXECUTE by_tenant('nobody');
EXECUTE by_tenant(NULL);

-- writes: a key must be in the directory
INSERT INTO dir_dist.accounts VALUES ('new tenant', 1, 10, NULL);
SELECT shardext_directory_assign('dir_dist.accounts', 'new tenant'::text,
       (SELECT shard_id FROM shardext.shards WHERE table_name = 'dir_dist.accounts'::regclass AND shard_index = 3));
INSERT INTO dir_dist.accounts VALUES ('new tenant', 1, 10, NULL);
INSERT INTO dir_local.accounts VALUES ('new tenant', 1, 10, NULL);
SELECT shardext_shard_for_value('dir_dist.accounts', 'new tenant'::text) =
       (SELECT shard_id FROM shardext.shards WHERE table_name = 'dir_dist.accounts'::regclass AND shard_index = 3) AS in_shard_3;
-- or assigned automatically, to the shard with the fewest keys
SET shardext.directory_auto_assign = on;
INSERT INTO dir_dist.accounts VALUES ('auto a', 1, 1, 'x'), ('auto b', 1, 2, 'y'), ('auto a', 2, 3, 'z');
INSERT INTO dir_local.accounts VALUES ('auto a', 1, 1, 'x'), ('auto b', 1, 2, 'y'), ('auto a', 2, 3, 'z');
COPY dir_dist.accounts FROM STDIN;
auto c	1	5	copied
\.
INSERT INTO dir_local.accounts VALUES ('auto c', 1, 5, 'copied');
RESET shardext.directory_auto_assign;
SELECT s.shard_index, count(*) AS keys
  FROM shardext.directory d JOIN shardext.shards s USING (shard_id)
 WHERE d.table_name = 'dir_dist.accounts'::regclass GROUP BY 1 ORDER BY 1;
UPDATE dir_dist.accounts SET balance = balance + 1 WHERE tenant = 'auto a';
UPDATE dir_local.accounts SET balance = balance + 1 WHERE tenant = 'auto a';
DELETE FROM dir_dist.accounts WHERE id % 10 = 0;
DELETE FROM dir_local.accounts WHERE id % 10 = 0;
UPDATE dir_dist.accounts SET tenant = 'other' WHERE id = 1;
SELECT dir_test.same('SELECT * FROM accounts');

-- moving a key: its rows go to the new shard (another node or the same), the
-- directory follows, all in one transaction
SET client_min_messages = warning;      -- the NOTICE names shard ids
SELECT shardext_directory_move_key('dir_dist.accounts', 'tenant 3'::text,
       (SELECT shard_id FROM shardext.shards s WHERE table_name = 'dir_dist.accounts'::regclass
           AND s.shard_id <> shardext_shard_for_value('dir_dist.accounts', 'tenant 3'::text)
         ORDER BY shard_index LIMIT 1));
SELECT dir_test.same('SELECT * FROM accounts');
SELECT dir_test.same('SELECT * FROM accounts WHERE tenant = ''tenant 3''');
-- on the nodes: the key's rows are in the new shard only
SELECT n.port AS new_port, s.shard_relation AS new_shard
  FROM shardext.directory d JOIN shardext.shards s USING (shard_id)
  JOIN shardext.placements p USING (shard_id) JOIN shardext.nodes n USING (node_id)
 WHERE d.table_name = 'dir_dist.accounts'::regclass AND d.key = 'tenant 3' \gset
SELECT string_agg(s.shard_relation, ' ') AS all_shards FROM shardext.shards s
 WHERE s.table_name = 'dir_dist.accounts'::regclass \gset
\c regression - 127.0.0.1 :new_port
SELECT count(*) AS rows_in_new_shard FROM :new_shard WHERE tenant = 'tenant 3';
-- every copy of the key on every worker: the 90 rows, once
\c regression - 127.0.0.1 :worker1_port
\set ECHO none
SELECT 'SELECT coalesce(sum(n), 0) AS tenant3_rows_on_w1 FROM (' ||
       string_agg(format('SELECT count(*) AS n FROM %s WHERE tenant = %L', t, 'tenant 3'), ' UNION ALL ') || ') x'
  FROM unnest(string_to_array(:'all_shards', ' ')) t WHERE to_regclass(t) IS NOT NULL \gexec
\set ECHO all
\c regression - 127.0.0.1 :worker2_port
\set ECHO none
SELECT 'SELECT coalesce(sum(n), 0) AS tenant3_rows_on_w2 FROM (' ||
       string_agg(format('SELECT count(*) AS n FROM %s WHERE tenant = %L', t, 'tenant 3'), ' UNION ALL ') || ') x'
  FROM unnest(string_to_array(:'all_shards', ' ')) t WHERE to_regclass(t) IS NOT NULL \gexec
\set ECHO all
\c regression - 127.0.0.1 :coord_port
SET client_min_messages = warning;
BEGIN;
SELECT shardext_directory_move_key('dir_dist.accounts', 'tenant 5'::text,
       (SELECT shard_id FROM shardext.shards s WHERE table_name = 'dir_dist.accounts'::regclass
           AND s.shard_id <> shardext_shard_for_value('dir_dist.accounts', 'tenant 5'::text)
         ORDER BY shard_index DESC LIMIT 1));
SELECT count(*) FROM dir_dist.accounts WHERE tenant = 'tenant 5';
ROLLBACK;
RESET client_min_messages;
SELECT dir_test.same('SELECT * FROM accounts WHERE tenant = ''tenant 5''');
-- a REPEATABLE READ transaction that has used the nodes already cannot move a
-- key or undistribute the table: its snapshot there predates the lock, and
-- rows other sessions committed in between would be lost
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) > 0 AS read_first FROM dir_dist.accounts;
SELECT regexp_replace(expect_error($$SELECT shardext_directory_move_key('dir_dist.accounts', 'tenant 5'::text,
       (SELECT shard_id FROM shardext.shards s WHERE table_name = 'dir_dist.accounts'::regclass
           AND s.shard_id <> shardext_shard_for_value('dir_dist.accounts', 'tenant 5'::text)
         ORDER BY shard_index DESC LIMIT 1))$$), 'node \d+ \(\S+\)', 'node <n>') AS error;
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) > 0 AS read_first FROM dir_dist.accounts;
SELECT regexp_replace(expect_error($$SELECT undistribute_table('dir_dist.accounts')$$),
       'node \d+ \(\S+\)', 'node <n>') AS error;
ROLLBACK;
-- first in the transaction, it moves
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL client_min_messages = warning;
SELECT shardext_directory_move_key('dir_dist.accounts', 'tenant 5'::text,
       (SELECT shard_id FROM shardext.shards s WHERE table_name = 'dir_dist.accounts'::regclass
           AND s.shard_id <> shardext_shard_for_value('dir_dist.accounts', 'tenant 5'::text)
         ORDER BY shard_index DESC LIMIT 1));
SELECT count(*) FROM dir_dist.accounts WHERE tenant = 'tenant 5';
ROLLBACK;
SELECT dir_test.same('SELECT * FROM accounts WHERE tenant = ''tenant 5''');
-- every key's rows are where the directory says: count them per shard
-- through the shard map and compare with the oracle
SELECT d.key, count(a.*) AS rows
  FROM shardext.directory d
  LEFT JOIN dir_dist.accounts a ON a.tenant = d.key
 WHERE d.table_name = 'dir_dist.accounts'::regclass
 GROUP BY d.key
EXCEPT
SELECT tenant, count(*) FROM dir_local.accounts GROUP BY tenant;

-- the directory shows a role only the keys of tables it may read; only the
-- owner assigns keys
CREATE ROLE dir_reader;
GRANT USAGE ON SCHEMA dir_dist TO dir_reader;
SET ROLE dir_reader;
SELECT count(*) AS keys_seen_without_select FROM shardext.directory
 WHERE table_name = 'dir_dist.accounts'::regclass;
-- nor does the shard of a key tell whether it is assigned
SELECT shardext_shard_for_value('dir_dist.accounts', 'tenant 3'::text) IS NOT NULL;
SELECT shardext_node_for_value('dir_dist.accounts', 'no such tenant'::text) IS NOT NULL;
SELECT shardext_directory_assign('dir_dist.accounts', 'sneaky'::text,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dir_dist.accounts'::regclass));
RESET ROLE;
GRANT SELECT ON dir_dist.accounts TO dir_reader;
SELECT count(*) AS dir_keys FROM shardext.directory
 WHERE table_name = 'dir_dist.accounts'::regclass \gset
SET ROLE dir_reader;
SELECT count(*) = :dir_keys AND :dir_keys > 0 AS all_keys_seen_with_select
  FROM shardext.directory WHERE table_name = 'dir_dist.accounts'::regclass;
SELECT shardext_shard_for_value('dir_dist.accounts', 'tenant 3'::text) IS NOT NULL AS assigned,
       shardext_shard_for_value('dir_dist.accounts', 'no such tenant'::text) IS NOT NULL AS unknown_assigned;
RESET ROLE;
SELECT count(*) AS sneaky_keys FROM shardext.directory WHERE key = 'sneaky';
REVOKE ALL ON dir_dist.accounts FROM dir_reader;
REVOKE USAGE ON SCHEMA dir_dist FROM dir_reader;
DROP ROLE dir_reader;

-- bad input loses nothing
\set VERBOSITY terse
SELECT shardext_directory_assign('dir_dist.accounts', 'tenant 3'::text, 1);
SELECT shardext_directory_assign('dir_dist.accounts', 'tenant 3'::text,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dir_dist.accounts'::regclass));
SELECT shardext_directory_assign('dir_dist.accounts', NULL::text, 1);
SELECT shardext_directory_move_key('dir_dist.accounts', 'nobody'::text,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dir_dist.accounts'::regclass));
SELECT shardext_directory_assign('dir_local.accounts', 'x'::text, 1);
SELECT create_distributed_table('dir_local.accounts', 'tenant', 'directory', colocate_with => 'dir_dist.accounts');
SELECT create_distributed_table('dir_local.accounts', 'tenant', 'directory', range_bounds => '{a}');
-- a key that does not read as the distribution column's type
CREATE TABLE dir_dist.numbered (n int PRIMARY KEY, v text);
SELECT create_distributed_table('dir_dist.numbered', 'n', 'directory', shard_count => 2);
SELECT shardext_directory_assign('dir_dist.numbered', 'abc'::text,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dir_dist.numbered'::regclass));
SELECT shardext_directory_assign('dir_dist.numbered', 12.5,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dir_dist.numbered'::regclass));
SELECT count(*) FROM shardext.directory WHERE table_name = 'dir_dist.numbered'::regclass;
\set VERBOSITY default
SELECT dir_test.same('SELECT * FROM accounts');

-- keys are matched with the type's equality: 1 and 1.0 are one key
CREATE TABLE dir_dist.amounts (k numeric PRIMARY KEY, v text);
SELECT create_distributed_table('dir_dist.amounts', 'k', 'directory', shard_count => 2);
SET shardext.directory_auto_assign = on;
INSERT INTO dir_dist.amounts VALUES (1, 'one'), (3.50, 'three and a half');
\set VERBOSITY terse
INSERT INTO dir_dist.amounts VALUES (1.0, 'again');
\set VERBOSITY default
RESET shardext.directory_auto_assign;
SELECT * FROM dir_dist.amounts WHERE k = 3.5;
SELECT * FROM dir_dist.amounts WHERE k = 1.000;
\set VERBOSITY terse
SELECT shardext_directory_assign('dir_dist.amounts', 3.500,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dir_dist.amounts'::regclass));
\set VERBOSITY default
SELECT count(*) FROM shardext.directory WHERE table_name = 'dir_dist.amounts'::regclass;
DROP TABLE dir_dist.amounts;

-- keys are matched in one canonical text form, whatever the session's
-- time zone or date style
CREATE TABLE dir_dist.events (at timestamptz, id int, PRIMARY KEY (at, id));
SELECT create_distributed_table('dir_dist.events', 'at', 'directory', shard_count => 2);
SET shardext.directory_auto_assign = on;
SET TimeZone = 'Europe/Berlin';
INSERT INTO dir_dist.events VALUES ('2026-01-01 12:00+00', 1);
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, DMY';
INSERT INTO dir_dist.events VALUES ('2026-01-01 12:00+00', 2);
SELECT count(*) FROM dir_dist.events WHERE at = '2026-01-01 12:00+00';
RESET TimeZone;
RESET DateStyle;
RESET shardext.directory_auto_assign;
SELECT key FROM shardext.directory WHERE table_name = 'dir_dist.events'::regclass;
DROP TABLE dir_dist.events;

-- DDL reaches the shards of a directory table
ALTER TABLE dir_dist.accounts ADD COLUMN flag bool DEFAULT true;
ALTER TABLE dir_local.accounts ADD COLUMN flag bool DEFAULT true;
CREATE INDEX ON dir_dist.accounts (balance);
SELECT dir_test.same('SELECT * FROM accounts');

-- back to a local table
SELECT undistribute_table('dir_dist.accounts');
SELECT count(*) FROM shardext.directory WHERE table_name::text = 'dir_dist.accounts';
SELECT dir_test.same('SELECT * FROM accounts');

DROP SCHEMA dir_dist CASCADE;
DROP SCHEMA dir_local CASCADE;
DROP SCHEMA dir_test CASCADE;
