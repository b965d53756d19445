--
-- Pushdown of multi-shard work: partial aggregation, top-N and joins of
-- co-located tables run on the shard groups (EXPLAIN shows a
-- ShardextPartialScan); results equal those of local copies.
--
SELECT setval('shardext.shard_id_seq', 400000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA pd;
SET search_path = pd, public;
SET client_min_messages = warning;
CREATE TABLE customers (id bigint PRIMARY KEY, name text, region int);
CREATE TABLE orders (customer_id bigint, id int, amount numeric, shipped bool,
                     PRIMARY KEY (customer_id, id));
INSERT INTO customers SELECT g, 'customer ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 5 END
  FROM generate_series(1, 300) g;
INSERT INTO orders SELECT (g % 250) + 1, g, (g % 97) * 1.5, g % 3 = 0
  FROM generate_series(1, 2000) g;
CREATE TABLE local_customers AS SELECT * FROM customers;
CREATE TABLE local_orders AS SELECT * FROM orders;
SELECT create_distributed_table('customers', 'id', shard_count => 6);
SELECT create_distributed_table('orders', 'customer_id', shard_count => 6);
RESET client_min_messages;

-- same(q): the query on the distributed tables and on the local copies
-- (the same text with local_ in front of the table names) gives the same rows
CREATE FUNCTION same(q text, ordered bool DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text;
	l text;
	lq text := regexp_replace(q, '\m(customers|orders|order_copies)\M', 'local_\1', 'g');
BEGIN
	IF ordered THEN
		EXECUTE format('SELECT string_agg(t::text, %L) FROM (%s) t', '|', q) INTO d;
		EXECUTE format('SELECT string_agg(t::text, %L) FROM (%s) t', '|', lq) INTO l;
	ELSE
		EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', '|', q) INTO d;
		EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', '|', lq) INTO l;
	END IF;
	RETURN CASE WHEN d IS NOT DISTINCT FROM l THEN 'same' ELSE 'DIFFERENT: ' || coalesce(d, '<none>') || ' vs ' || coalesce(l, '<none>') END;
END $$;

-- the plan shape, without costs
CREATE FUNCTION plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line !~ 'Node:|Task Count' THEN
			RETURN NEXT line;
		END IF;
	END LOOP;
END $$;

-- aggregates without and with GROUP BY
SELECT plan('SELECT count(*) FROM customers');
SELECT same('SELECT count(*), count(region), sum(region), min(name), max(name), avg(region) FROM customers');
SELECT plan('SELECT region, count(*), avg(id) FROM customers GROUP BY region');
SELECT same('SELECT region, count(*), avg(id), sum(id), bool_and(id > 10), bool_or(id > 290) FROM customers GROUP BY region');
SELECT same('SELECT region, count(*) FILTER (WHERE id % 2 = 0) FROM customers WHERE name LIKE ''customer 1%'' GROUP BY region HAVING count(*) > 2 ORDER BY count(*) DESC, region', true);
SELECT same('SELECT region % 2 AS parity, max(id) - min(id) AS spread FROM customers GROUP BY region % 2 ORDER BY 1 NULLS FIRST', true);
SELECT same('SELECT count(*) FROM customers WHERE id < 0');
SELECT same('SELECT sum(amount), avg(amount) FROM orders WHERE amount > 1000');
-- top-N
SELECT plan('SELECT id, name FROM customers ORDER BY id DESC LIMIT 5');
SELECT same('SELECT id, name FROM customers ORDER BY id DESC LIMIT 5', true);
SELECT same('SELECT id FROM customers ORDER BY region NULLS FIRST, id LIMIT 7 OFFSET 3', true);
SELECT same('SELECT name FROM customers ORDER BY id % 10, id DESC LIMIT 4', true);
-- a top-N of plain columns of one table fetches whole rows from the shards
-- (the nodes then sort without projecting every row); expressions, large
-- limits and tables with dropped columns keep the named columns
CREATE FUNCTION remote_columns(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		IF line ~ 'Remote SQL' THEN
			RETURN NEXT substring(line from 'Remote SQL: (SELECT .*?) FROM');
		END IF;
	END LOOP;
END $$;
SELECT remote_columns('SELECT name, id FROM customers WHERE region > 1 ORDER BY id DESC LIMIT 5');
SELECT same('SELECT name, id FROM customers WHERE region > 1 ORDER BY id DESC LIMIT 5', true);
SELECT remote_columns('SELECT name FROM customers ORDER BY region DESC NULLS LAST, id LIMIT 5 OFFSET 2');
SELECT same('SELECT name FROM customers ORDER BY region DESC NULLS LAST, id LIMIT 5 OFFSET 2', true);
SELECT same('SELECT id, id FROM customers ORDER BY 1, 2 DESC LIMIT 3', true);
SELECT remote_columns('SELECT name FROM customers ORDER BY id % 10, id DESC LIMIT 4');
SELECT remote_columns('SELECT id FROM customers ORDER BY id LIMIT 1001');
SELECT same('SELECT id FROM customers ORDER BY id LIMIT 1001', true);
CREATE TABLE wide (a int, b text, c int);
INSERT INTO wide SELECT g, 'row ' || g, g % 13 FROM generate_series(1, 100) g;
SELECT create_distributed_table('wide', 'a', shard_count => 3);
ALTER TABLE wide DROP COLUMN b;
SELECT remote_columns('SELECT a FROM wide ORDER BY c DESC, a LIMIT 3');
SELECT a FROM wide ORDER BY c DESC, a LIMIT 3;
DROP TABLE wide;
-- pushed-down queries check privileges as PostgreSQL does: on the table,
-- or on the columns the query reads (whole rows fetched for a top-N need none
-- on the other columns)
CREATE ROLE pd_reader;
-- it reaches the nodes through user mappings of its own
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR pd_reader SERVER %I OPTIONS (user %L, password_required %L)', s, current_user, 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA pd TO pd_reader;
SET ROLE pd_reader;
SELECT count(*) FROM customers;
SELECT max(name) FROM customers;
SELECT * FROM customers ORDER BY id LIMIT 3;
SELECT DISTINCT region FROM customers;
SELECT c.id, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id LIMIT 1;
RESET ROLE;
GRANT SELECT (id, name) ON customers TO pd_reader;
SET ROLE pd_reader;
SELECT id, name FROM customers ORDER BY id DESC LIMIT 2;
SELECT id, region FROM customers ORDER BY id DESC LIMIT 2;
SELECT max(region) FROM customers;
SELECT name, count(*) FROM customers WHERE region = 1 GROUP BY name LIMIT 1;
SELECT count(*), max(name) FROM customers;
RESET ROLE;
REVOKE ALL ON customers FROM pd_reader;
REVOKE USAGE ON SCHEMA pd FROM pd_reader;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR pd_reader SERVER %I', s);
	END LOOP;
END $$;
DROP ROLE pd_reader;
-- co-located joins, with aggregation, top-N, outer joins
SELECT plan('SELECT c.region, count(*), sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region');
SELECT same('SELECT c.region, count(*), sum(o.amount), avg(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region');
SELECT same('SELECT c.name, o.id, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.shipped ORDER BY o.amount DESC, o.id LIMIT 6', true);
SELECT plan('SELECT c.id, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.region = 3');
SELECT same('SELECT c.id, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.region = 3');
SELECT same('SELECT count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE o.id IS NULL');
SELECT same('SELECT c.region, count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.amount > 100 GROUP BY c.region');
-- LATERAL subqueries tied to the row's distribution value run per shard
-- group too (the top N of each customer's orders)
SELECT plan('SELECT c.id, x.id, x.amount FROM customers c CROSS JOIN LATERAL (SELECT o.id, o.amount FROM orders o WHERE o.customer_id = c.id ORDER BY o.amount DESC, o.id LIMIT 2) x WHERE c.region = 3');
SELECT same('SELECT c.id, x.id, x.amount FROM customers c CROSS JOIN LATERAL (SELECT o.id, o.amount FROM orders o WHERE o.customer_id = c.id ORDER BY o.amount DESC, o.id LIMIT 2) x WHERE c.region = 3');
SELECT same('SELECT c.id, x.n, x.total FROM customers c LEFT JOIN LATERAL (SELECT count(*) AS n, sum(o.amount) AS total FROM orders o WHERE o.customer_id = c.id AND o.shipped) x ON true');
SELECT same('SELECT c.id, x.id FROM customers c LEFT JOIN LATERAL (SELECT o.id FROM orders o WHERE o.customer_id = c.id AND o.amount > 140 ORDER BY o.id LIMIT 1) x ON true WHERE c.id < 60');
SELECT same('SELECT c.region, count(x.id) FROM customers c, LATERAL (SELECT o.id FROM orders o WHERE o.customer_id = c.id ORDER BY o.amount LIMIT 3) x GROUP BY c.region');
-- not tied to the row's value: through the coordinator, same rows
SELECT plan('SELECT c.id, x.id FROM customers c CROSS JOIN LATERAL (SELECT o.id FROM orders o WHERE o.id = c.id ORDER BY o.id LIMIT 1) x WHERE c.id < 20');
SELECT same('SELECT c.id, x.id FROM customers c CROSS JOIN LATERAL (SELECT o.id FROM orders o WHERE o.id = c.id ORDER BY o.id LIMIT 1) x WHERE c.id < 20');
SELECT same('SELECT c.id, x.m FROM customers c CROSS JOIN LATERAL (SELECT max(o.amount) AS m FROM orders o WHERE o.customer_id = c.id + 1) x WHERE c.id < 30');
-- parameters reach the shards
PREPARE top(int) AS SELECT region, count(*) FROM customers WHERE id > $1 GROUP BY region ORDER BY region NULLS LAST;
EXECUTE top(100);
SELECT region, count(*) FROM local_customers WHERE id > 100 GROUP BY region ORDER BY region NULLS LAST;
-- variance and standard deviation of integers and numerics: exact sums per
-- shard, combined as PostgreSQL computes them (same digits, same scale)
SELECT plan('SELECT region, variance(id), stddev(id) FROM customers GROUP BY region');
SELECT same('SELECT region, variance(id), stddev(id), var_pop(id), stddev_pop(id), var_samp(id::numeric / 7), stddev_samp((id % 5)::smallint) FROM customers GROUP BY region');
SELECT same('SELECT variance(amount), stddev(amount), stddev_pop(amount) FILTER (WHERE shipped) FROM orders');
SELECT same('SELECT variance(id), stddev(id), var_pop(id) FROM customers WHERE id IN (7, 8, 9, 1000)');
SELECT same('SELECT variance(id), stddev_pop(id), var_pop(3) FROM customers WHERE id = 7');
SELECT same('SELECT variance(id), stddev(id) FROM customers WHERE id < 0');
-- of floats: each shard's count, sum and sum of squared deviations, combined
-- as PostgreSQL's parallel aggregation does (the last digits may differ from
-- a serial pass, so compare 12 significant digits)
SELECT plan('SELECT region, variance(amount::float8) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY region');
CREATE FUNCTION digits(x float8) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT to_char(x, '9.99999999999EEEE') $$;
SELECT same('SELECT region, digits(variance(id / 3.0::float8)), digits(stddev(id::float4 * 1.5::float4)), digits(var_pop(id / 7.0::float8)), digits(stddev_pop(sqrt(id))) FROM customers GROUP BY region');
SELECT same('SELECT digits(var_samp(amount::float8) FILTER (WHERE shipped)), digits(stddev_samp(amount::float8 + 1e9)), count(*) FROM orders');
SELECT same('SELECT variance(id::float8), stddev(id::float8), var_pop(id::float8), stddev_pop(id::float8) FROM customers WHERE id = 7');
SELECT same('SELECT variance(id::float8), stddev_pop(id::float8) FROM customers WHERE id < 0');
-- string_agg with a constant delimiter: strings per shard, joined again (no
-- order is guaranteed without ORDER BY: compare the elements)
SELECT plan('SELECT region, string_agg(name, '','') FROM customers GROUP BY region');
SELECT same('SELECT region, cardinality(string_to_array(string_agg(name, '',''), '','')), length(string_agg(name, '','')) FROM customers GROUP BY region');
SELECT plan('SELECT region, cardinality(string_to_array(string_agg(name, '',''), '','')), length(string_agg(name, '','')) FROM customers GROUP BY region');
SELECT same('SELECT length(string_agg(name, ''; '')), length(string_agg(name, ''--'') FILTER (WHERE region = 2)) FROM customers');
SELECT same('SELECT string_agg(name, '','') FROM customers WHERE id < 0');
-- array_agg: arrays per shard, concatenated (no order guaranteed either)
SELECT plan('SELECT region, array_agg(name) FROM customers GROUP BY region');
SELECT same('SELECT region, cardinality(array_agg(name)), array_length(array_agg(ARRAY[id, id]), 2) FROM customers GROUP BY region');
SELECT same('SELECT array_agg(id) FROM customers WHERE id < 0');
-- grouped by the distribution column: each shard group runs the whole query,
-- so every aggregate works, DISTINCT and ordered ones included
SELECT plan('SELECT customer_id, count(DISTINCT amount), string_agg(id::text, '','' ORDER BY id) FROM orders GROUP BY customer_id');
SELECT same('SELECT customer_id, count(DISTINCT amount), string_agg(id::text, '','' ORDER BY id) FROM orders GROUP BY customer_id');
SELECT plan('SELECT c.id, count(DISTINCT o.shipped) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5');
SELECT same('SELECT c.id, count(DISTINCT o.shipped) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5', true);
SELECT same('SELECT customer_id, percentile_disc(0.5) WITHIN GROUP (ORDER BY amount), array_agg(DISTINCT id % 3 ORDER BY id % 3) FROM orders GROUP BY customer_id ORDER BY customer_id OFFSET 3', true);
SELECT same('SELECT c.id, count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id');
-- a distribution column that an outer join null-extends does not group
-- whole shard groups: those queries combine partial aggregates
SELECT plan('SELECT o.customer_id, count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY o.customer_id');
SELECT same('SELECT o.customer_id, count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY o.customer_id');
-- what is not pushed down keeps the multi-shard plan, with the same results
SELECT plan('SELECT count(DISTINCT region) FROM customers');
SELECT same('SELECT count(DISTINCT region) FROM customers');
SELECT plan('SELECT c.id FROM customers c JOIN orders o ON o.id = c.id');
SELECT same('SELECT c.id FROM customers c JOIN orders o ON o.id = c.id');
SET shardext.enable_pushdown = off;
SELECT plan('SELECT count(*) FROM customers');
RESET shardext.enable_pushdown;
-- DISTINCT
SELECT plan('SELECT DISTINCT region FROM customers');
SELECT same('SELECT DISTINCT region FROM customers');
SELECT same('SELECT DISTINCT region, id % 3 FROM customers ORDER BY 1, 2 LIMIT 5', true);
SELECT same('SELECT DISTINCT c.region, o.shipped FROM customers c JOIN orders o ON o.customer_id = c.id');
SELECT same('SELECT DISTINCT ON (region) region, id FROM customers ORDER BY region, id', true);
-- INSERT ... SELECT between co-located tables runs on every shard group
CREATE TABLE order_copies (customer_id bigint, id int, amount numeric, name text,
                           PRIMARY KEY (customer_id, id));
CREATE TABLE local_order_copies (LIKE order_copies INCLUDING ALL);
SET client_min_messages = warning;
SELECT create_distributed_table('order_copies', 'customer_id', shard_count => 6);
RESET client_min_messages;
SELECT plan('INSERT INTO order_copies SELECT o.customer_id, o.id, o.amount, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.shipped');
INSERT INTO order_copies SELECT o.customer_id, o.id, o.amount, c.name
  FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.shipped;
INSERT INTO local_order_copies SELECT o.customer_id, o.id, o.amount, c.name
  FROM local_orders o JOIN local_customers c ON c.id = o.customer_id WHERE o.shipped;
INSERT INTO order_copies SELECT customer_id, id, amount, 'again' FROM orders
  ON CONFLICT (customer_id, id) DO UPDATE SET name = excluded.name;
INSERT INTO local_order_copies SELECT customer_id, id, amount, 'again' FROM local_orders
  ON CONFLICT (customer_id, id) DO UPDATE SET name = excluded.name;
SELECT same('SELECT * FROM order_copies');
-- one whose SELECT is pinned to one customer runs on that shard group only
SELECT line FROM plan('INSERT INTO order_copies SELECT o.customer_id, o.id + 500000, o.amount, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = 3') AS line
 WHERE line !~ 'Shard:';
INSERT INTO order_copies SELECT o.customer_id, o.id + 500000, o.amount, c.name
  FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = 3;
INSERT INTO local_order_copies SELECT o.customer_id, o.id + 500000, o.amount, c.name
  FROM local_orders o JOIN local_customers c ON c.id = o.customer_id WHERE o.customer_id = 3;
PREPARE copy_customer(bigint, text) AS
  INSERT INTO order_copies SELECT customer_id, id + 600000, amount, $2 FROM orders
   WHERE customer_id = $1 RETURNING customer_id, id, name;
PREPARE local_copy_customer(bigint, text) AS
  INSERT INTO local_order_copies SELECT customer_id, id + 600000, amount, $2 FROM local_orders
   WHERE customer_id = $1 RETURNING customer_id, id, name;
EXECUTE copy_customer(1, 'one') \g /dev/null
EXECUTE copy_customer(2, 'two') \g /dev/null
EXECUTE copy_customer(4, 'four') \g /dev/null
EXECUTE copy_customer(5, 'five') \g /dev/null
EXECUTE copy_customer(6, 'six') \g /dev/null
EXECUTE copy_customer(7, 'seven') \g /dev/null
EXECUTE copy_customer(8, 'eight') \g /dev/null
EXECUTE local_copy_customer(1, 'one') \g /dev/null
EXECUTE local_copy_customer(2, 'two') \g /dev/null
EXECUTE local_copy_customer(4, 'four') \g /dev/null
EXECUTE local_copy_customer(5, 'five') \g /dev/null
EXECUTE local_copy_customer(6, 'six') \g /dev/null
EXECUTE local_copy_customer(7, 'seven') \g /dev/null
EXECUTE local_copy_customer(8, 'eight') \g /dev/null
SELECT same('SELECT * FROM order_copies');
SELECT count(*) > 0 AS copied FROM local_order_copies WHERE id > 600000;
DELETE FROM order_copies WHERE id > 500000;
DELETE FROM local_order_copies WHERE id > 500000;
-- one whose distribution value comes from an outer join's null-extended
-- side is routed (those rows have none: an error, as for any such row)
SELECT line FROM plan('INSERT INTO order_copies SELECT o.customer_id, c.id, o.amount, c.name FROM customers c LEFT JOIN orders o ON o.customer_id = c.id') AS line
 WHERE line ~ 'Custom Scan';
INSERT INTO order_copies SELECT o.customer_id, c.id, o.amount, c.name
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.id = 260;
-- a source whose distribution column does not feed the target's is routed
SELECT plan('INSERT INTO order_copies SELECT o.id, o.customer_id, o.amount, NULL FROM orders o');
SELECT same('SELECT * FROM order_copies');
-- so is one leaving out a column whose default is computed per row here
ALTER TABLE order_copies ADD COLUMN noise float8 DEFAULT random(), ADD COLUMN fixed int DEFAULT 7;
SELECT plan('INSERT INTO order_copies (customer_id, id, amount) SELECT customer_id, id + 1000000, amount FROM orders');
INSERT INTO order_copies (customer_id, id, amount) SELECT customer_id, id + 1000000, amount FROM orders;
SELECT count(*) AS rows_added, count(DISTINCT noise) > 1 AS noise_per_row, min(fixed), max(fixed)
  FROM order_copies WHERE id > 1000000;
ALTER TABLE order_copies DROP COLUMN noise, DROP COLUMN fixed;
DELETE FROM order_copies WHERE id > 1000000;

-- rows stream from the nodes: statements that need the same connections
-- while a pushed-down scan is being read (a loop over its rows, a cursor)
-- find every row still there
DO $$
DECLARE
	r record;
	n int := 0;
BEGIN
	FOR r IN SELECT customer_id, count(*) AS c FROM orders GROUP BY customer_id LOOP
		UPDATE order_copies SET amount = r.c WHERE customer_id = r.customer_id;
		n := n + 1;
	END LOOP;
	RAISE NOTICE 'groups: % of %', n, (SELECT count(DISTINCT customer_id) FROM local_orders);
END $$;
UPDATE local_order_copies l SET amount = (SELECT count(*) FROM local_orders o WHERE o.customer_id = l.customer_id);
SELECT same('SELECT * FROM order_copies');
BEGIN;
DECLARE c CURSOR FOR SELECT customer_id, count(*) FROM orders GROUP BY customer_id ORDER BY customer_id;
FETCH 2 FROM c;
DELETE FROM order_copies WHERE customer_id IN (SELECT customer_id FROM order_copies ORDER BY customer_id LIMIT 1);
FETCH ALL FROM c \g /dev/null
SELECT count(*) > 0 AS deleted FROM local_order_copies
 WHERE customer_id = (SELECT min(customer_id) FROM local_order_copies)
   AND NOT EXISTS (SELECT 1 FROM order_copies WHERE customer_id = (SELECT min(customer_id) FROM local_order_copies));
ROLLBACK;

-- several connections per node read a node's shards at once
CREATE FUNCTION task_count(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line ~ 'Task Count' THEN
			RETURN substring(line FROM '\d+')::int;
		END IF;
	END LOOP;
	RETURN NULL;
END $$;
SELECT task_count('SELECT count(*) FROM customers') AS tasks;
SET shardext.max_connections_per_node = 3;
SELECT task_count('SELECT count(*) FROM customers') AS tasks;
BEGIN;      -- in a transaction block, one connection per node
SELECT task_count('SELECT count(*) FROM customers') AS tasks;
COMMIT;
-- (top-level statements: inside a function one connection per node is used)
SELECT count(*), sum(id), min(name) FROM customers;
SELECT count(*), sum(id), min(name) FROM local_customers;
SELECT region, count(*), round(avg(id), 6) FROM customers GROUP BY region ORDER BY region;
SELECT region, count(*), round(avg(id), 6) FROM local_customers GROUP BY region ORDER BY region;
SELECT id, name FROM customers ORDER BY id DESC LIMIT 3;
SELECT id, name FROM local_customers ORDER BY id DESC LIMIT 3;
SELECT count(*), sum(n) FROM (SELECT customer_id, count(DISTINCT amount) AS n FROM orders GROUP BY customer_id) s;
SELECT count(*), sum(n) FROM (SELECT customer_id, count(DISTINCT amount) AS n FROM local_orders GROUP BY customer_id) s;
RESET shardext.max_connections_per_node;

-- nodes on one host get no parallel workers (they share its cores);
-- shardext.node_parallel_workers sets another number
-- (the settings sent to the node show when they change)
\set VERBOSITY terse
SET shardext.log_remote_commands = on;
SELECT id FROM customers WHERE id = 1;
SET shardext.node_parallel_workers = 3;
SELECT id FROM customers WHERE id = 1;
RESET shardext.node_parallel_workers;
SELECT id FROM customers WHERE id = 1;
RESET shardext.log_remote_commands;
\set VERBOSITY default
-- current_setting() answers for the coordinator's session, not the node's
SET max_parallel_workers_per_gather = 1;
SELECT current_setting('max_parallel_workers_per_gather') AS setting FROM customers WHERE id = 1;
RESET max_parallel_workers_per_gather;

-- NaN and infinity in pushed-down variance and standard deviation
CREATE TABLE odd_values (id int PRIMARY KEY, x numeric);
CREATE TABLE local_odd_values (LIKE odd_values INCLUDING ALL);
INSERT INTO odd_values VALUES (1, 1), (2, 'NaN'), (3, 2.5), (4, 'Infinity'), (5, 3);
INSERT INTO local_odd_values SELECT * FROM odd_values;
SET client_min_messages = warning;
SELECT create_distributed_table('odd_values', 'id', shard_count => 3);
RESET client_min_messages;
SELECT stddev(x), variance(x), stddev_pop(x) FROM odd_values;
SELECT stddev(x), variance(x), stddev_pop(x) FROM local_odd_values;
SELECT stddev(x), variance(x) FROM odd_values WHERE id IN (1, 3, 5);
SELECT stddev(x), variance(x) FROM local_odd_values WHERE id IN (1, 3, 5);
SELECT stddev(x::float8), variance(x::float8), var_pop(x::float8) FROM odd_values WHERE id <> 2;
SELECT stddev(x::float8), variance(x::float8), var_pop(x::float8) FROM local_odd_values WHERE id <> 2;
SELECT stddev(x::float8), variance(x::float8) FROM odd_values;
SELECT stddev(x::float8), variance(x::float8) FROM local_odd_values;

-- a PL/pgSQL loop over a multi-shard scan whose body writes on the same nodes
DO $$
DECLARE
	r record;
	n int := 0;
BEGIN
	FOR r IN SELECT id FROM odd_values LOOP
		UPDATE odd_values SET x = x + 1 WHERE id = r.id;
		n := n + 1;
	END LOOP;
	RAISE NOTICE '% rows', n;
END $$;
SELECT id, x FROM odd_values ORDER BY id;

-- subqueries that read only the shard group of the row they test (tied to
-- it by the distribution column: correlated, or a semi-join `col IN
-- (SELECT col ...)`) run per shard group with the rest of the query
SELECT plan('SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id AND c.region = 2)');
SELECT same('SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id AND c.region = 2)');
SELECT same('SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.shipped)');
SELECT plan('SELECT region, count(*) FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 100) GROUP BY region');
SELECT same('SELECT region, count(*) FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 100) GROUP BY region');
SELECT same('SELECT count(*) FROM customers c WHERE c.region > (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) / 3');
SELECT same('SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND EXISTS (SELECT 1 FROM order_copies x WHERE x.customer_id = o.customer_id AND x.id = o.id AND x.amount > 140)) ORDER BY c.id LIMIT 5', true);
SELECT same('SELECT sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name LIKE ''customer 1%'' AND o.customer_id = ANY (SELECT customer_id FROM order_copies WHERE amount > 50)');
SELECT same('SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT o.customer_id FROM orders o WHERE o.customer_id = c.id AND o.amount < 3)');
-- not tied: the coordinator joins the shards' rows
SELECT plan('SELECT count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)');
SELECT same('SELECT count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)');
SELECT plan('SELECT count(*) FROM customers WHERE id IN (SELECT max(customer_id) FROM orders)');
SELECT same('SELECT count(*) FROM customers WHERE id IN (SELECT max(customer_id) FROM orders)');
SELECT same('SELECT count(*) FROM customers WHERE id IN (SELECT customer_id FROM orders ORDER BY amount DESC, id LIMIT 3)');
SELECT same('SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.id = c.id)');
SELECT same('SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id OR o.amount = 3)');
-- subqueries in a VALUES list, in the arguments of a function in FROM or of
-- TABLESAMPLE are checked too
SELECT same('SELECT count(*) FROM orders WHERE amount IN (VALUES ((SELECT max(amount) FROM order_copies)))');
SELECT same('SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM generate_series(1, (SELECT count(*)::int FROM orders)) g WHERE g = c.id)');
SELECT same('SELECT count(*) FROM customers c TABLESAMPLE BERNOULLI (CASE WHEN (SELECT count(*) FROM orders) > 0 THEN 100 ELSE 0 END) WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)');
SELECT same('SELECT count(*) FROM customers WHERE id IN (SELECT g FROM generate_series((SELECT min(customer_id) FROM orders), 20) g)');
-- TABLESAMPLE in a pushed-down query samples each shard (a union of shards
-- cannot be sampled)
SELECT count(*) FROM customers TABLESAMPLE SYSTEM (100);
SELECT sum(amount) = (SELECT sum(amount) FROM local_orders) AS same_sum
  FROM orders TABLESAMPLE BERNOULLI (100) WHERE amount >= 0;
SELECT id FROM customers TABLESAMPLE SYSTEM (100) ORDER BY id LIMIT 2;

-- a SQL function whose result is cast to its declared type: the rewritten
-- aggregate keeps the cast (it returned the uncast value: garbage, crashes)
CREATE TABLE fn_agg (id int PRIMARY KEY, v bigint);
SET client_min_messages = warning;
SELECT create_distributed_table('fn_agg', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO fn_agg VALUES (1, 1), (2, 2);
CREATE FUNCTION fn_sum() RETURNS bigint LANGUAGE sql AS 'SELECT sum(v) FROM fn_agg';
CREATE FUNCTION fn_avg() RETURNS float8 LANGUAGE sql AS 'SELECT avg(v) FROM fn_agg';
CREATE FUNCTION fn_count() RETURNS numeric LANGUAGE sql AS 'SELECT count(*) FROM fn_agg';
CREATE FUNCTION fn_both() RETURNS TABLE (a numeric, b float8) LANGUAGE sql
	AS 'SELECT count(*), sum(v) FROM fn_agg';
SELECT fn_sum(), fn_avg(), fn_count();
SELECT * FROM fn_both();
UPDATE fn_agg SET v = fn_sum() WHERE id = 1;
SELECT * FROM fn_agg ORDER BY id;
DROP TABLE fn_agg CASCADE;

-- a user's subquery that happens to be called like the per-shard one is an
-- ordinary subquery
CREATE TABLE alias_t (id int PRIMARY KEY, g int);
CREATE TABLE alias_l (id int PRIMARY KEY, g int);
SET client_min_messages = warning;
SELECT create_distributed_table('alias_t', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO alias_t SELECT i, i % 3 FROM generate_series(1, 30) i;
INSERT INTO alias_l SELECT * FROM alias_t;
SELECT * FROM (SELECT count(*) FROM alias_t) shardext_partial;
SELECT * FROM (SELECT id FROM alias_t ORDER BY id LIMIT 2) shardext_partial;
SELECT * FROM (SELECT g, count(*) FROM alias_t GROUP BY g) shardext_partial ORDER BY g;
SELECT * FROM (SELECT count(*) FROM alias_l) shardext_partial;
SELECT * FROM (SELECT 1 AS x OFFSET 0) shardext_partial;
DROP TABLE alias_t, alias_l;

-- window functions partitioned by the distribution column, and DISTINCT ON
-- that lists it, run whole on each shard group (partitions and rows alike
-- lie in one group); other windows and DISTINCT ON run on the coordinator
SELECT plan('SELECT customer_id, id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) FROM orders');
SELECT same('SELECT customer_id, id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) FROM orders');
SELECT same('SELECT customer_id, id, sum(amount) OVER (PARTITION BY customer_id ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), rank() OVER (PARTITION BY customer_id, shipped ORDER BY amount) FROM orders WHERE id % 3 <> 1');
SELECT same('SELECT customer_id, id, lag(amount) OVER w, first_value(id) OVER w, percent_rank() OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id)');
SELECT same('SELECT customer_id, id, amount, count(*) OVER (PARTITION BY customer_id) FROM orders ORDER BY customer_id, id LIMIT 7 OFFSET 3', true);
SELECT plan('SELECT c.id, o.id, c.name, count(*) OVER (PARTITION BY c.id), avg(o.amount) OVER (PARTITION BY o.customer_id) FROM customers c JOIN orders o ON o.customer_id = c.id');
SELECT same('SELECT c.id, o.id, c.name, count(*) OVER (PARTITION BY c.id), avg(o.amount) OVER (PARTITION BY o.customer_id) FROM customers c JOIN orders o ON o.customer_id = c.id');
SELECT same('SELECT * FROM (SELECT customer_id, id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) AS rn FROM orders) s WHERE rn <= 2');
SELECT same('SELECT customer_id, sum(amount), rank() OVER (PARTITION BY customer_id ORDER BY sum(amount)) FROM orders GROUP BY customer_id HAVING count(*) > 7');
SELECT same('SELECT DISTINCT customer_id, count(*) OVER (PARTITION BY customer_id) FROM orders');
-- (a window's ORDER BY column the select list lacks stays out of DISTINCT)
SELECT same('SELECT DISTINCT customer_id, first_value(id) OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY amount, id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)');
-- not within shard groups: on the coordinator
SELECT plan('SELECT customer_id, id, count(*) OVER (PARTITION BY shipped) FROM orders');
SELECT same('SELECT customer_id, id, count(*) OVER (PARTITION BY shipped) FROM orders');
SELECT same('SELECT customer_id, id, count(*) OVER (PARTITION BY customer_id), count(*) OVER () FROM orders');
SELECT same('SELECT c.id, o.customer_id, count(*) OVER (PARTITION BY o.customer_id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id');
SELECT same('SELECT customer_id % 3, count(*), sum(count(*)) OVER (PARTITION BY customer_id % 3) FROM orders GROUP BY 1');
SELECT same('SELECT DISTINCT shipped, count(*) OVER (PARTITION BY customer_id) FROM orders');
SELECT plan('SELECT DISTINCT ON (customer_id) customer_id, id, amount FROM orders ORDER BY customer_id, amount DESC, id');
SELECT same('SELECT DISTINCT ON (customer_id) customer_id, id, amount FROM orders ORDER BY customer_id, amount DESC, id', true);
SELECT same('SELECT DISTINCT ON (shipped, customer_id) customer_id, shipped, id FROM orders ORDER BY shipped, customer_id, id DESC LIMIT 20', true);
SELECT plan('SELECT DISTINCT ON (shipped) shipped, id FROM orders ORDER BY shipped, id');
SELECT same('SELECT DISTINCT ON (shipped) shipped, id FROM orders ORDER BY shipped, id', true);
-- with a parameter, in a function's cached (generic) plan
CREATE FUNCTION top_orders(n int) RETURNS TABLE (c bigint, i int, r bigint)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT customer_id, id, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC)
		FROM orders WHERE customer_id <= n;
END $$;
SELECT i, (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM top_orders(i % 4 + 1) t) =
		  (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM (
			SELECT customer_id, id, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC)
			FROM local_orders WHERE customer_id <= i % 4 + 1) t) AS same
  FROM generate_series(1, 8) i;
DROP FUNCTION top_orders(int);

-- subqueries in FROM, WITH queries and UNION branches that can run per
-- shard group do, each by itself (the rest of the query on the coordinator)
SELECT plan('SELECT * FROM (SELECT region, count(*) AS n FROM customers GROUP BY region) s WHERE n > 50');
SELECT same('SELECT * FROM (SELECT region, count(*) AS n FROM customers GROUP BY region) s WHERE n > 50');
SELECT plan('SELECT * FROM (SELECT customer_id, id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) AS rn FROM orders) s WHERE rn <= 2');
SELECT same('SELECT * FROM (SELECT customer_id, id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) AS rn FROM orders) s WHERE rn <= 2');
SELECT same('WITH per_customer AS (SELECT customer_id, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer_id) SELECT c.region, count(*), max(p.total), sum(p.n) FROM per_customer p JOIN local_customers c ON c.id = p.customer_id GROUP BY c.region');
SELECT same('WITH s AS MATERIALIZED (SELECT region, count(*) AS n, avg(id) AS a FROM customers GROUP BY region) SELECT a.region, b.n FROM s a JOIN s b ON b.region IS NOT DISTINCT FROM a.region');
SELECT same('SELECT s.region, s.n, t.m FROM (SELECT region, count(*) AS n FROM customers GROUP BY region) s JOIN (SELECT (customer_id % 5)::int AS region, max(amount) AS m FROM orders GROUP BY 1) t ON t.region = s.region');
SELECT same('SELECT * FROM (SELECT x.c, x.n FROM (SELECT customer_id AS c, count(*) AS n FROM orders GROUP BY customer_id ORDER BY n DESC, c LIMIT 5) x) y');
SELECT plan('SELECT region, count(*) FROM customers GROUP BY region UNION ALL SELECT NULL, count(*) FROM orders');
SELECT same('SELECT region, count(*) FROM customers GROUP BY region UNION ALL SELECT NULL, count(*) FROM orders');
SELECT same('SELECT * FROM (SELECT shipped, sum(amount) FROM orders GROUP BY 1 UNION SELECT NULL, sum(id) FROM customers) u');
-- one pinned to a shard reads that shard alone, as before
SELECT plan('SELECT * FROM (SELECT id, count(*) FROM orders WHERE customer_id = 5 GROUP BY id) s, (SELECT count(*) FROM customers) c');
SELECT same('SELECT * FROM (SELECT id, count(*) FROM orders WHERE customer_id = 5 GROUP BY id) s, (SELECT count(*) FROM customers) c');
-- an output column the query does not read is not computed (PostgreSQL
-- drops it too: one that would fail does not fail the query)
SELECT same('SELECT count(*) FROM (SELECT customer_id, 1/(count(*)-8) AS bad FROM orders GROUP BY customer_id) s');
SELECT same('SELECT count(*) FROM (SELECT customer_id, id, 1/(row_number() OVER (PARTITION BY customer_id ORDER BY id) - 2) AS bad FROM orders) s');
SELECT same('SELECT count(*) FROM (SELECT DISTINCT ON (customer_id) customer_id, 1/(id-id) AS bad FROM orders ORDER BY customer_id, id) s');
SELECT same('WITH w AS (SELECT customer_id, count(*) n, 1/(count(*)-8) AS bad FROM orders GROUP BY customer_id) SELECT customer_id, n FROM w WHERE n > 3');
SELECT same('SELECT count(*) FROM (SELECT * FROM (SELECT customer_id, 1/(count(*)-8) AS bad FROM orders GROUP BY customer_id) a) b');
-- (a column of a NOT NULL domain is kept: a NULL would be cast to it on a
-- node; a distributed table's column puts the domain on the nodes)
SELECT last_value AS dom_before, is_called AS dom_called FROM shardext.shard_id_seq \gset
CREATE DOMAIN pd_nn AS bigint NOT NULL;
CREATE TABLE pd_dom (id bigint PRIMARY KEY, n pd_nn);
SET client_min_messages = warning;
SELECT create_distributed_table('pd_dom', 'id', shard_count => 2);
RESET client_min_messages;
SELECT same('SELECT count(*) FROM (SELECT customer_id, count(*)::pd_nn AS n FROM orders GROUP BY customer_id) s');
DROP TABLE pd_dom;
DROP DOMAIN pd_nn;
SELECT setval('shardext.shard_id_seq', :dom_before, :'dom_called') IS NOT NULL AS shard_ids_given_back;
-- (but a WITH query read twice, or calling volatile functions, is computed
-- whole, as by PostgreSQL)
WITH w AS NOT MATERIALIZED (SELECT customer_id, 1/(count(*)-8) AS bad, random() AS r FROM orders GROUP BY customer_id)
SELECT count(*) FROM w;
SELECT count(*) FROM (WITH w AS (SELECT customer_id, 1/(count(*)-8) AS bad FROM orders GROUP BY customer_id) SELECT a.customer_id FROM w a JOIN w b USING (customer_id)) x;
-- a condition on a distribution column of its output pins it instead
SELECT plan('SELECT * FROM (SELECT customer_id, count(*) FROM orders GROUP BY customer_id) s WHERE customer_id = 5');
SELECT same('SELECT * FROM (SELECT customer_id, count(*) FROM orders GROUP BY customer_id) s WHERE customer_id = 5');
SELECT plan('WITH t AS (SELECT customer_id, sum(amount) AS s FROM orders GROUP BY 1) SELECT * FROM t JOIN local_customers c ON c.id = t.customer_id WHERE c.id = 7');
SELECT same('WITH t AS (SELECT customer_id, sum(amount) AS s FROM orders GROUP BY 1) SELECT * FROM t JOIN local_customers c ON c.id = t.customer_id WHERE c.id = 7');
SELECT plan('SELECT * FROM (SELECT customer_id, count(*) FROM orders GROUP BY 1 UNION ALL SELECT id, 0 FROM customers) u WHERE customer_id = 5');
SELECT same('SELECT * FROM (SELECT customer_id, count(*) FROM orders GROUP BY 1 UNION ALL SELECT id, 0 FROM customers) u WHERE customer_id = 5');
SELECT plan('SELECT s.customer_id, sum(s.n) FROM (SELECT customer_id, count(*) n FROM orders GROUP BY customer_id) s GROUP BY s.customer_id HAVING s.customer_id = 5');
SELECT plan('SELECT * FROM (SELECT customer_id, count(*) FROM orders WHERE customer_id IN (1, 2) GROUP BY 1) s, (SELECT 1) o');
-- and one on another plain column is moved in by PostgreSQL: the nodes filter
SELECT plan('SELECT * FROM (SELECT customer_id, shipped, count(*) FROM orders GROUP BY customer_id, shipped) s WHERE shipped');
SELECT same('SELECT * FROM (SELECT customer_id, shipped, count(*) FROM orders GROUP BY customer_id, shipped) s WHERE shipped');
-- a small local table's join keys still filter the distributed tables
CREATE TABLE few_keys (x bigint);
INSERT INTO few_keys VALUES (3), (4);
ANALYZE few_keys;
SELECT plan('SELECT o.* FROM orders o JOIN few_keys k ON k.x = o.customer_id CROSS JOIN (SELECT count(*) FROM customers) c');
SELECT same('SELECT o.*, c.count FROM orders o JOIN few_keys k ON k.x = o.customer_id CROSS JOIN (SELECT count(*) FROM customers) c');
SELECT plan('WITH unused AS (SELECT customer_id, count(*) FROM orders GROUP BY 1) SELECT o.* FROM orders o JOIN few_keys k ON k.x = o.customer_id');
DROP TABLE few_keys;
-- a view's tables are read with its owner's privileges, as before
CREATE VIEW region_counts AS SELECT region, count(*) AS n FROM customers GROUP BY region;
SELECT plan('SELECT * FROM region_counts WHERE n > 50');
CREATE ROLE pd_reader;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR pd_reader SERVER %I OPTIONS (user %L, password_required %L)', s, current_user, 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA pd TO pd_reader;
GRANT SELECT ON region_counts TO pd_reader;
SET ROLE pd_reader;
SELECT * FROM region_counts WHERE n > 50 ORDER BY region;
SELECT * FROM (SELECT region, count(*) FROM customers GROUP BY region) s;
RESET ROLE;
REVOKE SELECT ON region_counts FROM pd_reader;
SET ROLE pd_reader;
SELECT * FROM region_counts WHERE n > 50 ORDER BY region;
RESET ROLE;
DROP VIEW region_counts;
REVOKE USAGE ON SCHEMA pd FROM pd_reader;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR pd_reader SERVER %I', s);
	END LOOP;
END $$;
DROP ROLE pd_reader;
-- a view whose tables are in a schema its reader may not use (its shard
-- ids are given back: later files show theirs)
SELECT last_value AS shard_id_before, is_called AS shard_id_called
  FROM shardext.shard_id_seq \gset
CREATE SCHEMA pd_private;
CREATE TABLE pd_private.po (customer_id bigint, amount int);
INSERT INTO pd_private.po SELECT g % 50, g FROM generate_series(1, 500) g;
SET client_min_messages = warning;
SELECT create_distributed_table('pd_private.po', 'customer_id', shard_count => 4);
RESET client_min_messages;
CREATE VIEW po_counts AS SELECT customer_id, count(*) AS n FROM pd_private.po GROUP BY customer_id;
CREATE ROLE pd_reader2;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR pd_reader2 SERVER %I OPTIONS (user %L, password_required %L)', s, current_user, 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA pd TO pd_reader2;
GRANT SELECT ON po_counts TO pd_reader2;
SELECT plan('SELECT count(*) FROM po_counts WHERE n > 5');
SET ROLE pd_reader2;
SELECT count(*) FROM po_counts WHERE n > 5;
SELECT count(*) FROM pd_private.po;
RESET ROLE;
REVOKE SELECT ON po_counts FROM pd_reader2;
SET ROLE pd_reader2;
SELECT count(*) FROM po_counts WHERE n > 5;
RESET ROLE;
DROP VIEW po_counts;
DROP TABLE pd_private.po;
DROP SCHEMA pd_private;
SELECT setval('shardext.shard_id_seq', :shard_id_before, :'shard_id_called') IS NOT NULL AS shard_ids_given_back;
REVOKE USAGE ON SCHEMA pd FROM pd_reader2;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR pd_reader2 SERVER %I', s);
	END LOOP;
END $$;
DROP ROLE pd_reader2;
-- with a parameter, in a function's cached (generic) plan
CREATE FUNCTION big_regions(m int) RETURNS TABLE (r int, n bigint)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT * FROM (SELECT region, count(*) AS n FROM customers WHERE id > m GROUP BY region) s
		WHERE s.n > m / 10;
END $$;
SELECT i, (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM big_regions(i * 20) t) =
		  (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM (
			SELECT * FROM (SELECT region, count(*) AS n FROM local_customers WHERE id > i * 20 GROUP BY region) s
			WHERE s.n > i * 20 / 10) t) AS same
  FROM generate_series(1, 8) i;
DROP FUNCTION big_regions(int);
