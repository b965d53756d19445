--
-- A differential corpus: a shop schema (customers, orders, line_items
-- co-located by customer_id; products as a reference table; regions local)
-- loaded twice, as plain local tables in schema co_local (the oracle) and as
-- distributed tables in schema co_dist. Every compare() runs the same query
-- text on both schemas and must say 'same: N rows'.
--
CREATE SCHEMA corpus;       -- helpers
CREATE SCHEMA co_local;     -- the oracle: plain tables
CREATE SCHEMA co_dist;      -- the same tables, distributed
SET search_path = corpus, public;

--
-- compare(query): runs the query on both schemas and says 'same: N rows', or
-- shows the rows only one side returned (at most 5 of each). With
-- ordered => true the order of the rows must match too (use it only when the
-- ORDER BY is a total order).
--
CREATE FUNCTION run_query(q text, schema_name text, ordered bool)
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	result text[] := '{}';
BEGIN
	PERFORM set_config('search_path', format('%I, corpus, public', schema_name), true);
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
		d := run_query(q, 'co_dist', ordered);
	EXCEPTION WHEN OTHERS THEN
		d_err := SQLSTATE || ': ' || SQLERRM;
	END;
	BEGIN
		l := run_query(q, 'co_local', ordered);
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

-- plan_lines(query): the lines of EXPLAIN (COSTS OFF) on co_dist that say how
-- the query is distributed (no shard ids, node names or ports)
CREATE FUNCTION plan_lines(q text)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	PERFORM set_config('search_path', 'co_dist, corpus, public', true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line ~ 'Distributed Plan|Custom Scan' THEN
			RETURN NEXT line;
		END IF;
	END LOOP;
	PERFORM set_config('search_path', 'corpus, public', true);
END
$$;

--
-- The data (deterministic): 300 customers (251-300 without orders, some
-- NULLs in every nullable column), 3000 orders (every fourth one of customer
-- 42; a few of customers that do not exist), 0-4 line items per order
-- (product NULL or unknown in a few), 50 products (46-50 never ordered),
-- 8 regions in a hierarchy (7 and 8 without customers), refunds of three
-- customers only (most shards of refunds are empty), and carts.
--
CREATE TABLE co_local.regions (
	region_id int PRIMARY KEY,
	name text NOT NULL,
	parent_id int
);
INSERT INTO co_local.regions VALUES
	(1, 'North', NULL), (2, 'South', NULL), (3, 'East', 1), (4, 'West', 2),
	(5, 'Central', 3), (6, 'Islands', 5), (7, 'Arctic', 1), (8, 'Overseas', NULL);

CREATE TABLE co_local.customers (
	customer_id bigint PRIMARY KEY,
	name text NOT NULL,
	region_id int,
	signup date,
	tier text,
	email text,
	credit_limit numeric(10,2),
	referred_by bigint
);
INSERT INTO co_local.customers
SELECT g,
       CASE WHEN g % 11 = 0 THEN 'customer ' ELSE 'Customer ' END || lpad(g::text, 3, '0'),
       CASE WHEN g % 13 = 0 THEN NULL ELSE g % 6 + 1 END,
       CASE WHEN g % 17 = 0 THEN NULL ELSE date '2021-01-01' + g * 4 END,
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 3 = 0 THEN 'gold' WHEN g % 3 = 1 THEN 'silver' ELSE 'bronze' END,
       CASE WHEN g % 7 = 0 THEN NULL
            ELSE 'c' || g || '@' || (ARRAY['example.com', 'Shop.test', 'mail.org'])[g % 3 + 1] END,
       CASE WHEN g % 9 = 0 THEN NULL ELSE (g * 137 % 5000) + 0.50 END,
       CASE WHEN g % 5 = 0 THEN g / 5 END
  FROM generate_series(1, 300) g;

-- text that needs escaping on its way to the shards, and special values
UPDATE co_local.customers
   SET name = CASE customer_id WHEN 294 THEN E'O''Brien \\ "Q"' WHEN 295 THEN E'tab\there'
                               WHEN 296 THEN E'line1\nline2' WHEN 297 THEN 'Zoë Ünïcødé ✓'
                               WHEN 298 THEN '' ELSE name END,
       email = CASE customer_id WHEN 294 THEN E'\\N' WHEN 295 THEN 'NULL' WHEN 296 THEN ''
                                ELSE email END,
       signup = CASE customer_id WHEN 299 THEN 'infinity'::date WHEN 298 THEN '-infinity'::date
                                 ELSE signup END
 WHERE customer_id BETWEEN 294 AND 299;

CREATE TABLE co_local.orders (
	customer_id bigint NOT NULL,
	order_id bigint NOT NULL,
	ordered_at timestamptz NOT NULL,
	status text,
	total numeric(12,2),
	coupon text,
	PRIMARY KEY (customer_id, order_id)
);
INSERT INTO co_local.orders
SELECT CASE WHEN g % 199 = 0 THEN 1000 + g          -- no such customer
            WHEN g % 4 = 0 THEN 42                  -- the big customer
            ELSE (g * 37) % 250 + 1 END,            -- 251-300 order nothing
       g,
       timestamptz '2023-01-01 08:00:00+00' + g * interval '2 hours 53 minutes',
       CASE WHEN g % 61 = 0 THEN NULL
            ELSE (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled'])[g % 5 + 1] END,
       CASE WHEN g % 37 = 0 THEN NULL ELSE round((g * 7919 % 50000) / 100.0, 2) END,
       CASE WHEN g % 8 = 1 THEN 'SAVE' || (g % 3) * 5 END
  FROM generate_series(1, 3000) g;

CREATE TABLE co_local.line_items (
	customer_id bigint NOT NULL,
	order_id bigint NOT NULL,
	line_no int NOT NULL,
	product_id int,
	quantity int NOT NULL,
	price numeric(10,2),
	PRIMARY KEY (customer_id, order_id, line_no)
);
INSERT INTO co_local.line_items
SELECT o.customer_id, o.order_id, l,
       CASE WHEN o.order_id % 97 = 0 AND l = 1 THEN NULL
            WHEN o.order_id % 89 = 0 THEN 999
            ELSE (o.order_id * 7 + l * 13) % 45 + 1 END,
       (o.order_id + l) % 7 + 1,
       CASE WHEN o.order_id % 53 = 0 THEN NULL
            ELSE round(((o.order_id * l * 31) % 9000) / 100.0 + 1, 2) END
  FROM co_local.orders o, generate_series(1, (o.order_id % 5)::int) l;

CREATE TABLE co_local.products (
	product_id int PRIMARY KEY,
	name text NOT NULL,
	category text,
	price numeric(10,2),
	discontinued bool
);
INSERT INTO co_local.products
SELECT g, 'Product ' || chr(65 + g % 26) || g,
       (ARRAY['books', 'games', 'garden', 'kitchen', NULL])[g % 5 + 1],
       CASE WHEN g % 17 = 0 THEN NULL ELSE round(g * 3.17 + 0.5, 2) END,
       CASE WHEN g % 23 = 0 THEN NULL ELSE g % 9 = 0 END
  FROM generate_series(1, 50) g;

UPDATE co_local.products SET price = 'NaN' WHERE product_id = 50;

CREATE TABLE co_local.refunds (
	customer_id bigint NOT NULL,
	order_id bigint NOT NULL,
	refund_no int NOT NULL,
	amount numeric(12,2),
	reason text,
	PRIMARY KEY (customer_id, order_id, refund_no)
);
INSERT INTO co_local.refunds
SELECT customer_id, order_id, r, round(total / (r + 1), 2),
       CASE WHEN order_id % 3 = 0 THEN NULL WHEN r = 1 THEN 'damaged' ELSE 'late' END
  FROM co_local.orders, generate_series(1, 2) r
 WHERE customer_id IN (7, 42, 199) AND status = 'cancelled' AND (r = 1 OR order_id % 2 = 0);

-- shopping carts: distributed by customer_id with the same shard count, but
-- in a co-location group of their own
CREATE TABLE co_local.carts (
	customer_id bigint NOT NULL,
	product_id int NOT NULL,
	qty int NOT NULL,
	added_at timestamptz,
	PRIMARY KEY (customer_id, product_id)
);
INSERT INTO co_local.carts
SELECT c, p, (c + p) % 4 + 1,
       CASE WHEN p % 7 <> 0 THEN timestamptz '2023-12-01 00:00:00+00' + (c * p) * interval '7 minutes' END
  FROM generate_series(1, 300, 3) c, generate_series(1, 50) p
 WHERE (c * 7 + p) % 9 = 0;

-- the distributed copies (regions stays a local table in both schemas)
CREATE TABLE co_dist.regions (LIKE co_local.regions INCLUDING ALL);
CREATE TABLE co_dist.customers (LIKE co_local.customers INCLUDING ALL);
CREATE TABLE co_dist.orders (LIKE co_local.orders INCLUDING ALL);
CREATE TABLE co_dist.line_items (LIKE co_local.line_items INCLUDING ALL);
CREATE TABLE co_dist.products (LIKE co_local.products INCLUDING ALL);
CREATE TABLE co_dist.refunds (LIKE co_local.refunds INCLUDING ALL);
CREATE TABLE co_dist.carts (LIKE co_local.carts INCLUDING ALL);
INSERT INTO co_dist.regions SELECT * FROM co_local.regions;
INSERT INTO co_dist.customers SELECT * FROM co_local.customers;
SELECT create_distributed_table('co_dist.customers', 'customer_id', shard_count => 8);
SELECT create_distributed_table('co_dist.orders', 'customer_id', shard_count => 8,
                                colocate_with => 'co_dist.customers');
SELECT create_distributed_table('co_dist.line_items', 'customer_id', shard_count => 8,
                                colocate_with => 'co_dist.customers');
SELECT create_distributed_table('co_dist.refunds', 'customer_id', shard_count => 8,
                                colocate_with => 'co_dist.customers');
SELECT create_distributed_table('co_dist.carts', 'customer_id', shard_count => 8,
                                colocate_with => 'none');
-- products: a reference table (STAND-IN, while create_reference_table did not
-- exist: SELECT create_distributed_table('co_dist.products', 'product_id', shard_count => 4, colocate_with => 'none');)
SELECT create_reference_table('co_dist.products');
-- rows go in after distributing (customers went in before)
INSERT INTO co_dist.orders SELECT * FROM co_local.orders;
INSERT INTO co_dist.line_items SELECT * FROM co_local.line_items;
INSERT INTO co_dist.products SELECT * FROM co_local.products;
INSERT INTO co_dist.refunds SELECT * FROM co_local.refunds;
INSERT INTO co_dist.carts SELECT * FROM co_local.carts;

-- the same view and function in both schemas
SET search_path = co_local;
CREATE VIEW order_totals AS
SELECT o.customer_id, o.order_id, o.status, count(li.line_no) AS lines, sum(li.quantity * li.price) AS amount
  FROM orders o LEFT JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id
 GROUP BY o.customer_id, o.order_id, o.status;
SET search_path = co_dist;
CREATE VIEW order_totals AS
SELECT o.customer_id, o.order_id, o.status, count(li.line_no) AS lines, sum(li.quantity * li.price) AS amount
  FROM orders o LEFT JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id
 GROUP BY o.customer_id, o.order_id, o.status;
SET search_path = corpus, public;
-- a function the nodes do not have
CREATE FUNCTION tier_rank(tier text) RETURNS int LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE tier WHEN 'gold' THEN 3 WHEN 'silver' THEN 2 WHEN 'bronze' THEN 1 ELSE 0 END $$;

-- the shape of the data
SELECT count(*) FILTER (WHERE table_name::text LIKE 'co\_dist.%') AS distributed,
       count(*) FILTER (WHERE table_name::text LIKE 'co\_local.%') AS local
  FROM shardext.tables;
SELECT (SELECT count(*) FROM co_local.customers) AS customers,
       (SELECT count(*) FROM co_local.orders) AS orders,
       (SELECT count(*) FROM co_local.line_items) AS line_items,
       (SELECT count(*) FROM co_local.products) AS products,
       (SELECT count(*) FROM co_local.refunds) AS refunds,
       (SELECT count(*) FROM co_local.carts) AS carts,
       (SELECT count(*) FROM co_local.orders WHERE customer_id = 42) AS orders_of_42;
-- most shards of refunds are empty
SELECT count(*) AS shards,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM co_local.refunds r
            WHERE shardext_shard_for_value('co_dist.refunds', r.customer_id) = s.shard_id)) AS empty_shards
  FROM shardext.shards s WHERE s.table_name = 'co_dist.refunds'::regclass;
