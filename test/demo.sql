-- test/demo.sql — the README demo, run by test/demo against the coordinator's
-- database `demo` with psql variables :worker1_port and :worker2_port.

-- 1. The extension and two workers
CREATE EXTENSION shardext CASCADE;  -- brings postgres_fdw
SELECT shardext_add_node('127.0.0.1', :worker1_port, 'demo') AS worker1;
SELECT shardext_add_node('127.0.0.1', :worker2_port, 'demo') AS worker2;
SELECT node_id, host, port, role FROM shardext.nodes ORDER BY node_id;

-- 2. An ordinary table with data, turned into a distributed one
CREATE TABLE items (id bigint PRIMARY KEY, tenant int NOT NULL,
                    val int, payload text DEFAULT 'none');
INSERT INTO items SELECT g, g % 100, g % 1000, 'item ' || g
  FROM generate_series(1, 100000) g;
SELECT create_distributed_table('items', 'id', shard_count => 8);
SELECT pg_relation_size('items') AS bytes_left_on_coordinator;
SELECT p.node_id, count(*) AS shards
  FROM shardext.shards s JOIN shardext.placements p USING (shard_id)
 WHERE s.table_name = 'items'::regclass GROUP BY p.node_id ORDER BY 1;

-- 3. Where a row lives
SELECT shardext_hash(42::bigint) AS hash,
       shardext_shard_for_value('items', 42) AS shard,
       shardext_node_for_value('items', 42) AS node;

-- 4. Router queries: one shard, one node, one statement
SELECT * FROM items WHERE id = 42;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM items WHERE id = 42;
UPDATE items SET val = val + 1 WHERE id = 42 RETURNING *;
INSERT INTO items VALUES (100001, 7, 1, 'new'), (100002, 8, 2, 'newer');
DELETE FROM items WHERE id = 100002;

-- 5. Multi-shard queries: every shard, combined on the coordinator
SELECT count(*) FROM items;
SELECT tenant, count(*), sum(val) FROM items
 WHERE tenant < 5 GROUP BY tenant ORDER BY tenant;
SELECT id, val FROM items ORDER BY val DESC, id LIMIT 3;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT tenant, count(*) FROM items WHERE val > 500 GROUP BY tenant;

-- 6. Schema changes reach every shard; COPY routes rows
ALTER TABLE items ADD COLUMN note text;
CREATE INDEX items_tenant_idx ON items (tenant);
COPY items (id, tenant, val) FROM STDIN;
200001	1	1
200002	2	2
\.
SELECT id, tenant, note FROM items WHERE id IN (200001, 200002) ORDER BY id;

-- 7. Transactions on a node behave as on PostgreSQL
BEGIN;
INSERT INTO items VALUES (300001, 1, 1, 'in a transaction');
SELECT count(*) FROM items WHERE id = 300001;
ROLLBACK;
SELECT count(*) FROM items WHERE id = 300001;

-- 8. A reference table: a copy on every node, joined next to each shard
CREATE TABLE tenants (tenant int PRIMARY KEY, name text);
INSERT INTO tenants SELECT g, 'tenant ' || g FROM generate_series(0, 99) g;
SELECT create_reference_table('tenants');
SELECT t.name, count(*) FROM items i JOIN tenants t USING (tenant)
 WHERE t.tenant < 3 GROUP BY t.name ORDER BY t.name;
EXPLAIN (COSTS OFF)
SELECT t.name, count(*) FROM items i JOIN tenants t USING (tenant) GROUP BY t.name;
SELECT i.id, t.name FROM items i JOIN tenants t USING (tenant) WHERE i.id = 42;
UPDATE tenants SET name = 'renamed' WHERE tenant = 7;   -- every copy changes
SELECT name FROM tenants WHERE tenant = 7;              -- read on the coordinator

-- 9. Foreign keys hold on the nodes: to a reference table, and between
--    co-located tables through the distribution column
ALTER TABLE items ADD FOREIGN KEY (tenant) REFERENCES tenants (tenant);
CREATE TABLE item_events (item_id bigint, n int, what text, PRIMARY KEY (item_id, n));
SELECT create_distributed_table('item_events', 'item_id', shard_count => 8,
                                colocate_with => 'items');
ALTER TABLE item_events ADD FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE;
INSERT INTO item_events VALUES (42, 1, 'created'), (42, 2, 'updated');
\set ON_ERROR_STOP 0
INSERT INTO item_events VALUES (999999, 1, 'orphan');   -- refused by the node
\set ON_ERROR_STOP 1
DELETE FROM items WHERE id = 42;                        -- cascades on the node
SELECT count(*) AS events_of_42 FROM item_events WHERE item_id = 42;
