--
-- Adding and removing worker nodes
--
\getenv worker1_port SHARDEXT_WORKER1_PORT
\getenv worker2_port SHARDEXT_WORKER2_PORT
\getenv coord_port SHARDEXT_COORD_PORT

SELECT shardext_add_node('127.0.0.1', :worker1_port) AS w1 \gset
SELECT shardext_add_node('127.0.0.1', :worker2_port, current_database()) AS w2 \gset
SELECT :w1 > 0 AS w1_positive, :w2 > :w1 AS w2_after_w1;

SELECT node_id = :w1 AS is_w1, host, port = :worker1_port AS right_port,
       dbname = current_database() AS right_db, role, primary_node_id,
       is_active, server_name = 'shardext_node_' || :w1 AS right_server
  FROM shardext.nodes WHERE role = 'worker' ORDER BY node_id;

-- each node is a postgres_fdw server plus a user mapping for its creator
SELECT s.srvname = 'shardext_node_' || :w1 AS is_w1,
       (SELECT option_value FROM pg_options_to_table(s.srvoptions)
         WHERE option_name = 'port') = :'worker1_port' AS port_option,
       (SELECT option_value FROM pg_options_to_table(s.srvoptions)
         WHERE option_name = 'host') AS host_option
  FROM pg_foreign_server s WHERE s.srvname = 'shardext_node_' || :w1;
SELECT usename FROM pg_user_mappings WHERE srvname = 'shardext_node_' || :w2;

-- the servers work for postgres_fdw too
CREATE FOREIGN TABLE w1_settings (name text, setting text)
	SERVER shardext_node_1 OPTIONS (schema_name 'pg_catalog', table_name 'pg_settings');
SELECT setting = :'worker1_port' AS reached_worker1
  FROM w1_settings WHERE name = 'port';
DROP FOREIGN TABLE w1_settings;

