/* shardext--0.1.sql: catalog, functions and defaults of shardext 0.1 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION shardext" to load this file. \quit

/*
 * The shard map lives in schema "shardext".  Everyone may read it; only the
 * extension's functions (running as a superuser) write it.  Column positions
 * are read by src/catalog.c: add columns only at the end, in an upgrade script.
 */
CREATE SCHEMA shardext;
GRANT USAGE ON SCHEMA shardext TO PUBLIC;

-- Called by the catalog triggers: tells every backend to drop its cached
-- shard map.
CREATE FUNCTION shardext.catalog_changed()
	RETURNS trigger
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'shardext_catalog_changed';
REVOKE ALL ON FUNCTION shardext.catalog_changed() FROM PUBLIC;

CREATE SEQUENCE shardext.nodes_node_id_seq MINVALUE 1;

CREATE TABLE shardext.nodes (
	node_id int PRIMARY KEY,
	host text NOT NULL CHECK (host <> ''),
	port int NOT NULL CHECK (port BETWEEN 1 AND 65535),
	dbname text NOT NULL CHECK (dbname <> ''),
	role text NOT NULL CHECK (role IN ('coordinator', 'worker', 'replica')),
	primary_node_id int REFERENCES shardext.nodes (node_id),
	is_active bool NOT NULL DEFAULT true,
	server_name name NOT NULL UNIQUE,
	UNIQUE (host, port),
	CHECK ((role = 'replica') = (primary_node_id IS NOT NULL))
);
ALTER SEQUENCE shardext.nodes_node_id_seq OWNED BY shardext.nodes.node_id;
CREATE UNIQUE INDEX nodes_one_coordinator ON shardext.nodes ((true))
	WHERE role = 'coordinator';

CREATE SEQUENCE shardext.colocation_id_seq MINVALUE 1;

CREATE TABLE shardext.tables (
	table_name regclass PRIMARY KEY,
	distribution_type text NOT NULL
		CHECK (distribution_type IN ('hash', 'range', 'directory',
									 'reference', 'federated')),
	distribution_column text,
	colocation_id int NOT NULL,
	shard_count int NOT NULL CHECK (shard_count > 0),
	CHECK ((distribution_column IS NULL) =
		   (distribution_type IN ('reference', 'federated')))
);
CREATE INDEX tables_colocation_id ON shardext.tables (colocation_id);

CREATE SEQUENCE shardext.shard_id_seq MINVALUE 100000 START 100000;

CREATE TABLE shardext.shards (
	shard_id bigint PRIMARY KEY,
	table_name regclass NOT NULL
		REFERENCES shardext.tables (table_name) ON DELETE CASCADE,
	shard_index int NOT NULL CHECK (shard_index >= 0),
	min_value text,
	max_value text,
	shard_relation text NOT NULL,
	UNIQUE (table_name, shard_index)
);

CREATE TABLE shardext.placements (
	shard_id bigint NOT NULL
		REFERENCES shardext.shards (shard_id) ON DELETE CASCADE,
	node_id int NOT NULL REFERENCES shardext.nodes (node_id),
	PRIMARY KEY (shard_id, node_id)
);
CREATE INDEX placements_node_id ON shardext.placements (node_id);

CREATE TABLE shardext.directory (
	table_name regclass NOT NULL
		REFERENCES shardext.tables (table_name) ON DELETE CASCADE,
	key text NOT NULL,
	shard_id bigint NOT NULL REFERENCES shardext.shards (shard_id),
	PRIMARY KEY (table_name, key)
);
CREATE INDEX directory_shard_id ON shardext.directory (shard_id);

-- Commit decisions of two-phase commits: a row exists (committed) exactly
-- when the coordinator's transaction committed; shardext_recover_transactions
-- reads it to finish transactions left prepared on nodes.  Not part of the
-- shard map: no invalidation trigger, not dumped.
CREATE TABLE shardext.transactions (
	gid text PRIMARY KEY,
	node_id int NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON shardext.transactions FROM PUBLIC;
GRANT SELECT ON shardext.transactions TO PUBLIC;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['nodes', 'tables', 'shards', 'placements',
							 'directory']
	LOOP
		EXECUTE format('REVOKE ALL ON shardext.%I FROM PUBLIC', t);
		EXECUTE format('GRANT SELECT ON shardext.%I TO PUBLIC', t);
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE '
					   'OR TRUNCATE ON shardext.%I FOR EACH STATEMENT '
					   'EXECUTE FUNCTION shardext.catalog_changed()',
					   t || '_changed', t);
	END LOOP;
