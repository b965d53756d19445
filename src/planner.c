/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  The planner hook: entry point of distributed planning.
 *
 * Queries that touch no distributed table go to the previous planner hook
 * (or the standard planner) untouched; the check costs a walk of the range
 * tables against the cached shard map, and nothing when no table is
 * distributed.  Otherwise:
 *
 * - A query that one shard group can answer whole (router.c) becomes a
 *   plan of a single ShardextQuery node that sends it to that node.
 * - UPDATE and DELETE of a distributed table that are not router queries
 *   run on every shard, when the statement reads no other table.
 * - INSERT into a distributed table plans its source rows (VALUES, SELECT)
 *   with the standard planner under a ShardextInsert node that routes them.
 * - Any other SELECT goes to the standard planner, which scans each
 *   distributed table with a ShardextScan (multi_shard.c).
 *
 * The plans built here by hand keep every relation of the query in the
 * range table, so that permissions are checked, locks are taken and cached
 * plans are invalidated as for any plan.
 *
 * IDENTIFICATION
 *	  src/planner.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planmain.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "shardext/connection.h"
#include "shardext/deparse.h"
#include "shardext/hooks.h"
#include "shardext/guc.h"
#include "shardext/join_keys.h"
#include "shardext/metadata_cache.h"
#include "shardext/modify.h"
#include "shardext/pullup.h"
#include "shardext/pushdown.h"
#include "shardext/remote_scan.h"
#include "shardext/router.h"
#include "shardext/shard_ddl.h"
#include "shardext/transaction.h"

static planner_hook_type PrevPlannerHook = NULL;

/*
 * While set, the queries PostgreSQL runs to check a new foreign key's rows
 * (a SELECT of ONLY tables, see ReadsOnlyWithoutChildren) are planned on
 * the coordinator's own (empty) tables: the shards' own ALTER TABLE checks
 * their rows.  Set while an ALTER TABLE of a distributed table runs.
 */
bool		ShardextPlanCoordinatorTables = false;

/* while such a query is planned: no ShardextScan paths */
bool		PlanningCoordinatorTables = false;

/* constants ConstToParamMutator compares a new one with, at most */
#define MAX_SHARED_CONSTS 64

/* state of ConstToParamMutator */
typedef struct ConstToParamContext
{
	int			nextId;			/* the query's own parameters come first */
	List	   *consts;			/* Const *, one per added parameter */
} ConstToParamContext;

/* state of WrapDistributedRtesWalker */
typedef struct WrapContext
{
	Query	   *top;			/* the statement (its target is not wrapped) */
	List	   *wrappers;		/* subqueries made: not walked into */
} WrapContext;

static Node *ConstToParamMutator(Node *node, ConstToParamContext *context);

static PlannedStmt *ShardextPlanner(Query *parse, const char *queryString,
									int cursorOptions,
									ParamListInfo boundParams);
static PlannedStmt *CallNextPlanner(Query *parse, const char *queryString,
									int cursorOptions,
									ParamListInfo boundParams);
static bool ReferencesDistributedTable(List *rtes);
static bool ReadsOnlyWithoutChildren(Query *parse);
static PlannedStmt *PlanOnCoordinatorTables(Query *parse, const char *queryString,
											int cursorOptions,
											ParamListInfo boundParams);
static PlannedStmt *PlanRemoteQuery(Query *parse, RouterAnalysis *analysis,
									QueryScanMode mode, List *rtes);
static List *OmitColumnsNodesFill(Query *query, ShardextTable *table,
								  List *keep);
static PlannedStmt *PlanDistributedInsert(Query *parse, const char *queryString,
										  int cursorOptions,
										  ParamListInfo boundParams);
static void SetScanTargetList(CustomScan *cscan, List *targetList,
							  Index remoteRti);
static List *AddRemoteResultRte(List *rtable, List *targetList);
static PlannedStmt *MakePlannedStmt(Query *parse, Plan *plan, List *rtes);
static PlannedStmt *MaterializeForScroll(PlannedStmt *stmt, int cursorOptions);
static PlannedStmt *KeepPermissionChecks(PlannedStmt *result, Query *original);
static bool HasMultiAssignment(Node *node, void *context);
static bool HasCurrentOf(Node *node, void *context);
static void ReportModifyingCteNotRouted(const char *reason) pg_attribute_noreturn();

static void CheckWriteShape(Query *parse, ShardextTable *target);
static void CheckDistributionColumnNotUpdated(Query *parse, ShardextTable *table);
static List *CoLocatedInsertSelect(Query *parse, ShardextTable *target);
static bool ValuesComeFromSource(Query *query);
static void ConstraintToArbiterColumns(Query *query, Index resultRelation);
static bool OnlyReferenceTables(List *rtes);
static bool HasDistributedTable(List *rtes);
static void CheckReferenceRowMarks(Query *parse, List *rtes);
static bool RowMarksWalker(Node *node, void *context);
static void WrapAsSubquery(RangeTblEntry *rte);
static bool WrapDistributedRtesWalker(Node *node, WrapContext *context);
static PlannedStmt *PlanOnLocalCopies(Query *parse, const char *queryString,
									  int cursorOptions,
									  ParamListInfo boundParams, List *rtes);
static Oid	LocalCopyOf(ShardextTable *table);
static void CheckModifyingCtes(Query *parse);

/*
 * ShardextInstallPlannerHooks installs the planner and path hooks, keeping
 * the previous ones, and registers the scan nodes.
 */
void
ShardextInstallPlannerHooks(void)
{
	PrevPlannerHook = planner_hook;
	planner_hook = ShardextPlanner;
	ShardextInstallPathlistHook();
	RegisterShardextScanMethods();
}

/* CallNextPlanner plans with the previous hook or the standard planner. */
static PlannedStmt *
CallNextPlanner(Query *parse, const char *queryString, int cursorOptions,
				ParamListInfo boundParams)
{
	if (PrevPlannerHook != NULL)
		return PrevPlannerHook(parse, queryString, cursorOptions, boundParams);
	return standard_planner(parse, queryString, cursorOptions, boundParams);
}

/* ReferencesDistributedTable tells whether any RTE is a distributed table. */
static bool
ReferencesDistributedTable(List *rtes)
{
	ListCell   *lc;

	foreach(lc, rtes)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (ShardextGetTable(rte->relid) != NULL)
			return true;
	}
	return false;
}

/*
 * ReportModifyingCteNotRouted raises the error of a data-modifying WITH on
 * distributed tables that cannot go whole to one node.
 */
static void
ReportModifyingCteNotRouted(const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("data-modifying WITH in a statement on distributed tables is only "
					"supported when the whole statement goes to one node"),
			 reason != NULL ?
			 errdetail("It cannot: %s.", reason) :
			 errdetail("That needs every table of the statement distributed (or a "
					   "reference table), every distributed table filtered on its "
					   "distribution column with the same value (an INSERT in the "
					   "WITH: one VALUES row with that value), and the statement "
					   "itself no INSERT into a distributed table; local tables "
					   "cannot take part."),
			 errhint("Run the data-modifying part as its own statement (with "
					 "RETURNING into a temporary table, for instance).")));
}

/* HasCurrentOf finds WHERE CURRENT OF. */
static bool
HasCurrentOf(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CurrentOfExpr))
		return true;
	return expression_tree_walker(node, HasCurrentOf, context);
}

/* HasMultiAssignment finds UPDATE ... SET (a, b) = (SELECT ...). */
static bool
HasMultiAssignment(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_MULTIEXPR)
		return true;
	if (IsA(node, SubLink) && ((SubLink *) node)->subLinkType == MULTIEXPR_SUBLINK)
		return true;
	return expression_tree_walker(node, HasMultiAssignment, context);
}

/*
 * CheckWriteShape refuses, with a clear error, writes of a distributed
 * table that the nodes would not carry out as PostgreSQL does: through a
 * view WITH CHECK OPTION (the check would not run), and UPDATE ... SET
 * (columns) = (SELECT ...).
 */