SELECT compare($$SELECT count(*) FROM customers$$);

--
-- Router queries: every distributed table pinned by customer_id = constant
--
SELECT compare($$SELECT * FROM customers WHERE customer_id = 42$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = 299$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = 42::int$$);
SELECT compare($$SELECT * FROM orders WHERE customer_id = 42 ORDER BY order_id$$, true);
SELECT compare($$SELECT order_id, total FROM orders WHERE customer_id = 42 ORDER BY total DESC NULLS LAST, order_id LIMIT 10$$, true);
SELECT compare($$SELECT order_id FROM orders WHERE customer_id = 42 ORDER BY ordered_at LIMIT 5 OFFSET 700$$, true);
SELECT compare($$SELECT status, count(*), sum(total), avg(total), min(ordered_at), max(ordered_at) FROM orders WHERE customer_id = 42 GROUP BY status$$);
SELECT compare($$SELECT * FROM orders WHERE customer_id = 42 AND (status = 'cancelled' OR total IS NULL)$$);
SELECT compare($$SELECT * FROM orders WHERE customer_id = 42 AND order_id IN (4, 8, 400, 401, 2996)$$);
SELECT compare($$SELECT o.order_id, li.line_no, li.product_id, li.quantity * li.price FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id WHERE o.customer_id = 42 AND o.order_id < 400$$);
SELECT compare($$SELECT li.order_id, li.line_no, p.name, p.category, li.quantity * p.price FROM line_items li JOIN products p ON p.product_id = li.product_id WHERE li.customer_id = 17$$);
SELECT compare($$SELECT o.order_id, p.category, sum(li.quantity) FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id LEFT JOIN products p ON p.product_id = li.product_id WHERE o.customer_id = 42 AND o.status = 'paid' GROUP BY 1, 2$$);
SELECT compare($$SELECT c.name, count(DISTINCT o.order_id), sum(li.quantity), sum(li.quantity * li.price) FROM customers c JOIN orders o ON o.customer_id = c.customer_id JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id WHERE c.customer_id = 42 GROUP BY c.name$$);
SELECT compare($$SELECT c.customer_id, o.order_id FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id WHERE c.customer_id = 280$$);
SELECT compare($$SELECT order_id, total, sum(total) OVER (ORDER BY ordered_at) AS running, rank() OVER (PARTITION BY status ORDER BY total DESC NULLS LAST, order_id) FROM orders WHERE customer_id = 42$$);
SELECT compare($$SELECT DISTINCT ON (status) status, order_id, total FROM orders WHERE customer_id = 42 ORDER BY status, total DESC NULLS LAST, order_id$$, true);
SELECT compare($$SELECT * FROM customers c WHERE c.customer_id = 42 AND EXISTS (SELECT 1 FROM line_items li WHERE li.customer_id = 42 AND li.product_id IS NULL)$$);
SELECT compare($$SELECT name, (SELECT count(*) FROM orders o WHERE o.customer_id = 13) AS n FROM customers WHERE customer_id = 13$$);
SELECT compare($$WITH o AS (SELECT * FROM orders WHERE customer_id = 42 AND status = 'paid') SELECT date_trunc('month', ordered_at) AS m, count(*), sum(total) FROM o GROUP BY 1$$);
SELECT compare($$SELECT c.name, r.name FROM customers c JOIN regions r ON r.region_id = c.region_id WHERE c.customer_id = 41$$);
SELECT compare($$SELECT product_id, sum(quantity) FROM line_items WHERE customer_id = 42 GROUP BY product_id HAVING sum(quantity) > 40$$);
SELECT compare($$SELECT upper(name), lower(email), split_part(email, '@', 2), length(name), initcap(tier) FROM customers WHERE customer_id = 77$$);
SELECT compare($$SELECT count(*), count(price), sum(price * quantity), max(line_no) FROM line_items WHERE customer_id = 42$$);
SELECT compare($$SELECT * FROM refunds WHERE customer_id = 42$$);
SELECT compare($$SELECT count(*) FROM (SELECT * FROM orders WHERE customer_id = 42 LIMIT 10) s$$);
SELECT compare($$SELECT order_id FROM orders WHERE customer_id = 42 AND total > 490 UNION SELECT order_id FROM refunds WHERE customer_id = 42$$);
SELECT compare($$SELECT o.order_id, o.total, r.amount, r.reason FROM orders o JOIN refunds r ON r.customer_id = o.customer_id AND r.order_id = o.order_id WHERE o.customer_id = 42 AND r.customer_id = 42$$);
SELECT compare($$SELECT order_id, lag(total) OVER w, lead(status) OVER w, row_number() OVER w FROM orders WHERE customer_id = 7 WINDOW w AS (ORDER BY ordered_at)$$);

--
-- IN lists and ANY on the distribution column
--
SELECT compare($$SELECT * FROM customers WHERE customer_id IN (1, 42, 299, 5000)$$);
SELECT compare($$SELECT * FROM orders WHERE customer_id IN (3, 5, 7) AND status = 'paid'$$);
SELECT compare($$SELECT customer_id, count(*), sum(total) FROM orders WHERE customer_id = ANY (ARRAY[1, 2, 3, 42, 1199]) GROUP BY customer_id$$);
SELECT compare($$SELECT c.customer_id, c.name, count(o.order_id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id WHERE c.customer_id IN (1, 42, 99, 250, 300) GROUP BY c.customer_id, c.name$$);
SELECT compare($$SELECT count(*) FROM customers WHERE customer_id NOT IN (1, 2, 3, 42)$$);
SELECT compare($$SELECT li.customer_id, sum(li.quantity) FROM line_items li WHERE li.customer_id IN (10, 20, 30, 40) GROUP BY 1$$);
SELECT compare($$SELECT * FROM refunds WHERE customer_id IN (7, 8, 9, 199)$$);

--
-- Multi-shard aggregates
--
SELECT compare($$SELECT count(*), count(region_id), count(tier), count(email), count(signup), count(referred_by) FROM customers$$);
SELECT compare($$SELECT count(DISTINCT region_id), count(DISTINCT tier), count(DISTINCT signup) FROM customers$$);
SELECT compare($$SELECT sum(total), avg(total), min(total), max(total), count(total) FROM orders$$);
SELECT compare($$SELECT sum(quantity), avg(quantity), sum(price), avg(price), min(price), max(price) FROM line_items$$);
SELECT compare($$SELECT stddev(total), variance(total), stddev_pop(total), var_pop(total) FROM orders$$);
SELECT compare($$SELECT stddev_samp(quantity), var_samp(quantity) FROM line_items$$);
SELECT compare($$SELECT min(ordered_at), max(ordered_at), min(status), max(status), min(coupon), max(coupon) FROM orders$$);
SELECT compare($$SELECT min(signup), max(signup), min(name), max(name), sum(credit_limit), avg(credit_limit) FROM customers$$);
SELECT compare($$SELECT bool_and(discontinued), bool_or(discontinued), every(price > 0) FROM products$$);
SELECT compare($$SELECT bool_and(total > 0), bool_or(coupon IS NOT NULL), bool_and(status IS NOT NULL) FROM orders$$);
SELECT compare($$SELECT string_agg(name, ', ' ORDER BY name) FROM customers WHERE region_id = 3 AND tier = 'gold'$$);
SELECT compare($$SELECT array_agg(order_id ORDER BY order_id DESC) FROM orders WHERE status IS NULL$$);
SELECT compare($$SELECT count(DISTINCT customer_id), count(DISTINCT status), count(DISTINCT coupon) FROM orders$$);
SELECT compare($$SELECT count(DISTINCT product_id), count(DISTINCT (customer_id, order_id)) FROM line_items$$);
SELECT compare($$SELECT count(*), sum(total), avg(total), max(total) FROM orders WHERE total < 0$$);
SELECT compare($$SELECT count(*), sum(amount), avg(amount), max(reason) FROM refunds$$);
SELECT compare($$SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total), percentile_disc(0.9) WITHIN GROUP (ORDER BY total), mode() WITHIN GROUP (ORDER BY status) FROM orders$$);
SELECT compare($$SELECT count(*) FILTER (WHERE quantity > 5), sum(price) FILTER (WHERE product_id IS NULL), avg(quantity) FILTER (WHERE price > 50) FROM line_items$$);
SELECT compare($$SELECT round(avg(total), 2), round(sum(total) / count(*), 4), sum(total)::bigint FROM orders$$);

