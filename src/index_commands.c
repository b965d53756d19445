/*-------------------------------------------------------------------------
 *
 * index_commands.c
 *	  Index statements on distributed tables that the shape comparison of
 *	  ddl.c does not carry to the shards.
 *
 * CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY build or drop the
 * index on each shard with the same statement, outside any transaction, so
 * that writes to the shards go on meanwhile; REINDEX of a table, an index, a
 * schema or the database (CONCURRENTLY or not) and CLUSTER of a table change
 * no shape and are sent to every shard.  The
 * shards of different nodes are worked on at the same time, one statement
 * per node at a time.
 *
 * A CREATE INDEX CONCURRENTLY first builds the coordinator's index (with
 * PostgreSQL's own code: its checks, its waits), marks it invalid and
 * commits, then builds the shards' indexes, and marks it valid only when
 * every shard has its index.  A shard that fails leaves the index invalid,
 * as a failed build does on PostgreSQL: DROP INDEX drops it everywhere
 * (shards that have it too), and the build can be tried again.  A DROP INDEX
 * CONCURRENTLY drops the shards' indexes before the coordinator's, so that a
 * failure leaves the index in the catalog, to be dropped again.
 *
 * IDENTIFICATION
 *	  src/index_commands.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "shardext/connection.h"
#include "shardext/deadlock.h"
#include "shardext/index_commands.h"
#include "shardext/metadata_cache.h"
#include "shardext/remote_exec.h"
#include "shardext/shard_ddl.h"
#include "shardext/transaction.h"

/* one statement for one placement of a shard */
typedef struct PlacementCommand
{
	int32		nodeId;
	char	   *sql;
	NodeConnection *nc;			/* where it was sent (RunOnPlacements) */
} PlacementCommand;

/* what a failure on a placement is reported with */
typedef struct PlacementErrorContext
{
	const char *action;			/* "creating index \"x\"", ... */
	const char *consequence;	/* a sentence, or NULL */
	PlacementCommand *current;
} PlacementErrorContext;

static Oid	DistributedTableOf(Oid relid);
static void RefuseInvalidIndexes(Oid relid, Oid indexOid);
static void InvalidIndexCallback(void *arg);
static List *IndexOidsOf(Oid relid);
static void CreateIndexConcurrently(Oid relid, void (*runLocally) (void *arg),
									void *arg);
static void DropIndexConcurrently(Oid indexOid, Oid relid, bool isTopLevel,
								  void (*runLocally) (void *arg), void *arg);
static void ReindexShards(ReindexStmt *stmt, Oid indexOid, List *tables,
						  void (*runLocally) (void *arg), void *arg);
static void ClusterShards(Oid relid, void (*runLocally) (void *arg), void *arg);
static char *ShardIndexName(Oid relid, Oid indexOid, int64 shardId);
static List *AddPlacementCommands(List *commands, ShardextShard *shard,
								  char *sql);
static void RunOnPlacements(List *commands, bool inTransaction,
							bool waitsForSnapshots, PlacementErrorContext *context);
static void PlacementErrorCallback(void *arg);

/*
 * RunIndexStatement handles the index statements on distributed tables that
 * need more than the shape comparison: CREATE/DROP INDEX CONCURRENTLY,
 * REINDEX and CLUSTER.  runLocally(arg) runs the statement on the
 * coordinator.  Returns false, having done nothing, for other statements.
 */
