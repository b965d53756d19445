--
-- The catalog is readable by everyone and writable only through the
-- extension's functions.
--
CREATE ROLE regress_shardext_user;
SET ROLE regress_shardext_user;

SELECT node_id, role FROM shardext.nodes;
SELECT count(*) FROM shardext.tables;
SELECT count(*) FROM shardext.shards;
SELECT count(*) FROM shardext.placements;
SELECT count(*) FROM shardext.directory;

INSERT INTO shardext.nodes VALUES (99, 'x', 1, 'x', 'worker', NULL, true, 'x');
UPDATE shardext.nodes SET is_active = false;
DELETE FROM shardext.nodes;
TRUNCATE shardext.placements;
INSERT INTO shardext.tables VALUES ('pg_class', 'reference', NULL, 1, 1);
DELETE FROM shardext.shards;
UPDATE shardext.directory SET key = 'x';
SELECT nextval('shardext.nodes_node_id_seq');

-- node management is for superusers
SELECT shardext_add_node('127.0.0.1', 5432);
SELECT shardext_remove_node('127.0.0.1', 5432);
SELECT shardext.register_coordinator();

RESET ROLE;
-- nothing changed
SELECT node_id, role, is_active FROM shardext.nodes;
DROP ROLE regress_shardext_user;

-- the catalog's own checks hold even for a superuser writing by hand
INSERT INTO shardext.nodes VALUES (99, '', 1, 'x', 'worker', NULL, true, 'n99');
INSERT INTO shardext.nodes VALUES (99, 'h', 0, 'x', 'worker', NULL, true, 'n99');
INSERT INTO shardext.nodes VALUES (99, 'h', 1, 'x', 'primary', NULL, true, 'n99');
INSERT INTO shardext.nodes VALUES (99, 'h', 1, 'x', 'replica', NULL, true, 'n99');
INSERT INTO shardext.nodes VALUES (99, 'h', 1, 'x', 'worker', 0, true, 'n99');
INSERT INTO shardext.nodes VALUES (99, 'h', 1, 'x', 'coordinator', NULL, true, 'n99');
INSERT INTO shardext.tables VALUES ('pg_class', 'hash', NULL, 1, 1);
INSERT INTO shardext.tables VALUES ('pg_class', 'reference', 'oid', 1, 1);
INSERT INTO shardext.tables VALUES ('pg_class', 'modulo', 'oid', 1, 1);
INSERT INTO shardext.tables VALUES ('pg_class', 'hash', 'oid', 1, 0);
INSERT INTO shardext.shards VALUES (1, 'pg_class', 0, NULL, NULL, 'x');
INSERT INTO shardext.placements VALUES (1, 0);