static void
CheckWriteShape(Query *parse, ShardextTable *target)
{
	/* (PostgreSQL checks the view's WHERE for ON CONFLICT DO UPDATE too) */
	if (parse->withCheckOptions != NIL && parse->onConflict != NULL &&
		parse->onConflict->action == ONCONFLICT_UPDATE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT ... ON CONFLICT DO UPDATE through a view with a WHERE clause or "
						"WITH CHECK OPTION is not supported on %s table \"%s\"",
						IsReferenceTable(target) ? "reference" : "distributed",
						get_rel_name(target->relid)),
				 errdetail("The nodes write the rows; the check of the view's condition would not run."),
				 errhint("Write to the table itself.")));
	if (parse->withCheckOptions != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("writes through a view WITH CHECK OPTION are not supported on %s table \"%s\"",
						IsReferenceTable(target) ? "reference" : "distributed",
						get_rel_name(target->relid)),
				 errdetail("The nodes write the rows; the view's check would not run."),
				 errhint("Write to the table itself, or recreate the view without "
						 "WITH CHECK OPTION.")));
	if (parse->jointree != NULL && parse->jointree->quals != NULL &&
		HasCurrentOf(parse->jointree->quals, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("WHERE CURRENT OF is not supported on distributed table \"%s\"",
						get_rel_name(target->relid)),
				 errdetail("The cursor's rows come from the nodes; their positions are not "
						   "known on the coordinator."),
				 errhint("Filter on the table's primary key instead.")));
	if (parse->commandType == CMD_UPDATE &&
		HasMultiAssignment((Node *) parse->targetList, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("UPDATE ... SET (columns) = (SELECT ...) is not supported on distributed table \"%s\"",
						get_rel_name(target->relid)),
				 errhint("Set each column with its own expression or subquery, or use "
						 "UPDATE ... FROM.")));
}

/*
 * KeepPermissionChecks adds to the range table of a plan that does not scan
 * the original query's distributed tables themselves (a per-shard subquery
 * planned into a custom scan, pushdown.c; the coordinator's copies of
 * reference tables read in their place) the original entries of those
 * tables, and of the views it read them through (pullup.c): PostgreSQL checks privileges on the entries of the final range
 * table, and the plan depends on the tables (relationOids).  Nothing in the
 * plan refers to them.
 */
static PlannedStmt *
KeepPermissionChecks(PlannedStmt *result, Query *original)
{
	ListCell   *lc;

	foreach(lc, CollectRelationRtes(original))
	{
		RangeTblEntry *rte = copyObject((RangeTblEntry *) lfirst(lc));

		if (ShardextGetTable(rte->relid) == NULL && rte->relkind != RELKIND_VIEW)
			continue;
		result->rtable = lappend(result->rtable, rte);
		if (!list_member_oid(result->relationOids, rte->relid))
			result->relationOids = lappend_oid(result->relationOids, rte->relid);
	}
	return result;
}

/*
 * MaterializeForScroll puts a Material node on top of a plan of a SCROLL
 * cursor, as the standard planner does: the remote scans only go forward.
 */
static PlannedStmt *
MaterializeForScroll(PlannedStmt *stmt, int cursorOptions)
{
	if ((cursorOptions & CURSOR_OPT_SCROLL) &&
		!ExecSupportsBackwardScan(stmt->planTree))
		stmt->planTree = materialize_finished_plan(stmt->planTree);
	return stmt;
}

/*
 * ReadsOnlyWithoutChildren tells whether a query is a SELECT whose range
 * table has only tables read with ONLY (and joins), the shape of
 * PostgreSQL's foreign key checks.
 */
static bool
ReadsOnlyWithoutChildren(Query *parse)
{
	ListCell   *lc;

	if (parse->commandType != CMD_SELECT)
		return false;
	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN)
			continue;
		if (rte->rtekind != RTE_RELATION || rte->inh)
			return false;
	}
	return true;
}

/*
 * PlanOnCoordinatorTables plans a query with PostgreSQL's planner alone,
 * on the coordinator's own tables (no ShardextScan paths).
 */
static PlannedStmt *
PlanOnCoordinatorTables(Query *parse, const char *queryString,
						int cursorOptions, ParamListInfo boundParams)
{
	PlannedStmt *result;

	PlanningCoordinatorTables = true;
	PG_TRY();
	{
		result = CallNextPlanner(parse, queryString, cursorOptions,
								 boundParams);
	}
	PG_FINALLY();
	{
		PlanningCoordinatorTables = false;
	}
	PG_END_TRY();
	return result;
}

/*
 * ShardextPlanner plans a query, distributing it when it touches
 * distributed tables.
 */
