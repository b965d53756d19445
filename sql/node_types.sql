--
-- Enum types and domains in distributed and reference tables: shardext
-- creates them on the nodes and carries their changes there.  Local twins
-- of the tables, using the same types, are the oracle.
--
SELECT setval('shardext.shard_id_seq', 700000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA nt;
SET search_path = nt, public;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN dmood AS mood NOT NULL CONSTRAINT not_sad CHECK (VALUE <> 'sad');
CREATE DOMAIN code AS text COLLATE "C" CHECK (length(VALUE) <= 4);

CREATE TABLE t (id int PRIMARY KEY, m mood, p posint, dm dmood, ms mood[], c code);
CREATE TABLE lt (LIKE t INCLUDING ALL);
CREATE TABLE r (k mood PRIMARY KEY, label text);
CREATE TABLE lr (LIKE r INCLUDING ALL);
SET client_min_messages = warning;
SELECT create_distributed_table('t', 'id', shard_count => 4);
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

-- the same query on the distributed table and its twin gives the same rows
CREATE FUNCTION same(query text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	d text;
	l text;
BEGIN
	EXECUTE format('SELECT string_agg(x::text, %L) FROM (%s) x', '|', query) INTO d;
	EXECUTE format('SELECT string_agg(x::text, %L) FROM (%s) x', '|',
				   replace(replace(query, ' t ', ' lt '), ' r ', ' lr ')) INTO l;
	IF d IS DISTINCT FROM l THEN
		RAISE NOTICE 'distributed: %', d;
		RAISE NOTICE 'local:       %', l;
	END IF;
	RETURN d IS NOT DISTINCT FROM l;
END $$;

INSERT INTO t VALUES (1, 'happy', 5, 'ok', '{sad,happy}', 'ab'),
	(2, 'sad', 7, 'happy', NULL, 'abcd'), (3, 'ok', 1, 'ok', '{ok}', NULL),
	(4, NULL, NULL, 'happy', '{}', 'zz');
INSERT INTO lt SELECT * FROM t;
INSERT INTO r VALUES ('happy', 'yay'), ('ok', 'fine'), ('sad', 'meh');
INSERT INTO lr SELECT * FROM r;

-- filters, grouping and ordering by the enum's order are computed on the nodes
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM t WHERE m > 'sad';
SELECT same('SELECT id FROM t WHERE m > ''sad'' ORDER BY id');
SELECT same('SELECT m, count(*), max(p), min(dm::mood) FROM t GROUP BY m ORDER BY m');
SELECT same('SELECT id, m FROM t ORDER BY m DESC NULLS LAST, id LIMIT 3');
SELECT same('SELECT max(m), min(m), array_agg(m ORDER BY m) FROM t');
SELECT same('SELECT id FROM t WHERE ''happy'' = ANY (ms) ORDER BY id');
SELECT same('SELECT x.id, y.label FROM t x JOIN r y ON y.k = x.m ORDER BY 1');
SELECT same('SELECT id FROM t WHERE c < ''b'' ORDER BY id');
SELECT same('SELECT id FROM t WHERE p::int > 4 AND dm::mood = ''ok'' ORDER BY id');

-- parameters of enum and domain types, custom and generic plans
PREPARE by_mood(mood) AS SELECT id FROM t WHERE m = $1 ORDER BY id;
PREPARE by_both(int, mood) AS SELECT id, m FROM t WHERE id = $1 AND dm::mood = $2;
EXECUTE by_mood('happy'); EXECUTE by_mood('ok'); EXECUTE by_mood('sad');
EXECUTE by_mood('happy'); EXECUTE by_mood('ok'); EXECUTE by_mood('sad');
EXECUTE by_mood('happy');
EXECUTE by_both(1, 'ok'); EXECUTE by_both(1, 'ok'); EXECUTE by_both(1, 'ok');
EXECUTE by_both(1, 'ok'); EXECUTE by_both(1, 'ok'); EXECUTE by_both(1, 'ok');
EXECUTE by_both(2, 'happy');
EXECUTE by_both(2, 'sad');

-- domain checks: on the coordinator for values it reads, on the nodes for
-- values they compute; PostgreSQL's messages either way
INSERT INTO t VALUES (5, 'ok', -1, 'ok');
INSERT INTO t VALUES (5, 'ok', 1, 'sad');
INSERT INTO t VALUES (5, 'ok', 1, NULL);
INSERT INTO t (id, m) VALUES (5, 'ok');
UPDATE t SET p = p - 5 WHERE id = 1;
UPDATE t SET p = p - 5;
UPDATE lt SET p = p - 5;
UPDATE t SET c = c || 'xyz' WHERE id = 2;
COPY t (id, m, p, dm) FROM stdin;
10	ok	3	happy
11	happy	4	ok
\.
COPY lt (id, m, p, dm) FROM stdin;
10	ok	3	happy
11	happy	4	ok
\.
COPY t (id, m, p, dm) FROM stdin;
12	bogus	3	happy
\.
SELECT rows_of('t') = rows_of('lt') AS same_rows;

-- a new label, between others: the nodes sort it where the coordinator does
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
INSERT INTO t VALUES (6, 'meh', 2, 'meh');
INSERT INTO lt VALUES (6, 'meh', 2, 'meh');
SELECT same('SELECT id, m FROM t ORDER BY m, id LIMIT 4');
SELECT same('SELECT id FROM t WHERE m < ''ok'' ORDER BY id');
ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh';
ALTER TYPE mood RENAME VALUE 'meh' TO 'so-so';
SELECT same('SELECT id FROM t WHERE m = ''so-so'' ORDER BY id');
INSERT INTO r VALUES ('so-so', 'hmm');
INSERT INTO lr VALUES ('so-so', 'hmm');
SELECT same('SELECT x.id, y.label FROM t x JOIN r y ON y.k = x.m ORDER BY 1');

-- domain constraints come and go on the nodes too
-- (the distributed table alone has the rows that break them: its nodes check)
ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 100);
UPDATE t SET p = 200 WHERE id = 2;
ALTER DOMAIN posint DROP CONSTRAINT small;
UPDATE t SET p = 200 WHERE id = 2;
ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 100);
ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 100) NOT VALID;
UPDATE t SET p = 150 WHERE id = 3;
ALTER DOMAIN posint VALIDATE CONSTRAINT small;
UPDATE t SET p = 7 WHERE id = 2;
ALTER DOMAIN posint VALIDATE CONSTRAINT small;
ALTER DOMAIN posint RENAME CONSTRAINT small TO below_100;
UPDATE t SET p = 150 WHERE id = 3;
ALTER DOMAIN posint DROP CONSTRAINT below_100;
UPDATE t SET p = 200 WHERE id = 2;
UPDATE lt SET p = 200 WHERE id = 2;
UPDATE t SET p = NULL WHERE id = 3;
ALTER DOMAIN posint SET NOT NULL;
UPDATE t SET p = 1 WHERE id = 3;
UPDATE t SET c = 'q' WHERE c IS NULL;
ALTER DOMAIN code SET NOT NULL;
UPDATE lt SET c = 'q' WHERE c IS NULL;
ALTER DOMAIN code SET NOT NULL;
UPDATE t SET c = NULL WHERE id = 1;
ALTER DOMAIN code DROP NOT NULL;
UPDATE t SET c = NULL WHERE id = 1;
UPDATE lt SET c = NULL WHERE id = 1;
SELECT rows_of('t') = rows_of('lt') AS same_rows;

