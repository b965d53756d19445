--
-- Transactions on distributed tables: the remote transactions on the nodes
-- follow the local one (BEGIN, COMMIT, ROLLBACK, savepoints, errors), and a
-- transaction reads its own writes, through router and multi-shard queries.
--
-- shard ids of this test start at a number of its own, whatever ran before
SELECT setval('shardext.shard_id_seq', 900000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA dist_transactions;
SET search_path = dist_transactions, public;

CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0), owner text);
CREATE TABLE acct_log (acct_id int NOT NULL, n int NOT NULL, note text, PRIMARY KEY (acct_id, n));
INSERT INTO acct SELECT g, 100, 'owner ' || g FROM generate_series(1, 20) g;
SELECT create_distributed_table('acct', 'id', shard_count => 4);
SELECT create_distributed_table('acct_log', 'acct_id', shard_count => 4, colocate_with => 'acct');

-- a digest of the whole table, to show that nothing changed
CREATE FUNCTION acct_state() RETURNS text LANGUAGE sql AS
$$ SELECT count(*) || ' rows, balance ' || sum(balance) || ', '
          || md5(string_agg(id || ':' || balance || ':' || owner, ',' ORDER BY id))
     FROM dist_transactions.acct $$;
SELECT acct_state() AS initial_state \gset
SELECT :'initial_state' AS initial_state;
-- errors in one line: which row fails first may differ from a local table
\set VERBOSITY terse

--
-- A transaction reads its own writes
--
BEGIN;
INSERT INTO acct VALUES (21, 5, 'new owner');
SELECT * FROM acct WHERE id = 21;
SELECT count(*), sum(balance) FROM acct;
UPDATE acct SET balance = balance + 50 WHERE id = 1;
SELECT id, balance FROM acct WHERE id = 1;
UPDATE acct SET balance = balance - 1;
SELECT sum(balance), min(balance), max(balance) FROM acct;
DELETE FROM acct WHERE id = 2;
SELECT count(*) FROM acct;
SELECT id, balance FROM acct WHERE id IN (1, 2, 3, 21) ORDER BY id;
INSERT INTO acct_log SELECT id, 1, 'opened' FROM acct WHERE id <= 5;
SELECT a.id, a.balance, l.note FROM acct a JOIN acct_log l ON l.acct_id = a.id ORDER BY a.id;
SELECT a.id, l.note FROM acct a JOIN acct_log l ON l.acct_id = a.id WHERE a.id = 3;
COMMIT;
SELECT count(*), sum(balance) FROM acct;
SELECT count(*) FROM acct_log;
SELECT acct_state() AS committed_state \gset

--
-- ROLLBACK leaves nothing behind, on any node
--
BEGIN;
INSERT INTO acct SELECT g, 1, 'temporary' FROM generate_series(100, 120) g;
UPDATE acct SET owner = 'changed';
DELETE FROM acct WHERE id BETWEEN 5 AND 9;
INSERT INTO acct_log VALUES (100, 1, 'temporary');
SELECT count(*), count(*) FILTER (WHERE owner = 'changed') AS changed FROM acct;
ROLLBACK;
SELECT acct_state() = :'committed_state' AS unchanged;
SELECT count(*) FROM acct WHERE id >= 100;
SELECT count(*) FROM acct_log WHERE acct_id = 100;

--
-- Savepoints
--
BEGIN;
INSERT INTO acct VALUES (30, 1, 'kept');
SAVEPOINT s1;
INSERT INTO acct VALUES (31, 1, 'rolled back');
UPDATE acct SET balance = 0;
SELECT sum(balance) FROM acct;
ROLLBACK TO SAVEPOINT s1;
SELECT id, owner FROM acct WHERE id >= 30 ORDER BY id;
SELECT sum(balance) FROM acct;
SAVEPOINT s2;
INSERT INTO acct VALUES (32, 1, 'released');
RELEASE SAVEPOINT s2;
-- an error on a node, undone by ROLLBACK TO
SAVEPOINT s3;
UPDATE acct SET balance = balance / 0 WHERE id = 3;
ROLLBACK TO SAVEPOINT s3;
SAVEPOINT s4;
UPDATE acct SET balance = -1 WHERE id = 4;
ROLLBACK TO SAVEPOINT s4;
SELECT id, balance FROM acct WHERE id IN (3, 4) ORDER BY id;
-- nested savepoints, the inner one rolled back, the outer one kept
SAVEPOINT outer_sp;
UPDATE acct SET owner = 'outer' WHERE id = 10;
SAVEPOINT inner_sp;
UPDATE acct SET owner = 'inner' WHERE id IN (10, 11);
DELETE FROM acct WHERE id = 12;
ROLLBACK TO SAVEPOINT inner_sp;
RELEASE SAVEPOINT outer_sp;
SELECT id, owner FROM acct WHERE id BETWEEN 10 AND 12 ORDER BY id;
COMMIT;
SELECT id, owner FROM acct WHERE id >= 30 ORDER BY id;
SELECT id, owner FROM acct WHERE id BETWEEN 10 AND 12 ORDER BY id;

