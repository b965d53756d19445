/*-------------------------------------------------------------------------
 *
 * join_keys.c
 *	  Filters of distributed tables by the join keys of small local tables.
 *
 * A query that joins a distributed table on its distribution column to a
 * table of the coordinator,
 *
 *   SELECT * FROM wanted w JOIN orders o ON o.id = w.order_id;
 *
 * would read every shard: PostgreSQL's planner can only hash or merge join
 * the two, as the shards are not asked row by row (every rescan would be a
 * new statement on the nodes, with a newer snapshot under READ COMMITTED).
 * Before planning, AddJoinKeyFilters gives such a join one more condition
 * on the distributed table,
 *
 *   o.id = ANY (ARRAY(SELECT w.order_id FROM wanted w WHERE <w's own
 *               conditions>))
 *
 * which the planner makes an InitPlan, computed once per execution; the
 * scan (multi_shard.c, remote_scan.c) then reads only the shards of those
 * values and sends each shard its own values, so the nodes answer with the
 * rows that join.  The condition follows from the join's equality, so no
 * result changes: the array holds every value the join can match (the local
 * table's conditions that are copied only narrow it; any that is not
 * copied leaves it larger).  Tables joined to the filtered one on their
 * distribution columns (co-located) get the same filter.
 *
 * The local side is read twice, so it must be small: an ordinary table,
 * materialized view or VALUES list of at most shardext.join_key_filter_limit
 * rows (from its statistics, or its size), also through a view, subquery or
 * WITH query that only filters it, read through an inner join or as the
 * preserved side of an outer join whose nullable side is the distributed
 * table; the equality compares the distribution column with a plain column
 * of the local side.  "dist IN (SELECT column FROM such a source ...)" gets
 * the filter too, and so does the row-finding SELECT of an UPDATE ... FROM
 * or DELETE ... USING that reads such a source (modify.c).  Conditions
 * copied into the keys query must not be able to fail (SafeToCopy): that
 * query may read rows the join never gets to.
 *
 * IDENTIFICATION
 *	  src/join_keys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "storage/bufmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "shardext/guc.h"
#include "shardext/join_keys.h"
#include "shardext/metadata_cache.h"
#include "shardext/router.h"

/* A condition of one query level, and where it is ANDed in. */
typedef struct LevelQual
{
	Node	   *qual;
	Node	  **location;		/* the quals field of a FromExpr or JoinExpr */
	int			nullableRtindex;	/* of an outer join's ON: its nullable
									 * side when that is one table, else 0 */
} LevelQual;

/* What one query level offers: its inner region and its conditions. */
typedef struct LevelInfo
{
	Query	   *query;
	Bitmapset  *region;			/* tables whose rows every result row has */
	List	   *quals;			/* LevelQual *: the region's conditions */
	List	   *outerQuals;		/* LevelQual *: ON of outer joins whose
								 * nullable side is one table */
} LevelInfo;

/* A filter chosen for a distributed table of a level. */
typedef struct KeyFilter
{
	Index		rtindex;		/* the distributed table */
	Node	  **location;		/* where the filter goes */
	RangeTblEntry *localRte;	/* the local source the keys come from */
	Index		localRtindex;	/* its entry's index where it is */
	Expr	   *localExpr;		/* the key: its column (a Var, maybe
								 * relabeled) */
	List	   *localQuals;		/* conditions there, copied when safe */
	Oid			opno;			/* distribution column = localExpr */
	Oid			inputcollid;
} KeyFilter;

typedef struct KeyFilterContext
{
	bool		apply;			/* add the filters (else only look) */
	bool		found;			/* a filter would be, or was, added */
} KeyFilterContext;

static bool KeyFilterWalker(Node *node, KeyFilterContext *context);
static void AddFiltersAtLevel(Query *query, KeyFilterContext *context);
static void CollectRegion(Node *node, LevelInfo *info, bool inRegion);
static void AddLevelQuals(Node **location, List **target, int nullableRtindex);
static ShardextTable *FilterableTable(Query *query, Index rtindex);
static bool ResolveLocalSource(Query *query, Index rtindex, Expr *column,
							   List *quals, KeyFilter *filter);