-- renamed and moved types
ALTER TYPE mood RENAME TO feeling;
ALTER DOMAIN dmood RENAME TO dfeeling;
CREATE SCHEMA nt2;
ALTER TYPE feeling SET SCHEMA nt2;
SELECT same('SELECT id FROM t WHERE m = ''happy''::nt2.feeling ORDER BY id');
UPDATE t SET dm = 'happy' WHERE id = 1;
UPDATE lt SET dm = 'happy' WHERE id = 1;

-- new columns and conversions to such types
CREATE TYPE size AS ENUM ('s', 'm', 'l');
ALTER TABLE t ADD COLUMN sz size DEFAULT 'm', ADD COLUMN txt text;
ALTER TABLE lt ADD COLUMN sz size DEFAULT 'm', ADD COLUMN txt text;
UPDATE t SET txt = CASE WHEN id % 2 = 0 THEN 'l' ELSE 's' END;
UPDATE lt SET txt = CASE WHEN id % 2 = 0 THEN 'l' ELSE 's' END;
ALTER TABLE t ALTER COLUMN txt TYPE size USING txt::size;
ALTER TABLE lt ALTER COLUMN txt TYPE size USING txt::size;
SELECT same('SELECT txt, sz, count(*) FROM t GROUP BY txt, sz ORDER BY txt');
SELECT rows_of('t') = rows_of('lt') AS same_rows;