-- bad input
SELECT expect_error(format('SELECT shardext_add_node(%L, %s)', '127.0.0.1', :worker1_port));
SELECT expect_error('SELECT shardext_add_node(''127.0.0.1'', 0)');
SELECT expect_error('SELECT shardext_add_node(''127.0.0.1'', 65536)');
SELECT expect_error('SELECT shardext_add_node('''', 5432)');
SELECT expect_error(format('SELECT shardext_add_node(%L, %s, %L)', '127.0.0.1', :worker1_port, ''));
SELECT shardext_add_node(NULL, 5432);
-- nothing listens on port 1: refused at once, naming host:port
SELECT expect_error('SELECT shardext_add_node(''127.0.0.1'', 1)');
-- a database that does not exist on the node
SELECT expect_error(format('SELECT shardext_add_node(%L, %s, %L)', 'localhost', :worker1_port, 'no_such_db'), true) ~ 'DETAIL: .*database "no_such_db" does not exist' AS missing_db_reported;
SELECT expect_error('SELECT shardext_add_node(''no-such-host.invalid'', 5432)') ~ 'could not connect to node no-such-host.invalid' AS bad_host_reported;
-- a registered node's database, or the coordinator's own, by another address
SELECT expect_error(format('SELECT shardext_add_node(%L, %s)', 'localhost', :worker1_port));
SELECT expect_error(format('SELECT shardext_add_node(%L, %s)', 'localhost', :coord_port));
-- a node database that sorts text otherwise than the coordinator's is refused
\c regression - 127.0.0.1 :worker1_port
CREATE DATABASE nodes_other_collation TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C';
\c regression - 127.0.0.1 :coord_port
SELECT expect_error(format('SELECT shardext_add_node(%L, %s, %L)', 'localhost', :worker1_port, 'nodes_other_collation'), true);
-- ... but the same locale spelt otherwise is the same
\c regression - 127.0.0.1 :worker1_port
DROP DATABASE nodes_other_collation;
CREATE DATABASE nodes_posix TEMPLATE template0 LOCALE 'POSIX';
\c regression - 127.0.0.1 :coord_port
SELECT shardext_add_node('localhost', :worker1_port, 'nodes_posix') > 0 AS posix_is_c;
SELECT shardext_remove_node('localhost', :worker1_port);
\c regression - 127.0.0.1 :worker1_port
DROP DATABASE nodes_posix;
\c regression - 127.0.0.1 :coord_port
-- failed adds left nothing behind
SELECT count(*) AS workers FROM shardext.nodes WHERE role = 'worker';
SELECT count(*) AS servers FROM pg_foreign_server;

SELECT expect_error('SELECT shardext_remove_node(''127.0.0.1'', 1)');
SELECT expect_error(format('SELECT shardext_remove_node(%L, %s)', 'localhost', :worker1_port));
SELECT expect_error(format('SELECT shardext_remove_node(%L, %s)',
	(SELECT host FROM shardext.nodes WHERE node_id = 0), current_setting('port')));

-- a node that holds a placement cannot be removed
CREATE TABLE held (id int);
INSERT INTO shardext.tables VALUES ('held', 'hash', 'id', 1, 1);
INSERT INTO shardext.shards VALUES (1, 'held', 0, '-2147483648', '2147483647', 'public.held_1');
INSERT INTO shardext.placements VALUES (1, :w2);
SELECT expect_error(format('SELECT shardext_remove_node(%L, %s)', '127.0.0.1', :worker2_port));
DELETE FROM shardext.tables WHERE table_name = 'held'::regclass;
SELECT count(*) AS placements_left FROM shardext.placements;
DROP TABLE held;

-- removing and adding again (the node's commit records leave with it)
INSERT INTO shardext.transactions (gid, node_id) VALUES ('nodes_test_gid', :w2);
SELECT shardext_remove_node('127.0.0.1', :worker2_port);
SELECT count(*) AS records_left FROM shardext.transactions WHERE gid = 'nodes_test_gid';
SELECT count(*) AS workers FROM shardext.nodes WHERE role = 'worker';
SELECT count(*) AS w2_servers FROM pg_foreign_server WHERE srvname = 'shardext_node_' || :w2;
SELECT shardext_add_node('127.0.0.1', :worker2_port) > :w2 AS new_id;

-- a new session sees the same catalog
\c
SELECT count(*) AS workers_after_reconnect FROM shardext.nodes WHERE role = 'worker';
SELECT expect_error(format('SELECT shardext_add_node(%L, %s)', '127.0.0.1', :worker2_port));

-- the cache follows a rolled-back removal
BEGIN;
SELECT shardext_remove_node('127.0.0.1', :worker2_port);
SELECT expect_error(format('SELECT shardext_remove_node(%L, %s)', '127.0.0.1', :worker2_port));
ROLLBACK;
SELECT expect_error(format('SELECT shardext_add_node(%L, %s)', '127.0.0.1', :worker2_port));

-- not in a transaction that worked on the nodes (its commit needs the catalog)
CREATE TABLE gone (id int PRIMARY KEY);
SET client_min_messages = warning;
SELECT create_distributed_table('gone', 'id', shard_count => 2);
RESET client_min_messages;
BEGIN;
DROP TABLE gone;
SELECT expect_error('DROP EXTENSION shardext');
ROLLBACK;
SELECT count(*) AS still_distributed FROM shardext.tables WHERE table_name = 'gone'::regclass;
DROP TABLE gone;
-- DROP EXTENSION takes the node servers along; CREATE EXTENSION starts anew
DROP EXTENSION shardext;
SELECT count(*) AS servers_left FROM pg_foreign_server;
CREATE EXTENSION shardext;
SELECT node_id, role FROM shardext.nodes;
SELECT shardext_add_node('127.0.0.1', :worker1_port) AS w1 \gset
SELECT shardext_add_node('127.0.0.1', :worker2_port) AS w2 \gset
SELECT count(*) AS workers FROM shardext.nodes WHERE role = 'worker';
-- so does DROP EXTENSION postgres_fdw CASCADE, which drops shardext too
SET client_min_messages = warning;
DROP EXTENSION postgres_fdw CASCADE;
RESET client_min_messages;
SELECT count(*) AS servers_left,
       (SELECT count(*) FROM pg_extension WHERE extname = 'shardext') AS shardext_left
  FROM pg_foreign_server;
SET client_min_messages = warning;
CREATE EXTENSION shardext CASCADE;
RESET client_min_messages;
SELECT shardext_add_node('127.0.0.1', :worker1_port) AS w1 \gset
SELECT shardext_add_node('127.0.0.1', :worker2_port) AS w2 \gset
SELECT count(*) AS workers FROM shardext.nodes WHERE role = 'worker';
