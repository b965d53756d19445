--
-- Prepared statements and plpgsql on distributed tables: parameters of
-- many types, on the distribution column and in other quals, custom and
-- generic plans, NULL parameters, and search_path changes between
-- executions.
--
CREATE SCHEMA dist_prepared;
SET search_path = dist_prepared, public;

CREATE TABLE by_int (k int PRIMARY KEY, v text, n numeric, d date, u uuid, b bool);
CREATE TABLE by_bigint (k bigint, v text);
CREATE TABLE by_text (k text PRIMARY KEY, hits int);
CREATE TABLE by_numeric (k numeric, v text);
CREATE TABLE by_date (k date, v text);
CREATE TABLE by_uuid (k uuid, v text);
CREATE TABLE by_bool (k bool, v text);
CREATE TABLE by_range (k int, v text);
INSERT INTO by_int
SELECT g, 'v' || g, g * 1.5, date '2024-01-01' + g, md5(g::text)::uuid, g % 2 = 0
  FROM generate_series(1, 50) g;
INSERT INTO by_bigint SELECT g * 10000000000, 'big ' || g FROM generate_series(1, 20) g;
INSERT INTO by_text SELECT 'key ' || g, g FROM generate_series(1, 20) g;
INSERT INTO by_numeric SELECT g / 8.0, 'num ' || g FROM generate_series(-10, 10) g;
INSERT INTO by_date SELECT date '2024-02-20' + g, 'day ' || g FROM generate_series(0, 20) g;
INSERT INTO by_uuid SELECT md5(g::text)::uuid, 'uuid ' || g FROM generate_series(1, 20) g;
INSERT INTO by_bool VALUES (true, 'yes'), (false, 'no'), (true, 'also yes');
INSERT INTO by_range SELECT g, 'r' || g FROM generate_series(0, 99) g;
SELECT create_distributed_table('by_int', 'k', shard_count => 4);
SELECT create_distributed_table('by_bigint', 'k', shard_count => 4);
SELECT create_distributed_table('by_text', 'k', shard_count => 3);
SELECT create_distributed_table('by_numeric', 'k', shard_count => 3);
SELECT create_distributed_table('by_date', 'k', shard_count => 3);
SELECT create_distributed_table('by_uuid', 'k', shard_count => 3);
SELECT create_distributed_table('by_bool', 'k', shard_count => 2);
SELECT create_distributed_table('by_range', 'k', 'range', range_bounds => '{25, 50, 75}');

--
-- SELECT on the distribution column: seven executions, so that the generic
-- plan is used too, then a NULL parameter
--
PREPARE sel_int(int) AS SELECT k, v, n, d, b FROM by_int WHERE k = $1;
EXECUTE sel_int(1);
EXECUTE sel_int(2);
EXECUTE sel_int(3);
EXECUTE sel_int(17);
EXECUTE sel_int(33);
EXECUTE sel_int(49);
EXECUTE sel_int(50);
EXECUTE sel_int(51);
EXECUTE sel_int(NULL);

PREPARE sel_bigint(bigint) AS SELECT * FROM by_bigint WHERE k = $1;
EXECUTE sel_bigint(10000000000);
EXECUTE sel_bigint(20000000000);
EXECUTE sel_bigint(30000000000);
EXECUTE sel_bigint(40000000000);
EXECUTE sel_bigint(50000000000);
EXECUTE sel_bigint(60000000000);
EXECUTE sel_bigint(1);
EXECUTE sel_bigint(NULL);

PREPARE sel_text(text) AS SELECT * FROM by_text WHERE k = $1;
EXECUTE sel_text('key 1');
EXECUTE sel_text('key 2');
EXECUTE sel_text('key 3');
EXECUTE sel_text('key 4');
EXECUTE sel_text('key 5');
EXECUTE sel_text('key 6');
EXECUTE sel_text('KEY 7');
EXECUTE sel_text('');
EXECUTE sel_text(NULL);