bool
RunIndexStatement(Node *parsetree, bool isTopLevel,
				  void (*runLocally) (void *arg), void *arg)
{
	if (IsA(parsetree, IndexStmt) && ((IndexStmt *) parsetree)->concurrent)
	{
		IndexStmt  *stmt = (IndexStmt *) parsetree;

		/*
		 * Locked as CREATE INDEX CONCURRENTLY locks it, so that a table being
		 * distributed by another session is seen distributed.
		 */
		Oid			relid = DistributedTableOf(RangeVarGetRelid(stmt->relation,
																ShareUpdateExclusiveLock,
																true));

		if (!OidIsValid(relid))
			return false;
		CreateIndexConcurrently(relid, runLocally, arg);
		return true;
	}
	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_INDEX &&
		((DropStmt *) parsetree)->concurrent)
	{
		DropStmt   *stmt = (DropStmt *) parsetree;
		Oid			indexOid;
		Oid			relid;

		/* DROP INDEX refuses several indexes or CASCADE with CONCURRENTLY */
		if (list_length(stmt->objects) != 1 || stmt->behavior == DROP_CASCADE)
			return false;
		indexOid = RangeVarGetRelid(makeRangeVarFromNameList(linitial(stmt->objects)),
									NoLock, true);
		if (!OidIsValid(indexOid) || get_rel_relkind(indexOid) != RELKIND_INDEX)
			return false;
		relid = IndexGetRelation(indexOid, false);
		LockRelationOid(relid, ShareUpdateExclusiveLock);
		if (!OidIsValid(DistributedTableOf(relid)))
			return false;
		DropIndexConcurrently(indexOid, relid, isTopLevel, runLocally, arg);
		return true;
	}
	if (IsA(parsetree, ReindexStmt))
	{
		ReindexStmt *stmt = (ReindexStmt *) parsetree;
		List	   *tables = NIL;
		Oid			indexOid = InvalidOid;
		Oid			relid;
		ListCell   *lc;

		switch (stmt->kind)
		{
			case REINDEX_OBJECT_TABLE:
				relid = DistributedTableOf(RangeVarGetRelid(stmt->relation, NoLock, true));
				if (OidIsValid(relid))
					tables = list_make1_oid(relid);
				break;
			case REINDEX_OBJECT_INDEX:
				indexOid = RangeVarGetRelid(stmt->relation, NoLock, true);
				if (OidIsValid(indexOid) && get_rel_relkind(indexOid) == RELKIND_INDEX)
				{
					relid = DistributedTableOf(IndexGetRelation(indexOid, false));
					if (OidIsValid(relid))
						tables = list_make1_oid(relid);
				}
				break;
			case REINDEX_OBJECT_SCHEMA:
			case REINDEX_OBJECT_DATABASE:
				/* the distributed tables in it, which the user may reindex */
				foreach(lc, ShardextAllTables())
				{
					ShardextTable *table = lfirst(lc);

					if (stmt->kind == REINDEX_OBJECT_SCHEMA &&
						get_rel_namespace(table->relid) !=
						get_namespace_oid(stmt->name, true))
						continue;
					if (pg_class_ownercheck(table->relid, GetUserId()))
						tables = lappend_oid(tables, table->relid);
				}
				break;
			default:
				break;
		}
		if (tables == NIL)
			return false;
		foreach(lc, tables)
			RefuseInvalidIndexes(lfirst_oid(lc), indexOid);
		ReindexShards(stmt, indexOid, tables, runLocally, arg);
		return true;
	}
	if (IsA(parsetree, ClusterStmt) && ((ClusterStmt *) parsetree)->relation != NULL)
	{
		ClusterStmt *stmt = (ClusterStmt *) parsetree;
		Oid			relid = DistributedTableOf(RangeVarGetRelid(stmt->relation,
																NoLock, true));

		if (!OidIsValid(relid))
			return false;
		ClusterShards(relid, runLocally, arg);
		return true;
	}
	return false;
}

/*
 * RefuseInvalidIndexes raises an error if an index of a distributed table (or
 * the one index indexOid) is invalid: a failed concurrent build left it on
 * some shards only, and REINDEX, which rebuilds what each shard has, would
 * make it valid without the missing parts.
 */
static void
RefuseInvalidIndexes(Oid relid, Oid indexOid)
{
	ListCell   *lc;

	foreach(lc, IndexOidsOf(relid))
	{
		if (OidIsValid(indexOid) && lfirst_oid(lc) != indexOid)
			continue;
		if (!get_index_isvalid(lfirst_oid(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot reindex invalid index \"%s\" of distributed table \"%s\"",
							get_rel_name(lfirst_oid(lc)), get_rel_name(relid)),
					 errdetail("A concurrent build that failed left it on some shards only."),
					 errhint("Drop it (DROP INDEX) and create it again.")));
	}
}

/* DistributedTableOf returns relid if it is a distributed table, else InvalidOid. */
static Oid
DistributedTableOf(Oid relid)
{
	if (OidIsValid(relid) && ShardextGetTable(relid) != NULL)
		return relid;
	return InvalidOid;
}

/* IndexOidsOf returns the OIDs of a table's indexes (a new list). */
static List *
IndexOidsOf(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);

	relation_close(rel, AccessShareLock);
	return indexes;
}