static bool FiltersOneEntry(Query *sub, Index *rtindex);
static bool SmallLocalEntry(RangeTblEntry *rte);
static bool OuterVarWalker(Node *node, void *context);
static Expr *StripRelabel(Expr *expr);
static bool IsColumnOf(Expr *expr, Index rtindex, AttrNumber attno);
static bool IsLocalColumn(Expr *expr, Index *rtindex);
static KeyFilter *FindDirectFilter(LevelInfo *info, Index rtindex,
								   ShardextTable *table, LevelQual *lq);
static KeyFilter *FindSubLinkFilter(Index rtindex, ShardextTable *table,
									LevelQual *lq);
static Node *BuildFilter(KeyFilter *filter, ShardextTable *table);
static Query *LocalKeysQuery(KeyFilter *filter);
static bool SafeToCopy(Node *qual);
static bool UnsafeNodeWalker(Node *node, void *context);
static bool NotLeakproof(Oid funcid, void *context);
static bool OnlyLocalVars(Node *node, Index rtindex);
static bool OnlyLocalVarsWalker(Node *node, Index *rtindex);

/*
 * AddJoinKeyFilters returns the query with filters added to the distributed
 * tables that small local tables join on their distribution column, at
 * every query level (a copy), or the query itself when there are none.
 */
Query *
AddJoinKeyFilters(Query *parse)
{
	KeyFilterContext context;

	if (ShardextJoinKeyFilterLimit <= 0)
		return parse;
	context.apply = false;
	context.found = false;
	(void) KeyFilterWalker((Node *) parse, &context);
	if (!context.found)
		return parse;
	parse = copyObject(parse);
	context.apply = true;
	(void) KeyFilterWalker((Node *) parse, &context);
	return parse;
}

/* KeyFilterWalker visits every query level of a query. */
static bool
KeyFilterWalker(Node *node, KeyFilterContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;

		if (query->commandType == CMD_SELECT)
			AddFiltersAtLevel(query, context);
		return query_tree_walker(query, KeyFilterWalker, context, 0);
	}
	return expression_tree_walker(node, KeyFilterWalker, context);
}

/*
 * AddFiltersAtLevel finds the filters of one query level and, when
 * context->apply, adds them.
 */
static void
AddFiltersAtLevel(Query *query, KeyFilterContext *context)
{
	LevelInfo	info;
	KeyFilter **filters;
	int			rtcount = list_length(query->rtable);
	bool		changed;
	Index		rtindex;
	ListCell   *lc;

	if (rtcount == 0 || query->jointree == NULL)
		return;
	memset(&info, 0, sizeof(info));
	info.query = query;
	CollectRegion((Node *) query->jointree, &info, true);
	filters = palloc0(sizeof(KeyFilter *) * (rtcount + 1));

	/* a distribution column equal to a local table's column */
	for (rtindex = 1; rtindex <= rtcount; rtindex++)
	{
		ShardextTable *table = FilterableTable(query, rtindex);

		if (table == NULL)
			continue;
		if (bms_is_member(rtindex, info.region))
		{
			foreach(lc, info.quals)
			{
				filters[rtindex] = FindDirectFilter(&info, rtindex, table,
													lfirst(lc));
				if (filters[rtindex] == NULL)
					filters[rtindex] = FindSubLinkFilter(rtindex, table,
														 lfirst(lc));
				if (filters[rtindex] != NULL)
					break;
			}
		}
		else
		{
			foreach(lc, info.outerQuals)
			{
				LevelQual  *lq = lfirst(lc);

				if (lq->nullableRtindex != rtindex)
					continue;
				filters[rtindex] = FindDirectFilter(&info, rtindex, table, lq);
				if (filters[rtindex] != NULL)
					break;
			}
		}
	}

	/*
	 * ... or to the distribution column of a co-located table that has a
	 * filter, in the region: the same values.
	 */
	do
	{
		changed = false;
		for (rtindex = 1; rtindex <= rtcount; rtindex++)
		{
			ShardextTable *table;

			if (filters[rtindex] != NULL || !bms_is_member(rtindex, info.region) ||
				(table = FilterableTable(query, rtindex)) == NULL)
				continue;
			foreach(lc, info.quals)
			{
				LevelQual  *lq = lfirst(lc);
				OpExpr	   *op = (OpExpr *) lq->qual;
				Index		other;

				if (!IsA(op, OpExpr) || list_length(op->args) != 2)
					continue;
				for (other = 1; other <= rtcount; other++)
				{
					ShardextTable *otherTable;
					KeyFilter  *filter;

					if (filters[other] == NULL || other == rtindex)
						continue;
					otherTable = ShardextGetTable(rt_fetch(other, query->rtable)->relid);
					if (otherTable->colocationId != table->colocationId ||
						otherTable->distTypeId != table->distTypeId ||
						!((IsColumnOf(linitial(op->args), rtindex, table->distAttno) &&
						   IsColumnOf(lsecond(op->args), other, otherTable->distAttno)) ||
						  (IsColumnOf(lsecond(op->args), rtindex, table->distAttno) &&
						   IsColumnOf(linitial(op->args), other, otherTable->distAttno))) ||
						!IsDistributionEquality(op, table))
						continue;
					filter = palloc(sizeof(KeyFilter));
					*filter = *filters[other];
					filter->rtindex = rtindex;
					filter->location = lq->location;
					filters[rtindex] = filter;
					changed = true;
					break;
				}
				if (filters[rtindex] != NULL)
					break;
			}
		}
	} while (changed);

	for (rtindex = 1; rtindex <= rtcount; rtindex++)
	{
		KeyFilter  *filter = filters[rtindex];
		Node	   *expr;

		if (filter == NULL)
			continue;
		context->found = true;
		if (!context->apply)
			continue;
		expr = BuildFilter(filter,
						   ShardextGetTable(rt_fetch(rtindex, query->rtable)->relid));
		if (*filter->location == NULL)
			*filter->location = expr;
		else if (is_andclause(*filter->location))
			((BoolExpr *) *filter->location)->args =
				lappend(((BoolExpr *) *filter->location)->args, expr);
		else
			*filter->location = (Node *) make_andclause(list_make2(*filter->location,
																   expr));
		query->hasSubLinks = true;
	}
}

