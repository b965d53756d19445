--
-- shardext.* parameters: defaults, units, ranges, reserved prefix
--
SELECT name, setting, unit, vartype, min_val, max_val, enumvals, context
  FROM pg_settings WHERE name LIKE 'shardext.%' ORDER BY name;

SHOW shardext.shard_count;
SHOW shardext.connect_timeout;
SHOW shardext.max_replica_lag;

SET shardext.shard_count = 8;
SHOW shardext.shard_count;
SET shardext.shard_count = 0;
SET shardext.shard_count = 'many';
RESET shardext.shard_count;

SET shardext.connect_timeout = '2min';
SHOW shardext.connect_timeout;
SET shardext.connect_timeout = '500ms';
SET shardext.connect_timeout = 0;
RESET shardext.connect_timeout;

SET shardext.max_replica_lag = '2s';
SHOW shardext.max_replica_lag;
SET shardext.max_replica_lag = -2;
RESET shardext.max_replica_lag;

SET shardext.read_from = 'replica';
SHOW shardext.read_from;
SET shardext.read_from = 'standby';
RESET shardext.read_from;

SET shardext.two_phase_commit = off;
SHOW shardext.two_phase_commit;
SET shardext.two_phase_commit = maybe;
RESET shardext.two_phase_commit;

SET shardext.max_connections_per_node = 0;
SET shardext.directory_auto_assign = on;
SHOW shardext.directory_auto_assign;
RESET shardext.directory_auto_assign;
SET shardext.log_remote_commands = on;
RESET shardext.log_remote_commands;
-- superusers only: the statements carry what SECURITY DEFINER functions read
CREATE ROLE gucs_plain_role;
SET ROLE gucs_plain_role;
SET shardext.log_remote_commands = on;
RESET ROLE;
DROP ROLE gucs_plain_role;

-- the prefix is reserved: a misspelt parameter is an error
SET shardext.shardcount = 4;

-- a session's first statement can set the isolation level, even when the
-- shard map is read for the first time
\c
BEGIN ISOLATION LEVEL REPEATABLE READ;
SHOW transaction_isolation;
COMMIT;
\c
BEGIN;
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SHOW transaction_isolation;
COMMIT;
