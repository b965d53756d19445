--
-- CREATE EXTENSION: catalog, the coordinator as node 0, functions reachable
-- with any search_path.
--
CREATE EXTENSION shardext CASCADE;
SELECT extname, extversion FROM pg_extension
 WHERE extname IN ('shardext', 'postgres_fdw') ORDER BY 1;

-- the coordinator registers itself, on its own port and database
SELECT node_id, role, port = current_setting('port')::int AS own_port,
       dbname = current_database() AS own_db, primary_node_id, is_active,
       server_name
  FROM shardext.nodes;
SELECT srvname, fdwname
  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw;
SELECT count(*) AS coordinator_user_mappings
  FROM pg_user_mappings WHERE srvname = 'shardext_node_0';

-- the catalog tables, with their keys
SELECT c.relname, array_agg(con.contype ORDER BY con.contype) AS constraints
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_constraint con ON con.conrelid = c.oid
 WHERE n.nspname = 'shardext' AND c.relkind = 'r'
 GROUP BY c.relname ORDER BY c.relname;

-- every catalog table and sequence is dumped by pg_dump
SELECT unnest(extconfig)::regclass AS dumped, unnest(extcondition) AS condition
  FROM pg_extension WHERE extname = 'shardext' ORDER BY 1;

-- functions work unqualified whatever the search_path
SET search_path = nobody_schema;
SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
 WHERE p.proname LIKE 'shardext\_%' ORDER BY 1;
SELECT count(*) FROM shardext.nodes;
RESET search_path;

CREATE EXTENSION shardext;

-- an installation of an older version updates to this one
CREATE DATABASE shardext_update_check;
\c shardext_update_check
CREATE EXTENSION shardext VERSION '0.1' CASCADE;
ALTER EXTENSION shardext UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'shardext';
SELECT polname, polcmd FROM pg_policy WHERE polrelid = 'shardext.directory'::regclass;
-- (0.4: shardext.nodes has no foreign key to itself, which pg_dump warned of)
SELECT count(*) AS node_foreign_keys FROM pg_constraint
 WHERE conrelid = 'shardext.nodes'::regclass AND contype = 'f';
SELECT count(*) AS functions_after_update FROM pg_proc p
  JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'shardext';
\c regression
SELECT count(*) AS functions_of_new_install FROM pg_proc p
  JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'shardext';
DROP DATABASE shardext_update_check WITH (FORCE);

-- a helper for the tests that follow: runs a statement and shows its error
-- with port numbers masked, since test ports come from the environment
CREATE FUNCTION expect_error(command text, with_detail bool DEFAULT false)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
BEGIN
	EXECUTE command;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN regexp_replace(regexp_replace(state || ': ' || message
		|| CASE WHEN with_detail THEN coalesce(E'\nDETAIL: ' || nullif(detail, ''), '')
		   ELSE '' END
		|| coalesce(E'\nHINT: ' || nullif(hint, ''), ''),
		'(:|port )[0-9]+( failed)', '\1<port>\2', 'g'),
		':[0-9]+', ':<port>', 'g');
END
$$;