-- GROUP BY the distribution column
SELECT compare($$SELECT customer_id, count(*), sum(total), avg(total), max(ordered_at) FROM orders GROUP BY customer_id$$);
SELECT compare($$SELECT customer_id, count(*), sum(quantity * price) FROM line_items GROUP BY customer_id HAVING count(*) > 30$$);
SELECT compare($$SELECT customer_id, min(order_id), max(order_id), bool_or(status = 'cancelled') FROM orders GROUP BY customer_id HAVING min(order_id) > 200$$);
SELECT compare($$SELECT customer_id, count(DISTINCT product_id) FROM line_items GROUP BY customer_id$$);
SELECT compare($$SELECT customer_id, string_agg(status, '/' ORDER BY order_id) FROM orders WHERE customer_id < 20 GROUP BY customer_id$$);
SELECT compare($$SELECT customer_id, count(*) FROM refunds GROUP BY customer_id$$);
SELECT compare($$SELECT customer_id, avg(total), stddev(total) FROM orders GROUP BY customer_id HAVING count(*) > 15$$);
-- GROUP BY other columns
SELECT compare($$SELECT status, count(*), sum(total), avg(total), min(order_id), max(order_id) FROM orders GROUP BY status$$);
SELECT compare($$SELECT tier, region_id, count(*), avg(credit_limit), max(signup) FROM customers GROUP BY tier, region_id$$);
SELECT compare($$SELECT product_id, sum(quantity), count(*) FROM line_items GROUP BY product_id HAVING sum(quantity) > 400$$);
SELECT compare($$SELECT date_trunc('month', ordered_at) AS month, count(*), sum(total) FROM orders GROUP BY 1$$);
SELECT compare($$SELECT extract(isodow FROM ordered_at) AS dow, status, count(*) FROM orders GROUP BY 1, 2$$);
SELECT compare($$SELECT status, count(*) FILTER (WHERE coupon IS NOT NULL), sum(total) FILTER (WHERE total > 250) FROM orders GROUP BY status$$);
SELECT compare($$SELECT tier, string_agg(customer_id::text, ',' ORDER BY customer_id) FROM customers WHERE customer_id < 60 GROUP BY tier$$);
SELECT compare($$SELECT status, array_agg(DISTINCT coupon ORDER BY coupon) FROM orders GROUP BY status$$);
SELECT compare($$SELECT coupon, count(*), count(DISTINCT customer_id) FROM orders GROUP BY coupon HAVING count(*) > 10$$);
SELECT compare($$SELECT customer_id % 10 AS bucket, count(*), sum(total) FROM orders GROUP BY 1$$);
SELECT compare($$SELECT quantity, count(*), sum(price), avg(price) FROM line_items GROUP BY quantity ORDER BY quantity$$, true);
SELECT compare($$SELECT status, coupon, count(*) FROM orders GROUP BY ROLLUP (status, coupon)$$);
SELECT compare($$SELECT tier, region_id, count(*) FROM customers GROUP BY GROUPING SETS ((tier), (region_id), ())$$);
SELECT compare($$SELECT tier, count(*) FROM customers GROUP BY tier HAVING avg(credit_limit) > 2400$$);
SELECT compare($$SELECT width_bucket(total, 0, 500, 5) AS bucket, count(*), min(total), max(total) FROM orders GROUP BY 1$$);

--
-- ORDER BY ... LIMIT / OFFSET (total orders only), and LIMIT made deterministic
--
SELECT compare($$SELECT customer_id, order_id, total FROM orders ORDER BY total DESC NULLS LAST, order_id LIMIT 10$$, true);
SELECT compare($$SELECT order_id, ordered_at FROM orders ORDER BY ordered_at LIMIT 5 OFFSET 100$$, true);
SELECT compare($$SELECT customer_id, name FROM customers ORDER BY signup DESC NULLS LAST, customer_id LIMIT 15$$, true);
SELECT compare($$SELECT customer_id, name FROM customers ORDER BY signup NULLS FIRST, customer_id LIMIT 20$$, true);
SELECT compare($$SELECT customer_id, count(*) FROM orders GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 5$$, true);
SELECT compare($$SELECT customer_id, sum(total) FROM orders GROUP BY customer_id ORDER BY 2 DESC NULLS LAST, 1 LIMIT 5 OFFSET 3$$, true);
SELECT compare($$SELECT customer_id, order_id, line_no, quantity * price AS amount FROM line_items ORDER BY amount DESC NULLS LAST, customer_id, order_id, line_no LIMIT 20$$, true);
SELECT compare($$SELECT customer_id FROM customers ORDER BY customer_id OFFSET 290$$, true);
SELECT compare($$SELECT name FROM customers ORDER BY name LIMIT 10$$, true);
SELECT compare($$SELECT name FROM customers ORDER BY name COLLATE "C" DESC LIMIT 10$$, true);
SELECT compare($$SELECT * FROM orders ORDER BY order_id DESC LIMIT 3 OFFSET 2$$, true);
SELECT compare($$SELECT order_id, total FROM orders WHERE status = 'cancelled' ORDER BY total, order_id LIMIT 7$$, true);
SELECT compare($$SELECT order_id, total FROM orders WHERE status = 'cancelled' ORDER BY total NULLS FIRST, order_id LIMIT 7$$, true);
SELECT compare($$SELECT order_id, status FROM orders ORDER BY status NULLS FIRST FETCH FIRST 3 ROWS WITH TIES$$);
SELECT compare($$SELECT c.name, o.order_id, o.total FROM customers c JOIN orders o ON o.customer_id = c.customer_id ORDER BY o.total DESC NULLS LAST, o.order_id LIMIT 8$$, true);
SELECT compare($$SELECT refund_no, order_id FROM refunds ORDER BY amount DESC NULLS LAST, order_id, refund_no LIMIT 4$$, true);
SELECT compare($$SELECT count(*) FROM (SELECT * FROM orders LIMIT 100) s$$);
SELECT compare($$SELECT count(*) FROM (SELECT * FROM line_items WHERE quantity > 3 LIMIT 50) s$$);
SELECT compare($$SELECT count(*) FROM (SELECT customer_id FROM refunds LIMIT 100) s$$);
SELECT compare($$SELECT count(*) FROM (SELECT DISTINCT customer_id FROM orders LIMIT 1000) s$$);

--
-- DISTINCT and DISTINCT ON
--
SELECT compare($$SELECT DISTINCT status FROM orders$$);
SELECT compare($$SELECT DISTINCT tier, region_id FROM customers$$);
SELECT compare($$SELECT DISTINCT customer_id FROM orders WHERE total > 450$$);
SELECT compare($$SELECT DISTINCT li.product_id FROM line_items li WHERE li.quantity = 7$$);
SELECT compare($$SELECT DISTINCT date_trunc('quarter', ordered_at) FROM orders$$);
SELECT compare($$SELECT count(DISTINCT (customer_id, status)) FROM orders$$);
SELECT compare($$SELECT DISTINCT ON (customer_id) customer_id, order_id, total FROM orders ORDER BY customer_id, total DESC NULLS LAST, order_id$$, true);
SELECT compare($$SELECT DISTINCT ON (status) status, customer_id, order_id FROM orders ORDER BY status, ordered_at$$, true);
SELECT compare($$SELECT DISTINCT ON (c.region_id) c.region_id, c.name FROM customers c ORDER BY c.region_id, c.signup NULLS LAST, c.customer_id$$, true);
SELECT compare($$SELECT DISTINCT c.tier, o.status FROM customers c JOIN orders o ON o.customer_id = c.customer_id$$);

--
-- Window functions
--
SELECT compare($$SELECT customer_id, order_id, row_number() OVER (PARTITION BY customer_id ORDER BY ordered_at) FROM orders WHERE customer_id < 30$$);
SELECT compare($$SELECT customer_id, order_id, sum(total) OVER (PARTITION BY customer_id) FROM orders$$);
SELECT compare($$SELECT order_id, rank() OVER (ORDER BY total DESC NULLS LAST, order_id), dense_rank() OVER (PARTITION BY status ORDER BY total) FROM orders WHERE total > 400$$);
SELECT compare($$SELECT customer_id, order_id, lag(total) OVER w, lead(ordered_at) OVER w FROM orders WHERE customer_id IN (1, 2, 3, 42) WINDOW w AS (PARTITION BY customer_id ORDER BY order_id)$$);
SELECT compare($$SELECT tier, customer_id, ntile(4) OVER (PARTITION BY tier ORDER BY customer_id), count(*) OVER (PARTITION BY tier) FROM customers$$);
SELECT compare($$SELECT status, count(*), sum(count(*)) OVER () AS all_orders FROM orders GROUP BY status$$);
SELECT compare($$SELECT customer_id, spent, percent_rank() OVER (ORDER BY spent NULLS FIRST, customer_id) FROM (SELECT customer_id, sum(total) AS spent FROM orders GROUP BY 1) s$$);
SELECT compare($$SELECT order_id, sum(total) OVER (ORDER BY order_id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM orders WHERE customer_id = 42 AND order_id < 200$$);
SELECT compare($$SELECT DISTINCT customer_id, first_value(order_id) OVER w, last_value(order_id) OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY ordered_at ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)$$);
SELECT compare($$SELECT customer_id, order_id, line_no, sum(quantity) OVER (PARTITION BY customer_id, order_id ORDER BY line_no) FROM line_items WHERE customer_id BETWEEN 100 AND 120$$);
SELECT compare($$SELECT * FROM (SELECT customer_id, order_id, total, row_number() OVER (PARTITION BY customer_id ORDER BY total DESC NULLS LAST, order_id) AS rn FROM orders) s WHERE rn <= 2$$);

--
-- Co-located joins on customer_id
--
SELECT compare($$SELECT c.customer_id, c.name, o.order_id FROM customers c JOIN orders o USING (customer_id) WHERE o.status = 'cancelled'$$);
SELECT compare($$SELECT c.tier, count(*), sum(o.total), avg(o.total) FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.tier$$);
SELECT compare($$SELECT c.customer_id, count(o.order_id), sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id$$);
SELECT compare($$SELECT o.status, sum(li.quantity), sum(li.quantity * li.price) FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id GROUP BY o.status$$);
SELECT compare($$SELECT c.region_id, count(DISTINCT li.product_id) FROM customers c JOIN line_items li ON li.customer_id = c.customer_id GROUP BY c.region_id$$);
SELECT compare($$SELECT o.customer_id, o.order_id, o.total, sum(li.quantity * li.price) AS computed FROM orders o JOIN line_items li ON (li.customer_id, li.order_id) = (o.customer_id, o.order_id) GROUP BY o.customer_id, o.order_id, o.total HAVING sum(li.quantity * li.price) > 1000$$);
SELECT compare($$SELECT r.customer_id, r.order_id, r.refund_no, r.amount, o.total, o.status FROM refunds r JOIN orders o ON o.customer_id = r.customer_id AND o.order_id = r.order_id$$);
SELECT compare($$SELECT c.name, count(*) FROM customers c JOIN orders o ON o.customer_id = c.customer_id JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id WHERE li.product_id IS NULL GROUP BY c.name$$);
SELECT compare($$SELECT o.customer_id, count(*) FROM orders o JOIN refunds r ON r.customer_id = o.customer_id GROUP BY 1$$);
SELECT compare($$SELECT c.customer_id, c.tier, o.order_id, li.line_no FROM customers c, orders o, line_items li WHERE o.customer_id = c.customer_id AND li.customer_id = o.customer_id AND li.order_id = o.order_id AND c.region_id = 2 AND li.quantity = 7$$);
SELECT compare($$SELECT c.tier, count(*) AS orders, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE c.signup < date '2022-01-01' GROUP BY c.tier HAVING count(*) > 100$$);

