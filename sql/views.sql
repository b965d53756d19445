--
-- Views and simple subqueries in FROM over distributed tables: flattened
-- before routing (pullup.c), so that a condition on a view's column pins a
-- shard and aggregates run per shard group; results equal those of the
-- same views over local copies, and privileges are the view's.
--
SELECT setval('shardext.shard_id_seq', 1100000, false) IS NOT NULL AS shard_ids_set;
CREATE SCHEMA vw;
SET search_path = vw, public;
SET client_min_messages = warning;
CREATE TABLE items (id bigint PRIMARY KEY, tenant int, val int, note text);
CREATE TABLE parts (item_id bigint, n int, w int, PRIMARY KEY (item_id, n));
CREATE TABLE kinds (tenant int PRIMARY KEY, label text);
INSERT INTO items SELECT g, g % 7, (g * 37) % 101, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END
  FROM generate_series(1, 400) g;
INSERT INTO parts SELECT (g % 350) + 1, g, g % 13 FROM generate_series(1, 1200) g;
INSERT INTO kinds SELECT t, 'kind ' || t FROM generate_series(0, 5) t;
CREATE TABLE local_items AS SELECT * FROM items;
CREATE TABLE local_parts AS SELECT * FROM parts;
CREATE TABLE local_kinds AS SELECT * FROM kinds;
SELECT create_distributed_table('items', 'id', shard_count => 6);
SELECT create_distributed_table('parts', 'item_id', shard_count => 6);
SELECT create_reference_table('kinds');
RESET client_min_messages;

-- the same views over both
DO $$
DECLARE
	p text;
BEGIN
	FOREACH p IN ARRAY ARRAY['', 'local_'] LOOP
		EXECUTE format('CREATE VIEW %1$sbusy AS SELECT id, tenant, val FROM %1$sitems WHERE val > 20', p);
		EXECUTE format('CREATE VIEW %1$srenamed (key, doubled, label) AS SELECT id, val * 2, coalesce(note, ''none'') FROM %1$sitems', p);
		EXECUTE format('CREATE VIEW %1$sbusier AS SELECT id, val FROM %1$sbusy WHERE tenant <> 3', p);
		EXECUTE format('CREATE VIEW %1$swith_kind AS SELECT i.id, i.val, k.label FROM %1$sitems i JOIN %1$skinds k ON k.tenant = i.tenant', p);
		EXECUTE format('CREATE VIEW %1$sweighed AS SELECT i.id, p.n, p.w FROM %1$sitems i JOIN %1$sparts p ON p.item_id = i.id WHERE p.w > 2', p);
	END LOOP;
END $$;

