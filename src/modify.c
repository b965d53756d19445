/*-------------------------------------------------------------------------
 *
 * modify.c
 *	  UPDATE and DELETE of distributed tables that read other tables.
 *
 * An UPDATE or DELETE that joins other tables (UPDATE ... FROM, EXISTS or
 * IN over another table, a local table, a non-co-located one) cannot be
 * sent to the shards as it is.  It runs in two steps instead: a SELECT,
 * planned by the standard planner with everything the statement reads,
 * finds the primary key of every target row and, for an UPDATE, its new
 * values; then a ShardextModify node sends to each shard one UPDATE or
 * DELETE of its rows by primary key (keys and new values as arrays), in the
 * remote transactions.
 * Each target row is changed once, even when the join finds it several
 * times (as PostgreSQL does).  The target needs a primary key (it contains
 * the distribution column).
 *
 * A new value computed from the target row alone (SET n = n + 1) is computed
 * by the node, from the row as the node changes it (after waiting for a
 * concurrent change); other new values come from the first step.  Unlike
 * PostgreSQL, a row changed by a concurrent transaction between the two
 * steps is not checked again against the statement's conditions, and new
 * values that also read other tables are computed from the row as the first
 * step read it.
 *
 * IDENTIFICATION
 *	  src/modify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/transam.h"
#include "catalog/pg_index.h"
#include "commands/explain.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "shardext/deparse.h"
#include "shardext/foreign_keys.h"
#include "shardext/guc.h"
#include "shardext/join_keys.h"
#include "shardext/modify.h"
#include "shardext/shard_ddl.h"
#include "shardext/remote_exec.h"
#include "shardext/remote_scan.h"
#include "shardext/router.h"
#include "shardext/routing.h"
#include "shardext/transaction.h"

/* positions in custom_private of a ShardextModify */
#define MODIFY_PRIVATE_RELID 0
#define MODIFY_PRIVATE_PREFIX 1
#define MODIFY_PRIVATE_SUFFIX 2
#define MODIFY_PRIVATE_KEYS 3
#define MODIFY_PRIVATE_DIST_KEY 4
#define MODIFY_PRIVATE_FUNCTIONS 5
#define MODIFY_PRIVATE_SET_COUNT 6

/* rows (and bytes of their texts) changed by one statement on a shard, at most */
#define MODIFY_BATCH_ROWS 100000
#define MODIFY_BATCH_BYTES (16 * 1024 * 1024)

/* alias of the target in the statements sent to shards */
#define TARGET_ALIAS "t"

typedef struct ModifyScanState
{
	CustomScanState css;
	Oid			relid;
	char	   *prefix;			/* "UPDATE " / "DELETE FROM " */
	char	   *suffix;			/* " AS t SET ... WHERE ... [RETURNING]" */
	KeyDeferral *deferral;		/* once a shard gets several statements */
	bool		isUpdate;		/* else a DELETE */
	int			setCount;		/* new values come first in the rows */
	int			keyCount;		/* key columns come last in the rows */
	int			distKey;		/* 1-based column of the distribution key */
	FmgrInfo   *outputFunctions;
	Oid		   *columnTypes;
	int			columnCount;
	Tuplestorestate *returning;
	TupleTableSlot *returningSlot;
	bool		done;
} ModifyScanState;

static Node *CreateModifyScanState(CustomScan *cscan);
static void BeginModifyScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecModifyScan(CustomScanState *node);
static void EndModifyScan(CustomScanState *node);
static void ReScanModifyScan(CustomScanState *node);
static void ExplainModifyScan(CustomScanState *node, List *ancestors,
							  ExplainState *es);
static List *TargetKeyColumns(Oid relid, AttrNumber distAttno);
static void AppendBatchColumn(StringInfo unnestArgs, StringInfo unnestColumns,
							  StringInfo castColumns, int param, Oid typeId);
static bool ContainsWholeRowVar(Node *node, void *context);
static bool ComputedFromRow(Node *expr, Index rti, ShardextTable *table);
static bool ContainsParam(Node *node, void *context);
static bool NotComputedFromRowAlike(Node *node, void *context);

CustomScanMethods ShardextModifyScanMethods = {
	"ShardextModify", CreateModifyScanState
};