static PlannedStmt *
ShardextPlanner(Query *parse, const char *queryString, int cursorOptions,
				ParamListInfo boundParams)
{
	List	   *rtes;
	RouterAnalysis *analysis;
	ShardextTable *target = NULL;
	Query	   *flat;

	/* plans are made under the styles of now */
	ForgetPlansOfOtherStyles();

	if (ShardextPlanCoordinatorTables && ReadsOnlyWithoutChildren(parse))
		return PlanOnCoordinatorTables(parse, queryString, cursorOptions,
									   boundParams);

	if (parse->commandType == CMD_UTILITY ||
		(parse->rtable == NIL && parse->cteList == NIL && !parse->hasSubLinks) ||
		!ShardextExtensionLoaded() || !ShardextHasDistributedTables())
		return CallNextPlanner(parse, queryString, cursorOptions, boundParams);

	rtes = CollectRelationRtes(parse);
	if (!ReferencesDistributedTable(rtes))
		return CallNextPlanner(parse, queryString, cursorOptions, boundParams);

	/* reads of reference tables only: the coordinator's own copies */
	if (parse->commandType == CMD_SELECT && !parse->hasModifyingCTE)
	{
		PlannedStmt *local = PlanOnLocalCopies(parse, queryString, cursorOptions,
											   boundParams, rtes);

		if (local != NULL)
			return local;
	}

	if (parse->resultRelation > 0)
		target = ShardextGetTable(rt_fetch(parse->resultRelation,
										   parse->rtable)->relid);

	if (target != NULL)
		CheckWriteShape(parse, target);

	/*
	 * RETURNING tableoid of a distributed table is the table's OID, not the
	 * shard's on its node: it becomes a constant before anything is sent.
	 */
	if (target != NULL && parse->returningList != NIL)
	{
		parse = copyObject(parse);
		parse->returningList = (List *)
			ReplaceTableOidVars((Node *) parse->returningList,
								parse->resultRelation, target->relid);
	}

	/*
	 * An UPDATE or DELETE of a local table that reads distributed tables:
	 * PostgreSQL would ask the other tables for their row identity (ctid),
	 * which shard rows do not have; read through subqueries instead, for
	 * which it keeps whole rows.
	 */
	if ((parse->commandType == CMD_UPDATE || parse->commandType == CMD_DELETE) &&
		target == NULL)
	{
		WrapContext context;

		parse = copyObject(parse);
		context.top = parse;
		context.wrappers = NIL;
		WrapDistributedRtesWalker((Node *) parse, &context);
	}

	if (parse->commandType == CMD_MERGE && target != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("MERGE into a distributed table is not supported"),
				 errhint("Use INSERT ... ON CONFLICT, UPDATE and DELETE.")));

	if (parse->commandType == CMD_INSERT && target != NULL)
	{
		List	   *relids;

		/* the rows of an INSERT into a distributed table come through here */
		if (parse->hasModifyingCTE)
			ReportModifyingCteNotRouted(NULL);
		CheckSessionStyleOfWrites(target->relid);
		relids = CoLocatedInsertSelect(parse, target);

		if (relids != NIL)
		{
			Query	   *pushed = copyObject(parse);

			/*
			 * The nodes fill the defaults they compute alike; every other
			 * column must come from the SELECT (a default such as random()
			 * is evaluated per row here).
			 */
			(void) OmitColumnsNodesFill(pushed, target, NIL);
			if (ValuesComeFromSource(pushed))
			{
				RouterAnalysis analysis;
				RouterAnalysis *source = AnalyzeRouterQuery(pushed);
				Expr	   *pin = SharedPin(source);
				int			i;

				/*
				 * A SELECT pinned to one value of the distribution column
				 * (WHERE tenant = 42) finds its rows in one shard group, and
				 * the rows it inserts go to the target's shard of that group.
				 */
				if (pin != NULL && RouterPinsAgree(source))
				{
					source->relids = lcons_oid(target->relid, source->relids);
					source->pins = lcons(pin, source->pins);
					return PlanRemoteQuery(pushed, source, QUERY_SCAN_ROUTER, rtes);
				}
				memset(&analysis, 0, sizeof(analysis));
				analysis.relids = relids;
				for (i = 0; i < list_length(relids); i++)
					analysis.pins = lappend(analysis.pins, NULL);
				return PlanRemoteQuery(pushed, &analysis, QUERY_SCAN_ALL_SHARDS, rtes);
			}
		}
		return PlanDistributedInsert(parse, queryString, cursorOptions,
									 boundParams);
	}

	if (target != NULL)
		CheckDistributionColumnNotUpdated(parse, target);
	if (target != NULL && parse->commandType == CMD_UPDATE)
		CheckSessionStyleOfWrites(target->relid);
	CheckModifyingCtes(parse);

	/*
	 * The copies of a reference table change alike only when the statement
	 * computes the same on every node: one that reads other tables, or
	 * calls functions that are not immutable, gets its rows and new values
	 * from the coordinator.
	 */
	if (target != NULL && IsReferenceTable(target) &&
		(!OnlyReferenceTables(rtes) ||
		 contain_mutable_functions((Node *) parse)))
	{
		/* (its WITH would write the coordinator's own tables) */
		if (parse->hasModifyingCTE)
			ReportModifyingCteNotRouted(NULL);
		return PlanModifyThroughCoordinator(parse, queryString, cursorOptions,
											boundParams, target);
	}

	CheckReferenceRowMarks(parse, rtes);

	/*
	 * Views and simple subqueries in FROM, flattened as the planner would
	 * (pullup.c), so that conditions on their columns pin shards; their
	 * privileges are checked on the original's entries (rtes).
	 */
	flat = (target == NULL) ? PullUpSimpleSubqueries(parse) : parse;
	analysis = AnalyzeRouterQuery(flat);
	if (RouterPinsAgree(analysis))
		return MaterializeForScroll(PlanRemoteQuery(flat, analysis,
													QUERY_SCAN_ROUTER, rtes),
									cursorOptions);

	if (target != NULL)
	{
		/*
		 * UPDATE or DELETE that is not pinned: run it on every shard when it
		 * reads only its table, else find the rows first and change them by
		 * primary key.  A data-modifying WITH would run on every shard, or
		 * on the coordinator's own tables.
		 */
		if (parse->hasModifyingCTE)
			ReportModifyingCteNotRouted(analysis->shippable ? NULL : analysis->reason);
		if (RowMarksWalker((Node *) parse, NULL))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("FOR UPDATE/SHARE of distributed tables in a subquery of %s is only "
							"supported when one shard group answers the statement",
							parse->commandType == CMD_UPDATE ? "UPDATE" : "DELETE"),
					 errhint("Filter the target on its distribution column with the value "
							 "the subquery is filtered on (WHERE tenant = 4 AND ...).")));
		if (analysis->shippable && list_length(analysis->relids) == 1 &&
			list_length(rtes) == 1 && !HasVolatileSubLink((Node *) parse))
			return PlanRemoteQuery(parse, analysis, QUERY_SCAN_ALL_SHARDS, rtes);

		/*
		 * One that reads only tables co-located with its target and joined
		 * to it on their distribution columns (UPDATE ... FROM, USING, IN
		 * or EXISTS subqueries), and reference tables, runs on each shard
		 * group as it is.
		 */
		if (analysis->shippable && parse->cteList == NIL &&
			DistributedTablesJoinedOnDistribution(parse))
			return PlanRemoteQuery(parse, analysis, QUERY_SCAN_ALL_SHARDS, rtes);
		return PlanModifyThroughCoordinator(parse, queryString,
											cursorOptions, boundParams,
											target);
	}

	if (parse->hasModifyingCTE)
		ReportModifyingCteNotRouted(analysis->shippable ? NULL : analysis->reason);
	if (parse->rowMarks != NIL && !HasDistributedTable(rtes))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("SELECT ... FOR UPDATE/SHARE on reference tables joined with "
						"local tables is not supported"),
				 errhint("Lock the rows of the reference tables and of the local "
						 "tables in separate statements.")));
	if (parse->rowMarks != NIL || RowMarksWalker((Node *) parse, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("SELECT ... FOR UPDATE/SHARE on distributed tables is only "
						"supported when one shard group answers the query"),
				 !analysis->shippable && analysis->reason != NULL ?
				 errdetail("It cannot be sent whole to one node: %s.", analysis->reason) : 0,
				 errhint("Filter every distributed table on its distribution "
						 "column with the same value.")));

	/*
	 * Aggregation, top-N, windows of one distribution value, and co-located
	 * joins go to the shards when they can: the whole query, or else its
	 * subqueries (pushdown.c).
	 */
	if (ShardextEnablePushdown)
	{
		Query	   *rewritten = RewriteForShardPushdown(flat);

		if (rewritten != NULL)
		{
			/* a view's tables are checked as its owner: the original's entries */
			if (flat != parse)
				ClearPermissionChecks(rewritten);
			return KeepPermissionChecks(CallNextPlanner(rewritten, queryString,
														cursorOptions, boundParams),
										parse);
		}

		/* else its subqueries in FROM and WITH queries, each by itself */
		rewritten = RewriteSubqueriesForShardPushdown(flat);
		if (rewritten != NULL)
			return KeepPermissionChecks(CallNextPlanner(AddJoinKeyFilters(rewritten),
														queryString, cursorOptions,
														boundParams),
										parse);
	}

	/* a small local table's join keys filter the distributed tables */
	return CallNextPlanner(AddJoinKeyFilters(parse), queryString, cursorOptions,
						   boundParams);
}

/*
 * LocalCopyOf returns the coordinator's copy of a reference table, locked,
 * when it has one whose columns are the table's (same numbers, names and
 * types: queries on the table then read the copy unchanged), else
 * InvalidOid.
 */
static Oid
LocalCopyOf(ShardextTable *table)
{
	ShardextShard *shard = table->shards[0];
	Oid			copy;
	Relation	tableRel;
	Relation	copyRel;
	TupleDesc	tableDesc;
	TupleDesc	copyDesc;
	bool		same = true;
	int			i;

	if (!IsReferenceTable(table) || !ShardPlacedOn(shard, COORDINATOR_NODE_ID))
		return InvalidOid;
	copy = CoordinatorCopyRelid(shard->relationName);
	if (!OidIsValid(copy))
		return InvalidOid;
	LockRelationOid(copy, AccessShareLock);
	/* dropped while we waited for the lock (the table is locked: not likely) */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(copy)))
		return InvalidOid;

	tableRel = table_open(table->relid, NoLock);
	copyRel = table_open(copy, NoLock);
	tableDesc = RelationGetDescr(tableRel);
	copyDesc = RelationGetDescr(copyRel);
	for (i = 0; i < tableDesc->natts && same; i++)
	{
		Form_pg_attribute a = TupleDescAttr(tableDesc, i);
		Form_pg_attribute b;

		if (a->attisdropped)
			continue;
		if (i >= copyDesc->natts)
		{
			same = false;
			break;
		}
		b = TupleDescAttr(copyDesc, i);
		same = !b->attisdropped && a->atttypid == b->atttypid &&
			a->atttypmod == b->atttypmod && a->attcollation == b->attcollation &&
			strcmp(NameStr(a->attname), NameStr(b->attname)) == 0;
	}
	table_close(copyRel, NoLock);
	table_close(tableRel, NoLock);
	return same ? copy : InvalidOid;
}