-- same(q): the query and the one over the local copies give the same rows
CREATE FUNCTION same(q text, ordered bool DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	d text;
	l text;
	lq text := regexp_replace(q, '\m(items|parts|kinds|busy|renamed|busier|with_kind|weighed)\M', 'local_\1', 'g');
BEGIN
	IF ordered THEN
		EXECUTE format('SELECT string_agg(t::text, %L) FROM (%s) t', '|', q) INTO d;
		EXECUTE format('SELECT string_agg(t::text, %L) FROM (%s) t', '|', lq) INTO l;
	ELSE
		EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', '|', q) INTO d;
		EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', '|', lq) INTO l;
	END IF;
	RETURN CASE WHEN d IS NOT DISTINCT FROM l THEN 'same' ELSE 'DIFFERENT: ' || coalesce(d, '<none>') || ' vs ' || coalesce(l, '<none>') END;
END $$;
-- the kind of plan at the top
CREATE FUNCTION top_plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line ~ 'Distributed Plan' THEN
			RETURN trim(line);
		END IF;
	END LOOP;
	RETURN 'no distributed plan';
END $$;

-- a condition on a view's column reaches one shard whole
SELECT top_plan('SELECT * FROM busy WHERE id = 42');
SELECT same('SELECT * FROM busy WHERE id = 42');
SELECT same('SELECT * FROM busy WHERE id = 43');
SELECT top_plan('SELECT * FROM renamed WHERE key = 10');
SELECT same('SELECT * FROM renamed WHERE key = 10');
SELECT same('SELECT doubled + 1, label FROM renamed WHERE key = 15');
SELECT top_plan('SELECT * FROM busier WHERE id = 42');
SELECT same('SELECT * FROM busier WHERE id = 42');
SELECT top_plan('SELECT * FROM with_kind WHERE id = 9');
SELECT same('SELECT * FROM with_kind WHERE id = 9');
SELECT top_plan('SELECT * FROM weighed WHERE id = 9');
SELECT same('SELECT * FROM weighed WHERE id = 9');
SELECT top_plan('SELECT * FROM (SELECT id, val * 3 AS t, ''x'' AS c FROM items WHERE tenant = 2) s WHERE id = 9');
SELECT same('SELECT * FROM (SELECT id, val * 3 AS t, ''x'' AS c FROM items WHERE tenant = 2) s WHERE id = 9');
SELECT same('SELECT * FROM (SELECT id, val * 3 AS t, ''x'' AS c FROM items WHERE tenant = 2) s WHERE id = 16');
-- joined with tables and other views
SELECT top_plan('SELECT b.id, p.n FROM busy b JOIN parts p ON p.item_id = b.id WHERE b.id = 30');
SELECT same('SELECT b.id, p.n FROM busy b JOIN parts p ON p.item_id = b.id WHERE b.id = 30');
SELECT same('SELECT b.id, r.label FROM busy b, renamed r WHERE r.key = b.id AND b.id = 31');
SELECT same('SELECT * FROM busy b JOIN items i USING (id) WHERE id = 33');
SELECT same('SELECT * FROM busy NATURAL JOIN items WHERE id < 60');
SELECT same('SELECT b.id, i.val FROM items i LEFT JOIN busy b ON b.id = i.id WHERE i.id IN (1, 2, 3, 4, 5, 6)');
SELECT same('SELECT b.id, i.val FROM busy b RIGHT JOIN items i ON b.id = i.id AND b.val > 50 WHERE i.id < 20');
-- shapes that keep the subquery (or flatten it with care)
SELECT same('SELECT count(*) FROM (parts p JOIN (SELECT val, id AS vid FROM items) s ON p.item_id = s.vid) AS j');
SELECT same('SELECT j.val, count(*) FROM (busy JOIN parts p ON p.item_id = busy.id) AS j GROUP BY j.val');
SELECT same('SELECT j.* FROM (busy JOIN parts p ON p.item_id = busy.id) AS j WHERE j.id = 30');
SELECT same('SELECT count(*), max(p.n) FROM parts p JOIN (SELECT val, id AS vid FROM items) s ON p.item_id = s.vid WHERE s.vid < 100');
SELECT same('SELECT * FROM parts p JOIN busy b ON p.item_id = b.id WHERE b.id = 30');
SELECT same('SELECT doubled, label, count(*) FROM renamed WHERE key = 3 GROUP BY GROUPING SETS ((doubled), (label))');
SELECT same('SELECT label, label IS NULL, coalesce(label, ''x''), count(*) FROM renamed WHERE key = 3 GROUP BY ROLLUP (label)');
SELECT same('SELECT row_to_json(r) FROM renamed r WHERE key = 4');
SELECT same('SELECT key FROM renamed r WHERE key = 4 AND row_to_json(r)->>''label'' = ''note 4''');
SELECT same('SELECT count(*) FROM renamed r WHERE to_jsonb(r) ? ''doubled''');
-- the subquery's conditions filter before the query's
SELECT same('SELECT count(*) FROM (SELECT id, val FROM items WHERE val + 0 <> 0) s WHERE 1000 / val > 1');
SELECT same('SELECT count(*) FROM (SELECT id, val FROM items WHERE val + 0 <> 0) s WHERE id = 101 AND 1000 / val > 1');
-- a volatile condition is evaluated once per row of the subquery
SELECT count(*) IN (0, 6) AS once_per_row FROM (SELECT id FROM items WHERE id = 3 AND random() < 0.5) s, kinds;
-- views in subqueries and WITH
SELECT top_plan('SELECT * FROM items i WHERE i.id = 5 AND EXISTS (SELECT 1 FROM busy b WHERE b.id = i.id)');
SELECT same('SELECT * FROM items i WHERE i.id = 5 AND EXISTS (SELECT 1 FROM busy b WHERE b.id = i.id)');
SELECT same('SELECT * FROM items i WHERE i.id = 6 AND i.id IN (SELECT key FROM renamed WHERE doubled > 10)');
SELECT top_plan('SELECT count(*) FROM items i WHERE EXISTS (SELECT 1 FROM busy b WHERE b.id = i.id)');
SELECT same('SELECT count(*) FROM items i WHERE EXISTS (SELECT 1 FROM busy b WHERE b.id = i.id)');
SELECT same('SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM busier b WHERE b.id = i.id)');
SELECT top_plan('WITH c AS (SELECT * FROM busy WHERE id = 7) SELECT * FROM c');
SELECT same('WITH c AS (SELECT * FROM busy WHERE id = 7) SELECT * FROM c');
SELECT same('SELECT i.id, (SELECT count(*) FROM (SELECT * FROM busy b WHERE b.id = i.id) s) FROM items i WHERE i.id BETWEEN 3 AND 12');
SELECT same('SELECT i.id, (SELECT max(doubled) FROM renamed r WHERE r.key = i.id) FROM items i WHERE i.id < 30');
-- FOR UPDATE/SHARE of a view locks its table's rows on the node
BEGIN;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM busy WHERE id = 42 FOR UPDATE;
SELECT * FROM busy WHERE id = 42 FOR UPDATE;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM busier WHERE id = 42 FOR SHARE;
SELECT * FROM busier WHERE id = 42 FOR SHARE;
EXPLAIN (VERBOSE, COSTS OFF) SELECT b.id, p.n FROM busy b JOIN parts p ON p.item_id = b.id WHERE b.id = 30 FOR UPDATE OF b;
SELECT b.id, p.n FROM busy b JOIN parts p ON p.item_id = b.id WHERE b.id = 30 ORDER BY p.n FOR UPDATE OF b;
COMMIT;
-- views on the nullable side of an outer join (their WHERE joins the ON)
SELECT top_plan('SELECT i.id, b.val FROM items i LEFT JOIN busy b ON b.id = i.id WHERE i.id = 42');
SELECT same('SELECT i.id, b.val FROM items i LEFT JOIN busy b ON b.id = i.id WHERE i.id = 42');
SELECT same('SELECT i.id, b.val FROM items i LEFT JOIN busy b ON b.id = i.id WHERE i.id = 43');
SELECT top_plan('SELECT count(*), count(b.id) FROM items i LEFT JOIN busier b ON b.id = i.id');
SELECT same('SELECT count(*), count(b.id), sum(b.val) FROM items i LEFT JOIN busier b ON b.id = i.id');
SELECT same('SELECT b.id, i.id FROM busy b RIGHT JOIN items i ON i.id = b.id AND b.val < 60 WHERE i.id < 40');
SELECT same('SELECT i.id, r.doubled FROM items i LEFT JOIN renamed r ON r.key = i.id WHERE i.id < 20');
SELECT same('SELECT i.id, w.n FROM items i LEFT JOIN weighed w ON w.id = i.id WHERE i.id < 30');
SELECT same('SELECT b.id, i.id FROM busy b LEFT JOIN items i ON i.id = b.id AND i.val > 50 WHERE b.id < 40');
SELECT same('SELECT i.id, b.id FROM items i FULL JOIN busy b ON b.id = i.id WHERE coalesce(i.id, b.id) < 40');
-- aggregates and top-N per shard group
SELECT top_plan('SELECT count(*) FROM busy');
SELECT same('SELECT count(*), sum(val), max(id) FROM busy');
SELECT top_plan('SELECT tenant, count(*) FROM busy GROUP BY tenant');
SELECT same('SELECT tenant, count(*), avg(val) FROM busy GROUP BY tenant');
SELECT same('SELECT label, count(*), sum(doubled) FROM renamed GROUP BY label HAVING count(*) > 1');
SELECT same('SELECT id, val FROM busier ORDER BY val DESC, id LIMIT 5', true);
SELECT same('SELECT count(*) FROM (SELECT id FROM items WHERE note IS NOT NULL) s');
SELECT same('SELECT count(*) FROM busy b JOIN weighed w ON w.id = b.id');
SELECT same('SELECT count(*), sum(w) FROM weighed');
SELECT same('SELECT label, count(*) FROM with_kind GROUP BY label');
-- what is not flattened (security barriers, grouping, LIMIT, volatile
-- columns, outer joins) still gives PostgreSQL's results
CREATE VIEW barrier WITH (security_barrier) AS SELECT id, val FROM items WHERE val < 50;
CREATE VIEW local_barrier WITH (security_barrier) AS SELECT id, val FROM local_items WHERE val < 50;
SELECT same('SELECT * FROM barrier WHERE id = 42');
SELECT same('SELECT count(*) FROM barrier');
SELECT same('SELECT * FROM (SELECT tenant, count(*) AS c FROM items GROUP BY tenant) s WHERE tenant = 3');
SELECT same('SELECT * FROM (SELECT id FROM items ORDER BY id LIMIT 10) s WHERE id = 4');
SELECT same('SELECT count(*) FROM (SELECT id, random() AS r FROM items) s WHERE r >= 0');
SELECT same('SELECT * FROM (SELECT DISTINCT tenant FROM items) s');
-- prepared statements over a view, and the view replaced
PREPARE busy_one(bigint) AS SELECT * FROM busy WHERE id = $1;
EXECUTE busy_one(42);
EXECUTE busy_one(43);
SELECT * FROM local_busy WHERE id IN (42, 43) ORDER BY id;
CREATE OR REPLACE VIEW busy AS SELECT id, tenant, val FROM items WHERE val > 90;
EXECUTE busy_one(42);
SELECT count(*) FROM busy;
SELECT count(*) FROM local_items WHERE val > 90;
CREATE OR REPLACE VIEW busy AS SELECT id, tenant, val FROM items WHERE val > 20;
DEALLOCATE busy_one;

-- REFRESH MATERIALIZED VIEW runs the view's query like any other (its own
-- two entries of the view aside): aggregated on the shards, or on one shard
CREATE MATERIALIZED VIEW kind_totals AS
  SELECT k.label, count(*) AS n, sum(i.val) AS total FROM items i JOIN kinds k ON k.tenant = i.tenant GROUP BY k.label;