static CustomExecMethods ModifyScanExecMethods = {
	.CustomName = "ShardextModify",
	.BeginCustomScan = BeginModifyScan,
	.ExecCustomScan = ExecModifyScan,
	.EndCustomScan = EndModifyScan,
	.ReScanCustomScan = ReScanModifyScan,
	.ExplainCustomScan = ExplainModifyScan
};

/*
 * AppendBatchColumn adds column param (of type typeId) of a batch to the
 * unnest arguments ($N::text[]), the unnested column names (pN) and the
 * typed columns of v (u.pN::type AS pN).
 */
static void
AppendBatchColumn(StringInfo unnestArgs, StringInfo unnestColumns,
				  StringInfo castColumns, int param, Oid typeId)
{
	const char *separator = unnestArgs->len > 0 ? ", " : "";

	appendStringInfo(unnestArgs, "%s$%d::pg_catalog.text[]", separator, param);
	appendStringInfo(unnestColumns, "%sp%d", separator, param);
	/*
	 * The type without a length: a typmod of -1 is spelled so as not to mean
	 * one (bpchar, not character, which is char(1)); the SET's assignment
	 * applies the column's length as PostgreSQL's UPDATE would.
	 */
	appendStringInfo(castColumns, "%su.p%d::%s AS p%d", separator, param,
					 format_type_extended(typeId, -1,
										  FORMAT_TYPE_TYPEMOD_GIVEN |
										  FORMAT_TYPE_FORCE_QUALIFY),
					 param);
}

/*
 * TargetKeyColumns returns the attribute numbers of the target's primary
 * key, or NIL when it has none.
 */
static List *
TargetKeyColumns(Oid relid, AttrNumber distAttno)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	Oid			indexOid = InvalidOid;
	List	   *keys = NIL;
	ListCell   *lc;

	/* (a DEFERRABLE key too, which RelationGetPrimaryKeyIndex leaves out) */
	foreach(lc, RelationGetIndexList(rel))
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tuple))
			continue;
		if (((Form_pg_index) GETSTRUCT(tuple))->indisprimary)
			indexOid = lfirst_oid(lc);
		ReleaseSysCache(tuple);
	}

	if (OidIsValid(indexOid))
	{
		Relation	index = relation_open(indexOid, AccessShareLock);
		int			i;

		for (i = 0; i < index->rd_index->indnkeyatts; i++)
			keys = lappend_int(keys, index->rd_index->indkey.values[i]);
		relation_close(index, AccessShareLock);
	}
	relation_close(rel, AccessShareLock);
	if (distAttno != InvalidAttrNumber && !list_member_int(keys, distAttno))
		return NIL;
	return keys;
}

/* ContainsWholeRowVar tells whether an expression reads a whole row. */
static bool
ContainsWholeRowVar(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varattno == InvalidAttrNumber;
	return expression_tree_walker(node, ContainsWholeRowVar, context);
}

/*
 * ComputedFromRow tells whether the new value expr of an UPDATE of table
 * (range table index rti) reads the row and can be computed by the node
 * from the row alone: it reads no other table, no subquery, parameter or time of the
 * coordinator, and only what the node computes alike (built-in functions;
 * on a reference table's several copies, immutable ones; nothing written
 * in this session's style).
 */
static bool
ComputedFromRow(Node *expr, Index rti, ShardextTable *table)
{
	Relids		varnos = pull_varnos(NULL, expr);

	/* (a value that does not read the row cannot lose a concurrent change) */
	if (!(bms_num_members(varnos) == 1 && bms_is_member(rti, varnos)))
		return false;
	if (checkExprHasSubLink(expr) || ContainsParam(expr, NULL) ||
		ContainsWholeRowVar(expr, NULL) || ContainsTransactionTime(expr) ||
		!IsShippableExpression(expr) || ExpressionWritesInSessionStyle(expr) ||
		NotComputedFromRowAlike(expr, NULL))
		return false;
	/* the nodes read "NULL" in an array's text as a null */
	if (!Array_nulls)
		return false;
	if (IsReferenceTable(table) && contain_mutable_functions(expr))
		return false;
	return true;
}

/*
 * NotComputedFromRowAlike finds in a new value what the node's SET could not
 * take as it is: an assignment to an array element or slice or to a field
 * of a composite (deparsed, it is no SET value).
 */
