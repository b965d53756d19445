--
-- Foreign keys between co-located distributed tables, to reference tables
-- and within a table: enforced by the shards on the nodes.  Each change
-- runs on the distributed tables and on local twins with the same keys
-- (the oracle); outcomes (SQLSTATE, row counts) and contents are compared.
--
SELECT setval('shardext.shard_id_seq', 700000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA fk;
SET search_path = fk, public;
SET client_min_messages = warning;

CREATE TABLE cur (code text PRIMARY KEY, name text);
CREATE TABLE tenant (id int PRIMARY KEY, country text, name text);
CREATE TABLE orders (tenant_id int, id int, amount int, ccy text,
					 PRIMARY KEY (tenant_id, id));
CREATE TABLE local_cur (code text PRIMARY KEY, name text);
CREATE TABLE local_tenant (id int PRIMARY KEY, country text, name text);
CREATE TABLE local_orders (tenant_id int, id int, amount int, ccy text,
						   PRIMARY KEY (tenant_id, id));
SELECT create_reference_table('cur');
SELECT create_distributed_table('tenant', 'id', shard_count => 4);
SELECT create_distributed_table('orders', 'tenant_id', shard_count => 4, colocate_with => 'tenant');

-- the same keys on both sides
ALTER TABLE tenant ADD CONSTRAINT tenant_country FOREIGN KEY (country)
  REFERENCES cur (code) ON UPDATE CASCADE;
ALTER TABLE orders ADD CONSTRAINT orders_tenant FOREIGN KEY (tenant_id)
  REFERENCES tenant (id) ON DELETE CASCADE;
ALTER TABLE orders ADD CONSTRAINT orders_cur FOREIGN KEY (ccy)
  REFERENCES cur (code) ON UPDATE CASCADE ON DELETE SET NULL (ccy);
ALTER TABLE local_tenant ADD CONSTRAINT tenant_country FOREIGN KEY (country)
  REFERENCES local_cur (code) ON UPDATE CASCADE;
ALTER TABLE local_orders ADD CONSTRAINT orders_tenant FOREIGN KEY (tenant_id)
  REFERENCES local_tenant (id) ON DELETE CASCADE;
ALTER TABLE local_orders ADD CONSTRAINT orders_cur FOREIGN KEY (ccy)
  REFERENCES local_cur (code) ON UPDATE CASCADE ON DELETE SET NULL (ccy);
RESET client_min_messages;

-- outcome(q): the SQLSTATE of q, or 'ok' and its row count
CREATE FUNCTION outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE q;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN 'ok ' || n;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

-- twin(q): q on the distributed tables and on the twins, outcomes compared
CREATE FUNCTION twin(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d text := outcome(q);
	l text := outcome(regexp_replace(q, '\m(cur|tenant|orders|emp)\M', 'local_\1', 'g'));
BEGIN
	RETURN CASE WHEN d = l THEN 'same: ' || d ELSE 'DIFFERENT: ' || d || ' vs ' || l END;
END $$;

-- contents(): every table's rows compared with its twin's
CREATE FUNCTION contents() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	t text;
	d text;
	l text;
	result text := '';
BEGIN
	FOREACH t IN ARRAY ARRAY['cur', 'tenant', 'orders'] LOOP
		EXECUTE format('SELECT string_agg(x::text, %L ORDER BY x::text) FROM %I x', '|', t) INTO d;
		EXECUTE format('SELECT string_agg(x::text, %L ORDER BY x::text) FROM %I x', '|', 'local_' || t) INTO l;
		result := result || t || CASE WHEN d IS NOT DISTINCT FROM l THEN ' same; '
			ELSE ' DIFFERENT: ' || coalesce(d, '<none>') || ' vs ' || coalesce(l, '<none>') || '; ' END;
	END LOOP;
	RETURN result;
END $$;

SELECT twin($$INSERT INTO cur VALUES ('eur', 'Euro'), ('usd', 'Dollar'), ('chf', 'Franc')$$);
SELECT twin($$INSERT INTO tenant SELECT g, (ARRAY['eur', 'usd', 'chf'])[g % 3 + 1], 't' || g
			  FROM generate_series(1, 20) g$$);
SELECT twin($$INSERT INTO orders SELECT g % 20 + 1, g, g * 10, (ARRAY['eur', 'usd', NULL])[g % 3 + 1]
			  FROM generate_series(1, 200) g$$);
SELECT contents();

-- rows that reference nothing are refused, on one shard or several
SELECT twin($$INSERT INTO orders VALUES (99, 1, 1, 'eur')$$);
SELECT twin($$INSERT INTO orders VALUES (1, 1000, 1, 'xxx')$$);
SELECT twin($$INSERT INTO orders VALUES (1, 1001, 1, 'eur'), (21, 1002, 1, 'eur')$$);
SELECT twin($$INSERT INTO tenant VALUES (50, 'gbp', 'x')$$);
SELECT twin($$UPDATE orders SET ccy = 'gbp' WHERE id = 5$$);
SELECT twin($$UPDATE orders SET ccy = 'usd' WHERE tenant_id = 3$$);
SELECT twin($$INSERT INTO orders SELECT tenant_id, id + 1000, amount, ccy FROM orders WHERE tenant_id < 5$$);
SELECT twin($$INSERT INTO orders SELECT tenant_id + 100, id + 2000, amount, ccy FROM orders WHERE tenant_id = 7$$);
-- the error reads as on PostgreSQL, with the coordinator's names
SELECT expect_error($$INSERT INTO orders VALUES (99, 1, 1, 'eur')$$, true);
SELECT contents();

-- actions run on the nodes: a delete cascades into the co-located shard,
-- a reference table's delete and update reach every node's shards
SELECT twin($$DELETE FROM tenant WHERE id IN (2, 3, 4)$$);
SELECT twin($$DELETE FROM cur WHERE code = 'usd'$$);
SELECT twin($$DELETE FROM cur WHERE code = 'chf'$$);
SELECT twin($$UPDATE cur SET code = 'EUR' WHERE code = 'eur'$$);
SELECT twin($$INSERT INTO cur VALUES ('gbp', 'Pound')$$);
SELECT twin($$UPDATE orders SET ccy = 'gbp' WHERE id % 7 = 0$$);
SELECT twin($$DELETE FROM cur WHERE code = 'gbp'$$);
SELECT contents();
SELECT twin($$DELETE FROM tenant WHERE name LIKE 't1%'$$);
SELECT contents();

-- in transactions over several nodes, with savepoints
BEGIN;
SELECT twin($$INSERT INTO tenant VALUES (30, 'EUR', 'new'), (31, NULL, 'new')$$);
SELECT twin($$INSERT INTO orders VALUES (30, 1, 5, 'EUR'), (31, 1, 6, NULL)$$);
SAVEPOINT s;
SELECT twin($$INSERT INTO orders VALUES (32, 1, 7, NULL)$$);
ROLLBACK TO SAVEPOINT s;
SELECT twin($$DELETE FROM tenant WHERE id = 31$$);
COMMIT;
SELECT contents();

-- COPY checks every row
\set VERBOSITY terse
COPY orders (tenant_id, id, amount) FROM stdin;
30	10	1
77	11	1
\.
COPY orders (tenant_id, id, amount) FROM stdin;
30	10	1
30	11	1
\.
COPY local_orders (tenant_id, id, amount) FROM stdin;
30	10	1
30	11	1
\.
SELECT count(*) FROM orders WHERE tenant_id = 30;
\set VERBOSITY default

-- a deferred key is checked at commit, on each node
CREATE TABLE emp (co int, id int, boss int, PRIMARY KEY (co, id));
CREATE TABLE local_emp (co int, id int, boss int, PRIMARY KEY (co, id));
INSERT INTO emp VALUES (1, 1, NULL), (1, 2, 1), (2, 1, NULL), (2, 2, 1), (2, 3, 2);
INSERT INTO local_emp SELECT * FROM emp;
ALTER TABLE emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES emp (co, id)
  DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE local_emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES local_emp (co, id)
  DEFERRABLE INITIALLY DEFERRED;
-- a table referencing itself is distributed with its rows
SELECT create_distributed_table('emp', 'co', shard_count => 4);
BEGIN;
SELECT twin($$INSERT INTO emp VALUES (1, 10, 11)$$);
SELECT twin($$INSERT INTO emp VALUES (1, 11, 1)$$);
COMMIT;
\set VERBOSITY terse
BEGIN;
INSERT INTO emp VALUES (3, 10, 11);
COMMIT;
BEGIN;
INSERT INTO local_emp VALUES (3, 10, 11);
COMMIT;
\set VERBOSITY default
SELECT count(*), sum(id) FROM emp;
SELECT count(*), sum(id) FROM local_emp;
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT twin($$INSERT INTO emp VALUES (2, 20, 21)$$);
ROLLBACK;
-- a multi-row INSERT sends a shard its rows in batches of 1,000: a key to
-- the table itself is still checked when the statement ends
ALTER TABLE emp DROP CONSTRAINT emp_boss;
ALTER TABLE local_emp DROP CONSTRAINT emp_boss;
ALTER TABLE emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES emp (co, id);
ALTER TABLE local_emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES local_emp (co, id);
SELECT twin($$INSERT INTO emp SELECT 5, g, CASE WHEN g < 2500 THEN g + 1 END FROM generate_series(1, 2500) g$$);
SELECT twin($$INSERT INTO emp SELECT 6, g, CASE WHEN g < 2500 THEN g + 1 ELSE 99999 END FROM generate_series(1, 2500) g$$);
SELECT twin($$DELETE FROM emp WHERE co = 5$$);
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
SELECT twin($$INSERT INTO emp VALUES (7, 1, 2)$$);
ROLLBACK;
-- a deferrable key not deferred is checked when the statement ends too;
-- deferred, at commit
ALTER TABLE emp DROP CONSTRAINT emp_boss;
ALTER TABLE local_emp DROP CONSTRAINT emp_boss;
ALTER TABLE emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES emp (co, id) DEFERRABLE;
ALTER TABLE local_emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES local_emp (co, id) DEFERRABLE;
SELECT twin($$INSERT INTO emp SELECT 8, g, CASE WHEN g < 2500 THEN g + 1 END FROM generate_series(1, 2500) g$$);
SELECT twin($$INSERT INTO emp SELECT 9, g, CASE WHEN g < 2500 THEN g + 1 ELSE 99999 END FROM generate_series(1, 2500) g$$);
BEGIN;
SET CONSTRAINTS emp_boss DEFERRED;
SELECT twin($$INSERT INTO emp SELECT 9, g, CASE WHEN g < 2500 THEN g + 1 ELSE 99999 END FROM generate_series(1, 2500) g$$);
SELECT twin($$INSERT INTO emp VALUES (9, 99999, NULL)$$);
COMMIT;
SELECT (SELECT count(*) FROM emp) = (SELECT count(*) FROM local_emp) AS same_count;
SELECT twin($$DELETE FROM emp WHERE co IN (8, 9)$$);
ALTER TABLE emp DROP CONSTRAINT emp_boss;
ALTER TABLE local_emp DROP CONSTRAINT emp_boss;
ALTER TABLE emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES emp (co, id);
ALTER TABLE local_emp ADD CONSTRAINT emp_boss FOREIGN KEY (co, boss) REFERENCES local_emp (co, id);
-- ... and when a COPY sends a shard more than one batch (4 MB each)
CREATE TABLE tree (co int, id int, up int, pad text, PRIMARY KEY (co, id));
SELECT create_distributed_table('tree', 'co', shard_count => 2);
ALTER TABLE tree ADD FOREIGN KEY (co, up) REFERENCES tree (co, id);
COPY (SELECT 1, g, CASE WHEN g = 1 THEN 6000 END, repeat('x', 1000) FROM generate_series(1, 6000) g)
  TO '/tmp/shardext_fk_tree.copy';
COPY tree FROM '/tmp/shardext_fk_tree.copy';
SELECT count(*), count(up) FROM tree;
TRUNCATE tree;
COPY (SELECT 1, g, CASE WHEN g = 1 THEN 6001 END, repeat('x', 1000) FROM generate_series(1, 6000) g)
  TO '/tmp/shardext_fk_tree.copy';
\set VERBOSITY terse
COPY tree FROM '/tmp/shardext_fk_tree.copy';
\set VERBOSITY default
SELECT count(*) FROM tree;
DROP TABLE tree;
COPY (SELECT 1 WHERE false) TO '/tmp/shardext_fk_tree.copy';
-- an UPDATE/DELETE reading another table changes a shard's rows with one
-- statement: the key is checked when it ends, as on PostgreSQL
CREATE TABLE pick (co int, id int);
INSERT INTO pick VALUES (2, 1), (2, 2), (2, 3), (1, 10), (1, 11);
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT twin($$UPDATE emp e SET id = e.id + 100, boss = e.boss + 100 FROM pick p
			  WHERE p.co = e.co AND p.id = e.id AND e.co = 2$$);
SELECT twin($$DELETE FROM emp WHERE (co, id) IN (SELECT co, id + 100 FROM pick)$$);
SELECT twin($$DELETE FROM emp WHERE (co, id) IN (SELECT co, id FROM pick WHERE id > 10)$$);
SELECT (SELECT string_agg(e::text, ',' ORDER BY e::text) FROM emp e) =
	   (SELECT string_agg(e::text, ',' ORDER BY e::text) FROM local_emp e) AS same_rows;
ROLLBACK;

-- SET CONSTRAINTS undone by a rollback to a savepoint, also on a node that
-- joined within it; and set inside a function, outside a transaction block
CREATE TABLE p5 (id int PRIMARY KEY);
CREATE TABLE c5 (pid int, id int, PRIMARY KEY (pid, id));
SELECT create_distributed_table('p5', 'id', shard_count => 4);
SELECT create_distributed_table('c5', 'pid', shard_count => 4, colocate_with => 'p5');
ALTER TABLE c5 ADD CONSTRAINT c5_p FOREIGN KEY (pid) REFERENCES p5 (id) DEFERRABLE;
\set VERBOSITY terse
BEGIN;
SAVEPOINT s;
SET CONSTRAINTS c5_p DEFERRED;
INSERT INTO c5 VALUES (50, 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO c5 VALUES (51, 1);
COMMIT;
\set VERBOSITY default
DO $$ BEGIN
  SET CONSTRAINTS c5_p DEFERRED;
  INSERT INTO c5 VALUES (1, 1);
  INSERT INTO p5 VALUES (1);
END $$;
SELECT * FROM c5;
-- by name, each node gets the names its shards have: a deferrable unique
-- key's per shard, a key of a table with a shard on one node only there
CREATE TABLE u5 (id int, n int, tag text, CONSTRAINT u5_uq UNIQUE (id, n) DEFERRABLE);
SELECT create_distributed_table('u5', 'id', shard_count => 4);
INSERT INTO u5 VALUES (1, 1, 'a'), (1, 2, 'b');
BEGIN;
SET CONSTRAINTS u5_uq DEFERRED;
UPDATE u5 SET n = 2 WHERE tag = 'a';
UPDATE u5 SET n = 1 WHERE tag = 'b';
COMMIT;
SELECT * FROM u5 ORDER BY n;
CREATE TABLE one_p (id int PRIMARY KEY);
CREATE TABLE one_c (pid int, n int, PRIMARY KEY (pid, n));
SELECT create_distributed_table('one_p', 'id', shard_count => 1);
SELECT create_distributed_table('one_c', 'pid', shard_count => 1, colocate_with => 'one_p');
ALTER TABLE one_c ADD CONSTRAINT one_c_p FOREIGN KEY (pid) REFERENCES one_p (id) DEFERRABLE;
BEGIN;
SELECT count(*) FROM p5;
SET CONSTRAINTS one_c_p DEFERRED;
INSERT INTO one_c VALUES (7, 1);
INSERT INTO one_p VALUES (7);
COMMIT;
SELECT * FROM one_c;

-- TRUNCATE follows the keys: refused alone, CASCADE empties the referencing shards
SELECT expect_error('TRUNCATE tenant');
BEGIN;
TRUNCATE cur CASCADE;
SELECT count(*) AS tenants, (SELECT count(*) FROM orders) AS orders FROM tenant;
ROLLBACK;
BEGIN;
TRUNCATE tenant, orders;
SELECT count(*) FROM orders;
ROLLBACK;
SELECT contents();

-- NOT VALID, then VALIDATE: the shards check the rows they hold
ALTER TABLE orders DROP CONSTRAINT orders_cur;
ALTER TABLE local_orders DROP CONSTRAINT orders_cur;
SELECT twin($$INSERT INTO orders VALUES (5, 5000, 1, 'xyz')$$);
ALTER TABLE orders ADD CONSTRAINT orders_cur FOREIGN KEY (ccy) REFERENCES cur (code) NOT VALID;
ALTER TABLE local_orders ADD CONSTRAINT orders_cur FOREIGN KEY (ccy) REFERENCES local_cur (code) NOT VALID;
SELECT twin($$INSERT INTO orders VALUES (5, 5001, 1, 'xyz')$$);
SELECT expect_error('ALTER TABLE orders VALIDATE CONSTRAINT orders_cur', true);
SELECT twin($$DELETE FROM orders WHERE ccy = 'xyz'$$);
ALTER TABLE orders VALIDATE CONSTRAINT orders_cur;
ALTER TABLE local_orders VALIDATE CONSTRAINT orders_cur;
SELECT convalidated FROM pg_constraint WHERE conname = 'orders_cur' AND conrelid = 'orders'::regclass;

-- renames change names on the shards, the keys stay (no rebuild)
ALTER TABLE cur RENAME COLUMN code TO iso;
ALTER TABLE local_cur RENAME COLUMN code TO iso;
ALTER TABLE cur RENAME CONSTRAINT cur_pkey TO cur_iso_key;
ALTER TABLE orders RENAME CONSTRAINT orders_tenant TO orders_of_tenant;
ALTER TABLE tenant RENAME TO client;
ALTER TABLE local_tenant RENAME TO local_client;
SELECT twin($$INSERT INTO orders VALUES (99, 6000, 1, NULL)$$);
SELECT twin($$INSERT INTO orders VALUES (1, 6000, 1, 'zzz')$$);
SELECT twin($$DELETE FROM cur WHERE iso = 'EUR'$$);
SELECT expect_error($$INSERT INTO orders VALUES (99, 6000, 1, NULL)$$, true);
ALTER TABLE client RENAME TO tenant;
ALTER TABLE local_client RENAME TO local_tenant;
-- the referenced key changes type: PostgreSQL makes the keys again
ALTER TABLE cur ALTER COLUMN iso TYPE varchar(10);
ALTER TABLE local_cur ALTER COLUMN iso TYPE varchar(10);
SELECT twin($$INSERT INTO tenant VALUES (60, 'nope', 'x')$$);
SELECT twin($$INSERT INTO tenant VALUES (60, 'EUR', 'x')$$);
SELECT contents();
\d orders

-- each shard has the keys, to its own group's shard or the node's copy
CREATE FOREIGN TABLE w1_constraints (conname name, contype "char", conrelid oid, confrelid oid)
  SERVER shardext_node_1 OPTIONS (schema_name 'pg_catalog', table_name 'pg_constraint');
CREATE FOREIGN TABLE w1_class (oid oid, relname name)
  SERVER shardext_node_1 OPTIONS (schema_name 'pg_catalog', table_name 'pg_class');
CREATE VIEW shard_keys AS
SELECT regexp_replace(c.conname, '_[0-9]+$', '') AS conname, rs.table_name AS referencing, ps.table_name AS referenced,
	   rs.shard_index = ps.shard_index OR pt.distribution_type = 'reference' AS same_group
  FROM w1_constraints c
  JOIN w1_class r ON r.oid = c.conrelid
  JOIN w1_class p ON p.oid = c.confrelid
  JOIN shardext.shards rs ON rs.shard_relation = 'fk.' || r.relname
  JOIN shardext.shards ps ON ps.shard_relation = 'fk.' || p.relname
  JOIN shardext.tables pt ON pt.table_name = ps.table_name
 WHERE c.contype = 'f';
SELECT conname, referencing, referenced, count(*) AS shards, bool_and(same_group) AS same_group
  FROM shard_keys GROUP BY 1, 2, 3 ORDER BY 1;

-- keys that cannot hold are refused, and nothing changes
CREATE TABLE other (id int PRIMARY KEY, t int);
SELECT create_distributed_table('other', 'id', shard_count => 8);
SELECT expect_error('ALTER TABLE other ADD FOREIGN KEY (id) REFERENCES tenant (id)', true);
CREATE TABLE same_group (id int PRIMARY KEY, t int, c text);
SELECT create_distributed_table('same_group', 'id', shard_count => 4, colocate_with => 'tenant');
SELECT expect_error('ALTER TABLE same_group ADD FOREIGN KEY (t) REFERENCES tenant (id)', true);
SELECT expect_error('ALTER TABLE same_group ADD FOREIGN KEY (id) REFERENCES orders (id)', true);
SELECT expect_error('ALTER TABLE same_group ADD FOREIGN KEY (id) REFERENCES tenant (id) ON UPDATE CASCADE');
SELECT expect_error('ALTER TABLE same_group ADD FOREIGN KEY (id) REFERENCES tenant (id) ON DELETE SET NULL');
CREATE FUNCTION one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
ALTER TABLE same_group ADD COLUMN d varchar(10) DEFAULT one()::text;
SELECT expect_error('ALTER TABLE same_group ADD FOREIGN KEY (d) REFERENCES cur (iso) ON DELETE SET DEFAULT');
ALTER TABLE same_group DROP COLUMN d;
CREATE TABLE ref2 (id int PRIMARY KEY, t int);
SELECT create_reference_table('ref2');
SELECT expect_error('ALTER TABLE ref2 ADD FOREIGN KEY (t) REFERENCES tenant (id)', true);
CREATE TABLE plain (id int PRIMARY KEY, c varchar(10));
SELECT expect_error('ALTER TABLE same_group ADD FOREIGN KEY (t) REFERENCES plain (id)', true);
SELECT expect_error('CREATE TABLE local_child (t int REFERENCES tenant (id))');
SELECT expect_error('ALTER TABLE plain ADD FOREIGN KEY (c) REFERENCES cur (iso)');
CREATE TABLE child_of_plain (id int PRIMARY KEY, p int REFERENCES plain (id));
SELECT expect_error($$SELECT create_distributed_table('child_of_plain', 'id')$$);
SELECT expect_error($$SELECT create_reference_table('plain')$$);
SELECT expect_error($$SELECT undistribute_table('tenant')$$);
SELECT expect_error($$SELECT undistribute_table('emp')$$);
SELECT conname FROM pg_constraint WHERE conrelid = 'fk.same_group'::regclass AND contype = 'f';
-- a co-located key with the distribution column is fine
ALTER TABLE tenant ADD UNIQUE (id, country);
ALTER TABLE same_group ADD FOREIGN KEY (id, c) REFERENCES tenant (id, country) MATCH FULL;
SELECT expect_error($$INSERT INTO same_group VALUES (1, 1, 'EUR')$$);
SELECT expect_error($$INSERT INTO same_group VALUES (5, 1, NULL)$$);
INSERT INTO same_group VALUES (6, 1, 'EUR');
SELECT conname, referencing, referenced, count(*) AS shards, bool_and(same_group) AS same_group
  FROM shard_keys WHERE referencing = 'same_group'::regclass GROUP BY 1, 2, 3 ORDER BY 1;

-- DROP ... CASCADE takes the keys off the shards of the referencing tables
DROP TABLE tenant CASCADE;
DROP TABLE local_tenant CASCADE;
SELECT twin($$INSERT INTO orders VALUES (99, 7000, 1, NULL)$$);
SELECT conname, referencing, referenced, count(*) AS shards
  FROM shard_keys GROUP BY 1, 2, 3 ORDER BY 1;
ALTER TABLE cur DROP CONSTRAINT cur_iso_key CASCADE;
SELECT conname, referencing, referenced, count(*) AS shards
  FROM shard_keys GROUP BY 1, 2, 3 ORDER BY 1;

-- an UPDATE/DELETE reading other tables sends a shard its rows in several
-- statements past 16 MB of values (or 100,000 rows); a key that the nodes
-- would then check or apply after each (an action on the table's own key, a
-- key of another table not deferred, for an UPDATE) is refused, a deferred
-- one works as on a local twin
CREATE TABLE big (tenant int, id int, parent int, v text, PRIMARY KEY (tenant, id),
                  FOREIGN KEY (tenant, parent) REFERENCES big (tenant, id) ON UPDATE RESTRICT);
SELECT create_distributed_table('big', 'tenant', shard_count => 2);
CREATE TABLE big_child (tenant int, ref int);
SELECT create_distributed_table('big_child', 'tenant', shard_count => 2, colocate_with => 'big');
ALTER TABLE big_child ADD FOREIGN KEY (tenant, ref) REFERENCES big (tenant, id);
CREATE TABLE local_big (LIKE big INCLUDING ALL);
ALTER TABLE local_big ADD FOREIGN KEY (tenant, parent) REFERENCES local_big (tenant, id) ON UPDATE RESTRICT;
CREATE TABLE local_big_child (tenant int, ref int);
ALTER TABLE local_big_child ADD FOREIGN KEY (tenant, ref) REFERENCES local_big (tenant, id)
  DEFERRABLE INITIALLY DEFERRED;
-- (a local table: the rows are found on the coordinator and changed in
-- batches; with a reference table the UPDATE would run whole on each node)
CREATE TABLE remap (id int PRIMARY KEY, newid int);
INSERT INTO remap VALUES (1, 1000), (2, 2), (3, 1);
INSERT INTO big VALUES (1, 1, NULL, ''), (1, 2, NULL, ''), (1, 3, NULL, '');
INSERT INTO local_big SELECT * FROM big;
INSERT INTO big_child VALUES (1, 1);
INSERT INTO local_big_child VALUES (1, 1);
SELECT expect_error($$UPDATE big SET id = remap.newid, v = repeat('x', 9000000)
                       FROM remap WHERE big.id = remap.id$$);
ALTER TABLE big DROP CONSTRAINT big_tenant_parent_fkey;
SELECT expect_error($$UPDATE big SET id = remap.newid, v = repeat('x', 9000000)
                       FROM remap WHERE big.id = remap.id$$);
ALTER TABLE big_child DROP CONSTRAINT big_child_tenant_ref_fkey;
ALTER TABLE big_child ADD FOREIGN KEY (tenant, ref) REFERENCES big (tenant, id)
  DEFERRABLE INITIALLY DEFERRED;
UPDATE big SET id = remap.newid, v = repeat('x', 9000000) FROM remap WHERE big.id = remap.id;
UPDATE local_big SET id = remap.newid, v = repeat('x', 9000000) FROM remap WHERE local_big.id = remap.id;
SELECT (SELECT string_agg(format('%s %s %s', tenant, id, md5(v)), ', ' ORDER BY id) FROM big) IS NOT DISTINCT FROM
       (SELECT string_agg(format('%s %s %s', tenant, id, md5(v)), ', ' ORDER BY id) FROM local_big) AS same_rows;
DROP TABLE big_child, big, remap, local_big_child, local_big;

-- rows whose key texts would read alike if joined are told apart
CREATE TABLE pairs (a text, b text, v int, PRIMARY KEY (a, b));
SELECT create_distributed_table('pairs', 'a', shard_count => 2);
CREATE TABLE one (x int PRIMARY KEY);
SELECT create_reference_table('one');
INSERT INTO one VALUES (1);
INSERT INTO pairs VALUES ('p' || chr(31), 'q', 0), ('p', chr(31) || 'q', 0), ('p:', 'q', 0), ('p', ':q', 0);
UPDATE pairs SET v = one.x FROM one;
SELECT count(*) FILTER (WHERE v = 1) AS updated FROM pairs;
DELETE FROM pairs WHERE a IN (SELECT 'p' || chr(31) UNION ALL SELECT 'p' FROM one);
SELECT count(*) AS left_over FROM pairs;
DROP TABLE pairs, one;

-- a superuser's data load without key checks, as on PostgreSQL:
-- session_replication_role = replica and DISABLE TRIGGER ALL (pg_restore
-- --disable-triggers) reach the shards' triggers; the local tables are the
-- oracle
CREATE TABLE rp (k int PRIMARY KEY, v int);
CREATE TABLE rc (k int, id int, PRIMARY KEY (k, id));
CREATE TABLE local_rp (k int PRIMARY KEY, v int);
CREATE TABLE local_rc (k int, id int, PRIMARY KEY (k, id));
SET client_min_messages = warning;
SELECT create_distributed_table('rp', 'k', shard_count => 4);
SELECT create_distributed_table('rc', 'k', colocate_with => 'rp');
RESET client_min_messages;
ALTER TABLE rc ADD FOREIGN KEY (k) REFERENCES rp (k);
ALTER TABLE local_rc ADD FOREIGN KEY (k) REFERENCES local_rp (k);
INSERT INTO rp VALUES (1, 1);
INSERT INTO local_rp VALUES (1, 1);
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO rc VALUES (99, 1);
INSERT INTO local_rc VALUES (99, 1);
COPY rc FROM stdin;
98	1
\.
COPY local_rc FROM stdin;
98	1
\.
COMMIT;
-- checked again once the setting is back
INSERT INTO rc VALUES (97, 1);
INSERT INTO local_rc VALUES (97, 1);
BEGIN;
ALTER TABLE rc DISABLE TRIGGER ALL;
ALTER TABLE local_rc DISABLE TRIGGER ALL;
INSERT INTO rc VALUES (96, 1);
INSERT INTO local_rc VALUES (96, 1);
ALTER TABLE rc ENABLE TRIGGER ALL;
ALTER TABLE local_rc ENABLE TRIGGER ALL;
COMMIT;
INSERT INTO rc VALUES (95, 1);
INSERT INTO local_rc VALUES (95, 1);
ALTER TABLE rp DISABLE TRIGGER ALL;
DELETE FROM rp;
ALTER TABLE rp ENABLE TRIGGER ALL;
DELETE FROM local_rp;
SELECT (SELECT array_agg(k ORDER BY k) FROM rc) AS distributed,
       (SELECT array_agg(k ORDER BY k) FROM local_rc) AS local,
       (SELECT count(*) FROM rp) AS parents;
-- only all of them at once
SELECT tgname AS key_trigger FROM pg_trigger
 WHERE tgrelid = 'rc'::regclass AND tgisinternal ORDER BY tgname LIMIT 1 \gset
ALTER TABLE rc DISABLE TRIGGER :"key_trigger";
ALTER TABLE rc ENABLE ALWAYS TRIGGER :"key_trigger";
-- a new key of a table whose keys' triggers are disabled
CREATE TABLE rq (k int PRIMARY KEY);
SET client_min_messages = warning;
SELECT create_distributed_table('rq', 'k', colocate_with => 'rp');
RESET client_min_messages;
ALTER TABLE rc DISABLE TRIGGER ALL;
ALTER TABLE rc ADD FOREIGN KEY (k) REFERENCES rq (k) NOT VALID;
INSERT INTO rc VALUES (93, 1);
ALTER TABLE rc ENABLE TRIGGER ALL;
INSERT INTO rc VALUES (92, 1);
-- the shard map's own cascades and triggers fire under replica too
SET session_replication_role = replica;
DROP TABLE rc;
RESET session_replication_role;
SELECT count(*) AS shards_left FROM shardext.shards s
 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.table_name);
DROP TABLE rp, rq, local_rc, local_rp;

SET client_min_messages = warning;
DROP SCHEMA fk CASCADE;