CREATE MATERIALIZED VIEW local_kind_totals AS
  SELECT k.label, count(*) AS n, sum(i.val) AS total FROM local_items i JOIN local_kinds k ON k.tenant = i.tenant GROUP BY k.label;
CREATE MATERIALIZED VIEW one_item AS SELECT * FROM items WHERE id = 77;
UPDATE items SET val = val + 1 WHERE id % 3 = 0;
UPDATE local_items SET val = val + 1 WHERE id % 3 = 0;
SET shardext.log_remote_commands = on;
\set VERBOSITY terse
REFRESH MATERIALIZED VIEW kind_totals;
REFRESH MATERIALIZED VIEW one_item;
\set VERBOSITY default
RESET shardext.log_remote_commands;
REFRESH MATERIALIZED VIEW local_kind_totals;
SELECT count(*) AS differing FROM
  ((SELECT * FROM kind_totals EXCEPT SELECT * FROM local_kind_totals) UNION ALL
   (SELECT * FROM local_kind_totals EXCEPT SELECT * FROM kind_totals)) d;
SELECT * FROM one_item;
DROP MATERIALIZED VIEW kind_totals, local_kind_totals, one_item;
UPDATE items SET val = val - 1 WHERE id % 3 = 0;
UPDATE local_items SET val = val - 1 WHERE id % 3 = 0;

