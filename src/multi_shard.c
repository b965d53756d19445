/*-------------------------------------------------------------------------
 *
 * multi_shard.c
 *	  Reading distributed tables inside plans of the standard planner.
 *
 * A query that is not a router query is planned by the standard planner,
 * with every distributed table scanned by a ShardextScan: the
 * set_rel_pathlist hook replaces the paths of the (empty) local table with
 * one custom path.  Its plan fetches from every shard the columns the rest
 * of the plan needs, with the restrictions the nodes can evaluate (built-in
 * functions and types only, no volatile functions, no internal parameters)
 * pushed into the remote WHERE clause; the others stay as local filters.
 * An equality on the distribution column limits the scan to one shard.
 * Joins, grouping, sorting and everything else happen on the coordinator,
 * so results are exactly PostgreSQL's.
 *
 * IDENTIFICATION
 *	  src/multi_shard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/transam.h"
#include "access/table.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "shardext/deparse.h"
#include "shardext/hooks.h"
#include "shardext/metadata_cache.h"
#include "shardext/pushdown.h"
#include "shardext/remote_scan.h"
#include "shardext/router.h"
#include "shardext/shard_ddl.h"

/* alias of the shard in the statements that scan it */
#define SCAN_ALIAS "r"

static set_rel_pathlist_hook_type PrevSetRelPathlistHook = NULL;

/* the columns of a table that a query reads (UsedColumnsWalker) */
typedef struct UsedColumnsContext
{
	Oid			relid;
	List	   *queries;		/* the query levels, innermost first */
	Bitmapset  *attnos;
	bool		wholeRow;
} UsedColumnsContext;

static void ShardextSetRelPathlist(PlannerInfo *root, RelOptInfo *rel,
								   Index rti, RangeTblEntry *rte);
static bool ContainsExecParamWalker(Node *node, void *context);
static void AppendTableSample(StringInfo buf, TableSampleClause *sample,
							  Oid relid, Index rti, int paramCount,
							  List **exprs);
static Plan *PlanShardextScan(PlannerInfo *root, RelOptInfo *rel,
							  CustomPath *best_path, List *tlist,
							  List *clauses, List *custom_plans);
static bool IsRemoteClause(Expr *clause, Index rti);

static Plan *PlanPartialScan(PlannerInfo *root, RelOptInfo *rel,
							 CustomPath *best_path, List *tlist,
							 List *clauses, List *custom_plans);
static void AddPartialScanPath(RelOptInfo *rel, RangeTblEntry *rte);
static bool DependsOnConstraints(Node *node, void *context);
static char *UnionColumns(Query *subquery, Oid relid);
static bool UsedColumnsWalker(Node *node, void *context);

static void EstimateShardRows(PlannerInfo *root, RelOptInfo *rel, ShardextTable *table);
static void ForgetSelectivity(Node *node);
static void ReplaceWithCustomPath(RelOptInfo *rel, const CustomPathMethods *methods,
								  Cost totalCost);

/* rows each shard of a distributed table is assumed to hold, for planning */
#define SHARD_ROWS_GUESS 1000.0

static const CustomPathMethods PartialScanPathMethods = {
	.CustomName = "ShardextPartialScan",
	.PlanCustomPath = PlanPartialScan
};

static const CustomPathMethods ShardextScanPathMethods = {
	.CustomName = "ShardextScan",
	.PlanCustomPath = PlanShardextScan
};

/*
 * ShardextInstallPathlistHook installs the set_rel_pathlist hook, keeping
 * the previous one.
 */
void
ShardextInstallPathlistHook(void)
{
	PrevSetRelPathlistHook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = ShardextSetRelPathlist;
}

/*
 * ShardextSetRelPathlist replaces the paths of a distributed table with a
 * ShardextScan path.
 */