/*
 * CreateIndexConcurrently runs a CREATE INDEX CONCURRENTLY of a distributed
 * table: on the coordinator, then on every shard placement (see the file
 * header).  Runs in the portal's memory context, which outlives the
 * transactions committed on the way.
 */
static void
CreateIndexConcurrently(Oid relid, void (*runLocally) (void *arg), void *arg)
{
	MemoryContext portalContext = CurrentMemoryContext;
	List	   *before = IndexOidsOf(relid);
	Oid			indexOid = InvalidOid;
	ShardextTable *table;
	PlacementErrorContext errorContext;
	ErrorContextCallback invalidCallback;
	LockRelId	lockRelId;
	List	   *commands = NIL;
	ListCell   *lc;
	int			i;

	/* PostgreSQL's own build, in transactions of its own */
	runLocally(arg);

	foreach(lc, IndexOidsOf(relid))
		if (!list_member_oid(before, lfirst_oid(lc)))
			indexOid = lfirst_oid(lc);
	if (!OidIsValid(indexOid))
		return;					/* IF NOT EXISTS found the index */

	/*
	 * Invalid until every shard has it, committed so that a failure keeps it
	 * so; the table stays locked against other schema changes meanwhile, as
	 * PostgreSQL's build keeps it (a session lock, which an error releases).
	 */
	lockRelId.relId = relid;
	lockRelId.dbId = MyDatabaseId;
	LockRelationIdForSession(&lockRelId, ShareUpdateExclusiveLock);
	index_set_state_flags(indexOid, INDEX_DROP_CLEAR_VALID);
	CacheInvalidateRelcacheByRelid(relid);
	CommitTransactionCommand();
	StartTransactionCommand();
	MemoryContextSwitchTo(portalContext);

	invalidCallback.callback = InvalidIndexCallback;
	invalidCallback.arg = get_rel_name(indexOid);
	invalidCallback.previous = error_context_stack;
	error_context_stack = &invalidCallback;
	table = ShardextGetTable(relid);
	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" stopped being distributed while its index was built",
						get_rel_name(relid))));
	/* what CREATE INDEX refuses on a distributed table (a unique key
	 * without the distribution column, functions nodes lack) */
	CheckNewIndex(relid, indexOid, table->distAttno,
				  IsSingleShardTable(table) ? 'n' :
				  table->type == DIST_RANGE ? 'r' :
								 table->type == DIST_DIRECTORY ? 'd' : 'h');
	error_context_stack = invalidCallback.previous;
	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];
		char	   *sql = ShardIndexCommand(indexOid, shard->relationName,
											shard->shardId, true);

		commands = AddPlacementCommands(commands, shard, sql);
	}
	errorContext.action = psprintf("creating index \"%s\" concurrently",
								   get_rel_name(indexOid));
	errorContext.consequence =
		psprintf("The index \"%s\" is left invalid: drop it (DROP INDEX) and create it again.",
				 get_rel_name(indexOid));
	RunOnPlacements(commands, false, true, &errorContext);

	index_set_state_flags(indexOid, INDEX_CREATE_SET_VALID);
	CacheInvalidateRelcacheByRelid(relid);
	UnlockRelationIdForSession(&lockRelId, ShareUpdateExclusiveLock);
}

/* InvalidIndexCallback says that the index (arg: its name) is left invalid. */
static void
InvalidIndexCallback(void *arg)
{
	errcontext("index \"%s\" is left invalid: drop it (DROP INDEX) and create it again",
			   (const char *) arg);
}

/*
 * DropIndexConcurrently runs a DROP INDEX CONCURRENTLY of an index of a
 * distributed table: the checks PostgreSQL makes first, then the shards'
 * indexes (IF EXISTS: a failed build may have left some without), then the
 * coordinator's.
 */