-- writes through an updatable view go where writes to its table go (one
-- shard, or each shard group with co-located tables), RETURNING included
CREATE VIEW upd_items AS SELECT id, tenant, val FROM items;
CREATE VIEW local_upd_items AS SELECT id, tenant, val FROM local_items;
BEGIN;
SELECT top_plan('UPDATE upd_items SET val = val + 1 WHERE id = 5');
UPDATE upd_items SET val = val + 1 WHERE id = 5 RETURNING *;
UPDATE local_upd_items SET val = val + 1 WHERE id = 5 RETURNING *;
UPDATE upd_items SET val = p.w FROM parts p WHERE p.item_id = upd_items.id AND upd_items.id = 9 AND p.n = 8 RETURNING upd_items.id, p.n, p.w;
UPDATE local_upd_items SET val = p.w FROM local_parts p WHERE p.item_id = local_upd_items.id AND local_upd_items.id = 9 AND p.n = 8 RETURNING local_upd_items.id, p.n, p.w;
DELETE FROM upd_items USING parts p WHERE p.item_id = upd_items.id AND p.item_id = 7 AND p.n = 6 RETURNING upd_items.id, p.n;
DELETE FROM local_upd_items USING local_parts p WHERE p.item_id = local_upd_items.id AND p.item_id = 7 AND p.n = 6 RETURNING local_upd_items.id, p.n;
SELECT top_plan('UPDATE upd_items SET val = val + p.w FROM parts p WHERE p.item_id = upd_items.id AND p.w > 10');
UPDATE upd_items SET val = val + p.w FROM parts p WHERE p.item_id = upd_items.id AND p.w > 10 AND p.n <= 350;
UPDATE local_upd_items SET val = val + p.w FROM local_parts p WHERE p.item_id = local_upd_items.id AND p.w > 10 AND p.n <= 350;
DELETE FROM upd_items WHERE id IN (11, 12);
DELETE FROM local_upd_items WHERE id IN (11, 12);
-- a view over the view
CREATE VIEW upd_items2 AS SELECT id AS iid, val AS v, tenant FROM upd_items WHERE tenant > 1;
CREATE VIEW local_upd_items2 AS SELECT id AS iid, val AS v, tenant FROM local_upd_items WHERE tenant > 1;
UPDATE upd_items2 SET v = 0 FROM parts p WHERE p.item_id = upd_items2.iid AND p.n = 60 RETURNING *;
UPDATE local_upd_items2 SET v = 0 FROM local_parts p WHERE p.item_id = local_upd_items2.iid AND p.n = 60 RETURNING *;
DELETE FROM upd_items2 USING parts p WHERE p.item_id = upd_items2.iid AND p.n = 61 RETURNING upd_items2.iid, p.n;
DELETE FROM local_upd_items2 USING local_parts p WHERE p.item_id = local_upd_items2.iid AND p.n = 61 RETURNING local_upd_items2.iid, p.n;
DROP VIEW upd_items2, local_upd_items2;
SELECT count(*) AS differing FROM
  ((SELECT * FROM items EXCEPT SELECT * FROM local_items) UNION ALL
   (SELECT * FROM local_items EXCEPT SELECT * FROM items)) d;
