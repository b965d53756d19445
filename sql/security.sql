--
-- Privileges and security barriers on distributed tables: what a role may
-- not read stays hidden, as on a local table (the local copies are the
-- oracle).
--
SELECT setval('shardext.shard_id_seq', 1000000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA sec;
SET search_path = sec, public;
SET client_min_messages = warning;
CREATE TABLE s (id int PRIMARY KEY, owner text, secret text);
INSERT INTO s SELECT i, CASE WHEN i % 2 = 0 THEN 'alice' ELSE 'bob' END,
  CASE WHEN i % 2 = 0 THEN (i * 10)::text ELSE 'topsecret' || i END
  FROM generate_series(1, 20) i;
CREATE TABLE ls AS SELECT * FROM s;
ALTER TABLE ls ADD PRIMARY KEY (id);
SELECT create_distributed_table('s', 'id', shard_count => 4);
RESET client_min_messages;

CREATE ROLE sec_user;
DO $$
DECLARE
	n text;
BEGIN
	FOR n IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR sec_user SERVER %I OPTIONS (user %L, password_required %L)', n, current_user, 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA sec TO sec_user;

-- views that show alice's rows only; sec_user may not read the tables
CREATE VIEW vs WITH (security_barrier) AS
  SELECT * FROM s WHERE lower(upper(owner)) = 'alice';
CREATE VIEW vls WITH (security_barrier) AS
  SELECT * FROM ls WHERE lower(upper(owner)) = 'alice';
CREATE VIEW vs_user WITH (security_barrier) AS
  SELECT * FROM s WHERE owner = current_user;
CREATE VIEW vls_user WITH (security_barrier) AS
  SELECT * FROM ls WHERE owner = current_user;
GRANT SELECT, UPDATE, DELETE ON vs, vls, vs_user, vls_user TO sec_user;

-- the view's condition filters the rows before the user's leaky one (a cast
-- that fails on the hidden rows' secrets): on the nodes only the view's
-- condition runs
SET ROLE sec_user;
SELECT * FROM s;
UPDATE vs SET secret = secret || '0' WHERE secret::int > 50;
UPDATE vls SET secret = secret || '0' WHERE secret::int > 50;
UPDATE vs SET secret = secret || '1' WHERE id = 3 AND secret::int > 50;
UPDATE vls SET secret = secret || '1' WHERE id = 3 AND secret::int > 50;
UPDATE vs SET secret = secret || '2' WHERE id = 4 AND secret::int > 30;
UPDATE vls SET secret = secret || '2' WHERE id = 4 AND secret::int > 30;
DELETE FROM vs WHERE secret::int > 1500;
DELETE FROM vls WHERE secret::int > 1500;
-- a view condition that stays on the coordinator (current_user): the user's
-- condition does not go to the nodes either
DELETE FROM vs_user WHERE secret::int > 0;
DELETE FROM vls_user WHERE secret::int > 0;
SELECT * FROM vs WHERE secret::int > 100 ORDER BY id;
RESET ROLE;
EXPLAIN (COSTS OFF, VERBOSE) UPDATE vs SET secret = 'x' WHERE secret::int > 50;
-- leakproof conditions of the user still filter on the nodes
EXPLAIN (COSTS OFF, VERBOSE) UPDATE vs SET secret = 'x' WHERE secret = '60';
SELECT count(*) AS differing FROM
  ((SELECT * FROM s EXCEPT SELECT * FROM ls) UNION ALL
   (SELECT * FROM ls EXCEPT SELECT * FROM s)) d;

-- a constraint violation on a node shows the row's values (DETAIL) only to
-- a user who may read the table, as PostgreSQL's own messages
CREATE TABLE ck (id int PRIMARY KEY, a int, b int, c text, CHECK (a < b));
SET client_min_messages = warning;
SELECT create_distributed_table('ck', 'id', shard_count => 2);
RESET client_min_messages;
INSERT INTO ck VALUES (1, 1, 5, 'hidden'), (2, 1, 5, 'hidden too');
GRANT UPDATE (a), SELECT (id, a) ON ck TO sec_user;
GRANT INSERT ON ck TO sec_user;
SET ROLE sec_user;
UPDATE ck SET a = 100 WHERE id = 1;
INSERT INTO ck VALUES (2, 0, 1, 'x');
RESET ROLE;
GRANT SELECT ON ck TO sec_user;
SET ROLE sec_user;
UPDATE ck SET a = 100 WHERE id = 1;
INSERT INTO ck VALUES (2, 0, 1, 'x');
RESET ROLE;
DROP TABLE ck;

DROP VIEW vs, vls, vs_user, vls_user;
DROP TABLE s, ls;
REVOKE USAGE ON SCHEMA sec FROM sec_user;
DO $$
DECLARE
	n text;
BEGIN
	FOR n IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR sec_user SERVER %I', n);
	END LOOP;
END $$;
DROP ROLE sec_user;
DROP SCHEMA sec;