-- a shorter varchar: too long values are an error, as PostgreSQL converts
ALTER TABLE t ADD COLUMN v varchar(10);
UPDATE t SET v = 'long value' WHERE id = 1;
ALTER TABLE t ALTER COLUMN v TYPE varchar(3);
ALTER TABLE t ALTER COLUMN v TYPE varchar(3) USING left(v, 3);
SELECT v FROM t WHERE id = 1;
ALTER TABLE t DROP COLUMN v;

-- DROP TYPE ... CASCADE drops the columns on the shards and the copies
DROP TYPE nt2.feeling CASCADE;
ALTER TABLE lt DROP COLUMN IF EXISTS m;
SELECT rows_of('t') = rows_of('lt') AS same_rows;
SELECT * FROM r ORDER BY label;
INSERT INTO t VALUES (20, 3, 'abc', 'l', 's');
SELECT id, p, c, sz, txt FROM t WHERE id = 20;

-- domains as distribution columns route like their base type
CREATE DOMAIN acct AS bigint CHECK (VALUE > 0);
CREATE TABLE a (id acct PRIMARY KEY, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('a', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO a SELECT g, g FROM generate_series(1, 20) g;
EXPLAIN (COSTS OFF) SELECT v FROM a WHERE id = 7;
SELECT v FROM a WHERE id = 7;
INSERT INTO a VALUES (0, 0);

-- what the nodes cannot have, or hash, is refused
CREATE TABLE e (c size PRIMARY KEY);
SELECT create_distributed_table('e', 'c');
CREATE FUNCTION is_even(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 % 2 = 0';
CREATE DOMAIN even AS int CHECK (is_even(VALUE));
CREATE TABLE ev (id int PRIMARY KEY, e even);
SELECT create_distributed_table('ev', 'id');
ALTER TABLE t ADD COLUMN e even;
CREATE TYPE pair AS (a int, b int);
ALTER TABLE t ADD COLUMN pr pair;

-- range and directory tables by an enum; a range bound later breaking a
-- domain constraint stays readable; a renamed label would orphan the bounds
CREATE TYPE lvl AS ENUM ('a', 'b', 'c', 'd');
CREATE TABLE rl (k lvl NOT NULL, v int);
CREATE TABLE dl (k lvl NOT NULL, v int);
CREATE DOMAIN d100 AS int;
CREATE TABLE rd (k d100 NOT NULL, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('rl', 'k', 'range', range_bounds => ARRAY['b']);
SELECT create_distributed_table('dl', 'k', 'directory', shard_count => 2);
SELECT create_distributed_table('rd', 'k', 'range', range_bounds => ARRAY['100']);
RESET client_min_messages;
SELECT shardext_directory_assign('dl', 'c'::lvl,
	(SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dl'::regclass));
INSERT INTO rl VALUES ('a', 1), ('c', 3);
INSERT INTO dl VALUES ('c', 3);
INSERT INTO rd VALUES (1, 1), (20, 2);
ALTER TYPE lvl RENAME VALUE 'b' TO 'bee';
ALTER DOMAIN d100 ADD CONSTRAINT small CHECK (VALUE < 50);
\c
SET search_path = nt, public;
SELECT * FROM rl WHERE k = 'c';
SELECT * FROM dl WHERE k = 'c';
SELECT * FROM rd ORDER BY k;

-- rows that break a NOT VALID constraint stay readable, as in PostgreSQL
CREATE DOMAIN dnv AS int;
CREATE TABLE nv (id int PRIMARY KEY, d dnv);
SET client_min_messages = warning;
SELECT create_distributed_table('nv', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO nv VALUES (1, 5), (2, -5);
ALTER DOMAIN dnv ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID;
SELECT * FROM nv ORDER BY id;
INSERT INTO nv VALUES (3, -1);
CREATE FUNCTION mine(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
ALTER DOMAIN dnv ADD CONSTRAINT mine CHECK (mine(VALUE));

-- an added column of a domain with a default gets it, on every copy
CREATE DOMAIN dsize AS size DEFAULT 'l';
CREATE DOMAIN nnint AS int NOT NULL DEFAULT 7;
CREATE TABLE rs (id int PRIMARY KEY, v int);
SET client_min_messages = warning;
SELECT create_reference_table('rs');
RESET client_min_messages;
INSERT INTO rs VALUES (1, 1), (2, 2);
ALTER TABLE rs ADD COLUMN s dsize, ADD COLUMN n nnint;
SELECT * FROM rs ORDER BY id;
SELECT x.id, y.s, y.n FROM a x JOIN rs y ON y.id = x.id WHERE x.id = 1;

-- a domain whose check reads back otherwise, or names another enum; labels
-- with dollar quotes
CREATE DOMAIN short AS varchar(5) CHECK (VALUE IN ('a', 'bb'));
CREATE TYPE tag AS ENUM ('x$shardext$y', 'z$shardext_type$');
CREATE DOMAIN not_b AS text CHECK (VALUE::lvl <> 'd');
CREATE TABLE odd (id int PRIMARY KEY, s short, t tag, n not_b);
SET client_min_messages = warning;
SELECT create_distributed_table('odd', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO odd VALUES (1, 'bb', 'x$shardext$y', 'a');
INSERT INTO odd VALUES (2, 'c', 'x$shardext$y', 'a');
INSERT INTO odd VALUES (3, 'a', 'z$shardext_type$', 'd');
SELECT * FROM odd ORDER BY id;

-- DROP SCHEMA ... CASCADE drops the columns of its types from the shards
-- too; not a distribution column
CREATE SCHEMA nt3;
CREATE TYPE nt3.e AS ENUM ('a', 'b');
CREATE TABLE t6 (id int PRIMARY KEY, e nt3.e, x int);
CREATE TABLE r6 (id int PRIMARY KEY, e nt3.e, x int);
CREATE TABLE k6 (k nt3.e NOT NULL);
SET client_min_messages = warning;
SELECT create_distributed_table('t6', 'id', shard_count => 2);
SELECT create_reference_table('r6');
SELECT create_distributed_table('k6', 'k', 'range', range_bounds => ARRAY['b']);
RESET client_min_messages;
INSERT INTO t6 VALUES (1, 'a', 1);
INSERT INTO r6 VALUES (1, 'b', 2);
DROP SCHEMA nt3 CASCADE;
DROP TABLE k6;
SET client_min_messages = warning;
DROP SCHEMA nt3 CASCADE;
RESET client_min_messages;
ALTER TABLE t6 ADD COLUMN e int;
ALTER TABLE r6 ADD COLUMN e int;
SELECT * FROM t6;
SELECT * FROM r6;

-- composite types (of node types), and arrays of them
CREATE TYPE tier AS ENUM ('low', 'high');
CREATE TYPE addr AS (street text, zip varchar(10), t tier);
CREATE TABLE ca (id int PRIMARY KEY, a addr, aa addr[]);
CREATE TABLE lca (LIKE ca);
SET client_min_messages = warning;
SELECT create_distributed_table('ca', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO ca VALUES (1, ('Main St', '12345', 'low'), ARRAY[('a', '1', 'high')::addr]),
	(2, ROW('Elm', '999', 'high'), NULL), (3, NULL, '{}');
INSERT INTO lca SELECT * FROM ca;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM ca WHERE (a).t > 'low';
SELECT id, (a).street, (a).t FROM ca WHERE (a).zip = '12345';
SELECT (a).t, count(*) FROM ca GROUP BY 1 ORDER BY 1;
UPDATE ca SET a.zip = '00000' WHERE id = 2;
UPDATE lca SET a.zip = '00000' WHERE id = 2;
ALTER TYPE addr RENAME ATTRIBUTE zip TO postcode;
ALTER TYPE addr ADD ATTRIBUTE floor int;
UPDATE ca SET a.floor = 3 WHERE id = 1;
UPDATE lca SET a.floor = 3 WHERE id = 1;
SELECT rows_of('ca') = rows_of('lca') AS same_rows;
SELECT id, (a).postcode, (a).floor FROM ca ORDER BY id;
ALTER TYPE addr DROP ATTRIBUTE floor;
DROP TYPE tier CASCADE;
SELECT rows_of('ca') = rows_of('lca') AS same_rows;
SELECT * FROM ca ORDER BY id;
CREATE TYPE pt AS (x int, y int);
CREATE TABLE cp (p pt PRIMARY KEY, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('cp', 'p', shard_count => 4);
RESET client_min_messages;
INSERT INTO cp VALUES ((1, 2), 3), ((3, 4), 5);
EXPLAIN (COSTS OFF) SELECT v FROM cp WHERE p = (1, 2)::pt;
SELECT v FROM cp WHERE p = (1, 2)::pt;
CREATE TYPE tiered AS (t size);
CREATE TABLE ct (t tiered PRIMARY KEY);
SELECT create_distributed_table('ct', 't');

-- several assignments into one column are refused (the deparser keeps one);
-- parameters of these types reach the nodes typed; a renamed schema's types
-- move on the nodes; typed tables are refused
CREATE TABLE asg (id int PRIMARY KEY, arr int[], c pt);
SET client_min_messages = warning;
SELECT create_distributed_table('asg', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO asg VALUES (1, '{1,2,3}', (1, 2));
UPDATE asg SET c.x = 7, c.y = 8 WHERE id = 1;
UPDATE asg SET arr[1] = 10, arr[3] = 30 WHERE id = 1;
UPDATE asg SET c.x = 7 WHERE id = 1;
UPDATE asg SET arr[1] = 10 WHERE id = 1;
SELECT * FROM asg;
PREPARE by_point(pt) AS SELECT v FROM cp WHERE p = $1;
EXECUTE by_point('(1,2)');
PREPARE above_point(pt) AS SELECT v FROM cp WHERE p > $1 ORDER BY v LIMIT 2;
EXECUTE above_point('(0,0)');
CREATE SCHEMA nt4;
CREATE TYPE nt4.mood AS ENUM ('a', 'b');
CREATE TABLE hm (id int PRIMARY KEY, m nt4.mood);
SET client_min_messages = warning;
SELECT create_distributed_table('hm', 'id', shard_count => 2);
RESET client_min_messages;
ALTER SCHEMA nt4 RENAME TO nt5;
ALTER TYPE nt5.mood ADD VALUE 'c';
INSERT INTO hm VALUES (2, 'c');
SELECT * FROM hm;
-- tables in the renamed schema itself, of its enums, domains and composite
-- types (distributed and reference): the columns keep their types
CREATE SCHEMA "nt 6";
CREATE TYPE "nt 6".e AS ENUM ('a', 'b');
CREATE DOMAIN "nt 6"."Pos" AS int CHECK (VALUE > 0);
CREATE TYPE "nt 6".c AS (x int, y text);
CREATE TABLE "nt 6".t (id int PRIMARY KEY, e "nt 6".e, p "nt 6"."Pos", c "nt 6".c, ea "nt 6".e[]);
CREATE TABLE "nt 6".r (id int PRIMARY KEY, e "nt 6".e);
SET client_min_messages = warning;
SELECT create_distributed_table('"nt 6".t', 'id', shard_count => 2);
SELECT create_reference_table('"nt 6".r');
RESET client_min_messages;
INSERT INTO "nt 6".t VALUES (1, 'a', 1, '(1,x)', '{a,b}');
INSERT INTO "nt 6".r VALUES (1, 'a');
ALTER SCHEMA "nt 6" RENAME TO "nt 7";
INSERT INTO "nt 7".t VALUES (2, 'b', 2, '(2,y)', '{b}');
SELECT * FROM "nt 7".t JOIN "nt 7".r USING (id, e) ORDER BY id;
SELECT id, e, p, c, ea FROM "nt 7".t WHERE e = 'b' AND p > 1 AND (c).y = 'y';
DROP SCHEMA "nt 7" CASCADE;
CREATE TABLE typed OF pt (PRIMARY KEY (x));
SELECT create_distributed_table('typed', 'x');
CREATE TABLE with_row (id int PRIMARY KEY, r asg);
SELECT create_distributed_table('with_row', 'id');

-- parameters: of a domain no table uses (sent as its base type), of an
-- enum the statement does not use, and cached plans after a type rename
CREATE DOMAIN unused_dom AS int CHECK (VALUE > 0);
PREPARE by_unused(unused_dom) AS SELECT count(*) FROM a WHERE id > $1;
EXECUTE by_unused(1); EXECUTE by_unused(1); EXECUTE by_unused(1);
EXECUTE by_unused(1); EXECUTE by_unused(1); EXECUTE by_unused(1); EXECUTE by_unused(15);
PREPARE unused_param(size, int) AS SELECT v FROM a WHERE id = $2;
EXECUTE unused_param('s', 3);
-- arrays of an enum the tables have only as scalars (cast on the nodes), of
-- a domain over a built-in type (sent as an array of the base type): as
-- the same statements with the values written in
PREPARE by_sizes(int, size[]) AS SELECT id, sz FROM t WHERE id = $1 AND sz = ANY($2);
PREPARE count_sizes(size[]) AS SELECT count(*) FROM t WHERE txt = ANY($1);
PREPARE set_size(size[], int) AS UPDATE t SET sz = $1[2] WHERE id = $2 RETURNING id, sz;
PREPARE by_posints(posint[]) AS SELECT count(*) FROM t WHERE p = ANY($1);
EXECUTE by_sizes(1, '{m,l}');
SELECT id, sz FROM t WHERE id = 1 AND sz = ANY('{m,l}');
EXECUTE count_sizes('{l}');
SELECT count(*) FROM t WHERE txt = ANY('{l}');
EXECUTE by_posints('{1,5,7}');
SELECT count(*) FROM t WHERE p = ANY('{1,5,7}');
EXECUTE by_posints('{0}');
SET plan_cache_mode = force_generic_plan;
EXECUTE count_sizes('{s,m}');
SELECT count(*) FROM t WHERE txt = ANY('{s,m}');
BEGIN;
EXECUTE set_size('{s,l}', 1);
ROLLBACK;
RESET plan_cache_mode;
-- an array of domains that a table has as a column stays one (compared
-- with that column)
CREATE DOMAIN arr_size AS size;
CREATE TABLE arrs (id int PRIMARY KEY, c posint[], m arr_size[]);
SET client_min_messages = warning;
SELECT create_distributed_table('arrs', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO arrs VALUES (1, '{1,2}', '{s}'), (2, '{3}', '{m,l}');
PREPARE arr_eq(int, posint[]) AS SELECT id FROM arrs WHERE id = $1 AND c = $2;
PREPARE arr_sizes(arr_size[]) AS SELECT id FROM arrs WHERE m = $1;
EXECUTE arr_eq(1, '{1,2}');
EXECUTE arr_sizes('{m,l}');
SET plan_cache_mode = force_generic_plan;
PREPARE arr_set(posint[]) AS UPDATE arrs SET c = $1 WHERE c = $1 RETURNING id;
EXECUTE arr_set('{3}');
RESET plan_cache_mode;
DROP TABLE arrs;
DROP DOMAIN arr_size;
-- parameters of a type no distributed table uses: what reads them is
-- computed on the coordinator (the nodes do not have the type)
CREATE TYPE unused_pair AS (x int, y text);
PREPARE pair_element(unused_pair[]) AS SELECT count(*) FROM t WHERE id = ($1)[1].x;
PREPARE pair_field(unused_pair) AS SELECT id FROM t WHERE id = 1 AND id = ($1).x;
EXECUTE pair_element('{"(1,a)"}');
EXECUTE pair_field('(1,b)');
SET plan_cache_mode = force_generic_plan;
PREPARE pair_generic(unused_pair[]) AS SELECT count(*) FROM t WHERE id = ANY (SELECT (u).x FROM unnest($1) u);
EXECUTE pair_generic('{"(1,a)","(2,b)"}');
RESET plan_cache_mode;
DEALLOCATE pair_element;
DEALLOCATE pair_field;
DEALLOCATE pair_generic;
DROP TYPE unused_pair;
-- ... but one converted to a built-in type reaches them (as text), also
-- where only the nodes compute (ON CONFLICT DO UPDATE)
CREATE TYPE unused_mood AS ENUM ('low', 'high');
CREATE TABLE labels (id int PRIMARY KEY, label text);
SET client_min_messages = warning;
SELECT create_distributed_table('labels', 'id', shard_count => 2);
RESET client_min_messages;
PREPARE upsert_label(int, unused_mood) AS INSERT INTO labels VALUES ($1, $2::text)
  ON CONFLICT (id) DO UPDATE SET label = labels.label || '+' || $2::text RETURNING *;
EXECUTE upsert_label(1, 'low');
EXECUTE upsert_label(1, 'high');
DEALLOCATE upsert_label;
DROP TABLE labels;
DROP TYPE unused_mood;
SET plan_cache_mode = force_generic_plan;
PREPARE over_hm(int) AS SELECT count(*) FROM hm WHERE id > $1;
EXECUTE over_hm(0);
ALTER TYPE nt5.mood RENAME TO feeling;
EXECUTE over_hm(0);
RESET plan_cache_mode;

-- a type no distributed table uses is not on the nodes: expressions of it
-- are computed on the coordinator (they failed with "type does not exist")
CREATE DOMAIN coord_only_dom AS int NOT NULL;
CREATE TYPE coord_only_enum AS ENUM ('x', 'y');
SELECT id, p::int::coord_only_dom FROM t WHERE id = 1;
SELECT count(*) FROM t WHERE id::coord_only_dom > 0;
SELECT id, 'y'::coord_only_enum FROM t WHERE id = 1;
SELECT max(id::coord_only_dom) FROM t;
-- a table that used it in a rolled-back transaction leaves it off the nodes
-- (its shard ids are given back: later files show theirs)
SELECT last_value AS ids_before, is_called AS ids_called FROM shardext.shard_id_seq \gset
BEGIN;
CREATE TABLE uses_dom (id int PRIMARY KEY, d coord_only_dom);
SET LOCAL client_min_messages = warning;
SELECT create_distributed_table('uses_dom', 'id', shard_count => 2);
SELECT id, p::int::coord_only_dom FROM t WHERE id = 1;
ROLLBACK;
SELECT setval('shardext.shard_id_seq', :ids_before, :'ids_called') IS NOT NULL AS shard_ids_given_back;
SELECT id, p::int::coord_only_dom FROM t WHERE id = 1;
DROP DOMAIN coord_only_dom;
DROP TYPE coord_only_enum;

SET client_min_messages = warning;
DROP SCHEMA nt2 CASCADE;
DROP SCHEMA nt5 CASCADE;
DROP SCHEMA nt CASCADE;
