/* shardext--0.1--0.2.sql: reference and federated tables */

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