/*
 * PlanOnLocalCopies plans a read whose distributed tables are all
 * reference tables on the coordinator's own copies, as a plain local
 * query: no round trip to a node, and the local transaction's snapshot.
 * Not when this transaction wrote to the copies through the coordinator's
 * connection to itself (the local snapshot would not see those writes).
 * The reference tables stay in the plan's range table, unreferenced, so
 * that their privileges are checked and plans are invalidated with them.
 * Returns NULL when the query does not qualify.
 */
static PlannedStmt *
PlanOnLocalCopies(Query *parse, const char *queryString, int cursorOptions,
				  ParamListInfo boundParams, List *rtes)
{
	NodeConnection *loopback = FindNodeConnection(COORDINATOR_NODE_ID);
	Query	   *local;
	ListCell   *lc;

	/*
	 * Not in a transaction block (the local lock on a copy would make a
	 * later change of the table in the transaction wait for it), nor with
	 * FOR UPDATE/SHARE (writes through the connection would wait for those
	 * row locks).
	 */
	if (IsTransactionBlock() || parse->rowMarks != NIL || parse->hasForUpdate)
		return NULL;
	if (loopback != NULL && loopback->inTransaction && loopback->wroteInTransaction)
		return NULL;
	foreach(lc, rtes)
	{
		ShardextTable *table = ShardextGetTable(((RangeTblEntry *) lfirst(lc))->relid);

		if (table != NULL && !IsReferenceTable(table))
			return NULL;
	}

	local = copyObject(parse);
	foreach(lc, CollectRelationRtes(local))
	{
		RangeTblEntry *rte = lfirst(lc);
		ShardextTable *table = ShardextGetTable(rte->relid);
		Oid			copy;

		if (table == NULL)
			continue;
		copy = LocalCopyOf(table);
		if (!OidIsValid(copy))
			return NULL;
		rte->relid = copy;
		rte->requiredPerms = 0;
		rte->selectedCols = NULL;
		rte->inh = false;
	}

	return KeepPermissionChecks(CallNextPlanner(local, queryString, cursorOptions,
												boundParams),
								parse);
}

/*
 * HasDistributedTable tells whether an RTE is a shardext table other than a
 * reference table.
 */
static bool
HasDistributedTable(List *rtes)
{
	ListCell   *lc;

	foreach(lc, rtes)
	{
		ShardextTable *table = ShardextGetTable(((RangeTblEntry *) lfirst(lc))->relid);

		if (table != NULL && !IsReferenceTable(table))
			return true;
	}
	return false;
}

/*
 * CheckReferenceRowMarks refuses a SELECT that locks rows of a reference
 * table (FOR UPDATE/SHARE) while it reads distributed tables too: it would
 * run on a distributed shard's node and lock that node's copy only, while
 * other statements lock (and writes change) the first copy first, so the
 * lock would not keep them out.
 */
static void
CheckReferenceRowMarks(Query *parse, List *rtes)
{
	if (HasDistributedTable(rtes))
		(void) RowMarksWalker((Node *) parse, (void *) "reference");
}

/*
 * RowMarksWalker looks at the rows that a query and its subqueries, CTEs
 * and sublinks lock (FOR UPDATE/SHARE): with context "reference", it
 * refuses locks of reference tables' rows (see CheckReferenceRowMarks);
 * otherwise it tells whether any level locks rows of shardext's tables.
 */
static bool
RowMarksWalker(Node *node, void *context)
{
	ListCell   *lc;

	if (node == NULL)
		return false;
	if (!IsA(node, Query))
		return expression_tree_walker(node, RowMarksWalker, context);
	foreach(lc, ((Query *) node)->rowMarks)
	{
		RowMarkClause *mark = lfirst(lc);
		RangeTblEntry *rte = rt_fetch(mark->rti, ((Query *) node)->rtable);
		ShardextTable *table;

		if (rte->rtekind != RTE_RELATION)
			continue;
		table = ShardextGetTable(rte->relid);
		if (table != NULL && context == NULL)
			return true;
		if (table != NULL && IsReferenceTable(table))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("SELECT ... FOR UPDATE/SHARE cannot lock rows of reference table \"%s\" "
							"in a statement that reads distributed tables",
							get_rel_name(rte->relid)),
					 errdetail("The statement runs on one node and would lock that node's copy "
							   "only, not the copy other statements lock."),
					 errhint("Name the distributed tables only (FOR UPDATE OF ...), and lock "
							 "the reference table's rows with a SELECT ... FOR UPDATE of their own.")));
	}
	return query_tree_walker((Query *) node, RowMarksWalker, context, 0);
}

/* OnlyReferenceTables tells whether every RTE is a reference table. */
static bool
OnlyReferenceTables(List *rtes)
{
	ListCell   *lc;

	foreach(lc, rtes)
	{
		ShardextTable *table = ShardextGetTable(((RangeTblEntry *) lfirst(lc))->relid);

		if (table == NULL || !IsReferenceTable(table))
			return false;
	}
	return true;
}

/*
 * CheckModifyingCtes refuses data-modifying WITH queries that write a
 * reference table: the statement runs on one node, the copies must all
 * change.  The distributed tables they write must take rows written in this
 * session's style (CheckSessionStyleOfWrites).
 */
static void
CheckModifyingCtes(Query *parse)
{
	ListCell   *lc;

	if (!parse->hasModifyingCTE)
		return;
	foreach(lc, parse->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);
		Query	   *cteQuery = (Query *) cte->ctequery;
		ShardextTable *table;

		if (!IsA(cteQuery, Query) || cteQuery->resultRelation <= 0)
			continue;
		table = ShardextGetTable(rt_fetch(cteQuery->resultRelation,
										  cteQuery->rtable)->relid);
		if (table != NULL && IsReferenceTable(table))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("data-modifying WITH on reference table \"%s\" is not supported",
							get_rel_name(table->relid)),
					 errhint("Run the INSERT, UPDATE or DELETE as a statement of its own.")));
		/* its rows are written by the node, as those of a statement would be */
		if (table != NULL && cteQuery->commandType != CMD_DELETE)
			CheckSessionStyleOfWrites(table->relid);
	}
}

/*
 * WrapAsSubquery turns the range table entry of a distributed table into a
 * subquery that reads it whole ("SELECT every column FROM table"), marked
 * as a security barrier so that the planner neither flattens it again nor
 * asks it for row identities, while it still pushes safe quals into it.
 * Column numbers stay those of the table (dropped columns are NULLs).
 */
static void
WrapAsSubquery(RangeTblEntry *rte)
{
	Query	   *sub = makeNode(Query);
	RangeTblRef *ref = makeNode(RangeTblRef);
	RangeTblEntry *inner = copyObject(rte);
	Relation	rel = table_open(rte->relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	sub->commandType = CMD_SELECT;
	sub->canSetTag = true;
	sub->rtable = list_make1(inner);
	ref->rtindex = 1;
	sub->jointree = makeFromExpr(list_make1(ref), NULL);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		Expr	   *expr;

		if (attr->attisdropped)
			expr = (Expr *) makeNullConst(INT4OID, -1, InvalidOid);
		else
			expr = (Expr *) makeVar(1, i + 1, attr->atttypid, attr->atttypmod,
									attr->attcollation, 0);
		sub->targetList = lappend(sub->targetList,
								  makeTargetEntry(expr, i + 1,
												  pstrdup(NameStr(attr->attname)),
												  false));
	}
	table_close(rel, NoLock);

	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = sub;
	rte->security_barrier = true;
	rte->relid = InvalidOid;
	rte->relkind = 0;
	rte->rellockmode = 0;
	rte->tablesample = NULL;
	rte->inh = false;
	rte->requiredPerms = 0;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = NULL;
	rte->insertedCols = NULL;
	rte->updatedCols = NULL;
	rte->extraUpdatedCols = NULL;
}

/*
 * WrapDistributedRtesWalker wraps every distributed table a statement reads
 * (at any level, not its target) with WrapAsSubquery.
 */