static void
DropIndexConcurrently(Oid indexOid, Oid relid, bool isTopLevel,
					  void (*runLocally) (void *arg), void *arg)
{
	ShardextTable *table = ShardextGetTable(relid);
	PlacementErrorContext errorContext;
	List	   *commands = NIL;
	int			i;

	PreventInTransactionBlock(isTopLevel, "DROP INDEX CONCURRENTLY");
	if (!pg_class_ownercheck(indexOid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, get_rel_name(indexOid));

	/* an index of a constraint: PostgreSQL's DROP INDEX says it cannot */
	if (OidIsValid(get_index_constraint(indexOid)))
	{
		runLocally(arg);
		return;
	}
	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];
		char	   *sql = psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s",
								   ShardIndexName(relid, indexOid, shard->shardId));

		commands = AddPlacementCommands(commands, shard, sql);
	}
	errorContext.action = psprintf("dropping index \"%s\" concurrently",
								   get_rel_name(indexOid));
	errorContext.consequence = NULL;
	RunOnPlacements(commands, false, false, &errorContext);
	runLocally(arg);
}

/*
 * ReindexShards runs a REINDEX of the indexes of distributed tables (or of
 * one index, indexOid, of the one table) on the coordinator, then on every
 * shard placement: in the remote transactions, or, CONCURRENTLY, outside of
 * them.  The names are taken first: REINDEX CONCURRENTLY replaces an index
 * by a new one.  The TABLESPACE option stays on the coordinator (a node may
 * not have the tablespace); VERBOSE's reports come only from the
 * coordinator.
 */
static void
ReindexShards(ReindexStmt *stmt, Oid indexOid, List *tables,
			  void (*runLocally) (void *arg), void *arg)
{
	bool		concurrently = false;
	PlacementErrorContext errorContext;
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, stmt->params)
	{
		DefElem    *option = lfirst(lc);

		if (strcmp(option->defname, "concurrently") == 0)
			concurrently = defGetBoolean(option);
	}
	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);
		ShardextTable *table = ShardextGetTable(relid);
		int			i;

		for (i = 0; i < table->shardCount; i++)
		{
			ShardextShard *shard = table->shards[i];
			char	   *sql;

			if (OidIsValid(indexOid))
				sql = psprintf("REINDEX INDEX %s%s", concurrently ? "CONCURRENTLY " : "",
							   ShardIndexName(relid, indexOid, shard->shardId));
			else
				sql = psprintf("REINDEX TABLE %s%s", concurrently ? "CONCURRENTLY " : "",
							   shard->relationName);
			commands = AddPlacementCommands(commands, shard, sql);
		}
	}
	errorContext.action = OidIsValid(indexOid) ?
		psprintf("reindexing index \"%s\"", get_rel_name(indexOid)) :
		pstrdup("reindexing");
	errorContext.consequence = NULL;
	runLocally(arg);
	RunOnPlacements(commands, !concurrently, concurrently, &errorContext);
}

/*
 * ClusterShards runs a CLUSTER of a distributed table on the coordinator,
 * then on every shard placement, in the remote transactions, with the
 * shards' counterpart of the index the coordinator used (named, or the one
 * marked by an earlier CLUSTER).
 */
static void
ClusterShards(Oid relid, void (*runLocally) (void *arg), void *arg)
{
	ShardextTable *table;
	PlacementErrorContext errorContext;
	List	   *commands = NIL;
	Oid			indexOid = InvalidOid;
	ListCell   *lc;
	int			i;

	runLocally(arg);

	/* the index CLUSTER used is the one it marked clustered */
	foreach(lc, IndexOidsOf(relid))
		if (get_index_isclustered(lfirst_oid(lc)))
			indexOid = lfirst_oid(lc);
	if (!OidIsValid(indexOid))
		return;
	table = ShardextGetTable(relid);
	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];

		commands = AddPlacementCommands(commands, shard,
										psprintf("CLUSTER %s USING %s", shard->relationName,
												 ShardObjectName(get_rel_name(indexOid),
																 shard->shardId)));
	}
	errorContext.action = psprintf("clustering table \"%s\"", get_rel_name(relid));
	errorContext.consequence = NULL;
	RunOnPlacements(commands, true, false, &errorContext);
}

/*
 * ShardIndexName returns the schema-qualified, quoted name of index
 * indexOid's counterpart on shard shardId (in the shard's schema, named by
 * ShardObjectName, like constraints' indexes).
 */
static char *
ShardIndexName(Oid relid, Oid indexOid, int64 shardId)
{
	return psprintf("%s.%s",
					quote_identifier(get_namespace_name(get_rel_namespace(relid))),
					ShardObjectName(get_rel_name(indexOid), shardId));
}

