--
-- Schema changes the shape difference alone does not describe: ALTER COLUMN
-- TYPE ... USING (also to the same type), DROP EXPRESSION, renaming the
-- distribution column, renaming a schema, odd names.  A local table that
-- gets the same statements is the oracle.
--
SELECT setval('shardext.shard_id_seq', 500000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA conv;
SET search_path = conv, public;
SET client_min_messages = warning;

CREATE TABLE t (id int PRIMARY KEY, a int, s text, b int);
INSERT INTO t SELECT g, g, 'x' || g, g FROM generate_series(1, 20) g;
CREATE TABLE local_t AS SELECT * FROM t;
SELECT create_distributed_table('t', 'id', shard_count => 4);
CREATE TABLE r (id int PRIMARY KEY, name text);
INSERT INTO r VALUES (1, 'one'), (2, 'two');
CREATE TABLE local_r AS SELECT * FROM r;
SELECT create_reference_table('r');
RESET client_min_messages;

-- the rows of a table as one text, to compare with the oracle
CREATE FUNCTION rows_of(tab regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	EXECUTE format('SELECT string_agg(x::text, %L ORDER BY x::text) FROM %s x', '|', tab)
	  INTO result;
	RETURN result;
END $$;

-- USING converts every shard's rows as it converts the local table's,
-- also when the type stays the same
ALTER TABLE t ALTER COLUMN a TYPE int USING a * 100;
ALTER TABLE local_t ALTER COLUMN a TYPE int USING a * 100;
ALTER TABLE t ALTER COLUMN s TYPE varchar(5) USING s || 'yz', ALTER COLUMN b TYPE text USING (b * 10)::text;
ALTER TABLE local_t ALTER COLUMN s TYPE varchar(5) USING s || 'yz', ALTER COLUMN b TYPE text USING (b * 10)::text;
SELECT rows_of('t') = rows_of('local_t') AS same_rows, sum(a) FROM t;
SELECT s, b FROM t WHERE id = 2;
ALTER TABLE t ALTER COLUMN b TYPE int USING length(b);
ALTER TABLE local_t ALTER COLUMN b TYPE int USING length(b);
SELECT rows_of('t') = rows_of('local_t') AS same_rows;
ALTER TABLE r ALTER COLUMN name TYPE varchar(10) USING upper(name);
ALTER TABLE local_r ALTER COLUMN name TYPE varchar(10) USING upper(name);
SELECT rows_of('r') = rows_of('local_r') AS same_rows, string_agg(name, ',' ORDER BY id) FROM r;
-- expressions each node would compute its own way are refused
ALTER TABLE t ALTER COLUMN b TYPE text USING now()::text;
ALTER TABLE r ALTER COLUMN name TYPE text USING name || random();

-- a router statement prepared on the node before the type changed returns
-- the new type afterwards
SELECT a FROM t WHERE id = 3;
ALTER TABLE t ALTER COLUMN a TYPE numeric USING a / 3.0;
SELECT a FROM t WHERE id = 3;
UPDATE t SET a = a + 1 WHERE id = 3 RETURNING a;

-- an added column whose default is not immutable gets the coordinator's
-- values (now() is the transaction's time, the same on every node)
BEGIN;
ALTER TABLE t ADD COLUMN ts timestamptz DEFAULT now();
SELECT count(DISTINCT ts) AS values, bool_and(ts = now()) AS all_now FROM t;
COMMIT;
SET edges_tag.v = 'tagged';
ALTER TABLE t ADD COLUMN tag text DEFAULT current_setting('edges_tag.v');
SELECT DISTINCT tag FROM t;
INSERT INTO t (id, a) VALUES (100, 1);
SELECT tag, ts IS NOT NULL AS has_ts FROM t WHERE id = 100;
RESET edges_tag.v;

-- DROP EXPRESSION leaves an ordinary column on every shard
CREATE TABLE g (id int PRIMARY KEY, a int, x int GENERATED ALWAYS AS (a * 2) STORED);
SELECT create_distributed_table('g', 'id', shard_count => 4);
INSERT INTO g (id, a) VALUES (1, 5), (2, 6);
ALTER TABLE g ALTER COLUMN x DROP EXPRESSION;
INSERT INTO g (id, a, x) VALUES (3, 1, 7);
UPDATE g SET a = 100 WHERE id = 1;
SELECT * FROM g ORDER BY id;

-- the distribution column can be renamed; routing goes on by its new name
CREATE TABLE rn (id int PRIMARY KEY, v int);
SELECT create_distributed_table('rn', 'id', shard_count => 4);
INSERT INTO rn SELECT g, g * 10 FROM generate_series(1, 10) g;
ALTER TABLE rn RENAME COLUMN id TO key;
SELECT distribution_column FROM shardext.tables WHERE table_name = 'rn'::regclass;
SELECT v FROM rn WHERE key = 7;
EXPLAIN (COSTS OFF) SELECT v FROM rn WHERE key = 7;
INSERT INTO rn VALUES (11, 110);
SELECT count(*), sum(v) FROM rn;

-- an index on a table whose name holds " USING "
CREATE TABLE "odd USING name" (id int PRIMARY KEY, a text);
SELECT create_distributed_table('"odd USING name"', 'id', shard_count => 2);
CREATE INDEX odd_a ON "odd USING name" (a);
INSERT INTO "odd USING name" VALUES (1, 'one');
SELECT * FROM "odd USING name" WHERE a = 'one';

-- renaming a schema moves the shards (and the coordinator's copies of
-- reference tables) with it; later changes find them
CREATE SCHEMA conv_old;
CREATE TABLE conv_old.h (id int PRIMARY KEY, v int);
INSERT INTO conv_old.h SELECT g, g FROM generate_series(1, 10) g;
SELECT create_distributed_table('conv_old.h', 'id', shard_count => 4);
CREATE UNIQUE INDEX h_idv ON conv_old.h (id, v);
CREATE TABLE conv_old.ref (id int PRIMARY KEY);
INSERT INTO conv_old.ref VALUES (1);
SELECT create_reference_table('conv_old.ref');
ALTER SCHEMA conv_old RENAME TO conv_new;
SELECT count(*) FROM conv_new.h;
SELECT * FROM conv_new.ref;
INSERT INTO conv_new.ref VALUES (2);
SELECT count(*) FROM conv_new.ref;
ALTER TABLE conv_new.h RENAME TO h2;
DROP INDEX conv_new.h_idv;
INSERT INTO conv_new.h2 VALUES (11, 11);
SELECT count(*) FROM conv_new.h2;
SELECT count(*) AS shards_elsewhere FROM shardext.shards
 WHERE table_name IN ('conv_new.h2'::regclass, 'conv_new.ref'::regclass)
   AND shard_relation NOT LIKE 'conv_new.%';

SET client_min_messages = warning;
DROP SCHEMA conv_new CASCADE;
DROP SCHEMA conv CASCADE;

-- ADD COLUMN and a change of its default in one statement: PostgreSQL fills
-- the rows with ADD's default, the shards would get the final one; refused
CREATE TABLE conv_defaults (id int PRIMARY KEY);
SET client_min_messages = warning;
SELECT create_distributed_table('conv_defaults', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO conv_defaults VALUES (1), (2);
ALTER TABLE conv_defaults ADD COLUMN x int DEFAULT 5, ALTER COLUMN x SET DEFAULT 6;
ALTER TABLE conv_defaults ADD COLUMN y int, ALTER COLUMN y SET DEFAULT 6;
ALTER TABLE conv_defaults ADD COLUMN x int DEFAULT 5;
ALTER TABLE conv_defaults ALTER COLUMN x SET DEFAULT 6, ADD COLUMN y int DEFAULT 7;
INSERT INTO conv_defaults (id) VALUES (3);
SELECT * FROM conv_defaults ORDER BY id;
DROP TABLE conv_defaults;

-- an added column's default that writes a float as text is computed in this
-- session's style (extra_float_digits 0 here) on the coordinator; generated
-- columns and CHECKs doing so, which the nodes compute, are refused with a
-- message that says why
CREATE TABLE conv_style (id int PRIMARY KEY, f float8);
SET client_min_messages = warning;
SELECT create_distributed_table('conv_style', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO conv_style VALUES (1, 0.1), (2, 0.2);
SET extra_float_digits = 0;
ALTER TABLE conv_style ADD COLUMN s text DEFAULT (0.1::float8 + 0.2::float8)::text;
SELECT * FROM conv_style ORDER BY id;
ALTER TABLE conv_style ADD COLUMN g text GENERATED ALWAYS AS (f::text) STORED;
ALTER TABLE conv_style ADD CONSTRAINT c CHECK (f::text <> 'x');
-- geometric values are written with floats too
ALTER TABLE conv_style ADD COLUMN sp text DEFAULT point(0.1::float8 + 0.2, 1)::text;
SELECT id, sp FROM conv_style ORDER BY id;
ALTER TABLE conv_style ADD COLUMN gp text GENERATED ALWAYS AS (box(point(f, f), point(1, 1))::text) STORED;
RESET extra_float_digits;
-- nor are rows written into a table with one, from such a session
ALTER TABLE conv_style ADD COLUMN g text GENERATED ALWAYS AS (f::text) STORED;
SET DateStyle = ISO;
SET IntervalStyle = postgres;
CREATE TABLE conv_checked (id int PRIMARY KEY, d date CHECK (d::text NOT LIKE '01.%'));
SET client_min_messages = warning;
SELECT create_distributed_table('conv_checked', 'id', shard_count => 2);
RESET client_min_messages;
SET extra_float_digits = 0;
INSERT INTO conv_style (id, f) VALUES (3, 0.1::float8 + 0.2);
UPDATE conv_style SET f = 1 WHERE id = 1;
COPY conv_style (id, f) FROM STDIN;
4	0.5
\.
INSERT INTO conv_checked VALUES (1, '2020-02-01');
-- (writes in a data-modifying WITH too)
WITH i AS (INSERT INTO conv_style (id, f) VALUES (5, 0.1::float8 + 0.2) RETURNING id) SELECT * FROM i;
WITH u AS (UPDATE conv_style SET f = 0.1::float8 + 0.2 WHERE id = 1 RETURNING id) SELECT * FROM u;
DELETE FROM conv_style WHERE id = 2;
RESET extra_float_digits;
SET DateStyle = German;
INSERT INTO conv_checked VALUES (2, '2020-02-01');
SET DateStyle = ISO;
SELECT * FROM conv_checked ORDER BY id;
RESET DateStyle;
RESET IntervalStyle;
INSERT INTO conv_style (id, f) VALUES (3, 0.1::float8 + 0.2);
SELECT id, f, g FROM conv_style ORDER BY id;
DROP TABLE conv_style, conv_checked;

-- conversions in one statement read the row as it was; constraints added
-- with a column the coordinator fills see its values; a domain's default
-- fills an added column but stays the domain's
CREATE TABLE conv_multi (k int PRIMARY KEY, b int, a int, d int);
SET client_min_messages = warning;
SELECT create_distributed_table('conv_multi', 'k', shard_count => 2);
RESET client_min_messages;
INSERT INTO conv_multi SELECT g, g, 100 * g, g FROM generate_series(1, 4) g;
CREATE TABLE local_multi AS SELECT * FROM conv_multi;
ALTER TABLE conv_multi ALTER COLUMN b TYPE bigint USING b * 10, ALTER COLUMN a TYPE bigint USING a + b;
ALTER TABLE local_multi ALTER COLUMN b TYPE bigint USING b * 10, ALTER COLUMN a TYPE bigint USING a + b;
ALTER TABLE conv_multi ALTER COLUMN a TYPE numeric USING a + d, DROP COLUMN d;
ALTER TABLE local_multi ALTER COLUMN a TYPE numeric USING a + d, DROP COLUMN d;
SELECT (SELECT string_agg(x::text, '|' ORDER BY x.k) FROM conv_multi x) =
	(SELECT string_agg(x::text, '|' ORDER BY x.k) FROM local_multi x) AS same_rows;
SELECT * FROM conv_multi ORDER BY k;
CREATE SEQUENCE conv_seq;
ALTER TABLE conv_multi ADD COLUMN n bigint DEFAULT nextval('conv_seq') CHECK (n IS NOT NULL);
ALTER TABLE conv_multi ADD COLUMN c timestamptz DEFAULT now() CHECK (c IS NOT NULL);
SELECT count(*) FILTER (WHERE n IS NOT NULL AND c IS NOT NULL) FROM conv_multi;
CREATE DOMAIN conv_dom AS text DEFAULT 'dom1';
ALTER TABLE conv_multi ADD COLUMN dd conv_dom;
ALTER DOMAIN conv_dom DROP DEFAULT;
INSERT INTO conv_multi (k, b, a) VALUES (5, 5, 5);
SELECT k, dd FROM conv_multi ORDER BY k;
CREATE DOMAIN conv_nn AS bigint NOT NULL CHECK (VALUE > 0);
ALTER TABLE conv_multi ADD COLUMN nn conv_nn DEFAULT nextval('conv_seq');
SELECT count(*) FILTER (WHERE nn IS NOT NULL) FROM conv_multi;
DROP TABLE conv_multi, local_multi;
DROP DOMAIN conv_dom, conv_nn;
DROP SEQUENCE conv_seq;

-- a default that writes a float as text, set in a session with
-- extra_float_digits 0: the rows an added column has are filled here in that
-- style, and the shards keep the default for rows inserted later
CREATE TABLE conv_float (k int PRIMARY KEY, f text DEFAULT 'x');
CREATE TABLE local_float (k int PRIMARY KEY, f text DEFAULT 'x');
SET client_min_messages = warning;
SELECT create_distributed_table('conv_float', 'k', shard_count => 2);
RESET client_min_messages;
INSERT INTO conv_float VALUES (1);
INSERT INTO local_float VALUES (1);
SET extra_float_digits = 0;
ALTER TABLE conv_float ALTER COLUMN f SET DEFAULT (1::float8 / 3)::text;
ALTER TABLE local_float ALTER COLUMN f SET DEFAULT (1::float8 / 3)::text;
ALTER TABLE conv_float ADD COLUMN g text DEFAULT (0.1::float8 + 0.2)::text;
ALTER TABLE local_float ADD COLUMN g text DEFAULT (0.1::float8 + 0.2)::text;
RESET extra_float_digits;
INSERT INTO conv_float (k) VALUES (2);
INSERT INTO local_float (k) VALUES (2);
SELECT (SELECT string_agg(x::text, '|' ORDER BY x.k) FROM conv_float x) =
	(SELECT string_agg(x::text, '|' ORDER BY x.k) FROM local_float x) AS same_rows;
SELECT * FROM conv_float ORDER BY k;
DROP TABLE conv_float, local_float;

-- DROP COLUMN ... CASCADE of a column a generated column reads drops both,
-- on the shards too (of a reference table as well)
CREATE TABLE conv_gen (k int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED, b text);
CREATE TABLE conv_gen_ref (k int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED, b text);
SET client_min_messages = warning;
SELECT create_distributed_table('conv_gen', 'k', shard_count => 2);
SELECT create_reference_table('conv_gen_ref');
RESET client_min_messages;
INSERT INTO conv_gen (k, a, b) VALUES (1, 10, 'x'), (2, 20, 'y');
INSERT INTO conv_gen_ref (k, a, b) VALUES (1, 10, 'x');
ALTER TABLE conv_gen DROP COLUMN a CASCADE;
ALTER TABLE conv_gen_ref DROP COLUMN a CASCADE;
SELECT * FROM conv_gen ORDER BY k;
SELECT * FROM conv_gen_ref ORDER BY k;
INSERT INTO conv_gen VALUES (3, 'z');
SELECT count(*) FROM conv_gen;
-- ... but a view of the coordinator's copy of a reference table still
-- keeps its column, as a view of a table does without CASCADE
CREATE TABLE conv_viewed (k int PRIMARY KEY, a int, b int);
SET client_min_messages = warning;
SELECT create_reference_table('conv_viewed');
RESET client_min_messages;
SELECT shard_relation AS viewed_copy FROM shardext.shards WHERE table_name = 'conv_viewed'::regclass \gset
CREATE VIEW conv_copy_view AS SELECT k, a FROM :viewed_copy;
\set VERBOSITY terse
ALTER TABLE conv_viewed DROP COLUMN a;
\set VERBOSITY default
ALTER TABLE conv_viewed DROP COLUMN b;
SELECT * FROM conv_viewed;
DROP VIEW conv_copy_view;
DROP TABLE conv_gen, conv_gen_ref, conv_viewed;

-- errors name the table, also when its name has a double quote in it
CREATE TABLE "conv""q" (k int PRIMARY KEY CHECK (k > 0), a int NOT NULL);
SET client_min_messages = warning;
SELECT create_distributed_table('"conv""q"', 'k', shard_count => 2);
RESET client_min_messages;
INSERT INTO "conv""q" VALUES (-1, 1);
INSERT INTO "conv""q" VALUES (1, NULL);
INSERT INTO "conv""q" VALUES (1, 1);
INSERT INTO "conv""q" VALUES (1, 1);
DROP TABLE "conv""q";
