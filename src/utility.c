/*-------------------------------------------------------------------------
 *
 * utility.c
 *	  The ProcessUtility hook: DDL, TRUNCATE, COPY and DROP on distributed
 *	  tables.
 *
 * - DDL on a distributed table (ALTER TABLE, RENAME, SET SCHEMA, CREATE
 *   and DROP INDEX, ...) runs locally, then ddl.c applies the resulting
 *   change of the table's shape to every shard in the remote transactions.
 * - TRUNCATE truncates the shards too.
 * - VACUUM and ANALYZE reach the shards, and ANALYZE gathers the
 *   coordinator's statistics of distributed tables (statistics.c).
 * - COPY FROM routes the rows to the shards; COPY TO reads the shards
 *   through a query.
 * - Dropping a distributed table (DROP TABLE, DROP SCHEMA ... CASCADE, DROP
 *   OWNED) is noticed by the object access hook, which remembers the
 *   table's shards; when the utility statement ends, the shards are dropped
 *   and the table is removed from the catalog.
 * - DROP EXTENSION shardext is refused while tables are distributed, and
 *   otherwise first drops the worker nodes' foreign servers (made at run
 *   time, so not members of the extension).
 *
 * IDENTIFICATION
 *	  src/utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/parallel.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/heap.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/dependency.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "shardext/catalog.h"
#include "shardext/copy.h"
#include "shardext/ddl.h"
#include "shardext/deparse.h"
#include "shardext/distribute.h"
#include "shardext/foreign_keys.h"
#include "shardext/index_commands.h"
#include "shardext/hooks.h"
#include "shardext/maintenance.h"
#include "shardext/metadata_cache.h"
#include "shardext/node.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/remote_scan.h"
#include "shardext/statistics.h"
#include "shardext/self_connection.h"
#include "shardext/shard_ddl.h"
#include "shardext/transaction.h"

/* a dropped distributed table whose shards are still to be dropped */
typedef struct PendingDrop
{
	Oid			relid;
	List	   *shardNames;		/* char *, parallel to nodeIds */
	List	   *nodeIds;
} PendingDrop;

/* what to do with one placement of a shard (ForEachPlacement) */
typedef void (*PlacementFunction) (ShardextTable *table, ShardextShard *shard,
								   int32 nodeId, void *arg);

/* a GRANT or REVOKE being applied to shards */
typedef struct GrantContext
{
	GrantStmt  *stmt;
	const char *privileges;		/* the privilege list, as SQL */
	List	   *grantees;		/* role names, NULL for PUBLIC */
	List	   *known;			/* grantees found per node (GranteesOnNode) */
	bool		coordinatorDone;	/* the statement changed the coordinator's
									 * copies of reference tables already */
} GrantContext;

static ProcessUtility_hook_type PrevProcessUtility = NULL;

/* set while a DDL statement of the coordinator's connection to itself runs */
static bool HidingFromEventTriggers = false;
static bool NeedsTopLevel(Node *parsetree);

/* set while a COPY into a local table runs (a restore may fill a copy) */
static bool CopyingLocally = false;
static ExecutorCheckPerms_hook_type PrevCheckPerms = NULL;
static bool ShardextCheckPerms(List *rangeTable, bool ereportOnViolation);
static void CheckNotCoordinatorCopy(Oid relid, const char *action);
static void CheckStatementSparesCopies(Node *parsetree);
static void CallNextProcessUtilityFlagged(bool *flag, PlannedStmt *pstmt,
										  const char *queryString,
										  bool readOnlyTree,
										  ProcessUtilityContext context,
										  ParamListInfo params,
										  QueryEnvironment *queryEnv,
										  DestReceiver *dest,
										  QueryCompletion *qc);
static object_access_hook_type PrevObjectAccessHook = NULL;

/* tables dropped in the current transaction, in TopTransactionContext */
static List *PendingDrops = NIL;

/* set while DROP EXTENSION shardext runs */
static bool DroppingExtension = false;

/* the tables COPY FROM filled in this session while check_function_bodies was off */
static List *RestoredCopies = NIL;

static void ShardextProcessUtility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree,
								   ProcessUtilityContext context,
								   ParamListInfo params,
								   QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);
static void CallNextProcessUtility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree,
								   ProcessUtilityContext context,
								   ParamListInfo params,
								   QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);
static void ShardextObjectAccess(ObjectAccessType access, Oid classId,
								 Oid objectId, int subId, void *arg);
static void ForgetPendingDrops(XactEvent event, void *arg);
static void ProcessPendingDrops(void);
static bool DropsShardextExtension(Node *parsetree);
static bool HandleRestoreStatement(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree, ProcessUtilityContext context,
								   ParamListInfo params, QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);
static bool ShardsHaveObject(ShardextTable *table, const char *name,
							 bool constraint);
static void RefuseCleanOf(Oid relid);
static void RefuseRestoreInto(Oid relid, const char *action);
static Oid	RestoredTableOf(RangeVar *rangeVar, bool isIndex);
static void RefuseUnsupportedLinks(Node *parsetree);
static void GrantOnShards(GrantStmt *stmt, bool coordinatorDone);
static List *TablesNotOwnedBy(List *roles);
static bool ChangesCoordinatorCopies(Node *parsetree);
static bool RenamesForCopies(Node *parsetree);
static void DropOwnedOnNodes(DropOwnedStmt *stmt, List *tables);
static void PropagateRolesAndSchemas(Node *parsetree, List *reassignedSchemas);
static Oid	ObjectOwner(int cacheId, Oid objectId);
static List *SchemasOwnedBy(List *roles);
static void GrantRoleOnNodes(GrantRoleStmt *stmt);
static void SchemaOwnerOnNodes(const char *schemaName);
static void StopWorkerOfDatabaseUsed(Node *parsetree);
static List *DistributedTablesInSchemas(List *schemaNames);
static char *GrantSql(GrantStmt *stmt, const char *privileges, const char *object,
					  const char *to);
static void GrantOnPlacement(ShardextTable *table, ShardextShard *shard, int32 nodeId,
							 void *arg);
static void ForEachPlacement(List *rangeVars, PlacementFunction fn, void *arg);
static const char *GranteesOnNode(NodeConnection *nc, int32 nodeId, List *grantees,
								  List **known);
static bool IsDistributedRangeVar(RangeVar *rangeVar);
static void RefusePublishedTables(List *objects);
static void RefuseForeignKeyTo(Node *node);
static void DropNodeServers(void);
static List *TablesChangedByStatement(Node *parsetree);
static List *DroppedDistributedTables(DropStmt *stmt);
static void RenameDistributionColumn(Node *parsetree);
static Oid	DistributedRelidOfRangeVar(RangeVar *rangeVar, bool isIndex);
static void CheckDistributionColumnKept(AlterTableStmt *stmt, Oid relid);
static void TruncateShards(TruncateStmt *stmt);
static void AppendToNodeCommand(List **nodeIds, List **commands, int32 nodeId,
								const char *prefix, const char *name);
static bool HandleCopy(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc);
static List *TransformCopyWhere(ParseState *pstate, Relation rel, Node *rawWhere);
static void CheckCopyWhereColumns(Relation rel, Node *where);
static List *CopySentAttnums(Relation rel, ShardextTable *table, List *attlist);
static uint64 CopyIntoDistributedTable(CopyStmt *stmt, const char *queryString,
									   Oid relid);

/*
 * ShardextInstallUtilityHook installs the ProcessUtility and object access
 * hooks, keeping the previous ones.
 */
void
ShardextInstallUtilityHook(void)
{
	PrevProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = ShardextProcessUtility;
	PrevObjectAccessHook = object_access_hook;
	object_access_hook = ShardextObjectAccess;
	PrevCheckPerms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = ShardextCheckPerms;
	RegisterXactCallback(ForgetPendingDrops, NULL);
}

/*
 * CheckNotCoordinatorCopy raises an error when relid is a relation through
 * which the coordinator holds a shard (the coordinator's copy of a
 * reference table, ...) and this session is not shardext's own connection
 * to the coordinator: changed on its own, the copy would no longer match
 * the other copies, or the catalog.  action is what was refused ("write
 * to", "drop", ...).
 */
static void
CheckNotCoordinatorCopy(Oid relid, const char *action)
{
	Oid			table = CoordinatorCopyTable(relid);

	if (!OidIsValid(table) || ServesSelfConnection())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot %s \"%s\", the coordinator's placement of a shard of table \"%s\"",
					action, get_rel_name(relid), get_rel_name(table)),
			 errdetail("shardext changes it together with the other placements of the shard."),
			 errhint("Use table \"%s\" instead.", get_rel_name(table))));
}

/*
 * NeedsTopLevel tells whether a DDL statement refuses to run other than as
 * a top-level statement (the concurrent forms of the index commands, and
 * CLUSTER without a table).
 */
static bool
NeedsTopLevel(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return ((IndexStmt *) parsetree)->concurrent;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->concurrent;
		case T_ReindexStmt:
			foreach(lc, ((ReindexStmt *) parsetree)->params)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "concurrently") == 0)
					return true;
			return false;
		case T_ClusterStmt:
			return true;
		default:
			return false;
	}
}

/*
 * CheckStatementSparesCopies refuses TRUNCATE, DROP TABLE and row security
 * (CREATE POLICY, ENABLE/FORCE ROW LEVEL SECURITY) naming a coordinator's
 * placement of a shard (CheckNotCoordinatorCopy).  Other DDL
 * is left alone: a restore of a dump in place adds the copies' constraints
 * and indexes after the catalog that lists them.
 */