static void
ShardextSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					   RangeTblEntry *rte)
{
	ShardextTable *table;

	if (PrevSetRelPathlistHook != NULL)
		PrevSetRelPathlistHook(root, rel, rti, rte);

	/* a foreign key check of the coordinator's own (empty) tables */
	if (PlanningCoordinatorTables)
		return;

	if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL &&
		rte->subquery->queryId == PER_SHARD_QUERY_ID &&
		rte->alias != NULL && strcmp(rte->alias->aliasname, PER_SHARD_ALIAS) == 0 &&
		rel->reloptkind == RELOPT_BASEREL && !IS_DUMMY_REL(rel) &&
		ShardextExtensionLoaded())
	{
		AddPartialScanPath(rel, rte);
		return;
	}
	/* plain tables, and branches of a UNION ALL flattened into an append */
	if (rte->rtekind != RTE_RELATION ||
		(rel->reloptkind != RELOPT_BASEREL &&
		 rel->reloptkind != RELOPT_OTHER_MEMBER_REL) ||
		IS_DUMMY_REL(rel) || !ShardextExtensionLoaded())
		return;
	table = ShardextGetTable(rte->relid);
	if (table == NULL)
		return;

	EstimateShardRows(root, rel, table);
	ReplaceWithCustomPath(rel, &ShardextScanPathMethods,
						  100.0 + 10.0 * table->shardCount + rel->rows * 0.02);
}

/*
 * ForgetSelectivity clears the selectivities cached in a condition and in
 * the arms of its ORs, to be computed again.
 */
static void
ForgetSelectivity(Node *node)
{
	ListCell   *lc;

	if (node == NULL)
		return;
	if (IsA(node, RestrictInfo))
	{
		RestrictInfo *rinfo = (RestrictInfo *) node;

		rinfo->norm_selec = -1;
		rinfo->outer_selec = -1;
		ForgetSelectivity((Node *) rinfo->orclause);
	}
	else if (IsA(node, BoolExpr))
	{
		foreach(lc, ((BoolExpr *) node)->args)
			ForgetSelectivity(lfirst(lc));
	}
}

/*
 * EstimateShardRows gives a distributed table's relation the row estimate
 * the planner would otherwise take from the coordinator's own table, which
 * is empty (after VACUUM, one row): joins that stay on the coordinator were
 * then planned as nested loops rescanning the shards for every outer row.
 * The rows are those the shards' nodes reported to the last VACUUM or
 * ANALYZE on the coordinator (statistics.c), but at least SHARD_ROWS_GUESS
 * per shard (also for a table never measured): the figures do not follow
 * later loads, and a table measured empty or small and loaded since would
 * be planned as one row, in nested loops that query the shards again for
 * every outer row; overestimating a small table costs little.  The query's
 * restrictions scale that as usual, with the column statistics ANALYZE
 * gathered.
 */
static void
EstimateShardRows(PlannerInfo *root, RelOptInfo *rel, ShardextTable *table)
{
	double		guess = SHARD_ROWS_GUESS * Max(table->shardCount, 1);
	double		tuples = Max(table->rowEstimate, guess);
	ListCell   *lc;

	rel->tuples = tuples;

	/*
	 * The selectivities the planner cached in the conditions were computed
	 * with the coordinator's empty table: a column's distinct count that
	 * grows with the table (n_distinct < 0: keys, unique columns) read as
	 * PostgreSQL's default of 200.
	 */
	foreach(lc, rel->baserestrictinfo)
		ForgetSelectivity(lfirst(lc));
	rel->rows = clamp_row_est(tuples *
							  clauselist_selectivity(root, rel->baserestrictinfo,
													 0, JOIN_INNER, NULL));
}

/*
 * AddPartialScanPath makes a subquery written by pushdown.c run on every
 * shard: its paths are replaced by a ShardextPartialScan path.
 */
static void
AddPartialScanPath(RelOptInfo *rel, RangeTblEntry *rte)
{
	ReplaceWithCustomPath(rel, &PartialScanPathMethods, 100.0 + rel->rows * 0.01);
}