--
-- Joins with the reference table products
--
SELECT compare($$SELECT p.category, sum(li.quantity), count(*) FROM line_items li JOIN products p ON p.product_id = li.product_id GROUP BY p.category$$);
SELECT compare($$SELECT li.customer_id, li.order_id, li.line_no, p.name, li.quantity * p.price FROM line_items li JOIN products p USING (product_id) WHERE li.customer_id < 20$$);
SELECT compare($$SELECT p.product_id, p.name FROM products p WHERE p.discontinued AND EXISTS (SELECT 1 FROM line_items li WHERE li.product_id = p.product_id)$$);
SELECT compare($$SELECT p.product_id, p.name FROM products p WHERE NOT EXISTS (SELECT 1 FROM line_items li WHERE li.product_id = p.product_id)$$);
SELECT compare($$SELECT o.order_id, o.total, p.name, p.price FROM orders o JOIN products p ON p.product_id = o.order_id % 50 + 1 WHERE o.total > 480$$);
SELECT compare($$SELECT p.category, count(*), sum(o.total) FROM orders o JOIN products p ON p.product_id = o.order_id % 60 GROUP BY p.category$$);
SELECT compare($$SELECT c.tier, p.category, sum(li.quantity) FROM customers c JOIN line_items li ON li.customer_id = c.customer_id JOIN products p ON p.product_id = li.product_id GROUP BY 1, 2$$);
SELECT compare($$SELECT p.name, count(li.order_id), coalesce(sum(li.quantity), 0) FROM products p LEFT JOIN line_items li ON li.product_id = p.product_id GROUP BY p.name$$);
SELECT compare($$SELECT p.product_id, li.order_id FROM line_items li RIGHT JOIN products p ON p.product_id = li.product_id AND li.customer_id = 42$$);
SELECT compare($$SELECT p.product_id, li.product_id, li.order_id FROM (SELECT * FROM line_items WHERE customer_id = 42) li FULL JOIN products p ON p.product_id = li.product_id$$);
SELECT compare($$SELECT li.order_id, li.line_no, li.product_id FROM line_items li LEFT JOIN products p ON p.product_id = li.product_id WHERE p.product_id IS NULL$$);
SELECT compare($$SELECT p.product_id, count(li.*) FROM products p FULL JOIN line_items li ON li.product_id = p.product_id GROUP BY p.product_id$$);
SELECT compare($$SELECT li.customer_id, sum(li.quantity * p.price) FROM line_items li JOIN products p ON p.product_id = li.product_id WHERE p.category = 'games' GROUP BY li.customer_id$$);
SELECT compare($$SELECT li.* FROM line_items li WHERE li.product_id IN (SELECT product_id FROM products WHERE discontinued) AND li.quantity > 5$$);

--
-- Joins with the local table regions
--
SELECT compare($$SELECT r.name, count(*) FROM customers c JOIN regions r ON r.region_id = c.region_id GROUP BY r.name$$);
SELECT compare($$SELECT r.region_id, r.name, count(c.customer_id) FROM regions r LEFT JOIN customers c ON c.region_id = r.region_id GROUP BY 1, 2$$);
SELECT compare($$SELECT r.name, sum(o.total), count(*) FROM regions r JOIN customers c ON c.region_id = r.region_id JOIN orders o ON o.customer_id = c.customer_id GROUP BY r.name$$);
SELECT compare($$SELECT c.customer_id, r.name FROM customers c LEFT JOIN regions r ON r.region_id = c.region_id WHERE c.customer_id < 40$$);
SELECT compare($$SELECT r.region_id, c.customer_id FROM regions r FULL JOIN (SELECT * FROM customers WHERE customer_id % 25 = 0) c ON c.region_id = r.region_id$$);
SELECT compare($$SELECT name FROM regions r WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.region_id = r.region_id)$$);
SELECT compare($$SELECT c.customer_id, c.name FROM customers c WHERE c.region_id IN (SELECT region_id FROM regions WHERE parent_id IS NOT NULL) AND c.tier = 'gold'$$);

--
-- Joins that are not co-located (not on customer_id)
--
SELECT compare($$SELECT c.customer_id, li.customer_id, li.order_id, li.line_no FROM customers c JOIN line_items li ON li.order_id = c.customer_id * 10 + 1 WHERE c.customer_id < 50$$);
SELECT compare($$SELECT c.customer_id, c.name, r.name AS referrer FROM customers c JOIN customers r ON r.customer_id = c.referred_by$$);
SELECT compare($$SELECT c.customer_id, r.customer_id FROM customers c LEFT JOIN customers r ON r.referred_by = c.customer_id WHERE c.customer_id < 70$$);
SELECT compare($$SELECT c.customer_id, count(o.order_id) FROM customers c JOIN orders o ON o.order_id = c.customer_id GROUP BY 1$$);
SELECT compare($$SELECT count(*) FROM orders o1 JOIN orders o2 ON o1.ordered_at::date = o2.ordered_at::date AND o1.customer_id <> o2.customer_id WHERE o1.customer_id = 7$$);
SELECT compare($$SELECT c.tier, count(*) FROM customers c JOIN orders o ON o.total::int = c.credit_limit::int GROUP BY c.tier$$);
SELECT compare($$SELECT count(*), sum(li.quantity) FROM line_items li JOIN orders o ON o.order_id = li.order_id$$);
SELECT compare($$SELECT c.customer_id, li.order_id FROM customers c JOIN line_items li ON li.quantity = c.region_id AND li.customer_id <> c.customer_id WHERE c.customer_id = 5 AND li.order_id < 60$$);

--
-- Outer joins in every direction
--
SELECT compare($$SELECT c.customer_id, o.order_id FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id WHERE o.order_id IS NULL$$);
SELECT compare($$SELECT o.customer_id, o.order_id FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id WHERE c.customer_id IS NULL$$);
SELECT compare($$SELECT c.customer_id, o.order_id FROM orders o RIGHT JOIN customers c ON c.customer_id = o.customer_id AND o.status = 'cancelled' WHERE c.customer_id BETWEEN 240 AND 260$$);
SELECT compare($$SELECT c.customer_id, o.order_id FROM customers c FULL JOIN orders o ON o.customer_id = c.customer_id WHERE c.customer_id IS NULL OR o.order_id IS NULL$$);
SELECT compare($$SELECT count(*) FROM orders o LEFT JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id WHERE li.line_no IS NULL$$);
SELECT compare($$SELECT c.tier, count(o.order_id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.total > 400 GROUP BY c.tier$$);
SELECT compare($$SELECT o.order_id, r.refund_no, r.amount FROM orders o LEFT JOIN refunds r ON r.customer_id = o.customer_id AND r.order_id = o.order_id WHERE o.customer_id IN (7, 42) AND o.status = 'cancelled'$$);
SELECT compare($$SELECT c.customer_id, o.order_id, li.line_no FROM customers c LEFT JOIN (orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id) ON o.customer_id = c.customer_id WHERE c.customer_id % 50 = 0$$);
SELECT compare($$SELECT c.customer_id, r.order_id FROM refunds r RIGHT JOIN customers c ON c.customer_id = r.customer_id WHERE c.customer_id < 10 OR c.customer_id = 42$$);
SELECT compare($$SELECT coalesce(o.customer_id, r.customer_id), o.order_id, r.refund_no FROM (SELECT * FROM orders WHERE status = 'cancelled' AND customer_id IN (7, 199)) o FULL JOIN refunds r ON r.customer_id = o.customer_id AND r.order_id = o.order_id$$);

--
-- Semi and anti joins, IN / NOT IN with NULLs
--
SELECT compare($$SELECT customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.status = 'cancelled' AND o.total > 400)$$);
SELECT compare($$SELECT customer_id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)$$);
SELECT compare($$SELECT customer_id, name FROM customers WHERE customer_id IN (SELECT customer_id FROM refunds)$$);
SELECT compare($$SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)$$);
SELECT compare($$SELECT product_id FROM products WHERE product_id NOT IN (SELECT product_id FROM line_items)$$);
SELECT compare($$SELECT product_id FROM products WHERE product_id NOT IN (SELECT product_id FROM line_items WHERE product_id IS NOT NULL)$$);
SELECT compare($$SELECT region_id FROM regions WHERE region_id NOT IN (SELECT region_id FROM customers)$$);
SELECT compare($$SELECT region_id FROM regions WHERE region_id NOT IN (SELECT region_id FROM customers WHERE region_id IS NOT NULL)$$);
SELECT compare($$SELECT count(*) FROM customers WHERE region_id NOT IN (1, 2, NULL)$$);
SELECT compare($$SELECT count(*) FROM customers WHERE region_id IN (1, 2, NULL)$$);
SELECT compare($$SELECT order_id FROM orders o WHERE o.customer_id = ANY (SELECT customer_id FROM customers WHERE tier = 'gold' AND region_id = 4) AND o.total > 450$$);
SELECT compare($$SELECT customer_id FROM customers WHERE credit_limit > ALL (SELECT total FROM orders WHERE customer_id = 3 AND total IS NOT NULL) AND customer_id < 100$$);
SELECT compare($$SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM line_items li WHERE li.customer_id = o.customer_id AND li.order_id = o.order_id)$$);
SELECT compare($$SELECT o.order_id FROM orders o WHERE EXISTS (SELECT 1 FROM refunds r WHERE r.customer_id = o.customer_id AND r.order_id = o.order_id AND r.reason IS NULL)$$);
SELECT compare($$SELECT customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM line_items li WHERE li.customer_id = c.customer_id AND li.product_id = 999)$$);
SELECT compare($$SELECT c.customer_id FROM customers c WHERE c.referred_by IN (SELECT customer_id FROM customers WHERE tier = 'gold')$$);

--
-- Subqueries in FROM, WHERE and SELECT
--
SELECT compare($$SELECT tier, avg(n), max(n) FROM (SELECT c.tier, count(o.order_id) AS n FROM customers c LEFT JOIN orders o USING (customer_id) GROUP BY c.customer_id, c.tier) s GROUP BY tier$$);
SELECT compare($$SELECT order_id FROM orders WHERE total > (SELECT avg(total) * 1.95 FROM orders)$$);
SELECT compare($$SELECT c.customer_id, (SELECT max(o.total) FROM orders o WHERE o.customer_id = c.customer_id) FROM customers c WHERE c.customer_id % 20 = 0$$);
SELECT compare($$SELECT c.customer_id, l.order_id, l.total FROM customers c, LATERAL (SELECT order_id, total FROM orders o WHERE o.customer_id = c.customer_id ORDER BY total DESC NULLS LAST, order_id LIMIT 2) l WHERE c.customer_id <= 15$$);
SELECT compare($$SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM line_items) AS lines, (SELECT count(*) FROM customers) AS customers$$);
SELECT compare($$SELECT max(n), min(n), avg(n) FROM (SELECT customer_id, count(*) AS n FROM line_items GROUP BY 1) s$$);
SELECT compare($$SELECT * FROM (SELECT customer_id, sum(total) AS s FROM orders GROUP BY 1) t WHERE s > 4000$$);
SELECT compare($$SELECT order_id, total, total - (SELECT avg(total) FROM orders o2 WHERE o2.customer_id = o.customer_id) AS diff FROM orders o WHERE o.customer_id IN (5, 6)$$);
SELECT compare($$SELECT c.name FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.customer_id) > 15$$);
SELECT compare($$SELECT s.status, s.n, p.cnt FROM (SELECT status, count(*) AS n FROM orders GROUP BY status) s CROSS JOIN (SELECT count(*) AS cnt FROM products) p$$);