--
-- An error aborts the transaction; ROLLBACK undoes its earlier writes
--
BEGIN;
INSERT INTO acct VALUES (40, 1, 'lost');
UPDATE acct SET balance = balance + 1000;
UPDATE acct SET balance = balance / 0 WHERE id = 1;
SELECT count(*) FROM acct;
ROLLBACK;
SELECT count(*) AS rows_40 FROM acct WHERE id = 40;
SELECT max(balance) < 1000 AS not_increased FROM acct;
-- also when the error is raised on the coordinator
BEGIN;
INSERT INTO acct VALUES (41, 1, 'lost');
SELECT 1 / 0;
COMMIT;
SELECT count(*) AS rows_41 FROM acct WHERE id = 41;
-- a failed statement alone rolls back by itself
INSERT INTO acct VALUES (42, 1, 'ok'), (43, -5, 'violates the check');
SELECT count(*) AS rows_42_43 FROM acct WHERE id IN (42, 43);
UPDATE acct SET balance = balance - 150;
SELECT min(balance) >= 0 AS no_negative, sum(balance) FROM acct;

--
-- plpgsql: errors from a node caught by an EXCEPTION block
--
CREATE FUNCTION open_accounts(ids int[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	opened int := 0;
	duplicates int := 0;
BEGIN
	FOREACH i IN ARRAY ids LOOP
		BEGIN
			-- the log row is written first and must go when the account fails
			INSERT INTO acct_log VALUES (i, 100, 'opening');
			INSERT INTO acct VALUES (i, 0, 'opened by function');
			opened := opened + 1;
		EXCEPTION WHEN unique_violation THEN
			duplicates := duplicates + 1;
		END;
	END LOOP;
	RETURN format('%s opened, %s duplicates', opened, duplicates);
END
$$;
SELECT open_accounts(ARRAY[50, 1, 51, 3, 52, 50]);
SELECT id, owner FROM acct WHERE id >= 50 ORDER BY id;
SELECT acct_id, n, note FROM acct_log WHERE n = 100 ORDER BY acct_id;

CREATE FUNCTION transfer(from_id int, to_id int, amount int) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE acct SET balance = balance + amount WHERE id = to_id;
	UPDATE acct SET balance = balance - amount WHERE id = from_id;
	INSERT INTO acct_log VALUES (from_id, 200 + to_id, 'sent ' || amount);
	RETURN 'done';
EXCEPTION WHEN check_violation THEN
	RETURN 'refused: not enough money';
END
$$;
SELECT id, balance FROM acct WHERE id IN (13, 14) ORDER BY id;
SELECT transfer(13, 14, 30);
SELECT transfer(13, 14, 1000);
SELECT id, balance FROM acct WHERE id IN (13, 14) ORDER BY id;
SELECT acct_id, n, note FROM acct_log WHERE n > 200 ORDER BY acct_id, n;
-- the same inside an explicit transaction that is rolled back
BEGIN;
SELECT transfer(14, 13, 10);
SELECT transfer(14, 13, 5000);
SELECT id, balance FROM acct WHERE id IN (13, 14) ORDER BY id;
ROLLBACK;
SELECT id, balance FROM acct WHERE id IN (13, 14) ORDER BY id;

-- a function that fails as a whole leaves nothing
CREATE FUNCTION failing_batch() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO acct VALUES (60, 1, 'batch');
	UPDATE acct SET owner = 'batch' WHERE id < 5;
	INSERT INTO acct VALUES (1, 1, 'duplicate');
END
$$;
SELECT expect_error('SELECT failing_batch()') ~ '^23505' AS unique_violation;
SELECT count(*) AS rows_60, count(*) FILTER (WHERE owner = 'batch') AS batch_owners
  FROM acct WHERE id = 60 OR id < 5;

--
-- Isolation levels and read-only transactions
--
BEGIN;
SHOW transaction_isolation;
SELECT count(*) FROM acct;
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SHOW transaction_isolation;
SELECT count(*) FROM acct WHERE id = 1;
SELECT count(*) FROM acct;
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SHOW transaction_isolation;
SELECT sum(balance) > 0 AS has_money FROM acct;
COMMIT;
-- a deferrable read-only serializable transaction is one on the nodes too
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE;
SET LOCAL shardext.log_remote_commands = on;
SET LOCAL client_min_messages = notice;
SELECT count(*) FROM acct WHERE id = 1;
COMMIT;
BEGIN READ ONLY;
SELECT count(*) FROM acct WHERE id = 1;
INSERT INTO acct VALUES (70, 1, 'read only');
ROLLBACK;
BEGIN READ ONLY;
UPDATE acct SET balance = 0 WHERE id = 1;
ROLLBACK;
SELECT count(*) AS rows_70 FROM acct WHERE id = 70;

--
-- Cursors in a transaction
--
BEGIN;
DECLARE c CURSOR FOR SELECT id, owner FROM acct ORDER BY id;
FETCH 3 FROM c;
FETCH 2 FROM c;
MOVE 10 IN c;
FETCH 1 FROM c;
CLOSE c;
DECLARE r CURSOR FOR SELECT acct_id, n FROM acct_log WHERE acct_id = 1 ORDER BY n;
FETCH ALL FROM r;
CLOSE r;
COMMIT;

SELECT count(*), sum(balance) FROM acct;
SELECT count(*) FROM acct_log;

--
-- A statement cancelled inside a savepoint (statement_timeout caught by
-- the application) leaves its node usable: ROLLBACK TO SAVEPOINT, then more
-- work there, then COMMIT
--
CREATE TABLE canc (id int PRIMARY KEY, v int);
SELECT create_distributed_table('canc', 'id', shard_count => 2);
INSERT INTO canc SELECT g, 0 FROM generate_series(1, 10) g;
BEGIN;
UPDATE canc SET v = v + 1 WHERE id = 2;
SAVEPOINT s;
SET LOCAL statement_timeout = '300ms';
SELECT pg_sleep(3) FROM canc WHERE id = 1;
ROLLBACK TO SAVEPOINT s;
UPDATE canc SET v = v + 10 WHERE id = 1;
UPDATE canc SET v = v + 100 WHERE id = 6;
COMMIT;
SELECT id, v FROM canc WHERE v > 0 ORDER BY id;
BEGIN;
UPDATE canc SET v = v + 1000 WHERE id = 1;
SAVEPOINT s;
SET LOCAL statement_timeout = '300ms';
SELECT count(*) FROM canc WHERE pg_sleep(3) IS NOT NULL;
ROLLBACK TO SAVEPOINT s;
UPDATE canc SET v = v + 1000 WHERE id = 1;
COMMIT;
SELECT id, v FROM canc WHERE id = 1;
DROP TABLE canc;

--
-- Statements that triggers of local tables run are part of the transaction:
-- a trigger that changes rows on several shards and then fails leaves
-- nothing changed, whether it fires after each row, after the statement
-- (also when no row changed), or at commit (deferred)
--
SELECT acct_state() AS before_triggers \gset
CREATE TABLE trg_src (x int);
CREATE FUNCTION trg_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE dist_transactions.acct SET balance = balance + 7 WHERE id = 1;
	UPDATE dist_transactions.acct SET balance = balance + 7 WHERE id = 2;
	UPDATE dist_transactions.acct SET balance = balance + 7 WHERE id = 3;
	RAISE EXCEPTION 'trigger says no';
END $$;
CREATE TRIGGER after_row AFTER INSERT ON trg_src
	FOR EACH ROW EXECUTE FUNCTION trg_moves();
INSERT INTO trg_src VALUES (1);
DROP TRIGGER after_row ON trg_src;
CREATE TRIGGER after_statement AFTER UPDATE ON trg_src
	FOR EACH STATEMENT EXECUTE FUNCTION trg_moves();
UPDATE trg_src SET x = 2 WHERE false;
DROP TRIGGER after_statement ON trg_src;
CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON trg_src
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION trg_moves();
INSERT INTO trg_src VALUES (3);
SELECT acct_state() = :'before_triggers' AS unchanged;
DROP TABLE trg_src;
DROP FUNCTION trg_moves();

-- A cursor reads the rows as they were when it was declared, also when the
-- transaction changes them before the first FETCH (its scans start at
-- DECLARE); the tables it reads cannot be dropped or truncated meanwhile.
CREATE TABLE cur_t (id int PRIMARY KEY, v int);
CREATE TABLE cur_r (id int PRIMARY KEY, name text);
SET client_min_messages = warning;
SELECT create_distributed_table('cur_t', 'id', shard_count => 4);
SELECT create_reference_table('cur_r');
RESET client_min_messages;
INSERT INTO cur_t SELECT g, g * 10 FROM generate_series(1, 20) g;
INSERT INTO cur_r SELECT g, 'n' || g FROM generate_series(1, 5) g;
CREATE TABLE cur_lt AS SELECT * FROM cur_t;
CREATE TABLE cur_lr AS SELECT * FROM cur_r;
BEGIN;
DECLARE c1 CURSOR FOR SELECT count(*), sum(v) FROM cur_t;
DECLARE c2 CURSOR FOR SELECT * FROM cur_t WHERE id = 3;
DECLARE c3 CURSOR FOR SELECT * FROM cur_r WHERE id = 1;
DECLARE c4 CURSOR FOR SELECT * FROM cur_t WHERE id < 6 ORDER BY id;
DECLARE c5 CURSOR FOR SELECT t.id, r.name FROM cur_t t JOIN cur_r r ON r.id = t.id ORDER BY 1;
DECLARE l1 CURSOR FOR SELECT count(*), sum(v) FROM cur_lt;
DECLARE l4 CURSOR FOR SELECT * FROM cur_lt WHERE id < 6 ORDER BY id;
DECLARE l5 CURSOR FOR SELECT t.id, r.name FROM cur_lt t JOIN cur_lr r ON r.id = t.id ORDER BY 1;
UPDATE cur_t SET v = -1 WHERE id = 3;
DELETE FROM cur_t WHERE id = 4;
UPDATE cur_r SET name = 'changed' WHERE id = 1;
UPDATE cur_lt SET v = -1 WHERE id = 3;
DELETE FROM cur_lt WHERE id = 4;
UPDATE cur_lr SET name = 'changed' WHERE id = 1;
FETCH c1;
FETCH l1;
FETCH c2;
FETCH c3;
FETCH ALL c4;
FETCH ALL l4;
FETCH ALL c5;
FETCH ALL l5;
ROLLBACK;
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT * FROM cur_t WHERE id = 1;
UPDATE cur_t SET v = 555 WHERE id = 1;
COMMIT;
FETCH ALL FROM h;
CLOSE h;
SELECT v FROM cur_t WHERE id = 1;
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM cur_r;
FETCH 1 FROM c;
DROP TABLE cur_r;
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT count(*) FROM cur_t;
TRUNCATE cur_t;
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM cur_t WHERE id = 2;
CLOSE c;
TRUNCATE cur_t;
ROLLBACK;
SELECT count(*) FROM cur_t;
-- a PL/pgSQL cursor too (a named portal)
CREATE FUNCTION cur_open() RETURNS refcursor LANGUAGE plpgsql AS $$
DECLARE
	c refcursor := 'cur_rc';
BEGIN
	OPEN c SCROLL FOR SELECT id FROM cur_t WHERE id < 10 ORDER BY id;
	RETURN c;
END $$;
BEGIN;
SELECT cur_open();
DELETE FROM cur_t WHERE id < 5;
FETCH ALL FROM cur_rc;
ROLLBACK;
DROP FUNCTION cur_open();

-- FOR UPDATE of a reference table's rows in a statement that reads a
-- distributed table would lock one node's copy only: refused
SELECT t.id, r.name FROM cur_t t JOIN cur_r r ON true WHERE t.id = 3 AND r.id = 4 FOR UPDATE;
SELECT t.id, r.name FROM cur_t t JOIN cur_r r ON true WHERE t.id = 3 AND r.id = 4 FOR UPDATE OF t;
SELECT * FROM cur_r r JOIN cur_lr l USING (id) WHERE id = 2 FOR UPDATE;
SELECT name FROM cur_r WHERE id = 2 FOR UPDATE;
DROP TABLE cur_t, cur_r, cur_lt, cur_lr;

-- savepoints released in a transaction that uses the nodes leave nothing
-- behind on the coordinator (PL/pgSQL exception blocks, psql's
-- ON_ERROR_ROLLBACK, JDBC autosave), as in PostgreSQL
CREATE TABLE sp_mem (id int PRIMARY KEY, v int);
SET client_min_messages = warning;
SELECT create_distributed_table('sp_mem', 'id', shard_count => 4);
RESET client_min_messages;
INSERT INTO sp_mem SELECT g, 0 FROM generate_series(1, 50) g;
BEGIN;
SELECT count(*) FROM sp_mem;
DO $$
BEGIN
	FOR i IN 1..200 LOOP
		BEGIN
			UPDATE sp_mem SET v = v + 1 WHERE id = i % 50 + 1;
		EXCEPTION WHEN others THEN NULL;
		END;
	END LOOP;
END $$;
SAVEPOINT a;
UPDATE sp_mem SET v = v + 1 WHERE id = 1;
RELEASE a;
SAVEPOINT b;
SELECT count(*) FROM sp_mem;
RELEASE b;
SELECT count(*) AS kept_subtransaction_contexts FROM pg_backend_memory_contexts
 WHERE name = 'CurTransactionContext';
COMMIT;
SELECT sum(v) FROM sp_mem;
DROP TABLE sp_mem;