/*
 * ReplaceWithCustomPath makes a custom path of the given methods the only
 * path of a relation (no parallel paths: shard scans run in the backend
 * that holds the node connections).
 */
static void
ReplaceWithCustomPath(RelOptInfo *rel, const CustomPathMethods *methods,
					  Cost totalCost)
{
	CustomPath *path = makeNode(CustomPath);

	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = rel->rows;
	path->path.startup_cost = 100.0;
	path->path.total_cost = totalCost;
	path->path.pathkeys = NIL;
	path->flags = 0;
	path->custom_paths = NIL;
	path->custom_private = NIL;
	path->methods = methods;

	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	rel->consider_parallel = false;
	add_path(rel, (Path *) path);
}

/*
 * PlanPartialScan makes the CustomScan of a per-shard subquery: the
 * subquery's SQL split into a shard template, and a scan tuple of its
 * output columns.
 */
static Plan *
PlanPartialScan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				List *tlist, List *clauses, List *custom_plans)
{
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	Query	   *subquery = rte->subquery;
	List	   *relids = NIL;
	char	   *sql;
	ListCell   *lc;
	AttrNumber	attno = 0;
	QueryTemplate *template;
	CustomScan *cscan = makeNode(CustomScan);
	int			paramCount;
	List	   *timeExprs = NIL;

	/* the LIMIT ALL that kept the planner's quals out (pushdown.c) */
	if (subquery->limitCount != NULL && IsA(subquery->limitCount, Const) &&
		((Const *) subquery->limitCount)->constisnull)
	{
		subquery = copyObject(subquery);
		subquery->limitCount = NULL;
	}
	/* now() and its kin are the coordinator's, sent as parameters */
	paramCount = MaxExternParamId((Node *) subquery);
	subquery = (Query *) ParameterizeTransactionTime((Node *) subquery, paramCount,
													 &timeExprs);
	sql = DeparseQueryForShards(subquery, NIL);

	/* the distributed tables of the subquery, each once */
	foreach(lc, CollectRelationRtes(subquery))
	{
		RangeTblEntry *relationRte = lfirst(lc);

		if (!list_member_oid(relids, relationRte->relid))
			relids = lappend_oid(relids, relationRte->relid);
	}
	template = SplitQueryTemplate(sql, relids);

	if (template->slots == NIL)
		elog(ERROR, "could not find the distributed table in: %s", sql);

	foreach(lc, subquery->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *var;

		if (tle->resjunk)
			continue;
		attno++;
		var = makeVar(rel->relid, attno, exprType((Node *) tle->expr),
					  exprTypmod((Node *) tle->expr),
					  exprCollation((Node *) tle->expr), 0);
		cscan->custom_scan_tlist = lappend(cscan->custom_scan_tlist,
										   makeTargetEntry((Expr *) var, attno,
														   tle->resname, false));
	}
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = extract_actual_clauses(clauses, false);
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_private = list_make5(template->fragments, template->slots,
									   relids, makeInteger(paramCount),
									   CollectFunctions((Node *) subquery));
	cscan->custom_private = lappend(cscan->custom_private,
									makeBoolean(DependsOnConstraints((Node *) subquery, NULL)));
	cscan->custom_private = lappend(cscan->custom_private, timeExprs);
	cscan->custom_private = lappend(cscan->custom_private,
									makeString(list_length(relids) == 1 ?
											   UnionColumns(subquery, linitial_oid(relids)) :
											   "*"));
	cscan->methods = &ShardextPartialScanMethods;
	return (Plan *) cscan;
}

/*
 * UnionColumns returns the select list of each shard in the union of a
 * node's shards that stands for table relid in subquery (PartialScanTasks):
 * the columns the subquery reads, and a typed NULL for each other column,
 * so that the union has the table's columns in their order (whatever
 * aliases the subquery gives them) while a node checks the privileges on
 * the columns read only, as PostgreSQL checks them here.  "*" when every
 * column is read.
 */
