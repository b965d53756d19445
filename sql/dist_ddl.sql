--
-- Schema changes, TRUNCATE, COPY and DROP on distributed tables: the shards
-- on the workers follow, in the same transaction; a local copy that gets
-- the same statements is the oracle for the data.
--
-- shard ids of this test start at a number of its own, whatever ran before
SELECT setval('shardext.shard_id_seq', 300000, false) IS NOT NULL AS shard_ids_set;
\getenv coord_port SHARDEXT_COORD_PORT
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
CREATE SCHEMA dist_ddl;
SET search_path = dist_ddl, public;

CREATE TABLE items (id int PRIMARY KEY, name text, qty int DEFAULT 1);
CREATE TABLE local_items (id int PRIMARY KEY, name text, qty int DEFAULT 1);
INSERT INTO items SELECT g, 'item ' || g, g % 7 + 1 FROM generate_series(1, 40) g;
INSERT INTO local_items SELECT * FROM items;
SELECT create_distributed_table('items', 'id', shard_count => 4);

-- shard 0's name and its worker's port, to look at it on the worker
CREATE TABLE public.dist_ddl_ports (node_id int, port int);
INSERT INTO public.dist_ddl_ports
	SELECT node_id, port FROM shardext.nodes WHERE role = 'worker';
CREATE FUNCTION public.shard0(tbl regclass, OUT shard_name text, OUT port int)
LANGUAGE sql AS $$
	SELECT split_part(s.shard_relation, '.', 2), w.port
	  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
	  JOIN public.dist_ddl_ports w USING (node_id)
	 WHERE s.table_name = tbl AND s.shard_index = 0 $$;

ALTER TABLE items ADD COLUMN note text DEFAULT 'none' NOT NULL;
ALTER TABLE local_items ADD COLUMN note text DEFAULT 'none' NOT NULL;
ALTER TABLE items ADD CONSTRAINT qty_positive CHECK (qty > 0);
ALTER TABLE local_items ADD CONSTRAINT qty_positive CHECK (qty > 0);
CREATE INDEX items_name_idx ON items (name);
ALTER TABLE items RENAME COLUMN name TO title;
ALTER TABLE local_items RENAME COLUMN name TO title;
ALTER TABLE items ALTER COLUMN qty SET DEFAULT 5, ALTER COLUMN note DROP NOT NULL;
ALTER TABLE local_items ALTER COLUMN qty SET DEFAULT 5, ALTER COLUMN note DROP NOT NULL;
ALTER TABLE items ALTER COLUMN qty TYPE bigint;
ALTER TABLE local_items ALTER COLUMN qty TYPE bigint;

-- the shard on its worker has the new shape
SELECT shard_name AS s0, port AS s0_port FROM shard0('items') \gset
\c regression - 127.0.0.1 :s0_port
SELECT column_name, data_type, column_default, is_nullable
  FROM information_schema.columns
 WHERE table_schema = 'dist_ddl' AND table_name = :'s0' ORDER BY ordinal_position;
SELECT regexp_replace(pg_get_constraintdef(oid), '_[0-9]+', '_<shard>', 'g') AS def, conname
  FROM pg_constraint WHERE conrelid = ('dist_ddl.' || :'s0')::regclass ORDER BY 1;
SELECT regexp_replace(indexdef, '_[0-9]+', '_<shard>', 'g') FROM pg_indexes
 WHERE schemaname = 'dist_ddl' AND tablename = :'s0' ORDER BY 1;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;

-- the data behaves like the local copy's
INSERT INTO items (id, title) VALUES (41, 'defaults');
INSERT INTO local_items (id, title) VALUES (41, 'defaults');
INSERT INTO items VALUES (42, 'bad', 0, 'x');
UPDATE items SET note = NULL WHERE id = 1;
UPDATE local_items SET note = NULL WHERE id = 1;
SELECT * FROM items WHERE id IN (1, 41) ORDER BY id;

-- a DDL statement that is rolled back leaves the shards alone
BEGIN;
ALTER TABLE items ADD COLUMN temp int;
DROP INDEX items_name_idx;
ROLLBACK;
SELECT count(*) AS temp_columns FROM information_schema.columns
 WHERE table_name = 'items' AND column_name = 'temp';

DROP INDEX items_name_idx;
ALTER TABLE items DROP CONSTRAINT qty_positive;
ALTER TABLE local_items DROP CONSTRAINT qty_positive;
INSERT INTO items VALUES (42, 'zero qty', 0, 'x');
INSERT INTO local_items VALUES (42, 'zero qty', 0, 'x');
SELECT shard_name AS s0, port AS s0_port FROM shard0('items') \gset
\c regression - 127.0.0.1 :s0_port
SELECT count(*) AS constraints FROM pg_constraint
 WHERE conrelid = ('dist_ddl.' || :'s0')::regclass AND contype = 'c';
SELECT count(*) AS indexes FROM pg_indexes
 WHERE schemaname = 'dist_ddl' AND tablename = :'s0';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;