PREPARE sel_numeric(numeric) AS SELECT * FROM by_numeric WHERE k = $1;
EXECUTE sel_numeric(0);
EXECUTE sel_numeric(0.125);
EXECUTE sel_numeric(-1.25);
EXECUTE sel_numeric(1.250);
EXECUTE sel_numeric(0.5);
EXECUTE sel_numeric(0.75);
EXECUTE sel_numeric(0.7500000);
EXECUTE sel_numeric(99);
EXECUTE sel_numeric(NULL);

PREPARE sel_date(date) AS SELECT * FROM by_date WHERE k = $1;
EXECUTE sel_date('2024-02-20');
EXECUTE sel_date('2024-02-28');
EXECUTE sel_date('2024-02-29');
EXECUTE sel_date('2024-03-01');
EXECUTE sel_date('2024-03-11');
EXECUTE sel_date('2024-03-12');
EXECUTE sel_date('2024-03-13');
EXECUTE sel_date(NULL);

PREPARE sel_uuid(uuid) AS SELECT * FROM by_uuid WHERE k = $1;
EXECUTE sel_uuid(md5('1')::uuid);
EXECUTE sel_uuid(md5('2')::uuid);
EXECUTE sel_uuid(md5('3')::uuid);
EXECUTE sel_uuid(md5('4')::uuid);
EXECUTE sel_uuid(md5('5')::uuid);
EXECUTE sel_uuid('c4ca4238-a0b9-2382-0dcc-509a6f75849b');
EXECUTE sel_uuid('00000000-0000-0000-0000-000000000000');
EXECUTE sel_uuid(NULL);

PREPARE sel_bool(bool) AS SELECT * FROM by_bool WHERE k = $1 ORDER BY v;
EXECUTE sel_bool(true);
EXECUTE sel_bool(false);
EXECUTE sel_bool(true);
EXECUTE sel_bool(false);
EXECUTE sel_bool(true);
EXECUTE sel_bool('yes');
EXECUTE sel_bool('f');
EXECUTE sel_bool(NULL);

PREPARE sel_range(int) AS SELECT * FROM by_range WHERE k = $1;
EXECUTE sel_range(0);
EXECUTE sel_range(24);
EXECUTE sel_range(25);
EXECUTE sel_range(50);
EXECUTE sel_range(74);
EXECUTE sel_range(75);
EXECUTE sel_range(99);
EXECUTE sel_range(-1000);
EXECUTE sel_range(NULL);

-- parameters in other quals, in joins, IN lists and ranges
PREPARE by_others(numeric, text, bool) AS
	SELECT k FROM by_int WHERE n > $1 AND v LIKE $2 AND b = $3 ORDER BY k;
EXECUTE by_others(10, 'v1%', true);
EXECUTE by_others(10, 'v1%', false);
EXECUTE by_others(0, 'v2%', true);
EXECUTE by_others(30, '%5', false);
EXECUTE by_others(0, '%', true);
EXECUTE by_others(60, '%', true);
EXECUTE by_others(NULL, '%', true);
EXECUTE by_others(0, NULL, true);

PREPARE pinned_and_others(int, date, uuid) AS
	SELECT k, v FROM by_int WHERE k = $1 AND d > $2 AND u <> $3;
EXECUTE pinned_and_others(10, '2024-01-01', md5('x')::uuid);
EXECUTE pinned_and_others(10, '2024-01-11', md5('x')::uuid);
EXECUTE pinned_and_others(10, '2024-01-10', md5('x')::uuid);
EXECUTE pinned_and_others(10, '2024-01-01', md5('10')::uuid);
EXECUTE pinned_and_others(11, '2024-01-01', md5('10')::uuid);
EXECUTE pinned_and_others(12, '2024-01-01', md5('10')::uuid);
EXECUTE pinned_and_others(13, NULL, md5('10')::uuid);

PREPARE in_list(int, int, int) AS SELECT k FROM by_int WHERE k IN ($1, $2, $3) ORDER BY k;
EXECUTE in_list(1, 2, 3);
EXECUTE in_list(4, 4, 4);
EXECUTE in_list(10, 20, 30);
EXECUTE in_list(1, NULL, 3);
EXECUTE in_list(40, 41, 99);
EXECUTE in_list(5, 6, 7);
EXECUTE in_list(NULL, NULL, NULL);