static bool
NotComputedFromRowAlike(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FieldStore) ||
		(IsA(node, SubscriptingRef) && ((SubscriptingRef *) node)->refassgnexpr != NULL))
		return true;
	return expression_tree_walker(node, NotComputedFromRowAlike, context);
}

/* ContainsParam tells whether an expression uses a parameter of any kind. */
static bool
ContainsParam(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return true;
	return expression_tree_walker(node, ContainsParam, context);
}

/*
 * PlanModifyThroughCoordinator plans an UPDATE or DELETE of a distributed
 * table in the two steps described above.
 */
PlannedStmt *
PlanModifyThroughCoordinator(Query *parse, const char *queryString,
							 int cursorOptions, ParamListInfo boundParams,
							 ShardextTable *table)
{
	Index		resultRelation = parse->resultRelation;
	Query	   *select = copyObject(parse);
	List	   *keys = TargetKeyColumns(table->relid, table->distAttno);
	List	   *targetList = NIL;
	StringInfoData suffix;
	StringInfoData setList;
	StringInfoData unnestArgs;
	StringInfoData unnestColumns;
	StringInfoData castColumns;
	StringInfoData keyMatch;
	PlannedStmt *result;
	CustomScan *cscan = makeNode(CustomScan);
	const char *action = (parse->commandType == CMD_UPDATE) ? "UPDATE" : "DELETE";
	int			param = 0;
	int			distKey = 0;
	List	   *returning;
	List	   *timeExprs = NIL;
	ListCell   *lc;

	if (keys == NIL && IsSingleShardTable(table))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot run this %s on table \"%s\", which has no primary key",
						action, get_rel_name(table->relid)),
				 errdetail("The statement reads other tables or calls functions that are "
						   "not immutable, so the coordinator finds the rows and their new "
						   "values and changes them by primary key."),
				 errhint("Add a primary key, or compute the new values without such "
						 "functions and tables.")));
	if (keys == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot run this %s on distributed table \"%s\"",
						action, get_rel_name(table->relid)),
				 errdetail("The statement cannot run whole on the nodes: it reads other tables "
						   "and is not limited to one shard group, has a subquery calling "
						   "volatile functions (evaluated once for the whole statement), or "
						   "computes what the nodes cannot (functions they lack; in a session "
						   "whose DateStyle is not ISO, IntervalStyle not postgres or "
						   "extra_float_digits below 1, dates, times, intervals or floats written "
						   "as text).  The coordinator then changes the rows by primary key, and "
						   "the table has none."),
				 errhint("Add a primary key (with the distribution column), filter "
						 "on the distribution column, or compute the values otherwise.")));
	foreach(lc, parse->returningList)
	{
		Node	   *expr = (Node *) ((TargetEntry *) lfirst(lc))->expr;
		Relids		varnos = pull_varnos(NULL, expr);

		/* the RETURNING list runs on the node, with each changed row */
		if (checkExprHasSubLink(expr) || !IsShippableExpression(expr) ||
			ContainsWholeRowVar(expr, NULL) || IsAnonymousRecord(expr))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("RETURNING with subqueries, system columns or functions the nodes cannot run is not supported in this %s "
							"on distributed table \"%s\"", action,
							get_rel_name(table->relid)),
					 errdetail("The rows are changed by primary key on their nodes, which compute RETURNING: "
							   "it may use only built-in functions and no system columns (xmin, ctid, ...), and, in a session whose DateStyle "
							   "is not ISO, IntervalStyle not postgres or extra_float_digits below 1, "
							   "not write dates, times, intervals or floats as text."),
					 errhint("Return the table's columns (t.* rather than t), and compute the rest in a query afterwards.")));
		if (!bms_is_empty(varnos) &&
			!(bms_num_members(varnos) == 1 && bms_is_member(resultRelation, varnos)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("RETURNING of other tables is not supported in this %s "
							"on distributed table \"%s\"", action,
							get_rel_name(table->relid)),
					 errhint("Return only columns of the table being changed.")));
	}

	/*
	 * The remote statement changes a batch of rows: each new value and key
	 * column comes as a text array parameter, the arrays are unnested into
	 * v, and the rows of the shard matching v's keys change:
	 * UPDATE shard AS t SET col = v.pN ... FROM (SELECT u.pN::type AS pN ...
	 * FROM unnest($N::text[], ...) AS u(pN, ...)) AS v WHERE t.key = v.pM ...
	 * (DELETE: USING).  now() and its kin in RETURNING are scalar
	 * parameters (the same for every row).  Parameters are numbered as the
	 * first step's columns: new values, times, keys.
	 */
	initStringInfo(&setList);
	initStringInfo(&unnestArgs);
	initStringInfo(&unnestColumns);
	initStringInfo(&castColumns);
	initStringInfo(&keyMatch);
	if (parse->commandType == CMD_UPDATE)
	{
		foreach(lc, parse->targetList)
		{
			TargetEntry *tle = lfirst(lc);

			if (tle->resjunk)
				continue;

			/*
			 * A new value computed from the row itself (SET n = n + 1) is
			 * computed by the node, from the row as it is when the node
			 * changes it: a concurrent change of the row that the node
			 * waits for is then not lost, as with PostgreSQL.
			 */
			if (ComputedFromRow((Node *) tle->expr, resultRelation, table))
			{
				appendStringInfo(&setList, "%s%s = %s", setList.len > 0 ? ", " : "",
								 quote_identifier(get_attname(table->relid, tle->resno,
															  false)),
								 DeparseExpressionForShard((Node *) tle->expr,
														   table->relid,
														   resultRelation,
														   TARGET_ALIAS));
				continue;
			}
			param++;
			appendStringInfo(&setList, "%s%s = v.p%d", setList.len > 0 ? ", " : "",
							 quote_identifier(get_attname(table->relid, tle->resno,
														  false)),
							 param);
			AppendBatchColumn(&unnestArgs, &unnestColumns, &castColumns, param,
							  exprType((Node *) tle->expr));
			targetList = lappend(targetList,
								 makeTargetEntry(tle->expr, param,
												 psprintf("v%d", param), false));
		}
	}
	/*
	 * now() and its kin in RETURNING are the coordinator's: computed by the
	 * first step with each row, sent as parameters (before the keys, which
	 * stay last).
	 */
	returning = (List *) ParameterizeTransactionTime((Node *) parse->returningList,
													 param, &timeExprs);
	foreach(lc, timeExprs)
	{
		Expr	   *expr = (Expr *) lfirst(lc);

		param++;
		targetList = lappend(targetList,
							 makeTargetEntry(expr, param, psprintf("t%d", param), false));
	}

	foreach(lc, keys)
	{
		AttrNumber	attno = lfirst_int(lc);
		Oid			typeId;
		int32		typmod;
		Oid			collation;

		get_atttypetypmodcoll(table->relid, attno, &typeId, &typmod, &collation);
		param++;
		if (attno == table->distAttno)
			distKey = param;
		appendStringInfo(&keyMatch, "%s" TARGET_ALIAS ".%s = v.p%d",
						 lc == list_head(keys) ? "" : " AND ",
						 quote_identifier(get_attname(table->relid, attno, false)),
						 param);
		AppendBatchColumn(&unnestArgs, &unnestColumns, &castColumns, param, typeId);
		targetList = lappend(targetList,
							 makeTargetEntry((Expr *) makeVar(resultRelation, attno,
															  typeId, typmod,
															  collation, 0),
											 param, psprintf("k%d", param), false));
	}

	initStringInfo(&suffix);
	appendStringInfoString(&suffix, " AS " TARGET_ALIAS);
	if (parse->commandType == CMD_UPDATE)
		appendStringInfo(&suffix, " SET %s FROM", setList.data);
	else
		appendStringInfoString(&suffix, " USING");
	appendStringInfo(&suffix, " (SELECT %s FROM unnest(%s) AS u(%s)) AS v WHERE %s",
					 castColumns.data, unnestArgs.data, unnestColumns.data,
					 keyMatch.data);
	foreach(lc, returning)
	{
		TargetEntry *tle = lfirst(lc);

		appendStringInfoString(&suffix, lc == list_head(returning) ?
							   " RETURNING " : ", ");
		appendStringInfoString(&suffix,
							   DeparseExpressionForShard((Node *) tle->expr,
														 table->relid,
														 resultRelation,
														 TARGET_ALIAS));
	}

	/* the first step: the keys (and new values) of the rows to change */
	select->commandType = CMD_SELECT;
	select->resultRelation = 0;
	select->returningList = NIL;
	select->targetList = targetList;
	/* a small local table's join keys filter the rows to find (join_keys.c) */
	result = standard_planner(AddJoinKeyFilters(select), queryString,
							  cursorOptions, boundParams);

	cscan->scan.scanrelid = 0;
	cscan->scan.plan.startup_cost = result->planTree->startup_cost;
	cscan->scan.plan.total_cost = result->planTree->total_cost + 100;
	cscan->scan.plan.plan_rows = result->planTree->plan_rows;
	cscan->scan.plan.plan_width = 100;
	foreach(lc, parse->returningList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;
		AttrNumber	resno = foreach_current_index(lc) + 1;

		cscan->custom_scan_tlist =
			lappend(cscan->custom_scan_tlist,
					makeTargetEntry((Expr *) makeNullConst(exprType(expr),
														   exprTypmod(expr),
														   exprCollation(expr)),
									resno, tle->resname, false));
		cscan->scan.plan.targetlist =
			lappend(cscan->scan.plan.targetlist,
					makeTargetEntry((Expr *) makeVar(INDEX_VAR, resno,
													 exprType(expr),
													 exprTypmod(expr),
													 exprCollation(expr), 0),
									resno, tle->resname, false));
	}
	cscan->custom_plans = list_make1(result->planTree);
	cscan->custom_private = list_make5(list_make1_oid(table->relid),
									   makeString(parse->commandType == CMD_UPDATE ?
												  "UPDATE " : "DELETE FROM "),
									   makeString(suffix.data),
									   makeInteger(list_length(keys)),
									   makeInteger(distKey));
	/* the nodes compute RETURNING: its functions are checked here */
	cscan->custom_private = lappend(cscan->custom_private,
									CollectFunctions((Node *) parse->returningList));
	cscan->custom_private = lappend(cscan->custom_private,
									makeInteger(parse->commandType == CMD_UPDATE ?
												list_length(targetList) -
												list_length(timeExprs) -
												list_length(keys) : 0));
	cscan->methods = &ShardextModifyScanMethods;

	result->planTree = (Plan *) cscan;
	result->commandType = parse->commandType;
	result->hasReturning = (parse->returningList != NIL);
	result->canSetTag = parse->canSetTag;
	result->queryId = parse->queryId;
	return result;
}