static char *
UnionColumns(Query *subquery, Oid relid)
{
	UsedColumnsContext context;
	Relation	rel;
	TupleDesc	tupleDesc;
	StringInfoData buf;
	bool		allUsed = true;
	int			i;

	memset(&context, 0, sizeof(context));
	context.relid = relid;
	(void) UsedColumnsWalker((Node *) subquery, &context);
	if (context.wholeRow)
		return "*";

	rel = table_open(relid, AccessShareLock);
	tupleDesc = RelationGetDescr(rel);
	initStringInfo(&buf);
	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i);

		if (attr->attisdropped)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		if (bms_is_member(attr->attnum - FirstLowInvalidHeapAttributeNumber,
						  context.attnos))
			appendStringInfoString(&buf, quote_identifier(NameStr(attr->attname)));
		else
		{
			allUsed = false;
			appendStringInfo(&buf, "NULL::%s AS %s",
							 format_type_extended(attr->atttypid, attr->atttypmod,
												  FORMAT_TYPE_TYPEMOD_GIVEN |
												  FORMAT_TYPE_FORCE_QUALIFY),
							 quote_identifier(NameStr(attr->attname)));
		}
	}
	table_close(rel, AccessShareLock);
	return allUsed ? "*" : buf.data;
}

/*
 * UsedColumnsWalker collects the columns of the context's table that Vars
 * at any query level refer to.
 */
static bool
UsedColumnsWalker(Node *node, void *context)
{
	UsedColumnsContext *used = (UsedColumnsContext *) context;

	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		Query	   *query;
		RangeTblEntry *rte;

		if (var->varlevelsup >= list_length(used->queries))
			return false;
		query = list_nth(used->queries, var->varlevelsup);
		if (var->varno < 1 || var->varno > list_length(query->rtable))
			return false;
		rte = rt_fetch(var->varno, query->rtable);

		/* a join's column: the columns it stands for, at the Var's level */
		if (rte->rtekind == RTE_JOIN)
		{
			Node	   *aliases = (var->varattno == InvalidAttrNumber) ?
				(Node *) rte->joinaliasvars :
				(var->varattno > 0 &&
				 var->varattno <= list_length(rte->joinaliasvars)) ?
				list_nth(rte->joinaliasvars, var->varattno - 1) : NULL;

			if (aliases == NULL)
				return false;
			aliases = copyObject(aliases);
			IncrementVarSublevelsUp(aliases, var->varlevelsup, 0);
			return UsedColumnsWalker(aliases, context);
		}
		if (rte->rtekind != RTE_RELATION || rte->relid != used->relid)
			return false;
		if (var->varattno == InvalidAttrNumber)
			used->wholeRow = true;
		else
			used->attnos = bms_add_member(used->attnos,
										  var->varattno - FirstLowInvalidHeapAttributeNumber);
		return false;
	}
	if (IsA(node, Query))
	{
		bool		result;

		used->queries = lcons(node, used->queries);
		result = query_tree_walker((Query *) node, UsedColumnsWalker, context,
								   QTW_IGNORE_JOINALIASES);
		used->queries = list_delete_first(used->queries);
		return result;
	}
	return expression_tree_walker(node, UsedColumnsWalker, context);
}

/*
 * DependsOnConstraints tells whether a query (at any level) needs the shard
 * tables themselves, not a union of them (see PartialScanTasks): it is
 * valid only through a table's constraint (grouped by a primary key, it may
 * select the table's other columns), or samples a table (TABLESAMPLE takes
 * a table only).
 */
static bool
DependsOnConstraints(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		if (query->constraintDeps != NIL)
			return true;
		foreach(lc, query->rtable)
			if (((RangeTblEntry *) lfirst(lc))->tablesample != NULL)
				return true;
		return query_tree_walker(query, DependsOnConstraints, context, 0);
	}
	return expression_tree_walker(node, DependsOnConstraints, context);
}

/*
 * AppendTableSample appends the TABLESAMPLE clause of a scan of table relid
 * (range table index rti) to its remote SQL: each shard samples its rows as
 * the table would (the built-in methods sample rows or pages independently).
 * Arguments computed here are appended to *exprs, sent after the statement's
 * paramCount parameters.
 */