static bool
WrapDistributedRtesWalker(Node *node, WrapContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		if (list_member_ptr(context->wrappers, query))
			return false;
		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind != RTE_RELATION ||
				(query == context->top &&
				 foreach_current_index(lc) + 1 == query->resultRelation))
				continue;
			if (ShardextGetTable(rte->relid) != NULL)
			{
				WrapAsSubquery(rte);
				context->wrappers = lappend(context->wrappers, rte->subquery);
			}
		}
		return query_tree_walker(query, WrapDistributedRtesWalker, context, 0);
	}
	return expression_tree_walker(node, WrapDistributedRtesWalker, context);
}

/*
 * CoLocatedInsertSelect returns the tables of an INSERT ... SELECT (the
 * target first) when it can run on each shard group separately: the SELECT
 * reads only tables co-located with the target, joined on their
 * distribution columns, without aggregation, sorting, limits or anything
 * else that needs all rows; and the target's distribution column receives
 * one of those distribution columns unchanged.  Otherwise NIL.
 */
static List *
CoLocatedInsertSelect(Query *parse, ShardextTable *target)
{
	RangeTblEntry *sourceRte = NULL;
	Query	   *source;
	List	   *relids;
	ListCell   *lc;
	TargetEntry *distTle = NULL;
	TargetEntry *sourceTle;
	Var		   *var;
	ShardextTable *sourceTable;

	if (target->type != DIST_HASH && target->type != DIST_RANGE)
		return NIL;
	if (list_length(parse->jointree->fromlist) != 1 ||
		!IsA(linitial(parse->jointree->fromlist), RangeTblRef) ||
		parse->cteList != NIL || parse->hasSubLinks ||
		(parse->onConflict != NULL && OidIsValid(parse->onConflict->constraint)))
		return NIL;
	sourceRte = rt_fetch(((RangeTblRef *) linitial(parse->jointree->fromlist))->rtindex,
						 parse->rtable);
	if (sourceRte->rtekind != RTE_SUBQUERY)
		return NIL;
	source = sourceRte->subquery;
	if (source->hasAggs || source->groupClause != NIL ||
		source->distinctClause != NIL || source->sortClause != NIL ||
		source->limitCount != NULL || source->limitOffset != NULL ||
		source->hasWindowFuncs || source->hasTargetSRFs ||
		source->setOperations != NULL || source->hasSubLinks ||
		source->cteList != NIL || source->hasRowSecurity ||
		!DistributedTablesJoinedOnDistribution(source) ||
		ContainsTransactionTime((Node *) parse))
		return NIL;

	/* everything the statement computes must run on a node */
	if (!AnalyzeRouterQuery(parse)->shippable)
		return NIL;

	/* the target's distribution column is a distribution column of the source */
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resno == target->distAttno)
			distTle = tle;
	}
	if (distTle == NULL || !IsA(distTle->expr, Var))
		return NIL;
	var = (Var *) distTle->expr;
	if (var->varlevelsup != 0 || var->varattno <= 0 ||
		var->varattno > list_length(source->targetList))
		return NIL;
	sourceTle = list_nth(source->targetList, var->varattno - 1);
	if (!IsA(sourceTle->expr, Var))
		return NIL;
	var = (Var *) sourceTle->expr;
	/* (an outer join's null-extended rows would get no distribution value) */
	if (var->varlevelsup != 0 ||
		RteNullable((Node *) source->jointree, var->varno, false))
		return NIL;
	sourceTable = ShardextGetTable(rt_fetch(var->varno, source->rtable)->relid);
	if (sourceTable == NULL || sourceTable->distAttno != var->varattno ||
		sourceTable->colocationId != target->colocationId ||
		sourceTable->distTypeId != target->distTypeId)
		return NIL;

	relids = list_make1_oid(target->relid);
	foreach(lc, CollectRelationRtes(source))
	{
		RangeTblEntry *rte = lfirst(lc);

		if (!list_member_oid(relids, rte->relid))
			relids = lappend_oid(relids, rte->relid);
	}
	return relids;
}

/*
 * ValuesComeFromSource tells whether every column an INSERT ... SELECT
 * writes gets a column of its SELECT (converted as assignment converts it):
 * only then does the statement deparse as one a node can run, as the SQL
 * of an INSERT ... SELECT has no place for the defaults the rewriter put in
 * its target list.
 */
static bool
ValuesComeFromSource(Query *query)
{
	Index		sourceRti = ((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex;
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = strip_implicit_coercions((Node *) tle->expr);

		if (tle->resjunk)
			continue;
		if (!IsA(expr, Var) || ((Var *) expr)->varno != sourceRti ||
			((Var *) expr)->varlevelsup != 0)
			return false;
	}
	return true;
}

/*
 * CheckDistributionColumnNotUpdated refuses an UPDATE that assigns the
 * distribution column: the row would have to move to another shard.
 */
static void
CheckDistributionColumnNotUpdated(Query *parse, ShardextTable *table)
{
	ListCell   *lc;

	if (parse->commandType != CMD_UPDATE || table->distColumnName == NULL)
		return;
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var = (Var *) tle->expr;

		/* SET column = column leaves every row where it is */
		if (IsA(var, Var) && var->varno == parse->resultRelation &&
			var->varattno == table->distAttno && var->varlevelsup == 0)
			continue;
		if (!tle->resjunk && tle->resno == table->distAttno)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot update distribution column \"%s\" of table \"%s\"",
							table->distColumnName, get_rel_name(table->relid)),
					 errdetail("The row would have to move to another shard."),
					 errhint("DELETE the row and INSERT it with the new value.")));
	}
}

/*
 * SetScanTargetList gives a scan that returns the given (non-junk) target
 * entries its scan tuple and its output.  The scan tuple's columns are
 * Vars of an entry that AddRemoteResultRte appends to the range table, so
 * that EXPLAIN VERBOSE shows them by name; the output is Vars over the scan
 * tuple.
 */
static void
SetScanTargetList(CustomScan *cscan, List *targetList, Index remoteRti)
{
	ListCell   *lc;
	AttrNumber	resno = 0;

	cscan->custom_scan_tlist = NIL;
	cscan->scan.plan.targetlist = NIL;
	foreach(lc, targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;
		Var		   *var;

		if (tle->resjunk)
			continue;
		resno++;
		var = makeVar(remoteRti, resno, exprType(expr), exprTypmod(expr),
					  exprCollation(expr), 0);
		cscan->custom_scan_tlist =
			lappend(cscan->custom_scan_tlist,
					makeTargetEntry((Expr *) var, resno, tle->resname, false));
		var = makeVar(INDEX_VAR, resno, exprType(expr), exprTypmod(expr),
					  exprCollation(expr), 0);
		cscan->scan.plan.targetlist =
			lappend(cscan->scan.plan.targetlist,
					makeTargetEntry((Expr *) var, resno, tle->resname, false));
	}
}

/*
 * AddRemoteResultRte appends to a range table the entry that names the
 * columns a remote statement returns (see SetScanTargetList).
 */
static List *
AddRemoteResultRte(List *rtable, List *targetList)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	List	   *colnames = NIL;
	ListCell   *lc;

	foreach(lc, targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (!tle->resjunk)
			colnames = lappend(colnames,
							   makeString(pstrdup(tle->resname ? tle->resname : "?column?")));
	}
	rte->rtekind = RTE_RESULT;
	rte->eref = makeAlias("remote", colnames);
	rte->inFromCl = false;
	return lappend(rtable, rte);
}

/*
 * MakePlannedStmt wraps a hand-made plan for a query; rtes are the query's
 * relations, copied into the range table.
 */
