--
-- Queries on distributed tables return what PostgreSQL returns on the same
-- data in local tables: every query of this file runs twice, once on the
-- distributed tables of schema dq_dist and once on local copies in schema
-- dq_local (same table names, same rows), and the results are compared.
--
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
CREATE SCHEMA dist_queries;     -- helpers and a local-only table
CREATE SCHEMA dq_local;         -- the oracle: plain tables
CREATE SCHEMA dq_dist;          -- the same tables, distributed
SET search_path = dist_queries, public;

CREATE TABLE node_names (node_id int PRIMARY KEY, name text);
INSERT INTO node_names
SELECT node_id, CASE port WHEN :worker1_port THEN 'w1' WHEN :worker2_port THEN 'w2' END
  FROM shardext.nodes WHERE role = 'worker';

--
-- compare(query): runs the query on both schemas and says 'same: N rows', or
-- shows the rows only one side returned (at most 5 of each). With
-- ordered => true the order of the rows must match too.
--
CREATE FUNCTION run_query(q text, schema_name text, ordered bool)
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	result text[] := '{}';
BEGIN
	PERFORM set_config('search_path', format('%I, dist_queries, public', schema_name), true);
	FOR r IN EXECUTE q LOOP
		result := result || r::text;
	END LOOP;
	IF NOT ordered THEN
		result := ARRAY(SELECT x FROM unnest(result) x ORDER BY x COLLATE "C");
	END IF;
	RETURN result;
END
$$;

CREATE FUNCTION compare(q text, ordered bool DEFAULT false)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text[];
	l text[];
	d_err text;
	l_err text;
	only_d text[];
	only_l text[];
	saved_path text := current_setting('search_path');
BEGIN
	BEGIN
		d := run_query(q, 'dq_dist', ordered);
	EXCEPTION WHEN OTHERS THEN
		d_err := SQLSTATE || ': ' || SQLERRM;
	END;
	BEGIN
		l := run_query(q, 'dq_local', ordered);
	EXCEPTION WHEN OTHERS THEN
		l_err := SQLSTATE || ': ' || SQLERRM;
	END;
	PERFORM set_config('search_path', saved_path, true);
	IF d_err IS NOT NULL OR l_err IS NOT NULL THEN
		IF d_err IS NOT DISTINCT FROM l_err THEN
			RETURN 'same error: ' || l_err;
		END IF;
		RETURN 'DIFFERENT: distributed ' || coalesce('error ' || d_err, cardinality(d) || ' rows')
			|| E'\n           local ' || coalesce('error ' || l_err, cardinality(l) || ' rows');
	END IF;
	IF d = l THEN
		RETURN 'same: ' || cardinality(l) || ' rows';
	END IF;
	only_d := ARRAY(SELECT x FROM (SELECT unnest(d) EXCEPT ALL SELECT unnest(l)) e(x) ORDER BY x COLLATE "C");
	only_l := ARRAY(SELECT x FROM (SELECT unnest(l) EXCEPT ALL SELECT unnest(d)) e(x) ORDER BY x COLLATE "C");
	IF cardinality(only_d) = 0 AND cardinality(only_l) = 0 THEN
		RETURN 'DIFFERENT order: ' || cardinality(l) || ' rows';
	END IF;
	RETURN 'DIFFERENT: distributed ' || cardinality(d) || ' rows, local ' || cardinality(l) || ' rows'
		|| E'\n only distributed: ' || array_to_string(only_d[1:5], ' ')
		|| E'\n only local:       ' || array_to_string(only_l[1:5], ' ');
END
$$;

