--
-- Cluster-wide unique ids: serial, bigserial, identity and sequence
-- defaults of distributed tables are evaluated on the coordinator, from the
-- table's own sequence, once per row (no network round trip); every row
-- reaches the shards through the coordinator, so the values are unique
-- across the cluster, and rows keep them when they move.
--
CREATE SCHEMA unique_ids;
SET search_path = unique_ids;
CREATE SEQUENCE shared_seq START 1000;
CREATE TABLE events (
	tenant int NOT NULL,
	id bigserial,
	n serial,
	ident bigint GENERATED ALWAYS AS IDENTITY,
	shared bigint DEFAULT nextval('shared_seq'),
	note text,
	PRIMARY KEY (tenant, id)
);
INSERT INTO events (tenant, note) SELECT g % 10, 'before' FROM generate_series(1, 50) g;
SELECT create_distributed_table('events', 'tenant', shard_count => 8);

-- single rows, multi-row VALUES, INSERT ... SELECT, COPY
INSERT INTO events (tenant, note) VALUES (1, 'one');
INSERT INTO events (tenant, note) VALUES (2, 'two'), (3, 'three'), (4, 'four') RETURNING tenant, id, n, ident, shared;
INSERT INTO events (tenant, note) SELECT g % 10, 'select' FROM generate_series(1, 200) g;
INSERT INTO events (tenant, note) SELECT tenant, 'again' FROM events WHERE note = 'one';
COPY events (tenant, note) FROM STDIN;
5	copied
6	copied
\.
-- another session draws from the same sequences
\c
SET search_path = unique_ids;
INSERT INTO events (tenant, note) SELECT g % 10, 'other session' FROM generate_series(1, 30) g;

-- every generated column is unique over the whole cluster, with no gap
-- other than the ones PostgreSQL leaves (none here)
SELECT count(*) AS rows,
       count(DISTINCT id) AS ids, min(id), max(id),
       count(DISTINCT n) AS ns, count(DISTINCT ident) AS idents,
       count(DISTINCT shared) AS shareds, min(shared), max(shared)
  FROM events;
-- the rows are spread over several shards and nodes
SELECT count(DISTINCT shardext_shard_for_value('events', tenant)) AS shards,
       count(DISTINCT shardext_node_for_value('events', tenant)) AS nodes
  FROM events;
-- an explicit value for an identity column is refused, as on PostgreSQL
INSERT INTO events (tenant, ident) VALUES (1, 5);
-- values the user gives are kept
INSERT INTO events (tenant, id, note) VALUES (7, 100000, 'given');
SELECT id, n > 0 AS has_n FROM events WHERE note = 'given';

-- rows keep their ids when they move: into a directory table's other shard,
-- and back into a local table
CREATE TABLE keyed (tenant text, id bigserial, PRIMARY KEY (tenant, id));
INSERT INTO keyed (tenant) SELECT 'k' || g % 3 FROM generate_series(1, 30) g;
SELECT create_distributed_table('keyed', 'tenant', 'directory', shard_count => 2);
CREATE TEMP TABLE before_move AS SELECT tenant, id FROM keyed;
SET client_min_messages = warning;
SELECT shardext_directory_move_key('keyed', 'k1'::text,
       (SELECT shard_id FROM shardext.shards WHERE table_name = 'keyed'::regclass
           AND shard_id <> shardext_shard_for_value('keyed', 'k1'::text)));
RESET client_min_messages;
SELECT count(*) AS moved_rows_changed FROM
  ((SELECT tenant, id FROM keyed EXCEPT SELECT * FROM before_move)
   UNION ALL (SELECT * FROM before_move EXCEPT SELECT tenant, id FROM keyed)) d;
INSERT INTO keyed (tenant) VALUES ('k1') RETURNING id;
CREATE TEMP TABLE before_undistribute AS SELECT * FROM events;
SELECT undistribute_table('events');
SELECT count(*) AS changed FROM
  ((SELECT * FROM events EXCEPT SELECT * FROM before_undistribute)
   UNION ALL (SELECT * FROM before_undistribute EXCEPT SELECT * FROM events)) d;
-- and the local table goes on with the same sequences
INSERT INTO events (tenant, note) VALUES (1, 'local again') RETURNING id > 100000 AS after_given, n, ident;

-- a serial or identity column added to a distributed table that has rows:
-- the coordinator numbers the existing rows, once each
CREATE TABLE numbered (tenant int PRIMARY KEY, note text);
INSERT INTO numbered SELECT g, 'row ' || g FROM generate_series(1, 40) g;
SELECT create_distributed_table('numbered', 'tenant', shard_count => 4);
ALTER TABLE numbered ADD COLUMN seq bigserial;
ALTER TABLE numbered ADD COLUMN ident int GENERATED ALWAYS AS IDENTITY;
SELECT count(*), count(DISTINCT seq), min(seq), max(seq),
       count(DISTINCT ident), min(ident), max(ident), count(*) FILTER (WHERE seq IS NULL) AS nulls
  FROM numbered;
INSERT INTO numbered (tenant, note) VALUES (100, 'after') RETURNING seq, ident;
-- a reference table's copies would need the same number for the same row
CREATE TABLE ref_numbered (k int PRIMARY KEY);
INSERT INTO ref_numbered VALUES (1), (2);
SELECT create_reference_table('ref_numbered');
ALTER TABLE ref_numbered ADD COLUMN seq bigserial;
DROP TABLE ref_numbered, numbered;

DROP SCHEMA unique_ids CASCADE;