/*
 * CollectRegion walks a level's join tree: the tables reached through FROM
 * lists and inner joins, and the preserved sides of outer joins, form its
 * region when inRegion; their conditions go to info->quals, the ON of an
 * outer join whose nullable side is one table to info->outerQuals.
 */
static void
CollectRegion(Node *node, LevelInfo *info, bool inRegion)
{
	if (node == NULL)
		return;
	if (IsA(node, RangeTblRef))
	{
		if (inRegion)
			info->region = bms_add_member(info->region,
										  ((RangeTblRef *) node)->rtindex);
		return;
	}
	if (IsA(node, FromExpr))
	{
		FromExpr   *from = (FromExpr *) node;
		ListCell   *lc;

		foreach(lc, from->fromlist)
			CollectRegion(lfirst(lc), info, inRegion);
		if (inRegion)
			AddLevelQuals(&from->quals, &info->quals, 0);
		return;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;
		Node	   *nullable = NULL;

		switch (join->jointype)
		{
			case JOIN_INNER:
				CollectRegion(join->larg, info, inRegion);
				CollectRegion(join->rarg, info, inRegion);
				if (inRegion)
					AddLevelQuals(&join->quals, &info->quals, 0);
				return;
			case JOIN_LEFT:
				CollectRegion(join->larg, info, inRegion);
				CollectRegion(join->rarg, info, false);
				nullable = join->rarg;
				break;
			case JOIN_RIGHT:
				CollectRegion(join->larg, info, false);
				CollectRegion(join->rarg, info, inRegion);
				nullable = join->larg;
				break;
			default:
				CollectRegion(join->larg, info, false);
				CollectRegion(join->rarg, info, false);
				return;
		}
		if (inRegion && IsA(nullable, RangeTblRef))
			AddLevelQuals(&join->quals, &info->outerQuals,
						  ((RangeTblRef *) nullable)->rtindex);
	}
}

/* AddLevelQuals adds the conjuncts of *location to *target. */
static void
AddLevelQuals(Node **location, List **target, int nullableRtindex)
{
	ListCell   *lc;

	foreach(lc, make_ands_implicit((Expr *) *location))
	{
		LevelQual  *lq = palloc(sizeof(LevelQual));

		lq->qual = lfirst(lc);
		lq->location = location;
		lq->nullableRtindex = nullableRtindex;
		*target = lappend(*target, lq);
	}
}

/*
 * FilterableTable returns the cache entry of the table of an entry when it
 * is a distributed table with a distribution column, else NULL.
 */