PREPARE any_array(int[]) AS SELECT count(*), sum(k) FROM by_int WHERE k = ANY ($1);
EXECUTE any_array('{1,2,3}');
EXECUTE any_array('{}');
EXECUTE any_array('{50,51,NULL}');
EXECUTE any_array(ARRAY[7]);
EXECUTE any_array(NULL);
EXECUTE any_array('{1,1,1}');

PREPARE range_between(int, int) AS SELECT count(*), min(k), max(k) FROM by_range WHERE k >= $1 AND k < $2;
EXECUTE range_between(0, 100);
EXECUTE range_between(20, 30);
EXECUTE range_between(25, 50);
EXECUTE range_between(50, 51);
EXECUTE range_between(99, 1000);
EXECUTE range_between(30, 20);
EXECUTE range_between(NULL, 10);

PREPARE co_join(int) AS
	SELECT i.k, i.v, r.v FROM by_int i JOIN by_range r ON r.k = i.k WHERE i.k = $1 AND r.k = $1;
EXECUTE co_join(5);
EXECUTE co_join(30);
EXECUTE co_join(49);
EXECUTE co_join(50);
EXECUTE co_join(51);
EXECUTE co_join(1);
EXECUTE co_join(2);

PREPARE agg_param(int) AS
	SELECT b, count(*), sum(n) FROM by_int WHERE k <= $1 GROUP BY b ORDER BY b;
EXECUTE agg_param(10);
EXECUTE agg_param(0);
EXECUTE agg_param(50);
EXECUTE agg_param(25);
EXECUTE agg_param(1);
EXECUTE agg_param(2);
EXECUTE agg_param(3);

-- a parameter whose type is inferred, and one cast inside the statement
PREPARE inferred AS SELECT hits FROM by_text WHERE k = $1;
EXECUTE inferred('key 9');
PREPARE casted(text) AS SELECT k, v FROM by_int WHERE k = $1::int;
EXECUTE casted('12');
EXECUTE casted('13');
EXECUTE casted('14');
EXECUTE casted('15');
EXECUTE casted('16');
EXECUTE casted('17');
EXECUTE casted('not a number');

--
-- Generic plans for sure
--
SET plan_cache_mode = force_generic_plan;
PREPARE gen_sel(int) AS SELECT k, v FROM by_int WHERE k = $1;
EXECUTE gen_sel(21);
EXECUTE gen_sel(22);
EXECUTE gen_sel(NULL);
PREPARE gen_text(text) AS SELECT k, hits FROM by_text WHERE k = $1;
EXECUTE gen_text('key 11');
EXECUTE gen_text('key 12');
PREPARE gen_range(int) AS SELECT v FROM by_range WHERE k = $1;
EXECUTE gen_range(10);
EXECUTE gen_range(90);
RESET plan_cache_mode;
SELECT name, generic_plans > 0 AS generic FROM pg_prepared_statements
 WHERE name LIKE 'gen\_%' ORDER BY name;

--
-- INSERT, UPDATE, DELETE, ON CONFLICT with parameters
--
PREPARE ins(int, text, numeric) AS INSERT INTO by_int (k, v, n) VALUES ($1, $2, $3) RETURNING k, v, n;
EXECUTE ins(101, 'a', 1.5);
EXECUTE ins(102, 'b', 2.5);
EXECUTE ins(103, 'c', NULL);
EXECUTE ins(104, NULL, 4);
EXECUTE ins(105, 'e', 5);
EXECUTE ins(106, 'f', 6);
EXECUTE ins(107, 'g', 7);
-- errors: a duplicate key, a NULL key
SELECT left(expect_error($$EXECUTE ins(101, 'duplicate', 1)$$), 5) AS sqlstate;
SELECT left(expect_error($$EXECUTE ins(NULL, 'no key', 1)$$), 5) AS sqlstate;
SELECT k, v, n FROM by_int WHERE k > 100 ORDER BY k;

