-- test/demo.sql — the README demo, run by test/demo against the coordinator's
-- database `demo` with psql variables :worker1_port and :worker2_port.
CREATE EXTENSION shardext CASCADE;  -- brings postgres_fdw
SELECT shardext_add_node('127.0.0.1', :worker1_port, 'demo');
SELECT shardext_add_node('127.0.0.1', :worker2_port, 'demo');
SELECT * FROM shardext.nodes;
