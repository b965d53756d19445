--
-- Edge cases found by a differential bug hunt: each query runs on the
-- distributed tables and on local copies (the oracle), results compared.
--
SELECT setval('shardext.shard_id_seq', 600000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA edges;
SET search_path = edges, public;
SET client_min_messages = warning;
CREATE TABLE a (k int, id int, w numeric, s text, PRIMARY KEY (k, id));
INSERT INTO a SELECT g % 10, g, g, CASE WHEN g % 3 = 0 THEN 'back\slash' ELSE 'x' END
  FROM generate_series(1, 100) g;
CREATE TABLE local_a AS SELECT * FROM a;
ALTER TABLE local_a ADD PRIMARY KEY (k, id);
SELECT create_distributed_table('a', 'k', shard_count => 4);
CREATE TABLE tk (key text PRIMARY KEY, v int);
INSERT INTO tk VALUES ('alpha', 1), ('beta', 2);
CREATE TABLE local_tk AS SELECT * FROM tk;
SELECT create_distributed_table('tk', 'key', shard_count => 4);
CREATE TABLE ref (rk int PRIMARY KEY, name text);
INSERT INTO ref SELECT g, 'n' || g FROM generate_series(0, 9) g;
CREATE TABLE local_ref AS SELECT * FROM ref;
SELECT create_reference_table('ref');
RESET client_min_messages;

-- same(q): the rows of q on the distributed tables and on the local copies
-- (ordered: in their order rather than as a set)
CREATE FUNCTION same(q text, ordered boolean DEFAULT false) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	agg text := format('string_agg(t::text, %L%s)', '|',
					   CASE WHEN ordered THEN '' ELSE ' ORDER BY t::text' END);
	d text;
	l text;
BEGIN
	EXECUTE format('SELECT %s FROM (%s) t', agg, q) INTO d;
	EXECUTE format('SELECT %s FROM (%s) t', agg,
				   regexp_replace(q, '\m(a|a2|tk|ref|h8|tzt|ss|cn)\M', 'local_\1', 'g')) INTO l;
	RETURN CASE WHEN d IS NOT DISTINCT FROM l THEN 'same'
		   ELSE 'DIFFERENT: ' || coalesce(d, '<none>') || ' vs ' || coalesce(l, '<none>') END;
END $$;

-- the plan shape, without costs and node names
CREATE FUNCTION plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line !~ 'Node:|Shard:' THEN
			RETURN NEXT line;
		END IF;
	END LOOP;
END $$;

-- HAVING without GROUP BY filters the one row (it does not become WHERE)
SELECT same('SELECT count(*) FROM a HAVING 1 = 0');
SELECT same('SELECT count(*) FROM a HAVING count(*) > 0 AND 2 > 1');
PREPARE h(int) AS SELECT count(*) FROM a HAVING $1 > 0;
EXECUTE h(0);
EXECUTE h(1);

-- a value outside the distribution column's integer type matches no row
SELECT same('SELECT count(*) FROM a WHERE k = 2147483648');
SELECT same('SELECT count(*) FROM a WHERE k IN (3, 2147483648)');
PREPARE big(bigint) AS SELECT count(*) FROM a WHERE k = $1;
EXECUTE big(2147483648);
EXECUTE big(3);
UPDATE a SET w = 0 WHERE k = -2147483649;

-- COLLATE on the distribution value
SELECT same('SELECT v FROM tk WHERE key = ''alpha'' COLLATE "C"');
SELECT same('SELECT v FROM tk WHERE key = ''beta'' COLLATE "default"');

-- LIMIT + OFFSET beyond bigint
SELECT same('SELECT id FROM a ORDER BY id LIMIT 9223372036854775807 OFFSET 95');
SELECT same('SELECT k, count(*) FROM a GROUP BY k ORDER BY k LIMIT 9223372036854775807 OFFSET 8');

-- avg of real sums in double precision
SELECT same('SELECT avg((CASE WHEN id = 1 THEN 100000000 ELSE 1 END)::float4) FROM a');

-- string literals with backslashes under standard_conforming_strings = off
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT same(E'SELECT count(*) FROM a WHERE s = E''back\\\\slash''');
SELECT same(E'SELECT k, count(*) FROM a WHERE s = ''back\\\\slash'' GROUP BY k');
RESET escape_string_warning;
RESET standard_conforming_strings;

-- functions that answer from the session run on the coordinator
SET edges.tenant = '3';
SELECT same('SELECT count(*) FROM a WHERE k = current_setting(''edges.tenant'')::int');
SELECT same('SELECT count(*) FROM a WHERE s <> current_setting(''edges.tenant'')');
SELECT same('SELECT k, current_schema() FROM a WHERE k = 3 GROUP BY k');
SELECT same('SELECT DISTINCT current_user = session_user FROM a');
RESET edges.tenant;

-- a pinned UPDATE/DELETE that reads a reference table
UPDATE a SET s = ref.name FROM ref WHERE ref.rk = a.k AND a.k = 3;
UPDATE local_a SET s = local_ref.name FROM local_ref WHERE local_ref.rk = local_a.k AND local_a.k = 3;
DELETE FROM a USING ref WHERE ref.rk = a.k AND a.k = 4 AND ref.name = 'n4';
DELETE FROM local_a USING local_ref WHERE local_ref.rk = local_a.k AND local_a.k = 4 AND local_ref.name = 'n4';
SELECT same('SELECT * FROM a');

-- ON CONFLICT DO UPDATE runs on each row's node: subqueries are refused
INSERT INTO a VALUES (3, 3, 0) ON CONFLICT (k, id) DO UPDATE SET w = (SELECT sum(w) FROM a x);
INSERT INTO a VALUES (3, 3, 0) ON CONFLICT (k, id) DO UPDATE SET w = -1
  WHERE EXISTS (SELECT 1 FROM a x WHERE x.k = 4);
INSERT INTO a VALUES (3, 3, 0) ON CONFLICT (k, id) DO UPDATE SET w = excluded.w + a.w;
SELECT w FROM a WHERE k = 3 AND id = 3;

-- ON CONFLICT DO UPDATE affects a row once per statement, also when the
-- rows of a shard go to its node in several batches
CREATE TABLE oc (k int, id int, w int, PRIMARY KEY (k, id));
SET client_min_messages = warning;
SELECT create_distributed_table('oc', 'k', shard_count => 2);
RESET client_min_messages;
CREATE TABLE local_oc (k int, id int, w int, PRIMARY KEY (k, id));
INSERT INTO oc SELECT 1, g, 0 FROM generate_series(1, 1001) g;
INSERT INTO local_oc SELECT 1, g, 0 FROM generate_series(1, 1001) g;
INSERT INTO oc SELECT 1, CASE WHEN g = 1001 THEN 1 ELSE g END, 1 FROM generate_series(1, 1001) g
  ON CONFLICT (k, id) DO UPDATE SET w = oc.w + excluded.w;
INSERT INTO local_oc SELECT 1, CASE WHEN g = 1001 THEN 1 ELSE g END, 1 FROM generate_series(1, 1001) g
  ON CONFLICT (k, id) DO UPDATE SET w = local_oc.w + excluded.w;
INSERT INTO oc SELECT 1, CASE WHEN g = 2400 THEN 5 ELSE g END, 1 FROM generate_series(1, 2500) g
  ON CONFLICT ON CONSTRAINT oc_pkey DO UPDATE SET w = 7;
INSERT INTO oc SELECT 1, g, 1 FROM generate_series(1, 2500) g
  ON CONFLICT (k, id) DO UPDATE SET w = oc.w + excluded.w;
INSERT INTO local_oc SELECT 1, g, 1 FROM generate_series(1, 2500) g
  ON CONFLICT (k, id) DO UPDATE SET w = local_oc.w + excluded.w;
SELECT (SELECT sum(w) FROM oc) AS w, (SELECT sum(w) FROM local_oc) AS local_w;

-- an UPDATE whose rows are changed one by one cannot return a subquery
UPDATE a SET w = w + 1 WHERE k = 3 AND id = 3
  RETURNING id, (SELECT count(*) FROM a x WHERE x.k = a.k);

-- subqueries on distributed tables tied to an outer reference table's rows
SELECT same('SELECT rk FROM ref r WHERE EXISTS (SELECT 1 FROM a h WHERE h.k = r.rk)');
SELECT same('SELECT rk, (SELECT count(*) FROM a h WHERE h.k = r.rk) FROM ref r');
SELECT same('SELECT r.rk, x.n FROM ref r, LATERAL (SELECT count(*) AS n FROM a h WHERE h.k = r.rk) x');

-- a subquery tied to a pinned outer table by the distribution column (or
-- pinned by the same value) runs with it on one node
CREATE TABLE a2 (k int, id int, ref_id int, PRIMARY KEY (k, id));
INSERT INTO a2 SELECT g % 10, g, g % 7 FROM generate_series(1, 200) g;
CREATE TABLE local_a2 AS SELECT * FROM a2;
SET client_min_messages = warning;
SELECT create_distributed_table('a2', 'k', colocate_with => 'a', shard_count => 4);
RESET client_min_messages;
SELECT same('SELECT count(*) FROM a t WHERE t.k = 3 AND EXISTS (SELECT 1 FROM a2 c WHERE c.k = t.k AND c.ref_id = t.id % 7)');
SELECT same('SELECT count(*) FROM a t WHERE t.k = 3 AND NOT EXISTS (SELECT 1 FROM a2 c WHERE c.k = t.k AND c.id = t.id)');
SELECT same('SELECT count(*) FROM a t WHERE t.k = 4 AND t.id IN (SELECT id FROM a2 WHERE k = 4)');
SELECT same('SELECT count(*) FROM a t WHERE t.k = 4 AND t.id NOT IN (SELECT id FROM a2 WHERE k = 4 AND id > 50)');
SELECT same('SELECT t.id, x.n FROM a t, LATERAL (SELECT count(*) AS n FROM a2 c WHERE c.k = t.k AND c.ref_id = t.id % 7) x WHERE t.k = 5');
SELECT plan('SELECT count(*) FROM a t WHERE t.k = 3 AND EXISTS (SELECT 1 FROM a2 c WHERE c.k = t.k AND c.ref_id = t.id % 7)');
SELECT plan('SELECT count(*) FROM a t WHERE t.k = 4 AND t.id IN (SELECT id FROM a2 WHERE k = 4)');
SELECT plan('UPDATE a SET w = w WHERE k = 4 AND id IN (SELECT id FROM a2 WHERE k = 4)');

-- a data-modifying WITH goes whole to one node or is refused, saying why
CREATE TABLE local_log (k int, note text);
WITH gone AS (DELETE FROM a2 WHERE k = 4 AND id < 0 RETURNING *)
  INSERT INTO local_log SELECT k, 'gone ' || id FROM gone;
WITH gone AS (DELETE FROM a2 WHERE k = 4 AND id < 0 RETURNING k, id)
  INSERT INTO a (k, id) SELECT k, id FROM gone;
WITH gone AS (DELETE FROM a2 WHERE k = 4 AND id < 0 RETURNING k, id)
  SELECT count(*) FROM gone;
DROP TABLE local_log;

-- RETURNING: tableoid is the distributed table's; what the nodes cannot
-- compute for each row (subqueries, session functions, whole rows in rows
-- changed one by one) is refused
UPDATE a SET w = w WHERE k = 5 AND id = 5 RETURNING tableoid::regclass, id;
UPDATE a SET w = w WHERE k = 5 RETURNING tableoid = 'a'::regclass AS same_table, id;
INSERT INTO ref VALUES (100, 'r') RETURNING tableoid::regclass;
DELETE FROM ref WHERE rk = 100 RETURNING tableoid::regclass, rk;
INSERT INTO a VALUES (5, 1000, 1) RETURNING (SELECT count(*) FROM a);
INSERT INTO a VALUES (5, 1000, 1) RETURNING current_setting('application_name');
UPDATE a x SET w = 1 FROM ref r WHERE r.rk = x.k AND x.id < 0 RETURNING x;

-- an UPDATE/DELETE that reads its own table does not see its own changes
CREATE TABLE st (id int PRIMARY KEY, n numeric, k int);
INSERT INTO st SELECT g, g * 1.5, g % 3 FROM generate_series(1, 10) g;
CREATE TABLE local_st AS SELECT * FROM st;
SET client_min_messages = warning;
SELECT create_distributed_table('st', 'id', shard_count => 4);
RESET client_min_messages;
UPDATE st SET n = t2.n FROM st t2 WHERE t2.id = st.id + 1 AND st.id < 8;
UPDATE local_st SET n = t2.n FROM local_st t2 WHERE t2.id = local_st.id + 1 AND local_st.id < 8;
UPDATE st SET n = (SELECT avg(n) FROM st t2 WHERE t2.k = st.k);
UPDATE local_st SET n = (SELECT avg(n) FROM local_st t2 WHERE t2.k = local_st.k);
DELETE FROM st WHERE NOT EXISTS (SELECT 1 FROM st t2 WHERE t2.id = st.id + 1);
DELETE FROM local_st WHERE NOT EXISTS (SELECT 1 FROM local_st t2 WHERE t2.id = local_st.id + 1);
SELECT (SELECT string_agg(id || ':' || n, ',' ORDER BY id) FROM st) =
       (SELECT string_agg(id || ':' || n, ',' ORDER BY id) FROM local_st) AS same_rows,
       (SELECT count(*) FROM st) AS rows_left;

-- a write of now() and its kin gets the coordinator's transaction time on
-- every row, whichever node holds it
CREATE TABLE tt (id int PRIMARY KEY, ts timestamptz, d date);
INSERT INTO tt SELECT g FROM generate_series(1, 40) g;
SET client_min_messages = warning;
SELECT create_distributed_table('tt', 'id', shard_count => 4);
RESET client_min_messages;
BEGIN;
UPDATE tt SET ts = now(), d = CURRENT_DATE;
UPDATE tt SET ts = transaction_timestamp() WHERE id = 3;
SELECT count(DISTINCT ts) AS values, bool_and(ts = (SELECT now())) AS all_now,
       bool_and(d = (SELECT CURRENT_DATE)) AS all_today FROM tt;
INSERT INTO tt SELECT id + 100, now(), CURRENT_DATE FROM tt;
SELECT count(DISTINCT ts) AS values FROM tt;
COMMIT;

-- writes the nodes would not carry out as PostgreSQL does are refused
CREATE VIEW stv AS SELECT id, n, k FROM st WHERE k < 2 WITH CHECK OPTION;
INSERT INTO stv VALUES (70, 1, 2);
UPDATE stv SET k = 5 WHERE id = 1;
UPDATE st SET (n, k) = (SELECT 1, 2) WHERE id = 1;
BEGIN;
DECLARE cur CURSOR FOR SELECT id FROM st WHERE id = 5 FOR UPDATE;
FETCH 1 FROM cur;
UPDATE st SET n = 0 WHERE CURRENT OF cur;
ROLLBACK;
SELECT count(ctid) FROM st;

-- floats keep all their digits on the way to and from the nodes, whatever
-- extra_float_digits the session uses
CREATE TABLE ft (id int PRIMARY KEY, f float8);
SET client_min_messages = warning;
SELECT create_distributed_table('ft', 'id', shard_count => 4);
RESET client_min_messages;
SET extra_float_digits = 0;
INSERT INTO ft VALUES (1, 1::float8 / 3);
PREPARE fi(int, float8) AS INSERT INTO ft VALUES ($1, $2);
EXECUTE fi(2, 1::float8 / 3);
INSERT INTO ft SELECT 3, 1::float8 / 3;
INSERT INTO ft VALUES (4, 1.7976931348623157e308);
SELECT id, f * 3 = 1 AS exact FROM ft WHERE id < 4 ORDER BY id;
SELECT f FROM ft WHERE id = 4;
SELECT count(*) FROM ft WHERE f = 1::float8 / 3;
RESET extra_float_digits;
SELECT id, f FROM ft ORDER BY id;

-- SCROLL cursors over router queries move backward (as on the local copy)
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id FROM a WHERE k = 3 ORDER BY id;
DECLARE lc SCROLL CURSOR FOR SELECT id FROM local_a WHERE k = 3 ORDER BY id;
FETCH 3 FROM c;
FETCH 3 FROM lc;
FETCH BACKWARD 2 FROM c;
FETCH BACKWARD 2 FROM lc;
FETCH LAST FROM c;
FETCH LAST FROM lc;
FETCH ABSOLUTE 2 FROM c;
FETCH ABSOLUTE 2 FROM lc;
COMMIT;

-- COPY TO leaves generated columns out, as for a local table, so that its
-- output loads back; COPY FROM needs INSERT only on the columns loaded
CREATE TABLE gen (id int PRIMARY KEY, b int, g int GENERATED ALWAYS AS (b * 2) STORED);
SET client_min_messages = warning;
SELECT create_distributed_table('gen', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO gen (id, b) VALUES (1, 1);
COPY gen TO STDOUT WITH (FORMAT csv, HEADER);
COPY gen (g) TO STDOUT;
INSERT INTO gen (id, b) VALUES (2, 5);
COPY (SELECT * FROM gen ORDER BY id) TO STDOUT;
CREATE ROLE edges_loader;
-- it reaches the nodes through user mappings of its own
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR edges_loader SERVER %I OPTIONS (user %L, password_required %L)', s, current_user, 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA edges TO edges_loader;
GRANT INSERT (id, b) ON gen TO edges_loader;
SET ROLE edges_loader;
COPY gen (id, b) FROM STDIN;
3	7
\.
COPY gen FROM STDIN;
4	8
\.
-- a COPY FROM ... WHERE condition needs SELECT on the columns it reads
COPY gen (id, b) FROM STDIN WHERE b > 0;
\.
RESET ROLE;
-- and may not read generated columns (not computed yet)
COPY gen (id, b) FROM STDIN WHERE g > 0;
\.
COPY gen (id, b) FROM STDIN WHERE gen IS NOT NULL;
\.
SELECT * FROM gen ORDER BY id;
-- functions of a statement sent whole to a node need EXECUTE here too
RESET ROLE;
GRANT SELECT ON a TO edges_loader;
CREATE FUNCTION count_a() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  AS $$ SELECT count(*) FROM edges.a $$;
SET ROLE edges_loader;
SELECT pg_read_file('PG_VERSION') FROM a WHERE k = 3 LIMIT 1;
-- a SECURITY DEFINER function reaches the nodes as its owner, the caller
-- as itself; one transaction cannot use a node as both
SELECT count_a() > 0 AS counted;
SELECT count(*) FROM a WHERE k = 3;
SELECT pg_read_file('PG_VERSION') FROM a WHERE k = 3 LIMIT 1;
BEGIN;
SELECT count(*) FROM a WHERE k = 3;
SELECT count_a();
ROLLBACK;
RESET ROLE;
-- also in multi-shard scans and pushed-down aggregates
REVOKE EXECUTE ON FUNCTION md5(text) FROM PUBLIC;
SET ROLE edges_loader;
SELECT md5(s) FROM a ORDER BY id LIMIT 1;
SELECT count(*) FROM a WHERE md5(s) = 'x';
SELECT k, string_agg(md5(s), ',') FROM a GROUP BY k LIMIT 1;
SELECT count(*) FROM a WHERE s = 'x';
RESET ROLE;
GRANT EXECUTE ON FUNCTION md5(text) TO PUBLIC;
-- an aggregate is named as one
REVOKE EXECUTE ON FUNCTION max(int) FROM PUBLIC;
SET ROLE edges_loader;
SELECT max(id) FROM a;
RESET ROLE;
GRANT EXECUTE ON FUNCTION max(int) TO PUBLIC;
REVOKE ALL ON a FROM edges_loader;
DROP FUNCTION count_a();
REVOKE ALL ON gen FROM edges_loader;
REVOKE USAGE ON SCHEMA edges FROM edges_loader;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR edges_loader SERVER %I', s);
	END LOOP;
END $$;
DROP ROLE edges_loader;

-- COPY input errors name the line and column
CREATE TABLE cp (id int PRIMARY KEY, a text, b int CHECK (b < 1000));
SET client_min_messages = warning;
SELECT create_distributed_table('cp', 'id', shard_count => 2);
RESET client_min_messages;
COPY cp FROM STDIN WITH (FORMAT csv);
200,a,1
201,b,2
202,c,notanint
\.
COPY cp FROM STDIN WITH (FORMAT csv);
300,a,1
301,b,2,extra
\.
SELECT count(*) FROM cp;

-- what the shards could not follow is refused: partitions, inheritance,
-- foreign keys to a distributed table, triggers, dropping a node's server
CREATE TABLE parted (id int, v int) PARTITION BY RANGE (id);
ALTER TABLE parted ATTACH PARTITION cp FOR VALUES FROM (0) TO (1000);
CREATE TABLE cp_child () INHERITS (cp);
CREATE TABLE loose (id int);
ALTER TABLE loose INHERIT cp;
CREATE TABLE referencing (id int REFERENCES cp (id));
ALTER TABLE loose ADD FOREIGN KEY (id) REFERENCES cp (id);
CREATE FUNCTION noop_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER cp_trigger BEFORE INSERT ON cp FOR EACH ROW EXECUTE FUNCTION noop_trigger();
SELECT format('DROP SERVER %I CASCADE', min(server_name)) AS drop_server
  FROM shardext.nodes WHERE role = 'worker' \gset
:drop_server;
DROP EXTENSION postgres_fdw CASCADE;
DROP TABLE parted, loose;
DROP FUNCTION noop_trigger();

-- COPY FROM in a read-only transaction is refused before any input is read
BEGIN READ ONLY;
COPY cp FROM '/nonexistent/shardext_input.csv' WITH (FORMAT csv);
ROLLBACK;

-- a COPY that fails after a batch went to a node is rolled back to the
-- savepoint, and the transaction goes on
CREATE TABLE big (id int PRIMARY KEY, a text);
SET client_min_messages = warning;
SELECT create_distributed_table('big', 'id', shard_count => 1);
RESET client_min_messages;
COPY (SELECT v, repeat('x', 100) FROM (SELECT g::text AS v, g AS o FROM generate_series(1, 50000) g
      UNION ALL SELECT 'oops', 50001) s ORDER BY o)
  TO '/tmp/shardext_regress_big.csv' WITH (FORMAT csv);
BEGIN;
INSERT INTO big VALUES (-3, 'x');
SAVEPOINT s;
\set VERBOSITY terse
COPY big FROM '/tmp/shardext_regress_big.csv' WITH (FORMAT csv);
\set VERBOSITY default
ROLLBACK TO s;
INSERT INTO big VALUES (-4, 'x');
COMMIT;
SELECT count(*), min(id), max(id) FROM big;
DO $$
BEGIN
	INSERT INTO big VALUES (-5, 'x');
	BEGIN
		COPY big FROM '/tmp/shardext_regress_big.csv' WITH (FORMAT csv);
	EXCEPTION WHEN invalid_text_representation THEN
		RAISE NOTICE 'COPY failed: %', SQLERRM;
	END;
	INSERT INTO big VALUES (-6, 'x');
END $$;
SELECT count(*), min(id), max(id) FROM big;
COPY (SELECT 1) TO PROGRAM 'rm -f /tmp/shardext_regress_big.csv';


-- hunt 8 (analytics): each query on distributed tables and on local copies
CREATE TABLE h8 (k int, id int, v int, c text, f float8, PRIMARY KEY (k, id));
INSERT INTO h8 SELECT g % 10, g, g * 2, (ARRAY['p','Q','q','P','Z'])[1 + g % 5], g / 3.0
  FROM generate_series(1, 100) g;
CREATE TABLE local_h8 AS SELECT * FROM h8;
ALTER TABLE local_h8 ADD PRIMARY KEY (k, id);
SET client_min_messages = warning;
SELECT create_distributed_table('h8', 'k', shard_count => 4);
RESET client_min_messages;
-- grouped by the primary key, other columns of the table may be selected
-- (each shard, not a union of shards, runs the query)
SELECT same('SELECT k, id, v, count(*) FROM h8 GROUP BY k, id ORDER BY id LIMIT 3');
SELECT same('SELECT k, id, v, count(*) FROM h8 GROUP BY k, id HAVING count(*) > 0');
-- router queries: constants of grouped expressions, casts to a length
SELECT same('SELECT v % 7 * 2, count(*) FROM h8 WHERE k = 1 GROUP BY v % 7 * 2 HAVING v % 7 * 2 > 4');
SELECT same('SELECT CASE WHEN v > 40 THEN ''big'' ELSE ''small'' END, count(*) FROM h8 WHERE k = 1 GROUP BY v > 40');
SELECT same('SELECT v % 3 + 1, count(*) FROM h8 WHERE k = 2 GROUP BY v % 3 ORDER BY v % 3 + 0');
SELECT same('SELECT c::varchar(1) || ''x'', length((c || ''yz'')::varchar(2)), (f::numeric(10,1))::text FROM h8 WHERE k = 3');
SELECT same('SELECT count(*) FROM h8 WHERE k = 3 AND (c || ''q'')::char(1) = ''p''');
-- a COLLATE on a column reaches the shards
SELECT same('SELECT c, count(*) FROM (SELECT c FROM h8 WHERE c COLLATE "C" < ''p'' OFFSET 0) s GROUP BY c');
SELECT same('SELECT id FROM h8 WHERE c COLLATE "C" BETWEEN ''Q'' AND ''p''');
-- float constants are sent exactly whatever extra_float_digits
SET extra_float_digits = 0;
SELECT same('SELECT k FROM h8 WHERE f = 58 / 3.0::float8');
PREPARE fq(float8) AS SELECT id FROM h8 WHERE f = $1;
EXECUTE fq(58 / 3.0::float8);
EXECUTE fq(58 / 3.0::float8);
EXECUTE fq(58 / 3.0::float8);
EXECUTE fq(58 / 3.0::float8);
EXECUTE fq(58 / 3.0::float8);
EXECUTE fq(58 / 3.0::float8);
RESET extra_float_digits;
-- a distribution column compared with a value of another type
CREATE TABLE fk (k float8 NOT NULL);
INSERT INTO fk VALUES (0.1::float4), (0.7::float4), (0.1);
CREATE TABLE local_fk AS SELECT * FROM fk;
CREATE TABLE f4 (k float4 NOT NULL);
INSERT INTO f4 VALUES (1), (0.5);
CREATE TABLE vc (k varchar(3) NOT NULL);
INSERT INTO vc VALUES ('abc');
SET client_min_messages = warning;
SELECT create_distributed_table('fk', 'k', shard_count => 4);
SELECT create_distributed_table('f4', 'k', shard_count => 4);
SELECT create_distributed_table('vc', 'k', shard_count => 4);
RESET client_min_messages;
SELECT k FROM fk WHERE k = 0.1::float4;
SELECT k FROM local_fk WHERE k = 0.1::float4;
SELECT k FROM fk WHERE k IN (0.1::float4, 0.7::float4) ORDER BY k;
SELECT k FROM f4 WHERE k = 1e40::float8;
SELECT k FROM f4 WHERE k = 0.5::float8;
SELECT k FROM f4 WHERE k = 0.1::float8;
SELECT k FROM vc WHERE k = 'abcdef';
SELECT k FROM vc WHERE k IN ('abc', 'abcd');
-- a collation the nodes lack, or one under which equal values differ in
-- bytes, keeps a query off the one-shard path
CREATE COLLATION edges.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ck (k text NOT NULL, v int);
INSERT INTO ck VALUES ('apple', 1), ('APPLE', 2), ('pear', 3);
SET client_min_messages = warning;
SELECT create_distributed_table('ck', 'k', shard_count => 4);
RESET client_min_messages;
SELECT * FROM ck WHERE k = 'APPLE' COLLATE ci ORDER BY v;
SELECT * FROM ck WHERE k = 'APPLE' COLLATE "C";
-- ... IN lists and = ANY too
SELECT * FROM ck WHERE k COLLATE ci IN ('APPLE', 'PEAR') ORDER BY v;
SELECT * FROM ck WHERE k = ANY (ARRAY['Apple', 'x'] COLLATE ci) ORDER BY v;
PREPARE ck_any(text[]) AS SELECT count(*) FROM ck WHERE k COLLATE ci = ANY ($1);
EXECUTE ck_any('{APPLE}'); EXECUTE ck_any('{APPLE}'); EXECUTE ck_any('{APPLE}');
EXECUTE ck_any('{APPLE}'); EXECUTE ck_any('{APPLE}'); EXECUTE ck_any('{APPLE,PEAR}');

-- now() and its kin are the coordinator's in reads too (sent as parameters):
-- a node's own transaction starts when the coordinator's first uses it
CREATE TABLE tn (k int PRIMARY KEY, ts timestamptz, d date);
CREATE TABLE local_tn (k int PRIMARY KEY, ts timestamptz, d date);
SET client_min_messages = warning;
SELECT create_distributed_table('tn', 'k', shard_count => 4);
RESET client_min_messages;
BEGIN;
SELECT now() IS NOT NULL AS started;
SELECT pg_sleep(0.2);
INSERT INTO tn VALUES (1, clock_timestamp(), current_date), (2, now() - interval '1 day', current_date - 1);
INSERT INTO local_tn SELECT * FROM tn;
SELECT count(*) FROM tn WHERE ts > now();
SELECT count(*) FROM local_tn WHERE ts > now();
SELECT count(*) FROM tn WHERE k = 1 AND ts > now();
SELECT k FROM tn WHERE ts > now() - interval '1 hour' ORDER BY k;
SELECT count(*), max(k) FROM tn WHERE ts >= CURRENT_TIMESTAMP AND d = CURRENT_DATE;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM tn WHERE ts > now() - interval '1 hour';
COMMIT;

-- writes with now() and its kin go to the nodes whole, with the
-- coordinator's values as parameters
BEGIN;
SELECT pg_sleep(0.1);
SELECT plan('UPDATE tn SET ts = now() WHERE k = 2');
UPDATE tn SET ts = now() WHERE k = 2;
UPDATE local_tn SET ts = now() WHERE k = 2;
UPDATE tn SET d = current_date WHERE ts < now() - interval '1 hour';
UPDATE local_tn SET d = current_date WHERE ts < now() - interval '1 hour';
INSERT INTO tn VALUES (3, '2000-01-01', NULL) ON CONFLICT (k) DO UPDATE SET ts = now()
  RETURNING k, ts = now() AS now, d = current_date AS today;
INSERT INTO tn VALUES (2, '2000-01-01', NULL) ON CONFLICT (k) DO UPDATE SET ts = excluded.ts
  RETURNING k, ts = now() AS now, d = current_date AS today;
INSERT INTO local_tn VALUES (3, '2000-01-01', NULL), (2, '2000-01-01', current_date)
  ON CONFLICT (k) DO UPDATE SET ts = excluded.ts;
INSERT INTO tn SELECT k + 10, now(), current_date FROM tn WHERE k < 3;
INSERT INTO local_tn SELECT k + 10, now(), current_date FROM local_tn WHERE k < 3;
INSERT INTO tn VALUES (3, '2000-01-01', NULL) ON CONFLICT (k) DO UPDATE SET ts = now()
  RETURNING k, ts = now() AS now;
INSERT INTO local_tn VALUES (3, '2000-01-01', NULL) ON CONFLICT (k) DO UPDATE SET ts = now();
SELECT k, ts = now() AS now, d = current_date AS today FROM tn ORDER BY k;
SELECT k, ts = now() AS now, d = current_date AS today FROM local_tn ORDER BY k;
COMMIT;

-- values cross in ISO/postgres styles whatever the session's DateStyle and
-- IntervalStyle: zone abbreviations (IST) and sql_standard interval signs
-- would be read differently by the nodes
CREATE TABLE tzt (id int PRIMARY KEY, ts timestamptz, iv interval, d date);
CREATE TABLE local_tzt (id int PRIMARY KEY, ts timestamptz, iv interval, d date);
SET client_min_messages = warning;
SELECT create_distributed_table('tzt', 'id', shard_count => 4);
RESET client_min_messages;
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
INSERT INTO tzt VALUES (1, '2024-06-05 10:00:00+00', '-1 2:03:04', '05/06/2024');
INSERT INTO local_tzt VALUES (1, '2024-06-05 10:00:00+00', '-1 2:03:04', '05/06/2024');
PREPARE tz_ins(int, timestamptz, interval, date) AS INSERT INTO tzt VALUES ($1, $2, $3, $4);
EXECUTE tz_ins(2, '2024-06-05 10:00:00+00', '-1 2:03:04', '05/06/2024');
INSERT INTO local_tzt VALUES (2, '2024-06-05 10:00:00+00', '-1 2:03:04', '05/06/2024');
UPDATE tzt SET ts = ts + interval '1 hour' WHERE id = 2;
UPDATE local_tzt SET ts = ts + interval '1 hour' WHERE id = 2;
SELECT * FROM tzt ORDER BY id;
SELECT same('SELECT * FROM tzt');
SELECT same('SELECT id FROM tzt WHERE ts = ''05/06/2024 15:30:00+05:30'' AND iv = interval ''-1 2:03:04'' AND d = ''05/06/2024''');
SELECT same('SELECT id FROM tzt WHERE id = 2 AND ts > ''05/06/2024 16:00:00+05:30''');
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
SELECT * FROM tzt ORDER BY id;

-- an error a node raises about a COPY row names the row's line in the input
CREATE TABLE cpl (id int PRIMARY KEY, v text CHECK (v <> 'bad'));
SET client_min_messages = warning;
SELECT create_distributed_table('cpl', 'id', shard_count => 4);
RESET client_min_messages;
COPY cpl FROM STDIN;
1	a
2	b
3	bad
4	c
\.
COPY (SELECT CASE WHEN g = 15001 THEN 77 ELSE g END, 'v' || g FROM generate_series(1, 20000) g)
  TO '/tmp/shardext_regress_lines.txt';
COPY cpl FROM '/tmp/shardext_regress_lines.txt';
COPY (SELECT 1) TO PROGRAM 'rm -f /tmp/shardext_regress_lines.txt';
SELECT count(*) FROM cpl;
-- errors of the coordinator's own (NOT NULL, CHECK, a NULL distribution value) name the input line
COPY cpl FROM STDIN;
1	a
\N	b
\.

-- errors about shard objects whose names were cut and hashed (long names)
-- name the coordinator's objects
CREATE TABLE a_table_with_a_really_quite_long_name_for_testing_purposes_x (
  id int PRIMARY KEY,
  v int CONSTRAINT a_check_constraint_with_a_very_long_name_that_goes_on_and_on CHECK (v > 0));
SET client_min_messages = warning;
SELECT create_distributed_table('a_table_with_a_really_quite_long_name_for_testing_purposes_x', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO a_table_with_a_really_quite_long_name_for_testing_purposes_x VALUES (1, 1);
INSERT INTO a_table_with_a_really_quite_long_name_for_testing_purposes_x VALUES (1, 1);
INSERT INTO a_table_with_a_really_quite_long_name_for_testing_purposes_x VALUES (2, -1);

-- hunt 10 (session settings): conversions between values and text follow
-- the session's styles as on PostgreSQL, or are refused clearly
CREATE TABLE ss (k int PRIMARY KEY, t text, iv interval, f float8, ts timestamptz, d date);
CREATE TABLE local_ss (k int PRIMARY KEY, t text, iv interval, f float8, ts timestamptz, d date);
SET client_min_messages = warning;
SELECT create_distributed_table('ss', 'k', shard_count => 2);
RESET client_min_messages;
INSERT INTO ss VALUES (1, '-1 2:03:04', '1 year', 1.0/3, '2024-01-01 00:00+00', '2024-01-01'),
  (2, '2024-03-01 10:00 IST', '-1 days +01:00', 0.1, '2024-06-01 12:00+00', '2024-06-01');
INSERT INTO local_ss SELECT * FROM ss;
-- a text constant cast to a date in a multi-shard filter
SELECT same('SELECT k FROM ss WHERE d = ''2024-01-01''::text::date');
PREPARE ss_d(text) AS SELECT k FROM ss WHERE d = $1::date;
EXECUTE ss_d('2024-06-01');
SET IntervalStyle = 'sql_standard';
SET timezone_abbreviations = 'India';
SET TimeZone = 'UTC';
SET extra_float_digits = 0;
SET DateStyle = 'SQL, DMY';
SELECT same('SELECT k, t::interval FROM ss WHERE k = 1');
SELECT same('SELECT k, t::timestamptz FROM ss WHERE k = 2');
SELECT same('SELECT k, to_json(iv)::text, to_jsonb(f)::text, json_build_object(''f'', f)::text, xmlforest(iv, f)::text FROM ss');
SELECT same('SELECT k FROM ss WHERE to_json(iv)::text = ''"1-0"''');
SELECT same('SELECT k, ts::text, d::text, ''at '' || ts, format(''%s'', f) FROM ss');
UPDATE ss SET iv = t::interval WHERE k = 1;
UPDATE local_ss SET iv = t::interval WHERE k = 1;
SELECT same('SELECT k, iv FROM ss');
INSERT INTO ss VALUES (1) ON CONFLICT (k) DO UPDATE SET t = 'at ' || ss.ts;
INSERT INTO ss (k, ts) VALUES (60, '2024-01-01') RETURNING ts::text;
ALTER TABLE ss ALTER COLUMN ts TYPE text;
ALTER TABLE ss ADD COLUMN g float8 DEFAULT (1.0/3 + 0 * random())::float8;
ALTER TABLE local_ss ADD COLUMN g float8 DEFAULT (1.0/3 + 0 * random())::float8;
RESET IntervalStyle;
RESET timezone_abbreviations;
RESET TimeZone;
RESET extra_float_digits;
RESET DateStyle;
SELECT same('SELECT k, g FROM ss');
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT same($q$SELECT length(string_agg(t, '\\')) FROM ss$q$);
RESET escape_string_warning;
RESET standard_conforming_strings;

-- RETURNING now() of UPDATE/DELETE changed row by row (reference tables,
-- statements reading local tables) is the coordinator's time too
CREATE TABLE rtn (id int PRIMARY KEY, ts timestamptz);
CREATE TABLE dtn (id int PRIMARY KEY, ts timestamptz);
CREATE TABLE loc_ids (id int);
INSERT INTO loc_ids VALUES (1);
SET client_min_messages = warning;
SELECT create_reference_table('rtn');
SELECT create_distributed_table('dtn', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO rtn VALUES (1, now()), (2, now());
INSERT INTO dtn VALUES (1, now()), (2, now());
BEGIN;
SELECT pg_sleep(0.2);
UPDATE rtn SET ts = now() WHERE id = 1 RETURNING ts = now() AS same, now() = transaction_timestamp() AS txn_time;
DELETE FROM rtn WHERE id = 2 RETURNING now() = transaction_timestamp() AS txn_time;
UPDATE dtn SET ts = now() - interval '1 s' WHERE id IN (SELECT id FROM loc_ids)
  RETURNING ts = now() - interval '1 s' AS same, CURRENT_DATE = transaction_timestamp()::date AS today;
COMMIT;

-- values of anonymous record types are computed on the coordinator (a node
-- sends them as text that cannot be read back)
SELECT same('SELECT ROW(k, id) FROM a WHERE k = 2');
SELECT same('SELECT ROW(k, id), (w, s) FROM a WHERE k = 2 AND id = 12');
SELECT same('SELECT ARRAY[ROW(k, s)] FROM a WHERE k = 3');
SELECT same('SELECT (k, s) AS r, count(*) FROM a GROUP BY 1');
SELECT same('SELECT array_agg(ROW(k, id)) IS NOT NULL FROM a WHERE id < 5');
SELECT same('SELECT k, count(*) FROM a GROUP BY k, (id % 2, s)');
UPDATE a SET w = w WHERE k = 1 AND id = 11 RETURNING ROW(k, id);

-- an alias named like a schema, with a column named like the table: its
-- columns are not taken for the table (edges.al read like table edges.al)
CREATE TABLE al (id int PRIMARY KEY, al int, b text);
INSERT INTO al SELECT g, g % 5, 'x' || (g % 3) FROM generate_series(1, 60) g;
CREATE TABLE loc_al AS SELECT * FROM al;
SET client_min_messages = warning;
SELECT create_distributed_table('al', 'id', shard_count => 4);
RESET client_min_messages;
-- (run at the top level: inside same() they would be subqueries, planned
-- otherwise; the local twin's results follow each)
SELECT edges.al, count(*) FROM al AS edges GROUP BY 1 ORDER BY 1;
SELECT edges.al, count(*) FROM loc_al AS edges GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM al AS edges WHERE edges.al = 3;
SELECT count(*) FROM loc_al AS edges WHERE edges.al = 3;
SELECT sum(edges.al) FROM (SELECT al FROM al) AS edges;
SELECT sum(edges.al) FROM (SELECT al FROM loc_al) AS edges;
SELECT edges.id, edges.al FROM al AS edges WHERE edges.id = 2;
SELECT edges.al, edges.b FROM al AS edges ORDER BY edges.al DESC, edges.id LIMIT 3;
SELECT edges.al, edges.b FROM loc_al AS edges ORDER BY edges.al DESC, edges.id LIMIT 3;
BEGIN;
UPDATE al AS edges SET al = edges.al + 1 WHERE edges.id = 4 RETURNING edges.al;
ROLLBACK;

-- a bare column in ORDER BY or DISTINCT ON means an output column first, so
-- the nodes get qualified columns (a router query over one table had them
-- bare: sorted by the wrong column, or "ORDER BY k is ambiguous"), also where
-- the shards' outputs are renamed c1, c2, ... and columns have those names;
-- same(q, true) compares the rows in their order
SELECT same('SELECT s AS w FROM a WHERE k = 1 ORDER BY a.w DESC, id', true);
SELECT same('SELECT DISTINCT ON (a.w) s AS w FROM a WHERE k = 1 ORDER BY a.w DESC', true);
SELECT same('SELECT k, k::text FROM a WHERE k = 1 ORDER BY 1 LIMIT 2', true);
SELECT same('SELECT upper(s) AS s, s FROM a WHERE k = 3 ORDER BY 2, 1 LIMIT 3', true);
SET client_min_messages = warning;
CREATE TABLE cn (c3 int NOT NULL, c1 int);
INSERT INTO cn SELECT g, (g * 7) % 100 FROM generate_series(1, 300) g;
CREATE TABLE local_cn AS SELECT * FROM cn;
SELECT create_distributed_table('cn', 'c3', shard_count => 4);
RESET client_min_messages;
SELECT same('SELECT c1 FROM cn ORDER BY c1, c3 LIMIT 3', true);
SELECT same('SELECT c1, count(*) FROM cn GROUP BY c1 ORDER BY c1 LIMIT 3', true);
SELECT same('SELECT c3, c1 FROM cn WHERE c3 = 7 ORDER BY 2', true);

-- an equality in an outer join's ON clause filters no preserved row: it
-- does not make the tables it names co-located (each shard group would
-- join only its own rows), nor pin them to one shard; between the
-- preserved and the nullable side it does
SELECT same('SELECT count(*) FROM a CROSS JOIN a2 LEFT JOIN ref ON a.k = a2.k');
SELECT same('SELECT count(*) FROM a x JOIN a y ON x.k = y.k + 1 LEFT JOIN ref ON x.k = y.k');
SELECT same('SELECT count(*) FROM a CROSS JOIN a2 LEFT JOIN ref ON a.k = a2.k WHERE a.k = 5');
SELECT same('SELECT count(*) FROM a CROSS JOIN a2 LEFT JOIN a2 z ON z.k = a.k AND z.k = a2.k');
SELECT same('SELECT count(*) FROM a2 RIGHT JOIN (a CROSS JOIN ref) ON a2.k = a.k AND a2.k = ref.rk');
SELECT same('SELECT count(*), count(a2.id) FROM a LEFT JOIN a2 ON a.k = a2.k AND a.id = a2.id');
SELECT same('SELECT count(*), count(a2.id) FROM a FULL JOIN a2 ON a.k = a2.k AND a.id = a2.id + 1');
SELECT plan('SELECT count(*) FROM a LEFT JOIN a2 ON a.k = a2.k');
SELECT plan('SELECT count(*) FROM a CROSS JOIN a2 LEFT JOIN ref ON a.k = a2.k WHERE a.k = 5');

-- writes found by a differential hunt: SET identity = DEFAULT takes the
-- coordinator's sequence; SET generated = DEFAULT still updates (and counts)
-- the rows; system columns of shards are refused, not matched once per shard;
-- a WITH inserting into a distributed table, or any data-modifying WITH of
-- an UPDATE that is not pinned, is refused (it ran on the coordinator's own
-- table)
SET client_min_messages = warning;
CREATE TABLE wr (k int, id int, g int GENERATED BY DEFAULT AS IDENTITY,
				 v text, vlen int GENERATED ALWAYS AS (length(v)) STORED,
				 PRIMARY KEY (k, id));
SELECT create_distributed_table('wr', 'k', shard_count => 4);
RESET client_min_messages;
INSERT INTO wr (k, id, v) SELECT g, g, repeat('x', g) FROM generate_series(1, 4) g;
UPDATE wr SET g = DEFAULT WHERE k = 1 RETURNING k, g;
UPDATE wr SET g = DEFAULT WHERE id > 2;
SELECT count(DISTINCT g) AS new_values, min(g) > 5 AS from_the_sequence FROM wr WHERE id > 2;
UPDATE wr SET vlen = DEFAULT WHERE k = 1 RETURNING k, vlen;
UPDATE wr SET vlen = DEFAULT;
DELETE FROM wr WHERE ctid = '(0,1)';
SELECT count(*) FROM wr WHERE ctid = '(0,1)';
WITH x AS (INSERT INTO wr (k, id, v) VALUES (1, 9, 'y') RETURNING *)
  UPDATE a SET w = w + 1 WHERE k = 1 AND id IN (SELECT id FROM x);
WITH x AS (UPDATE wr SET v = 'z' WHERE k = 2 RETURNING *)
  UPDATE a SET w = w + 1 WHERE id IN (SELECT id FROM x);
SELECT count(*) FROM wr;

-- a prepared statement planned under one DateStyle follows a later SET
-- (its plan, which had the node write dates as text, is made again)
SET DateStyle = ISO;
PREPARE styled AS SELECT (date '2024-03-05' + k)::text AS d FROM a WHERE k = 1 AND id = 11;
EXECUTE styled;
SET DateStyle = German;
EXECUTE styled;
BEGIN;
SET LOCAL DateStyle = 'SQL, DMY';
EXECUTE styled;
COMMIT;
EXECUTE styled;
RESET DateStyle;
EXECUTE styled;
-- ... and a change by set_config(), or one a rollback takes back
SELECT set_config('DateStyle', 'German', false) IS NOT NULL AS set;
EXECUTE styled;
BEGIN;
SET DateStyle = ISO;
EXECUTE styled;
ROLLBACK;
EXECUTE styled;
BEGIN;
SAVEPOINT s;
SELECT set_config('DateStyle', 'SQL, DMY', false) IS NOT NULL AS set;
EXECUTE styled;
ROLLBACK TO SAVEPOINT s;
EXECUTE styled;
COMMIT;
-- a savepoint rolled back in between does not make the end of the
-- transaction forget the change
SET DateStyle = German;
BEGIN;
SET DateStyle = ISO;
SAVEPOINT s;
ROLLBACK TO SAVEPOINT s;
PREPARE styled_iso AS SELECT (date '2024-03-05' + k)::text AS d FROM a WHERE k = 1 AND id = 11;
EXECUTE styled_iso;
ROLLBACK;
EXECUTE styled_iso;
DEALLOCATE styled_iso;
RESET DateStyle;
-- a function that changes the style between its statements
CREATE FUNCTION styled_twice() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	first text;
	second text;
BEGIN
	SELECT (date '2024-03-05' + k)::text INTO first FROM a WHERE k = 1 AND id = 11;
	PERFORM set_config('DateStyle', 'German', true);
	SELECT (date '2024-03-05' + k)::text INTO second FROM a WHERE k = 1 AND id = 11;
	RETURN first || ' then ' || second;
END $$;
BEGIN;
SELECT styled_twice();
SELECT styled_twice();
COMMIT;
SELECT styled_twice();
DROP FUNCTION styled_twice();
RESET DateStyle;
DEALLOCATE styled;

-- correlated subqueries: a scan whose statement does not depend on the
-- outer row reads the shards once and replays the rows on later rescans;
-- one pinned by the outer row (its distribution column) is routed each time
-- (the local copy takes the rows the writes above left)
DELETE FROM local_a;
INSERT INTO local_a SELECT * FROM a;
SELECT same($$SELECT id, (SELECT count(*) FROM a a2 WHERE a2.id % 7 = a.id % 7 AND a2.w > a.w) FROM a WHERE id <= 40$$);
SELECT same($$SELECT id, (SELECT sum(w) FROM a a2 WHERE a2.k = a.k AND a2.id < a.id) FROM a WHERE id <= 40$$);
SELECT same($$SELECT count(*) FROM a WHERE EXISTS (SELECT 1 FROM tk WHERE tk.v > a.id % 3)$$);
SELECT same($$SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM a a2 WHERE a2.id > a.id * 2 + 50)$$);
SELECT same($$SELECT a.id, l.m FROM a, LATERAL (SELECT max(a2.w) m FROM a a2 WHERE a2.id % 5 = a.id % 5 AND a2.s = a.s) l WHERE a.id < 20$$);
SELECT same($$SELECT id, (SELECT count(*) FROM a a2 WHERE a2.id % 7 = a.id % 7 AND a2.w > $$ || 30 || $$) FROM a WHERE id <= 40$$);
-- EXPLAIN ANALYZE shows the rescans served from memory
CREATE FUNCTION rescans(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		IF line ~ 'Rescans|ShardextScan' THEN
			RETURN NEXT line;
		END IF;
	END LOOP;
END $$;
SELECT rescans($$SELECT id, (SELECT count(*) FROM a a2 WHERE a2.id % 7 = a.id % 7) FROM a WHERE id <= 40$$);
PREPARE corr(numeric) AS SELECT sum((SELECT count(*) FROM a a2 WHERE a2.id % 3 = a.id % 3 AND a2.w > $1)) FROM a WHERE id <= 30;
EXECUTE corr(10);
EXECUTE corr(90);
SELECT sum((SELECT count(*) FROM local_a a2 WHERE a2.id % 3 = a.id % 3 AND a2.w > 90)) FROM local_a a WHERE id <= 30;
DEALLOCATE corr;
-- the rows replayed are those of the statement's own snapshot, writes of
-- the transaction included
BEGIN;
UPDATE a SET w = w + 1000 WHERE id % 10 = 3;
UPDATE local_a SET w = w + 1000 WHERE id % 10 = 3;
SELECT same($$SELECT id, (SELECT count(*) FROM a a2 WHERE a2.id % 7 = a.id % 7 AND a2.w > a.w) FROM a WHERE id <= 40$$);
ROLLBACK;

-- UPDATE/DELETE reading another table: lengths of char(n), bit(n) and
-- varchar(n) columns as PostgreSQL applies them; a row found twice, with a
-- long key, changed once
SET client_min_messages = warning;
CREATE TABLE cn9 (k int, name char(6), val char(4), bt bit(4), vc varchar(5), PRIMARY KEY (k, name));
CREATE TABLE src9 (id int PRIMARY KEY, k int);
SELECT create_distributed_table('cn9', 'k', shard_count => 4);
SELECT create_distributed_table('src9', 'id', shard_count => 4, colocate_with => 'none');
RESET client_min_messages;
INSERT INTO cn9 VALUES (1, 'a', 'wxyz', B'0000', 'ab'), (2, 'abcdef', 'wxyz', B'0000', 'ab');
INSERT INTO src9 VALUES (1, 1), (2, 2);
UPDATE cn9 SET val = 'QRST', bt = B'1011' FROM src9 WHERE src9.k = cn9.k RETURNING cn9.*;
UPDATE cn9 SET vc = 'toolong' FROM src9 WHERE src9.k = cn9.k;
UPDATE cn9 SET val = 'Q' FROM src9 WHERE src9.k = cn9.k RETURNING cn9.val || '|' AS v;
DELETE FROM cn9 USING src9 WHERE src9.k = cn9.k;
SET client_min_messages = warning;
CREATE TABLE lk9 (k int, name text, v int, PRIMARY KEY (k, name));
SELECT create_distributed_table('lk9', 'k', shard_count => 4);
RESET client_min_messages;
CREATE TEMP TABLE pick9 (x int);
INSERT INTO pick9 SELECT g FROM generate_series(1, 3000) g;
INSERT INTO pick9 SELECT g FROM generate_series(1, 3000) g;
INSERT INTO lk9 SELECT 1, repeat('x', 300) || g, g FROM generate_series(1, 3000) g;
DO $$
DECLARE
	n bigint;
BEGIN
	UPDATE lk9 SET v = lk9.v + 1 FROM pick9 WHERE pick9.x = lk9.v;
	GET DIAGNOSTICS n = ROW_COUNT;
	RAISE NOTICE 'updated % rows', n;
END $$;
SELECT count(*), sum(v) FROM lk9;

-- a scan reads at most 64 shards of a node with one statement
SET client_min_messages = warning;
CREATE TABLE many (id int PRIMARY KEY, v int);
INSERT INTO many SELECT g, g % 97 FROM generate_series(1, 3000) g;
CREATE TABLE local_many AS SELECT * FROM many;
SELECT create_distributed_table('many', 'id', shard_count => 300);
RESET client_min_messages;
SELECT (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM
		(SELECT m.v, count(*) FROM many m JOIN many n ON n.id = m.v + 1 WHERE random() >= 0 GROUP BY m.v) x) =
	   (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM
		(SELECT m.v, count(*) FROM local_many m JOIN local_many n ON n.id = m.v + 1 GROUP BY m.v) x) AS same_rows;

-- an input error after batches went to the nodes still names its line
COPY (SELECT v, repeat('x', 100) FROM (SELECT g::text AS v, g AS o FROM generate_series(1, 50000) g
      UNION ALL SELECT 'oops', 50001) s ORDER BY o)
  TO '/tmp/shardext_regress_big.csv' WITH (FORMAT csv);
COPY big FROM '/tmp/shardext_regress_big.csv' WITH (FORMAT csv);
COPY (SELECT 1) TO PROGRAM 'rm -f /tmp/shardext_regress_big.csv';
-- COPY FREEZE: refused as for a table not created or truncated in the
-- (sub)transaction, else accepted
COPY big FROM PROGRAM 'true' WITH (FREEZE);
BEGIN;
TRUNCATE big;
COPY big FROM STDIN WITH (FREEZE);
1	one
\.
COMMIT;
SELECT * FROM big;
-- ... and, as for a table, after other activity of the transaction
BEGIN;
TRUNCATE big;
DECLARE freeze_cursor CURSOR FOR SELECT 1;
COPY big FROM STDIN WITH (FREEZE);
2	two
\.
ROLLBACK;
SELECT * FROM big;
-- a data-modifying WITH under a statement that reads no table is planned
-- by shardext too (it wrote into the coordinator's empty table): an INSERT
-- of one row goes to that row's shard
WITH d AS (INSERT INTO big VALUES (7, 'ghost')) SELECT 1;
WITH d AS (INSERT INTO big VALUES (7, 'ghost') RETURNING id) SELECT (SELECT count(*) FROM d);
SELECT count(*) AS ghosts, pg_relation_size('big') AS coordinator_bytes FROM big WHERE id = 7;
WITH d AS (INSERT INTO big VALUES (8, 'eight') RETURNING *) SELECT * FROM d;
WITH d AS (INSERT INTO big VALUES (9, 'nine') RETURNING *) SELECT d.*, (SELECT count(*) FROM big WHERE id = 9) AS seen_before FROM d;
WITH d AS (INSERT INTO big VALUES (10, 'ten'), (11, 'eleven') RETURNING *) SELECT * FROM d;
DELETE FROM big WHERE id BETWEEN 7 AND 11;
-- NOT NULL and CHECK are checked as COPY reads the rows: the first bad row
-- is the one reported, as for a local table
CREATE TABLE checked (id int, v int NOT NULL, w text CHECK (length(w) < 5),
                      g int GENERATED ALWAYS AS (v * 2) STORED CHECK (g < 100));
SET client_min_messages = warning;
SELECT create_distributed_table('checked', 'id', shard_count => 4);
RESET client_min_messages;
COPY checked FROM STDIN;
1	1	a
2	\N	b
3	3	cccccc
4	foo	c
\.
COPY checked FROM STDIN;
1	60	a
2	2	bbbbbbbb
\.
COPY checked FROM STDIN;
1	6	a
\.
SELECT * FROM checked;
DROP TABLE checked;
-- a node's error carries the coordinator's table and constraint names in
-- its fields, as on a local twin (GET STACKED DIAGNOSTICS, drivers)
CREATE TABLE diag (id int PRIMARY KEY, v int CHECK (v > 0));
CREATE TABLE diag_local (id int PRIMARY KEY, v int CHECK (v > 0));
SET client_min_messages = warning;
SELECT create_distributed_table('diag', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO diag VALUES (1, 1);
INSERT INTO diag_local VALUES (1, 1);
DO $$
DECLARE
	t text;
	statement text;
	c text;
	tab text;
	sch text;
BEGIN
	FOREACH t IN ARRAY ARRAY['diag', 'diag_local'] LOOP
		FOREACH statement IN ARRAY ARRAY['INSERT INTO %I VALUES (1, 1)', 'INSERT INTO %I VALUES (2, 0)'] LOOP
			BEGIN
				EXECUTE format(statement, t);
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME, tab = TABLE_NAME, sch = SCHEMA_NAME;
				RAISE NOTICE '%: schema %, table %, constraint %', t, sch, tab, c;
			END;
		END LOOP;
	END LOOP;
END $$;
DROP TABLE diag, diag_local;
-- a reference table with no column COPY loads (generated ones only)
CREATE TABLE only_generated (g int GENERATED ALWAYS AS (1) STORED);
SET client_min_messages = warning;
SELECT create_reference_table('only_generated');
RESET client_min_messages;
COPY only_generated FROM STDIN;


\.
SELECT g, count(*) FROM only_generated GROUP BY g;
INSERT INTO only_generated DEFAULT VALUES;

SET client_min_messages = warning;
DROP SCHEMA edges CASCADE;

-- values are read back as the nodes write them, whatever array_nulls and
-- xmloption say about this session's own input; quote_all_identifiers
-- reaches the nodes
SET client_min_messages = warning;
CREATE SCHEMA edges2;
SET search_path = edges2, public;
CREATE TABLE an (id int PRIMARY KEY, a text[], b int[], x xml, t text);
CREATE TABLE local_an (LIKE an);
SELECT create_distributed_table('an', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO an VALUES (1, '{"NULL",NULL}', '{1,NULL}', 'text only', 'abc'),
	(2, '{x}', '{2}', '<a>x<b/></a>', 'Abc');
INSERT INTO local_an SELECT * FROM an;
SET array_nulls = off;
SET xmloption = document;
SELECT a, b, x FROM an ORDER BY id;
SELECT a, b, x FROM local_an ORDER BY id;
RESET array_nulls;
RESET xmloption;
SET quote_all_identifiers = on;
SELECT id FROM an WHERE quote_ident(t) = '"abc"';
SELECT id FROM local_an WHERE quote_ident(t) = '"abc"';
RESET quote_all_identifiers;
CREATE TABLE rg (id int, rc regclass);
SELECT create_distributed_table('rg', 'id');
SET client_min_messages = warning;
DROP SCHEMA edges2 CASCADE;

-- HAVING conditions without aggregates that the nodes cannot compute stay
-- on the coordinator; INSERT ... ON CONFLICT through a view names EXCLUDED
-- as the nodes read it; a read that fails inside a PL/pgSQL exception
-- block leaves the transaction usable
SET client_min_messages = warning;
CREATE SCHEMA edges3;
SET search_path = edges3, public;
CREATE TABLE t (id int PRIMARY KEY, grp int, val int);
SELECT create_distributed_table('t', 'id', shard_count => 4);
CREATE TABLE r (id int PRIMARY KEY, label text);
SELECT create_reference_table('r');
RESET client_min_messages;
INSERT INTO t SELECT g, g % 5, g FROM generate_series(1, 40) g;
INSERT INTO r VALUES (1, 'a'), (2, 'b');
CREATE TABLE lt AS SELECT * FROM t;
ALTER TABLE lt ADD PRIMARY KEY (id);
CREATE FUNCTION uf(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN $1 % 3; END $$;
SELECT grp, count(*) FROM t GROUP BY grp HAVING current_setting('search_path') = 'edges3, public' ORDER BY 1;
SELECT grp, count(*) FROM t GROUP BY grp HAVING uf(grp) = 1 ORDER BY 1;
SELECT grp, count(*) FROM lt GROUP BY grp HAVING uf(grp) = 1 ORDER BY 1;
SELECT id, count(*) FROM t WHERE id = 3 GROUP BY id HAVING uf(id) = 0;
CREATE VIEW tv AS SELECT id, val FROM t;
CREATE VIEW ltv AS SELECT id, val FROM lt;
CREATE VIEW rv AS SELECT id, label FROM r;
INSERT INTO tv VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET val = excluded.val + tv.val;
INSERT INTO ltv VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET val = excluded.val + ltv.val;
INSERT INTO tv VALUES (3, 5) ON CONFLICT (id) DO UPDATE SET val = excluded.val WHERE excluded.val = 5;
INSERT INTO ltv VALUES (3, 5) ON CONFLICT (id) DO UPDATE SET val = excluded.val WHERE excluded.val = 5;
SELECT (SELECT array_agg(val ORDER BY id) FROM t WHERE id < 5) =
	(SELECT array_agg(val ORDER BY id) FROM lt WHERE id < 5) AS same;
INSERT INTO rv VALUES (1, 'c') ON CONFLICT (id) DO UPDATE SET label = excluded.label;
SELECT * FROM r ORDER BY id;
CREATE FUNCTION f_err(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	IF i = 33 THEN
		RAISE EXCEPTION 'bad row %', i;
	END IF;
	RETURN i;
END $$;
BEGIN;
INSERT INTO t VALUES (100, 1, 1);
DO $$
BEGIN
	BEGIN
		PERFORM count(*) FROM t WHERE f_err(id) > 0;
	EXCEPTION WHEN others THEN
		RAISE NOTICE 'caught %', sqlerrm;
	END;
	BEGIN
		PERFORM count(*) FROM t WHERE 1 / (id - 33) > 0;
	EXCEPTION WHEN others THEN
		RAISE NOTICE 'caught %', sqlerrm;
	END;
	BEGIN
		PERFORM f_err(id) FROM t WHERE id = 33;
	EXCEPTION WHEN others THEN
		RAISE NOTICE 'caught %', sqlerrm;
	END;
	BEGIN
		PERFORM f_err(id + 32) FROM r;
	EXCEPTION WHEN others THEN
		RAISE NOTICE 'caught %', sqlerrm;
	END;
	RAISE NOTICE 'rows: %', (SELECT count(*) FROM t);
END $$;
COMMIT;
SELECT count(*) FROM t;
SET client_min_messages = warning;
DROP SCHEMA edges3 CASCADE;

-- TABLESAMPLE reaches the shards of a multi-shard scan (each samples its
-- rows; 0 and 100 percent are exact)
CREATE SCHEMA edges4;
SET search_path = edges4;
CREATE TABLE sampled (k int, v int);
INSERT INTO sampled SELECT g, g FROM generate_series(1, 400) g;
SET client_min_messages = warning;
SELECT create_distributed_table('sampled', 'k', shard_count => 4);
RESET client_min_messages;
CREATE TABLE other (k int, w int);
INSERT INTO other SELECT g, g FROM generate_series(1, 400) g;
SELECT count(*) FROM (SELECT k FROM sampled TABLESAMPLE BERNOULLI (0)) s;
SELECT count(*) FROM (SELECT k FROM sampled TABLESAMPLE BERNOULLI (100)) s;
SELECT count(*) FROM (SELECT k FROM sampled TABLESAMPLE SYSTEM (0) WHERE k IN (3, 5)) s;
SELECT count(*) FROM (SELECT k FROM sampled TABLESAMPLE SYSTEM (100) REPEATABLE (7) WHERE k > 10) s;
SELECT count(*) FROM sampled TABLESAMPLE BERNOULLI (0) JOIN other USING (k);
SELECT count(*) BETWEEN 100 AND 300 AS about_half
  FROM (SELECT k FROM sampled TABLESAMPLE BERNOULLI (50)) s;
PREPARE sample_of(real) AS SELECT count(*) FROM (SELECT k FROM sampled TABLESAMPLE BERNOULLI ($1)) s;
EXECUTE sample_of(0);
EXECUTE sample_of(100);
-- arguments computed on the coordinator (subqueries) are sent as parameters
SELECT count(*) FROM (SELECT k FROM sampled
  TABLESAMPLE BERNOULLI ((SELECT 100 - count(*) FROM other WHERE k > 400)) REPEATABLE ((SELECT 1))) s;
SELECT count(*) FROM (SELECT k FROM sampled TABLESAMPLE SYSTEM ((SELECT min(k) - 1 FROM other))) s;
SET client_min_messages = warning;
DROP SCHEMA edges4 CASCADE;

-- UPDATEs that find their rows on the coordinator: new values computed from
-- the row alone go to the node's SET, except what the node would compute
-- otherwise (element and field assignments, casts of one's own, array_nulls
-- off, session functions); the local twin is the oracle
CREATE SCHEMA edges5;
SET search_path = edges5;
CREATE TYPE comp AS (f int, g text);
CREATE TABLE helper (id int);
INSERT INTO helper VALUES (1), (2);
CREATE TABLE dt (id int PRIMARY KEY, n int, a int[], j jsonb, cp comp, d date, ta text[], s text);
CREATE TABLE lt (LIKE dt INCLUDING ALL);
SET client_min_messages = warning;
SELECT create_distributed_table('dt', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO dt VALUES (1, 1, '{1,2,3}', '{"k":1}', '(1,x)', NULL, NULL, 'a'),
                      (2, 2, '{4,5,6}', '{"k":2}', '(2,y)', NULL, NULL, 'b');
INSERT INTO lt SELECT * FROM dt;
CREATE FUNCTION same_rows() RETURNS boolean LANGUAGE sql AS $$
	SELECT (SELECT string_agg(x::text, '|' ORDER BY id) FROM dt x) =
		   (SELECT string_agg(x::text, '|' ORDER BY id) FROM lt x) $$;
UPDATE dt SET n = n * 10 + 1, a[2] = a[1] + 100 WHERE id IN (SELECT id FROM helper);
UPDATE lt SET n = n * 10 + 1, a[2] = a[1] + 100 WHERE id IN (SELECT id FROM helper);
UPDATE dt SET j['k'] = j['k'], cp.f = (cp).f + 1 WHERE id IN (SELECT id FROM helper);
UPDATE lt SET j['k'] = j['k'], cp.f = (cp).f + 1 WHERE id IN (SELECT id FROM helper);
CREATE CAST (int4 AS date) WITH INOUT;
-- (a cast of one's own is computed on the coordinator, also by a router query)
SELECT id, (id + 20240300)::date AS d FROM dt WHERE id = 1;
SELECT count(*) FROM dt WHERE (id + 20240300)::date > '2024-03-01';
UPDATE dt SET d = (id + 20240300)::date WHERE id IN (SELECT id FROM helper);
UPDATE lt SET d = (id + 20240300)::date WHERE id IN (SELECT id FROM helper);
SET array_nulls = off;
UPDATE dt SET ta = ('{' || s || ',NULL}')::text[] WHERE id IN (SELECT id FROM helper);
UPDATE lt SET ta = ('{' || s || ',NULL}')::text[] WHERE id IN (SELECT id FROM helper);
RESET array_nulls;
SET client_encoding = 'LATIN1';
UPDATE dt SET s = s || pg_client_encoding() WHERE id IN (SELECT id FROM helper);
UPDATE lt SET s = s || pg_client_encoding() WHERE id IN (SELECT id FROM helper);
RESET client_encoding;
SELECT same_rows();
SELECT * FROM dt ORDER BY id;
DROP CAST (int4 AS date);
SET client_min_messages = warning;
DROP SCHEMA edges5 CASCADE;

-- a shard's table missing on its node: the error says which shard
\getenv coord_port SHARDEXT_COORD_PORT
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
RESET client_min_messages;
SET search_path = public;
CREATE TABLE missing_shard (id int PRIMARY KEY);
SET client_min_messages = warning;
SELECT create_distributed_table('missing_shard', 'id', shard_count => 2);
RESET client_min_messages;
SELECT s.shard_relation AS shard, split_part(s.shard_relation, '.', 2) AS shard_name
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE s.table_name = 'missing_shard'::regclass AND p.node_id = 1 \gset
\c regression - 127.0.0.1 :worker1_port
ALTER TABLE :shard RENAME TO missing_shard_elsewhere;
\c regression - 127.0.0.1 :coord_port
SELECT regexp_replace(expect_error('SELECT count(*) FROM missing_shard', true), '_\d+', '_<id>', 'g') AS error;
\c regression - 127.0.0.1 :worker1_port
ALTER TABLE public.missing_shard_elsewhere RENAME TO :"shard_name";
\c regression - 127.0.0.1 :coord_port
SELECT count(*) FROM missing_shard;
DROP TABLE missing_shard;
-- names with dots in node messages read as the coordinator's
CREATE TABLE "a.b" (id int PRIMARY KEY, v int CHECK (v > 0));
SET client_min_messages = warning;
SELECT create_distributed_table('"a.b"', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO "a.b" VALUES (1, 1);
SELECT expect_error('INSERT INTO "a.b" VALUES (1, 1)', true);
SELECT expect_error('INSERT INTO "a.b" VALUES (2, -1)');
DROP TABLE "a.b";
-- node sessions search pg_catalog only: an operator a node has in public
-- (as an extension such as intarray brings) does not replace the built-in
-- one the coordinator chose, in queries or in shard DDL
\c regression - 127.0.0.1 :worker1_port
CREATE FUNCTION public.hijacked(int[], int[]) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR public.@> (LEFTARG = int[], RIGHTARG = int[], FUNCTION = public.hijacked);
\c regression - 127.0.0.1 :worker2_port
CREATE FUNCTION public.hijacked(int[], int[]) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR public.@> (LEFTARG = int[], RIGHTARG = int[], FUNCTION = public.hijacked);
\c regression - 127.0.0.1 :coord_port
CREATE SCHEMA edges_ops;
SET search_path = edges_ops, public;
CREATE FUNCTION same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d text;
	l text;
BEGIN
	EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', '|', q) INTO d;
	EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', '|',
				   regexp_replace(q, '\marr\M', 'local_arr', 'g')) INTO l;
	RETURN CASE WHEN d IS NOT DISTINCT FROM l THEN 'same'
		   ELSE 'DIFFERENT: ' || coalesce(d, '<none>') || ' vs ' || coalesce(l, '<none>') END;
END $$;
CREATE TABLE arr (id int PRIMARY KEY, tags int[]);
INSERT INTO arr SELECT g, ARRAY[g % 3, g % 5] FROM generate_series(1, 30) g;
CREATE TABLE local_arr AS SELECT * FROM arr;
SET client_min_messages = warning;
SELECT create_distributed_table('arr', 'id', shard_count => 4);
RESET client_min_messages;
SELECT same($$SELECT id FROM arr WHERE tags @> '{1}'$$);
SELECT same($$SELECT id FROM arr WHERE id = 6 AND tags @> '{0}'$$);
SELECT same($$SELECT count(*) FILTER (WHERE tags @> '{2}') FROM arr$$);
ALTER TABLE arr ADD CONSTRAINT no_seven CHECK (NOT tags @> '{7}');
SELECT expect_error($$INSERT INTO arr VALUES (100, '{7}')$$, true);
INSERT INTO arr VALUES (101, '{1}');
CREATE INDEX arr_has_one ON arr ((tags @> '{1}'));
SELECT count(*) FROM arr WHERE tags @> '{1}';
-- functions that act on the server run on the coordinator, in router
-- statements too: large objects, NOTIFY, advisory locks
CREATE TABLE lob (id int PRIMARY KEY, o oid, v text);
SET client_min_messages = warning;
SELECT create_distributed_table('lob', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO lob VALUES (1, lo_from_bytea(0, 'hello'), 'one'), (2, lo_from_bytea(0, 'world'), 'two');
SELECT convert_from(lo_get(o), 'UTF8') FROM lob WHERE id = 1;
UPDATE lob SET o = lo_from_bytea(0, 'again') WHERE id = 2 RETURNING id;
SELECT id, convert_from(lo_get(o), 'UTF8') FROM lob ORDER BY id;
SELECT o AS gone FROM lob WHERE id = 1 \gset
SELECT lo_unlink(o) FROM lob WHERE id = 1;
SELECT count(*) FROM pg_largeobject_metadata WHERE oid = :gone;
SELECT lo_unlink(o) FROM lob WHERE id = 2;
CREATE FUNCTION remote_sql(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		IF line ~ 'Remote SQL' THEN
			RETURN NEXT regexp_replace(line, '_\d+', '_<id>', 'g');
		END IF;
	END LOOP;
END $$;
SELECT remote_sql($$SELECT pg_notify('ch', v) FROM lob WHERE id = 1$$);
BEGIN;
SELECT pg_advisory_xact_lock(id) FROM lob WHERE id = 2;
SELECT count(*) AS held_here FROM pg_locks
 WHERE locktype = 'advisory' AND objid = 2 AND pid = pg_backend_pid();
COMMIT;
-- FOR UPDATE in subqueries: routed when one shard group answers, refused
-- clearly otherwise; a reference table's rows are not locked on one copy
CREATE TABLE job (tenant int, id int, status text, PRIMARY KEY (tenant, id));
INSERT INTO job SELECT g % 5, g, 'pending' FROM generate_series(1, 50) g;
CREATE TABLE job_status (code text PRIMARY KEY);
INSERT INTO job_status VALUES ('pending'), ('done');
SET client_min_messages = warning;
SELECT create_distributed_table('job', 'tenant', shard_count => 4);
SELECT create_reference_table('job_status');
RESET client_min_messages;
BEGIN;
SELECT coalesce((SELECT id FROM job WHERE tenant = 3 AND status = 'pending'
                  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED), 0) AS picked;
SELECT remote_sql($$SELECT coalesce((SELECT id FROM job WHERE tenant = 3 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED), 0)$$);
ROLLBACK;
BEGIN;
SELECT expect_error($$SELECT count(*) FROM (SELECT id FROM job WHERE status = 'pending' FOR UPDATE) x$$);
ROLLBACK;
BEGIN;
SELECT expect_error($$UPDATE job SET status = 'running' WHERE (tenant, id) IN
   (SELECT tenant, id FROM job WHERE tenant = 4 AND status = 'pending' LIMIT 2 FOR UPDATE SKIP LOCKED)$$);
ROLLBACK;
BEGIN;
SELECT expect_error($$SELECT count(*) FROM job j WHERE j.tenant = 3 AND j.status IN
   (SELECT code FROM job_status WHERE code = 'pending' FOR UPDATE)$$);
ROLLBACK;
-- names of types, and descriptions, as the coordinator's session has them
CREATE TYPE job_mood AS ENUM ('sad', 'ok');
CREATE TABLE moods (id int PRIMARY KEY, m job_mood, o oid);
SET client_min_messages = warning;
SELECT create_distributed_table('moods', 'id', shard_count => 2);
RESET client_min_messages;
COMMENT ON TABLE moods IS 'mood table';
INSERT INTO moods VALUES (1, 'ok', 'moods'::regclass);
SELECT pg_typeof(m)::text, obj_description(o, 'pg_class') FROM moods WHERE id = 1;
SELECT count(*) FROM moods WHERE pg_typeof(m)::text = 'job_mood';
SELECT expect_error($$UPDATE moods SET m = (m::text || 'zz')::job_mood WHERE id = 1$$);
SELECT id FROM moods WHERE pg_typeof(m) = 'job_mood'::regtype;
SELECT id FROM moods WHERE id = 1 AND pg_typeof(m) = 'job_mood'::regtype;
SELECT pg_typeof(t), 'x' || pg_typeof(m) AS cat FROM moods t WHERE id = 1;
-- a value in a node's detail stays as it is, even if it reads like a type
CREATE TABLE mood_notes (id int, v text, UNIQUE (id, v));
SET client_min_messages = warning;
SELECT create_distributed_table('mood_notes', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO mood_notes VALUES (1, 'edges_ops.job_mood');
SELECT expect_error($$INSERT INTO mood_notes VALUES (1, 'edges_ops.job_mood')$$, true);
-- a value a domain distribution column cannot hold matches no row
CREATE DOMAIN job_pos AS int CHECK (VALUE > 0);
CREATE TABLE dom_key (k job_pos, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('dom_key', 'k', shard_count => 4);
RESET client_min_messages;
INSERT INTO dom_key VALUES (1, 1), (2, 2);
SELECT * FROM dom_key WHERE k = 0;
SELECT * FROM dom_key WHERE k IN (1, 0);
UPDATE dom_key SET v = v + 1 WHERE k IN (2, -2) RETURNING *;
CREATE TABLE dom_dir (k job_pos, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('dom_dir', 'k', 'directory', shard_count => 2);
RESET client_min_messages;
SELECT expect_error($$SELECT shardext_directory_assign('dom_dir', -1,
       (SELECT min(shard_id) FROM shardext.shards WHERE table_name = 'dom_dir'::regclass))$$);
DO $$ BEGIN EXECUTE (SELECT format('SELECT %s FROM dom_key', string_agg('avg(v)', ', '))
                       FROM generate_series(1, 900)); END $$;
-- correlated subqueries and LATERAL items over a distributed table
CREATE TABLE big_o (id int PRIMARY KEY, cust int, amount int);
INSERT INTO big_o SELECT g, g % 50, g FROM generate_series(1, 12000) g;
INSERT INTO big_o VALUES (12001, NULL, 5);
CREATE TABLE big_o_local AS SELECT * FROM big_o;
CREATE TABLE custs (id int, name text);
INSERT INTO custs SELECT g, 'c' || g FROM generate_series(0, 9) g;
INSERT INTO custs VALUES (NULL, 'none');
SET client_min_messages = warning;
SELECT create_distributed_table('big_o', 'id', shard_count => 4);
RESET client_min_messages;
ANALYZE big_o;
SELECT (SELECT string_agg(c.id || ':' || coalesce((SELECT sum(amount) FROM big_o o WHERE o.cust = c.id)::text, '-'), ',' ORDER BY c.id) FROM custs c) =
       (SELECT string_agg(c.id || ':' || coalesce((SELECT sum(amount) FROM big_o_local o WHERE o.cust = c.id)::text, '-'), ',' ORDER BY c.id) FROM custs c) AS scalar_same;
SELECT (SELECT string_agg(c.name || ':' || t.id, ',' ORDER BY c.name, t.id) FROM custs c,
          LATERAL (SELECT id FROM big_o o WHERE o.cust = c.id ORDER BY amount DESC LIMIT 2) t) =
       (SELECT string_agg(c.name || ':' || t.id, ',' ORDER BY c.name, t.id) FROM custs c,
          LATERAL (SELECT id FROM big_o_local o WHERE o.cust = c.id ORDER BY amount DESC LIMIT 2) t) AS lateral_same;
SELECT (SELECT count(*) FROM custs c WHERE NOT EXISTS (SELECT 1 FROM big_o o WHERE o.cust = c.id AND o.amount > 11990)) =
       (SELECT count(*) FROM custs c WHERE NOT EXISTS (SELECT 1 FROM big_o_local o WHERE o.cust = c.id AND o.amount > 11990)) AS not_exists_same;
-- (an outer value of an enum type)
CREATE TABLE big_m (id int PRIMARY KEY, m job_mood);
INSERT INTO big_m SELECT g, CASE WHEN g % 3 = 0 THEN 'sad' ELSE 'ok' END::job_mood
  FROM generate_series(1, 12000) g;
CREATE TABLE big_m_local AS SELECT * FROM big_m;
SET client_min_messages = warning;
SELECT create_distributed_table('big_m', 'id', shard_count => 4);
RESET client_min_messages;
ANALYZE big_m;
SELECT (SELECT string_agg(x.m || ':' || (SELECT count(*) FROM big_m b WHERE b.m = x.m), ',' ORDER BY x.m)
          FROM (VALUES ('sad'::job_mood), ('ok')) x(m)) =
       (SELECT string_agg(x.m || ':' || (SELECT count(*) FROM big_m_local b WHERE b.m = x.m), ',' ORDER BY x.m)
          FROM (VALUES ('sad'::job_mood), ('ok')) x(m)) AS enum_outer_same;
-- more constants than a statement may have parameters (the rest stay
-- literals), more averages than a per-shard query may return (not pushed)
\set ECHO none
SELECT format('SELECT count(*) AS many_constants FROM dom_key WHERE k = 1 AND v IN (%s)',
              string_agg(g::text, ',')) FROM generate_series(1, 70000) g \gexec
SELECT format('SELECT count(*) AS many_averages FROM (SELECT %s FROM dom_key) x',
              string_agg('avg(v)', ', ')) FROM generate_series(1, 900) g \gexec
\set ECHO all
DROP SCHEMA edges_ops CASCADE;
\c regression - 127.0.0.1 :worker1_port
DROP OPERATOR public.@> (int[], int[]);
DROP FUNCTION public.hijacked(int[], int[]);
\c regression - 127.0.0.1 :worker2_port
DROP OPERATOR public.@> (int[], int[]);
DROP FUNCTION public.hijacked(int[], int[]);
\c regression - 127.0.0.1 :coord_port
