/* shardext--0.2--0.3.sql: directory keys shown only to roles that may read their table */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION shardext UPDATE TO '0.3'" to load this file. \quit

-- A directory key is a value of its table's rows: like pg_stats, the
-- catalog shows a role only the keys of the tables it may read.  shardext
-- reads the catalog directly (no row level security there) and writes it
-- as its owner.
ALTER TABLE shardext.directory ENABLE ROW LEVEL SECURITY;
CREATE POLICY keys_of_readable_tables ON shardext.directory FOR SELECT
	USING (pg_catalog.has_table_privilege(table_name, 'SELECT'));