-- what cannot be done, and why
ALTER TABLE items DROP COLUMN id;
ALTER TABLE items ALTER COLUMN id TYPE text;
ALTER TABLE items ADD CONSTRAINT title_unique UNIQUE (title);
ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES local_items (id);
-- the hints of refused changes say what to do instead (nothing was made)
CREATE FUNCTION dist_ddl_positive(bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
ALTER TABLE items ADD CONSTRAINT user_check CHECK (dist_ddl_positive(qty));
CREATE INDEX items_user_idx ON items ((dist_ddl_positive(qty)));
ALTER TABLE items ADD CONSTRAINT items_excl EXCLUDE USING btree (id WITH =);
CREATE TABLE ref_kind (id bigint PRIMARY KEY);
SET client_min_messages = warning;
SELECT create_reference_table('ref_kind');
RESET client_min_messages;
ALTER TABLE ref_kind ADD CONSTRAINT ref_check CHECK (dist_ddl_positive(id));
DROP TABLE ref_kind;
DROP FUNCTION dist_ddl_positive(bigint);
-- a publication would send the changes of the coordinator's empty table
SELECT expect_error('CREATE PUBLICATION dist_ddl_pub FOR TABLE items, local_items', true);
SET client_min_messages = error;
CREATE PUBLICATION dist_ddl_pub FOR TABLE local_items;
RESET client_min_messages;
SELECT expect_error('ALTER PUBLICATION dist_ddl_pub ADD TABLE items');
SELECT expect_error('ALTER PUBLICATION dist_ddl_pub SET TABLE local_items, items');
DROP PUBLICATION dist_ddl_pub;
-- (CREATE/DROP INDEX CONCURRENTLY work: test/t/009_concurrent_indexes.pl)
CREATE INDEX CONCURRENTLY items_qty_idx ON items (qty);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_qty_idx'::regclass;
DROP INDEX CONCURRENTLY items_qty_idx;
-- unique keys that contain the distribution column are fine
ALTER TABLE items ADD CONSTRAINT id_title_unique UNIQUE (id, title);
INSERT INTO items VALUES (42, 'zero qty', 1, 'y');

-- COPY routes rows (defaults apply), COPY TO reads every shard
COPY items (id, title, note) FROM STDIN;
100	copied one	tab\there
101	copied two	\N
\.
COPY local_items (id, title, note) FROM STDIN;
100	copied one	tab\there
101	copied two	\N
\.
COPY (SELECT id, title, qty, note FROM items WHERE id >= 100 ORDER BY id) TO STDOUT;
COPY items (id, title) TO STDOUT WITH (FORMAT csv, HEADER);
COPY items FROM STDIN;
102	bad row
\.
SELECT count(*) FROM items WHERE id = 102;
-- COPY FROM ... WHERE loads the rows its condition accepts
COPY items (id, title, note) FROM STDIN WHERE id % 2 = 0 AND note IS NOT NULL;
103	odd	x
104	even	y
106	even, no note	\N
\.
COPY local_items (id, title, note) FROM STDIN WHERE id % 2 = 0 AND note IS NOT NULL;
103	odd	x
104	even	y
106	even, no note	\N
\.
SELECT id, title, note FROM items WHERE id BETWEEN 103 AND 106 ORDER BY id;
COPY items FROM STDIN WHERE qty / 0 > 0;
107	t	1	n
\.
SELECT count(*) FROM items WHERE id = 107;
-- as for a local table, a condition on tableoid sees the table's
COPY items (id, title) FROM STDIN WHERE tableoid = 'items'::regclass;
108	tableoid
\.
COPY local_items (id, title) FROM STDIN WHERE tableoid = 'local_items'::regclass;
108	tableoid
\.
SELECT title FROM items WHERE id = 108;
-- (psql skips what follows a COPY that fails before it starts, up to \.)
COPY items FROM STDIN WHERE (SELECT true);
\.

-- the oracle: same rows as the local copy
SELECT count(*) AS missing FROM (TABLE local_items EXCEPT TABLE items) x;
SELECT count(*) AS extra FROM (TABLE items EXCEPT TABLE local_items) x;

-- renaming and moving the table move the shards
ALTER TABLE items RENAME TO goods;
SELECT count(*) FROM goods;
SELECT count(*) AS renamed_shards FROM shardext.shards
 WHERE table_name = 'goods'::regclass AND shard_relation LIKE 'dist_ddl.goods\_%';
CREATE SCHEMA dist_ddl_moved;
ALTER TABLE goods SET SCHEMA dist_ddl_moved;
SELECT count(*) FROM dist_ddl_moved.goods;
SELECT count(*) AS moved_shards FROM shardext.shards
 WHERE table_name = 'dist_ddl_moved.goods'::regclass
   AND shard_relation LIKE 'dist_ddl_moved.goods\_%';
SELECT shard_name AS s0, port AS s0_port FROM shard0('dist_ddl_moved.goods') \gset
\c regression - 127.0.0.1 :s0_port
SELECT count(*) > 0 AS shard_moved_on_worker FROM dist_ddl_moved.:"s0";
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;

-- TRUNCATE empties every shard
TRUNCATE dist_ddl_moved.goods;
SELECT count(*) FROM dist_ddl_moved.goods;
SELECT shard_name AS s0, port AS s0_port FROM shard0('dist_ddl_moved.goods') \gset
\c regression - 127.0.0.1 :s0_port
SELECT count(*) AS rows_on_worker FROM dist_ddl_moved.:"s0";
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;

-- DROP TABLE (and DROP SCHEMA ... CASCADE) drop the shards and the metadata
SELECT shard_name AS s0, port AS s0_port FROM shard0('dist_ddl_moved.goods') \gset
BEGIN;
DROP TABLE dist_ddl_moved.goods;
ROLLBACK;
SELECT count(*) AS still_distributed FROM shardext.tables
 WHERE table_name = 'dist_ddl_moved.goods'::regclass;
DROP TABLE dist_ddl_moved.goods;
SELECT count(*) AS shards_left FROM shardext.shards s
 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.table_name);
CREATE TABLE dist_ddl_moved.other (k int);
SELECT create_distributed_table('dist_ddl_moved.other', 'k', shard_count => 2);
DROP SCHEMA dist_ddl_moved CASCADE;
SELECT count(*) AS tables_left FROM shardext.tables
 WHERE table_name::text LIKE 'dist_ddl_moved.%';
