/* shardext--0.3--0.4.sql: no foreign key from shardext.nodes to itself */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION shardext UPDATE TO '0.4'" to load this file. \quit

-- A replica's primary node was a foreign key of shardext.nodes to itself:
-- pg_dump then warned, on every dump of the coordinator, of "circular
-- foreign-key constraints" that might keep the dump from being restored.
-- Only shardext's functions write the catalog; they keep primary_node_id
-- pointing at a registered worker (a node with replicas cannot be removed).
ALTER TABLE shardext.nodes DROP CONSTRAINT nodes_primary_node_id_fkey;