static PlannedStmt *
MakePlannedStmt(Query *parse, Plan *plan, List *rtes)
{
	PlannedStmt *result = makeNode(PlannedStmt);
	ListCell   *lc;

	result->commandType = parse->commandType;
	result->queryId = parse->queryId;
	result->hasReturning = (parse->returningList != NIL);
	result->hasModifyingCTE = parse->hasModifyingCTE;
	result->canSetTag = parse->canSetTag;
	result->transientPlan = false;
	result->dependsOnRole = false;
	result->parallelModeNeeded = false;
	result->jitFlags = 0;
	result->planTree = plan;
	result->rtable = NIL;
	foreach(lc, rtes)
	{
		RangeTblEntry *rte = copyObject((RangeTblEntry *) lfirst(lc));

		rte->inh = false;
		result->rtable = lappend(result->rtable, rte);
		result->relationOids = lappend_oid(result->relationOids, rte->relid);
	}
	result->resultRelations = NIL;
	result->appendRelations = NIL;
	result->subplans = NIL;
	result->rewindPlanIDs = NULL;
	result->rowMarks = NIL;
	result->invalItems = NIL;
	result->paramExecTypes = NIL;
	result->utilityStmt = NULL;
	result->stmt_location = parse->stmt_location;
	result->stmt_len = parse->stmt_len;
	return result;
}

/* the most parameters the protocol lets a statement have */
#define MAX_STATEMENT_PARAMS 65535

/*
 * ConstToParamMutator replaces the constants of a query by parameters
 * numbered after its own, collecting them (in parameter order) to be sent
 * as the parameters' values.  Constants of types a node may not know, and
 * those without a definite type, stay literals.  Equal constants share one
 * parameter: an expression of GROUP BY then reads the same in the select
 * list, HAVING and ORDER BY, where the node's parser must recognize it.
 */
static Node *
ConstToParamMutator(Node *node, ConstToParamContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Const))
	{
		Const	   *constant = (Const *) node;
		Param	   *param;
		int			paramid = 0;
		ListCell   *lc;

		/* (a statement takes at most 65535 parameters: the rest stay) */
		if (constant->consttype >= FirstNormalObjectId ||
			constant->consttype == UNKNOWNOID ||
			constant->consttype == CSTRINGOID ||
			context->nextId + list_length(context->consts) >= MAX_STATEMENT_PARAMS)
			return node;
		/* (long IN lists are one constant each: look among the first few) */
		foreach(lc, context->consts)
		{
			if (foreach_current_index(lc) >= MAX_SHARED_CONSTS)
				break;
			if (equal(lfirst(lc), constant))
			{
				paramid = context->nextId + foreach_current_index(lc) + 1;
				break;
			}
		}
		if (paramid == 0)
		{
			context->consts = lappend(context->consts, copyObject(constant));
			paramid = context->nextId + list_length(context->consts);
		}
		param = makeNode(Param);
		param->paramkind = PARAM_EXTERN;
		param->paramid = paramid;
		param->paramtype = constant->consttype;
		param->paramtypmod = constant->consttypmod;
		param->paramcollid = constant->constcollid;
		param->location = -1;
		return (Node *) param;
	}
	if (IsA(node, FuncExpr) &&
		((FuncExpr *) node)->funcformat != COERCE_EXPLICIT_CALL)
	{
		/*
		 * Special SQL syntax (EXTRACT(field FROM x), TRIM, SUBSTRING, ...)
		 * is deparsed from its constant arguments, and a cast to a length
		 * (varchar(2), numeric(10,2)) from its constant length argument:
		 * they stay literals (but for the value a cast converts).
		 */
		FuncExpr   *func = (FuncExpr *) copyObject(node);
		ListCell   *lc;

		foreach(lc, func->args)
		{
			if (!IsA(lfirst(lc), Const) ||
				(func->funcformat != COERCE_SQL_SYNTAX &&
				 foreach_current_index(lc) == 0))
				lfirst(lc) = ConstToParamMutator(lfirst(lc), context);
		}
		return (Node *) func;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, ConstToParamMutator,
										   context, 0);
	return expression_tree_mutator(node, ConstToParamMutator, context);
}

/*
 * PlanRemoteQuery plans a statement sent whole to shards: to the shard
 * group its pins select (router), or to every shard of its one table.
 */
static PlannedStmt *
PlanRemoteQuery(Query *parse, RouterAnalysis *analysis, QueryScanMode mode,
				List *rtes)
{
	CustomScan *cscan = makeNode(CustomScan);
	int			paramCount = MaxExternParamId((Node *) parse);
	ConstToParamContext constants = {paramCount, NIL};
	Query	   *shipped = parse;
	char	   *sql;
	QueryTemplate *template;
	List	   *outputList = (parse->commandType == CMD_SELECT) ?
		parse->targetList : parse->returningList;
	List	   *pins = NIL;
	Expr	   *pinList = NULL;
	PlannedStmt *result;
	ListCell   *lc;

	/*
	 * An UPDATE or DELETE of every shard whose WHERE says "distribution
	 * column IN (values)" goes only to the shards of those values.
	 */
	if (mode == QUERY_SCAN_ALL_SHARDS && parse->resultRelation > 0 &&
		parse->jointree->quals != NULL)
	{
		ShardextTable *table = ShardextGetTable(linitial_oid(analysis->relids));

		if (table != NULL && !IsSingleShardTable(table))
			pinList = FindPinListInClauses(make_ands_implicit((Expr *)
															  eval_const_expressions(NULL,
																					 copyObject(parse->jointree->quals))),
										   parse->resultRelation, table);
		if (pinList != NULL)
			pinList = expression_planner(pinList);
	}

	/*
	 * A router query's constants are sent as parameters: the statement text
	 * is then the same for every value, so the node keeps it prepared (and
	 * plans it once) however the query was sent to the coordinator.
	 */
	shipped = (Query *) ParameterizeTransactionTime((Node *) parse, paramCount,
													&constants.consts);
	if (mode == QUERY_SCAN_ROUTER && ShardextParameterizeConstants)
		shipped = query_tree_mutator(copyObject(shipped), ConstToParamMutator,
									 &constants, 0);
	sql = DeparseQueryForShards(shipped, analysis->relids);
	template = SplitQueryTemplate(sql, analysis->relids);

	if (template->slots == NIL)
		elog(ERROR, "could not find the distributed tables in the deparsed query: %s",
			 sql);

	foreach(lc, analysis->pins)
	{
		Expr	   *pin = copyObject((Expr *) lfirst(lc));

		/* as the executor needs it (COLLATE clauses removed, ...) */
		if (pin != NULL)
			pin = expression_planner(pin);
		pins = lappend(pins, mode == QUERY_SCAN_ROUTER ? pin : NULL);
	}

	SetScanTargetList(cscan, outputList, list_length(rtes) + 1);
	cscan->scan.scanrelid = 0;
	cscan->scan.plan.startup_cost = 0;
	cscan->scan.plan.total_cost = 100;
	cscan->scan.plan.plan_rows = 100;
	cscan->scan.plan.plan_width = 100;
	cscan->flags = 0;
	cscan->custom_private = list_make5(template->fragments, template->slots,
									   analysis->relids, pins,
									   makeInteger(mode));
	cscan->custom_private = lappend(cscan->custom_private,
									makeInteger(paramCount));
	cscan->custom_private = lappend(cscan->custom_private,
									makeInteger(parse->commandType));
	cscan->custom_private = lappend(cscan->custom_private, constants.consts);
	cscan->custom_private = lappend(cscan->custom_private,
									CollectFunctions((Node *) parse));
	cscan->custom_private = lappend(cscan->custom_private, pinList);
	cscan->methods = &ShardextQueryScanMethods;

	result = MakePlannedStmt(parse, (Plan *) cscan, rtes);
	result->rtable = AddRemoteResultRte(result->rtable, outputList);
	return result;
}

/*
 * ConstraintToArbiterColumns replaces "ON CONFLICT ON CONSTRAINT name" of a
 * query by the list of the columns of the constraint's unique index, which
 * picks the same arbiter on a shard.
 */