--
-- CTEs, also recursive
--
SELECT compare($$WITH spend AS (SELECT customer_id, sum(total) AS s FROM orders GROUP BY customer_id) SELECT c.tier, max(s), min(s) FROM spend JOIN customers c USING (customer_id) GROUP BY c.tier$$);
SELECT compare($$WITH big AS MATERIALIZED (SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 14) SELECT c.customer_id, c.name FROM customers c JOIN big USING (customer_id)$$);
SELECT compare($$WITH o AS (SELECT * FROM orders WHERE status = 'shipped'), li AS (SELECT customer_id, order_id, sum(quantity) AS q FROM line_items GROUP BY 1, 2) SELECT o.customer_id, sum(li.q) FROM o JOIN li USING (customer_id, order_id) GROUP BY 1$$);
SELECT compare($$WITH RECURSIVE tree AS (SELECT region_id, name, 1 AS depth, name AS path FROM regions WHERE parent_id IS NULL UNION ALL SELECT r.region_id, r.name, t.depth + 1, t.path || '/' || r.name FROM regions r JOIN tree t ON r.parent_id = t.region_id) SELECT t.path, t.depth, count(c.customer_id) FROM tree t LEFT JOIN customers c ON c.region_id = t.region_id GROUP BY t.path, t.depth$$);
SELECT compare($$WITH RECURSIVE chain AS (SELECT customer_id, referred_by, 0 AS depth FROM customers WHERE customer_id = 250 UNION ALL SELECT c.customer_id, c.referred_by, chain.depth + 1 FROM customers c JOIN chain ON c.customer_id = chain.referred_by) SELECT * FROM chain$$);
SELECT compare($$WITH RECURSIVE months(m) AS (SELECT timestamptz '2023-01-01 00:00:00+00' UNION ALL SELECT m + interval '1 month' FROM months WHERE m < timestamptz '2023-12-01 00:00:00+00') SELECT m, count(o.order_id) FROM months LEFT JOIN orders o ON o.ordered_at >= m AND o.ordered_at < m + interval '1 month' GROUP BY m$$);
SELECT compare($$WITH a AS (SELECT customer_id, count(*) AS n FROM orders GROUP BY 1), b AS (SELECT n, count(*) AS customers FROM a GROUP BY n) SELECT * FROM b WHERE customers > 2$$);

--
-- Set operations
--
SELECT compare($$SELECT customer_id FROM customers UNION SELECT customer_id FROM orders$$);
SELECT compare($$SELECT customer_id FROM customers INTERSECT SELECT customer_id FROM orders$$);
SELECT compare($$SELECT customer_id FROM customers EXCEPT SELECT customer_id FROM orders$$);
SELECT compare($$SELECT count(*) FROM (SELECT customer_id FROM customers UNION ALL SELECT customer_id FROM orders) s$$);
SELECT compare($$SELECT count(*) FROM (SELECT product_id FROM line_items EXCEPT ALL SELECT product_id FROM products) s$$);
SELECT compare($$SELECT customer_id, order_id FROM orders WHERE status = 'cancelled' INTERSECT ALL SELECT customer_id, order_id FROM line_items$$);
SELECT compare($$SELECT region_id FROM regions EXCEPT SELECT region_id FROM customers$$);
SELECT compare($$SELECT 'order' AS kind, order_id FROM orders WHERE customer_id = 7 UNION ALL SELECT 'refund', order_id FROM refunds WHERE customer_id = 7$$);
SELECT compare($$(SELECT customer_id FROM orders ORDER BY total DESC NULLS LAST, order_id LIMIT 3) UNION (SELECT customer_id FROM customers ORDER BY customer_id DESC LIMIT 3)$$);

--
-- CASE, COALESCE, NULLIF, GREATEST/LEAST
--
SELECT compare($$SELECT CASE WHEN total IS NULL THEN 'unknown' WHEN total < 100 THEN 'small' WHEN total < 400 THEN 'medium' ELSE 'large' END AS size, count(*) FROM orders GROUP BY 1$$);
SELECT compare($$SELECT customer_id, coalesce(tier, 'none'), nullif(region_id, 1), coalesce(email, name), coalesce(credit_limit, 0) FROM customers$$);
SELECT compare($$SELECT coalesce(status, 'unknown') AS s, count(*), sum(coalesce(total, 0)) FROM orders GROUP BY 1$$);
SELECT compare($$SELECT customer_id, greatest(credit_limit, 1000), least(region_id, 3), greatest(signup, date '2022-06-01') FROM customers WHERE customer_id < 50$$);
SELECT compare($$SELECT customer_id, sum(total) / nullif(count(total), 0) AS avg_total, count(*) FILTER (WHERE coupon IS NOT NULL) * 100 / count(*) AS pct_coupon FROM orders GROUP BY customer_id$$);
SELECT compare($$SELECT CASE tier WHEN 'gold' THEN 3 WHEN 'silver' THEN 2 WHEN 'bronze' THEN 1 END AS rank, count(*) FROM customers GROUP BY 1$$);

--
-- Dates and times
--
SELECT compare($$SELECT customer_id, extract(year FROM signup), extract(month FROM signup), to_char(signup, 'YYYY-MM Dy'), date '2023-12-31' - signup FROM customers WHERE customer_id < 40$$);
SELECT compare($$SELECT order_id, ordered_at AT TIME ZONE 'UTC', to_char(ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), extract(epoch FROM ordered_at)::bigint FROM orders WHERE customer_id = 9$$);
SELECT compare($$SELECT order_id FROM orders WHERE ordered_at >= timestamptz '2023-03-01 00:00:00+00' AND ordered_at < timestamptz '2023-03-04 00:00:00+00'$$);
SELECT compare($$SELECT date_trunc('week', ordered_at) AS wk, count(*) FROM orders WHERE ordered_at < timestamptz '2023-04-01 00:00:00+00' GROUP BY 1$$);
SELECT compare($$SELECT count(*) FROM customers WHERE signup >= date '2022-01-01' AND signup < '2022-07-01'$$);
SELECT compare($$SELECT customer_id, signup + interval '1 year', age(date '2024-01-01', signup), make_date(extract(year FROM signup)::int, 1, 1) FROM customers WHERE customer_id BETWEEN 100 AND 130$$);
SELECT compare($$SELECT o.order_id, o.ordered_at::date - c.signup AS days_after_signup FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.ordered_at::date - c.signup < 0$$);
SELECT compare($$SELECT extract(hour FROM ordered_at AT TIME ZONE 'UTC') AS h, count(*) FROM orders GROUP BY 1$$);

--
-- Text functions
--
SELECT compare($$SELECT customer_id, lower(name), upper(left(name, 3)), right(name, 3), reverse(name), lpad(customer_id::text, 6, '0'), concat_ws('|', tier, region_id, email) FROM customers WHERE customer_id % 7 = 3$$);
SELECT compare($$SELECT customer_id, name FROM customers WHERE name LIKE 'customer%'$$);
SELECT compare($$SELECT customer_id, email FROM customers WHERE email ILIKE '%@shop.TEST'$$);
SELECT compare($$SELECT customer_id FROM customers WHERE email ~ '^c1[0-9]{2}@'$$);
SELECT compare($$SELECT split_part(email, '@', 2) AS domain, count(*), string_agg(customer_id::text, ' ' ORDER BY customer_id) FROM customers WHERE customer_id < 40 GROUP BY 1$$);
SELECT compare($$SELECT customer_id, regexp_replace(email, '@.*$', ''), position('@' IN email), replace(name, 'ustomer', 'ust.'), format('%s <%s>', name, email) FROM customers WHERE region_id = 5$$);
SELECT compare($$SELECT substr(coupon, 1, 4), substring(coupon FROM 5), count(*) FROM orders WHERE coupon IS NOT NULL GROUP BY 1, 2$$);
SELECT compare($$SELECT p.name, length(p.name), p.name || ' (' || coalesce(p.category, '-') || ')' FROM products p WHERE p.name LIKE '%A%' OR p.name LIKE '%Z%'$$);

--
-- Numeric rounding and arithmetic
--
SELECT compare($$SELECT order_id, round(total, 1), trunc(total), ceil(total), floor(total), mod(order_id, 7), abs(total - 250) FROM orders WHERE customer_id = 11$$);
SELECT compare($$SELECT status, round(avg(total), 2), round(avg(total), 0), trunc(avg(total), 3) FROM orders GROUP BY status$$);
SELECT compare($$SELECT order_id, total::int, (total * 1.075)::numeric(12,2), round(total * 1.075, 2), total / 3 FROM orders WHERE customer_id = 12$$);
SELECT compare($$SELECT li.customer_id, li.order_id, li.line_no, round(li.price * li.quantity * 0.9, 2), power(li.quantity, 2), sqrt(li.quantity::numeric)::numeric(10,4) FROM line_items li WHERE li.customer_id = 22$$);
SELECT compare($$SELECT round(sum(price * quantity) / sum(quantity), 3) FROM line_items$$);