static void
CheckStatementSparesCopies(Node *parsetree)
{
	ListCell   *lc;

	if (!ShardextHasDistributedTables())
		return;
	switch (nodeTag(parsetree))
	{
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) parsetree)->relations)
				CheckNotCoordinatorCopy(RangeVarGetRelid(lfirst(lc), NoLock, true),
										"truncate");
			break;
		case T_DropStmt:
			if (((DropStmt *) parsetree)->removeType != OBJECT_TABLE)
				break;
			foreach(lc, ((DropStmt *) parsetree)->objects)
				CheckNotCoordinatorCopy(RangeVarGetRelid(makeRangeVarFromNameList(lfirst(lc)),
														 NoLock, true),
										"drop");
			break;

			/*
			 * Row security on a copy would make the table's rows depend on
			 * which copy a query reads.
			 */
		case T_CreatePolicyStmt:
			CheckNotCoordinatorCopy(RangeVarGetRelid(((CreatePolicyStmt *) parsetree)->table,
													 NoLock, true),
									"create a policy on");
			break;
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
			{
				AlterTableType subtype = ((AlterTableCmd *) lfirst(lc))->subtype;

				if (subtype == AT_EnableRowSecurity || subtype == AT_ForceRowSecurity)
					CheckNotCoordinatorCopy(RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation,
															 NoLock, true),
											"enable row security on");

				/*
				 * Queries read the copy as the table: its columns must stay
				 * the table's (a restore adds constraints and indexes to it,
				 * never changes a column).
				 */
				if (subtype == AT_DropColumn || subtype == AT_AlterColumnType ||
					subtype == AT_AddColumn ||
					subtype == AT_DropExpression)
					CheckNotCoordinatorCopy(RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation,
															 NoLock, true),
											"change the columns of");
			}
			break;
			/* (ALTER INDEX, VIEW, ... RENAME of a table rename it too) */
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->relation != NULL)
					CheckNotCoordinatorCopy(RangeVarGetRelid(stmt->relation, NoLock, true),
											stmt->renameType == OBJECT_COLUMN ?
											"rename the columns of" : "rename");
			}
			break;
		case T_AlterObjectSchemaStmt:
			if (((AlterObjectSchemaStmt *) parsetree)->relation != NULL)
				CheckNotCoordinatorCopy(RangeVarGetRelid(((AlterObjectSchemaStmt *) parsetree)->relation,
														 NoLock, true),
										"move");
			break;
		default:
			break;
	}
}

/*
 * ShardextCheckPerms, the executor's permission check hook, refuses
 * statements that write to the coordinator's placements of shards directly
 * (CheckNotCoordinatorCopy); reading them is harmless, and so is COPY into
 * them (a restore of a dump in place fills them so, maybe after the
 * catalog that lists them).
 */
static bool
ShardextCheckPerms(List *rangeTable, bool ereportOnViolation)
{
	ListCell   *lc;

	if (PrevCheckPerms != NULL && !PrevCheckPerms(rangeTable, ereportOnViolation))
		return false;

	/*
	 * A parallel worker of a statement checks its tables too; the leader
	 * has refused what this refuses, and the shard map cannot be read in
	 * parallel mode.
	 */
	if (CopyingLocally || IsParallelWorker())
		return true;
	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION &&
			((rte->requiredPerms & (ACL_INSERT | ACL_DELETE)) != 0 ||
			 !bms_is_empty(rte->updatedCols)) &&
			rte->relkind == RELKIND_RELATION)
			CheckNotCoordinatorCopy(rte->relid, "write to");
	}
	return true;
}

/*
 * CallNextProcessUtilityFlagged is CallNextProcessUtility with *flag set
 * while the statement runs (and put back afterwards, whatever happens).
 */
static void
CallNextProcessUtilityFlagged(bool *flag, PlannedStmt *pstmt,
							  const char *queryString, bool readOnlyTree,
							  ProcessUtilityContext context, ParamListInfo params,
							  QueryEnvironment *queryEnv, DestReceiver *dest,
							  QueryCompletion *qc)
{
	bool		saved = *flag;

	*flag = true;
	PG_TRY();
	{
		CallNextProcessUtility(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		*flag = saved;
	}
	PG_END_TRY();
}

/*
 * CallNextProcessUtility runs a statement through the previous hook.  While
 * it runs, statements it executes are not top-level ones, except for the
 * prepared statement of a top-level EXECUTE, which is the whole statement
 * (so it may take the fast path, like a protocol-level execute).
 */
static void
CallNextProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	int			depthIncrement =
		(context == PROCESS_UTILITY_TOPLEVEL &&
		 IsA(pstmt->utilityStmt, ExecuteStmt)) ? 0 : 1;

	Portal		savedClientPortal = ExecuteStmtClientPortal;

	/* the protocol of a top-level EXECUTE is its client portal's */
	if (depthIncrement == 0)
		ExecuteStmtClientPortal = ActivePortal;
	ShardextUtilityDepth += depthIncrement;
	PG_TRY();
	{
		if (PrevProcessUtility != NULL)
			PrevProcessUtility(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		ShardextUtilityDepth -= depthIncrement;
		ExecuteStmtClientPortal = savedClientPortal;
	}
	PG_END_TRY();
}

/* the arguments of a ProcessUtility call, to run it later */
typedef struct NextUtilityCall
{
	PlannedStmt *pstmt;
	const char *queryString;
	bool		readOnlyTree;
	ProcessUtilityContext context;
	ParamListInfo params;
	QueryEnvironment *queryEnv;
	DestReceiver *dest;
	QueryCompletion *qc;
} NextUtilityCall;

/* RunNextUtilityCall runs a NextUtilityCall through the previous hook. */
static void
RunNextUtilityCall(void *arg)
{
	NextUtilityCall *call = arg;

	CallNextProcessUtility(call->pstmt, call->queryString, call->readOnlyTree,
						   call->context, call->params, call->queryEnv,
						   call->dest, call->qc);
}

/*
 * ShardextProcessUtility handles the utility statements that concern
 * distributed tables around their local execution.
 */
static void
ShardextProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	List	   *shapes = NIL;
	List	   *volatile reassignedSchemas = NIL;
	List	   *volatile keptTables = NIL;
	TypeStatement *typeStatement;
	ListCell   *lc;

	/*
	 * The DDL shardext runs on the coordinator's copies through its
	 * connection to itself is not shown to event triggers: the user's
	 * statement was (see self_connection.c).  Run as a subcommand, a
	 * statement fires none; those that must run at top level (the
	 * concurrent index commands) run as session_replication_role =
	 * replica would, which leaves out the usual kind (ENABLE).
	 */
	if (!HidingFromEventTriggers &&
		GetCommandLogLevel(parsetree) == LOGSTMT_DDL && ServesSelfConnection())
	{
		int			savedRole = SessionReplicationRole;
		volatile bool topLevelOnly = NeedsTopLevel(parsetree);

		HidingFromEventTriggers = true;
		if (topLevelOnly)
			SessionReplicationRole = SESSION_REPLICATION_ROLE_REPLICA;
		PG_TRY();
		{
			ShardextProcessUtility(pstmt, queryString, readOnlyTree,
								   topLevelOnly ? context : PROCESS_UTILITY_SUBCOMMAND,
								   params, queryEnv, dest, qc);
		}
		PG_FINALLY();
		{
			HidingFromEventTriggers = false;
			SessionReplicationRole = savedRole;
		}
		PG_END_TRY();
		return;
	}

	StopWorkerOfDatabaseUsed(parsetree);

	/*
	 * Statements that touch no table pass untouched, before anything reads
	 * the shard map: reading it takes a snapshot, after which BEGIN
	 * ISOLATION LEVEL and SET TRANSACTION would be refused.
	 */
	if (ShardextLocalUtilityOnly ||
		IsA(parsetree, TransactionStmt) || IsA(parsetree, VariableSetStmt) ||
		IsA(parsetree, VariableShowStmt) || IsA(parsetree, DiscardStmt) ||
		IsA(parsetree, ListenStmt) || IsA(parsetree, NotifyStmt) ||
		IsA(parsetree, UnlistenStmt) || IsA(parsetree, CheckPointStmt) ||
		IsA(parsetree, DeallocateStmt) || IsA(parsetree, ConstraintsSetStmt) ||
		!ShardextExtensionLoaded())
	{
		CallNextProcessUtility(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);
		if (IsA(parsetree, VariableSetStmt))
			ForgetPlansOfOtherStyles();
		/* deferred constraints are checked by the nodes */
		if (IsA(parsetree, ConstraintsSetStmt) && !ShardextLocalUtilityOnly &&
			(IsTransactionBlock() || context != PROCESS_UTILITY_TOPLEVEL) &&
			ShardextExtensionLoaded() && ShardextHasDistributedTables())
			SetRemoteConstraintMode((ConstraintsSetStmt *) parsetree);
		return;
	}

	/*
	 * A coordinator dump being restored (in place, or wrongly: --clean):
	 * dumps turn check_function_bodies off and empty the search path, which
	 * sessions at work hardly ever do.
	 */
	if (!check_function_bodies && namespace_search_path != NULL &&
		namespace_search_path[0] == '\0' &&
		HandleRestoreStatement(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc))
		return;

	CheckStatementSparesCopies(parsetree);

	if (DropsShardextExtension(parsetree))
	{
		if (ShardextHasDistributedTables())
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop extension %s while tables are distributed",
							list_member(((DropStmt *) parsetree)->objects,
										makeString("shardext")) ?
							"shardext" : "postgres_fdw"),
					 errhint("Call undistribute_table() on each table in "
							 "shardext.tables, or drop them, first.")));
		/* the commit of the nodes' work records its outcome in the catalog */
		if (RemoteTransactionsOpen())
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot drop extension shardext in a transaction that worked on the nodes"),
					 errdetail("Committing that work needs the extension's catalog."),
					 errhint("Commit the transaction first, then drop the extension in a transaction of its own.")));
		DropNodeServers();
		CallNextProcessUtilityFlagged(&DroppingExtension, pstmt, queryString,
									  readOnlyTree, context, params, queryEnv,
									  dest, qc);
		return;
	}

	if (!ShardextHasDistributedTables())
	{
		List	   *owned = IsA(parsetree, ReassignOwnedStmt) ?
			SchemasOwnedBy(((ReassignOwnedStmt *) parsetree)->roles) : NIL;

		typeStatement = BeforeTypeStatement(parsetree);
		CallNextProcessUtility(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);
		/* roles, schemas and types reach the workers before any table is distributed */
		PropagateRolesAndSchemas(parsetree, owned);
		if (typeStatement != NULL)
			PropagateTypeStatement(typeStatement);
		ProcessPendingDrops();
		return;
	}

	if (IsA(parsetree, CopyStmt))
	{
		if (HandleCopy(pstmt, queryString, readOnlyTree, context, params,
					   queryEnv, dest, qc))
			return;
		/* into a local table (ShardextCheckPerms lets it fill a copy) */
		if (((CopyStmt *) parsetree)->is_from)
		{
			CallNextProcessUtilityFlagged(&CopyingLocally, pstmt, queryString,
										  readOnlyTree, context, params, queryEnv,
										  dest, qc);
			return;
		}
	}

	RefuseUnsupportedLinks(parsetree);

	/* CREATE/DROP INDEX CONCURRENTLY and REINDEX (index_commands.c) */
	{
		NextUtilityCall call = {pstmt, queryString, readOnlyTree, context,
		params, queryEnv, dest, qc};

		if (RunIndexStatement(parsetree, context == PROCESS_UTILITY_TOPLEVEL,
							  RunNextUtilityCall, &call))
		{
			ProcessPendingDrops();
			return;
		}
	}

	foreach(lc, TablesChangedByStatement(parsetree))
	{
		TableShape *shape = CaptureTableShape(lfirst_oid(lc));

		CaptureStatementDetails(shape, parsetree);
		shapes = lappend(shapes, shape);
	}
	RenameDistributionColumn(parsetree);
	if (IsA(parsetree, ReassignOwnedStmt))
		reassignedSchemas = SchemasOwnedBy(((ReassignOwnedStmt *) parsetree)->roles);
	if (IsA(parsetree, DropOwnedStmt))
		keptTables = TablesNotOwnedBy(((DropOwnedStmt *) parsetree)->roles);
	if (ChangesCoordinatorCopies(parsetree))
		NoteCopiesChangedHere(CreateCommandName(parsetree));
	typeStatement = BeforeTypeStatement(parsetree);

	/*
	 * ALTER TABLE of a distributed table checks a new foreign key on the
	 * coordinator's empty tables; the shards check their rows.
	 */
	if (shapes != NIL && IsA(parsetree, AlterTableStmt))
		CallNextProcessUtilityFlagged(&ShardextPlanCoordinatorTables, pstmt,
									  queryString, readOnlyTree, context, params,
									  queryEnv, dest, qc);
	else
		CallNextProcessUtility(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);

	if (IsA(parsetree, VacuumStmt))
		VacuumDistributedTables((VacuumStmt *) parsetree);
	if (IsA(parsetree, TruncateStmt))
		TruncateShards((TruncateStmt *) parsetree);
	if (IsA(parsetree, GrantStmt) &&
		((GrantStmt *) parsetree)->objtype != OBJECT_SCHEMA)
		GrantOnShards((GrantStmt *) parsetree, false);
	PropagateRolesAndSchemas(parsetree, reassignedSchemas);
	if (IsA(parsetree, DropOwnedStmt))
		DropOwnedOnNodes((DropOwnedStmt *) parsetree, keptTables);
	if (shapes != NIL)
	{
		CommandCounterIncrement();
		PropagateShapeChanges(shapes);
	}
	/* after the shapes: a dropped type's columns went first */
	if (typeStatement != NULL)
		PropagateTypeStatement(typeStatement);

	/*
	 * Cached plans hold the SQL sent to nodes, which names types, labels and
	 * schemas: every backend plans again after they are renamed.
	 */
	if (RenamesForCopies(parsetree) && !IsA(parsetree, AlterDomainStmt))
		CacheInvalidateRelcacheAll();
	ProcessPendingDrops();
}

