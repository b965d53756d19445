/* shardext--0.1--0.2.sql: reference, federated and directory tables */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION shardext UPDATE TO '0.2'" to load this file. \quit

CREATE FUNCTION create_reference_table(table_name regclass)
	RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'create_reference_table';
COMMENT ON FUNCTION create_reference_table(regclass)
	IS 'copies a table to every node; writes change every copy';

CREATE FUNCTION create_federated_table(table_name regclass, node int)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'create_federated_table';
COMMENT ON FUNCTION create_federated_table(regclass, int)
	IS 'moves a whole table to one node';

/* Directory (lookup) distribution */

CREATE FUNCTION shardext_directory_assign(table_name regclass, key anyelement,
										  shard_id bigint)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'shardext_directory_assign';
COMMENT ON FUNCTION shardext_directory_assign(regclass, anyelement, bigint)
	IS 'puts a key of a directory-distributed table in a shard';

CREATE FUNCTION shardext_directory_move_key(table_name regclass, key anyelement,
											shard_id bigint)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'shardext_directory_move_key';
COMMENT ON FUNCTION shardext_directory_move_key(regclass, anyelement, bigint)
	IS 'moves the rows of a key of a directory-distributed table to another shard';

/* Pushdown */

-- Combines the arrays of array_agg computed on each shard (on the coordinator).
CREATE AGGREGATE shardext.array_cat_agg(anycompatiblearray) (
	SFUNC = pg_catalog.array_cat,
	STYPE = anycompatiblearray
);
COMMENT ON AGGREGATE shardext.array_cat_agg(anycompatiblearray)
	IS 'concatenates arrays: combines the array_agg results of shards';

-- Combines the float variance states {N, Sx, Sxx} of shards (on the
-- coordinator), as PostgreSQL's parallel aggregation combines its workers'.
CREATE AGGREGATE shardext.float8_state_agg(float8[]) (
	SFUNC = pg_catalog.float8_combine,
	STYPE = float8[],
	INITCOND = '{0,0,0}'
);
COMMENT ON AGGREGATE shardext.float8_state_agg(float8[])
	IS 'combines float variance states {N, Sx, Sxx}: the partial variances of shards';

/* Statistics */

-- Row count and size of each shard as its node reported them to the last
-- VACUUM or ANALYZE of the distributed table on the coordinator: the
-- coordinator's planner estimates distributed tables from them.  Not dumped
-- (like pg_statistic): ANALYZE makes them again.
CREATE TABLE shardext.shard_statistics (
	shard_id bigint PRIMARY KEY
		REFERENCES shardext.shards (shard_id) ON DELETE CASCADE,
	row_count float8 NOT NULL CHECK (row_count >= 0),
	page_count bigint NOT NULL CHECK (page_count >= 0),
	collected_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON shardext.shard_statistics FROM PUBLIC;
GRANT SELECT ON shardext.shard_statistics TO PUBLIC;
CREATE TRIGGER shard_statistics_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON shardext.shard_statistics
	FOR EACH STATEMENT EXECUTE FUNCTION shardext.catalog_changed();