--
-- Harder cases: what must not be sent whole to one shard
--
-- a filter on the distribution column above a LIMIT, window, aggregate or
-- DISTINCT ON does not pin the rows below it
SELECT compare($$SELECT * FROM (SELECT * FROM orders ORDER BY order_id LIMIT 5) s WHERE customer_id = 42$$);
SELECT compare($$SELECT * FROM (SELECT customer_id, order_id, row_number() OVER (ORDER BY order_id) AS rn FROM orders) s WHERE customer_id = 42 AND rn < 40$$);
SELECT compare($$SELECT * FROM (SELECT max(customer_id) AS customer_id, count(*) AS n FROM orders) s WHERE customer_id = 3985$$);
SELECT compare($$WITH top AS (SELECT * FROM orders ORDER BY total DESC NULLS LAST, order_id LIMIT 10) SELECT * FROM top WHERE customer_id = 42$$);
SELECT compare($$SELECT * FROM (SELECT DISTINCT ON (status) status, customer_id, order_id FROM orders ORDER BY status, order_id) s WHERE customer_id = 42$$);
SELECT compare($$SELECT * FROM (SELECT customer_id, count(*) OVER (PARTITION BY status) AS same_status FROM orders) s WHERE customer_id = 13$$);
-- subqueries that read other shards inside a pinned query
SELECT compare($$SELECT order_id FROM orders WHERE customer_id = 42 AND total > (SELECT avg(total) * 1.9 FROM orders)$$);
SELECT compare($$SELECT order_id FROM orders WHERE customer_id = 42 AND order_id IN (SELECT order_id + 4 FROM line_items WHERE quantity = 7 AND customer_id <> 42)$$);
SELECT compare($$SELECT (SELECT count(*) FROM orders) AS all_orders, count(*) FROM orders WHERE customer_id = 42$$);
SELECT compare($$SELECT c.customer_id, c.name, o.order_id FROM customers c LEFT JOIN orders o ON o.customer_id = 42 AND o.order_id < 50 WHERE c.customer_id = 7$$);
-- pins and non-pins
SELECT compare($$SELECT count(*) FROM orders WHERE customer_id = 42 OR customer_id = 43$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = 40 + 2$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = 42 AND customer_id = 43$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = 42.0$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = '42'$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id IN (42)$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id IS NOT DISTINCT FROM 42$$);
SELECT compare($$SELECT count(*) FROM customers WHERE customer_id IN (-1, 0, 9223372036854775807)$$);
SELECT compare($$SELECT c.customer_id, c.name, o.order_id FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE o.customer_id = 42 AND o.order_id < 60$$);
SELECT compare($$SELECT o1.order_id, o2.order_id FROM orders o1 JOIN orders o2 ON o2.customer_id = o1.customer_id AND o2.order_id = o1.order_id + 4 WHERE o1.customer_id = 42 AND o1.order_id < 100$$);
SELECT compare($$SELECT count(*) FROM orders o1 JOIN orders o2 ON o2.customer_id = o1.customer_id AND o2.order_id = o1.order_id + 4$$);
SELECT compare($$SELECT * FROM orders WHERE (customer_id, order_id) > (1000, 0)$$);
-- constants of many types in pinned and multi-shard queries
SELECT compare($$SELECT order_id FROM orders WHERE customer_id = 42 AND ordered_at < timestamptz '2023-03-01 00:00:00+00' AND status = ANY ('{paid,shipped}') AND coupon IS DISTINCT FROM 'SAVE5'$$);
SELECT compare($$SELECT order_id, ordered_at FROM orders WHERE customer_id = 42 AND ordered_at::date = '03/04/2023'$$);
SELECT compare($$SELECT order_id, ordered_at FROM orders WHERE ordered_at::date = '03/04/2023'$$);
SELECT compare($$SELECT order_id, ordered_at::text FROM orders WHERE customer_id = 42 AND ordered_at::text LIKE '%Mar 0%'$$);
SELECT compare($$SELECT count(*) FROM orders WHERE ordered_at::text LIKE '%Mar 0%'$$);
SELECT compare($$SELECT count(*) FROM orders WHERE ordered_at > timestamptz '2023-06-01 00:00:00+00' + interval '1 mon 2 days' AND total BETWEEN 100.5 AND 200$$);
SELECT compare($$SELECT customer_id FROM customers WHERE signup > '01/02/2022'::date AND signup < 'infinity' AND tier IN ('gold', 'silver')$$);
-- a function only the coordinator has
SELECT compare($$SELECT customer_id, tier_rank(tier) FROM customers WHERE customer_id = 42$$);
SELECT compare($$SELECT tier_rank(tier), count(*) FROM customers GROUP BY 1$$);
SELECT compare($$SELECT sum(tier_rank(tier)), max(tier_rank(tier)) FROM customers$$);
SELECT compare($$SELECT customer_id FROM customers WHERE tier_rank(tier) = 3 AND region_id = 4$$);
SELECT compare($$SELECT c.customer_id, count(*) FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE tier_rank(c.tier) > 1 GROUP BY c.customer_id$$);

--
-- Harder cases: combining partial aggregates, top-N and DISTINCT
--
SELECT compare($$SELECT sum(quantity) / 7, count(*) / 7, sum(quantity) / count(*), sum(line_no) % 10 FROM line_items$$);
SELECT compare($$SELECT customer_id, sum(quantity) / 3, count(*) / 2 FROM line_items GROUP BY customer_id$$);
SELECT compare($$SELECT o.status, sum(li.quantity) / 7, avg(li.quantity) FROM orders o JOIN line_items li USING (customer_id, order_id) GROUP BY o.status$$);
SELECT compare($$SELECT pg_typeof(sum(quantity)), pg_typeof(count(*)), pg_typeof(avg(quantity)), pg_typeof(max(price)), pg_typeof(sum(customer_id)) FROM line_items$$);
SELECT compare($$SELECT count(*) FROM orders HAVING count(*) > 5$$);
SELECT compare($$SELECT count(*) FROM refunds HAVING count(*) > 5000$$);
SELECT compare($$SELECT 'x' AS k, count(*) FROM orders GROUP BY 1$$);
SELECT compare($$SELECT max(total) - min(total), sum(total) / count(*) + 1, count(*) * 2 FROM orders$$);
SELECT compare($$SELECT product_id, sum(quantity) FROM line_items GROUP BY product_id ORDER BY sum(quantity) DESC, product_id LIMIT 5$$, true);
SELECT compare($$SELECT status, count(*) FROM orders GROUP BY status ORDER BY count(*) DESC, status LIMIT 2 OFFSET 1$$, true);
SELECT compare($$SELECT customer_id FROM orders GROUP BY customer_id ORDER BY sum(total) DESC NULLS LAST, customer_id LIMIT 5$$, true);
SELECT compare($$SELECT coupon, max(total) FROM orders GROUP BY coupon ORDER BY max(total) DESC, coupon LIMIT 3$$, true);
SELECT compare($$SELECT DISTINCT product_id FROM line_items ORDER BY product_id LIMIT 10$$, true);
SELECT compare($$SELECT DISTINCT product_id FROM line_items ORDER BY product_id DESC LIMIT 3$$, true);
SELECT compare($$SELECT DISTINCT count(*) FROM orders GROUP BY customer_id$$);
SELECT compare($$SELECT DISTINCT status, count(*) OVER (PARTITION BY status) FROM orders$$);
SELECT compare($$SELECT bool_and(quantity > 0), bool_or(price IS NULL), count(*), sum(quantity), max(price) FROM line_items WHERE customer_id > 1000$$);
SELECT compare($$SELECT tier, min(signup), max(signup), count(signup) FROM customers GROUP BY tier$$);
SELECT compare($$SELECT max(price), min(price), sum(price), avg(price), count(*) FROM products$$);
SELECT compare($$SELECT category, max(price), avg(price), count(price) FROM products GROUP BY category$$);
SELECT compare($$SELECT product_id, price FROM products ORDER BY price DESC NULLS LAST, product_id LIMIT 3$$, true);
SELECT compare($$SELECT customer_id, order_id FROM orders ORDER BY customer_id FETCH FIRST 2 ROWS WITH TIES$$);
SELECT compare($$SELECT customer_id, order_id FROM orders ORDER BY customer_id DESC, order_id LIMIT 3$$, true);
SELECT compare($$SELECT order_id, coupon FROM orders ORDER BY coupon DESC, order_id LIMIT 5$$, true);
SELECT compare($$SELECT order_id, coupon FROM orders ORDER BY coupon NULLS FIRST, order_id DESC LIMIT 5$$, true);
SELECT compare($$SELECT customer_id, tier FROM customers ORDER BY tier DESC NULLS LAST, customer_id DESC LIMIT 6$$, true);
SELECT compare($$SELECT order_id FROM orders ORDER BY order_id LIMIT 10 OFFSET 2995$$, true);
SELECT compare($$SELECT order_id FROM orders ORDER BY order_id LIMIT ALL OFFSET 2990$$, true);
SELECT compare($$SELECT customer_id, name, lower(name) FROM customers ORDER BY lower(name) DESC, customer_id LIMIT 5$$, true);
SELECT compare($$SELECT json_agg(order_id ORDER BY order_id), jsonb_object_agg(order_id, total) FROM orders WHERE customer_id IN (3, 4)$$);
-- the same aggregates without pushdown
SET shardext.enable_pushdown = off;
SELECT compare($$SELECT status, count(*), sum(total), avg(total) FROM orders GROUP BY status$$);
SELECT compare($$SELECT customer_id, count(*) FROM orders GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 5$$, true);
SELECT compare($$SELECT sum(quantity) / 7, count(*) / 7 FROM line_items$$);
SELECT compare($$SELECT c.tier, count(*), sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.tier$$);
RESET shardext.enable_pushdown;

--
-- Harder cases: joins that look co-located but are not
--
SELECT compare($$SELECT count(*) FROM customers c JOIN orders o ON (o.customer_id = c.customer_id OR o.order_id = c.customer_id)$$);
SELECT compare($$SELECT count(*), sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.referred_by$$);
SELECT compare($$SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.customer_id + 0$$);
SELECT compare($$SELECT count(*), sum(li.quantity) FROM orders o JOIN line_items li ON li.customer_id = o.order_id$$);
SELECT compare($$SELECT c.customer_id, p.name FROM customers c JOIN products p ON p.product_id = c.customer_id$$);
SELECT compare($$SELECT c.customer_id, count(*), sum(ca.qty) FROM customers c JOIN carts ca ON ca.customer_id = c.customer_id GROUP BY 1$$);
SELECT compare($$SELECT ca.customer_id, sum(ca.qty), count(o.order_id) FROM carts ca LEFT JOIN orders o ON o.customer_id = ca.customer_id GROUP BY 1$$);
SELECT compare($$SELECT count(*) FROM carts ca JOIN line_items li ON li.customer_id = ca.customer_id AND li.product_id = ca.product_id$$);
SELECT compare($$SELECT c.name, ca.product_id, ca.qty FROM customers c JOIN carts ca ON ca.customer_id = c.customer_id ORDER BY ca.qty DESC, c.customer_id, ca.product_id LIMIT 7$$, true);
SELECT compare($$SELECT customer_id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM carts ca WHERE ca.customer_id = c.customer_id) AND customer_id < 60$$);
SELECT compare($$SELECT ca.customer_id, ca.product_id, c.customer_id FROM carts ca FULL JOIN customers c ON c.customer_id = ca.customer_id AND ca.product_id = 9 WHERE c.customer_id IS NULL OR ca.customer_id IS NOT NULL$$);
SELECT compare($$SELECT * FROM carts WHERE customer_id = 4 AND added_at IS NOT NULL$$);
-- co-located after all: joins written in other ways
SELECT compare($$SELECT count(*), sum(o.total) FROM customers c, orders o WHERE c.customer_id = o.customer_id AND c.tier = 'gold'$$);
SELECT compare($$SELECT count(*) FROM orders o WHERE o.customer_id IN (SELECT customer_id FROM customers WHERE tier = 'gold')$$);
SELECT compare($$SELECT c.customer_id, c.name, sum(o.total) FROM customers c JOIN orders o USING (customer_id) GROUP BY c.customer_id, c.name HAVING count(*) > 10 ORDER BY sum(o.total) DESC NULLS LAST, c.customer_id LIMIT 5$$, true);
SELECT compare($$SELECT c.region_id, count(o.order_id), count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.region_id$$);
SELECT compare($$SELECT count(c.customer_id), count(o.order_id), count(*) FROM customers c FULL JOIN orders o ON o.customer_id = c.customer_id$$);
SELECT compare($$SELECT DISTINCT c.region_id FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE o.total > 490$$);
SELECT compare($$SELECT count(*) FROM orders o JOIN refunds r ON r.customer_id = o.customer_id JOIN line_items li ON li.customer_id = r.customer_id WHERE o.customer_id IN (7, 199)$$);
SELECT compare($$SELECT g, count(o.order_id) FROM generate_series(1, 5) g LEFT JOIN orders o ON o.customer_id = g GROUP BY g$$);
SELECT compare($$SELECT v.id, c.name FROM (VALUES (1), (42), (299), (777)) v(id) LEFT JOIN customers c ON c.customer_id = v.id$$);
SELECT compare($$SELECT c.customer_id, ARRAY(SELECT o.order_id FROM orders o WHERE o.customer_id = c.customer_id ORDER BY o.order_id LIMIT 3) FROM customers c WHERE c.customer_id < 10$$);
-- a view over co-located tables
SELECT compare($$SELECT * FROM order_totals WHERE customer_id = 42$$);
SELECT compare($$SELECT status, count(*), sum(amount), sum(lines) FROM order_totals GROUP BY status$$);
SELECT compare($$SELECT customer_id, order_id, amount FROM order_totals ORDER BY amount DESC NULLS LAST, order_id LIMIT 5$$, true);