static void
AppendTableSample(StringInfo buf, TableSampleClause *sample, Oid relid,
				  Index rti, int paramCount, List **exprs)
{
	List	   *args = lappend(list_copy(sample->args), sample->repeatable);
	ListCell   *lc;

	if (sample->tsmhandler >= FirstNormalObjectId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tablesample method %s is not supported on distributed table \"%s\"",
						get_func_name(sample->tsmhandler), get_rel_name(relid)),
				 errdetail("The nodes have only the built-in methods, BERNOULLI and SYSTEM.")));
	appendStringInfo(buf, " TABLESAMPLE %s (",
					 quote_identifier(get_func_name(sample->tsmhandler)));
	foreach(lc, args)
	{
		Node	   *arg = lfirst(lc);

		if (arg == NULL)
			break;
		if (foreach_current_index(lc) == list_length(sample->args))
			appendStringInfoString(buf, ") REPEATABLE (");
		else if (lc != list_head(args))
			appendStringInfoString(buf, ", ");

		/*
		 * Anything but a constant (a parameter, a subquery, an expression)
		 * is computed here when the scan starts, as PostgreSQL computes it
		 * once per scan, and sent as a parameter.
		 */
		if (!IsA(arg, Const))
		{
			Param	   *param = makeNode(Param);

			*exprs = lappend(*exprs, arg);
			param->paramkind = PARAM_EXTERN;
			param->paramid = paramCount + list_length(*exprs);
			param->paramtype = exprType(arg);
			param->paramtypmod = exprTypmod(arg);
			param->paramcollid = exprCollation(arg);
			param->location = -1;
			arg = (Node *) param;
		}
		appendStringInfoString(buf, DeparseExpressionForShard(arg, relid, rti,
															  SCAN_ALIAS));
	}
	appendStringInfoChar(buf, ')');
}

/*
 * IsRemoteClause tells whether a restriction of relation rti can be
 * evaluated on the shards.
 */
static bool
IsRemoteClause(Expr *clause, Index rti)
{
	Relids		relids = pull_varnos(NULL, (Node *) clause);

	if (!bms_is_empty(relids) &&
		!(bms_num_members(relids) == 1 && bms_is_member(rti, relids)))
		return false;
	if (contain_volatile_functions((Node *) clause))
		return false;
	return IsShippableExpression((Node *) clause);
}

/*
 * ContainsExecParamWalker tells whether an expression uses an executor
 * parameter (the value of an outer row, or of an initplan).
 */
static bool
ContainsExecParamWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return true;
	return expression_tree_walker(node, ContainsExecParamWalker, context);
}

/*
 * PlanShardextScan makes the CustomScan of a ShardextScan path: the SQL
 * that reads one shard (with a placeholder for the shard's name), the
 * columns it returns, the local filters and the pin that limits the scan
 * to one shard.
 */