\c regression - 127.0.0.1 :s0_port
SELECT count(*) AS shard_tables_left FROM pg_tables WHERE schemaname = 'dist_ddl_moved';
\c regression - 127.0.0.1 :coord_port
-- SET LOGGED / UNLOGGED reach the shards
CREATE UNLOGGED TABLE dist_ddl.ulog (id int PRIMARY KEY);
SELECT create_distributed_table('dist_ddl.ulog', 'id', shard_count => 2);
ALTER TABLE dist_ddl.ulog SET LOGGED;
SELECT shard_name AS s0, port AS s0_port FROM shard0('dist_ddl.ulog') \gset
\c regression - 127.0.0.1 :s0_port
SELECT relpersistence AS shard_persistence FROM pg_class WHERE relname = :'s0';
\c regression - 127.0.0.1 :coord_port
ALTER TABLE dist_ddl.ulog SET UNLOGGED;
\c regression - 127.0.0.1 :s0_port
SELECT relpersistence AS shard_persistence FROM pg_class WHERE relname = :'s0';
\c regression - 127.0.0.1 :coord_port
DROP TABLE dist_ddl.ulog;

-- GRANT and REVOKE reach the shards (and the schema on the workers), for
-- roles that exist on the nodes: a role whose user mapping names its own
-- node role reads and writes with the privileges it has here
\c regression - 127.0.0.1 :worker1_port
CREATE ROLE dist_ddl_app LOGIN;
\c regression - 127.0.0.1 :worker2_port
CREATE ROLE dist_ddl_app LOGIN;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
CREATE ROLE dist_ddl_app LOGIN;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR dist_ddl_app SERVER %I OPTIONS (user %L)',
					   s, 'dist_ddl_app');
	END LOOP;
END $$;
CREATE TABLE granted (id int PRIMARY KEY, qty int);
INSERT INTO granted SELECT g, g FROM generate_series(1, 20) g;
SELECT create_distributed_table('granted', 'id', shard_count => 2);
GRANT USAGE ON SCHEMA dist_ddl TO dist_ddl_app;
CREATE ROLE dist_ddl_coordinator_only_role;
GRANT SELECT, UPDATE ON granted TO dist_ddl_app, dist_ddl_coordinator_only_role;
-- as with postgres_fdw, a non-superuser's mapping needs a password that
-- the node asks for, unless a superuser says otherwise in the mapping
SET ROLE dist_ddl_app;
SELECT count(*) FROM granted;
RESET ROLE;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('ALTER USER MAPPING FOR dist_ddl_app SERVER %I OPTIONS (ADD password %L)',
					   s, 'not asked');
	END LOOP;
END $$;
SET ROLE dist_ddl_app;
SELECT count(*) FROM granted;
RESET ROLE;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('ALTER USER MAPPING FOR dist_ddl_app SERVER %I OPTIONS (DROP password, ADD password_required %L)',
					   s, 'false');
	END LOOP;
END $$;
SET ROLE dist_ddl_app;
SELECT count(*) FROM granted;
UPDATE granted SET qty = qty WHERE id = 3;
RESET ROLE;
-- a cursor opened in a SECURITY DEFINER function, fetched by another role
-- (with no user mapping), reads the nodes as the function's owner: its
-- privileges were the ones checked when it was opened
CREATE TABLE cursor_keys (id int);
INSERT INTO cursor_keys VALUES (2), (3);
GRANT SELECT ON cursor_keys TO dist_ddl_app;
CREATE FUNCTION open_granted() RETURNS refcursor LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
	c refcursor := 'granted_cursor';
BEGIN
	OPEN c FOR SELECT k.id, (SELECT g.qty FROM granted g WHERE g.id = k.id) AS qty
				 FROM cursor_keys k ORDER BY k.id;
	RETURN c;
END $$;
ALTER FUNCTION open_granted() OWNER TO dist_ddl_app;
GRANT EXECUTE ON FUNCTION open_granted() TO dist_ddl_coordinator_only_role;
GRANT USAGE ON SCHEMA dist_ddl TO dist_ddl_coordinator_only_role;
SET ROLE dist_ddl_coordinator_only_role;
BEGIN;
SELECT open_granted();
FETCH ALL FROM granted_cursor;
COMMIT;
RESET ROLE;
REVOKE USAGE ON SCHEMA dist_ddl FROM dist_ddl_coordinator_only_role;
DROP FUNCTION open_granted();
DROP TABLE cursor_keys;
REVOKE UPDATE ON granted FROM dist_ddl_app;
SET ROLE dist_ddl_app;
UPDATE granted SET qty = qty WHERE id = 3;
SELECT count(*) > 0 AS still_reads FROM granted WHERE id = 3;
RESET ROLE;
REVOKE ALL ON granted FROM dist_ddl_app, dist_ddl_coordinator_only_role;
-- a new owner too, where the role exists
ALTER TABLE granted OWNER TO dist_ddl_app;
\c regression - 127.0.0.1 :worker1_port
SELECT DISTINCT pg_get_userbyid(relowner) AS shard_owner FROM pg_class
 WHERE relname LIKE 'granted\_%' AND relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
ALTER TABLE granted OWNER TO dist_ddl_coordinator_only_role;
\c regression - 127.0.0.1 :worker1_port
SELECT DISTINCT pg_get_userbyid(relowner) AS shard_owner FROM pg_class
 WHERE relname LIKE 'granted\_%' AND relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
REVOKE USAGE ON SCHEMA dist_ddl FROM dist_ddl_app;
DROP TABLE granted;