static ShardextTable *
FilterableTable(Query *query, Index rtindex)
{
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	ShardextTable *table;

	if (rte->rtekind != RTE_RELATION)
		return NULL;
	table = ShardextGetTable(rte->relid);
	if (table == NULL || IsSingleShardTable(table) || table->shardCount < 2)
		return NULL;
	return table;
}

/*
 * ResolveLocalSource fills the source part of filter (localRte,
 * localRtindex, localExpr, localQuals) for keys read from column (a Var of
 * entry rtindex of query) and returns true, when the entry is a small local
 * source (SmallLocalEntry), or a subquery in FROM or a WITH query over
 * one (a view of a local table, a VALUES list) that only filters it
 * (FiltersOneEntry); quals are the conditions on the entry to copy when
 * safe.  For a subquery, the source is the table or list it reads, with its
 * conditions.
 */
static bool
ResolveLocalSource(Query *query, Index rtindex, Expr *column, List *quals,
				   KeyFilter *filter)
{
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	Query	   *sub = rte->subquery;
	Var		   *var = (Var *) StripRelabel(column);
	TargetEntry *tle;
	Index		innerRtindex;
	Index		columnRtindex;

	/* a WITH query of this level is read like a subquery */
	if (rte->rtekind == RTE_CTE && rte->ctelevelsup == 0 && !rte->self_reference)
	{
		ListCell   *lc;

		foreach(lc, query->cteList)
		{
			CommonTableExpr *cte = lfirst(lc);

			if (strcmp(cte->ctename, rte->ctename) == 0 && !cte->cterecursive &&
				IsA(cte->ctequery, Query))
				sub = (Query *) cte->ctequery;
		}
		if (sub == NULL)
			return false;
	}
	else if (rte->rtekind != RTE_SUBQUERY)
	{
		if (!SmallLocalEntry(rte))
			return false;
		filter->localRte = rte;
		filter->localRtindex = rtindex;
		filter->localExpr = column;
		filter->localQuals = quals;
		return true;
	}
	/* (a view's query lists its OLD and NEW entries too, unread) */
	if (rte->lateral || !FiltersOneEntry(sub, &innerRtindex) ||
		!SmallLocalEntry(rt_fetch(innerRtindex, sub->rtable)))
		return false;
	tle = get_tle_by_resno(sub->targetList, var->varattno);
	if (tle == NULL || tle->resjunk ||
		!IsLocalColumn(tle->expr, &columnRtindex) ||
		columnRtindex != innerRtindex ||
		exprType((Node *) tle->expr) != var->vartype)
		return false;
	filter->localRte = rt_fetch(innerRtindex, sub->rtable);
	filter->localRtindex = innerRtindex;
	filter->localExpr = (column == (Expr *) var) ? tle->expr :
		(Expr *) makeRelabelType(tle->expr, exprType((Node *) column),
								 exprTypmod((Node *) column),
								 exprCollation((Node *) column),
								 COERCE_IMPLICIT_CAST);
	filter->localQuals = make_ands_implicit((Expr *) sub->jointree->quals);
	return true;
}

/*
 * FiltersOneEntry tells whether a query only filters the rows of one entry
 * of its range table, and which: no grouping, aggregates, window or
 * set-returning functions, set operations, DISTINCT ON, LIMIT, locking,
 * sublinks or WITH, no volatile function and nothing of an outer query.
 */
static bool
FiltersOneEntry(Query *sub, Index *rtindex)
{
	if (sub->commandType != CMD_SELECT || sub->hasSubLinks || sub->hasAggs ||
		sub->hasWindowFuncs || sub->hasTargetSRFs || sub->hasRecursive ||
		sub->hasModifyingCTE || sub->hasForUpdate || sub->cteList != NIL ||
		sub->setOperations != NULL || sub->groupClause != NIL ||
		sub->groupingSets != NIL || sub->havingQual != NULL ||
		sub->hasDistinctOn || sub->limitCount != NULL ||
		sub->limitOffset != NULL || sub->jointree == NULL ||
		list_length(sub->jointree->fromlist) != 1 ||
		!IsA(linitial(sub->jointree->fromlist), RangeTblRef) ||
		query_tree_walker(sub, OuterVarWalker, NULL, 0) ||
		contain_volatile_functions((Node *) sub))
		return false;
	*rtindex = ((RangeTblRef *) linitial(sub->jointree->fromlist))->rtindex;
	return true;
}

