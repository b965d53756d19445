--
-- Reference tables (a copy on every node) and federated tables (the whole
-- table on one node): queries return what plain tables return (schema
-- rt_local holds the oracle), writes reach every copy, and the copies stay
-- identical.
--
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
\getenv coord_port SHARDEXT_COORD_PORT
CREATE SCHEMA reference_tables;
CREATE SCHEMA rt_local;
CREATE SCHEMA rt_dist;
SET search_path = reference_tables, public;

CREATE TABLE node_names (node_id int PRIMARY KEY, name text);
INSERT INTO node_names
SELECT node_id, CASE WHEN role = 'coordinator' THEN 'coordinator'
                     WHEN port = :worker1_port THEN 'w1'
                     WHEN port = :worker2_port THEN 'w2' END
  FROM shardext.nodes;

-- compare(query): the query on both schemas, 'same: N rows' or the difference
CREATE FUNCTION run_query(q text, schema_name text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	result text[] := '{}';
BEGIN
	PERFORM set_config('search_path', format('%I, reference_tables, public', schema_name), true);
	FOR r IN EXECUTE q LOOP
		result := result || r::text;
	END LOOP;
	RETURN ARRAY(SELECT x FROM unnest(result) x ORDER BY x COLLATE "C");
END
$$;

CREATE FUNCTION compare(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text[];
	l text[];
	saved_path text := current_setting('search_path');
BEGIN
	d := run_query(q, 'rt_dist');
	l := run_query(q, 'rt_local');
	PERFORM set_config('search_path', saved_path, true);
	IF d = l THEN
		RETURN 'same: ' || cardinality(l) || ' rows';
	END IF;
	RETURN 'DIFFERENT: distributed ' || cardinality(d) || ' rows, local ' || cardinality(l) || ' rows';
END
$$;

-- plan_of(query): the distributed part of EXPLAIN, nodes named
CREATE FUNCTION plan_of(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	m text[];
BEGIN
	PERFORM set_config('search_path', 'rt_dist, reference_tables, public', true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		CONTINUE WHEN line !~ '(Custom Scan|Distributed Plan|Node:|Shard Count|Task Count|Join|Aggregate|Seq Scan|Index Scan)';
		line := regexp_replace(line, 'Shard: \d+', 'Shard: N');
		line := regexp_replace(line, '_\d{6,}', '_N', 'g');
		m := regexp_match(line, 'Node: (\d+) \(.*\)');
		IF m IS NOT NULL THEN
			line := regexp_replace(line, 'Node: .*',
				'Node: ' || (SELECT name FROM node_names WHERE node_id = m[1]::int));
		END IF;
		RETURN NEXT line;
	END LOOP;
	PERFORM set_config('search_path', 'reference_tables, public', true);
END
$$;


--
-- The data: products (reference), orders (hash on customer_id), customers
-- (co-located with orders), suppliers (federated on worker 1), warehouses
-- (federated on worker 2), regions (local everywhere).
--
CREATE TABLE rt_local.products (
	product_id int PRIMARY KEY,
	name text COLLATE "C" NOT NULL,
	category text,
	price numeric(10,2),
	supplier_id int
);
INSERT INTO rt_local.products
SELECT g, 'product ' || lpad(g::text, 3, '0'),
       (ARRAY['tools', 'food', 'toys', NULL])[g % 4 + 1],
       CASE WHEN g % 13 <> 0 THEN g * 7 % 100 + 0.99 END, g % 10
  FROM generate_series(1, 120) g;
CREATE TABLE rt_local.customers (customer_id bigint PRIMARY KEY, name text, region_id int);
INSERT INTO rt_local.customers
SELECT g, 'customer ' || g, CASE WHEN g % 9 <> 0 THEN g % 5 END FROM generate_series(1, 60) g;
CREATE TABLE rt_local.orders (
	customer_id bigint,
	order_id bigint,
	product_id int,
	quantity int,
	PRIMARY KEY (customer_id, order_id)
);
INSERT INTO rt_local.orders
SELECT g % 50 + 1, g, CASE WHEN g % 17 <> 0 THEN g % 105 + 1 END, g % 6
  FROM generate_series(1, 1500) g;
CREATE TABLE rt_local.suppliers (supplier_id int PRIMARY KEY, name text, country text);
INSERT INTO rt_local.suppliers
SELECT g, 'supplier ' || g, (ARRAY['DE', 'FR', NULL])[g % 3 + 1] FROM generate_series(0, 11) g;
CREATE TABLE rt_local.warehouses (warehouse_id int PRIMARY KEY, supplier_id int, city text);
INSERT INTO rt_local.warehouses
SELECT g, g % 14, 'city ' || g % 4 FROM generate_series(1, 30) g;
CREATE TABLE reference_tables.regions (region_id int PRIMARY KEY, name text);
INSERT INTO reference_tables.regions SELECT g, 'region ' || g FROM generate_series(0, 3) g;

CREATE TABLE rt_dist.products (LIKE rt_local.products INCLUDING ALL);
INSERT INTO rt_dist.products SELECT * FROM rt_local.products;
CREATE TABLE rt_dist.customers (LIKE rt_local.customers INCLUDING ALL);
INSERT INTO rt_dist.customers SELECT * FROM rt_local.customers;
CREATE TABLE rt_dist.orders (LIKE rt_local.orders INCLUDING ALL);
INSERT INTO rt_dist.orders SELECT * FROM rt_local.orders;
CREATE TABLE rt_dist.suppliers (LIKE rt_local.suppliers INCLUDING ALL);
INSERT INTO rt_dist.suppliers SELECT * FROM rt_local.suppliers;
CREATE TABLE rt_dist.warehouses (LIKE rt_local.warehouses INCLUDING ALL);
INSERT INTO rt_dist.warehouses SELECT * FROM rt_local.warehouses;

SELECT create_reference_table('rt_dist.products');
SELECT create_distributed_table('rt_dist.customers', 'customer_id');
SELECT create_distributed_table('rt_dist.orders', 'customer_id', colocate_with => 'rt_dist.customers');
SELECT create_federated_table('rt_dist.suppliers', node_id) FROM node_names WHERE name = 'w1';
SELECT create_federated_table('rt_dist.warehouses', node_id) FROM node_names WHERE name = 'w2';

-- the catalog: one shard each, the reference table's on every node
SELECT t.table_name, t.distribution_type, t.distribution_column, t.shard_count,
       array_agg(n.name ORDER BY n.name) AS nodes
  FROM shardext.tables t JOIN shardext.shards s USING (table_name)
  JOIN shardext.placements p USING (shard_id) JOIN node_names n USING (node_id)
 WHERE t.table_name::text LIKE 'rt_dist.%'
 GROUP BY 1, 2, 3, 4 ORDER BY 1::text;
-- the local tables keep no rows
SELECT pg_relation_size('rt_dist.products') AS products_size,
       pg_relation_size('rt_dist.suppliers') AS suppliers_size;

-- every copy holds the same rows as the oracle
SELECT shard_relation AS prod_shard FROM shardext.shards
 WHERE table_name = 'rt_dist.products'::regclass \gset
\c regression - 127.0.0.1 :worker1_port
SELECT 'w1' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
\c regression - 127.0.0.1 :worker2_port
SELECT 'w2' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
\c regression - 127.0.0.1 :coord_port
SET search_path = reference_tables, public;
SELECT 'coordinator' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
SELECT 'oracle' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM rt_local.products t;

--
-- Bad input loses nothing
--
SELECT create_reference_table('rt_dist.products');
SELECT create_reference_table('rt_dist.orders');
SELECT create_reference_table('no_such_table');
SELECT create_federated_table('reference_tables.regions', 999);
SELECT create_federated_table('reference_tables.regions', NULL);
SELECT create_distributed_table('rt_dist.products', 'product_id');
SELECT count(*) FROM reference_tables.regions;

--
-- Queries
--
SELECT compare('SELECT * FROM products');
SELECT compare('SELECT * FROM products WHERE product_id = 7');
SELECT compare('SELECT category, count(*), sum(price), avg(price) FROM products GROUP BY category');
SELECT compare('SELECT * FROM products WHERE price > 50 ORDER BY price DESC, product_id LIMIT 5');
SELECT compare('SELECT o.*, p.name FROM orders o JOIN products p USING (product_id) WHERE o.customer_id = 7');
SELECT compare('SELECT o.*, p.name FROM orders o LEFT JOIN products p USING (product_id) WHERE o.customer_id = 8');
SELECT compare('SELECT p.product_id, o.order_id FROM products p LEFT JOIN orders o ON o.product_id = p.product_id AND o.customer_id = 9');
SELECT compare('SELECT p.category, sum(o.quantity), count(*) FROM orders o JOIN products p USING (product_id) GROUP BY p.category');
SELECT compare('SELECT p.name, sum(o.quantity * p.price) AS revenue FROM orders o JOIN products p USING (product_id) GROUP BY p.name ORDER BY revenue DESC NULLS LAST, p.name LIMIT 10');
SELECT compare('SELECT c.name, count(*), sum(p.price) FROM customers c JOIN orders o USING (customer_id) JOIN products p USING (product_id) GROUP BY c.name');
SELECT compare('SELECT p.product_id, count(o.order_id) FROM products p LEFT JOIN orders o USING (product_id) GROUP BY p.product_id');
SELECT compare('SELECT count(*) FROM orders o RIGHT JOIN products p USING (product_id)');
SELECT compare('SELECT count(*) FROM orders o FULL JOIN products p USING (product_id)');
SELECT compare('SELECT * FROM products p WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.product_id = p.product_id)');
SELECT compare('SELECT * FROM orders o WHERE o.product_id IN (SELECT product_id FROM products WHERE category = ''toys'') AND o.customer_id < 5');
SELECT compare('SELECT DISTINCT p.category FROM orders o JOIN products p USING (product_id)');
SELECT compare('SELECT p.category, r.name FROM products p JOIN regions r ON r.region_id = p.product_id % 4');
SELECT compare('SELECT s.name, count(*) FROM suppliers s JOIN products p USING (supplier_id) GROUP BY s.name');
SELECT compare('SELECT s.country, w.city, count(*) FROM suppliers s JOIN warehouses w USING (supplier_id) GROUP BY 1, 2');
SELECT compare('SELECT * FROM suppliers WHERE supplier_id = 3');
SELECT compare('SELECT w.city, count(*) FROM warehouses w LEFT JOIN suppliers s USING (supplier_id) GROUP BY w.city');
SELECT compare('SELECT s.name, sum(o.quantity) FROM orders o JOIN products p USING (product_id) JOIN suppliers s USING (supplier_id) GROUP BY s.name');
SELECT compare('SELECT c.region_id, r.name, count(*) FROM customers c LEFT JOIN regions r USING (region_id) GROUP BY 1, 2');
SELECT compare('WITH top AS (SELECT product_id, sum(quantity) q FROM orders GROUP BY product_id) SELECT p.name, top.q FROM top JOIN products p USING (product_id) WHERE top.q > 30');
SELECT compare('SELECT p.*, rank() OVER (PARTITION BY category ORDER BY price, product_id) FROM products p');

-- plans: reference-only queries read the coordinator's own copy locally, joins
-- run on the node of the distributed shard, or per shard group
SELECT plan_of('SELECT * FROM products WHERE product_id = 7');
SELECT plan_of('SELECT * FROM orders o JOIN products p USING (product_id) WHERE o.customer_id = 7');
SELECT plan_of('SELECT p.category, sum(o.quantity) FROM orders o JOIN products p USING (product_id) GROUP BY p.category');
SELECT plan_of('SELECT p.product_id, count(o.order_id) FROM products p LEFT JOIN orders o USING (product_id) GROUP BY p.product_id');
SELECT plan_of('SELECT s.name, p.name FROM suppliers s JOIN products p USING (supplier_id)');
SELECT plan_of('SELECT s.country, w.city FROM suppliers s JOIN warehouses w USING (supplier_id)');

-- a read of reference tables with local tables runs entirely locally
SELECT plan_of('SELECT r.name, p.name FROM regions r JOIN products p ON r.region_id = p.product_id % 4');
-- a transaction that wrote a reference table reads it through the node
-- connection (so that it sees its own writes), also with a cached plan
PREPARE product_name(int) AS SELECT name FROM rt_dist.products WHERE product_id = $1;
EXECUTE product_name(7); EXECUTE product_name(7); EXECUTE product_name(7);
EXECUTE product_name(7); EXECUTE product_name(7); EXECUTE product_name(7);
BEGIN;
UPDATE rt_dist.products SET name = 'renamed in transaction' WHERE product_id = 7;
EXECUTE product_name(7);
SELECT name FROM rt_dist.products WHERE product_id = 7;
ROLLBACK;
EXECUTE product_name(7);
DEALLOCATE product_name;

--
-- Writes reach every copy
--
INSERT INTO rt_local.products VALUES (200, 'new product', 'food', 1.50, 3);
INSERT INTO rt_dist.products VALUES (200, 'new product', 'food', 1.50, 3) RETURNING *;
INSERT INTO rt_local.products SELECT product_id + 1000, name || ' copy', category, price, supplier_id FROM rt_local.products WHERE product_id < 5;
INSERT INTO rt_dist.products SELECT product_id + 1000, name || ' copy', category, price, supplier_id FROM rt_dist.products WHERE product_id < 5;
UPDATE rt_local.products SET price = price * 2 WHERE category = 'toys';
UPDATE rt_dist.products SET price = price * 2 WHERE category = 'toys';
UPDATE rt_local.products SET price = 9.99 WHERE product_id = 7;
UPDATE rt_dist.products SET price = 9.99 WHERE product_id = 7 RETURNING product_id, price;
DELETE FROM rt_local.products WHERE product_id BETWEEN 100 AND 110;
DELETE FROM rt_dist.products WHERE product_id BETWEEN 100 AND 110;
INSERT INTO rt_local.products VALUES (7, 'conflict', NULL, 1, 1) ON CONFLICT (product_id) DO UPDATE SET name = excluded.name;
INSERT INTO rt_dist.products VALUES (7, 'conflict', NULL, 1, 1) ON CONFLICT (product_id) DO UPDATE SET name = excluded.name;
-- values computed by non-immutable functions are computed once, on the coordinator
UPDATE rt_local.products SET name = name || ' @' || (SELECT count(*) FROM rt_local.orders WHERE product_id = 1) WHERE product_id = 1;
UPDATE rt_dist.products SET name = name || ' @' || (SELECT count(*) FROM rt_dist.orders WHERE product_id = 1) WHERE product_id = 1;
UPDATE rt_local.products SET category = 'sold' FROM rt_local.orders o WHERE o.product_id = products.product_id AND o.customer_id = 3;
UPDATE rt_dist.products SET category = 'sold' FROM rt_dist.orders o WHERE o.product_id = products.product_id AND o.customer_id = 3;
-- a write that rolls back leaves every copy as it was
BEGIN;
DELETE FROM rt_dist.products;
SELECT count(*) FROM rt_dist.products;
ROLLBACK;
-- COPY
COPY rt_local.products FROM STDIN;
300	copied one	tools	3.00	1
301	copied two	\N	\N	2
\.
COPY rt_dist.products FROM STDIN;
300	copied one	tools	3.00	1
301	copied two	\N	\N	2
\.
-- DDL
ALTER TABLE rt_local.products ADD COLUMN stock int DEFAULT 5;
ALTER TABLE rt_dist.products ADD COLUMN stock int DEFAULT 5;
UPDATE rt_local.products SET stock = product_id % 3 WHERE product_id < 20;
UPDATE rt_dist.products SET stock = product_id % 3 WHERE product_id < 20;
CREATE INDEX ON rt_dist.products (category);
SELECT compare('SELECT * FROM products');
SELECT compare('SELECT p.category, sum(o.quantity * p.stock) FROM orders o JOIN products p USING (product_id) GROUP BY p.category');
-- writes of a data-modifying WITH are refused
WITH d AS (DELETE FROM rt_dist.products WHERE product_id = 300 RETURNING *) SELECT count(*) FROM d;
\c regression - 127.0.0.1 :worker1_port
SELECT 'w1' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
\c regression - 127.0.0.1 :worker2_port
SELECT 'w2' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
\c regression - 127.0.0.1 :coord_port
SET search_path = reference_tables, public;
SELECT 'coordinator' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
SELECT 'oracle' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM rt_local.products t;

-- federated tables: writes go to their node, and only there
INSERT INTO rt_local.suppliers VALUES (50, 'late supplier', 'IT');
INSERT INTO rt_dist.suppliers VALUES (50, 'late supplier', 'IT');
SELECT shard_relation AS supp_shard FROM shardext.shards
 WHERE table_name = 'rt_dist.suppliers'::regclass \gset
\c regression - 127.0.0.1 :worker1_port
SELECT 'w1' AS node, count(*), max(supplier_id) FROM :supp_shard;
\c regression - 127.0.0.1 :worker2_port
SELECT 'w2' AS node, to_regclass(:'supp_shard') IS NULL AS no_copy;
\c regression - 127.0.0.1 :coord_port
SET search_path = reference_tables, public;
UPDATE rt_local.suppliers SET country = 'ES' WHERE country IS NULL;
UPDATE rt_dist.suppliers SET country = 'ES' WHERE country IS NULL;
DELETE FROM rt_local.warehouses WHERE city = 'city 1';
DELETE FROM rt_dist.warehouses WHERE city = 'city 1';
SELECT compare('SELECT * FROM suppliers');
SELECT compare('SELECT s.country, w.city, count(*) FROM suppliers s JOIN warehouses w USING (supplier_id) GROUP BY 1, 2');

-- what every copy could not compute alike is refused
INSERT INTO rt_dist.products VALUES (7, 'x', NULL, 1, 1)
  ON CONFLICT (product_id) DO UPDATE SET name = random()::text;
ALTER TABLE rt_dist.products ADD COLUMN touched timestamptz DEFAULT clock_timestamp();
-- FOR UPDATE, then a write of the same rows, in one transaction
BEGIN;
SELECT product_id, name FROM rt_dist.products WHERE product_id = 8 FOR UPDATE;
UPDATE rt_dist.products SET name = 'locked first' WHERE product_id = 8;
UPDATE rt_local.products SET name = 'locked first' WHERE product_id = 8;
COMMIT;
-- a read and then a change of the table in one transaction
BEGIN;
SELECT count(*) FROM rt_dist.products;
ALTER TABLE rt_dist.products ADD COLUMN extra int;
ROLLBACK;
-- a cached plan reads the coordinator's copy inside the transaction: the
-- change is refused (it would wait for the transaction's own lock)
PREPARE product_count AS SELECT count(*) FROM rt_dist.products;
EXECUTE product_count; EXECUTE product_count; EXECUTE product_count;
EXECUTE product_count; EXECUTE product_count; EXECUTE product_count;
BEGIN;
EXECUTE product_count;
TRUNCATE rt_dist.products;
ROLLBACK;
DEALLOCATE product_count;
SELECT compare('SELECT * FROM products');
-- a PL/pgSQL loop over the rows of a reference table that writes it
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT product_id FROM rt_dist.products WHERE product_id < 20 LOOP
		UPDATE rt_dist.products SET supplier_id = r.product_id % 3 WHERE product_id = r.product_id;
	END LOOP;
END $$;
UPDATE rt_local.products SET supplier_id = product_id % 3 WHERE product_id < 20;
SELECT compare('SELECT * FROM products');

-- TRUNCATE empties every copy
TRUNCATE rt_local.products;
TRUNCATE rt_dist.products;
\c regression - 127.0.0.1 :worker1_port
SELECT 'w1' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
\c regression - 127.0.0.1 :worker2_port
SELECT 'w2' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
\c regression - 127.0.0.1 :coord_port
SET search_path = reference_tables, public;
SELECT 'coordinator' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM :prod_shard t;
SELECT 'oracle' AS node, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM rt_local.products t;

-- undistribute_table brings the rows back, for each kind
INSERT INTO rt_dist.products VALUES (1, 'back', 'tools', 2, 1);
SELECT undistribute_table('rt_dist.products');
SELECT pg_relation_size('rt_dist.products') > 0 AS has_rows;
SELECT * FROM rt_dist.products;
-- REINDEX, CLUSTER and undistribute_table after a read of the coordinator's
-- copy in the same transaction: refused, where they would wait for the
-- transaction's own lock
SET statement_timeout = '20s';
CREATE TABLE rt_dist.tiny (id int PRIMARY KEY, name text);
INSERT INTO rt_dist.tiny VALUES (1, 'a'), (2, 'b');
SELECT create_reference_table('rt_dist.tiny');
CREATE INDEX tiny_name ON rt_dist.tiny (name);
DO $$ BEGIN PERFORM count(*) FROM rt_dist.tiny; REINDEX TABLE rt_dist.tiny; END $$;
DO $$ BEGIN PERFORM count(*) FROM rt_dist.tiny; CLUSTER rt_dist.tiny USING tiny_name; END $$;
SELECT undistribute_table('rt_dist.tiny') FROM (SELECT count(*) FROM rt_dist.tiny) s;
RESET statement_timeout;
REINDEX TABLE rt_dist.tiny;
SELECT undistribute_table('rt_dist.tiny');
DROP TABLE rt_dist.tiny;
SELECT undistribute_table('rt_dist.suppliers');
SELECT count(*) FROM rt_dist.suppliers;
SELECT count(*) FROM shardext.tables WHERE table_name::text IN ('rt_dist.products', 'rt_dist.suppliers');

-- the coordinator's copy is written through its connection to itself,
-- which sees only committed changes: schemas and types made or renamed in
-- the transaction give a clear error (they hung, or failed as missing)
SET statement_timeout = '20s';
BEGIN;
CREATE SCHEMA rt_new;
CREATE TABLE rt_new.r (id int PRIMARY KEY);
SELECT create_reference_table('rt_new.r');
ROLLBACK;
BEGIN;
CREATE TYPE rt_e AS ENUM ('a', 'b');
CREATE TABLE rt_typed (id int PRIMARY KEY, e rt_e);
SELECT create_reference_table('rt_typed');
ROLLBACK;
CREATE SCHEMA rt_ren;
CREATE TABLE rt_ren.b (id int PRIMARY KEY, v int);
SET client_min_messages = warning;
SELECT create_reference_table('rt_ren.b');
RESET client_min_messages;
BEGIN;
ALTER SCHEMA rt_ren RENAME TO rt_ren2;
INSERT INTO rt_ren2.b VALUES (1, 1);
ROLLBACK;
BEGIN;
INSERT INTO rt_ren.b VALUES (2, 2);
ALTER SCHEMA rt_ren RENAME TO rt_ren2;
ROLLBACK;
ALTER SCHEMA rt_ren RENAME TO rt_ren2;
INSERT INTO rt_ren2.b VALUES (3, 3);
SELECT * FROM rt_ren2.b;
CREATE DOMAIN rt_pd AS int;
CREATE TYPE rt_cp AS (x int, y text);
CREATE TABLE rt_ren2.d (id int PRIMARY KEY, p rt_pd, c rt_cp);
SET client_min_messages = warning;
SELECT create_reference_table('rt_ren2.d');
RESET client_min_messages;
BEGIN;
INSERT INTO rt_ren2.d VALUES (1, 1, (1, 'a'));
ALTER DOMAIN rt_pd ADD CONSTRAINT positive CHECK (VALUE > 0);
ROLLBACK;
BEGIN;
ALTER TYPE rt_cp ADD ATTRIBUTE z int CASCADE;
SELECT * FROM rt_ren2.d;
ROLLBACK;
RESET statement_timeout;
SET client_min_messages = warning;
DROP SCHEMA rt_ren2 CASCADE;
RESET client_min_messages;
DROP DOMAIN rt_pd;
DROP TYPE rt_cp;

-- event triggers see the user's DDL only, not what shardext does to the
-- coordinator's copies through its connection to itself; one that writes
-- to a reference table, or distributes the tables it sees, works
CREATE SCHEMA rt_evt;
CREATE TABLE rt_evt.audit (id bigserial PRIMARY KEY, tag text, obj text);
SELECT create_reference_table('rt_evt.audit');
CREATE FUNCTION rt_evt.audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
		INSERT INTO rt_evt.audit (tag, obj) VALUES (r.command_tag, r.object_identity);
	END LOOP;
END $$;
CREATE FUNCTION rt_evt.distribute_new() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
			  WHERE command_tag = 'CREATE TABLE' AND schema_name = 'rt_evt' LOOP
		PERFORM create_reference_table(r.objid::regclass);
	END LOOP;
END $$;
CREATE EVENT TRIGGER rt_evt_audit ON ddl_command_end EXECUTE FUNCTION rt_evt.audit_ddl();
CREATE EVENT TRIGGER rt_evt_always ON ddl_command_end EXECUTE FUNCTION rt_evt.audit_ddl();
ALTER EVENT TRIGGER rt_evt_always ENABLE ALWAYS;
CREATE EVENT TRIGGER rt_evt_replica ON ddl_command_end EXECUTE FUNCTION rt_evt.audit_ddl();
ALTER EVENT TRIGGER rt_evt_replica ENABLE REPLICA;
CREATE EVENT TRIGGER rt_evt_distribute ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
	EXECUTE FUNCTION rt_evt.distribute_new();
SET client_min_messages = warning;
CREATE TABLE rt_evt.auto (id int PRIMARY KEY, v text);
RESET client_min_messages;
ALTER TABLE rt_evt.auto ADD COLUMN w int;
CREATE INDEX auto_v ON rt_evt.auto (v);
INSERT INTO rt_evt.auto VALUES (1, 'one', 1);
DROP EVENT TRIGGER rt_evt_audit;
DROP EVENT TRIGGER rt_evt_always;
DROP EVENT TRIGGER rt_evt_replica;
DROP EVENT TRIGGER rt_evt_distribute;
SELECT distribution_type FROM shardext.tables WHERE table_name = 'rt_evt.auto'::regclass;
SELECT tag, obj FROM rt_evt.audit ORDER BY id;
SELECT * FROM rt_evt.auto;
-- the coordinator's copy is shardext's: reading it works, writing,
-- truncating, dropping it or giving it row security directly is refused
SELECT shard_relation AS rt_copy FROM shardext.shards
 WHERE table_name = 'rt_evt.auto'::regclass \gset
SELECT count(*) FROM :rt_copy;
INSERT INTO :rt_copy VALUES (2, 'two', 2);
UPDATE :rt_copy SET v = 'uno';
DELETE FROM :rt_copy;
TRUNCATE :rt_copy;
DROP TABLE :rt_copy;
ALTER TABLE :rt_copy ENABLE ROW LEVEL SECURITY;
-- ... or changing its columns, renaming or moving it (queries read it as the table)
ALTER TABLE :rt_copy DROP COLUMN v;
ALTER TABLE :rt_copy ALTER COLUMN v TYPE varchar(10);
ALTER TABLE :rt_copy ADD COLUMN extra int;
ALTER TABLE :rt_copy RENAME COLUMN v TO w;
ALTER TABLE :rt_copy RENAME TO auto_elsewhere;
ALTER TABLE :rt_copy SET SCHEMA public;
ALTER INDEX :rt_copy RENAME TO auto_elsewhere;
ALTER VIEW :rt_copy RENAME COLUMN v TO w;
CREATE POLICY rt_copy_policy ON :rt_copy USING (false);
SELECT * FROM rt_evt.auto;
SET client_min_messages = warning;
DROP SCHEMA rt_evt CASCADE;
RESET client_min_messages;

-- a reference table dropped, then a type its copy used, in one transaction:
-- the coordinator's copy is dropped by the transaction itself (through its
-- connection to itself, the type's drop would wait for that connection)
CREATE TYPE rt_mood AS ENUM ('ok', 'bad');
CREATE TABLE rt_moody (id int PRIMARY KEY, m rt_mood);
SELECT create_reference_table('rt_moody');
INSERT INTO rt_moody VALUES (1, 'ok');
SET statement_timeout = '20s';
BEGIN;
DROP TABLE rt_moody;
DROP TYPE rt_mood;
COMMIT;
RESET statement_timeout;
SELECT count(*) AS copies_left FROM pg_class WHERE relname LIKE 'rt\_moody%';

DROP SCHEMA rt_dist CASCADE;
DROP SCHEMA rt_local CASCADE;
DROP SCHEMA reference_tables CASCADE;

-- a table already named as the coordinator's copy would be: that shard id
-- is skipped
CREATE TABLE rt_named (id int PRIMARY KEY);
DO $$
BEGIN
	EXECUTE format('CREATE TABLE rt_named_%s (id int)',
				   (SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END
					  FROM shardext.shard_id_seq));
END $$;
SET client_min_messages = warning;
SELECT create_reference_table('rt_named');
RESET client_min_messages;
SELECT count(*) AS tables_named_alike FROM pg_class
 WHERE relname LIKE 'rt\_named\_%' AND relkind = 'r';
INSERT INTO rt_named VALUES (1);
SELECT * FROM rt_named;
SET client_min_messages = warning;
DROP TABLE rt_named;
DO $$
BEGIN
	EXECUTE (SELECT format('DROP TABLE %s', relname) FROM pg_class
			  WHERE relname LIKE 'rt\_named\_%' AND relkind = 'r');
END $$;
RESET client_min_messages;

-- a type only a federated table uses is on every node: statements with
-- parameters of it reach the other nodes too; an INSERT in a WITH goes
-- whole to the federated table's node
SET client_min_messages = warning;
CREATE TYPE rt_fed_kind AS ENUM ('a', 'b');
CREATE TABLE rt_fed_typed (id int PRIMARY KEY, k rt_fed_kind);
SELECT create_federated_table('rt_fed_typed', (SELECT min(node_id) FROM shardext.nodes WHERE role = 'worker'));
CREATE TABLE rt_fed_dist (id int PRIMARY KEY, note text);
SELECT create_distributed_table('rt_fed_dist', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO rt_fed_dist SELECT g, 'n' FROM generate_series(1, 8) g;
PREPARE rt_fed_q(rt_fed_kind) AS SELECT count(*) FROM rt_fed_dist WHERE note <> $1::text;
EXECUTE rt_fed_q('a');
WITH ins AS (INSERT INTO rt_fed_typed VALUES (1, 'b') RETURNING id, k) SELECT * FROM ins;
SELECT * FROM rt_fed_typed;
ALTER TYPE rt_fed_kind ADD VALUE 'c' BEFORE 'a';
EXECUTE rt_fed_q('c');
DEALLOCATE rt_fed_q;
DROP TABLE rt_fed_typed, rt_fed_dist;
DROP TYPE rt_fed_kind;