-- a column whose name holds " FROM " (a node's one-shard union)
CREATE TABLE from_name (id int PRIMARY KEY, "x FROM y" int, z int);
INSERT INTO from_name SELECT g, g, g FROM generate_series(1, 10) g;
SELECT create_distributed_table('from_name', 'id', shard_count => 2);
SELECT sum(z), count(DISTINCT "x FROM y") FROM from_name;
DROP TABLE from_name;

-- privileges given before a table is distributed reach its shards (table and
-- column grants, grant options), a schema the nodes do not have yet arrives
-- with its privileges, and the table's owner owns the shards where the role
-- exists (here on worker 1 only)
\c regression - 127.0.0.1 :worker1_port
CREATE ROLE dist_ddl_owner;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
CREATE ROLE dist_ddl_owner;
CREATE SCHEMA dist_ddl_early AUTHORIZATION dist_ddl_owner;
GRANT USAGE ON SCHEMA dist_ddl_early TO dist_ddl_app;
CREATE TABLE dist_ddl_early.early (id int PRIMARY KEY, pub text, secret text);
INSERT INTO dist_ddl_early.early SELECT g, 'p' || g, 's' || g FROM generate_series(1, 10) g;
ALTER TABLE dist_ddl_early.early OWNER TO dist_ddl_owner;
GRANT SELECT (id, pub), UPDATE (pub) ON dist_ddl_early.early TO dist_ddl_app;
GRANT INSERT ON dist_ddl_early.early TO dist_ddl_app WITH GRANT OPTION;
SELECT create_distributed_table('dist_ddl_early.early', 'id', shard_count => 4);
SET ROLE dist_ddl_app;
SELECT id, pub FROM dist_ddl_early.early WHERE id = 3;
SELECT count(*) FROM dist_ddl_early.early;
SELECT pub, count(*) FROM dist_ddl_early.early WHERE id < 5 GROUP BY pub ORDER BY pub;
SELECT e.id, e.pub FROM dist_ddl_early.early e JOIN generate_series(2, 3) g ON e.id = g ORDER BY 1;
SELECT e.id, e.pub FROM dist_ddl_early.early e WHERE e.id < 3 UNION ALL SELECT 0, 'x' ORDER BY 1;
SELECT id, pub FROM dist_ddl_early.early ORDER BY id DESC LIMIT 2;
SELECT count(*) FROM dist_ddl_early.early e1 JOIN dist_ddl_early.early e2 USING (id);
SELECT count(*) FROM dist_ddl_early.early e1 JOIN dist_ddl_early.early e2 ON e1.id = e2.id
 WHERE e2.pub <> 'x';
UPDATE dist_ddl_early.early SET pub = 'q' WHERE id = 4;
INSERT INTO dist_ddl_early.early (id, pub) VALUES (11, 'p11');
SELECT secret FROM dist_ddl_early.early WHERE id = 3;
RESET ROLE;
SELECT id, pub, secret FROM dist_ddl_early.early WHERE id IN (4, 11) ORDER BY id;
\c regression - 127.0.0.1 :worker1_port
SELECT DISTINCT pg_get_userbyid(c.relowner) AS shard_owner, c.relacl::text AS shard_acl,
       (SELECT string_agg(a.attname || ' ' || a.attacl::text, ', ' ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL) AS column_acls
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl_early' AND c.relkind = 'r';
SELECT nspacl::text LIKE '%dist_ddl_app=U/%' AS schema_usage,
       pg_get_userbyid(nspowner) AS schema_owner FROM pg_namespace
 WHERE nspname = 'dist_ddl_early';
\c regression - 127.0.0.1 :worker2_port
SELECT DISTINCT c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned_by_node_role
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl_early' AND c.relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
-- GRANT ... ON ALL TABLES IN SCHEMA reaches the shards of the distributed ones
CREATE TABLE dist_ddl_early.later (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dist_ddl_early.later', 'id', shard_count => 2);
INSERT INTO dist_ddl_early.later VALUES (1, 'one');
SET ROLE dist_ddl_app;
SELECT v FROM dist_ddl_early.later WHERE id = 1;
RESET ROLE;
GRANT SELECT ON ALL TABLES IN SCHEMA dist_ddl_early TO dist_ddl_app;
SET ROLE dist_ddl_app;
SELECT v FROM dist_ddl_early.later WHERE id = 1;
SELECT count(*) FROM dist_ddl_early.early WHERE secret IS NOT NULL;
RESET ROLE;
REVOKE SELECT ON ALL TABLES IN SCHEMA dist_ddl_early FROM dist_ddl_app;
SET ROLE dist_ddl_app;
SELECT v FROM dist_ddl_early.later WHERE id = 1;
RESET ROLE;
DROP TABLE dist_ddl_early.later;
REVOKE USAGE ON SCHEMA dist_ddl_early FROM dist_ddl_app;
DROP TABLE dist_ddl_early.early;
DROP SCHEMA dist_ddl_early;
DROP ROLE dist_ddl_owner;
\c regression - 127.0.0.1 :worker1_port
DROP SCHEMA dist_ddl_early;
DROP ROLE dist_ddl_owner;
\c regression - 127.0.0.1 :worker2_port
DROP SCHEMA dist_ddl_early;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
-- INSERT privilege on some columns: an INSERT or COPY naming only those works,
-- as on a local twin, when the other columns' defaults are ones a shard
-- computes alike (constants, none); a default the coordinator computes
-- (now(), sequences) is sent, and the node role needs INSERT on its column
GRANT USAGE ON SCHEMA dist_ddl TO dist_ddl_app;
CREATE TABLE colpriv (id int PRIMARY KEY, a int, b int DEFAULT 7,
                      c text DEFAULT 'x' || 'y', e int, f varchar(5) DEFAULT 'abc',
                      t timestamptz DEFAULT now());
CREATE TABLE colpriv_local (LIKE colpriv INCLUDING ALL);
SELECT create_distributed_table('colpriv', 'id', shard_count => 4);
GRANT INSERT (id, a), SELECT (id, a), UPDATE (a) ON colpriv, colpriv_local TO dist_ddl_app;
GRANT INSERT (t) ON colpriv, colpriv_local TO dist_ddl_app;
SET ROLE dist_ddl_app;
DO $$
DECLARE
	tab text;
BEGIN
	FOREACH tab IN ARRAY ARRAY['colpriv', 'colpriv_local'] LOOP
		EXECUTE format('INSERT INTO %I (id, a) VALUES (1, 1)', tab);
		EXECUTE format('INSERT INTO %I (id, a) VALUES (2, 2), (3, 3)', tab);
		EXECUTE format('INSERT INTO %I (id, a) SELECT g, g FROM generate_series(4, 6) g', tab);
		EXECUTE format('INSERT INTO %I (id, a) VALUES ($1, $2)', tab) USING 7, 7;
		EXECUTE format('INSERT INTO %I (id, a) VALUES (1, 10) ON CONFLICT (id) DO UPDATE SET a = excluded.a', tab);
		EXECUTE format('INSERT INTO %I AS x (id, a) VALUES (8, 8) RETURNING x.id, x.a', tab);
	END LOOP;
END $$;
COPY colpriv (id, a) FROM STDIN;
9	9
10	10
\.
COPY colpriv_local (id, a) FROM STDIN;
9	9
10	10
\.
-- a column it may not insert into, named: refused as on the local twin
INSERT INTO colpriv (id, a, b) VALUES (20, 20, 20);
INSERT INTO colpriv_local (id, a, b) VALUES (20, 20, 20);
COPY colpriv (id, b) FROM STDIN;
\.
SELECT id, a FROM colpriv ORDER BY id;
RESET ROLE;
-- INSERT ... SELECT between co-located tables runs on the nodes
CREATE TABLE colpriv_src (id int PRIMARY KEY, a int);
INSERT INTO colpriv_src SELECT g, g * 2 FROM generate_series(11, 14) g;
CREATE TABLE colpriv_src_local AS SELECT * FROM colpriv_src;
SELECT create_distributed_table('colpriv_src', 'id', shard_count => 4, colocate_with => 'colpriv');
GRANT SELECT ON colpriv_src, colpriv_src_local TO dist_ddl_app;
SET ROLE dist_ddl_app;
INSERT INTO colpriv (id, a) SELECT id, a FROM colpriv_src;
INSERT INTO colpriv_local (id, a) SELECT id, a FROM colpriv_src_local;
RESET ROLE;
-- (without now() among the defaults, the nodes run it)
CREATE TABLE colpriv_pushed (id int PRIMARY KEY, a int, b int DEFAULT 7);
SELECT create_distributed_table('colpriv_pushed', 'id', shard_count => 4, colocate_with => 'colpriv');
GRANT INSERT (id, a), SELECT ON colpriv_pushed TO dist_ddl_app;
SET ROLE dist_ddl_app;
EXPLAIN (COSTS OFF) INSERT INTO colpriv_pushed (id, a) SELECT id, a FROM colpriv_src;
INSERT INTO colpriv_pushed (id, a) SELECT id, a FROM colpriv_src;
SELECT * FROM colpriv_pushed ORDER BY id;
RESET ROLE;
DROP TABLE colpriv_src, colpriv_src_local, colpriv_pushed;
REVOKE INSERT (t) ON colpriv FROM dist_ddl_app;
-- now() is the coordinator's: the node is asked for column t as well
SET ROLE dist_ddl_app;
INSERT INTO colpriv (id, a) VALUES (21, 21);
RESET ROLE;
-- a view's own default is the view's, not the table's
CREATE VIEW colpriv_view AS SELECT * FROM colpriv;
CREATE VIEW colpriv_local_view AS SELECT * FROM colpriv_local;
ALTER VIEW colpriv_view ALTER COLUMN b SET DEFAULT 99;
ALTER VIEW colpriv_local_view ALTER COLUMN b SET DEFAULT 99;
INSERT INTO colpriv_view (id, a) VALUES (30, 30);
INSERT INTO colpriv_local_view (id, a) VALUES (30, 30);
SELECT count(*) AS rows,
       (SELECT count(*) FROM (SELECT id, a, b, c, e, f FROM colpriv
                              EXCEPT SELECT id, a, b, c, e, f FROM colpriv_local) d) AS only_distributed,
       (SELECT count(*) FROM (SELECT id, a, b, c, e, f FROM colpriv_local
                              EXCEPT SELECT id, a, b, c, e, f FROM colpriv) d) AS only_local,
       count(*) FILTER (WHERE b = 99) AS view_default
  FROM colpriv;
REVOKE USAGE ON SCHEMA dist_ddl FROM dist_ddl_app;
DROP VIEW colpriv_view, colpriv_local_view;
DROP TABLE colpriv, colpriv_local;
-- shards get the defaults the nodes compute alike, written in the forms
-- they read back exactly whatever the session's settings when the table is
-- distributed; a column left out of an INSERT or COPY gets the same value
-- as on a local twin; a default the coordinator computes (now(), random())
-- is not on the shards, so dropping it leaves the column NULL everywhere
SET extra_float_digits = -10;
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Kolkata';
SET IntervalStyle = 'sql_standard';
SET standard_conforming_strings = off;
SET escape_string_warning = off;
CREATE TABLE styled (k int, f float8 DEFAULT '3.14159265358979',
                     h timestamptz DEFAULT '2020-01-02 03:04:05+00',
                     i interval DEFAULT '-1 day -2 hours', s text DEFAULT E'a\\b',
                     b bytea DEFAULT '\\x01ff', d date DEFAULT '2020-03-04',
                     g float8 GENERATED ALWAYS AS (f * '3.14159265358979'::float8) STORED,
                     t timestamptz DEFAULT now(), r float8 DEFAULT random());
CREATE TABLE styled_local (LIKE styled INCLUDING ALL);
SELECT create_distributed_table('styled', 'k', shard_count => 2);
RESET extra_float_digits;
RESET DateStyle;
RESET TimeZone;
RESET IntervalStyle;
RESET standard_conforming_strings;
RESET escape_string_warning;
ALTER TABLE styled ALTER COLUMN t DROP DEFAULT, ALTER COLUMN r DROP DEFAULT;
ALTER TABLE styled_local ALTER COLUMN t DROP DEFAULT, ALTER COLUMN r DROP DEFAULT;
INSERT INTO styled (k) VALUES (1), (2);
INSERT INTO styled_local (k) VALUES (1), (2);
COPY styled (k) FROM STDIN;
3
\.
COPY styled_local (k) FROM STDIN;
3
\.
SELECT (SELECT count(*) FROM (SELECT * FROM styled EXCEPT SELECT * FROM styled_local) d) AS only_distributed,
       (SELECT count(*) FROM (SELECT * FROM styled_local EXCEPT SELECT * FROM styled) d) AS only_local,
       (SELECT count(*) FROM styled WHERE t IS NULL AND r IS NULL) AS null_rows;
DROP TABLE styled, styled_local;
-- a default left to the nodes is still folded here, as the planner does
CREATE TABLE zero_default (k int, b int DEFAULT (1 / 0));
SELECT create_distributed_table('zero_default', 'k', shard_count => 2);
INSERT INTO zero_default (k) SELECT 1 WHERE false;
DROP TABLE zero_default;
-- a row whose every column the nodes would fill still sends one
CREATE TABLE all_defaults (a int DEFAULT 1, b text DEFAULT 'x');
SELECT create_reference_table('all_defaults');
INSERT INTO all_defaults DEFAULT VALUES;
INSERT INTO all_defaults SELECT FROM generate_series(1, 2);
SELECT a, b, count(*) FROM all_defaults GROUP BY a, b;
DROP TABLE all_defaults;
-- a reference table in a schema the role may not use does not stop its
-- writes to other reference tables, nor its reads of a view over it; GRANT
-- ... ON ALL TABLES IN SCHEMA of a schema holding a reference table (whose
-- coordinator copy lives there too) completes
CREATE SCHEMA dist_ddl_hidden;
CREATE TABLE dist_ddl_hidden.hidden_ref (id int PRIMARY KEY, v int);
SELECT create_reference_table('dist_ddl_hidden.hidden_ref');
INSERT INTO dist_ddl_hidden.hidden_ref VALUES (1, 10);
CREATE VIEW hidden_view AS SELECT * FROM dist_ddl_hidden.hidden_ref;
CREATE TABLE open_ref (id int PRIMARY KEY, v int);
SELECT create_reference_table('open_ref');
GRANT USAGE ON SCHEMA dist_ddl TO dist_ddl_app;
GRANT ALL ON open_ref TO dist_ddl_app;
GRANT SELECT ON hidden_view TO dist_ddl_app;
SET ROLE dist_ddl_app;
INSERT INTO open_ref VALUES (1, 1), (2, 2);
UPDATE open_ref SET v = v + 1 WHERE id = 1;
DELETE FROM open_ref WHERE id = 2;
SELECT * FROM open_ref;
SELECT * FROM hidden_view;
SELECT * FROM dist_ddl_hidden.hidden_ref;
RESET ROLE;
SET statement_timeout = '20s';
GRANT SELECT ON ALL TABLES IN SCHEMA dist_ddl_hidden TO dist_ddl_app;
GRANT USAGE ON SCHEMA dist_ddl_hidden TO dist_ddl_app;
SET ROLE dist_ddl_app;
SELECT * FROM dist_ddl_hidden.hidden_ref;
RESET ROLE;
REVOKE SELECT ON ALL TABLES IN SCHEMA dist_ddl_hidden FROM dist_ddl_app;
SET ROLE dist_ddl_app;
SELECT * FROM dist_ddl_hidden.hidden_ref;
RESET ROLE;
-- a statement that changes the coordinator's copies here and the
-- coordinator's connection to itself do not meet in one transaction: an
-- error says so, where both would wait for each other
BEGIN;
GRANT SELECT ON ALL TABLES IN SCHEMA dist_ddl_hidden TO dist_ddl_app;
INSERT INTO dist_ddl_hidden.hidden_ref VALUES (2, 20);
ROLLBACK;
BEGIN;
INSERT INTO dist_ddl_hidden.hidden_ref VALUES (2, 20);
REVOKE SELECT ON ALL TABLES IN SCHEMA dist_ddl_hidden FROM dist_ddl_app;
ROLLBACK;
RESET statement_timeout;
REVOKE USAGE ON SCHEMA dist_ddl_hidden FROM dist_ddl_app;
REVOKE USAGE ON SCHEMA dist_ddl FROM dist_ddl_app;
DROP VIEW hidden_view;
DROP TABLE open_ref, dist_ddl_hidden.hidden_ref;
DROP SCHEMA dist_ddl_hidden;
-- role memberships reach the nodes where both roles exist (privileges given
-- to a group role then work for its members there too), and so do new
-- owners from REASSIGN OWNED and ALTER SCHEMA ... OWNER TO
\c regression - 127.0.0.1 :worker1_port
CREATE ROLE dist_ddl_group;
\c regression - 127.0.0.1 :worker2_port
CREATE ROLE dist_ddl_group;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
CREATE ROLE dist_ddl_group;
CREATE TABLE grouped (id int PRIMARY KEY, v int);
SELECT create_distributed_table('grouped', 'id', shard_count => 2);
INSERT INTO grouped SELECT g, g FROM generate_series(1, 5) g;
GRANT USAGE ON SCHEMA dist_ddl TO dist_ddl_app;
GRANT SELECT ON grouped TO dist_ddl_group;
GRANT dist_ddl_group TO dist_ddl_app;
SET ROLE dist_ddl_app;
SELECT count(*) FROM grouped;
RESET ROLE;
\c regression - 127.0.0.1 :worker2_port
SELECT pg_has_role('dist_ddl_app', 'dist_ddl_group', 'member') AS member_on_node;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
REVOKE dist_ddl_group FROM dist_ddl_app;
\c regression - 127.0.0.1 :worker2_port
SELECT pg_has_role('dist_ddl_app', 'dist_ddl_group', 'member') AS member_on_node;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
REVOKE USAGE ON SCHEMA dist_ddl FROM dist_ddl_app;
DROP TABLE grouped;
CREATE SCHEMA dist_ddl_owned;
CREATE TABLE dist_ddl_owned.owned (id int PRIMARY KEY);
SELECT create_distributed_table('dist_ddl_owned.owned', 'id', shard_count => 2);
CREATE TABLE dist_ddl_owned.owned_ref (id int PRIMARY KEY);
SELECT create_reference_table('dist_ddl_owned.owned_ref');
ALTER TABLE dist_ddl_owned.owned OWNER TO dist_ddl_group;
ALTER TABLE dist_ddl_owned.owned_ref OWNER TO dist_ddl_group;
ALTER SCHEMA dist_ddl_owned OWNER TO dist_ddl_group;
SET statement_timeout = '20s';
REASSIGN OWNED BY dist_ddl_group TO dist_ddl_app;
RESET statement_timeout;
SELECT DISTINCT pg_get_userbyid(c.relowner) AS coordinator_owner, n.nspname,
       pg_get_userbyid(n.nspowner) AS schema_owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl_owned' AND c.relkind = 'r';
\c regression - 127.0.0.1 :worker1_port
SELECT DISTINCT pg_get_userbyid(c.relowner) AS shard_owner,
       pg_get_userbyid(n.nspowner) AS schema_owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl_owned' AND c.relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
ALTER SCHEMA dist_ddl_owned OWNER TO postgres;
\c regression - 127.0.0.1 :worker1_port
SELECT pg_get_userbyid(nspowner) AS schema_owner FROM pg_namespace
 WHERE nspname = 'dist_ddl_owned';
-- an empty schema a node has already (one a rename or drop here left
-- there) goes to the owner of the schema its new tables are in
CREATE SCHEMA dist_ddl_stale;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
CREATE SCHEMA dist_ddl_stale AUTHORIZATION dist_ddl_group;
CREATE TABLE dist_ddl_stale.t (id int PRIMARY KEY);
SELECT create_distributed_table('dist_ddl_stale.t', 'id', shard_count => 2);
\c regression - 127.0.0.1 :worker1_port
SELECT pg_get_userbyid(nspowner) AS stale_schema_owner FROM pg_namespace
 WHERE nspname = 'dist_ddl_stale';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
DROP SCHEMA dist_ddl_stale CASCADE;
-- (the nodes keep the empty schema)
\c regression - 127.0.0.1 :worker1_port
DROP SCHEMA dist_ddl_stale;
-- ... also when the owner here is the nodes' connecting role, and without
-- the privileges it had, which were another schema's
CREATE SCHEMA dist_ddl_stale2 AUTHORIZATION dist_ddl_group;
GRANT USAGE, CREATE ON SCHEMA dist_ddl_stale2 TO PUBLIC;
\c regression - 127.0.0.1 :worker2_port
DROP SCHEMA dist_ddl_stale;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
CREATE SCHEMA dist_ddl_stale2;
GRANT USAGE ON SCHEMA dist_ddl_stale2 TO dist_ddl_group;
CREATE TABLE dist_ddl_stale2.t (id int PRIMARY KEY);
SELECT create_distributed_table('dist_ddl_stale2.t', 'id', shard_count => 2);
\c regression - 127.0.0.1 :worker1_port
SELECT pg_get_userbyid(nspowner) AS stale_schema_owner, nspacl FROM pg_namespace
 WHERE nspname = 'dist_ddl_stale2';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
DROP SCHEMA dist_ddl_stale2 CASCADE;
\c regression - 127.0.0.1 :worker1_port
DROP SCHEMA dist_ddl_stale2;
-- a node schema with other objects (a function) keeps its privileges
CREATE SCHEMA dist_ddl_stale3;
GRANT USAGE ON SCHEMA dist_ddl_stale3 TO PUBLIC;
CREATE FUNCTION dist_ddl_stale3.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
\c regression - 127.0.0.1 :worker2_port
DROP SCHEMA dist_ddl_stale2;
\c regression - 127.0.0.1 :coord_port
CREATE SCHEMA dist_ddl_stale3;
CREATE TABLE dist_ddl_stale3.t (id int PRIMARY KEY);
SET client_min_messages = warning;
SELECT create_distributed_table('dist_ddl_stale3.t', 'id', shard_count => 2);
RESET client_min_messages;
\c regression - 127.0.0.1 :worker1_port
SELECT array_to_string(nspacl, ',') ~ '(^|,)=U/' AS public_usage_kept FROM pg_namespace
 WHERE nspname = 'dist_ddl_stale3';
\c regression - 127.0.0.1 :coord_port
DROP SCHEMA dist_ddl_stale3 CASCADE;
\c regression - 127.0.0.1 :worker1_port
DROP SCHEMA dist_ddl_stale3 CASCADE;
\c regression - 127.0.0.1 :worker2_port
DROP SCHEMA dist_ddl_stale3;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
-- DROP OWNED takes the role's privileges on the shards too (the role can
-- then be dropped on the nodes)
GRANT SELECT ON dist_ddl_owned.owned, dist_ddl_owned.owned_ref TO dist_ddl_group;
GRANT USAGE ON SCHEMA dist_ddl_owned TO dist_ddl_group;
SET statement_timeout = '20s';
DROP OWNED BY dist_ddl_group;
RESET statement_timeout;
\c regression - 127.0.0.1 :worker1_port
SELECT count(*) AS grants_left FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl_owned'
   AND (c.relacl::text LIKE '%dist_ddl_group%' OR n.nspacl::text LIKE '%dist_ddl_group%');
DROP ROLE dist_ddl_group;
\c regression - 127.0.0.1 :worker2_port
DROP ROLE dist_ddl_group;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
-- a schema whose distributed tables are gone stays on the nodes and keeps
-- getting the privileges given here
CREATE TABLE keeper (id int PRIMARY KEY);
SELECT create_distributed_table('keeper', 'id', shard_count => 2);
DROP TABLE dist_ddl_owned.owned, dist_ddl_owned.owned_ref;
GRANT USAGE, CREATE ON SCHEMA dist_ddl_owned TO dist_ddl_app;
\c regression - 127.0.0.1 :worker1_port
SELECT nspacl::text LIKE '%dist_ddl_app=UC/%' AS granted_on_node FROM pg_namespace
 WHERE nspname = 'dist_ddl_owned';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
REVOKE CREATE ON SCHEMA dist_ddl_owned FROM dist_ddl_app;
\c regression - 127.0.0.1 :worker1_port
SELECT nspacl::text LIKE '%dist_ddl_app=U/%' AS revoked_on_node FROM pg_namespace
 WHERE nspname = 'dist_ddl_owned';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
REVOKE USAGE ON SCHEMA dist_ddl_owned FROM dist_ddl_app;
DROP TABLE keeper;
DROP SCHEMA dist_ddl_owned CASCADE;
DROP ROLE dist_ddl_group;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR dist_ddl_app SERVER %I', s);
	END LOOP;
END $$;
DROP ROLE dist_ddl_app, dist_ddl_coordinator_only_role;
\c regression - 127.0.0.1 :worker1_port
DROP ROLE dist_ddl_app;
\c regression - 127.0.0.1 :worker2_port
DROP ROLE dist_ddl_app;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
-- storage parameters, column storage, compression and statistics targets
-- reach the shards: when they are made and when they change
\set physical_settings_function 'CREATE FUNCTION public.physical_settings(rel regclass) RETURNS text LANGUAGE sql AS $$ SELECT coalesce(c.reloptions::text, ''-'') || '' toast '' || coalesce(t.reloptions::text, ''-'') || '' '' || string_agg(a.attname || '':'' || a.attstorage::text || '':'' || coalesce(nullif(a.attcompression::text, ''''), ''-'') || '':'' || a.attstattarget, '' '' ORDER BY a.attname) FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.oid = rel GROUP BY c.reloptions, t.reloptions $$;'
:physical_settings_function
CREATE TABLE tuned (id int PRIMARY KEY, body text COMPRESSION pglz, doc jsonb, amount numeric)
	WITH (fillfactor = 70, autovacuum_enabled = false, toast.autovacuum_enabled = false);
ALTER TABLE tuned ALTER COLUMN body SET STATISTICS 300, ALTER COLUMN doc SET STORAGE EXTERNAL;
SELECT create_distributed_table('tuned', 'id', shard_count => 2);
SELECT physical_settings('tuned') AS wanted \gset
SELECT shard_name AS s0, port AS s0_port FROM shard0('tuned') \gset
\c regression - 127.0.0.1 :s0_port
:physical_settings_function
SELECT physical_settings(('dist_ddl.' || :'s0')::regclass) = :'wanted' AS shard_made_alike;
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
ALTER TABLE tuned SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE tuned RESET (autovacuum_enabled, toast.autovacuum_enabled);
ALTER TABLE tuned ALTER COLUMN amount SET STORAGE MAIN, ALTER COLUMN amount SET STATISTICS 10;
ALTER TABLE tuned ADD COLUMN extra text COMPRESSION pglz, ALTER COLUMN doc SET COMPRESSION pglz;
-- a type change resets storage and compression, keeps the statistics target
ALTER TABLE tuned ALTER COLUMN body TYPE varchar(20), ALTER COLUMN doc SET STORAGE MAIN;
ALTER TABLE tuned ALTER COLUMN amount SET STATISTICS -1;
SELECT physical_settings('tuned') AS wanted \gset
SELECT :'wanted' AS coordinator_settings;
\c regression - 127.0.0.1 :s0_port
SELECT physical_settings(('dist_ddl.' || :'s0')::regclass) = :'wanted' AS shard_changed_alike;
DROP FUNCTION public.physical_settings(regclass);
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
DROP TABLE tuned;
DROP FUNCTION public.physical_settings(regclass);

-- row level security cannot be enabled on a distributed table
CREATE TABLE secured (id int PRIMARY KEY);
SELECT create_distributed_table('secured', 'id', shard_count => 2);
ALTER TABLE secured ENABLE ROW LEVEL SECURITY;
SELECT relrowsecurity FROM pg_class WHERE oid = 'secured'::regclass;
DROP TABLE secured;
DROP FUNCTION public.shard0(regclass);
DROP TABLE public.dist_ddl_ports;

-- the replica identity reaches the shards (for logical replication of the
-- shards from the nodes), at creation and when it changes
SET search_path = dist_ddl, public;
CREATE TABLE repl_id (id int PRIMARY KEY, u int NOT NULL, v int);
CREATE UNIQUE INDEX repl_id_u ON repl_id (id, u);
ALTER TABLE repl_id REPLICA IDENTITY FULL;
SET client_min_messages = warning;
SELECT create_distributed_table('repl_id', 'id', shard_count => 2);
RESET client_min_messages;
\c regression - 127.0.0.1 :worker1_port
SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl' AND c.relname LIKE 'repl\_id\_%' AND c.relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
ALTER TABLE repl_id REPLICA IDENTITY USING INDEX repl_id_u;
ALTER INDEX repl_id_u RENAME TO repl_id_u2;
\c regression - 127.0.0.1 :worker1_port
SELECT c.relreplident, i.relname ~ '^repl_id_u2_' AS renamed_index
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_index x ON x.indrelid = c.oid AND x.indisreplident
  JOIN pg_class i ON i.oid = x.indexrelid
 WHERE n.nspname = 'dist_ddl' AND c.relname LIKE 'repl\_id\_%' AND c.relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
-- without its index, the identity is as NOTHING on the shards too
DROP INDEX repl_id_u2;
\c regression - 127.0.0.1 :worker1_port
SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl' AND c.relname LIKE 'repl\_id\_%' AND c.relkind = 'r';
\c regression - 127.0.0.1 :coord_port
SET search_path = dist_ddl, public;
ALTER TABLE repl_id REPLICA IDENTITY DEFAULT;
\c regression - 127.0.0.1 :worker1_port
SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'dist_ddl' AND c.relname LIKE 'repl\_id\_%' AND c.relkind = 'r';
\c regression - 127.0.0.1 :coord_port
DROP TABLE dist_ddl.repl_id;