/*
 * StopWorkerOfDatabaseUsed stops the maintenance worker of the database a
 * statement needs without other sessions (DROP DATABASE, CREATE DATABASE
 * from it as template, renaming it, moving it to another tablespace): the
 * worker's session would make the statement fail.  It starts again when a
 * backend next uses the extension there.
 */
static void
StopWorkerOfDatabaseUsed(Node *parsetree)
{
	const char *name = NULL;
	ListCell   *lc;

	if (IsA(parsetree, DropdbStmt))
		name = ((DropdbStmt *) parsetree)->dbname;
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		name = ((RenameStmt *) parsetree)->subname;
	else if (IsA(parsetree, CreatedbStmt))
	{
		name = "template1";
		foreach(lc, ((CreatedbStmt *) parsetree)->options)
			if (strcmp(((DefElem *) lfirst(lc))->defname, "template") == 0)
				name = defGetString(lfirst(lc));
	}
	else if (IsA(parsetree, AlterDatabaseStmt))
	{
		foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
			if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
				name = ((AlterDatabaseStmt *) parsetree)->dbname;
	}
	if (name != NULL)
		StopMaintenanceWorker(get_database_oid(name, true));
}

/*
 * GranteesOnNode returns the grantees (NULL: PUBLIC) that exist on a node as
 * the text of a GRANT's TO list (empty when none does), asking the node once
 * per statement: *known remembers the answer per node (a List of
 * "nodeId:text" strings).
 */
static const char *
GranteesOnNode(NodeConnection *nc, int32 nodeId, List *grantees, List **known)
{
	char	   *prefix = psprintf("%d:", nodeId);
	StringInfoData to;
	ListCell   *lc;

	foreach(lc, *known)
		if (strncmp(lfirst(lc), prefix, strlen(prefix)) == 0)
			return (char *) lfirst(lc) + strlen(prefix);

	initStringInfo(&to);
	foreach(lc, grantees)
	{
		char	   *name = lfirst(lc);
		const char *values[1];
		PGresult   *res;
		bool		exists;

		if (name == NULL)
		{
			appendStringInfo(&to, "%sPUBLIC", to.len > 0 ? ", " : "");
			continue;
		}
		values[0] = name;
		res = RemoteExecute(nc, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
							1, values);
		exists = (PQntuples(res) == 1);
		PQclear(res);
		if (exists)
			appendStringInfo(&to, "%s%s", to.len > 0 ? ", " : "",
							 quote_identifier(name));
	}
	*known = lappend(*known, psprintf("%s%s", prefix, to.data));
	return to.data;
}

/*
 * PropagateRolesAndSchemas repeats on the workers, after the statement ran
 * here, what it changed of roles and schemas, which matter there whether
 * or not tables are distributed yet: role memberships, schema privileges,
 * and the owners of schemas (of the one ALTER SCHEMA names, or of
 * reassignedSchemas, which REASSIGN OWNED changed).
 */
static void
PropagateRolesAndSchemas(Node *parsetree, List *reassignedSchemas)
{
	ListCell   *lc;

	if (IsA(parsetree, GrantRoleStmt))
		GrantRoleOnNodes((GrantRoleStmt *) parsetree);
	if (IsA(parsetree, GrantStmt) &&
		((GrantStmt *) parsetree)->objtype == OBJECT_SCHEMA)
		GrantOnShards((GrantStmt *) parsetree, false);
	if (IsA(parsetree, AlterOwnerStmt) &&
		((AlterOwnerStmt *) parsetree)->objectType == OBJECT_SCHEMA)
		SchemaOwnerOnNodes(strVal(((AlterOwnerStmt *) parsetree)->object));
	foreach(lc, reassignedSchemas)
		SchemaOwnerOnNodes(strVal(lfirst(lc)));
}

/*
 * RenamesForCopies tells whether a statement changes what the coordinator's
 * copies of reference tables are read through: it renames a schema, a
 * type, an enum label or a composite type's attribute, or changes a
 * composite type's attributes (the copy would be read by the old names and
 * shape through the coordinator's connection to itself until the
 * transaction commits), or checks a domain's new constraint against the
 * copies' rows (which needs locks that connection may hold).
 */
static bool
RenamesForCopies(Node *parsetree)
{
	if (IsA(parsetree, RenameStmt))
	{
		ObjectType	type = ((RenameStmt *) parsetree)->renameType;

		return type == OBJECT_SCHEMA || type == OBJECT_TYPE ||
			type == OBJECT_DOMAIN || type == OBJECT_ATTRIBUTE;
	}
	if (IsA(parsetree, AlterObjectSchemaStmt))
	{
		ObjectType	type = ((AlterObjectSchemaStmt *) parsetree)->objectType;

		return type == OBJECT_TYPE || type == OBJECT_DOMAIN;
	}
	/* ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE: the values change shape */
	if (IsA(parsetree, AlterTableStmt))
		return ((AlterTableStmt *) parsetree)->objtype == OBJECT_TYPE;
	/* a domain constraint checked against the copies' rows (locks them) */
	if (IsA(parsetree, AlterDomainStmt))
	{
		char		subtype = ((AlterDomainStmt *) parsetree)->subtype;

		return subtype == 'C' || subtype == 'V' || subtype == 'O';
	}
	return IsA(parsetree, AlterEnumStmt) &&
		((AlterEnumStmt *) parsetree)->oldVal != NULL;
}

/*
 * ChangesCoordinatorCopies tells whether a statement changes, here, the
 * coordinator's copies of reference tables as well as the tables (what
 * the roles own or may do, privileges of whole schemas), when there are
 * such copies.
 */
static bool
ChangesCoordinatorCopies(Node *parsetree)
{
	ListCell   *lc;

	if (!IsA(parsetree, ReassignOwnedStmt) && !IsA(parsetree, DropOwnedStmt) &&
		!(IsA(parsetree, GrantStmt) &&
		  ((GrantStmt *) parsetree)->targtype == ACL_TARGET_ALL_IN_SCHEMA) &&
		!StatementDropsTypes(parsetree) && !RenamesForCopies(parsetree))
		return false;
	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);

		if (IsReferenceTable(table) &&
			ShardPlacedOn(table->shards[0], COORDINATOR_NODE_ID))
			return true;
	}
	return false;
}

/*
 * TablesNotOwnedBy returns the distributed tables (as RangeVars) that none
 * of roles (RoleSpecs) owns: those that DROP OWNED keeps, taking the roles'
 * privileges on them.
 */
static List *
TablesNotOwnedBy(List *roles)
{
	List	   *rangeVars = NIL;
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		Oid			relid = ((ShardextTable *) lfirst(lc))->relid;
		bool		owned = false;
		ListCell   *rc;

		foreach(rc, roles)
			owned |= (ObjectOwner(RELOID, relid) == get_rolespec_oid(lfirst(rc), true));
		if (!owned)
			rangeVars = lappend(rangeVars,
								makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
											 get_rel_name(relid), -1));
	}
	return rangeVars;
}

/*
 * DropOwnedOnNodes takes from the roles of a DROP OWNED, on the workers,
 * the privileges it took here: on the shards of the distributed tables it
 * kept (tables; the coordinator's copies of reference tables lost them
 * with the statement) and on their schemas.  The tables the roles owned
 * were dropped with their shards.
 */
static void
DropOwnedOnNodes(DropOwnedStmt *stmt, List *tables)
{
	GrantStmt  *revoke = makeNode(GrantStmt);
	List	   *schemas = NIL;
	ListCell   *lc;

	revoke->is_grant = false;
	revoke->targtype = ACL_TARGET_OBJECT;
	revoke->objtype = OBJECT_TABLE;
	revoke->objects = tables;
	revoke->privileges = NIL;
	revoke->grantees = stmt->roles;
	revoke->behavior = DROP_CASCADE;
	GrantOnShards(revoke, true);

	foreach(lc, tables)
	{
		char	   *schema = ((RangeVar *) lfirst(lc))->schemaname;

		if (get_namespace_oid(schema, true) != InvalidOid &&
			!list_member(schemas, makeString(schema)))
			schemas = lappend(schemas, makeString(schema));
	}
	if (schemas == NIL)
		return;
	revoke->objtype = OBJECT_SCHEMA;
	revoke->objects = schemas;
	GrantOnShards(revoke, true);
}