static Node *
CreateModifyScanState(CustomScan *cscan)
{
	ModifyScanState *state = palloc0(sizeof(ModifyScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &ModifyScanExecMethods;
	return (Node *) state;
}

static void
BeginModifyScan(CustomScanState *node, EState *estate, int eflags)
{
	ModifyScanState *state = (ModifyScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;
	PlanState  *source;
	TupleDesc	sourceDesc;
	int			i;

	state->relid = list_nth_oid(list_nth(private, MODIFY_PRIVATE_RELID), 0);
	state->prefix = strVal(list_nth(private, MODIFY_PRIVATE_PREFIX));
	state->suffix = strVal(list_nth(private, MODIFY_PRIVATE_SUFFIX));
	state->isUpdate = (strncmp(state->prefix, "UPDATE", 6) == 0);
	state->keyCount = intVal(list_nth(private, MODIFY_PRIVATE_KEYS));
	state->setCount = intVal(list_nth(private, MODIFY_PRIVATE_SET_COUNT));
	state->distKey = intVal(list_nth(private, MODIFY_PRIVATE_DIST_KEY));
	CheckExecutePrivileges(list_nth(private, MODIFY_PRIVATE_FUNCTIONS));

	source = ExecInitNode(linitial(cscan->custom_plans), estate, eflags);
	node->custom_ps = list_make1(source);
	sourceDesc = ExecGetResultType(source);
	state->columnCount = sourceDesc->natts;
	state->outputFunctions = palloc0(sizeof(FmgrInfo) * sourceDesc->natts);
	state->columnTypes = palloc0(sizeof(Oid) * sourceDesc->natts);
	for (i = 0; i < sourceDesc->natts; i++)
	{
		Oid			outputFunction;
		bool		isVarlena;

		state->columnTypes[i] = TupleDescAttr(sourceDesc, i)->atttypid;
		getTypeOutputInfo(state->columnTypes[i], &outputFunction, &isVarlena);
		fmgr_info(outputFunction, &state->outputFunctions[i]);
	}
}

/* the keys of rows found, by a hash of their text (rows found twice) */
typedef struct SeenKey
{
	uint64		hash;			/* hash key: must be first */
	List	   *keys;			/* texts of the keys with this hash */
} SeenKey;

/*
 * KeySeenBefore tells whether the key text (a row's primary key columns)
 * was seen before, and remembers it (copied into context).
 */
static bool
KeySeenBefore(HTAB *seen, MemoryContext context, const char *key, int length)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) key, length, 0);
	bool		found;
	SeenKey    *entry = hash_search(seen, &hash, HASH_ENTER, &found);
	ListCell   *lc;
	MemoryContext old;

	if (!found)
		entry->keys = NIL;
	foreach(lc, entry->keys)
		if (strcmp(lfirst(lc), key) == 0)
			return true;
	old = MemoryContextSwitchTo(context);
	entry->keys = lappend(entry->keys, pstrdup(key));
	MemoryContextSwitchTo(old);
	return false;
}