--
-- Harder cases: text that needs escaping, collation, special values
--
SELECT compare($$SELECT customer_id, name, email, signup FROM customers WHERE customer_id > 290$$);
SELECT compare($$SELECT customer_id FROM customers WHERE email = E'\\N'$$);
SELECT compare($$SELECT customer_id FROM customers WHERE email = 'NULL' OR email = ''$$);
SELECT compare($$SELECT customer_id FROM customers WHERE email IS NULL AND customer_id > 250$$);
SELECT compare($$SELECT customer_id, name FROM customers WHERE position(E'\\' IN name) > 0 OR name LIKE E'%\t%' OR name LIKE E'%\n%'$$);
SELECT compare($$SELECT customer_id FROM customers WHERE name = E'tab\there'$$);
SELECT compare($$SELECT customer_id FROM customers WHERE name = 'Zoë Ünïcødé ✓'$$);
SELECT compare($$SELECT customer_id, name FROM customers WHERE name > 'customer' AND name < 'customer 1'$$);
SELECT compare($$SELECT name FROM customers ORDER BY name DESC LIMIT 12$$, true);
SELECT compare($$SELECT name FROM customers ORDER BY name LIMIT 3$$, true);
SELECT compare($$SELECT min(name), max(name), min(email), max(email) FROM customers$$);
SELECT compare($$SELECT string_agg(name, '|' ORDER BY customer_id), string_agg(email, '|' ORDER BY customer_id) FROM customers WHERE customer_id > 290$$);
SELECT compare($$SELECT customer_id, upper(name), length(name), octet_length(name), md5(name) FROM customers WHERE customer_id BETWEEN 294 AND 298$$);
SELECT compare($$SELECT customer_id, signup, signup = 'infinity', isfinite(signup) FROM customers WHERE customer_id > 296$$);
SELECT compare($$SELECT customer_id FROM customers ORDER BY signup DESC NULLS FIRST, customer_id LIMIT 4$$, true);
SELECT compare($$SELECT product_id, price, price = 'NaN', price > 1000 FROM products WHERE product_id > 45$$);

--
-- Harder cases: session settings reach the shards
--
SET TimeZone = 'Pacific/Chatham';
SELECT compare($$SELECT date_trunc('day', ordered_at) AS d, count(*) FROM orders WHERE ordered_at < timestamptz '2023-02-01 00:00:00+00' GROUP BY 1$$);
SELECT compare($$SELECT order_id, ordered_at::text, to_char(ordered_at, 'YYYY-MM-DD HH24:MI TZ') FROM orders WHERE customer_id = 42 AND order_id < 60$$);
SELECT compare($$SELECT count(*) FROM orders WHERE ordered_at::date = date '2023-03-04'$$);
RESET TimeZone;
SET DateStyle = 'ISO, DMY';
SELECT compare($$SELECT order_id, ordered_at::text FROM orders WHERE customer_id = 42 AND ordered_at::date = '04/03/2023'$$);
SELECT compare($$SELECT order_id, ordered_at::text, signup::text FROM orders JOIN customers USING (customer_id) WHERE ordered_at::date = '04/03/2023'$$);
RESET DateStyle;
SET IntervalStyle = 'sql_standard';
SELECT compare($$SELECT order_id, (ordered_at - timestamptz '2023-01-01 00:00:00+00')::text FROM orders WHERE customer_id = 9$$);
SELECT compare($$SELECT count(*) FROM orders WHERE (ordered_at - timestamptz '2023-01-01 00:00:00+00')::text LIKE '1 %'$$);
RESET IntervalStyle;
SET extra_float_digits = 0;
SELECT compare($$SELECT order_id, total::float8 / 7 FROM orders WHERE customer_id IN (9, 10)$$);
RESET extra_float_digits;

--
-- More cases: whole rows, correlated subqueries, IN lists from subqueries,
-- output names, local tables inside pushed-down queries
--
SELECT compare($$SELECT row_to_json(c) FROM customers c WHERE customer_id < 5$$);
SELECT compare($$SELECT c FROM customers c WHERE tier = 'gold'$$);
SELECT compare($$SELECT o FROM orders o WHERE customer_id = 42 AND order_id < 40$$);
SELECT compare($$SELECT count(DISTINCT o) FROM orders o$$);
SELECT compare($$SELECT c.customer_id, row_to_json(o) FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE o.order_id < 4$$);
SELECT compare($$SELECT c.customer_id, (SELECT count(*) FROM orders o WHERE o.total > c.credit_limit / 10) FROM customers c WHERE c.customer_id < 8$$);
SELECT compare($$SELECT c.customer_id, l.* FROM customers c, LATERAL (SELECT order_id, total FROM orders o WHERE o.total > c.credit_limit / 10 ORDER BY total DESC, order_id LIMIT 2) l WHERE c.customer_id < 8$$);
SELECT compare($$SELECT c.customer_id, (SELECT max(o.total) FROM orders o WHERE o.status = c.tier OR o.coupon = c.tier) FROM customers c WHERE c.customer_id < 8$$);
SELECT compare($$SELECT c.customer_id, (SELECT count(DISTINCT o.customer_id) FROM orders o WHERE o.order_id BETWEEN c.customer_id AND c.customer_id + 10) FROM customers c WHERE c.customer_id < 8$$);
SELECT compare($$SELECT c.customer_id, o.order_id FROM customers c JOIN LATERAL (SELECT * FROM orders o WHERE o.customer_id = c.customer_id ORDER BY o.order_id DESC LIMIT 1) o ON true WHERE c.tier = 'gold'$$);
SELECT compare($$SELECT current_database(), current_user, count(*) FROM customers WHERE customer_id = 42 GROUP BY 1, 2$$);
SELECT compare($$SELECT customer_id, to_char(signup, 'TMMonth Day') FROM customers WHERE customer_id = 42$$);
SELECT compare($$SELECT customer_id, total::money FROM orders WHERE customer_id = 42 AND order_id < 20$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id IN (1, NULL)$$);
SELECT compare($$SELECT count(*) FROM customers WHERE customer_id = ANY ('{}')$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id IN (SELECT region_id FROM regions)$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = ANY (ARRAY(SELECT region_id * 10 FROM regions))$$);
SELECT compare($$SELECT * FROM orders WHERE customer_id = (SELECT max(region_id) FROM regions)$$);
SELECT compare($$SELECT * FROM customers WHERE customer_id = extract(day FROM date '2023-01-17')::int$$);
SELECT compare($$SELECT count(*), sum(total) FROM orders WHERE customer_id = ANY (ARRAY[42, 42, 7])$$);
SELECT compare($$SELECT customer_id, count(*) FROM orders WHERE customer_id = ANY (ARRAY[NULL, 42]::bigint[]) GROUP BY 1$$);
SELECT compare($$SELECT status, coupon, grouping(status, coupon), count(*) FROM orders GROUP BY CUBE (status, coupon)$$);
SELECT compare($$SELECT DISTINCT status FROM orders ORDER BY status NULLS FIRST LIMIT 3$$, true);
SELECT compare($$SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders WHERE customer_id IS NOT NULL) AND customer_id NOT IN (SELECT customer_id FROM carts)$$);
SELECT compare($$SELECT min(o.ordered_at), max(li.price) FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id WHERE o.customer_id IN (SELECT customer_id FROM carts WHERE qty = 4)$$);
SELECT compare($$SELECT status, sum(total) FILTER (WHERE customer_id = 42), count(*) FILTER (WHERE coupon LIKE 'SAVE1%') FROM orders GROUP BY ROLLUP (status)$$);
SELECT compare($$SELECT array_agg(DISTINCT status ORDER BY status) FROM orders$$);
SELECT compare($$SELECT count(*) FILTER (WHERE o.order_id IS NULL) FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.status = 'cancelled'$$);
SELECT compare($$SELECT c.customer_id, count(*) FROM customers c RIGHT JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id ORDER BY count(*) DESC, c.customer_id NULLS FIRST LIMIT 4$$, true);
SELECT compare($$SELECT max(total) AS m FROM orders GROUP BY customer_id ORDER BY m DESC NULLS LAST LIMIT 3$$, true);
SELECT compare($$SELECT customer_id, avg(total)::numeric(10,3) FROM orders GROUP BY customer_id ORDER BY 2 DESC NULLS LAST, 1 LIMIT 4$$, true);
SELECT compare($$SELECT avg(total) FROM orders GROUP BY status ORDER BY 1 LIMIT 2$$, true);
SELECT compare($$SELECT status, avg(quantity), avg(li.price) FROM orders JOIN line_items li USING (customer_id, order_id) GROUP BY status$$);
SELECT compare($$SELECT avg(quantity::int2), avg(customer_id), avg(line_no::float4)::numeric(10,4), sum(quantity::int2), sum(customer_id) FROM line_items$$);
SELECT compare($$SELECT sum(price), avg(price) FROM line_items GROUP BY quantity HAVING avg(price) > 45$$);
SELECT compare($$SELECT min(coupon COLLATE "C"), max(status COLLATE "C") FROM orders$$);
SELECT compare($$SELECT count(*) FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 12 LIMIT 5) s$$);
SELECT compare($$SELECT order_id AS total, total AS order_id FROM orders ORDER BY total LIMIT 3$$, true);
SELECT compare($$SELECT status AS coupon, count(*) FROM orders GROUP BY coupon$$);
SELECT compare($$SELECT status AS coupon, count(*) FROM orders GROUP BY 1$$);
SELECT compare($$SELECT order_id, total AS x FROM orders x ORDER BY x.total DESC NULLS LAST, order_id LIMIT 3$$, true);
SELECT compare($$SELECT count(*) AS c1, sum(total) AS p1 FROM orders shardext_partial$$);
SELECT compare($$SELECT "Order", count(*) FROM (SELECT status AS "Order" FROM orders) s GROUP BY 1$$);
SELECT compare($$SELECT total AS "Select", order_id FROM orders ORDER BY "Select" DESC NULLS LAST, order_id LIMIT 3$$, true);
SELECT compare($$SELECT status, count(*) AS "count(*)" FROM orders GROUP BY status ORDER BY "count(*)" DESC, status LIMIT 2$$, true);
SELECT compare($$SELECT DISTINCT customer_id, status FROM orders WHERE customer_id < 5 ORDER BY customer_id, status LIMIT 6$$, true);
SELECT compare($$SELECT count(*), count(*) FROM orders$$);
SELECT compare($$SELECT sum(total), sum(total) FILTER (WHERE total > 0), sum(DISTINCT total) > 0 FROM orders$$);
SELECT compare($$SELECT order_id FROM orders ORDER BY random() * 0, order_id LIMIT 3$$, true);
SELECT compare($$SELECT order_id, now() > ordered_at FROM orders ORDER BY order_id LIMIT 3$$, true);
SELECT compare($$SELECT count(*) FROM orders WHERE ordered_at < now() AND ordered_at > current_date - 3650$$);
SELECT compare($$SELECT customer_id, count(*) FROM orders WHERE status IN ('paid', 'shipped') GROUP BY CUBE (customer_id) ORDER BY 2 DESC, 1 NULLS FIRST LIMIT 3$$, true);
SELECT compare($$SELECT count(*) FROM customers WHERE region_id IN (SELECT region_id FROM regions WHERE parent_id IS NULL)$$);
SELECT compare($$SELECT tier, count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM regions r WHERE r.region_id = c.region_id AND r.name LIKE '%t%') GROUP BY tier$$);
SELECT compare($$SELECT customer_id, name FROM customers c WHERE region_id = (SELECT region_id FROM regions WHERE name = 'West') ORDER BY customer_id DESC LIMIT 4$$, true);
SELECT compare($$SELECT customer_id, count(*) FROM orders WHERE total > (SELECT avg(total) FROM orders) GROUP BY customer_id$$);
SELECT compare($$SELECT status, count(*) FROM orders WHERE customer_id IN (SELECT customer_id FROM carts WHERE qty = 4) GROUP BY status$$);
SELECT compare($$SELECT DISTINCT status FROM orders WHERE customer_id IN (SELECT region_id FROM regions)$$);
SELECT compare($$SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.region_id = o.customer_id)$$);
SELECT compare($$SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING count(*) > (SELECT count(*) FROM regions)$$);
SELECT compare($$SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING max(total) > (SELECT avg(total) * 1.99 FROM orders)$$);

