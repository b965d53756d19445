/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Definitions of the shardext.* configuration parameters.
 *
 * Every parameter of the user-facing contract (API.md) is defined here with
 * its default, unit and range; the prefix "shardext" is then reserved so
 * that a misspelt setting is reported instead of silently ignored.
 *
 * IDENTIFICATION
 *	  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "shardext/guc.h"

int			ShardextShardCount = 32;
int			ShardextReadFromSetting = READ_FROM_PRIMARY;
int			ShardextMaxReplicaLag = 10000;
bool		ShardextTwoPhaseCommit = true;
bool		ShardextOrderedMultiNodeWrites = true;
int			ShardextConnectTimeout = 10;
int			ShardextMaxConnectionsPerNode = 1;
int			ShardextNodeParallelWorkers = -1;
bool		ShardextDirectoryAutoAssign = false;
bool		ShardextLogRemoteCommands = false;
bool		ShardextEnablePushdown = true;
int			ShardextJoinKeyFilterLimit = 10000;
bool		ShardextParameterizeConstants = true;
int			ShardextRecoveryInterval = 60000;
int			ShardextDebugCommitDelay = 0;
int			ShardextDebugCommitPreparedDelay = 0;

static const struct config_enum_entry ReadFromOptions[] = {
	{"primary", READ_FROM_PRIMARY, false},
	{"replica", READ_FROM_REPLICA, false},
	{"any", READ_FROM_ANY, false},
	{NULL, 0, false}
};

/*
 * ShardextDefineGucs defines every shardext.* parameter and reserves the
 * prefix.  Called once from _PG_init.
 */
void
ShardextDefineGucs(void)
{
	DefineCustomIntVariable("shardext.shard_count",
							gettext_noop("Number of shards of a new hash-distributed table."),
							gettext_noop("Used when create_distributed_table() is called "
										 "with shard_count NULL."),
							&ShardextShardCount,
							32, 1, 64000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("shardext.read_from",
							 gettext_noop("Which servers read-only queries are sent to."),
							 gettext_noop("primary: the workers; replica: their streaming "
										  "replicas; any: either.  Not in effect yet: read "
										  "replicas are not built, reads go to the workers."),
							 &ShardextReadFromSetting,
							 READ_FROM_PRIMARY, ReadFromOptions,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.max_replica_lag",
							gettext_noop("Largest replay lag of a replica that may still serve reads."),
							gettext_noop("-1 means that any lag is accepted.  Not in effect yet: "
										 "read replicas are not built."),
							&ShardextMaxReplicaLag,
							10000, -1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("shardext.two_phase_commit",
							 gettext_noop("Commits transactions that wrote on several nodes with "
										  "two-phase commit."),
							 gettext_noop("When off, such commits are best effort: a failure "
										  "between nodes can leave them partly committed."),
							 &ShardextTwoPhaseCommit,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardext.ordered_multi_node_writes",
							 gettext_noop("Sends UPDATEs and DELETEs that change rows on several "
										  "nodes to one node after the other, in node order."),
							 gettext_noop("Concurrent ones changing the same rows then wait for "
										  "each other, as on PostgreSQL. When off, they go to "
										  "every node at once (faster for large changes), and "
										  "two of them changing the same rows may deadlock "
										  "across nodes."),
							 &ShardextOrderedMultiNodeWrites,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.connect_timeout",
							gettext_noop("Time allowed to connect to a node before giving up."),
							NULL,
							&ShardextConnectTimeout,
							10, 1, 3600,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.max_connections_per_node",
							gettext_noop("Most connections a multi-shard read uses on one node at once."),
							gettext_noop("A statement that is its own transaction reads the "
										 "shards of a node over up to this many connections "
										 "in parallel; worth raising when workers have idle cores."),
							&ShardextMaxConnectionsPerNode,
							1, 1, 1000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.node_parallel_workers",
							gettext_noop("Parallel workers per gather that statements sent to nodes may use."),
							gettext_noop("-1: none on a node that shares its host with another node "
										 "(they compete for its cores), else the node's own setting."),
							&ShardextNodeParallelWorkers,
							-1, -1, 1024,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("shardext.directory_auto_assign",
							 gettext_noop("Assigns unknown keys of directory-distributed tables "
										  "to the shard with the fewest keys."),
							 gettext_noop("When off, inserting a key that is not in the "
										  "directory is an error."),
							 &ShardextDirectoryAutoAssign,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	/*
	 * Superusers only, like log_statement: the statements carry the values
	 * that SECURITY DEFINER functions read.
	 */
	DefineCustomBoolVariable("shardext.log_remote_commands",
							 gettext_noop("Logs every statement sent to a node."),
							 NULL,
							 &ShardextLogRemoteCommands,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("shardext.enable_pushdown",
							 gettext_noop("Pushes aggregation and ORDER BY ... LIMIT of "
										  "multi-shard queries down to the shards."),
							 gettext_noop("When off, the coordinator reads the rows and "
										  "does the work itself."),
							 &ShardextEnablePushdown,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.join_key_filter_limit",
							gettext_noop("Largest local table (rows) whose join keys filter "
										 "the distributed table it joins on the distribution column."),
							gettext_noop("The shards are then asked only for the rows of those "
										 "keys. 0 turns this off."),
							&ShardextJoinKeyFilterLimit,
							10000, 0, 10000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("shardext.parameterize_router_queries",
							 gettext_noop("Sends the constants of router queries to nodes as "
										  "parameters of a prepared statement."),
							 gettext_noop("The node then parses and plans each query shape "
										  "once, however the client sent it."),
							 &ShardextParameterizeConstants,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.recovery_interval",
							gettext_noop("How often the maintenance worker of each database "
										 "finishes transactions that failures left prepared "
										 "on the nodes."),
							gettext_noop("0 turns the worker off (then run "
										 "shardext_recover_transactions() after failures)."),
							&ShardextRecoveryInterval,
							60000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.debug_commit_delay",
							gettext_noop("Pause between the prepare and the commit phase "
										 "of two-phase commits (for fault tests)."),
							NULL,
							&ShardextDebugCommitDelay,
							0, 0, 600000,
							PGC_SUSET, GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("shardext.debug_commit_prepared_delay",
							gettext_noop("Pause after the local commit, before COMMIT PREPARED "
										 "is sent to the nodes (for fault tests)."),
							NULL,
							&ShardextDebugCommitPreparedDelay,
							0, 0, 600000,
							PGC_SUSET, GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("shardext");
}