PREPARE ins_two(int, int) AS INSERT INTO by_int (k, v) VALUES ($1, 'first'), ($2, 'second');
EXECUTE ins_two(110, 111);
EXECUTE ins_two(112, 113);
EXECUTE ins_two(114, 115);
EXECUTE ins_two(116, 117);
EXECUTE ins_two(118, 119);
EXECUTE ins_two(120, 121);
SELECT count(*), min(k), max(k) FROM by_int WHERE k BETWEEN 110 AND 121;

PREPARE upd(int, text) AS UPDATE by_int SET v = $2 WHERE k = $1 RETURNING k, v;
EXECUTE upd(1, 'one');
EXECUTE upd(2, 'two');
EXECUTE upd(3, 'three');
EXECUTE upd(4, 'four');
EXECUTE upd(5, 'five');
EXECUTE upd(6, 'six');
EXECUTE upd(999, 'nothing');
EXECUTE upd(NULL, 'nothing');
PREPARE upd_others(text, numeric) AS UPDATE by_int SET v = v || $1 WHERE n < $2;
EXECUTE upd_others('!', 3);
EXECUTE upd_others('?', 4.5);
SELECT k, v FROM by_int WHERE k <= 6 ORDER BY k;

PREPARE del(int) AS DELETE FROM by_int WHERE k = $1 RETURNING k;
EXECUTE del(101);
EXECUTE del(102);
EXECUTE del(103);
EXECUTE del(104);
EXECUTE del(105);
EXECUTE del(106);
EXECUTE del(106);
EXECUTE del(NULL);
SELECT count(*) FROM by_int WHERE k > 100;

PREPARE hit(text) AS
	INSERT INTO by_text VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET hits = by_text.hits + 1 RETURNING k, hits;
EXECUTE hit('key 1');
EXECUTE hit('new key');
EXECUTE hit('new key');
EXECUTE hit('key 1');
EXECUTE hit('another');
EXECUTE hit('new key');
EXECUTE hit('key 1');
SELECT * FROM by_text WHERE k IN ('key 1', 'new key', 'another') ORDER BY k;

-- parameters used in the rows only, and in ON CONFLICT / RETURNING
-- (the shard's statement gets the latter and the rows' values)
PREPARE hit_by(text, int, text) AS
	INSERT INTO by_text VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET hits = by_text.hits + $2
	RETURNING k, hits, $3 AS who;
EXECUTE hit_by('by 1', 1, 'ann');
EXECUTE hit_by('by 1', 10, 'bob');
EXECUTE hit_by('by 2', 5, NULL);
EXECUTE hit_by('by 1', 100, 'cy');
EXECUTE hit_by('by 2', 50, 'dee');
EXECUTE hit_by('by 1', 1000, 'eve');
EXECUTE hit_by('by 2', 500, 'fay');
PREPARE ins_ret(int, text, int) AS
	INSERT INTO by_int (k, v) VALUES ($1, $2 || '!') RETURNING k, v, $3 * k AS times;
EXECUTE ins_ret(130, 'x', 2);
EXECUTE ins_ret(131, NULL, 3);
EXECUTE ins_ret(132, 'z', NULL);
EXECUTE ins_ret(133, 'w', 4);
EXECUTE ins_ret(134, 'v', 5);
EXECUTE ins_ret(135, 'u', 6);
SELECT k, v FROM by_int WHERE k BETWEEN 130 AND 135 ORDER BY k;

PREPARE ins_date(date, text) AS INSERT INTO by_date VALUES ($1, $2);
EXECUTE ins_date('2025-01-01', 'new year');
EXECUTE ins_date('2025-01-02', 'day two');
EXECUTE ins_date('2025-01-03', 'day three');
EXECUTE ins_date('2025-01-04', 'day four');
EXECUTE ins_date('2025-01-05', 'day five');
EXECUTE ins_date('2025-01-06', 'day six');
SELECT * FROM by_date WHERE k >= '2025-01-01' ORDER BY k;