/* the rows of one shard waiting to be changed */
typedef struct ModifyBatch
{
	ShardextShard *shard;
	List	   *rows;			/* const char ** of each row's column texts */
	Size		bytes;			/* their length */
	MemoryContext context;		/* of the rows */
} ModifyBatch;

/*
 * FlushModifyBatch changes the rows of a batch with one statement on every
 * placement of its shard; the first one's count and RETURNING rows are the
 * statement's.
 */
static void
FlushModifyBatch(ModifyScanState *state, ModifyBatch *batch)
{
	EState	   *estate = state->css.ss.ps.state;
	TupleDesc	returningDesc = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	AttInMetadata *attinmeta = returningDesc->natts > 0 ?
		TupleDescGetAttInMetadata(returningDesc) : NULL;
	int			count = state->columnCount;
	int			rowCount = list_length(batch->rows);
	const char **values = palloc(sizeof(char *) * count);
	Oid		   *types = palloc(sizeof(Oid) * count);
	ListCell   *nodeCell;
	int			i;

	if (rowCount == 0)
		return;
	for (i = 0; i < count; i++)
	{
		bool		isTime = (i >= state->setCount && i < count - state->keyCount);

		if (isTime)
		{
			/* the same value for every row */
			values[i] = ((const char **) linitial(batch->rows))[i];
			types[i] = state->columnTypes[i] < FirstNormalObjectId ?
				state->columnTypes[i] : InvalidOid;
		}
		else
		{
			Datum	   *texts = palloc(sizeof(Datum) * rowCount);
			bool	   *nulls = palloc(sizeof(bool) * rowCount);
			int			dims[1] = {rowCount};
			int			lbs[1] = {1};
			ListCell   *lc;

			foreach(lc, batch->rows)
			{
				const char *text = ((const char **) lfirst(lc))[i];
				int			r = foreach_current_index(lc);

				nulls[r] = (text == NULL);
				texts[r] = text ? CStringGetTextDatum(text) : (Datum) 0;
			}
			values[i] = OidOutputFunctionCall(F_ARRAY_OUT,
											  PointerGetDatum(construct_md_array(texts, nulls, 1, dims,
																				 lbs, TEXTOID, -1,
																				 false, TYPALIGN_INT)));
			types[i] = TEXTARRAYOID;
		}
	}

	foreach(nodeCell, batch->shard->placementNodeIds)
	{
		NodeConnection *nc = GetNodeConnectionInTransaction(lfirst_int(nodeCell), true);
		PGresult   *res;
		int			r;

		DeferKeysOnNode(state->deferral, nc);
		res = RemoteExecutePrepared(nc, psprintf("%s%s%s", state->prefix,
												 batch->shard->relationName,
												 state->suffix),
									count, types, values);

		if (nodeCell != list_head(batch->shard->placementNodeIds))
		{
			PQclear(res);
			continue;
		}
		/* RETURNING rows are counted as they are returned (NextStoredRow) */
		if (PQcmdTuples(res)[0] != '\0' && state->returning == NULL)
			estate->es_processed += strtou64(PQcmdTuples(res), NULL, 10);
		for (r = 0; r < PQntuples(res) && state->returning != NULL; r++)
		{
			char	  **fields = palloc(sizeof(char *) * returningDesc->natts);
			HeapTuple	tuple;

			for (i = 0; i < returningDesc->natts; i++)
				fields[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
			tuple = BuildTupleFromCStrings(attinmeta, fields);
			tuplestore_puttuple(state->returning, tuple);
		}
		PQclear(res);
	}
	batch->rows = NIL;
	batch->bytes = 0;
	MemoryContextReset(batch->context);
}

/*
 * CompareBatchNodes orders the batches of a statement by the node of their
 * shard, then by shard id (as remote_scan.c's CompareTaskNodes orders the
 * tasks of a write).
 */
static int
CompareBatchNodes(const void *a, const void *b)
{
	const ShardextShard *shardA = (*(ModifyBatch *const *) a)->shard;
	const ShardextShard *shardB = (*(ModifyBatch *const *) b)->shard;

	if (shardA->nodeId != shardB->nodeId)
		return (shardA->nodeId > shardB->nodeId) - (shardA->nodeId < shardB->nodeId);
	return (shardA->shardId > shardB->shardId) - (shardA->shardId < shardB->shardId);
}

/*
 * RunModify changes every row the first step found, once, on its shard: the
 * rows are gathered per shard and each shard changes its rows with one
 * statement (MODIFY_BATCH_ROWS at most), so the node checks its foreign
 * keys when the statement ends, as PostgreSQL does (keys of the table to
 * itself are deferred on the nodes while several statements are sent).
 */
static void
RunModify(ModifyScanState *state)
{
	PlanState  *source = linitial(state->css.custom_ps);
	ShardextTable *table = ShardextGetTable(state->relid);
	MemoryContext rowContext = AllocSetContextCreate(CurrentMemoryContext,
													 "shardext modify row",
													 ALLOCSET_DEFAULT_SIZES);
	HTAB	   *seen;
	HASHCTL		info;
	Tuplestorestate *foundRows;
	TupleTableSlot *foundSlot;
	ModifyBatch *batches;
	ModifyBatch **order;
	int			i;

	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is no longer distributed",
						get_rel_name(state->relid)),
				 errhint("Run the statement again.")));

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(uint64);
	info.entrysize = sizeof(SeenKey);
	info.hcxt = CurrentMemoryContext;
	seen = hash_create("shardext modified keys", 256, &info,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	if (state->css.ss.ps.plan->targetlist != NIL)
		state->returning = tuplestore_begin_heap(false, false, work_mem);

	/*
	 * Every row is found before any is changed: the statement may read its
	 * own table again (UPDATE ... FROM t t2, EXISTS on t), and must not see
	 * its own changes, as on PostgreSQL.
	 */
	foundRows = tuplestore_begin_heap(false, false, work_mem);
	for (;;)
	{
		TupleTableSlot *slot = ExecProcNode(source);

		if (TupIsNull(slot))
			break;
		tuplestore_puttupleslot(foundRows, slot);
	}
	foundSlot = MakeSingleTupleTableSlot(ExecGetResultType(source),
										 &TTSOpsMinimalTuple);

	batches = palloc0(sizeof(ModifyBatch) * table->shardCount);
	for (i = 0; i < table->shardCount; i++)
	{
		batches[i].shard = table->shards[i];
		batches[i].context = AllocSetContextCreate(CurrentMemoryContext,
												   "shardext modify batch",
												   ALLOCSET_DEFAULT_SIZES);
	}

	for (;;)
	{
		TupleTableSlot *slot =
			tuplestore_gettupleslot(foundRows, true, false, foundSlot) ?
			foundSlot : NULL;
		MemoryContext old;
		const char **values;
		StringInfoData key;
		ShardextShard *shard;
		ModifyBatch *batch;
		Size		rowBytes = 0;

		if (TupIsNull(slot))
			break;
		MemoryContextReset(rowContext);
		old = MemoryContextSwitchTo(rowContext);
		slot_getallattrs(slot);

		if (IsSingleShardTable(table))
			shard = table->shards[0];
		else
			shard = FindShardForValue(table, slot->tts_values[state->distKey - 1],
									  slot->tts_isnull[state->distKey - 1]);
		batch = &batches[shard->shardIndex];

		MemoryContextSwitchTo(batch->context);
		values = palloc(sizeof(char *) * state->columnCount);
		for (i = 0; i < state->columnCount; i++)
		{
			values[i] = slot->tts_isnull[i] ? NULL :
				ExactOutputFunctionCall(&state->outputFunctions[i], slot->tts_values[i]);
			rowBytes += values[i] ? strlen(values[i]) : 0;
		}

		/*
		 * A row the join finds several times is changed once.  Its key
		 * texts are each written after their length, so that two keys
		 * cannot read alike.
		 */
		MemoryContextSwitchTo(rowContext);
		initStringInfo(&key);
		for (i = state->columnCount - state->keyCount; i < state->columnCount; i++)
			appendStringInfo(&key, "%zu:%s", values[i] ? strlen(values[i]) : 0,
							 values[i] ? values[i] : "");
		if (KeySeenBefore(seen, info.hcxt, key.data, key.len))
		{
			MemoryContextSwitchTo(old);
			continue;
		}

		MemoryContextSwitchTo(batch->context);
		batch->rows = lappend(batch->rows, values);
		batch->bytes += rowBytes;
		MemoryContextSwitchTo(old);
		if (list_length(batch->rows) >= MODIFY_BATCH_ROWS ||
			batch->bytes >= MODIFY_BATCH_BYTES)
		{
			/* several statements: checks at the end wait until then */
			if (state->deferral == NULL)
			{
				char	   *key = KeyCheckedPerBatch(state->relid, state->isUpdate);

				if (key != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("%s on table \"%s\" changes too many rows of one shard to check foreign key \"%s\" as PostgreSQL does",
									state->isUpdate ? "UPDATE" : "DELETE",
									get_rel_name(state->relid), key),
							 errdetail("A shard's rows are changed in statements of at most %d rows (or %d MB of values), "
									   "and the key would be checked, or act, after each of them, not once at the end.",
									   MODIFY_BATCH_ROWS, MODIFY_BATCH_BYTES / (1024 * 1024)),
							 errhint("Change the rows in several statements, for instance by ranges of the "
									 "distribution column, or make the key DEFERRABLE and defer it.")));
				state->deferral = BeginKeyDeferral(state->relid);
			}
			FlushModifyBatch(state, batch);
		}
	}
	/*
	 * Shard after shard, one node's shards after the other's (in node
	 * order, as remote_scan.c sends an UPDATE or DELETE of several nodes):
	 * two statements changing the same rows meet on the first node.
	 */
	order = palloc(sizeof(ModifyBatch *) * Max(table->shardCount, 1));
	for (i = 0; i < table->shardCount; i++)
		order[i] = &batches[i];
	if (ShardextOrderedMultiNodeWrites)
		qsort(order, table->shardCount, sizeof(ModifyBatch *), CompareBatchNodes);
	for (i = 0; i < table->shardCount; i++)
	{
		FlushModifyBatch(state, order[i]);
		MemoryContextDelete(order[i]->context);
	}
	EndKeyDeferral(state->deferral);
	ExecDropSingleTupleTableSlot(foundSlot);
	tuplestore_end(foundRows);
	MemoryContextDelete(rowContext);
}