-- plan_of(query): EXPLAIN (COSTS OFF) with shards and nodes named
CREATE FUNCTION plan_of(q text, with_verbose bool DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	m text[];
BEGIN
	PERFORM set_config('search_path', 'dq_dist, dist_queries, public', true);
	FOR line IN EXECUTE format('EXPLAIN (COSTS OFF, VERBOSE %s) %s', with_verbose::text, q) LOOP
		line := regexp_replace(line, '_1\d{5}\M', '_N', 'g');
		m := regexp_match(line, 'Shard: (\d+)');
		IF m IS NOT NULL THEN
			line := regexp_replace(line, 'Shard: .*',
				(SELECT format('Shard: %s #%s', s.table_name, s.shard_index)
				   FROM shardext.shards s WHERE s.shard_id = m[1]::bigint));
		END IF;
		m := regexp_match(line, 'Node: (\d+) \(.*\)');
		IF m IS NOT NULL THEN
			line := regexp_replace(line, 'Node: .*',
				'Node: ' || coalesce((SELECT name FROM node_names WHERE node_id = m[1]::int), m[1]));
		END IF;
		RETURN NEXT line;
	END LOOP;
	PERFORM set_config('search_path', 'dist_queries, public', true);
END
$$;

--
-- The data: customers and their orders (co-located by customer id),
-- products (hash, another shard count), events (range by day), a sparse
-- table with empty shards and an empty one; a local table of regions.
--
CREATE TABLE dq_local.customers (
	id int PRIMARY KEY,
	name text COLLATE "C" NOT NULL,
	city text,
	tier text,
	created timestamptz,
	credit numeric(12,2),
	active bool,
	tags text[],
	profile jsonb,
	uid uuid
);
INSERT INTO dq_local.customers
SELECT g,
       CASE WHEN g % 7 = 0 THEN 'Cust ' ELSE 'cust ' END || lpad(g::text, 3, '0'),
       (ARRAY['Berlin', 'Paris', 'Oslo', 'Rome', NULL])[g % 5 + 1],
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 3 = 0 THEN 'gold' ELSE 'basic' END,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '37 hours 13 minutes',
       CASE WHEN g % 11 <> 0 THEN (g * 13 % 1000) / 4.0 END,
       CASE WHEN g % 23 <> 0 THEN g % 4 <> 0 END,
       CASE WHEN g % 9 <> 0 THEN ARRAY['t' || g % 3, 'u' || g % 5] END,
       jsonb_build_object('age', 20 + g % 50, 'vip', g % 13 = 0,
                          'langs', CASE WHEN g % 2 = 0 THEN '["de","en"]'::jsonb ELSE '["fr"]'::jsonb END),
       md5(g::text)::uuid
  FROM generate_series(1, 200) g;

CREATE TABLE dq_local.orders (
	customer_id int NOT NULL,
	id int NOT NULL,
	ordered_at timestamptz,
	status text,
	amount numeric(10,2),
	items int,
	note text,
	PRIMARY KEY (customer_id, id)
);
INSERT INTO dq_local.orders
SELECT CASE WHEN g % 97 = 0 THEN 500 + g        -- no such customer
            WHEN g % 5 = 0 THEN 7               -- a customer with many orders
            ELSE (g * 31) % 180 + 1 END,        -- customers 181-200 order nothing
       g,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '5 hours 17 minutes',
       CASE WHEN g % 50 <> 0 THEN (ARRAY['new', 'paid', 'shipped', 'cancelled'])[g % 4 + 1] END,
       CASE WHEN g % 41 <> 0 THEN (g * 7919 % 100000) / 100.0 END,
       g % 9 + 1,
       CASE WHEN g % 17 = 0 THEN 'rush: ' || g WHEN g % 19 = 0 THEN '100% off_' || g END
  FROM generate_series(1, 1500) g;

CREATE TABLE dq_local.products (
	sku int PRIMARY KEY,
	name text,
	category text,
	price numeric(8,2),
	stock int
);
INSERT INTO dq_local.products
SELECT g, 'product ' || g, (ARRAY['tools', 'toys', 'food', NULL])[g % 4 + 1],
       round(g * 1.37 + 0.99, 2), CASE WHEN g % 6 <> 0 THEN g * 3 % 17 END
  FROM generate_series(1, 12) g;

CREATE TABLE dq_local.events (
	day date NOT NULL,
	customer_id int,
	kind text,
	payload jsonb,
	n int
);
INSERT INTO dq_local.events
SELECT date '2024-01-01' + g % 120, g % 60 + 1,
       (ARRAY['login', 'view', 'buy'])[g % 3 + 1],
       jsonb_build_object('page', g % 7, 'ok', g % 2 = 0),
       CASE WHEN g % 13 <> 0 THEN g END
  FROM generate_series(1, 700) g;

CREATE TABLE dq_local.sparse (k int, v text);
INSERT INTO dq_local.sparse VALUES (1, 'one'), (2, 'two'), (1000, 'thousand');
CREATE TABLE dq_local.empty_t (k int, v text);

-- the distributed copies
CREATE TABLE dq_dist.customers (LIKE dq_local.customers INCLUDING ALL);
CREATE TABLE dq_dist.orders (LIKE dq_local.orders INCLUDING ALL);
CREATE TABLE dq_dist.products (LIKE dq_local.products INCLUDING ALL);
CREATE TABLE dq_dist.events (LIKE dq_local.events INCLUDING ALL);
CREATE TABLE dq_dist.sparse (LIKE dq_local.sparse INCLUDING ALL);
CREATE TABLE dq_dist.empty_t (LIKE dq_local.empty_t INCLUDING ALL);
INSERT INTO dq_dist.customers SELECT * FROM dq_local.customers;
INSERT INTO dq_dist.orders SELECT * FROM dq_local.orders;
INSERT INTO dq_dist.products SELECT * FROM dq_local.products;
INSERT INTO dq_dist.events SELECT * FROM dq_local.events;
INSERT INTO dq_dist.sparse SELECT * FROM dq_local.sparse;
SELECT create_distributed_table('dq_dist.customers', 'id', shard_count => 4);
SELECT create_distributed_table('dq_dist.orders', 'customer_id', shard_count => 4,
                                colocate_with => 'dq_dist.customers');
SELECT create_distributed_table('dq_dist.products', 'sku', shard_count => 3);
SELECT create_distributed_table('dq_dist.events', 'day', 'range',
                                range_bounds => '{2024-02-01, 2024-03-01, 2024-06-01}');
SELECT create_distributed_table('dq_dist.sparse', 'k', shard_count => 8);
SELECT create_distributed_table('dq_dist.empty_t', 'k', shard_count => 2);

CREATE FUNCTION double_it(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE TABLE regions (city text, region text);
INSERT INTO regions VALUES ('Berlin', 'north'), ('Oslo', 'north'), ('Paris', 'west'),
	('Rome', 'south'), ('Madrid', 'south');

-- the sparse table has empty shards; the last events shard is empty
SELECT count(*) FILTER (WHERE n = 0) AS empty_shards, count(*) AS shards
  FROM (SELECT s.shard_id, (SELECT count(*) FROM dq_local.sparse x
                             WHERE shardext_shard_for_value('dq_dist.sparse', x.k) = s.shard_id) AS n
          FROM shardext.shards s WHERE s.table_name = 'dq_dist.sparse'::regclass) c;
SELECT count(*) AS rows_in_last_events_shard FROM dq_local.events
 WHERE shardext_shard_for_value('dq_dist.events', day) =
       (SELECT shard_id FROM shardext.shards WHERE table_name = 'dq_dist.events'::regclass AND shard_index = 3);
-- the comparison sees the distributed tables as such
SELECT compare('SELECT count(*) FROM customers');
SELECT count(*) AS distributed FROM shardext.tables WHERE table_name::text LIKE 'dq\_dist.%';
SELECT count(*) AS distributed FROM shardext.tables WHERE table_name::text LIKE 'dq\_local.%';

--
-- Router queries: every distributed table pinned to one shard group
--
SELECT compare('SELECT * FROM customers WHERE id = 42');
SELECT compare('SELECT * FROM customers WHERE id = 9999');
SELECT compare('SELECT name, city FROM customers WHERE 17 = id');
SELECT compare('SELECT * FROM orders WHERE customer_id = 7 ORDER BY id', true);
SELECT compare('SELECT * FROM orders WHERE customer_id = 7 AND id = 35');
SELECT compare('SELECT * FROM orders WHERE customer_id = 7 AND status IS NULL');
SELECT compare('SELECT id, amount FROM orders WHERE customer_id = 7 ORDER BY amount DESC NULLS LAST, id LIMIT 5', true);
SELECT compare('SELECT id FROM orders WHERE customer_id = 7 ORDER BY id LIMIT 10 OFFSET 20', true);
SELECT compare('SELECT c.name, o.id, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 7 AND o.customer_id = 7');
SELECT compare('SELECT c.name, count(o.id), sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 12 GROUP BY c.name');
SELECT compare('SELECT c.id, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.customer_id = 190 WHERE c.id = 190');
SELECT compare('SELECT status, count(*), avg(amount), min(ordered_at), max(items) FROM orders WHERE customer_id = 7 GROUP BY status');
SELECT compare('SELECT status, count(*) FROM orders WHERE customer_id = 7 GROUP BY status HAVING count(*) > 70');
SELECT compare('SELECT DISTINCT status FROM orders WHERE customer_id = 7');
SELECT compare('SELECT DISTINCT ON (status) status, id, amount FROM orders WHERE customer_id = 7 ORDER BY status, amount DESC NULLS LAST, id', true);
SELECT compare('SELECT id, amount, sum(amount) OVER (ORDER BY id) AS running, rank() OVER (PARTITION BY status ORDER BY amount) FROM orders WHERE customer_id = 7');
SELECT compare('SELECT id, lag(id) OVER w, lead(amount, 2) OVER w, row_number() OVER w FROM orders WHERE customer_id = 7 WINDOW w AS (ORDER BY ordered_at)');
SELECT compare('WITH o AS (SELECT * FROM orders WHERE customer_id = 7) SELECT status, count(*) FROM o GROUP BY 1');
SELECT compare('WITH c AS MATERIALIZED (SELECT * FROM customers WHERE id = 7), o AS (SELECT * FROM orders WHERE customer_id = 7) SELECT c.name, sum(o.items) FROM c, o GROUP BY 1');
SELECT compare('SELECT * FROM customers WHERE id = 7 AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = 7 AND o.amount > 900)');
SELECT compare('SELECT id, (SELECT count(*) FROM orders o WHERE o.customer_id = 25) AS n FROM customers WHERE id = 25');
SELECT compare('SELECT o.id FROM orders o WHERE o.customer_id = 7 AND o.amount > (SELECT avg(amount) FROM orders WHERE customer_id = 7)');
SELECT compare('SELECT count(*) FROM (SELECT * FROM orders WHERE customer_id = 7 LIMIT 5) s');
SELECT compare('SELECT * FROM customers WHERE id = 7 FOR UPDATE');
SELECT compare('SELECT * FROM customers WHERE id = 42 AND id = 43');
SELECT compare('SELECT * FROM customers WHERE id = 42 OR id = 43');
SELECT compare('SELECT * FROM customers WHERE id = 42::bigint');
SELECT compare('SELECT * FROM customers WHERE id = 42.0');
SELECT compare('SELECT * FROM customers WHERE id = ''42''');
SELECT compare('SELECT * FROM customers WHERE id = NULL');
SELECT compare('SELECT * FROM sparse WHERE k = 1000');
SELECT compare('SELECT * FROM sparse WHERE k = 3');
SELECT compare('SELECT * FROM empty_t WHERE k = 1');
SELECT compare('SELECT * FROM customers WHERE id = (SELECT 42)');
SELECT compare('SELECT * FROM customers WHERE id = abs(-42)');
SELECT compare('SELECT * FROM customers WHERE id = (random() * 0)::int + 42');
SELECT compare('SELECT * FROM orders WHERE customer_id = 7 AND id = 35 FOR SHARE');
SELECT compare('SELECT * FROM orders o WHERE (o.customer_id, o.id) IN ((7, 5), (3, 93), (8, 1))');
SELECT compare('SELECT id FROM customers WHERE id = 42 UNION SELECT id FROM customers WHERE id = 43');
SELECT compare('SELECT c FROM customers c WHERE id = 42');
SELECT compare('SELECT * FROM customers c WHERE c.id = 9 AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)');
SELECT compare('SELECT count(*) FROM orders WHERE customer_id = 7 AND id IN (SELECT id + 4 FROM orders WHERE customer_id = 8)');
SELECT compare($$SELECT id, 'it''s \ "' || name, E'tab\there' FROM customers WHERE id = 42 AND name <> 'it''s'$$);
-- distribution values pinned to shards on different nodes (ids 1 and 3)
SELECT compare('SELECT c1.id, c2.id FROM customers c1, customers c2 WHERE c1.id = 1 AND c2.id = 3');
SELECT compare('SELECT * FROM customers c WHERE c.id = 1 AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = 3)');
SELECT compare('SELECT id FROM customers WHERE id = 1 UNION ALL SELECT customer_id FROM orders WHERE customer_id = 3');
SELECT compare('SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = 3) FROM customers c WHERE c.id = 1');
-- system columns and settings
SELECT compare('SELECT tableoid::regclass::text, id FROM customers WHERE id = 42');
SELECT compare('SELECT tableoid::regclass::text, count(*) FROM customers GROUP BY 1');
SELECT compare($$SELECT id, current_setting('TimeZone'), current_setting('DateStyle') FROM customers WHERE id = 42$$);
-- a router query that reads a local table or calls a function of the coordinator
SELECT compare('SELECT c.name, r.region FROM customers c JOIN regions r ON r.city = c.city WHERE c.id = 42');
SELECT compare($$SELECT name FROM customers WHERE id = 42 AND city IN (SELECT city FROM regions WHERE region = 'north')$$);
SELECT compare('SELECT double_it(id), double_it(items) FROM orders WHERE customer_id = 7 AND id < 50');
SELECT compare('SELECT id FROM customers WHERE double_it(id) = 84');
-- values whose text form depends on the session (TimeZone, DateStyle)
SELECT compare('SELECT id, ordered_at FROM orders WHERE customer_id = 7 AND id < 60');
SELECT compare('SELECT id, ordered_at::text, ordered_at::date FROM orders WHERE customer_id = 7 AND id < 60');
SELECT compare($$SELECT id, date_trunc('day', ordered_at), to_char(ordered_at, 'YYYY-MM-DD HH24:MI'), extract(hour FROM ordered_at) FROM orders WHERE customer_id = 7 AND id < 60$$);
SELECT compare($$SELECT day::text, count(*) FROM events WHERE day = '2024-02-01' GROUP BY 1$$);
SELECT compare($$SELECT count(*) FROM orders WHERE customer_id = 7 AND ordered_at::date < '2024-03-01'$$);
SELECT compare($$SELECT created::text FROM customers WHERE id = 42$$);
SELECT compare($$SELECT * FROM events WHERE day = '2024-02-01'$$);
SELECT compare($$SELECT kind, count(*) FROM events WHERE day = date '2024-01-31' GROUP BY kind$$);

--
-- Multi-shard reads
--
SELECT compare('SELECT * FROM customers');
SELECT compare('SELECT * FROM orders');
SELECT compare('SELECT count(*), count(city), count(DISTINCT city), count(DISTINCT tier) FROM customers');
SELECT compare('SELECT sum(amount), avg(amount), min(amount), max(amount), sum(items), avg(items) FROM orders');
SELECT compare('SELECT sum(credit), avg(credit), stddev(credit), variance(credit) FROM customers');
SELECT compare('SELECT bool_and(active), bool_or(active), every(id > 0), count(*) FILTER (WHERE active) FROM customers');
SELECT compare('SELECT string_agg(name, '','' ORDER BY name) FROM customers WHERE city = ''Oslo''');
SELECT compare('SELECT array_agg(id ORDER BY id DESC) FROM customers WHERE tier = ''gold''');
SELECT compare('SELECT city, count(*), min(name), max(created) FROM customers GROUP BY city');
SELECT compare('SELECT tier, city, count(*) FROM customers GROUP BY ROLLUP (tier, city)');
SELECT compare('SELECT tier, city, count(*) FROM customers GROUP BY CUBE (tier, city)');
SELECT compare('SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 300');
SELECT compare('SELECT customer_id, count(*) FROM orders GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 5', true);
SELECT compare('SELECT id, name FROM customers ORDER BY name LIMIT 10', true);
SELECT compare('SELECT id, name FROM customers ORDER BY name DESC LIMIT 10 OFFSET 95', true);
SELECT compare('SELECT id FROM orders ORDER BY amount NULLS FIRST, id LIMIT 12', true);
SELECT compare('SELECT id FROM orders ORDER BY id OFFSET 1490', true);
SELECT compare('SELECT DISTINCT city FROM customers');
SELECT compare('SELECT DISTINCT ON (city) city, id FROM customers ORDER BY city, id', true);
SELECT compare('SELECT count(DISTINCT customer_id), count(DISTINCT (status, items)) FROM orders');
SELECT compare('SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount), mode() WITHIN GROUP (ORDER BY items) FROM orders');
SELECT compare('SELECT id, rank() OVER (PARTITION BY city ORDER BY credit DESC NULLS LAST, id) FROM customers');
SELECT compare('SELECT id, sum(amount) OVER (PARTITION BY customer_id) FROM orders WHERE amount > 900');
SELECT compare('SELECT * FROM customers WHERE id IN (1, 2, 3, 150, 199, 4000)');
SELECT compare('SELECT * FROM customers WHERE id = ANY (ARRAY[5, 10, 15])');
SELECT compare('SELECT * FROM customers WHERE id NOT IN (1, 2, 3) AND id < 10');
SELECT compare('SELECT * FROM customers WHERE id BETWEEN 40 AND 60');
SELECT compare('SELECT * FROM customers WHERE id > 195 OR city IS NULL');
SELECT compare('SELECT * FROM sparse');
SELECT compare('SELECT count(*), max(k) FROM sparse');
SELECT compare('SELECT * FROM empty_t');
SELECT compare('SELECT count(*), sum(k), max(v) FROM empty_t');
SELECT compare('SELECT k, count(*) FROM empty_t GROUP BY k');

-- range predicates on the range-distributed table
SELECT compare($$SELECT count(*), min(day), max(day) FROM events WHERE day < '2024-02-01'$$);
SELECT compare($$SELECT count(*) FROM events WHERE day >= '2024-02-01' AND day < '2024-03-01'$$);
SELECT compare($$SELECT day, count(*) FROM events WHERE day BETWEEN '2024-02-25' AND '2024-03-05' GROUP BY day$$);
SELECT compare($$SELECT count(*) FROM events WHERE day > '2024-05-01'$$);
SELECT compare($$SELECT count(*) FROM events WHERE day >= '2024-06-01'$$);
SELECT compare($$SELECT count(*) FROM events WHERE day IN ('2024-01-05', '2024-03-05', '2024-04-05')$$);
SELECT compare($$SELECT date_trunc('month', day) AS m, kind, count(*), sum(n) FROM events GROUP BY 1, 2$$);

-- joins
SELECT compare('SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id');
SELECT compare('SELECT c.city, count(*), sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.city');
SELECT compare('SELECT c.id, count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id');
SELECT compare('SELECT o.customer_id, o.id, c.name FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL');
SELECT compare('SELECT c.id, o.id FROM orders o RIGHT JOIN customers c ON c.id = o.customer_id WHERE o.id IS NULL');
SELECT compare('SELECT c.id, o.id FROM customers c FULL JOIN orders o ON o.customer_id = c.id WHERE c.id IS NULL OR o.id IS NULL');
SELECT compare('SELECT o.id, p.name, p.price * o.items AS total FROM orders o JOIN products p ON p.sku = o.items WHERE o.customer_id < 20');
SELECT compare('SELECT p.category, sum(o.items) FROM orders o JOIN products p ON p.sku = o.items GROUP BY p.category');
SELECT compare('SELECT c.name, e.day, e.kind FROM customers c JOIN events e ON e.customer_id = c.id WHERE c.id = 5');
SELECT compare('SELECT c.tier, e.kind, count(*) FROM customers c JOIN events e ON e.customer_id = c.id GROUP BY 1, 2');
SELECT compare('SELECT r.region, count(*) FROM customers c JOIN regions r ON r.city = c.city GROUP BY r.region');
SELECT compare('SELECT r.city, c.id FROM regions r LEFT JOIN customers c ON c.city = r.city AND c.id < 10');
SELECT compare('SELECT a.id, b.id FROM customers a JOIN customers b ON a.tier = b.tier AND a.city = b.city AND a.id < b.id WHERE a.id < 40');
SELECT compare('SELECT c.id, x.id FROM customers c JOIN customers x ON x.id = c.id + 1 WHERE c.id % 50 = 0');
SELECT compare('SELECT c1.id, c2.id FROM customers c1, customers c2 WHERE c1.id = 3 AND c2.id = 4');
SELECT compare('SELECT * FROM customers c CROSS JOIN sparse s WHERE c.id < 3');
SELECT compare('SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id JOIN products p ON p.sku = o.items WHERE p.category = ''toys'' AND c.city = ''Rome''');

-- semi and anti joins, with NULLs
SELECT compare('SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = ''cancelled'')');
SELECT compare('SELECT id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)');
SELECT compare('SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 990)');
SELECT compare('SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)');
SELECT compare('SELECT id FROM customers WHERE credit NOT IN (SELECT amount FROM orders)');
SELECT compare('SELECT id FROM customers WHERE credit NOT IN (SELECT amount FROM orders WHERE amount IS NOT NULL AND amount < 100)');
SELECT compare('SELECT sku FROM products WHERE sku IN (SELECT items FROM orders WHERE customer_id = 7)');
SELECT compare('SELECT city FROM regions WHERE city NOT IN (SELECT city FROM customers WHERE city IS NOT NULL)');
SELECT compare('SELECT id FROM customers WHERE city = ANY (SELECT city FROM regions WHERE region = ''north'')');
SELECT compare('SELECT id FROM customers WHERE credit * 4 > ALL (SELECT amount FROM orders WHERE customer_id = 9 AND amount IS NOT NULL)');

-- set operations
SELECT compare('SELECT city FROM customers UNION SELECT city FROM regions');
SELECT compare('SELECT customer_id FROM orders UNION ALL SELECT id FROM customers');
SELECT compare('SELECT count(*) FROM (SELECT id FROM customers UNION ALL SELECT 0) s');
SELECT compare('SELECT * FROM (SELECT id FROM customers WHERE id = 3 UNION ALL SELECT customer_id FROM orders WHERE customer_id = 3) s');
SELECT compare('WITH u AS (SELECT city FROM customers UNION ALL SELECT city FROM regions) SELECT city, count(*) FROM u GROUP BY city');
SELECT compare('SELECT id FROM customers INTERSECT SELECT customer_id FROM orders');
SELECT compare('SELECT id FROM customers EXCEPT SELECT customer_id FROM orders');
SELECT compare('SELECT items FROM orders EXCEPT ALL SELECT sku FROM products');
SELECT compare('(SELECT id FROM customers ORDER BY id LIMIT 3) UNION ALL (SELECT id FROM customers ORDER BY id DESC LIMIT 3)');

-- subqueries, LATERAL, CTEs, functions in FROM
SELECT compare('SELECT id, (SELECT max(amount) FROM orders o WHERE o.customer_id = c.id) FROM customers c WHERE id < 30');
SELECT compare('SELECT (SELECT count(*) FROM orders) - (SELECT count(*) FROM customers) AS diff');
SELECT compare('SELECT c.id, l.id, l.amount FROM customers c, LATERAL (SELECT id, amount FROM orders o WHERE o.customer_id = c.id ORDER BY amount DESC NULLS LAST, id LIMIT 2) l WHERE c.id <= 20');
SELECT compare('SELECT c.id, t FROM customers c, LATERAL unnest(c.tags) t WHERE c.id < 20');
SELECT compare('SELECT g, c.name FROM generate_series(1, 20) g LEFT JOIN customers c ON c.id = g * 11');
SELECT compare('SELECT g, count(o.id) FROM generate_series(1, 10) g JOIN orders o ON o.items = g GROUP BY g');
SELECT compare('WITH big AS (SELECT customer_id, sum(amount) s FROM orders GROUP BY 1 HAVING sum(amount) > 5000) SELECT c.name, big.s FROM big JOIN customers c ON c.id = big.customer_id');
SELECT compare('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 15) SELECT r.n, c.name FROM r JOIN customers c ON c.id = r.n');
SELECT compare('SELECT * FROM (SELECT customer_id, count(*) AS n FROM orders GROUP BY 1) s WHERE n > 12');
SELECT compare('SELECT * FROM (VALUES (1), (7), (300)) v(x) JOIN orders o ON o.customer_id = v.x AND o.id < 100');

-- expressions on many types
SELECT compare('SELECT id, credit * 1.5 + 0.25, round(credit / 3, 4), credit::int, -credit FROM customers WHERE credit IS NOT NULL');
SELECT compare('SELECT id, upper(name), length(name), substr(name, 2, 3), name || ''!'' FROM customers WHERE name LIKE ''Cust%''');
SELECT compare('SELECT id, name FROM customers WHERE name ILIKE ''%0_5''');
SELECT compare($$SELECT id, note FROM orders WHERE note LIKE '100\% off%'$$);
SELECT compare($$SELECT id FROM orders WHERE note ~ '^rush: 1[0-9]+$'$$);
SELECT compare('SELECT name FROM customers ORDER BY name COLLATE "C" LIMIT 30', true);
SELECT compare('SELECT min(name), max(name) FROM customers');
SELECT compare($$SELECT id, created, created + interval '1 day', date_trunc('week', created), extract(epoch FROM created)::bigint FROM customers WHERE id < 15$$);
SELECT compare($$SELECT id FROM orders WHERE ordered_at >= timestamptz '2024-03-01 00:00+00' AND ordered_at < timestamptz '2024-03-05 12:00+00'$$);
SELECT compare($$SELECT id, ordered_at AT TIME ZONE 'America/New_York', to_char(ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM orders WHERE customer_id = 7 AND id < 100$$);
SELECT compare($$SELECT id, profile->>'age', profile->'langs', (profile->>'vip')::bool FROM customers WHERE profile @> '{"vip": true}'$$);
SELECT compare($$SELECT profile->>'age' AS age, count(*) FROM customers WHERE profile ? 'langs' AND jsonb_array_length(profile->'langs') = 2 GROUP BY 1$$);
SELECT compare($$SELECT kind, payload->>'page', count(*) FROM events WHERE (payload->>'ok')::bool GROUP BY 1, 2$$);
SELECT compare($$SELECT id, uid FROM customers WHERE uid = md5('33')::uuid$$);
SELECT compare($$SELECT count(*) FROM customers WHERE uid > 'c0000000-0000-0000-0000-000000000000'$$);
SELECT compare('SELECT id, active, NOT active, active IS UNKNOWN FROM customers WHERE active IS NOT TRUE');
SELECT compare($$SELECT id, tags, tags[1], array_length(tags, 1) FROM customers WHERE tags @> ARRAY['t1'] AND 'u2' = ANY (tags)$$);
SELECT compare('SELECT tags, count(*) FROM customers GROUP BY tags');
SELECT compare('SELECT id, CASE WHEN credit IS NULL THEN ''none'' WHEN credit > 200 THEN ''high'' ELSE ''low'' END FROM customers');
SELECT compare($$SELECT id, coalesce(city, tier, 'nothing'), nullif(tier, 'basic'), greatest(credit, 100), least(id, 50) FROM customers$$);
SELECT compare('SELECT id::text || ''-'' || items::text, amount::text, amount::float8::numeric(10,2) FROM orders WHERE customer_id IN (3, 4)');
SELECT compare('SELECT id FROM customers WHERE city IS NULL OR tier IS NULL');
SELECT compare('SELECT id FROM customers WHERE city IS DISTINCT FROM ''Paris'' AND id < 20');
SELECT compare('SELECT count(*) FROM orders WHERE amount IS NULL OR status IS NULL');
SELECT compare($$SELECT id FROM orders WHERE ordered_at::date = '2024-01-02'$$);
SELECT compare('SELECT id FROM orders WHERE extract(hour FROM ordered_at) = 3');
SELECT compare($$SELECT id FROM customers WHERE created::text LIKE 'Sun%'$$);
SELECT compare($$SELECT id FROM customers WHERE created < now() AND created > now() - interval '100 years'$$);
SELECT compare('SELECT city, count(*) OVER (), count(*) OVER (PARTITION BY city) FROM customers');
SELECT compare('SELECT id, city FROM customers ORDER BY city COLLATE "C" NULLS FIRST, id LIMIT 50', true);
SELECT compare('SELECT count(*) FROM customers c WHERE c IS NOT NULL');
SELECT compare('SELECT id FROM orders WHERE amount > (SELECT avg(amount) * 1.9 FROM orders)');
SELECT compare('SELECT id, items FROM orders ORDER BY items DESC FETCH FIRST 3 ROWS WITH TIES');
SELECT compare($$SELECT id FROM customers WHERE profile @? '$.langs[*] ? (@ == "de")' AND id < 30$$);

SELECT compare('SELECT customer_id % 3, count(*), sum(amount) FILTER (WHERE status = ''paid'') FROM orders GROUP BY 1');

--
-- The plans: router queries go to one node, the others to several shards
--
SELECT plan_of('SELECT * FROM customers WHERE id = 42');
SELECT plan_of('SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 42 AND o.customer_id = 42', true);
SELECT * FROM plan_of('SELECT count(*) FROM orders WHERE customer_id = 7') p
 WHERE p ~ 'Distributed Plan|Node|Shard';
-- the shard and node in the plans are those of the value
SELECT (SELECT shard_index FROM shardext.shards
         WHERE shard_id = shardext_shard_for_value('dq_dist.customers', 42)) AS shard_of_42,
       (SELECT name FROM node_names WHERE node_id = shardext_node_for_value('dq_dist.customers', 42)) AS node_of_42,
       (SELECT shard_index FROM shardext.shards
         WHERE shard_id = shardext_shard_for_value('dq_dist.orders', 7)) AS shard_of_7,
       (SELECT name FROM node_names WHERE node_id = shardext_node_for_value('dq_dist.orders', 7)) AS node_of_7,
       (SELECT shard_index FROM shardext.shards
         WHERE shard_id = shardext_shard_for_value('dq_dist.events', date '2024-02-10')) AS shard_of_feb_10;
SELECT plan_of('SELECT count(*) FROM customers');
SELECT plan_of('SELECT * FROM customers WHERE city = ''Oslo''');
SELECT * FROM plan_of('SELECT c.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 42') p
 WHERE p ~ 'Distributed Plan|Shard';
SELECT * FROM plan_of($$SELECT * FROM events WHERE day = '2024-02-10'$$) p
 WHERE p ~ 'Distributed Plan|Shard';

-- a correlated subquery or LATERAL subquery pinned by the outer row reads
-- only that value's rows from its shard (the value goes as a parameter)
SELECT * FROM plan_of('SELECT g, (SELECT name FROM customers c WHERE c.id = g) FROM generate_series(1, 20) g', true) p
 WHERE p ~ 'Remote SQL';
SELECT compare('SELECT g, (SELECT name FROM customers c WHERE c.id = g) FROM generate_series(-2, 60) g');
SELECT compare('SELECT g, (SELECT count(*) FROM orders o WHERE o.customer_id = g::bigint) FROM generate_series(1, 40) g');
SELECT compare('SELECT g, x.id, x.amount FROM generate_series(1, 30) g, LATERAL (SELECT id, amount FROM orders o WHERE o.customer_id = g ORDER BY amount DESC, id LIMIT 2) x');
SELECT compare('SELECT g FROM generate_series(1, 50) g WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = g AND c.city IS NOT NULL)');
SELECT compare('SELECT g, (SELECT count(*) FROM customers c WHERE c.id = NULLIF(g, 3)) FROM generate_series(1, 5) g');
SELECT compare('SELECT g, (SELECT count(*) FROM customers c WHERE c.id = g * 1000000000000) FROM generate_series(1, 3) g');
-- the pin's value keeps its type on the node (an enum of ours), and plain
-- EXPLAIN of such a scan shows no value it does not have yet
CREATE TYPE dq_dist.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE dq_dist.moods (k dq_dist.mood, v int);
CREATE TABLE dq_local.moods (k dq_dist.mood, v int);
INSERT INTO dq_dist.moods VALUES ('sad', 1), ('ok', 2), ('happy', 3);
INSERT INTO dq_local.moods SELECT * FROM dq_dist.moods;
SET client_min_messages = warning;
SELECT create_distributed_table('dq_dist.moods', 'k', 'range', range_bounds => '{ok}');
RESET client_min_messages;
CREATE TABLE dist_queries.mood_list (k dq_dist.mood);
INSERT INTO dist_queries.mood_list VALUES ('sad'), ('ok'), (NULL), ('happy');
SELECT compare('SELECT o.k, (SELECT sum(v) FROM moods t WHERE t.k = o.k) FROM dist_queries.mood_list o');
SELECT compare('SELECT o.k, x.n FROM dist_queries.mood_list o, LATERAL (SELECT count(*) AS n FROM moods t WHERE t.k = o.k) x');
SELECT * FROM plan_of('SELECT o.k, (SELECT sum(v) FROM moods t WHERE t.k = o.k) FROM dist_queries.mood_list o', true) p
 WHERE p ~ 'Shards|Remote SQL';
-- an inet with host bits equals no cidr
CREATE TABLE dq_dist.nets (k cidr, v int);
CREATE TABLE dq_local.nets (k cidr, v int);
INSERT INTO dq_dist.nets VALUES ('10.0.0.0/8', 1), ('192.168.0.0/16', 2);
INSERT INTO dq_local.nets SELECT * FROM dq_dist.nets;
SET client_min_messages = warning;
SELECT create_distributed_table('dq_dist.nets', 'k', shard_count => 4);
RESET client_min_messages;
SELECT compare('SELECT * FROM nets WHERE k = ''10.0.0.1/8''::inet');
SELECT compare('SELECT * FROM nets WHERE k = ''10.0.0.0/8''::inet');
SELECT compare('SELECT * FROM nets WHERE k IN (''10.0.0.1/8''::inet, ''192.168.0.0/16''::inet)');
SELECT compare('SELECT a, (SELECT v FROM nets n WHERE n.k = a) FROM (VALUES (''10.0.0.1/8''::inet), (''10.0.0.0/8''::inet)) x(a)');
SELECT * FROM plan_of('SELECT a, (SELECT v FROM nets n WHERE n.k = a) FROM (VALUES (''10.0.0.0/8''::cidr)) x(a)') p
 WHERE p ~ 'Shards';