--
-- EXPLAIN: what runs on the shards
--
-- a co-located GROUP BY customer_id aggregate is pushed down
SELECT plan_lines($$SELECT o.customer_id, count(*), sum(li.quantity) FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id GROUP BY o.customer_id$$);
SELECT plan_lines($$SELECT customer_id, count(*), sum(total) FROM orders GROUP BY customer_id$$);
-- top-N
SELECT plan_lines($$SELECT order_id, total FROM orders ORDER BY total DESC NULLS LAST, order_id LIMIT 10$$);
-- a join of orders with the reference table products
SELECT plan_lines($$SELECT o.order_id, p.name FROM orders o JOIN products p ON p.product_id = o.order_id % 50 + 1 WHERE o.total > 480$$);
SELECT plan_lines($$SELECT p.category, sum(li.quantity) FROM line_items li JOIN products p ON p.product_id = li.product_id GROUP BY p.category$$);
-- a router query
SELECT plan_lines($$SELECT * FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id WHERE o.customer_id = 42$$);

--
-- DML on the reference table products, in both schemas, then queries again
--
INSERT INTO co_local.products VALUES (51, 'Product Z51', 'games', 9.99, false), (52, 'Product A52', NULL, NULL, true);
INSERT INTO co_dist.products VALUES (51, 'Product Z51', 'games', 9.99, false), (52, 'Product A52', NULL, NULL, true);
UPDATE co_local.products SET price = price * 2, category = 'toys' WHERE product_id % 10 = 3;
UPDATE co_dist.products SET price = price * 2, category = 'toys' WHERE product_id % 10 = 3;
DELETE FROM co_local.products WHERE product_id IN (45, 46, 47);
DELETE FROM co_dist.products WHERE product_id IN (45, 46, 47);
UPDATE co_local.line_items SET product_id = 51 WHERE customer_id = 42 AND order_id < 100 AND line_no = 1;
UPDATE co_dist.line_items SET product_id = 51 WHERE customer_id = 42 AND order_id < 100 AND line_no = 1;
-- a write that reads a distributed table, and one that is rolled back
UPDATE co_local.products SET discontinued = true
 WHERE product_id IN (SELECT product_id FROM co_local.line_items WHERE customer_id = 42 AND quantity = 7 AND product_id < 20);
UPDATE co_dist.products SET discontinued = true
 WHERE product_id IN (SELECT product_id FROM co_dist.line_items WHERE customer_id = 42 AND quantity = 7 AND product_id < 20);
BEGIN;
DELETE FROM co_dist.products WHERE product_id < 40;
SELECT count(*) AS products_in_transaction FROM co_dist.products;
ROLLBACK;
SELECT compare($$SELECT * FROM products$$);
SELECT compare($$SELECT count(*), count(DISTINCT category), sum(price), bool_or(discontinued) FROM products$$);
SELECT compare($$SELECT li.line_no, p.name, p.category, p.discontinued FROM line_items li JOIN products p ON p.product_id = li.product_id WHERE li.customer_id = 42 AND li.order_id = 4$$);
SELECT compare($$SELECT o.customer_id, count(*), sum(li.quantity * p.price) FROM orders o JOIN line_items li ON li.customer_id = o.customer_id AND li.order_id = o.order_id JOIN products p ON p.product_id = li.product_id WHERE p.category = 'toys' GROUP BY o.customer_id$$);
SELECT compare($$SELECT c.customer_id, p.name FROM customers c JOIN products p ON p.product_id = c.customer_id$$);
SELECT compare($$SELECT p.category, sum(li.quantity), count(*) FROM line_items li JOIN products p ON p.product_id = li.product_id GROUP BY p.category$$);
SELECT compare($$SELECT li.order_id, li.line_no, p.name, p.price FROM line_items li JOIN products p ON p.product_id = li.product_id WHERE li.customer_id = 42 AND li.order_id < 100$$);
SELECT compare($$SELECT p.product_id FROM products p WHERE NOT EXISTS (SELECT 1 FROM line_items li WHERE li.product_id = p.product_id)$$);
SELECT compare($$SELECT li.order_id, li.product_id FROM line_items li LEFT JOIN products p ON p.product_id = li.product_id WHERE p.product_id IS NULL$$);
SELECT compare($$SELECT p.name, count(li.order_id) FROM products p LEFT JOIN line_items li ON li.product_id = p.product_id GROUP BY p.name$$);

-- more on the reference table after the writes
SELECT compare($$SELECT p.category, count(*) FROM products p GROUP BY p.category HAVING count(*) > 1$$);
SELECT compare($$SELECT p FROM products p WHERE product_id < 4$$);
SELECT compare($$SELECT p.name, li.order_id FROM products p LEFT JOIN line_items li ON li.product_id = p.product_id AND li.customer_id = 42 WHERE p.product_id > 40$$);
SELECT compare($$SELECT count(*) FROM products p1 JOIN products p2 ON p1.category = p2.category$$);
SELECT compare($$SELECT p.product_id, (SELECT count(*) FROM line_items li WHERE li.product_id = p.product_id) FROM products p$$);
SELECT compare($$SELECT li.customer_id, count(*) FROM line_items li WHERE li.product_id IN (SELECT product_id FROM products WHERE category = 'games') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5$$, true);
SELECT compare($$SELECT DISTINCT p.category FROM line_items li JOIN products p USING (product_id)$$);
SELECT compare($$SELECT p.category, count(DISTINCT li.customer_id) FROM line_items li JOIN products p USING (product_id) GROUP BY 1$$);
SELECT compare($$SELECT o.status, p.category, count(*) FROM orders o JOIN products p ON p.product_id = o.order_id % 50 + 1 GROUP BY ROLLUP (1, 2)$$);
SELECT compare($$SELECT p.name, r.name FROM products p CROSS JOIN regions r WHERE p.product_id < 3$$);
SELECT compare($$SELECT * FROM products ORDER BY price DESC NULLS LAST, product_id LIMIT 5$$, true);
SELECT compare($$SELECT li.customer_id, li.order_id, p.name FROM line_items li RIGHT JOIN products p ON p.product_id = li.product_id WHERE li.customer_id IS NULL$$);
SELECT compare($$SELECT p.product_id, li.order_id FROM products p FULL JOIN line_items li ON li.product_id = p.product_id WHERE p.product_id IS NULL OR li.order_id IS NULL$$);
SELECT compare($$SELECT c.customer_id, p.name FROM carts ca JOIN customers c USING (customer_id) JOIN products p USING (product_id) WHERE ca.qty = 4 AND c.tier = 'silver'$$);
SELECT compare($$WITH t AS (SELECT product_id, sum(quantity) q FROM line_items GROUP BY 1) SELECT p.category, sum(t.q) FROM t JOIN products p USING (product_id) GROUP BY 1$$);

-- found by this corpus and fixed: HAVING without aggregates under pushdown,
-- whole-row references, FROM ONLY, settings that change values on the nodes,
-- and an error on one node caught while another node's statement was running
SELECT compare($$SELECT status, count(*) FROM orders GROUP BY status HAVING status = 'paid'$$);
SELECT compare($$SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING customer_id < 10$$);
SELECT compare($$SELECT customer_id % 7, count(*) FROM orders GROUP BY 1 HAVING customer_id % 7 = 3$$);
SELECT compare($$SELECT customer_id + 1, count(*) FROM orders GROUP BY customer_id + 1 HAVING count(*) > 0 AND customer_id + 1 < 10$$);
SELECT compare($$SELECT c.tier, count(*) FROM customers c JOIN orders o USING (customer_id) GROUP BY c.tier HAVING c.tier = 'gold'$$);
SELECT compare($$SELECT tier, count(*) FROM customers GROUP BY tier HAVING tier IS NOT NULL AND count(*) > 10$$);
SELECT compare($$SELECT o FROM orders o ORDER BY order_id LIMIT 2$$, true);
SELECT compare($$SELECT c.customer_id, o IS NULL, o FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.total > 499 WHERE c.customer_id > 240$$);
SELECT compare($$SELECT c.customer_id, o FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE o.order_id < 4$$);
SELECT compare($$SELECT count(*) FROM ONLY orders$$);
SELECT compare($$SELECT * FROM ONLY orders ORDER BY order_id LIMIT 2$$, true);
SELECT compare($$SELECT count(*) FROM orders WHERE 1 / (order_id - order_id) = 1$$);
SELECT compare($$SELECT count(*), sum(total) FROM orders$$);
\set SHOW_CONTEXT never
BEGIN;
SAVEPOINT s;
SELECT count(*) FROM co_dist.orders WHERE 1 / (order_id - order_id) = 1;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) FROM co_dist.orders;
COMMIT;
\set SHOW_CONTEXT errors
SET bytea_output = 'escape';
SELECT compare($$SELECT customer_id, convert_to(name, 'UTF8')::text FROM customers WHERE customer_id = 297$$);
SELECT compare($$SELECT count(*) FROM customers WHERE convert_to(name, 'UTF8')::text LIKE 'Cu%'$$);
RESET bytea_output;
SET default_text_search_config = 'simple';
SELECT compare($$SELECT customer_id, to_tsvector(name)::text FROM customers WHERE customer_id = 42$$);
SELECT compare($$SELECT count(*) FROM customers WHERE to_tsvector(name) @@ to_tsquery('customers')$$);
RESET default_text_search_config;

-- clean up
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA co_dist CASCADE;
DROP SCHEMA co_local CASCADE;
DROP SCHEMA corpus CASCADE;
RESET client_min_messages;
SELECT count(*) AS corpus_tables_left FROM shardext.tables WHERE table_name::text LIKE 'co\_%';