/*
 * SmallLocalEntry tells whether an entry is a table of the coordinator or a
 * materialized view, or a VALUES list, with at most
 * shardext.join_key_filter_limit rows, that can be read a second time
 * alike.
 */
static bool
SmallLocalEntry(RangeTblEntry *rte)
{
	Relation	relation;
	double		rows;

	/* (the keys query reads every row: none may fail) */
	if (rte->rtekind == RTE_VALUES)
		return !rte->lateral &&
			list_length(rte->values_lists) <= ShardextJoinKeyFilterLimit &&
			!ContainsAnyVar((Node *) rte->values_lists, NULL) &&
			SafeToCopy((Node *) rte->values_lists);
	if (rte->rtekind != RTE_RELATION || rte->tablesample != NULL ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW) ||
		ShardextGetTable(rte->relid) != NULL ||
		(rte->inh && has_subclass(rte->relid)))
		return false;

	/* its statistics, or else its size at a small row's width */
	relation = table_open(rte->relid, NoLock);
	if (relation->rd_rel->reltuples >= 0 && relation->rd_rel->relpages > 0)
		rows = relation->rd_rel->reltuples *
			((double) RelationGetNumberOfBlocks(relation) / relation->rd_rel->relpages);
	else
		rows = (double) RelationGetNumberOfBlocks(relation) * (BLCKSZ / 32);
	table_close(relation, NoLock);
	return rows <= ShardextJoinKeyFilterLimit;
}

/*
 * OuterVarWalker returns true at a Var of an outer query level (in a query
 * without sublinks, whose Vars are all of its own level or outer ones).
 */
static bool
OuterVarWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup > 0;
	if (IsA(node, PlaceHolderVar))
		return true;
	return expression_tree_walker(node, OuterVarWalker, context);
}