/* ObjectOwner returns the owner of a relation (RELOID) or schema (NAMESPACEOID). */
static Oid
ObjectOwner(int cacheId, Oid objectId)
{
	HeapTuple	tuple = SearchSysCache1(cacheId, ObjectIdGetDatum(objectId));
	Oid			owner = InvalidOid;

	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	if (cacheId == RELOID)
		owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	else if (cacheId == NAMESPACEOID)
		owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * SchemasOwnedBy returns the names of the schemas one of roles (RoleSpecs)
 * owns: REASSIGN OWNED gives them a new owner, on the workers that have
 * them too.
 */
static List *
SchemasOwnedBy(List *roles)
{
	List	   *names = NIL;
	List	   *roleIds = NIL;
	Relation	namespaceRel;
	SysScanDesc scan;
	HeapTuple	tuple;
	ListCell   *lc;

	foreach(lc, roles)
		roleIds = lappend_oid(roleIds, get_rolespec_oid(lfirst(lc), true));
	namespaceRel = table_open(NamespaceRelationId, AccessShareLock);
	scan = systable_beginscan(namespaceRel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_namespace form = (Form_pg_namespace) GETSTRUCT(tuple);

		if (list_member_oid(roleIds, form->nspowner))
			names = lappend(names, makeString(pstrdup(NameStr(form->nspname))));
	}
	systable_endscan(scan);
	table_close(namespaceRel, AccessShareLock);
	return names;
}

/*
 * GrantRoleOnNodes grants or revokes, on the workers, the role memberships
 * a GRANT role TO role (or REVOKE) changed here, between the roles that
 * exist on each node: a node checks privileges as the mapped node role, and
 * privileges granted to a group role reach its members only through their
 * membership there.
 */
static void
GrantRoleOnNodes(GrantRoleStmt *stmt)
{
	List	   *granted = NIL;
	List	   *members = NIL;
	List	   *knownGranted = NIL;
	List	   *knownMembers = NIL;
	ListCell   *lc;

	foreach(lc, stmt->granted_roles)
		granted = lappend(granted, ((AccessPriv *) lfirst(lc))->priv_name);
	foreach(lc, stmt->grantee_roles)
		members = lappend(members, get_rolespec_name(lfirst(lc)));

	foreach(lc, NodesReachable(stmt->is_grant ? "GRANT" : "REVOKE"))
	{
		ShardextNode *node = lfirst(lc);
		NodeConnection *nc = GetNodeConnectionInTransaction(node->nodeId, true);
		const char *roles = GranteesOnNode(nc, node->nodeId, granted, &knownGranted);
		const char *to = GranteesOnNode(nc, node->nodeId, members, &knownMembers);

		if (roles[0] == '\0' || to[0] == '\0')
			continue;
		if (stmt->is_grant)
			RemoteExecuteCommand(nc, psprintf("GRANT %s TO %s%s", roles, to,
											  stmt->admin_opt ? " WITH ADMIN OPTION" : ""));
		else
			RemoteExecuteCommand(nc, psprintf("REVOKE %s%s FROM %s%s",
											  stmt->admin_opt ? "ADMIN OPTION FOR " : "",
											  roles, to,
											  stmt->behavior == DROP_CASCADE ? " CASCADE" : ""));
	}
}

/*
 * SchemaOwnerOnNodes gives schema schemaName, on the workers that have it,
 * the owner it now has here, when that role exists there (as ALTER TABLE
 * ... OWNER TO does for shards).
 */
static void
SchemaOwnerOnNodes(const char *schemaName)
{
	Oid			namespaceId = get_namespace_oid(schemaName, true);
	char	   *owner;
	char	   *alter;
	char	   *command;
	ListCell   *lc;

	if (!OidIsValid(namespaceId))
		return;
	owner = GetUserNameFromId(ObjectOwner(NAMESPACEOID, namespaceId), false);
	alter = psprintf("ALTER SCHEMA %s OWNER TO %s", quote_identifier(schemaName),
					 quote_identifier(owner));
	command = DoBlock(psprintf("BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles "
							   "WHERE rolname = %s) AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace "
							   "WHERE nspname = %s) THEN EXECUTE %s; END IF; END",
							   quote_literal_cstr(owner), quote_literal_cstr(schemaName),
							   quote_literal_cstr(alter)));
	foreach(lc, NodesReachable("ALTER SCHEMA"))
		RemoteExecuteCommand(GetNodeConnectionInTransaction(((ShardextNode *) lfirst(lc))->nodeId,
															true),
							 command);
}

/*
 * GrantOnShards gives the shards of the distributed tables a GRANT or REVOKE
 * names (and the schemas that hold distributed tables, on the workers) the
 * same privileges, for the grantees that exist on each node (a
 * role may exist on the coordinator only, when the user mappings name other
 * node roles): nodes are reached as the current role's mapping, whose node
 * role needs access to the shards as the role has to the table.
 */
static void
GrantOnShards(GrantStmt *stmt, bool coordinatorDone)
{
	StringInfoData privileges;
	List	   *grantees = NIL;
	List	   *known = NIL;
	List	   *objects = stmt->objects;
	GrantContext context;
	ListCell   *lc;

	if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA && stmt->objtype == OBJECT_TABLE)
		objects = DistributedTablesInSchemas(stmt->objects);
	else if (stmt->targtype != ACL_TARGET_OBJECT ||
			 (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_SCHEMA))
		return;

	initStringInfo(&privileges);
	if (stmt->privileges == NIL)
		appendStringInfoString(&privileges, "ALL PRIVILEGES");
	foreach(lc, stmt->privileges)
	{
		AccessPriv *priv = lfirst(lc);
		ListCell   *cc;

		appendStringInfo(&privileges, "%s%s", privileges.len > 0 ? ", " : "",
						 priv->priv_name ? priv->priv_name : "ALL PRIVILEGES");
		foreach(cc, priv->cols)
			appendStringInfo(&privileges, "%s%s", cc == list_head(priv->cols) ? " (" : ", ",
							 quote_identifier(strVal(lfirst(cc))));
		if (priv->cols != NIL)
			appendStringInfoChar(&privileges, ')');
	}
	foreach(lc, stmt->grantees)
	{
		RoleSpec   *role = lfirst(lc);

		grantees = lappend(grantees, role->roletype == ROLESPEC_PUBLIC ? NULL :
						   get_rolespec_name(role));
	}

	/*
	 * schemas: on every worker that has them (shards live in them, or did:
	 * a schema stays on the nodes when its last distributed table goes, and
	 * the next one made there needs the privileges it has here)
	 */
	if (stmt->objtype == OBJECT_SCHEMA)
	{
		foreach(lc, NodesReachable(stmt->is_grant ? "GRANT" : "REVOKE"))
		{
			ShardextNode *node = lfirst(lc);
			ListCell   *sc;
			NodeConnection *nc;
			const char *to;

			nc = GetNodeConnectionInTransaction(node->nodeId, true);
			to = GranteesOnNode(nc, node->nodeId, grantees, &known);
			if (to[0] == '\0')
				continue;
			foreach(sc, stmt->objects)
			{
				const char *values[1] = {strVal(lfirst(sc))};
				PGresult   *res;
				bool		exists;

				res = RemoteExecute(nc, "SELECT 1 FROM pg_catalog.pg_namespace "
									"WHERE nspname = $1", 1, values);
				exists = (PQntuples(res) == 1);
				PQclear(res);
				if (!exists)
					continue;
				RemoteExecuteCommand(nc, GrantSql(stmt, privileges.data,
												  psprintf("SCHEMA %s",
														   quote_identifier(strVal(lfirst(sc)))),
												  to));
			}
		}
		return;
	}

	context.stmt = stmt;
	context.privileges = privileges.data;
	context.grantees = grantees;
	context.known = NIL;
	context.coordinatorDone = coordinatorDone;
	ForEachPlacement(objects, GrantOnPlacement, &context);
}

/*
 * DistributedTablesInSchemas returns the distributed tables in the schemas
 * named (a List of String), as RangeVars: what GRANT ... ON ALL TABLES IN
 * SCHEMA changed that has shards.
 */
static List *
DistributedTablesInSchemas(List *schemaNames)
{
	List	   *rangeVars = NIL;
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);
		char	   *schema = get_namespace_name(get_rel_namespace(table->relid));
		ListCell   *sc;

		if (schema == NULL)
			continue;
		foreach(sc, schemaNames)
			if (strcmp(strVal(lfirst(sc)), schema) == 0)
				rangeVars = lappend(rangeVars,
									makeRangeVar(schema, get_rel_name(table->relid), -1));
	}
	return rangeVars;
}

/* GrantOnPlacement runs a GrantContext's GRANT or REVOKE on one placement. */
static void
GrantOnPlacement(ShardextTable *table, ShardextShard *shard, int32 nodeId,
				 void *arg)
{
	GrantContext *context = (GrantContext *) arg;
	GrantStmt  *stmt = context->stmt;
	NodeConnection *nc;
	const char *to;

	/*
	 * GRANT ... ON ALL TABLES IN SCHEMA has already changed the coordinator's
	 * copy of a reference table in that schema, here; the same change made
	 * again through the connection to ourselves would wait for our own lock.
	 */
	if (nodeId == COORDINATOR_NODE_ID && context->coordinatorDone)
		return;
	if (nodeId == COORDINATOR_NODE_ID && stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
	{
		Oid			copy = CoordinatorCopyRelid(shard->relationName);
		ListCell   *lc;

		foreach(lc, stmt->objects)
			if (OidIsValid(copy) &&
				get_rel_namespace(copy) == get_namespace_oid(strVal(lfirst(lc)), true))
				return;
	}

	nc = GetNodeConnectionInTransaction(nodeId, true);
	to = GranteesOnNode(nc, nodeId, context->grantees, &context->known);
	if (to[0] == '\0')
		return;
	RemoteExecuteCommand(nc, GrantSql(stmt, context->privileges,
									  shard->relationName, to));
}

/*
 * GrantSql returns the GRANT or REVOKE of stmt for object (as SQL: a shard's
 * name, or "SCHEMA name") and the grantees to.
 */
static char *
GrantSql(GrantStmt *stmt, const char *privileges, const char *object,
		 const char *to)
{
	if (stmt->is_grant)
		return psprintf("GRANT %s ON %s TO %s%s", privileges, object, to,
						stmt->grant_option ? " WITH GRANT OPTION" : "");
	return psprintf("REVOKE %s%s ON %s FROM %s%s",
					stmt->grant_option ? "GRANT OPTION FOR " : "",
					privileges, object, to,
					stmt->behavior == DROP_CASCADE ? " CASCADE" : "");
}

/* IsDistributedRangeVar tells whether a RangeVar names a distributed table. */
static bool
IsDistributedRangeVar(RangeVar *rangeVar)
{
	Oid			relid = rangeVar ? RangeVarGetRelid(rangeVar, NoLock, true) : InvalidOid;

	return OidIsValid(relid) && ShardextGetTable(relid) != NULL;
}

/*
 * RefusePublishedTables refuses a publication of distributed, reference or
 * federated tables (named in CREATE or ALTER PUBLICATION): the
 * coordinator's table, whose changes logical replication sends, never
 * changes; its rows are written in the shards on the nodes.
 */
static void
RefusePublishedTables(List *objects)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		PublicationObjSpec *object = lfirst(lc);
		RangeVar   *relation;

		if (object->pubobjtype != PUBLICATIONOBJ_TABLE || object->pubtable == NULL)
			continue;
		relation = object->pubtable->relation;
		if (IsDistributedRangeVar(relation))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot publish table \"%s\" of shardext", relation->relname),
					 errdetail("Its rows are written in its shards on the nodes; the "
							   "coordinator's table, whose changes a publication sends, "
							   "never changes."),
					 errhint("Publish the shards on the nodes (shardext.shards lists them).")));
	}
}

