--
-- INSERT, UPDATE, DELETE, INSERT ... ON CONFLICT and RETURNING on distributed
-- tables, checked against an oracle: every statement also runs on local
-- copies of the tables, and after every step all tables must hold the same
-- rows on both sides.
--
CREATE SCHEMA dist_dml;       -- helpers and a local-only source table
CREATE SCHEMA dml_local;      -- the oracle
CREATE SCHEMA dml_dist;       -- the same tables, distributed
SET search_path = dist_dml, public;

CREATE TABLE dml_local.accounts (
	id int PRIMARY KEY,
	owner text NOT NULL,
	balance numeric(12,2) NOT NULL DEFAULT 0 CHECK (balance >= -1000),
	status text DEFAULT 'open',
	opened date DEFAULT date '2024-01-01'
);
CREATE TABLE dml_local.ledger (
	account_id int NOT NULL,
	entry_id int NOT NULL,
	amount numeric(12,2),
	note text,
	PRIMARY KEY (account_id, entry_id)
);
CREATE TABLE dml_local.tags (
	name text PRIMARY KEY,
	hits int NOT NULL DEFAULT 1,
	first_seen int
);
CREATE TABLE dml_local.days (
	day date PRIMARY KEY,
	total numeric,
	kind text
);
-- (a serial needs its own sequence on each side)
CREATE TABLE dml_local.serials (id serial PRIMARY KEY, v text, len int GENERATED ALWAYS AS (length(v)) STORED);
CREATE TABLE dml_dist.serials (id serial PRIMARY KEY, v text, len int GENERATED ALWAYS AS (length(v)) STORED);
CREATE TABLE dml_dist.accounts (LIKE dml_local.accounts INCLUDING ALL);
CREATE TABLE dml_dist.ledger (LIKE dml_local.ledger INCLUDING ALL);
CREATE TABLE dml_dist.tags (LIKE dml_local.tags INCLUDING ALL);
CREATE TABLE dml_dist.days (LIKE dml_local.days INCLUDING ALL);
SELECT create_distributed_table('dml_dist.accounts', 'id', shard_count => 4);
SELECT create_distributed_table('dml_dist.ledger', 'account_id', shard_count => 4,
                                colocate_with => 'dml_dist.accounts');
SELECT create_distributed_table('dml_dist.tags', 'name', shard_count => 3);
SELECT create_distributed_table('dml_dist.days', 'day', 'range',
                                range_bounds => '{2024-02-01, 2024-03-01}');
SELECT create_distributed_table('dml_dist.serials', 'id', shard_count => 2);

-- a local table to insert from
CREATE TABLE src (id int, owner text, balance numeric);
INSERT INTO src SELECT g, 'src ' || g, g * 10.5 FROM generate_series(100, 130) g;

--
-- same_tables(): compares every table with its local copy
--
CREATE FUNCTION same_tables() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t text;
	n bigint;
	total bigint;
	result text := '';
BEGIN
	FOREACH t IN ARRAY ARRAY['accounts', 'ledger', 'tags', 'days', 'serials'] LOOP
		EXECUTE format('SELECT count(*) FROM ((TABLE dml_dist.%1$I EXCEPT ALL TABLE dml_local.%1$I)
		                UNION ALL (TABLE dml_local.%1$I EXCEPT ALL TABLE dml_dist.%1$I)) d', t) INTO n;
		EXECUTE format('SELECT count(*) FROM dml_local.%I', t) INTO total;
		result := result || CASE WHEN result = '' THEN '' ELSE ', ' END
			|| t || ' ' || total || CASE WHEN n = 0 THEN '' ELSE ' (' || n || ' ROWS DIFFER)' END;
	END LOOP;
	RETURN result;
END
$$;