static Plan *
PlanShardextScan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				 List *tlist, List *clauses, List *custom_plans)
{
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	ShardextTable *table = ShardextGetTable(rte->relid);
	Relation	relation;
	TupleDesc	tupleDesc;
	List	   *remoteClauses = NIL;
	List	   *localClauses = NIL;
	List	   *allClauses = NIL;
	Bitmapset  *attrs = NULL;
	List	   *attnums = NIL;
	StringInfoData select;
	StringInfoData where;
	ListCell   *lc;
	Expr	   *pin;
	Expr	   *pinList;
	Expr	   *pinListClause;
	List	   *pinListSql;
	CustomScan *cscan;
	bool		wholeRow;
	int			paramCount;
	List	   *timeExprs = NIL;
	Index		minSecurityLevel;
	bool		deterministic;
	Oid			baseType;
	bool		pinRemote;
	int			i;

	/*
	 * Conditions of a security barrier (a security_barrier view's WHERE, as
	 * an UPDATE or DELETE through the view puts it on the table) must filter
	 * the rows before any condition of a higher level that could leak what
	 * it sees (a cast that fails, a function that logs).  A node orders the
	 * conditions of one WHERE by cost, so only the lowest level goes there,
	 * and of the higher ones the leakproof; the others filter on the
	 * coordinator, in level order.
	 */
	minSecurityLevel = UINT_MAX;
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (!rinfo->pseudoconstant)
			minSecurityLevel = Min(minSecurityLevel, rinfo->security_level);
	}
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant)
			continue;
		allClauses = lappend(allClauses, rinfo->clause);
		if ((rinfo->security_level == minSecurityLevel || rinfo->leakproof) &&
			IsRemoteClause(rinfo->clause, rel->relid))
			remoteClauses = lappend(remoteClauses, rinfo->clause);
		else
			localClauses = lappend(localClauses, rinfo->clause);
	}

	/* the columns the plan above and the local filters need */
	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &attrs);
	pull_varattnos((Node *) localClauses, rel->relid, &attrs);
	wholeRow = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);

	relation = table_open(rte->relid, NoLock);
	tupleDesc = RelationGetDescr(relation);

	initStringInfo(&select);
	appendStringInfoString(&select, "SELECT ");
	for (i = 1; i <= tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i - 1);

		if (attr->attisdropped)
			continue;
		if (!wholeRow &&
			!bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			continue;
		if (attnums != NIL)
			appendStringInfoString(&select, ", ");
		appendStringInfo(&select, "%s.%s", SCAN_ALIAS,
						 quote_identifier(NameStr(attr->attname)));
		attnums = lappend_int(attnums, i);
	}
	appendStringInfoString(&select, attnums != NIL ? " FROM " : "FROM ");

	/*
	 * System columns (ctid, ...) cannot be read from shards; tableoid is
	 * the distributed table's own, set on the coordinator.
	 */
	for (i = FirstLowInvalidHeapAttributeNumber + 1; i < 0; i++)
	{
		if (i != TableOidAttributeNumber &&
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot read system columns of distributed table \"%s\"",
							RelationGetRelationName(relation)),
					 errdetail("Rows come from shards on the nodes, whose ctid, xmin and "
							   "other system columns mean nothing on the coordinator (an "
							   "UPDATE or DELETE of another table that joins this one asks "
							   "for them too)."),
					 errhint("Use the table's key columns; or select the rows needed into "
							 "a temporary table first, and join that.")));
	}
	table_close(relation, NoLock);

	/* the shard of a single-shard table is known */
	pin = IsSingleShardTable(table) ? NULL :
		FindPinInClauses(allClauses, rel->relid, table);
	pinList = (pin == NULL && !IsSingleShardTable(table)) ?
		FindPinListInClauses(allClauses, rel->relid, table) : NULL;

	/* now() and its kin are the coordinator's, sent as parameters */
	paramCount = Max(MaxExternParamId((Node *) remoteClauses),
					 Max(MaxExternParamId((Node *) pin),
						 MaxExternParamId((Node *) pinList)));
	remoteClauses = (List *) ParameterizeTransactionTime((Node *) remoteClauses,
														 paramCount, &timeExprs);

	initStringInfo(&where);
	appendStringInfoString(&where, " " SCAN_ALIAS);
	if (rte->tablesample != NULL)
		AppendTableSample(&where, rte->tablesample, rte->relid, rel->relid,
						  paramCount, &timeExprs);
	foreach(lc, remoteClauses)
	{
		appendStringInfoString(&where, lc == list_head(remoteClauses) ?
							   " WHERE " : " AND ");
		appendStringInfoString(&where,
							   DeparseExpressionForShard(lfirst(lc), rte->relid,
														 rel->relid, SCAN_ALIAS));
	}

	/*
	 * A pin that follows the outer row (of a correlated subquery, a LATERAL
	 * one) reads one shard per row; its value goes along as the last
	 * parameter, so that the node returns the rows of that value only, not
	 * the shard's every row for the coordinator to filter.  (Under a
	 * collation that is not deterministic, equal values may differ in
	 * bytes: the shard is then read whole, as before.)  The type is named
	 * without a length: bpchar, not character, which is char(1); a domain's
	 * base type, whose check no value is held to.
	 */
	deterministic = !OidIsValid(table->distCollation) ||
		get_collation_isdeterministic(table->distCollation);
	baseType = OidIsValid(table->distTypeId) ?
		getBaseType(table->distTypeId) : InvalidOid;
	pinRemote = pin != NULL && ContainsExecParamWalker((Node *) pin, NULL) &&
		deterministic;
	if (pinRemote)
		appendStringInfo(&where, "%s%s.%s = $%d::%s",
						 remoteClauses != NIL ? " AND " : " WHERE ", SCAN_ALIAS,
						 quote_identifier(table->distColumnName),
						 paramCount + list_length(timeExprs) + 1,
						 format_type_extended(baseType, -1,
											  FORMAT_TYPE_TYPEMOD_GIVEN |
											  FORMAT_TYPE_FORCE_QUALIFY));

	/*
	 * So does an array of values computed during execution (an InitPlan's:
	 * column = ANY (ARRAY(SELECT ...)), as join_keys.c adds): each shard
	 * gets its own values, "r.col = ANY ($n::type[])" with n chosen per
	 * shard when the statement is sent; these are the parts around n.
	 */
	pinListSql = NIL;
	pinListClause = NULL;
	if (pinList != NULL && ContainsExecParamWalker((Node *) pinList, NULL))
		foreach(lc, clauses)
		{
			RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

			if (IsA(rinfo->clause, ScalarArrayOpExpr) &&
				equal(lsecond(((ScalarArrayOpExpr *) rinfo->clause)->args), pinList) &&
				(rinfo->security_level == minSecurityLevel || rinfo->leakproof))
			{
				pinListClause = rinfo->clause;
				break;
			}
		}
	if (pinListClause != NULL && OidIsValid(get_array_type(baseType)) &&
		deterministic)
	{
		/*
		 * The values are those of the base type (a domain's check would
		 * fail on values no row has), each shard's those it can hold; the
		 * clause stays a filter here too (the values sent may be rounded:
		 * float8 to float4), hashed when join_keys.c made it.
		 */
		pinListSql = list_make2(makeString(psprintf("%s%s.%s = ANY ($",
													remoteClauses != NIL ? " AND " : " WHERE ",
													SCAN_ALIAS,
													quote_identifier(table->distColumnName))),
								makeString(psprintf("::%s)",
													format_type_extended(get_array_type(baseType), -1,
																		 FORMAT_TYPE_TYPEMOD_GIVEN |
																		 FORMAT_TYPE_FORCE_QUALIFY))));
	}

	cscan = makeNode(CustomScan);
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = localClauses;
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = NIL;
	cscan->custom_exprs = NIL;
	cscan->custom_scan_tlist = NIL;
	cscan->custom_relids = NULL;
	cscan->custom_private = list_make5(list_make1_oid(rte->relid),
									   makeString(select.data),
									   makeString(where.data),
									   attnums,
									   pin);
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(paramCount));
	cscan->custom_private = lappend(cscan->custom_private, pinList);
	cscan->custom_private = lappend(cscan->custom_private,
									CollectFunctions((Node *) remoteClauses));
	cscan->custom_private = lappend(cscan->custom_private, timeExprs);
	/* rescans read the same rows unless a pin follows an outer row */
	cscan->custom_private = lappend(cscan->custom_private,
									makeInteger(!ContainsExecParamWalker((Node *) pin, NULL) &&
												!ContainsExecParamWalker((Node *) pinList, NULL)));
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(pinRemote));
	cscan->custom_private = lappend(cscan->custom_private, pinListSql);
	cscan->methods = &ShardextTableScanMethods;
	return (Plan *) cscan;
}