static TupleTableSlot *
ExecModifyScan(CustomScanState *node)
{
	ModifyScanState *state = (ModifyScanState *) node;

	if (!state->done)
	{
		MemoryContext old = MemoryContextSwitchTo(node->ss.ps.state->es_query_cxt);

		RunModify(state);
		MemoryContextSwitchTo(old);
		state->done = true;
	}
	return NextStoredRow(node, state->returning, &state->returningSlot);
}

static void
EndModifyScan(CustomScanState *node)
{
	ModifyScanState *state = (ModifyScanState *) node;

	ExecEndNode(linitial(node->custom_ps));
	if (state->returning != NULL)
		tuplestore_end(state->returning);
	state->returning = NULL;
}

static void
ReScanModifyScan(CustomScanState *node)
{
	elog(ERROR, "a distributed UPDATE or DELETE cannot be rescanned");
}

/*
 * ExplainModifyScan shows the statement sent for each shard's rows.
 */
static void
ExplainModifyScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	ModifyScanState *state = (ModifyScanState *) node;

	ExplainPropertyText("Distributed Plan", "rows found on the coordinator, "
						"changed by primary key on their shards", es);
	if (es->verbose)
		ExplainPropertyText("Remote SQL per shard",
							psprintf("%s<shard>%s", state->prefix, state->suffix),
							es);
}