/*
 * RefuseForeignKeyTo refuses a foreign key constraint of a local table to a
 * distributed table.
 */
static void
RefuseForeignKeyTo(Node *node)
{
	Constraint *constraint = (Constraint *) node;
	ShardextTable *table;

	if (node == NULL || !IsA(node, Constraint) ||
		constraint->contype != CONSTR_FOREIGN ||
		!IsDistributedRangeVar(constraint->pktable))
		return;
	table = ShardextGetTable(RangeVarGetRelid(constraint->pktable, NoLock, false));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a local table cannot reference %s table \"%s\"",
					IsSingleShardTable(table) ?
					DistributionTypeName(table->type) : "distributed",
					constraint->pktable->relname),
			 errdetail("Deletes and updates of its rows run on the nodes, which cannot "
					   "check rows referencing them here."),
			 errhint("Create the table without the foreign key, distribute it (co-located "
					 "with \"%s\", or as a reference table), then add the foreign key with "
					 "ALTER TABLE.", constraint->pktable->relname)));
}

/*
 * RefuseUnsupportedLinks refuses statements that would tie a distributed
 * table to something its shards cannot follow: becoming a partition, a
 * parent or child of inheritance, the target of a foreign key, getting a
 * trigger; and dropping the foreign server of a registered node, or
 * postgres_fdw with shardext.  create_distributed_table refuses such tables;
 * this keeps them from being made so afterwards (rows would go to the
 * coordinator's empty table, or checks and triggers would not run).
 */
static void
RefuseUnsupportedLinks(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
				bool		distributed = IsDistributedRangeVar(stmt->relation);

				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst(lc);

					if ((cmd->subtype == AT_AttachPartition &&
						 (distributed ||
						  IsDistributedRangeVar(((PartitionCmd *) cmd->def)->name))) ||
						(cmd->subtype == AT_AddInherit &&
						 (distributed || IsDistributedRangeVar((RangeVar *) cmd->def))))
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("distributed tables cannot be partitions, partitioned "
										"tables or take part in inheritance"),
								 errdetail("The rows would go to the coordinator's own table, "
										   "which queries of the distributed table do not read."),
								 errhint("Call undistribute_table() first.")));
					/* a distributed table's are checked afterwards */
					if (cmd->subtype == AT_AddConstraint && !distributed)
						RefuseForeignKeyTo(cmd->def);
				}
				break;
			}
		case T_CreateStmt:
			{
				CreateStmt *stmt = (CreateStmt *) parsetree;

				foreach(lc, stmt->inhRelations)
					if (IsDistributedRangeVar(lfirst(lc)))
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot create a partition or child of distributed table \"%s\"",
										((RangeVar *) lfirst(lc))->relname),
								 errdetail("Distributed tables cannot take part in "
										   "partitioning or inheritance.")));
				foreach(lc, stmt->constraints)
					RefuseForeignKeyTo(lfirst(lc));
				foreach(lc, stmt->tableElts)
				{
					ColumnDef  *column = lfirst(lc);
					ListCell   *cc;

					if (!IsA(column, ColumnDef))
						continue;
					foreach(cc, column->constraints)
						RefuseForeignKeyTo(lfirst(cc));
				}
				break;
			}
		case T_CreatePublicationStmt:
			RefusePublishedTables(((CreatePublicationStmt *) parsetree)->pubobjects);
			break;
		case T_AlterPublicationStmt:
			if (((AlterPublicationStmt *) parsetree)->action != AP_DropObjects)
				RefusePublishedTables(((AlterPublicationStmt *) parsetree)->pubobjects);
			break;
		case T_CreateTrigStmt:
			if (IsDistributedRangeVar(((CreateTrigStmt *) parsetree)->relation))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("triggers on %s table \"%s\" are not supported",
								TableKindName(ShardextGetTable(RangeVarGetRelid(((CreateTrigStmt *) parsetree)->relation,
																				NoLock, false))),
								((CreateTrigStmt *) parsetree)->relation->relname),
						 errdetail("Rows are written on the nodes, where the trigger would not run.")));
			break;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				foreach(lc, stmt->objects)
				{
					if (stmt->removeType == OBJECT_FOREIGN_SERVER)
					{
						ListCell   *nodeCell;

						foreach(nodeCell, ShardextAllNodes())
							if (strcmp(((ShardextNode *) lfirst(nodeCell))->serverName,
									   strVal(lfirst(lc))) == 0)
								ereport(ERROR,
										(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
										 errmsg("cannot drop server \"%s\": node %d uses it",
												strVal(lfirst(lc)),
												((ShardextNode *) lfirst(nodeCell))->nodeId),
										 errhint("Remove the node with shardext_remove_node() instead.")));
					}
					if (stmt->removeType == OBJECT_EXTENSION &&
						strcmp(strVal(lfirst(lc)), "postgres_fdw") == 0)
						ereport(ERROR,
								(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
								 errmsg("cannot drop extension postgres_fdw while tables are distributed"),
								 errdetail("shardext reaches the nodes through its servers."),
								 errhint("Call undistribute_table() on each table in "
										 "shardext.tables, or drop them, first.")));
				}
				break;
			}
		default:
			break;
	}
}

/*
 * HandleRestoreStatement runs the statements of a coordinator dump being
 * restored (a session running with check_function_bodies off and an empty
 * search path, as dumps set them) whose work the shards have done already, and refuses those that
 * would undo it; it returns false for the others, which run as usual.
 * Restored in place of the original database (README), the dump brings
 * each distributed table's rows (ShardMapRestoredHere: its first COPY in
 * the session that restored the shard map is read and dropped), and its
 * indexes and constraints, which the shards have under their shard names
 * (then they are made on the coordinator only).  DROP of a distributed
 * table, and COPY into one outside that restore (pg_restore --clean into
 * the existing database) are refused: the shards would go, or get the rows
 * twice.
 */
static bool
HandleRestoreStatement(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	ShardextTable *table = NULL;
	bool		shardsHaveIt = false;

	if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->is_from)
	{
		CopyStmt   *copy = (CopyStmt *) parsetree;
		Oid			relid = copy->relation != NULL ?
			RangeVarGetRelid(copy->relation, NoLock, true) : InvalidOid;
		bool		copiedBefore = list_member_oid(RestoredCopies, relid);
		MemoryContext old;
		Relation	rel;

		/* a dump loads each table once: the first COPY of each is noted */
		if (OidIsValid(relid) && !copiedBefore)
		{
			old = MemoryContextSwitchTo(TopMemoryContext);
			RestoredCopies = lappend_oid(RestoredCopies, relid);
			MemoryContextSwitchTo(old);
		}
		if (!OidIsValid(relid) || !ShardextHasDistributedTables())
			return false;

		/*
		 * The coordinator's placement of a shard (a reference table's copy)
		 * is filled by the dump it came with; into an existing one it would
		 * get its rows twice.
		 */
		if (OidIsValid(CoordinatorCopyTable(relid)))
		{
			if (ShardMapRestoredHere() && !copiedBefore)
				return false;
			RefuseRestoreInto(CoordinatorCopyTable(relid), "copy into");
		}
		if (ShardextGetTable(relid) == NULL)
			return false;
		if (!ShardMapRestoredHere() || copiedBefore)
			RefuseRestoreInto(relid, "copy into");
		CallNextProcessUtilityFlagged(&CopyingLocally, pstmt, queryString,
									  readOnlyTree, context, params, queryEnv,
									  dest, qc);
		rel = table_open(relid, RowExclusiveLock);
		DiscardStaleLocalRows(rel, DEBUG1);
		table_close(rel, NoLock);
		return true;
	}
	if (!ShardextHasDistributedTables())
		return false;
	if (IsA(parsetree, DropStmt) &&
		(((DropStmt *) parsetree)->removeType == OBJECT_TABLE ||
		 ((DropStmt *) parsetree)->removeType == OBJECT_INDEX))
	{
		DropStmt   *drop = (DropStmt *) parsetree;
		ListCell   *lc;

		foreach(lc, drop->objects)
			RefuseCleanOf(RestoredTableOf(makeRangeVarFromNameList(lfirst(lc)),
										  drop->removeType == OBJECT_INDEX));
		return false;
	}
	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *alter = (AlterTableStmt *) parsetree;
		ListCell   *lc;

		foreach(lc, alter->cmds)
		{
			if (((AlterTableCmd *) lfirst(lc))->subtype == AT_DropConstraint)
				RefuseCleanOf(RestoredTableOf(alter->relation, false));
		}
	}
	if (IsA(parsetree, IndexStmt) && ((IndexStmt *) parsetree)->idxname != NULL)
	{
		IndexStmt  *index = (IndexStmt *) parsetree;

		table = ShardextGetTable(DistributedRelidOfRangeVar(index->relation, false));
		shardsHaveIt = table != NULL &&
			ShardsHaveObject(table, index->idxname, false);
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *alter = (AlterTableStmt *) parsetree;
		ListCell   *lc;

		table = ShardextGetTable(DistributedRelidOfRangeVar(alter->relation, false));
		shardsHaveIt = table != NULL && alter->cmds != NIL;
		foreach(lc, alter->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);
			Constraint *constraint = (Constraint *) cmd->def;

			if (!shardsHaveIt)
				break;
			shardsHaveIt = cmd->subtype == AT_AddConstraint &&
				IsA(constraint, Constraint) && constraint->conname != NULL &&
				ShardsHaveObject(table, constraint->conname, true);
		}
	}
	if (!shardsHaveIt)
		return false;
	CallNextProcessUtilityFlagged(&ShardextLocalUtilityOnly, pstmt, queryString,
								  readOnlyTree, context, params, queryEnv,
								  dest, qc);
	return true;
}

/*
 * RefuseCleanOf refuses, in a session running with check_function_bodies
 * off, to drop a distributed table (relid; InvalidOid for others) or one of
 * its indexes or constraints: what pg_restore --clean does before restoring
 * a dump into the existing database, which would drop the shards' tables,
 * indexes and constraints, and then not bring their rows back.
 */