--
-- plpgsql with variables
--
CREATE FUNCTION get_v(key int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	SELECT v INTO result FROM by_int WHERE k = key;
	RETURN result;
END
$$;
SELECT g, get_v(g) FROM generate_series(1, 9) g ORDER BY g;
SELECT get_v(NULL), get_v(-1);

CREATE FUNCTION bump(key text, by int DEFAULT 1) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	result int;
BEGIN
	UPDATE by_text SET hits = hits + by WHERE k = key RETURNING hits INTO result;
	IF NOT FOUND THEN
		INSERT INTO by_text VALUES (key, by) RETURNING hits INTO result;
	END IF;
	RETURN result;
END
$$;
SELECT bump('key 2'), bump('key 2'), bump('key 2', 10), bump('fresh'), bump('fresh'),
       bump('key 3'), bump('key 3'), bump('fresh', 100);
SELECT * FROM by_text WHERE k IN ('key 2', 'key 3', 'fresh') ORDER BY k;

CREATE FUNCTION fill(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	total bigint := 0;
	got bigint;
BEGIN
	FOR i IN 1..n LOOP
		INSERT INTO by_bigint VALUES (i, 'filled ' || i);
		SELECT k INTO got FROM by_bigint WHERE k = i;
		total := total + got;
	END LOOP;
	UPDATE by_bigint SET v = v || '.' WHERE k <= n;
	RETURN total;
END
$$;
SELECT fill(12);
SELECT count(*), sum(k) FROM by_bigint WHERE k <= 12;
SELECT v FROM by_bigint WHERE k = 7;

-- dynamic SQL with parameters
CREATE FUNCTION count_where(tbl text, key anyelement) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	result bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM %I WHERE k = $1', tbl) INTO result USING key;
	RETURN result;
END
$$;
SELECT count_where('by_int', 7), count_where('by_text', 'key 5'::text),
       count_where('by_uuid', md5('3')::uuid), count_where('by_date', date '2024-03-01'),
       count_where('by_numeric', 0.25), count_where('by_bool', true), count_where('by_range', 75);

-- SQL functions
CREATE FUNCTION v_of(int) RETURNS text LANGUAGE sql STABLE AS $$ SELECT v FROM by_int WHERE k = $1 $$;
SELECT v_of(10), v_of(20), v_of(30), v_of(40), v_of(1000);
CREATE FUNCTION rows_of(bool) RETURNS SETOF by_bool LANGUAGE sql AS $$ SELECT * FROM by_bool WHERE k = $1 ORDER BY v $$;
SELECT * FROM rows_of(true);

--
-- search_path changes between executions
--
CREATE SCHEMA dist_prepared_a;
CREATE SCHEMA dist_prepared_b;
CREATE TABLE dist_prepared_a.t (k int, who text);
CREATE TABLE dist_prepared_b.t (k int, who text);
INSERT INTO dist_prepared_a.t SELECT g, 'a' || g FROM generate_series(1, 10) g;
INSERT INTO dist_prepared_b.t SELECT g, 'b' || g FROM generate_series(1, 10) g;
SELECT create_distributed_table('dist_prepared_a.t', 'k', shard_count => 2);
SELECT create_distributed_table('dist_prepared_b.t', 'k', shard_count => 4);
CREATE FUNCTION dist_prepared.who(key int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	SELECT t.who INTO result FROM t WHERE k = key;
	RETURN result;
END
$$;
SET search_path = dist_prepared_a, dist_prepared, public;
PREPARE which(int) AS SELECT who FROM t WHERE k = $1;
PREPARE which_all AS SELECT string_agg(who, ',' ORDER BY k) FROM t WHERE k < 4;
EXECUTE which(1);
EXECUTE which_all;
SELECT who(2);
SET search_path = dist_prepared_b, dist_prepared, public;
EXECUTE which(1);
EXECUTE which_all;
SELECT who(2);
SET search_path = dist_prepared_a, dist_prepared, public;
EXECUTE which(1);
EXECUTE which(2);
EXECUTE which(3);
EXECUTE which(4);
EXECUTE which(5);
EXECUTE which(6);
SELECT who(7), who(8), who(9), who(10), who(1), who(2);
SET search_path = dist_prepared_b, dist_prepared, public;
EXECUTE which(6);
EXECUTE which_all;
SELECT who(7), who(8), who(9), who(10), who(1), who(2);
SET search_path = dist_prepared, public;
EXECUTE which(1);
SELECT who(1);
SET search_path = dist_prepared, public;

DEALLOCATE ALL;