static void
ConstraintToArbiterColumns(Query *query, Index resultRelation)
{
	OnConflictExpr *onConflict = query->onConflict;
	Oid			indexOid = get_constraint_index(onConflict->constraint);
	HeapTuple	tuple;
	Form_pg_index index;
	RangeTblEntry *rte = rt_fetch(resultRelation, query->rtable);
	int			i;

	if (!OidIsValid(indexOid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT ON CONSTRAINT needs a unique constraint on a distributed table"),
				 errhint("Name the conflict columns instead: ON CONFLICT (col, ...).")));
	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexOid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for index %u", indexOid);
	index = (Form_pg_index) GETSTRUCT(tuple);
	if (!heap_attisnull(tuple, Anum_pg_index_indexprs, NULL) ||
		!heap_attisnull(tuple, Anum_pg_index_indpred, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT ON CONSTRAINT with an expression or partial index "
						"is not supported on distributed tables"),
				 errhint("Name the conflict columns instead: ON CONFLICT (col, ...).")));
	onConflict->arbiterElems = NIL;
	for (i = 0; i < index->indnkeyatts; i++)
	{
		AttrNumber	attno = index->indkey.values[i];
		InferenceElem *elem = makeNode(InferenceElem);
		Oid			typeId;
		int32		typmod;
		Oid			collation;

		get_atttypetypmodcoll(rte->relid, attno, &typeId, &typmod, &collation);
		elem->expr = (Node *) makeVar(resultRelation, attno, typeId, typmod,
									  collation, 0);
		elem->infercollid = InvalidOid;
		elem->inferopclass = InvalidOid;
		onConflict->arbiterElems = lappend(onConflict->arbiterElems, elem);
	}
	ReleaseSysCache(tuple);
	onConflict->constraint = InvalidOid;
}

/*
 * OmitColumnsNodesFill removes from the target list of query (an INSERT
 * into table, or a copy of one) the columns that the INSERT does not name
 * (their values are the table's defaults, not a view's) and whose default a
 * shard computes alike (NodeFillsOmittedColumn), except the distribution
 * column, which picks the shard, and the columns in keep: the node then
 * checks INSERT privilege on the named columns only, as PostgreSQL does
 * here.  Returns the positions (from 0) of the entries kept, for a copy of
 * the query that must lose the same ones.
 */
static List *
OmitColumnsNodesFill(Query *query, ShardextTable *table, List *keep)
{
	RangeTblEntry *targetRte = rt_fetch(query->resultRelation, query->rtable);
	Relation	rel = table_open(targetRte->relid, NoLock);
	List	   *kept = NIL;
	List	   *positions = NIL;
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk || tle->resno == table->distAttno ||
			list_member_int(keep, tle->resno) ||
			bms_is_member(tle->resno - FirstLowInvalidHeapAttributeNumber,
						  targetRte->insertedCols) ||
			!NodeFillsOmittedColumn(rel, tle->resno) ||
			!equal(tle->expr, build_column_default(rel, tle->resno)))
		{
			kept = lappend(kept, tle);
			positions = lappend_int(positions, foreach_current_index(lc));
		}
		else
		{
			/* folded as the planner would have: an error (1/0) is raised */
			(void) eval_const_expressions(NULL, (Node *) tle->expr);
		}
	}
	table_close(rel, NoLock);

	/* a row needs a column to be written (INSERT ... DEFAULT VALUES) */
	if (kept == NIL && query->targetList != NIL)
	{
		kept = list_make1(linitial(query->targetList));
		positions = list_make1_int(0);
	}
	query->targetList = kept;
	return positions;
}

/*
 * PlanDistributedInsert plans an INSERT into a distributed table: its
 * source rows are planned as a SELECT by the standard planner, and a
 * ShardextInsert on top routes each row to its shard with the statement
 * deparsed here ("INSERT INTO shard AS alias (cols) " + rows + the rest:
 * ON CONFLICT, RETURNING).
 */