static void
RefuseCleanOf(Oid relid)
{
	if (!OidIsValid(relid))
		return;
	RefuseRestoreInto(relid, "drop");
}

/*
 * RefuseRestoreInto raises RefuseCleanOf's error (action "drop") or
 * HandleRestoreStatement's for COPY ("copy into") about table relid (or the
 * table whose placement a statement named).
 */
static void
RefuseRestoreInto(Oid relid, const char *action)
{
	ShardextTable *table = ShardextGetTable(relid);

	if (strcmp(action, "copy into") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot copy into %s table \"%s\" while restoring a dump",
						TableKindName(table), get_rel_name(relid)),
				 errdetail("A dump of the coordinator restored into its existing database "
						   "would give the shards their rows a second time."),
				 errhint("Restore a coordinator dump into a new database in place of the old one "
						 "(DROP DATABASE, CREATE DATABASE); to load rows, "
						 "SET check_function_bodies = on first.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot drop %s table \"%s\" or its indexes or constraints while restoring a dump",
					TableKindName(table), get_rel_name(relid)),
			 errdetail("A dump of the coordinator restored with --clean would drop "
					   "the shards, whose rows it then cannot bring back."),
			 errhint("Restore a coordinator dump into a new database in place of the old one "
					 "(DROP DATABASE, CREATE DATABASE); to drop, "
					 "SET check_function_bodies = on first.")));
}

/*
 * RestoredTableOf returns the table a statement of a restore names (a
 * relation, or with isIndex an index of one): a distributed table, or the
 * table whose coordinator placement it is; else InvalidOid.
 */
static Oid
RestoredTableOf(RangeVar *rangeVar, bool isIndex)
{
	Oid			relid = DistributedRelidOfRangeVar(rangeVar, isIndex);
	Oid			found;

	if (OidIsValid(relid))
		return relid;
	found = RangeVarGetRelid(rangeVar, NoLock, true);
	if (OidIsValid(found) && isIndex)
		found = IndexGetRelation(found, true);
	return OidIsValid(found) ? CoordinatorCopyTable(found) : InvalidOid;
}

/*
 * ShardsHaveObject tells whether the first shard of a table has an index
 * (or, with constraint, a constraint) of the given name, under its shard
 * name: made by the statement that made it on the coordinator, which a
 * restored dump makes again.
 */
static bool
ShardsHaveObject(ShardextTable *table, const char *name, bool constraint)
{
	ShardextShard *shard = table->shards[0];
	int32		nodeId = COORDINATOR_NODE_ID;
	NodeConnection *nc;
	const char *values[4];
	PGresult   *res;
	bool		found;
	ListCell   *lc;

	/*
	 * A worker's placement; placements on the coordinator only (a federated
	 * table there, single-node mode) are tables of the dump, which makes
	 * their indexes and constraints itself.
	 */
	foreach(lc, shard->placementNodeIds)
	{
		if (lfirst_int(lc) != COORDINATOR_NODE_ID)
		{
			nodeId = lfirst_int(lc);
			break;
		}
	}
	if (nodeId == COORDINATOR_NODE_ID)
		return true;
	nc = GetNodeConnection(nodeId);

	/* (a CHECK constraint keeps its name on the shards) */
	values[0] = get_namespace_name(get_rel_namespace(table->relid));
	values[1] = ShardObjectNameUnquoted(name, shard->shardId);
	values[2] = name;
	values[3] = shard->relationName;
	if (constraint)
		res = RemoteExecute(nc, "SELECT 1 FROM pg_catalog.pg_constraint c "
							"JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace "
							"WHERE n.nspname = $1 AND (c.conname = $2 OR "
							"(c.conname = $3 AND c.conrelid = $4::pg_catalog.regclass))",
							4, values);
	else
		res = RemoteExecute(nc, "SELECT 1 FROM pg_catalog.pg_class c "
							"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							"WHERE n.nspname = $1 AND c.relname = $2",
							2, values);
	found = PQntuples(res) > 0;
	PQclear(res);
	return found;
}

/*
 * DropsShardextExtension tells whether a statement drops extension
 * shardext: DROP EXTENSION shardext, or postgres_fdw with CASCADE (shardext
 * needs it).
 */
static bool
DropsShardextExtension(Node *parsetree)
{
	DropStmt   *drop;
	ListCell   *lc;

	if (!IsA(parsetree, DropStmt))
		return false;
	drop = (DropStmt *) parsetree;
	if (drop->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, drop->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "shardext") == 0 ||
			(strcmp(strVal(lfirst(lc)), "postgres_fdw") == 0 &&
			 drop->behavior == DROP_CASCADE))
			return true;
	}
	return false;
}

/*
 * DropNodeServers drops the foreign server (and user mappings) of every
 * node but the coordinator, whose server belongs to the extension: only its
 * user mappings are dropped.
 */
static void
DropNodeServers(void)
{
	ListCell   *lc;

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);

		if (node->role == NODE_ROLE_COORDINATOR)
		{
			/* the server goes with the extension, its user mappings not */
			ExecuteCatalogSql(psprintf("DO $$DECLARE r record; BEGIN "
									   "FOR r IN SELECT usename FROM pg_catalog.pg_user_mappings "
									   "WHERE srvname = %s LOOP "
									   "EXECUTE pg_catalog.format('DROP USER MAPPING FOR %%s SERVER %%I', "
									   "CASE WHEN r.usename = 'public' THEN 'PUBLIC' "
									   "ELSE pg_catalog.quote_ident(r.usename) END, %s); "
									   "END LOOP; END$$",
									   quote_literal_cstr(node->serverName),
									   quote_literal_cstr(node->serverName)),
							  0, NULL, NULL, NULL);
			continue;
		}
		ExecuteCatalogSql(psprintf("DROP SERVER IF EXISTS %s CASCADE",
								   quote_identifier(node->serverName)),
						  0, NULL, NULL, NULL);
	}
}

/*
 * DistributedRelidOfRangeVar returns the distributed table a statement
 * names (for an index, the index's table), or InvalidOid.
 */
static Oid
DistributedRelidOfRangeVar(RangeVar *rangeVar, bool isIndex)
{
	Oid			relid;

	if (rangeVar == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rangeVar, NoLock, true);
	if (!OidIsValid(relid))
		return InvalidOid;
	if (isIndex || get_rel_relkind(relid) == RELKIND_INDEX)
	{
		if (get_rel_relkind(relid) != RELKIND_INDEX)
			return InvalidOid;
		relid = IndexGetRelation(relid, false);
	}
	return ShardextGetTable(relid) != NULL ? relid : InvalidOid;
}

/*
 * CheckDistributionColumnKept refuses ALTER TABLE subcommands that drop the
 * distribution column or change its type: rows would belong to other
 * shards.
 */
static void
CheckDistributionColumnKept(AlterTableStmt *stmt, Oid relid)
{
	ShardextTable *table = ShardextGetTable(relid);
	ListCell   *lc;

	if (table == NULL || table->distColumnName == NULL)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->name == NULL || strcmp(cmd->name, table->distColumnName) != 0)
			continue;
		if (cmd->subtype == AT_DropColumn)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot drop distribution column \"%s\" of table \"%s\"",
							cmd->name, get_rel_name(relid)),
					 errhint("Call undistribute_table() first.")));
		if (cmd->subtype == AT_AlterColumnType)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the type of distribution column \"%s\" of table \"%s\"",
							cmd->name, get_rel_name(relid)),
					 errdetail("Rows would belong to other shards."),
					 errhint("Call undistribute_table() first.")));
	}
}

/*
 * RenameDistributionColumn records the new name of a distribution column
 * that a RENAME COLUMN is about to rename, before the rename runs: the shard
 * map, rebuilt after it, looks the column up by name.
 */
static void
RenameDistributionColumn(Node *parsetree)
{
	RenameStmt *stmt = (RenameStmt *) parsetree;
	Oid			relid;
	ShardextTable *table;
	Oid			argTypes[2] = {OIDOID, TEXTOID};
	Datum		args[2];

	if (!IsA(parsetree, RenameStmt) || stmt->renameType != OBJECT_COLUMN ||
		stmt->relation == NULL)
		return;
	relid = DistributedRelidOfRangeVar(stmt->relation, false);
	if (!OidIsValid(relid))
		return;
	table = ShardextGetTable(relid);
	if (table == NULL || table->distColumnName == NULL ||
		strcmp(table->distColumnName, stmt->subname) != 0)
		return;
	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(stmt->newname);
	ExecuteCatalogSql("UPDATE shardext.tables SET distribution_column = $2 "
					  "WHERE table_name::oid = $1", 2, argTypes, args, NULL);
}

/*
 * TablesChangedByStatement returns the distributed tables whose shape a
 * DDL statement may change.
 */