--
-- dml(statement): runs the statement on the distributed tables and on the
-- local copies. Shows the rows it returned (RETURNING, sorted) or how many
-- rows it changed, or its error -- once when both sides agree, else both --
-- and then the row counts of the tables, flagged where the sides differ.
--
CREATE FUNCTION run_dml(stmt text, schema_name text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	rows_out text[] := '{}';
	n bigint;
BEGIN
	PERFORM set_config('search_path', format('%I, dist_dml, public', schema_name), true);
	IF stmt ~* '\mRETURNING\M' THEN
		FOR r IN EXECUTE stmt LOOP
			rows_out := rows_out || r::text;
		END LOOP;
		RETURN ARRAY(SELECT x FROM unnest(rows_out) x ORDER BY x COLLATE "C")
			|| (cardinality(rows_out) || ' rows returned');
	END IF;
	EXECUTE stmt;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN ARRAY[n || ' rows'];
EXCEPTION WHEN OTHERS THEN
	RETURN ARRAY['ERROR ' || SQLSTATE || ': ' || SQLERRM];
END
$$;

CREATE FUNCTION dml(stmt text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	saved_path text := current_setting('search_path');
	d text[];
	l text[];
BEGIN
	d := run_dml(stmt, 'dml_dist');
	l := run_dml(stmt, 'dml_local');
	PERFORM set_config('search_path', saved_path, true);
	IF d = l THEN
		RETURN QUERY SELECT unnest(l);
	ELSE
		RETURN NEXT 'DIFFERENT';
		RETURN QUERY SELECT 'distributed: ' || unnest(d);
		RETURN QUERY SELECT 'local:       ' || unnest(l);
	END IF;
	RETURN NEXT 'tables: ' || same_tables();
END
$$;

--
-- INSERT
--
SELECT dml($$INSERT INTO accounts VALUES (1, 'alice', 100)$$);
SELECT dml($$INSERT INTO accounts (id, owner, balance, status) VALUES (2, 'bob', 20.5, 'vip') RETURNING *$$);
SELECT dml($$INSERT INTO accounts (owner, id) VALUES ('carol', 3) RETURNING id, owner, balance, status, opened$$);
SELECT dml($$INSERT INTO accounts VALUES (4, 'dave', DEFAULT, DEFAULT, '2024-05-06') RETURNING id, balance * 2 AS twice, upper(owner)$$);
-- several rows, for different shards
SELECT dml($$INSERT INTO accounts VALUES (5, 'erin', 5), (6, 'frank', 6), (7, 'grace', 7), (8, 'heidi', 8), (9, 'ivan', 9)$$);
SELECT dml($$INSERT INTO accounts (id, owner, balance) VALUES (10, 'judy', 10), (11, 'mallory', -11.25), (12, 'niaj', 12) RETURNING id, owner$$);
SELECT dml($$INSERT INTO accounts (id, owner) SELECT g, 'gen ' || g FROM generate_series(13, 40) g$$);
-- from a local table, and from distributed tables
SELECT dml($$INSERT INTO accounts (id, owner, balance) SELECT id, owner, balance FROM src WHERE id < 120$$);
SELECT dml($$INSERT INTO ledger SELECT a.id, e, a.balance / e, 'opening ' || e FROM accounts a, generate_series(1, 3) e WHERE a.id <= 20$$);
SELECT dml($$INSERT INTO ledger (account_id, entry_id, amount) SELECT account_id, entry_id + 10, -amount FROM ledger WHERE account_id IN (1, 2, 3) RETURNING account_id, entry_id, amount$$);
SELECT dml($$INSERT INTO ledger (account_id, entry_id, amount, note) SELECT id, 100, balance, owner FROM accounts WHERE id = 7 RETURNING *$$);
SELECT dml($$INSERT INTO tags (name, first_seen) VALUES ('red', 1), ('green', 2), ('blue', 3), ('Red', 4), ('', 5), ('it''s', 6) RETURNING name, hits$$);
SELECT dml($$INSERT INTO days VALUES ('2024-01-15', 1, 'a'), ('2024-02-01', 2, 'b'), ('2024-02-29', 3, 'c'), ('2024-03-01', 4, 'd'), ('1999-12-31', 5, 'e') RETURNING day, total$$);
-- defaults from a sequence, generated columns
SELECT dml($$INSERT INTO serials (v) VALUES ('a'), ('bb'), ('ccc') RETURNING *$$);
SELECT dml($$INSERT INTO serials (v) SELECT 'x' || g FROM generate_series(1, 12) g$$);
SELECT dml($$UPDATE serials SET v = v || v WHERE id = 2 RETURNING *$$);
SELECT dml($$INSERT INTO serials (id, v) VALUES (100, 'explicit') RETURNING id, len$$);
SELECT dml($$INSERT INTO serials (id, v, len) VALUES (101, 'no', 5)$$);
-- constraint violations fail as they would locally
SELECT dml($$INSERT INTO accounts VALUES (1, 'again', 1)$$);
SELECT dml($$INSERT INTO accounts VALUES (50, 'ok', 1), (51, 'broke', -5000)$$);
SELECT dml($$INSERT INTO accounts (id, owner) VALUES (52, NULL)$$);
SELECT dml($$INSERT INTO tags VALUES ('red', 1, 1)$$);
SELECT dml($$INSERT INTO accounts (id, owner, balance) VALUES (53, 'x', 'not a number')$$);

--
-- INSERT ... ON CONFLICT
--
SELECT dml($$INSERT INTO accounts VALUES (1, 'alice again', 1) ON CONFLICT DO NOTHING$$);
SELECT dml($$INSERT INTO accounts VALUES (1, 'alice again', 1), (60, 'oscar', 60) ON CONFLICT (id) DO NOTHING RETURNING id, owner$$);
SELECT dml($$INSERT INTO accounts VALUES (2, 'bob', 5) ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + excluded.balance RETURNING id, owner, balance$$);
SELECT dml($$INSERT INTO accounts (id, owner, balance) VALUES (3, 'carol', 1), (4, 'dave', 2), (61, 'peggy', 3)
             ON CONFLICT (id) DO UPDATE SET balance = excluded.balance * 10, status = 'merged' RETURNING id, balance, status$$);
SELECT dml($$INSERT INTO accounts (id, owner, balance) VALUES (5, 'erin', 500), (6, 'frank', 600)
             ON CONFLICT (id) DO UPDATE SET balance = excluded.balance WHERE accounts.balance < 6 RETURNING id, balance$$);
SELECT dml($$INSERT INTO ledger VALUES (1, 1, 0, 'dup') ON CONFLICT (account_id, entry_id) DO UPDATE SET note = ledger.note || '/' || excluded.note RETURNING *$$);
SELECT dml($$INSERT INTO tags (name) VALUES ('red'), ('blue'), ('yellow') ON CONFLICT (name) DO UPDATE SET hits = tags.hits + 1 RETURNING name, hits, first_seen$$);
SELECT dml($$INSERT INTO tags (name) SELECT t FROM unnest(ARRAY['red', 'red2', 'green']) t ON CONFLICT (name) DO UPDATE SET hits = tags.hits + 10 RETURNING name, hits$$);
SELECT dml($$INSERT INTO days VALUES ('2024-02-01', 20, 'b2') ON CONFLICT (day) DO UPDATE SET total = days.total + excluded.total RETURNING *$$);
-- one statement touching a row twice
SELECT dml($$INSERT INTO accounts (id, owner) VALUES (62, 'x'), (62, 'y') ON CONFLICT (id) DO UPDATE SET owner = excluded.owner$$);
SELECT dml($$INSERT INTO accounts (id, owner) VALUES (63, 'x'), (63, 'y') ON CONFLICT (id) DO NOTHING RETURNING id, owner$$);

--
-- UPDATE
--
SELECT dml($$UPDATE accounts SET balance = balance + 1 WHERE id = 1$$);
SELECT dml($$UPDATE accounts SET balance = balance * 2, status = 'doubled' WHERE id = 2 RETURNING id, balance, status$$);
SELECT dml($$UPDATE accounts SET status = 'none' WHERE id = 9999 RETURNING *$$);
SELECT dml($$UPDATE accounts SET status = 'rich' WHERE balance > 100 RETURNING id, owner, balance$$);
SELECT dml($$UPDATE accounts SET balance = balance - 1 WHERE owner LIKE 'gen 2%'$$);
SELECT dml($$UPDATE accounts SET opened = opened + 1, status = coalesce(status, 'x') || '!'$$);
SELECT dml($$UPDATE accounts SET opened = opened + 1 WHERE id > 110 RETURNING id, opened, status$$);
SELECT dml($$UPDATE accounts SET balance = -2000 WHERE id = 10$$);
SELECT dml($$UPDATE accounts SET balance = -2000 WHERE id IN (10, 11, 12)$$);
SELECT dml($$UPDATE accounts SET owner = NULL WHERE id = 12$$);
SELECT dml($$UPDATE accounts SET balance = (SELECT sum(amount) FROM ledger WHERE account_id = 3) WHERE id = 3 RETURNING id, balance$$);
SELECT dml($$UPDATE ledger SET amount = round(amount * 1.1, 2), note = note || ' +10%' WHERE account_id = 5 RETURNING *$$);
SELECT dml($$UPDATE tags SET hits = hits * 2 WHERE name IN ('red', 'Red', '') RETURNING name, hits$$);
SELECT dml($$UPDATE days SET kind = upper(kind) WHERE day >= '2024-02-01' RETURNING day, kind$$);
SELECT dml($$UPDATE days SET total = total + 100 WHERE day = '2024-02-29'$$);
-- the distribution column cannot change
SELECT expect_error($$UPDATE dml_dist.accounts SET id = 1000 WHERE id = 1$$);
SELECT expect_error($$UPDATE dml_dist.accounts SET id = id + 0$$);
SELECT expect_error($$UPDATE dml_dist.tags SET name = 'crimson' WHERE name = 'red'$$);
SELECT expect_error($$UPDATE dml_dist.days SET day = '2024-03-15' WHERE day = '2024-01-15'$$);
-- ... but may be assigned itself: the row stays where it is
SELECT dml($$UPDATE tags SET name = name, hits = hits + 1 WHERE name = 'red' RETURNING name, hits$$);
-- ... not even through ON CONFLICT DO UPDATE (in a transaction rolled back,
-- in case the row moves)
BEGIN;
SELECT expect_error($$INSERT INTO dml_dist.accounts VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET id = 1000$$);
SELECT id, owner FROM dml_dist.accounts WHERE id IN (1, 1000) ORDER BY id;
SELECT count(*) AS row_1000_anywhere FROM dml_dist.accounts WHERE id + 0 = 1000;
ROLLBACK;
SELECT same_tables();

--
-- DELETE
--
SELECT dml($$DELETE FROM accounts WHERE id = 40$$);
SELECT dml($$DELETE FROM accounts WHERE id = 39 RETURNING *$$);
SELECT dml($$DELETE FROM ledger WHERE account_id = 1 AND entry_id > 10 RETURNING account_id, entry_id, amount$$);
SELECT dml($$DELETE FROM accounts WHERE owner LIKE 'gen 3%' RETURNING id, owner$$);
SELECT dml($$DELETE FROM ledger WHERE amount < 1 AND (account_id < 4 OR account_id = 20) RETURNING account_id, entry_id$$);
SELECT dml($$DELETE FROM ledger WHERE amount < 1$$);
SELECT dml($$DELETE FROM tags WHERE hits > 10 RETURNING name$$);
SELECT dml($$DELETE FROM days WHERE day < '2024-02-01' RETURNING day$$);
SELECT dml($$DELETE FROM accounts WHERE id = 9999$$);

--
-- NULL or missing distribution values
--
SELECT expect_error($$INSERT INTO dml_dist.accounts (owner) VALUES ('nobody')$$);
SELECT expect_error($$INSERT INTO dml_dist.accounts VALUES (NULL, 'nobody')$$);
SELECT expect_error($$INSERT INTO dml_dist.accounts VALUES (70, 'fine'), (NULL, 'nobody')$$);
SELECT expect_error($$INSERT INTO dml_dist.tags (hits) VALUES (1)$$);
SELECT expect_error($$INSERT INTO dml_dist.accounts (id, owner) SELECT NULL::int, 'nobody'$$);
SELECT count(*) AS no_row_70 FROM dml_dist.accounts WHERE id = 70;
SELECT same_tables();

--
-- The same as plain statements: the distributed table first, then its local copy
--
INSERT INTO dml_dist.accounts VALUES (80, 'plain', 8.5) RETURNING *;
INSERT INTO dml_local.accounts VALUES (80, 'plain', 8.5) RETURNING *;
INSERT INTO dml_dist.accounts (id, owner) VALUES (81, 'p1') RETURNING id, owner, balance;
INSERT INTO dml_local.accounts (id, owner) VALUES (81, 'p1') RETURNING id, owner, balance;
INSERT INTO dml_dist.accounts (id, owner) VALUES (82, 'p2'), (83, 'p3'), (84, 'p4');
INSERT INTO dml_local.accounts (id, owner) VALUES (82, 'p2'), (83, 'p3'), (84, 'p4');
UPDATE dml_dist.accounts SET balance = 1 WHERE id = 82 RETURNING id, owner, balance;
UPDATE dml_local.accounts SET balance = 1 WHERE id = 82 RETURNING id, owner, balance;
UPDATE dml_dist.accounts SET balance = balance + 1 WHERE id BETWEEN 80 AND 89;
UPDATE dml_local.accounts SET balance = balance + 1 WHERE id BETWEEN 80 AND 89;
INSERT INTO dml_dist.accounts VALUES (83, 'p3', 3) ON CONFLICT (id) DO UPDATE SET balance = excluded.balance RETURNING id, balance;
INSERT INTO dml_local.accounts VALUES (83, 'p3', 3) ON CONFLICT (id) DO UPDATE SET balance = excluded.balance RETURNING id, balance;
DELETE FROM dml_dist.accounts WHERE id = 84 RETURNING id, owner;
DELETE FROM dml_local.accounts WHERE id = 84 RETURNING id, owner;
DELETE FROM dml_dist.accounts WHERE id BETWEEN 80 AND 89;
DELETE FROM dml_local.accounts WHERE id BETWEEN 80 AND 89;
SELECT same_tables();

-- at the end, every row is on the shard the routing functions name: the
-- keys of each shard, from the coordinator and from the workers
\getenv coord_port SHARDEXT_COORD_PORT
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
SELECT array_agg(format('%s:%s', shard_id, keys) ORDER BY shard_id) AS expected_keys
  FROM (SELECT shardext_shard_for_value('dml_dist.accounts', id) AS shard_id,
               string_agg(id::text, ',' ORDER BY id) AS keys
          FROM dml_dist.accounts GROUP BY 1
        UNION ALL
        SELECT shardext_shard_for_value('dml_dist.tags', name),
               string_agg(quote_literal(name), ',' ORDER BY name COLLATE "C")
          FROM dml_dist.tags GROUP BY 1) k \gset
SELECT string_agg(format('SELECT %s AS shard_id, (SELECT string_agg(%s, '','' ORDER BY %s) FROM %s) AS keys',
                         s.shard_id,
                         CASE WHEN s.table_name = 'dml_dist.tags'::regclass THEN 'quote_literal(name)' ELSE 'id::text' END,
                         CASE WHEN s.table_name = 'dml_dist.tags'::regclass THEN 'name COLLATE "C"' ELSE 'id' END,
                         s.shard_relation), ' UNION ALL ') AS shard_query,
       count(*) AS shards
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE s.table_name IN ('dml_dist.accounts'::regclass, 'dml_dist.tags'::regclass)
   AND p.node_id = (SELECT node_id FROM shardext.nodes WHERE port = :worker1_port) \gset
SELECT string_agg(format('SELECT %s AS shard_id, (SELECT string_agg(%s, '','' ORDER BY %s) FROM %s) AS keys',
                         s.shard_id,
                         CASE WHEN s.table_name = 'dml_dist.tags'::regclass THEN 'quote_literal(name)' ELSE 'id::text' END,
                         CASE WHEN s.table_name = 'dml_dist.tags'::regclass THEN 'name COLLATE "C"' ELSE 'id' END,
                         s.shard_relation), ' UNION ALL ') AS shard_query2
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE s.table_name IN ('dml_dist.accounts'::regclass, 'dml_dist.tags'::regclass)
   AND p.node_id = (SELECT node_id FROM shardext.nodes WHERE port = :worker2_port) \gset
\c regression - 127.0.0.1 :worker1_port
SELECT count(*) AS shards, count(keys) AS with_rows,
       bool_and(keys IS NULL OR format('%s:%s', shard_id, keys) = ANY (:'expected_keys'::text[])) AS as_routed
  FROM (:shard_query) q;
\c regression - 127.0.0.1 :worker2_port
SELECT count(*) AS shards, count(keys) AS with_rows,
       bool_and(keys IS NULL OR format('%s:%s', shard_id, keys) = ANY (:'expected_keys'::text[])) AS as_routed
  FROM (:shard_query2) q;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_dml, public;
SELECT cardinality(:'expected_keys'::text[]) AS shards_with_rows;

-- what is left
SELECT * FROM dml_dist.accounts ORDER BY id LIMIT 10;
SELECT * FROM dml_dist.ledger WHERE account_id < 4 ORDER BY account_id, entry_id;
SELECT * FROM dml_dist.tags ORDER BY name COLLATE "C";
SELECT * FROM dml_dist.days ORDER BY day;

--
-- UPDATE and DELETE that read other tables, ON CONFLICT ON CONSTRAINT
--
SELECT dml($$INSERT INTO accounts AS a (id, owner) VALUES (7, 'grace') ON CONFLICT ON CONSTRAINT accounts_pkey DO UPDATE SET owner = a.owner || '+' || excluded.owner RETURNING a.id, a.owner$$);
SELECT dml($$UPDATE accounts a SET status = 'has entries' WHERE EXISTS (SELECT 1 FROM ledger l WHERE l.account_id = a.id AND l.entry_id > 10) RETURNING id, status$$);
SELECT dml($$UPDATE accounts SET status = 'from src' FROM src WHERE src.id = accounts.id AND src.balance > 1200 RETURNING accounts.id, accounts.status$$);
SELECT dml($$DELETE FROM accounts WHERE id IN (SELECT id FROM src WHERE balance < 1100) RETURNING id$$);
SELECT dml($$DELETE FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.account_id = a.id) AND a.id > 20 AND a.id < 108 RETURNING a.id$$);
SELECT same_tables();

-- RETURNING gives the rows in the order they were inserted, whichever
-- shards they went to (ORMs match returned ids to their objects this way)
CREATE TABLE returning_order (id int PRIMARY KEY, v text);
SELECT create_distributed_table('returning_order', 'id', shard_count => 8);
INSERT INTO returning_order VALUES (5, 'a'), (1, 'b'), (9, 'c'), (3, 'd'), (7, 'e'), (2, 'f') RETURNING *;
DO $$
DECLARE
	r record;
	expected int := 1000;
	out_of_order int := 0;
BEGIN
	FOR r IN INSERT INTO returning_order SELECT g, 'x' FROM generate_series(1000, 3499) g RETURNING id LOOP
		IF r.id <> expected THEN
			out_of_order := out_of_order + 1;
		END IF;
		expected := expected + 1;
	END LOOP;
	RAISE NOTICE '% rows returned, % out of order', expected - 1000, out_of_order;
END $$;
INSERT INTO returning_order VALUES (5, 'again'), (60, 'new'), (1, 'again')
  ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING id, v;
DROP TABLE returning_order;

-- UPDATE and DELETE of a local table that read distributed tables
CREATE TABLE dml_local_target (id int PRIMARY KEY, v int);
CREATE TABLE dml_local_oracle (id int PRIMARY KEY, v int);
INSERT INTO dml_local_target SELECT g, 0 FROM generate_series(1, 30) g;
INSERT INTO dml_local_oracle SELECT g, 0 FROM generate_series(1, 30) g;
CREATE TABLE dml_source (id int PRIMARY KEY, w int);
CREATE TABLE dml_source_local (id int PRIMARY KEY, w int);
INSERT INTO dml_source SELECT g, g % 4 FROM generate_series(1, 40) g;
INSERT INTO dml_source_local SELECT g, g % 4 FROM generate_series(1, 40) g;
SELECT create_distributed_table('dml_source', 'id', shard_count => 4);
UPDATE dml_local_target t SET v = s.w FROM dml_source s WHERE s.id = t.id;
UPDATE dml_local_oracle t SET v = s.w FROM dml_source_local s WHERE s.id = t.id;
DELETE FROM dml_local_target WHERE id IN (SELECT id FROM dml_source WHERE w = 1);
DELETE FROM dml_local_oracle WHERE id IN (SELECT id FROM dml_source_local WHERE w = 1);
DELETE FROM dml_local_target t USING dml_source s WHERE s.id = t.id AND s.w = 2 AND s.id < 20;
DELETE FROM dml_local_oracle t USING dml_source_local s WHERE s.id = t.id AND s.w = 2 AND s.id < 20;
SELECT (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM dml_local_target x) =
       (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM dml_local_oracle x) AS same,
       (SELECT count(*) FROM dml_local_target) AS rows_left;
DROP TABLE dml_local_target, dml_local_oracle, dml_source, dml_source_local;

-- an UPDATE that reads another table changes rows by a DEFERRABLE primary
-- key too
CREATE TABLE dml_deferrable (id int, k int, v int,
	CONSTRAINT dml_deferrable_pk PRIMARY KEY (id, k) DEFERRABLE INITIALLY IMMEDIATE);
SET client_min_messages = warning;
SELECT create_distributed_table('dml_deferrable', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO dml_deferrable VALUES (1, 1, 1), (2, 2, 2);
CREATE TABLE dml_deferrable_src (i int);
INSERT INTO dml_deferrable_src VALUES (1);
UPDATE dml_deferrable SET v = v + 10 FROM dml_deferrable_src WHERE dml_deferrable.id = dml_deferrable_src.i;
SELECT * FROM dml_deferrable ORDER BY id;
DROP TABLE dml_deferrable, dml_deferrable_src;

-- ON CONFLICT DO UPDATE across batches of one shard compares arbiter values
-- as their type does (1 and 1.0 are the same numeric key)
CREATE TABLE dml_numeric_key (id int, k numeric, n int DEFAULT 0, PRIMARY KEY (id, k));
SET client_min_messages = warning;
SELECT create_distributed_table('dml_numeric_key', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO dml_numeric_key (id, k)
	SELECT 1, CASE WHEN g = 1001 THEN 1.0 ELSE g END FROM generate_series(1, 1001) g
	ON CONFLICT (id, k) DO UPDATE SET n = dml_numeric_key.n + 1;
INSERT INTO dml_numeric_key (id, k) SELECT 1, g FROM generate_series(1, 1500) g
	ON CONFLICT (id, k) DO UPDATE SET n = dml_numeric_key.n + 1;
SELECT count(*), sum(n) FROM dml_numeric_key;
DROP TABLE dml_numeric_key;

-- UPDATE and DELETE with "distribution column IN (values)" go only to the
-- shards of those values (not a two-phase commit over every node)
CREATE TABLE dml_in (id int PRIMARY KEY, v int);
INSERT INTO dml_in SELECT g, 0 FROM generate_series(1, 100) g;
CREATE TABLE dml_in_local AS SELECT * FROM dml_in;
SET client_min_messages = warning;
SELECT create_distributed_table('dml_in', 'id', shard_count => 8);
RESET client_min_messages;
EXPLAIN (COSTS OFF) UPDATE dml_in SET v = v + 1 WHERE id IN (3, 77);
EXPLAIN (COSTS OFF) DELETE FROM dml_in WHERE id = ANY ('{}'::int[]);
EXPLAIN (COSTS OFF) UPDATE dml_in SET v = 1 WHERE id IN (3, 77) OR v = 5;
UPDATE dml_in SET v = v + 1 WHERE id IN (3, 77, NULL, 500);
UPDATE dml_in_local SET v = v + 1 WHERE id IN (3, 77, NULL, 500);
DELETE FROM dml_in WHERE id = ANY (ARRAY[5, 6, 7]) AND v = 0;
DELETE FROM dml_in_local WHERE id = ANY (ARRAY[5, 6, 7]) AND v = 0;
PREPARE dml_in_upd(int[]) AS UPDATE dml_in SET v = v + 10 WHERE id = ANY ($1);
PREPARE dml_in_upd_local(int[]) AS UPDATE dml_in_local SET v = v + 10 WHERE id = ANY ($1);
SET plan_cache_mode = force_generic_plan;
EXECUTE dml_in_upd('{1, 2, 3, 99}');
EXECUTE dml_in_upd_local('{1, 2, 3, 99}');
EXECUTE dml_in_upd('{50}');
EXECUTE dml_in_upd_local('{50}');
EXPLAIN (COSTS OFF) EXECUTE dml_in_upd('{1, 2}');
RESET plan_cache_mode;
SELECT (SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM dml_in) =
       (SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM dml_in_local) AS same_rows,
       (SELECT count(*) FROM dml_in) AS rows;
DEALLOCATE dml_in_upd;
DEALLOCATE dml_in_upd_local;
DROP TABLE dml_in, dml_in_local;

-- UPDATE and DELETE that read tables co-located with their target, joined
-- on the distribution column, or reference tables, run on each shard group
CREATE TABLE dml_o (id bigint PRIMARY KEY, cust int, amount int);
CREATE TABLE dml_oi (order_id bigint, line int, qty int, PRIMARY KEY (order_id, line));
CREATE TABLE dml_c (id int PRIMARY KEY, name text);
INSERT INTO dml_o SELECT g, g % 20, g FROM generate_series(1, 400) g;
INSERT INTO dml_oi SELECT g, l, l FROM generate_series(1, 400) g, generate_series(1, 3) l;
INSERT INTO dml_c SELECT g, 'c' || g FROM generate_series(0, 19) g;
CREATE TABLE dml_o_local AS SELECT * FROM dml_o;
CREATE TABLE dml_oi_local AS SELECT * FROM dml_oi;
CREATE TABLE dml_c_local AS SELECT * FROM dml_c;
SET client_min_messages = warning;
SELECT create_distributed_table('dml_o', 'id', shard_count => 4);
SELECT create_distributed_table('dml_oi', 'order_id', colocate_with => 'dml_o');
SELECT create_reference_table('dml_c');
RESET client_min_messages;
EXPLAIN (COSTS OFF) DELETE FROM dml_oi WHERE order_id IN (SELECT id FROM dml_o WHERE cust = 4);
EXPLAIN (COSTS OFF) UPDATE dml_oi SET qty = qty + 1 FROM dml_o WHERE dml_oi.order_id = dml_o.id AND dml_o.cust = 7;
EXPLAIN (COSTS OFF) UPDATE dml_o SET amount = 0 WHERE cust IN (SELECT id FROM dml_c WHERE name = 'c5');
-- not joined on the distribution column: found on the coordinator
EXPLAIN (COSTS OFF) UPDATE dml_oi SET qty = 0 FROM dml_o WHERE dml_oi.qty = dml_o.amount;
CREATE FUNCTION dml_same() RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM dml_o t) =
	                 (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM dml_o_local t)
	             AND (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM dml_oi t) =
	                 (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM dml_oi_local t)
	            THEN 'same' ELSE 'DIFFERENT' END $$;
DELETE FROM dml_oi WHERE order_id IN (SELECT id FROM dml_o WHERE cust = 4);
DELETE FROM dml_oi_local WHERE order_id IN (SELECT id FROM dml_o_local WHERE cust = 4);
UPDATE dml_oi SET qty = qty + 1 FROM dml_o WHERE dml_oi.order_id = dml_o.id AND dml_o.cust = 7;
UPDATE dml_oi_local SET qty = qty + 1 FROM dml_o_local WHERE dml_oi_local.order_id = dml_o_local.id AND dml_o_local.cust = 7;
UPDATE dml_o SET amount = 0 WHERE cust IN (SELECT id FROM dml_c WHERE name = 'c5');
UPDATE dml_o_local SET amount = 0 WHERE cust IN (SELECT id FROM dml_c_local WHERE name = 'c5');
DELETE FROM dml_oi WHERE NOT EXISTS (SELECT 1 FROM dml_o WHERE dml_o.id = dml_oi.order_id AND dml_o.amount > 0);
DELETE FROM dml_oi_local WHERE NOT EXISTS (SELECT 1 FROM dml_o_local WHERE dml_o_local.id = dml_oi_local.order_id AND dml_o_local.amount > 0);
UPDATE dml_oi SET qty = (SELECT amount FROM dml_o WHERE dml_o.id = dml_oi.order_id) WHERE line = 2 RETURNING order_id % 7 = 0 AS seven, qty > 100 AS big \g /dev/null
UPDATE dml_oi_local SET qty = (SELECT amount FROM dml_o_local WHERE dml_o_local.id = dml_oi_local.order_id) WHERE line = 2;
DELETE FROM dml_o USING dml_c WHERE dml_o.cust = dml_c.id AND dml_c.name = 'c9';
DELETE FROM dml_o_local USING dml_c_local WHERE dml_o_local.cust = dml_c_local.id AND dml_c_local.name = 'c9';
UPDATE dml_oi SET qty = 0 FROM dml_o WHERE dml_oi.qty = dml_o.amount;
UPDATE dml_oi_local SET qty = 0 FROM dml_o_local WHERE dml_oi_local.qty = dml_o_local.amount;
SELECT dml_same(), (SELECT count(*) FROM dml_oi) AS items, (SELECT count(*) FROM dml_o) AS orders;
-- a subquery with random() is evaluated once, as PostgreSQL does, not once
-- per shard group
BEGIN;
UPDATE dml_o SET amount = (SELECT (random() * 1000000)::int);
SELECT count(DISTINCT amount) AS one_value FROM dml_o;
ROLLBACK;
BEGIN;
UPDATE dml_oi SET qty = (SELECT (random() * 1000000)::int + 2000000) FROM dml_o WHERE dml_oi.order_id = dml_o.id;
SELECT count(DISTINCT qty) AS one_value FROM dml_oi WHERE qty >= 2000000;
ROLLBACK;
BEGIN;
UPDATE dml_o SET amount = s.v FROM (SELECT (random() * 1000000)::int AS v) s WHERE dml_o.cust < 10;
SELECT count(DISTINCT amount) AS one_value FROM dml_o WHERE cust < 10;
ROLLBACK;
BEGIN;
DELETE FROM dml_o WHERE cust IN (SELECT id FROM dml_c WHERE id <> 9 ORDER BY random() LIMIT 1);
SELECT (SELECT count(DISTINCT cust) FROM dml_o_local) - (SELECT count(DISTINCT cust) FROM dml_o)
       AS one_customer_gone;
ROLLBACK;
SELECT count(DISTINCT cust) AS one_customer FROM dml_o
 WHERE cust IN (SELECT id FROM dml_c WHERE id <> 9 ORDER BY random() LIMIT 1);
DROP FUNCTION dml_same();
DROP TABLE dml_oi, dml_o, dml_c, dml_oi_local, dml_o_local, dml_c_local;

-- RETURNING ... INTO in PL/pgSQL: more than one row is PostgreSQL's
-- too_many_rows (the rows are counted as they are returned), for every kind
-- of write, on distributed, reference and local tables alike
CREATE TABLE into_d (k int PRIMARY KEY, v int);
CREATE TABLE into_r (k int PRIMARY KEY, v int);
CREATE TABLE into_l (k int PRIMARY KEY, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('into_d', 'k', shard_count => 4);
SELECT create_reference_table('into_r');
RESET client_min_messages;
INSERT INTO into_l SELECT g, g % 3 FROM generate_series(1, 40) g;
INSERT INTO into_d SELECT * FROM into_l;
INSERT INTO into_r SELECT * FROM into_l;
-- three keys of one shard
SELECT array_agg(k ORDER BY k) AS same_shard_keys FROM
  (SELECT k FROM into_d WHERE shardext_shard_for_value('into_d', k) =
                              shardext_shard_for_value('into_d', 1)
    ORDER BY k LIMIT 3) s \gset
CREATE FUNCTION into_outcome(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	x int;
BEGIN
	EXECUTE stmt INTO STRICT x;
	RETURN 'one row: ' || x;
EXCEPTION
	WHEN too_many_rows THEN RETURN 'too_many_rows';
	WHEN no_data_found THEN RETURN 'no_data_found';
END $$;
-- static statements (PL/pgSQL asks SPI for two rows at most)
CREATE FUNCTION into_plain(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	x int;
BEGIN
	IF t = 'into_d' THEN
		UPDATE into_d SET v = v WHERE v = 1 RETURNING k INTO x;
	ELSIF t = 'into_r' THEN
		UPDATE into_r SET v = v WHERE v = 1 RETURNING k INTO x;
	ELSE
		UPDATE into_l SET v = v WHERE v = 1 RETURNING k INTO x;
	END IF;
	RETURN 'one row';
EXCEPTION
	WHEN too_many_rows THEN RETURN 'too_many_rows';
END $$;
SELECT t, into_plain(t),
       into_outcome(format('UPDATE %I SET v = v WHERE v = 1 RETURNING k', t)) AS upd,
       into_outcome(format('DELETE FROM %I WHERE v = 2 RETURNING k', t)) AS del,
       into_outcome(format('INSERT INTO %I VALUES (101, 1), (102, 1), (103, 1) RETURNING k', t)) AS ins_values,
       into_outcome(format('INSERT INTO %I SELECT k + 200, v FROM into_l RETURNING k', t)) AS ins_select,
       into_outcome(format('UPDATE %I SET v = v WHERE k IN (SELECT k FROM into_l) RETURNING k', t)) AS upd_from_local,
       into_outcome(format('UPDATE %I SET v = v WHERE k = ANY (%L) RETURNING k', t, :'same_shard_keys')) AS upd_one_shard,
       into_outcome(format('UPDATE %I SET v = v WHERE k = 5 RETURNING k', t)) AS upd_one
  FROM unnest(ARRAY['into_d', 'into_r', 'into_l']) t;
SELECT count(*) AS rows_differing FROM
  ((SELECT * FROM into_d EXCEPT SELECT * FROM into_l) UNION ALL
   (SELECT * FROM into_l EXCEPT SELECT * FROM into_d)) d;
DROP FUNCTION into_outcome(text), into_plain(text);
DROP TABLE into_d, into_r, into_l;

-- rows of no values (no column has a default): NULLs, as on PostgreSQL
CREATE TABLE nodef_r (x int, y text);
CREATE TABLE nodef_l (x int, y text);
SET client_min_messages = warning;
SELECT create_reference_table('nodef_r');
RESET client_min_messages;
INSERT INTO nodef_r DEFAULT VALUES;
INSERT INTO nodef_l DEFAULT VALUES;
INSERT INTO nodef_r (x) VALUES (DEFAULT);
INSERT INTO nodef_l (x) VALUES (DEFAULT);
INSERT INTO nodef_r SELECT FROM generate_series(1, 3);
INSERT INTO nodef_l SELECT FROM generate_series(1, 3);
INSERT INTO nodef_r DEFAULT VALUES RETURNING *;
INSERT INTO nodef_l DEFAULT VALUES RETURNING *;
SELECT (SELECT count(*) FROM nodef_r) AS distributed, (SELECT count(*) FROM nodef_l) AS local,
       (SELECT count(*) FROM nodef_r WHERE x IS NOT NULL OR y IS NOT NULL) AS with_values;
-- a row of no value at all is not supported (PostgreSQL inserts one)
CREATE TABLE nodef_zero ();
SET client_min_messages = warning;
SELECT create_reference_table('nodef_zero');
RESET client_min_messages;
INSERT INTO nodef_zero DEFAULT VALUES;
DROP TABLE nodef_zero;
-- a role that may insert into one column only (here and on the nodes): its
-- NULL goes there
\c regression - 127.0.0.1 :worker1_port
CREATE ROLE nodef_user LOGIN;
\c regression - 127.0.0.1 :worker2_port
CREATE ROLE nodef_user LOGIN;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_dml, public;
CREATE ROLE nodef_user LOGIN;
DO $$
DECLARE
	n text;
BEGIN
	FOR n IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR nodef_user SERVER %I OPTIONS (user %L, password_required %L)', n, 'nodef_user', 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA dist_dml TO nodef_user;
GRANT SELECT, INSERT (y) ON nodef_r, nodef_l TO nodef_user;
SET ROLE nodef_user;
INSERT INTO nodef_r DEFAULT VALUES;
INSERT INTO nodef_l DEFAULT VALUES;
INSERT INTO nodef_r (y) VALUES (DEFAULT);
INSERT INTO nodef_l (y) VALUES (DEFAULT);
INSERT INTO nodef_r (x) VALUES (1);
INSERT INTO nodef_l (x) VALUES (1);
RESET ROLE;
SELECT (SELECT count(*) FROM nodef_r) AS distributed, (SELECT count(*) FROM nodef_l) AS local;
REVOKE ALL ON nodef_r, nodef_l FROM nodef_user;
REVOKE USAGE ON SCHEMA dist_dml FROM nodef_user;
DO $$
DECLARE
	n text;
BEGIN
	FOR n IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR nodef_user SERVER %I', n);
	END LOOP;
END $$;
DROP TABLE nodef_r, nodef_l;
DROP ROLE nodef_user;
\c regression - 127.0.0.1 :worker1_port
DROP ROLE nodef_user;
\c regression - 127.0.0.1 :worker2_port
DROP ROLE nodef_user;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_dml, public;