/* StripRelabel returns an expression without its binary relabelings. */
static Expr *
StripRelabel(Expr *expr)
{
	while (expr != NULL && IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return expr;
}

/* IsColumnOf tells whether expr is column attno of entry rtindex. */
static bool
IsColumnOf(Expr *expr, Index rtindex, AttrNumber attno)
{
	Var		   *var = (Var *) StripRelabel(expr);

	return var != NULL && IsA(var, Var) && var->varlevelsup == 0 &&
		var->varno == rtindex && var->varattno == attno;
}

/*
 * IsLocalColumn tells whether expr is a plain column of an entry of its own
 * level, and which.
 */
static bool
IsLocalColumn(Expr *expr, Index *rtindex)
{
	Var		   *var = (Var *) StripRelabel(expr);

	if (var == NULL || !IsA(var, Var) || var->varlevelsup != 0 ||
		var->varattno <= 0)
		return false;
	*rtindex = var->varno;
	return true;
}

/*
 * FindDirectFilter returns the filter that a condition "distribution column
 * = column of a small local source" gives the distributed table of entry
 * rtindex, or NULL.
 */
static KeyFilter *
FindDirectFilter(LevelInfo *info, Index rtindex, ShardextTable *table,
				 LevelQual *lq)
{
	OpExpr	   *op = (OpExpr *) lq->qual;
	Expr	   *localExpr;
	Index		localRtindex;
	OpExpr		equality;
	KeyFilter  *filter;
	List	   *quals = NIL;
	ListCell   *lc;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return NULL;
	memcpy(&equality, op, sizeof(OpExpr));
	if (IsColumnOf(linitial(op->args), rtindex, table->distAttno))
		localExpr = lsecond(op->args);
	else if (IsColumnOf(lsecond(op->args), rtindex, table->distAttno))
	{
		/* the array is the right operand: the commuted operator */
		localExpr = linitial(op->args);
		equality.opno = get_commutator(op->opno);
		if (!OidIsValid(equality.opno))
			return NULL;
	}
	else
		return NULL;
	if (!IsLocalColumn(localExpr, &localRtindex) || localRtindex == rtindex ||
		!bms_is_member(localRtindex, info->region) ||
		!IsDistributionEquality(&equality, table) ||
		!OidIsValid(get_array_type(exprType((Node *) localExpr))))
		return NULL;

	filter = palloc(sizeof(KeyFilter));
	foreach(lc, info->quals)
		quals = lappend(quals, ((LevelQual *) lfirst(lc))->qual);
	if (!ResolveLocalSource(info->query, localRtindex, localExpr, quals,
							filter))
		return NULL;
	filter->rtindex = rtindex;
	filter->location = lq->location;
	filter->opno = equality.opno;
	filter->inputcollid = op->inputcollid;
	return filter;
}

/*
 * FindSubLinkFilter returns the filter that a condition "distribution
 * column IN (SELECT column FROM small local source WHERE ...)" gives the
 * distributed table of entry rtindex, when the subquery is not correlated
 * and only filters (no grouping, LIMIT, ...), or NULL.  PostgreSQL would
 * read the table whole for a semi join; the filter sends the subquery's
 * values (those of its source's rows that pass its safe conditions).
 */
static KeyFilter *
FindSubLinkFilter(Index rtindex, ShardextTable *table, LevelQual *lq)
{
	SubLink    *sublink = (SubLink *) lq->qual;
	OpExpr	   *op;
	Param	   *param;
	Query	   *sub;
	TargetEntry *tle;
	Index		localRtindex;
	KeyFilter  *filter;

	if (!IsA(sublink, SubLink) || sublink->subLinkType != ANY_SUBLINK ||
		sublink->testexpr == NULL || !IsA(sublink->testexpr, OpExpr))
		return NULL;
	op = (OpExpr *) sublink->testexpr;
	param = (Param *) StripRelabel(lsecond(op->args));
	if (list_length(op->args) != 2 ||
		!IsColumnOf(linitial(op->args), rtindex, table->distAttno) ||
		param == NULL || !IsA(param, Param) ||
		param->paramkind != PARAM_SUBLINK || param->paramid != 1 ||
		!IsDistributionEquality(op, table))
		return NULL;

	sub = (Query *) sublink->subselect;
	if (sub->hasRowSecurity || list_length(sub->rtable) != 1 ||
		!FiltersOneEntry(sub, &localRtindex))
		return NULL;
	tle = linitial(sub->targetList);
	if (list_length(sub->targetList) != 1 || tle->resjunk ||
		!IsLocalColumn(tle->expr, &localRtindex) || localRtindex != 1 ||
		!OidIsValid(get_array_type(exprType((Node *) tle->expr))))
		return NULL;

	filter = palloc(sizeof(KeyFilter));
	if (!ResolveLocalSource(sub, 1, tle->expr,
							make_ands_implicit((Expr *) sub->jointree->quals),
							filter))
		return NULL;
	filter->rtindex = rtindex;
	filter->location = lq->location;
	filter->opno = op->opno;
	filter->inputcollid = op->inputcollid;
	return filter;
}

/*
 * BuildFilter returns "distribution column = ANY (ARRAY(LocalKeysQuery))"
 * for a filter.
 */
static Node *
BuildFilter(KeyFilter *filter, ShardextTable *table)
{
	SubLink    *sublink = makeNode(SubLink);
	ScalarArrayOpExpr *saop = makeNode(ScalarArrayOpExpr);
	Expr	   *column;
	Oid			leftType;
	Oid			rightType;
	RegProcedure leftHash;
	RegProcedure rightHash;

	/*
	 * Narrower integers than the column (an int key column against a
	 * bigint distribution column) become the column's type in the keys
	 * query, exactly: the equality is then the type's own, whose two sides
	 * hash alike.
	 */
	op_input_types(filter->opno, &leftType, &rightType);
	if ((leftType == INT8OID && (rightType == INT4OID || rightType == INT2OID)) ||
		(leftType == INT4OID && rightType == INT2OID))
	{
		filter->localExpr = (Expr *) coerce_type(NULL, (Node *) filter->localExpr,
												 rightType, leftType, -1,
												 COERCION_IMPLICIT,
												 COERCE_IMPLICIT_CAST, -1);
		filter->opno = lookup_type_cache(leftType, TYPECACHE_EQ_OPR)->eq_opr;
		rightType = leftType;
	}

	sublink->subLinkType = ARRAY_SUBLINK;
	sublink->subLinkId = 0;
	sublink->testexpr = NULL;
	sublink->operName = NIL;
	sublink->subselect = (Node *) LocalKeysQuery(filter);
	sublink->location = -1;

	column = (Expr *) makeVar(filter->rtindex, table->distAttno,
							  table->distTypeId, table->distTypmod,
							  table->distCollation, 0);
	if (leftType != table->distTypeId)
		column = (Expr *) makeRelabelType(column, leftType, -1,
										  table->distCollation,
										  COERCE_IMPLICIT_CAST);
	saop->opno = filter->opno;
	saop->opfuncid = get_opcode(filter->opno);

	/*
	 * The coordinator checks the rows against the array too (the values
	 * sent may be rounded to the column's type): with a hash table, as
	 * PostgreSQL does for a long constant list, when the operator's two
	 * sides hash alike; the array is the same for every row of an
	 * execution.
	 */
	if (get_op_hash_functions(filter->opno, &leftHash, &rightHash) &&
		leftHash == rightHash)
		saop->hashfuncid = leftHash;
	else
		saop->hashfuncid = InvalidOid;
	saop->negfuncid = InvalidOid;
	saop->useOr = true;
	saop->inputcollid = filter->inputcollid;
	saop->args = list_make2(column, sublink);
	saop->location = -1;
	return (Node *) saop;
}

/*
 * LocalKeysQuery returns "SELECT local column FROM local source WHERE its
 * conditions" for a filter.  A condition is copied when it reads the local
 * source only and cannot fail or differ on a second evaluation (SafeToCopy):
 * the query may read rows the original never gets to, and leaving one out
 * only gives the array more values.  The entry is copied with its
 * privileges to check and its row security conditions.
 */
static Query *
LocalKeysQuery(KeyFilter *filter)
{
	Query	   *sub = makeNode(Query);
	RangeTblEntry *rte = copyObject(filter->localRte);
	RangeTblRef *ref = makeNode(RangeTblRef);
	Expr	   *element = copyObject(filter->localExpr);
	List	   *quals = NIL;
	ListCell   *lc;

	foreach(lc, filter->localQuals)
	{
		Node	   *qual = lfirst(lc);

		if (!OnlyLocalVars(qual, filter->localRtindex) || !SafeToCopy(qual))
			continue;
		qual = copyObject(qual);
		ChangeVarNodes(qual, filter->localRtindex, 1, 0);
		quals = lappend(quals, qual);
	}
	ChangeVarNodes((Node *) element, filter->localRtindex, 1, 0);
	ChangeVarNodes((Node *) rte->securityQuals, filter->localRtindex, 1, 0);

	rte->lateral = false;
	sub->hasRowSecurity = rte->securityQuals != NIL;
	sub->hasSubLinks = checkExprHasSubLink((Node *) rte->securityQuals);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = list_make1(rte);
	ref->rtindex = 1;
	sub->jointree = makeFromExpr(list_make1(ref),
								 quals != NIL ? (Node *) make_ands_explicit(quals) : NULL);
	sub->targetList = list_make1(makeTargetEntry(element, 1, pstrdup("key"),
												 false));
	return sub;
}

/*
 * SafeToCopy tells whether a condition can be evaluated on any row of its
 * table without an error, to the same result each time: no volatile
 * function, no sublink, and only leakproof functions (which may not fail
 * on the values they get), no domain check.
 */
static bool
SafeToCopy(Node *qual)
{
	return !contain_volatile_functions(qual) && !checkExprHasSubLink(qual) &&
		!UnsafeNodeWalker(qual, NULL);
}

/* UnsafeNodeWalker returns true at a node SafeToCopy refuses. */
static bool
UnsafeNodeWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CoerceToDomain) || IsA(node, PlaceHolderVar) ||
		IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) ||
		(IsA(node, Param) && ((Param *) node)->paramkind != PARAM_EXTERN))
		return true;
	if (check_functions_in_node(node, NotLeakproof, NULL))
		return true;
	return expression_tree_walker(node, UnsafeNodeWalker, context);
}

/* NotLeakproof tells whether a function is not leakproof. */
static bool
NotLeakproof(Oid funcid, void *context)
{
	return !get_func_leakproof(funcid);
}

/*
 * OnlyLocalVars tells whether every Var of node is of entry rtindex of the
 * node's own level (and there is at least one).
 */
static bool
OnlyLocalVars(Node *node, Index rtindex)
{
	Index		context = rtindex;

	return contain_var_clause(node) && !OnlyLocalVarsWalker(node, &context);
}

/* OnlyLocalVarsWalker returns true at a Var of another entry or level. */
static bool
OnlyLocalVarsWalker(Node *node, Index *rtindex)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup != 0 ||
			((Var *) node)->varno != *rtindex;
	if (IsA(node, PlaceHolderVar) || IsA(node, Query))
		return true;
	return expression_tree_walker(node, OnlyLocalVarsWalker, rtindex);
}