END
$$;
GRANT SELECT ON SEQUENCE shardext.nodes_node_id_seq, shardext.colocation_id_seq,
	shardext.shard_id_seq TO PUBLIC;

-- The catalog survives pg_dump.  The coordinator's own row is made anew by
-- CREATE EXTENSION on the restored server.
SELECT pg_catalog.pg_extension_config_dump('shardext.nodes',
										   'WHERE role <> ''coordinator''');
SELECT pg_catalog.pg_extension_config_dump('shardext.nodes_node_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('shardext.tables', '');
SELECT pg_catalog.pg_extension_config_dump('shardext.colocation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('shardext.shards', '');
SELECT pg_catalog.pg_extension_config_dump('shardext.shard_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('shardext.placements', '');
SELECT pg_catalog.pg_extension_config_dump('shardext.directory', '');

/* Nodes */

CREATE FUNCTION shardext_add_node(host text, port int DEFAULT 5432,
								  dbname text DEFAULT current_database())
	RETURNS int
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'shardext_add_node';
COMMENT ON FUNCTION shardext_add_node(text, int, text)
	IS 'registers a worker node and returns its node id';

CREATE FUNCTION shardext_remove_node(host text, port int DEFAULT 5432)
	RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'shardext_remove_node';
COMMENT ON FUNCTION shardext_remove_node(text, int)
	IS 'removes a worker node that holds no shards';

-- Registers the coordinator itself as node 0, so that with no worker it can
-- hold shards (single-node mode).
CREATE FUNCTION shardext.register_coordinator()
	RETURNS int
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'shardext_register_coordinator';
REVOKE ALL ON FUNCTION shardext.register_coordinator() FROM PUBLIC;
SELECT shardext.register_coordinator();

/* Transactions */

CREATE FUNCTION shardext_recover_transactions()
	RETURNS int
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'shardext_recover_transactions';
COMMENT ON FUNCTION shardext_recover_transactions()
	IS 'commits or rolls back transactions left prepared on nodes';
REVOKE ALL ON FUNCTION shardext_recover_transactions() FROM PUBLIC;

/* Distributed tables */

CREATE FUNCTION create_distributed_table(table_name regclass,
										 distribution_column text,
										 distribution_type text DEFAULT 'hash',
										 shard_count int DEFAULT NULL,
										 colocate_with text DEFAULT 'default',
										 range_bounds text[] DEFAULT NULL)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'create_distributed_table';
COMMENT ON FUNCTION create_distributed_table(regclass, text, text, int, text, text[])
	IS 'splits a table into shards on the worker nodes';

CREATE FUNCTION undistribute_table(table_name regclass)
	RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'undistribute_table';
COMMENT ON FUNCTION undistribute_table(regclass)
	IS 'brings every row of a distributed table back into the local table';

/* Routing */

CREATE FUNCTION shardext_hash(value anyelement)
	RETURNS int
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'shardext_hash';
COMMENT ON FUNCTION shardext_hash(anyelement)
	IS 'the hash that hash distribution uses';

CREATE FUNCTION shardext_shard_for_value(table_name regclass, value anyelement)
	RETURNS bigint
	LANGUAGE C STABLE
	AS 'MODULE_PATHNAME', 'shardext_shard_for_value';
COMMENT ON FUNCTION shardext_shard_for_value(regclass, anyelement)
	IS 'the shard that holds rows with this distribution value';

CREATE FUNCTION shardext_node_for_value(table_name regclass, value anyelement)
	RETURNS int
	LANGUAGE C STABLE
	AS 'MODULE_PATHNAME', 'shardext_node_for_value';
COMMENT ON FUNCTION shardext_node_for_value(regclass, anyelement)
	IS 'the node that holds rows with this distribution value';