/* AddPlacementCommands appends sql for each placement of shard to commands. */
static List *
AddPlacementCommands(List *commands, ShardextShard *shard, char *sql)
{
	ListCell   *lc;

	foreach(lc, shard->placementNodeIds)
	{
		PlacementCommand *command = palloc0(sizeof(PlacementCommand));

		/* the coordinator's copy, read here in this transaction, is locked */
		if (lfirst_int(lc) == COORDINATOR_NODE_ID)
			CheckCopyNotInLocalUse(InvalidOid, shard->relationName);
		command->nodeId = lfirst_int(lc);
		command->sql = sql;
		commands = lappend(commands, command);
	}
	return commands;
}

/*
 * RunOnPlacements runs each command on its node, nodes at the same time and
 * each node's commands one after the other: in the remote transaction
 * (inTransaction), or on the node's connection outside any (statements such
 * as CREATE INDEX CONCURRENTLY; the connection must not be in one).
 * waitsForSnapshots: the commands wait for older snapshots to go (CREATE
 * INDEX and REINDEX CONCURRENTLY), so this backend must hold none.
 */
static void
RunOnPlacements(List *commands, bool inTransaction, bool waitsForSnapshots,
				PlacementErrorContext *context)
{
	ErrorContextCallback callback;
	List	   *pending = list_copy(commands);

	context->current = NULL;
	callback.callback = PlacementErrorCallback;
	callback.arg = context;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	PG_TRY();
	{
		while (pending != NIL)
		{
			List	   *round = NIL;
			List	   *nodesInRound = NIL;
			List	   *later = NIL;
			ListCell   *lc;

			/* the first pending command of each node */
			foreach(lc, pending)
			{
				PlacementCommand *command = lfirst(lc);

				if (list_member_int(nodesInRound, command->nodeId))
					later = lappend(later, command);
				else
				{
					nodesInRound = lappend_int(nodesInRound, command->nodeId);
					round = lappend(round, command);
				}
			}

			/* every connection first: opening one reads the catalog */
			foreach(lc, round)
			{
				PlacementCommand *command = lfirst(lc);
				NodeConnection *nc;

				context->current = command;
				nc = inTransaction ? GetNodeConnectionInTransaction(command->nodeId, true) :
					GetNodeConnection(command->nodeId);
				if (!inTransaction && nc->inTransaction)
					ereport(ERROR,
							(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
							 errmsg("node %s is in use by this transaction", nc->label)));
				command->nc = nc;
			}

			/*
			 * A node waiting for this backend's snapshot to go (CREATE INDEX
			 * CONCURRENTLY waits for older snapshots, and the coordinator may be
			 * a node) would wait forever: none is held from the moment the
			 * coordinator's own statement is sent (last) until all have answered,
			 * and no deadlock check (catalog lookups) runs meanwhile.
			 */
			if (waitsForSnapshots)
				DeadlockDetectionPaused = true;
			foreach(lc, round)
			{
				PlacementCommand *command = lfirst(lc);

				if (command->nodeId == COORDINATOR_NODE_ID)
					continue;
				context->current = command;
				SendRemoteStatements(command->nc, command->sql);
			}
			foreach(lc, round)
			{
				PlacementCommand *command = lfirst(lc);

				if (command->nodeId != COORDINATOR_NODE_ID)
					continue;
				context->current = command;
				if (waitsForSnapshots)
				{
					InvalidateCatalogSnapshot();
					if (ActiveSnapshotSet() || TransactionIdIsValid(MyProc->xmin))
						elog(ERROR, "a snapshot is held while the coordinator runs an index statement on its shards");
				}
				SendRemoteStatements(command->nc, command->sql);
			}
			foreach(lc, round)
			{
				PlacementCommand *command = lfirst(lc);
				ListCell   *rc;

				context->current = command;
				foreach(rc, GetRemoteResults(command->nc))
					PQclear(lfirst(rc));
			}
			pending = later;
		}
	}
	PG_FINALLY();
	{
		DeadlockDetectionPaused = false;
	}
	PG_END_TRY();
	error_context_stack = callback.previous;
}

/* PlacementErrorCallback names the statement and placement that failed. */
static void
PlacementErrorCallback(void *arg)
{
	PlacementErrorContext *context = arg;

	if (context->current == NULL)
		return;
	errcontext("%s on node %d: %s", context->action, context->current->nodeId,
			   context->current->sql);
	if (context->consequence != NULL)
		errcontext("%s", context->consequence);
}