static List *
TablesChangedByStatement(Node *parsetree)
{
	List	   *relids = NIL;
	List	   *referenced = NIL;
	Oid			relid = InvalidOid;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			relid = DistributedRelidOfRangeVar(((AlterTableStmt *) parsetree)->relation,
											   false);
			if (OidIsValid(relid))
				CheckDistributionColumnKept((AlterTableStmt *) parsetree, relid);
			break;
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				/* every distributed table of a renamed schema moves */
				if (stmt->renameType == OBJECT_SCHEMA)
				{
					Oid			namespace = get_namespace_oid(stmt->subname, true);
					ListCell   *lc;

					foreach(lc, ShardextAllTables())
					{
						ShardextTable *table = lfirst(lc);

						if (OidIsValid(namespace) &&
							get_rel_namespace(table->relid) == namespace)
							relids = lappend_oid(relids, table->relid);
					}
					break;
				}
				if (stmt->relation != NULL &&
					(stmt->renameType == OBJECT_TABLE ||
					 stmt->renameType == OBJECT_COLUMN ||
					 stmt->renameType == OBJECT_TABCONSTRAINT ||
					 stmt->renameType == OBJECT_INDEX))
					relid = DistributedRelidOfRangeVar(stmt->relation,
													   stmt->renameType == OBJECT_INDEX);
				break;
			}
		case T_ReassignOwnedStmt:
			{
				ReassignOwnedStmt *stmt = (ReassignOwnedStmt *) parsetree;
				ListCell   *lc;

				/* the tables of the roles get a new owner */
				foreach(lc, ShardextAllTables())
				{
					ShardextTable *table = lfirst(lc);
					ListCell   *rc;

					foreach(rc, stmt->roles)
						if (ObjectOwner(RELOID, table->relid) ==
							get_rolespec_oid(lfirst(rc), true))
						{
							relids = lappend_oid(relids, table->relid);
							break;
						}
				}
				break;
			}
		case T_DropOwnedStmt:
			/* DROP OWNED ... CASCADE drops the columns of the roles' types */
			relids = TablesLosingColumns(parsetree);
			break;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				if (stmt->objectType == OBJECT_TABLE)
					relid = DistributedRelidOfRangeVar(stmt->relation, false);
				break;
			}
		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) parsetree;

				relid = DistributedRelidOfRangeVar(stmt->relation, false);
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;
				ListCell   *lc;

				/* DROP TYPE/DOMAIN/SCHEMA ... CASCADE drops columns of types */
				relids = TablesLosingColumns(parsetree);
				/* the tables that reference dropped ones lose foreign keys */
				if (stmt->removeType == OBJECT_TABLE ||
					stmt->removeType == OBJECT_SCHEMA)
				{
					foreach(lc, DroppedDistributedTables(stmt))
						referenced = lappend_oid(referenced, lfirst_oid(lc));
					break;
				}
				if (stmt->removeType != OBJECT_INDEX)
					break;
				foreach(lc, stmt->objects)
				{
					Oid			table = DistributedRelidOfRangeVar(makeRangeVarFromNameList(lfirst(lc)),
																   true);

					if (OidIsValid(table) && !list_member_oid(relids, table))
						relids = lappend_oid(relids, table);
				}
				break;
			}
		default:
			break;
	}
	if (OidIsValid(relid))
		relids = lappend_oid(relids, relid);

	/*
	 * Distributed tables with foreign keys to these: the statement may drop
	 * or re-create them (DROP ... CASCADE, ALTER COLUMN TYPE of a key).
	 */
	referenced = list_concat(referenced, relids);
	foreach(lc, referenced)
	{
		ListCell   *rc;

		foreach(rc, ReferencingTables(lfirst_oid(lc)))
			if (ShardextGetTable(lfirst_oid(rc)) != NULL &&
				!list_member_oid(relids, lfirst_oid(rc)))
				relids = lappend_oid(relids, lfirst_oid(rc));
	}
	return relids;
}

/*
 * DroppedDistributedTables returns the distributed tables a DROP TABLE or
 * DROP SCHEMA names or holds (those that exist).
 */
static List *
DroppedDistributedTables(DropStmt *stmt)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		if (stmt->removeType == OBJECT_TABLE)
		{
			Oid			relid = DistributedRelidOfRangeVar(makeRangeVarFromNameList(lfirst(lc)),
														   false);

			if (OidIsValid(relid))
				relids = lappend_oid(relids, relid);
		}
		else
		{
			Oid			namespace = get_namespace_oid(strVal(lfirst(lc)), true);
			ListCell   *tc;

			foreach(tc, ShardextAllTables())
			{
				ShardextTable *table = lfirst(tc);

				if (OidIsValid(namespace) &&
					get_rel_namespace(table->relid) == namespace)
					relids = lappend_oid(relids, table->relid);
			}
		}
	}
	return relids;
}

/*
 * AppendToNodeCommand adds name to the statement for node nodeId among
 * commands (StringInfo, parallel to the int List nodeIds): "<prefix>name"
 * for the node's first, ", name" after.
 */
static void
AppendToNodeCommand(List **nodeIds, List **commands, int32 nodeId,
					const char *prefix, const char *name)
{
	StringInfo	command = NULL;
	ListCell   *nc;
	ListCell   *cc;

	forboth(nc, *nodeIds, cc, *commands)
		if (lfirst_int(nc) == nodeId)
			command = lfirst(cc);
	if (command == NULL)
	{
		command = makeStringInfo();
		appendStringInfoString(command, prefix);
		*nodeIds = lappend_int(*nodeIds, nodeId);
		*commands = lappend(*commands, command);
	}
	else
		appendStringInfoString(command, ", ");
	appendStringInfoString(command, name);
}

/*
 * TruncateShards truncates, in the remote transactions, the shards of the
 * distributed tables a TRUNCATE emptied: those it named and, with CASCADE,
 * those referencing them (found as PostgreSQL's TRUNCATE finds them).  Each
 * node gets one TRUNCATE of all its shards, as a shard referenced by a
 * foreign key can only be truncated together with the shards referencing
 * it.
 */
static void
TruncateShards(TruncateStmt *stmt)
{
	List	   *relids = NIL;
	List	   *nodeIds = NIL;
	List	   *commands = NIL;
	ListCell   *lc;
	ListCell   *commandCell;

	foreach(lc, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst(lc), NoLock, true);

		if (OidIsValid(relid) && ShardextGetTable(relid) != NULL)
			relids = list_append_unique_oid(relids, relid);
	}
	if (stmt->behavior == DROP_CASCADE)
	{
		int			known;

		do
		{
			known = list_length(relids);
			foreach(lc, heap_truncate_find_FKs(relids))
				if (ShardextGetTable(lfirst_oid(lc)) != NULL)
					relids = list_append_unique_oid(relids, lfirst_oid(lc));
		} while (list_length(relids) > known);
	}

	foreach(lc, relids)
	{
		ShardextTable *table = ShardextGetTable(lfirst_oid(lc));
		int			i;

		for (i = 0; i < table->shardCount; i++)
		{
			ShardextShard *shard = table->shards[i];
			ListCell   *nodeCell;

			foreach(nodeCell, shard->placementNodeIds)
			{
				int32		nodeId = lfirst_int(nodeCell);

				if (nodeId == COORDINATOR_NODE_ID)
					CheckCopyNotInLocalUse(table->relid, shard->relationName);
				AppendToNodeCommand(&nodeIds, &commands, nodeId, "TRUNCATE ",
									shard->relationName);
			}
		}
	}
	forboth(lc, nodeIds, commandCell, commands)
		RemoteExecuteCommand(GetNodeConnectionInTransaction(lfirst_int(lc), true),
							 ((StringInfo) lfirst(commandCell))->data);
}

/*
 * ForEachPlacement calls fn for every placement (node) of every shard of the
 * distributed tables among rangeVars, in shard then node order; the other
 * tables are skipped.
 */
static void
ForEachPlacement(List *rangeVars, PlacementFunction fn, void *arg)
{
	ListCell   *lc;

	foreach(lc, rangeVars)
	{
		Oid			relid = RangeVarGetRelid(lfirst(lc), NoLock, true);
		ShardextTable *table = OidIsValid(relid) ? ShardextGetTable(relid) : NULL;
		int			i;

		if (table == NULL)
			continue;
		for (i = 0; i < table->shardCount; i++)
		{
			ListCell   *nodeCell;

			foreach(nodeCell, table->shards[i]->placementNodeIds)
				fn(table, table->shards[i], lfirst_int(nodeCell), arg);
		}
	}
}

/*
 * ShardextObjectAccess remembers the shards of a distributed table that is
 * being dropped, however the drop was asked for.
 */
static void
ShardextObjectAccess(ObjectAccessType access, Oid classId, Oid objectId,
					 int subId, void *arg)
{
	ShardextTable *table;
	PendingDrop *drop;
	MemoryContext old;
	int			i;

	if (PrevObjectAccessHook != NULL)
		PrevObjectAccessHook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || classId != RelationRelationId || subId != 0 ||
		DroppingExtension || !ShardextExtensionLoaded())
		return;
	table = ShardextGetTable(objectId);
	if (table == NULL)
		return;

	old = MemoryContextSwitchTo(TopTransactionContext);
	drop = palloc0(sizeof(PendingDrop));
	drop->relid = objectId;
	for (i = 0; i < table->shardCount; i++)
	{
		ListCell   *lc;

		foreach(lc, table->shards[i]->placementNodeIds)
		{
			drop->nodeIds = lappend_int(drop->nodeIds, lfirst_int(lc));
			drop->shardNames = lappend(drop->shardNames,
									   pstrdup(table->shards[i]->relationName));
		}
	}
	PendingDrops = lappend(PendingDrops, drop);
	MemoryContextSwitchTo(old);
}

/* ForgetPendingDrops empties the list when the transaction ends. */
static void
ForgetPendingDrops(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		PendingDrops = NIL;
}

/*
 * ProcessPendingDrops drops the shards of the tables dropped by the
 * statement that just ran, and removes the tables from the catalog.  Each
 * node gets one DROP TABLE of all its shards: shards that foreign keys tie
 * together can only go together.
 */
static void
ProcessPendingDrops(void)
{
	List	   *drops = PendingDrops;
	List	   *nodeIds = NIL;
	List	   *commands = NIL;
	ListCell   *lc;
	ListCell   *commandCell;
	NodeConnection *self;
	bool		selfInTransaction;
	ObjectAddresses *localCopies;
	bool		anyLocal = false;

	if (drops == NIL)
		return;
	PendingDrops = NIL;
	self = FindNodeConnection(COORDINATOR_NODE_ID);
	selfInTransaction = (self != NULL && self->inTransaction);
	localCopies = new_object_addresses();
	foreach(lc, drops)
	{
		PendingDrop *drop = lfirst(lc);
		ListCell   *nameCell;
		ListCell   *nodeCell;

		forboth(nameCell, drop->shardNames, nodeCell, drop->nodeIds)
		{
			char	   *shardName = (char *) lfirst(nameCell);
			int			nodeId = lfirst_int(nodeCell);

			/*
			 * A shard on the coordinator is a table of this database: when
			 * the statement already dropped it (DROP SCHEMA ... CASCADE),
			 * dropping it again through the loopback connection would wait
			 * for our own lock.
			 */
			if (nodeId == COORDINATOR_NODE_ID &&
				!OidIsValid(CoordinatorCopyRelid(shardName)))
				continue;
			if (nodeId == COORDINATOR_NODE_ID)
				CheckCopyNotInLocalUse(drop->relid, shardName);

			/*
			 * The coordinator's copy is dropped in this transaction itself,
			 * unless its connection to itself already worked on it in this
			 * transaction (it holds locks the drop would wait for): dropped
			 * there, it would stay locked by that connection, and a later
			 * statement of this transaction needing it (a DROP TYPE of a
			 * type it used) would wait for it forever.
			 */
			if (nodeId == COORDINATOR_NODE_ID && !selfInTransaction)
			{
				ObjectAddress copy;

				ObjectAddressSet(copy, RelationRelationId,
								 CoordinatorCopyRelid(shardName));
				add_exact_object_address(&copy, localCopies);
				anyLocal = true;
				continue;
			}
			AppendToNodeCommand(&nodeIds, &commands, nodeId,
								"DROP TABLE IF EXISTS ", shardName);
		}
	}
	if (anyLocal)
		performMultipleDeletions(localCopies, DROP_RESTRICT,
								 PERFORM_DELETION_INTERNAL);
	forboth(lc, nodeIds, commandCell, commands)
		RemoteExecuteCommand(GetNodeConnectionInTransaction(lfirst_int(lc), true),
							 ((StringInfo) lfirst(commandCell))->data);
	foreach(lc, drops)
		DeleteTableMetadata(((PendingDrop *) lfirst(lc))->relid);
}