static PlannedStmt *
PlanDistributedInsert(Query *parse, const char *queryString, int cursorOptions,
					  ParamListInfo boundParams)
{
	RangeTblEntry *targetRte = rt_fetch(parse->resultRelation, parse->rtable);
	ShardextTable *table = ShardextGetTable(targetRte->relid);
	Query	   *source = copyObject(parse);
	Query	   *statement = copyObject(parse);
	PlannedStmt *result;
	CustomScan *cscan = makeNode(CustomScan);
	int			paramBase;
	int			distColumn = 0;
	int			ncolumns = 0;
	List	   *relids = list_make1_oid(table->relid);
	StringInfoData values;
	QueryTemplate *prefix;
	QueryTemplate *tail;
	char	   *sql;
	char	   *found;
	List	   *arbiterAttnos = NIL;
	List	   *arbiterColumns = NIL;
	List	   *timeExprs = NIL;
	ListCell   *lc;

	/*
	 * A row of no values (DEFAULT VALUES, none of the columns having a
	 * default): a NULL in a column, as the row reads on PostgreSQL; one the
	 * user may insert into (PostgreSQL asks for INSERT on any column), as
	 * the node checks the column named.
	 */
	if (parse->targetList == NIL)
	{
		Relation	rel = table_open(table->relid, NoLock);
		TupleDesc	desc = RelationGetDescr(rel);
		Form_pg_attribute attr;
		bool		hasColumns = false;
		int			first = -1;
		int			i;

		for (i = 0; i < desc->natts; i++)
		{
			attr = TupleDescAttr(desc, i);
			if (!attr->attisdropped)
				hasColumns = true;
			if (attr->attisdropped || attr->attgenerated)
				continue;
			if (first < 0)
				first = i;
			if (pg_attribute_aclcheck(table->relid, i + 1, GetUserId(),
									  ACL_INSERT) == ACLCHECK_OK)
				break;
		}
		if (i == desc->natts)
			i = first;
		if (i < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("INSERT of rows without a value for any column into table \"%s\" is not supported",
							get_rel_name(table->relid)),
					 hasColumns ? errdetail("All of its columns are generated.") :
					 errdetail("It has no columns."),
					 hasColumns ? errhint("Add a column that is not generated.") :
					 errhint("Add a column.")));
		attr = TupleDescAttr(desc, i);
		source->targetList =
			list_make1(makeTargetEntry((Expr *) makeNullConst(attr->atttypid,
															  attr->atttypmod,
															  attr->attcollation),
									   i + 1, pstrdup(NameStr(attr->attname)),
									   false));
		statement->targetList = copyObject(source->targetList);
		table_close(rel, NoLock);
	}

	/*
	 * The shard's statement is sent the parameters its ON CONFLICT and
	 * RETURNING parts use (numbered as in the statement: the nodes see $1
	 * up to the highest of them), then the rows' values; parameters used
	 * only in the rows are evaluated here and not sent.
	 */
	paramBase = Max(MaxExternParamId((Node *) parse->onConflict),
					MaxExternParamId((Node *) parse->returningList));

	/*
	 * now() and its kin in ON CONFLICT DO UPDATE and RETURNING, which the
	 * nodes compute, are the coordinator's: parameters after the statement's
	 * own, before the rows'.
	 */
	statement->onConflict = (OnConflictExpr *)
		ParameterizeTransactionTime((Node *) statement->onConflict, paramBase,
									&timeExprs);
	statement->returningList = (List *)
		ParameterizeTransactionTime((Node *) statement->returningList, paramBase,
									&timeExprs);
	paramBase += list_length(timeExprs);

	if (parse->onConflict != NULL)
	{
		foreach(lc, parse->onConflict->onConflictSet)
		{
			TargetEntry *tle = lfirst(lc);

			if (!tle->resjunk && tle->resno == table->distAttno)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot update distribution column \"%s\" of table \"%s\"",
								table->distColumnName, get_rel_name(table->relid)),
						 errdetail("The row would have to move to another shard."),
						 errhint("Leave the distribution column out of ON CONFLICT DO UPDATE SET.")));
		}
	}
	/* RETURNING is computed by the nodes, with each row they insert */
	foreach(lc, parse->returningList)
	{
		Node	   *expr = (Node *) ((TargetEntry *) lfirst(lc))->expr;

		if (checkExprHasSubLink(expr) || !IsShippableExpression(expr) ||
			IsAnonymousRecord(expr))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("RETURNING with subqueries, system columns or functions the nodes cannot run is not supported in INSERT into distributed table \"%s\"",
							get_rel_name(table->relid)),
					 errdetail("Each node computes RETURNING for the rows it inserts: it may use only built-in functions and no system columns (xmin, ctid, ...), and, "
							   "in a session whose DateStyle is not ISO, IntervalStyle not postgres or "
							   "extra_float_digits below 1, not write dates, times, intervals or floats as text."),
					 errhint("Return the table's columns, and compute the rest in a query afterwards.")));
	}

	/*
	 * The DO UPDATE part runs on the node of each row's shard, where a
	 * subquery would see only that node's tables.
	 */
	if (parse->onConflict != NULL &&
		(checkExprHasSubLink((Node *) parse->onConflict->onConflictSet) ||
		 checkExprHasSubLink(parse->onConflict->onConflictWhere)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT DO UPDATE on %s table \"%s\" cannot use subqueries",
						IsReferenceTable(table) ? "reference" : "distributed",
						get_rel_name(table->relid)),
				 errdetail("The update runs on the node of each row's shard."),
				 errhint("Compute the values in the inserted rows and use excluded.column "
						 "in the SET list, or run an UPDATE afterwards.")));
	/* ... and where only what a node can compute can be used */
	if (parse->onConflict != NULL &&
		(!IsShippableExpression((Node *) parse->onConflict->onConflictSet) ||
		 !IsShippableExpression(parse->onConflict->onConflictWhere)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT DO UPDATE on %s table \"%s\" uses functions, columns or conversions the nodes cannot compute",
						IsReferenceTable(table) ? "reference" : "distributed",
						get_rel_name(table->relid)),
				 errdetail("The update runs on the node of each row's shard: it may use only built-in functions "
						   "(no sequence, also not through a column's DEFAULT), the table's own columns (no system columns) "
						   "and parameters of built-in types or of types a distributed table uses, and, "
						   "in a session whose DateStyle is not ISO, IntervalStyle not postgres or "
						   "extra_float_digits below 1, not write dates, times, intervals or floats as text."),
				 errhint("Compute the values in the inserted rows and use excluded.column "
						 "in the SET list, or run an UPDATE afterwards.")));
	/* the copies of a reference table must change alike */
	if (IsReferenceTable(table) && parse->onConflict != NULL &&
		(contain_mutable_functions((Node *) parse->onConflict->onConflictSet) ||
		 contain_mutable_functions(parse->onConflict->onConflictWhere)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT DO UPDATE on reference table \"%s\" must use only immutable functions",
						get_rel_name(table->relid)),
				 errdetail("Every copy would compute its own values."),
				 errhint("Compute the values in the inserted rows (they are computed once, "
						 "on the coordinator) and use excluded.column in the SET list.")));

	/*
	 * ON CONFLICT ON CONSTRAINT names the coordinator's constraint; the
	 * shard's has another name.  The same arbiter is given by the columns of
	 * the constraint's index.
	 */
	if (parse->onConflict != NULL && OidIsValid(parse->onConflict->constraint))
		ConstraintToArbiterColumns(statement, parse->resultRelation);

	/*
	 * ON CONFLICT DO UPDATE on plain columns: the insert scan checks that no
	 * two rows of the statement have the same key, as PostgreSQL does (rows
	 * of one shard are sent in batches, and the node sees one at a time).
	 */
	if (statement->onConflict != NULL &&
		statement->onConflict->action == ONCONFLICT_UPDATE)
	{
		foreach(lc, statement->onConflict->arbiterElems)
		{
			InferenceElem *elem = lfirst(lc);

			if (!IsA(elem->expr, Var))
			{
				arbiterAttnos = NIL;
				break;
			}
			arbiterAttnos = lappend_int(arbiterAttnos, ((Var *) elem->expr)->varattno);
		}
	}

	/*
	 * Columns the statement does not name, which a shard fills alike, are
	 * left out: the node then checks INSERT privilege on the named columns
	 * only, as PostgreSQL does here.
	 */
	{
		List	   *positions = OmitColumnsNodesFill(statement, table, arbiterAttnos);
		List	   *kept = NIL;

		foreach(lc, positions)
			kept = lappend(kept, list_nth(source->targetList, lfirst_int(lc)));
		source->targetList = kept;
	}

	/* the source rows: the INSERT's target list, as a SELECT */
	source->commandType = CMD_SELECT;
	source->resultRelation = 0;
	source->onConflict = NULL;
	source->returningList = NIL;
	source->hasModifyingCTE = false;
	initStringInfo(&values);
	appendStringInfoString(&values, "VALUES (");
	foreach(lc, source->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resno == table->distAttno)
			distColumn = ncolumns + 1;
		if (list_member_int(arbiterAttnos, tle->resno))
			arbiterColumns = lappend_int(arbiterColumns, ncolumns);
		ncolumns++;
		tle->resno = ncolumns;
		appendStringInfo(&values, "%s$%d", ncolumns > 1 ? ", " : "",
						 paramBase + ncolumns);
	}
	appendStringInfoChar(&values, ')');
	if (distColumn == 0 && !IsSingleShardTable(table))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("INSERT into distributed table \"%s\" must give a value "
						"for distribution column \"%s\"",
						get_rel_name(table->relid), table->distColumnName),
				 errhint("Every row needs a distribution value to pick its shard.")));

	/* the statement for one shard, with the rows as parameters */
	foreach(lc, statement->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;
		Param	   *param = makeNode(Param);

		param->paramkind = PARAM_EXTERN;
		param->paramid = paramBase + foreach_current_index(lc) + 1;
		param->paramtype = exprType(expr);
		param->paramtypmod = exprTypmod(expr);
		param->paramcollid = exprCollation(expr);
		param->location = -1;
		tle->expr = (Expr *) param;
	}
	foreach(lc, statement->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_VALUES || rte->rtekind == RTE_SUBQUERY)
		{
			rte->rtekind = RTE_RESULT;
			rte->subquery = NULL;
			rte->values_lists = NIL;
		}
	}
	statement->jointree->fromlist = NIL;
	statement->cteList = NIL;
	sql = DeparseQueryForShards(statement, relids);
	found = strstr(sql, values.data);
	if (found == NULL)
		elog(ERROR, "could not find the VALUES list in the deparsed INSERT: %s",
			 sql);
	prefix = SplitQueryTemplate(pnstrdup(sql, found - sql), relids);
	tail = SplitQueryTemplate(found + values.len, relids);
	if (prefix->slots == NIL)
		elog(ERROR, "could not find the target table in the deparsed INSERT: %s",
			 sql);

	result = standard_planner(source, queryString, cursorOptions, boundParams);

	SetScanTargetList(cscan, parse->returningList,
					  list_length(result->rtable) + 1);
	result->rtable = AddRemoteResultRte(result->rtable, parse->returningList);
	cscan->scan.scanrelid = 0;
	cscan->scan.plan.startup_cost = result->planTree->startup_cost;
	cscan->scan.plan.total_cost = result->planTree->total_cost + 100;
	cscan->scan.plan.plan_rows = result->planTree->plan_rows;
	cscan->scan.plan.plan_width = 100;
	cscan->custom_plans = list_make1(result->planTree);
	cscan->custom_private = list_make5(list_make1_oid(table->relid),
									   prefix->fragments, prefix->slots,
									   tail->fragments, tail->slots);
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(ncolumns));
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(distColumn));
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(paramBase));
	cscan->custom_private = lappend(cscan->custom_private,
									list_length(arbiterColumns) == list_length(arbiterAttnos) ?
									arbiterColumns : NIL);
	/* what the nodes compute: ON CONFLICT DO UPDATE and RETURNING */
	cscan->custom_private = lappend(cscan->custom_private,
									list_concat(CollectFunctions((Node *) parse->onConflict),
												CollectFunctions((Node *) parse->returningList)));
	cscan->custom_private = lappend(cscan->custom_private, timeExprs);
	cscan->methods = &ShardextInsertScanMethods;

	result->planTree = (Plan *) cscan;
	result->commandType = CMD_INSERT;
	result->hasReturning = (parse->returningList != NIL);
	result->canSetTag = parse->canSetTag;
	result->queryId = parse->queryId;
	if (!list_member_oid(result->relationOids, table->relid))
		result->relationOids = lappend_oid(result->relationOids, table->relid);
	return result;
}