ROLLBACK;
DROP VIEW upd_items, local_upd_items;

-- privileges: a role reads the view as its owner reads the table, and not
-- the table itself; without SELECT on the view, nothing
CREATE ROLE vw_reader;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('CREATE USER MAPPING FOR vw_reader SERVER %I OPTIONS (user %L, password_required %L)', s, current_user, 'false');
	END LOOP;
END $$;
GRANT USAGE ON SCHEMA vw TO vw_reader;
GRANT SELECT ON busy, renamed TO vw_reader;
SET ROLE vw_reader;
SELECT * FROM busy WHERE id = 42;
SELECT count(*) FROM busy;
SELECT label, count(*) FROM renamed WHERE key < 20 GROUP BY label ORDER BY label LIMIT 3;
SELECT * FROM items WHERE id = 42;
SELECT count(*) FROM busier;
RESET ROLE;
-- a security_invoker view checks the table for the caller
CREATE VIEW invoker WITH (security_invoker) AS SELECT id, val FROM items;
GRANT SELECT ON invoker TO vw_reader;
SET ROLE vw_reader;
SELECT * FROM invoker WHERE id = 42;
SELECT count(*) FROM invoker;
RESET ROLE;
GRANT SELECT (id, val) ON items TO vw_reader;
SET ROLE vw_reader;
SELECT * FROM invoker WHERE id = 42;
SELECT count(*) FROM invoker;
RESET ROLE;
REVOKE ALL ON items, busy, renamed, invoker FROM vw_reader;
REVOKE USAGE ON SCHEMA vw FROM vw_reader;
DO $$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT server_name FROM shardext.nodes LOOP
		EXECUTE format('DROP USER MAPPING FOR vw_reader SERVER %I', s);
	END LOOP;
END $$;
DROP ROLE vw_reader;

SET client_min_messages = warning;
DROP SCHEMA vw CASCADE;
RESET client_min_messages;