/*
 * HandleCopy runs COPY on a distributed table: COPY FROM routes the rows,
 * COPY TO becomes COPY (SELECT ...) TO.  Returns false for other tables.
 */
static bool
HandleCopy(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		   ProcessUtilityContext context, ParamListInfo params,
		   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	CopyStmt   *stmt = (CopyStmt *) pstmt->utilityStmt;
	Oid			relid;

	if (stmt->relation == NULL)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || ShardextGetTable(relid) == NULL)
		return false;

	if (stmt->is_from)
	{
		uint64		rows = CopyIntoDistributedTable(stmt, queryString, relid);

		if (qc != NULL)
			SetQueryCompletion(qc, CMDTAG_COPY, rows);
	}
	else
	{
		PlannedStmt *copyPstmt = copyObject(pstmt);
		CopyStmt   *copy = (CopyStmt *) copyPstmt->utilityStmt;
		StringInfoData sql;
		List	   *parsed;
		ListCell   *lc;

		Relation	rel = table_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);

		/* the columns COPY TO of the table would write: no generated ones */
		initStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT ");
		foreach(lc, CopyGetAttnums(desc, rel, copy->attlist))
		{
			Form_pg_attribute attr = TupleDescAttr(desc, lfirst_int(lc) - 1);

			if (attr->attgenerated != '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
						 errmsg("column \"%s\" is a generated column",
								NameStr(attr->attname)),
						 errdetail("Generated columns cannot be used in COPY.")));
			if (sql.len > strlen("SELECT "))
				appendStringInfoString(&sql, ", ");
			appendStringInfoString(&sql, quote_identifier(NameStr(attr->attname)));
		}
		table_close(rel, NoLock);
		if (sql.len == strlen("SELECT "))
			appendStringInfoString(&sql, "FROM");
		else
			appendStringInfoString(&sql, " FROM");
		appendStringInfo(&sql, " %s", RelationQualifiedName(relid));
		parsed = raw_parser(sql.data, RAW_PARSE_DEFAULT);
		copy->query = ((RawStmt *) linitial(parsed))->stmt;
		copy->relation = NULL;
		copy->attlist = NIL;
		CallNextProcessUtility(copyPstmt, queryString, false, context, params,
							   queryEnv, dest, qc);
	}
	return true;
}

/*
 * CheckCopyWhereColumns refuses, as COPY of a table does, a COPY FROM WHERE
 * condition that reads a generated column (not computed yet when the
 * condition is evaluated), also through a whole-row reference, or a column
 * the user may not SELECT.
 */
static void
CheckCopyWhereColumns(Relation rel, Node *where)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			relid = RelationGetRelid(rel);
	bool		mayReadAll = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	Bitmapset  *attrs = NULL;
	int			member = -1;

	pull_varattnos(where, 1, &attrs);
	while ((member = bms_next_member(attrs, member)) >= 0)
	{
		AttrNumber	attnum = member + FirstLowInvalidHeapAttributeNumber;
		int			i;

		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute attr = TupleDescAttr(desc, i);

			if (attr->attgenerated && (attnum == 0 || attnum == attr->attnum))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
						 errmsg("generated columns are not supported in COPY FROM WHERE conditions"),
						 errdetail("Column \"%s\" is a generated column.",
								   NameStr(attr->attname))));
		}
		if (mayReadAll)
			continue;
		if (attnum > 0 ?
			pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK :
			attnum < 0 ||
			pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ALL) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind),
						   RelationGetRelationName(rel));
	}
}

/*
 * TransformCopyWhere turns the WHERE clause of a COPY FROM into a qual over
 * the table's columns, as COPY of a table does (no subqueries, aggregates or
 * set-returning functions: the parser refuses them in this place).
 */
static List *
TransformCopyWhere(ParseState *pstate, Relation rel, Node *rawWhere)
{
	ParseNamespaceItem *nsitem;
	Node	   *where;

	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										   NULL, false, false);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	where = transformExpr(pstate, rawWhere, EXPR_KIND_COPY_WHERE);
	where = coerce_to_boolean(pstate, where, "WHERE");
	assign_expr_collations(pstate, where);
	CheckCopyWhereColumns(rel, where);
	where = eval_const_expressions(NULL, where);
	where = (Node *) canonicalize_qual((Expr *) where, false);
	return make_ands_implicit((Expr *) where);
}

/*
 * CopySentAttnums returns the columns that a COPY FROM naming the columns
 * attlist (NIL: all) sends to the shards: those it names, the distribution
 * column, and those whose default a shard does not compute alike
 * (NodeFillsOmittedColumn).  A node then checks INSERT privilege on the
 * named columns only, as PostgreSQL does here.
 */
static List *
CopySentAttnums(Relation rel, ShardextTable *table, List *attlist)
{
	List	   *named = CopyGetAttnums(RelationGetDescr(rel), rel, attlist);
	List	   *sent = NIL;
	ListCell   *lc;

	foreach(lc, CopyableAttnums(RelationGetDescr(rel)))
	{
		int			attnum = lfirst_int(lc);

		if (list_member_int(named, attnum) || attnum == table->distAttno ||
			!NodeFillsOmittedColumn(rel, attnum))
			sent = lappend_int(sent, attnum);
	}
	return sent;
}

/*
 * CopyIntoDistributedTable reads COPY FROM input with PostgreSQL's COPY
 * machinery (defaults included), skips the rows its WHERE clause rejects
 * and routes each other row to its shard.
 */
static uint64
CopyIntoDistributedTable(CopyStmt *stmt, const char *queryString, Oid relid)
{
	ShardextTable *table = ShardextGetTable(relid);
	Relation	rel;
	ParseState *pstate;
	CopyFromState cstate;
	EState	   *estate;
	ExprContext *econtext;
	TupleTableSlot *slot;
	ShardRowRouter *router;
	uint64		rows;
	AclResult	aclresult;
	ErrorContextCallback errorCallback;
	List	   *whereClause = NIL;
	ExprState  *qual = NULL;
	ResultRelInfo *resultRelInfo = NULL;

	if (stmt->filename != NULL)
	{
		if (stmt->is_program && !has_privs_of_role(GetUserId(),
												   ROLE_PG_EXECUTE_SERVER_PROGRAM))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be superuser or have privileges of the "
							"pg_execute_server_program role to COPY to or from "
							"an external program")));
		if (!stmt->is_program && !has_privs_of_role(GetUserId(),
													ROLE_PG_READ_SERVER_FILES))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be superuser or have privileges of the "
							"pg_read_server_files role to COPY from a file")));
	}

	/* before any input is read, as COPY of a table does */
	if (XactReadOnly)
		PreventCommandIfReadOnly("COPY FROM");
	rel = table_open(relid, RowExclusiveLock);
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
	{
		ListCell   *lc;

		/* INSERT on the columns loaded will do, as for COPY of a table */
		foreach(lc, CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist))
			if (pg_attribute_aclcheck(relid, lfirst_int(lc), GetUserId(),
									  ACL_INSERT) != ACLCHECK_OK)
				aclcheck_error(aclresult, get_relkind_objtype(rel->rd_rel->relkind),
							   RelationGetRelationName(rel));
	}

	CheckSessionStyleOfWrites(RelationGetRelid(rel));
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = queryString;
	if (stmt->whereClause != NULL)
		whereClause = TransformCopyWhere(pstate, rel, stmt->whereClause);
	cstate = BeginCopyFrom(pstate, rel, NULL, stmt->filename, stmt->is_program,
						   NULL, stmt->attlist, stmt->options);

	/*
	 * FREEZE is refused where COPY of a table refuses it; elsewhere it is
	 * ignored (the shards were not made in the nodes' transactions).
	 */
	if (cstate->opts.freeze &&
		(!ThereAreNoPriorRegisteredSnapshots() || !ThereAreNoReadyPortals()))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot perform COPY FREEZE because of prior transaction activity")));
	if (cstate->opts.freeze &&
		rel->rd_createSubid != GetCurrentSubTransactionId() &&
		rel->rd_newRelfilenodeSubid != GetCurrentSubTransactionId())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot perform COPY FREEZE because the table was not created or truncated in the current subtransaction")));
	estate = CreateExecutorState();
	econtext = GetPerTupleExprContext(estate);
	if (whereClause != NIL)
		qual = ExecPrepareQual(whereClause, estate);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);

	/*
	 * NOT NULL and CHECK are checked here too, row after row, so that the
	 * first bad row of the input is the one reported, as by COPY of a table
	 * (the nodes see a shard's rows only when its batch is sent).
	 */
	if (rel->rd_att->constr != NULL &&
		(rel->rd_att->constr->has_not_null || rel->rd_att->constr->num_check > 0))
	{
		resultRelInfo = makeNode(ResultRelInfo);
		InitResultRelInfo(resultRelInfo, rel, 0, NULL, 0);
	}
	router = CreateShardRowRouter(table, RelationGetDescr(rel),
								  CopySentAttnums(rel, table, stmt->attlist));
	router->inputContext = &errorCallback;
	router->deferKeys = true;

	/* errors name the input line (and column), as for COPY of a table */
	errorCallback.callback = CopyFromErrorCallback;
	errorCallback.arg = (void *) cstate;
	errorCallback.previous = error_context_stack;
	error_context_stack = &errorCallback;
	for (;;)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		ResetPerTupleExprContext(estate);
		old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
		ExecClearTuple(slot);
		if (!NextCopyFrom(cstate, econtext, slot->tts_values, slot->tts_isnull))
		{
			MemoryContextSwitchTo(old);
			break;
		}
		ExecStoreVirtualTuple(slot);

		/* rows the WHERE clause rejects are skipped, as by COPY of a table */
		slot->tts_tableOid = RelationGetRelid(rel);
		econtext->ecxt_scantuple = slot;
		if (qual != NULL && !ExecQual(qual, econtext))
		{
			MemoryContextSwitchTo(old);
			continue;
		}
		if (resultRelInfo != NULL)
		{
			if (rel->rd_att->constr->has_generated_stored)
				ExecComputeStoredGenerated(resultRelInfo, estate, slot, CMD_INSERT);
			ExecConstraints(resultRelInfo, slot, estate);
		}
		RouteSlotToShard(router, slot, cstate->cur_lineno);
		MemoryContextSwitchTo(old);
	}
	error_context_stack = errorCallback.previous;
	FlushAllShardBuffers(router);
	EndKeyDeferral(router->deferral);
	rows = router->totalRows;

	EndCopyFrom(cstate);
	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	return rows;
}
