/*-------------------------------------------------------------------------
 *
 * pullup.c
 *	  Flattening of views and simple subqueries in FROM, for routing.
 *
 * PostgreSQL's planner pulls a view, or a subquery in FROM that only
 * selects and filters (SELECT a, b FROM t WHERE ...), up into the query
 * that reads it; the router (router.c) and per-shard-group execution
 * (pushdown.c) look at the query before that, and would see a subquery
 * whose table has no condition on its distribution column: the condition
 * is in the outer WHERE.  PullUpSimpleSubqueries does the same flattening
 * first, so that
 *
 *   CREATE VIEW active AS SELECT * FROM items WHERE NOT deleted;
 *   SELECT * FROM active WHERE id = 42;
 *
 * goes to one shard whole, and SELECT count(*) FROM active runs per shard
 * group; views in subqueries (WHERE, WITH) are flattened into them alike.
 * Only what cannot change a result is flattened: subqueries without
 * aggregates, grouping, DISTINCT, ORDER BY, LIMIT, window functions,
 * set-returning or volatile functions, sublinks, WITH, or security
 * barriers (a FOR UPDATE of the subquery becomes one of its tables), read
 * from the FROM list or as a side of a join with ON and no alias that its
 * ON filters (an inner join's, an outer join's nullable side; one FROM
 * item of plain columns there), by a query without grouping sets or
 * whole-row references to them.  The flattened query is only analysed and
 * shipped: privileges are checked on the original's entries (the view,
 * and its tables as the view's owner), which the caller keeps in the plan.
 *
 * IDENTIFICATION
 *	  src/pullup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"

#include "shardext/pullup.h"

static bool IsSimpleSubquery(Query *sub);
static bool RemoveRangeTableEntries(Query *query, Bitmapset *remove);
static bool ReferencesWholeRow(Query *query, Index rtindex);
static bool FlattenableJoin(JoinExpr *join);
static bool FindReference(Node *node, Index rtindex, Node ***refptr,
						  JoinExpr **parentJoin);
static void CollectCandidates(Query *query, Node *node, List **candidates);
static Query *PullUpOne(Query *query, Index rtindex);
static Query *PullUpLevel(Query *query);
static Node *PullUpMutator(Node *node, bool *changed);
static Query *RemoveOwnViewEntries(Query *query, bool *changed);

/*
 * PullUpSimpleSubqueries returns a copy of a SELECT with its views and
 * simple subqueries in FROM flattened into it, or the query itself when
 * there is nothing to flatten.
 */
Query *
PullUpSimpleSubqueries(Query *parse)
{
	bool		changed = false;
	Query	   *flat;

	if (parse->commandType != CMD_SELECT || parse->utilityStmt != NULL ||
		parse->hasModifyingCTE)
		return parse;
	/* most queries have no subquery at all: no copy for them (router path) */
	if (!parse->hasSubLinks && parse->cteList == NIL)
	{
		ListCell   *lc;
		bool		subqueries = false;

		foreach(lc, parse->rtable)
			if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_SUBQUERY ||
				((RangeTblEntry *) lfirst(lc))->relkind == RELKIND_MATVIEW ||
				((RangeTblEntry *) lfirst(lc))->relkind == RELKIND_VIEW)
				subqueries = true;
		if (!subqueries)
			return parse;
	}
	flat = (Query *) PullUpMutator((Node *) copyObject(parse), &changed);
	flat = RemoveOwnViewEntries(flat, &changed);
	return changed ? flat : parse;
}

/*
 * RemoveOwnViewEntries removes from the top level of a query the entries of
 * a view or materialized view that nothing reads: the query of REFRESH
 * MATERIALIZED VIEW is the view's own, which keeps two entries of the view
 * (as every view's query does), and is then analysed like any other.
 * (Only at the top: under a subquery kept whole, such as a security
 * barrier's, they keep it from being sent to a node as a plain subquery.)
 */
static Query *
RemoveOwnViewEntries(Query *query, bool *changed)
{
	Relids		used = get_relids_in_jointree((Node *) query->jointree, true);
	Bitmapset  *unused = NULL;
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		int			rtindex = foreach_current_index(lc) + 1;

		if (rte->rtekind == RTE_RELATION &&
			(rte->relkind == RELKIND_VIEW || rte->relkind == RELKIND_MATVIEW) &&
			!bms_is_member(rtindex, used))
			unused = bms_add_member(unused, rtindex);
	}
	if (unused != NULL && RemoveRangeTableEntries(query, unused))
		*changed = true;
	return query;
}

/*
 * PullUpMutator flattens the subqueries of every SELECT in a query tree
 * (subqueries in WHERE, in WITH, in FROM that stay subqueries), the inner
 * ones first; *changed tells whether it flattened any.
 */
static Node *
PullUpMutator(Node *node, bool *changed)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
	{
		Query	   *query = query_tree_mutator((Query *) node, PullUpMutator,
											   changed, QTW_DONT_COPY_QUERY);
		Query	   *flat;

		if (query->commandType != CMD_SELECT || query->setOperations != NULL ||
			query->utilityStmt != NULL || query->jointree == NULL)
			return (Node *) query;
		flat = PullUpLevel(query);
		if (flat == NULL)
			return (Node *) query;
		*changed = true;
		return (Node *) flat;
	}
	return expression_tree_mutator(node, PullUpMutator, changed);
}

/*
 * PullUpLevel flattens the candidate subqueries of one query level; NULL
 * when none was flattened.
 */
static Query *
PullUpLevel(Query *query)
{
	List	   *candidates = NIL;
	bool		pulled = false;
	int			i;

	/*
	 * From the last: flattening one moves only the entries after it, so the
	 * numbers of the candidates before it stay right.
	 */
	CollectCandidates(query, (Node *) query->jointree, &candidates);
	for (i = list_length(candidates) - 1; i >= 0; i--)
	{
		Query	   *flat = PullUpOne(query, list_nth_int(candidates, i));

		if (flat == NULL)
			continue;
		query = flat;
		pulled = true;
	}
	return pulled ? query : NULL;
}

/*
 * IsSimpleSubquery tells whether a subquery only selects and filters rows
 * of tables: flattened into the query that reads it, the result is the
 * same.
 */
static bool
IsSimpleSubquery(Query *sub)
{
	ListCell   *lc;

	if (sub->commandType != CMD_SELECT || sub->utilityStmt != NULL ||
		sub->hasAggs || sub->hasWindowFuncs || sub->hasTargetSRFs ||
		sub->hasSubLinks || sub->hasDistinctOn || sub->hasRecursive ||
		sub->hasModifyingCTE || sub->hasRowSecurity ||
		sub->groupClause != NIL || sub->groupingSets != NIL ||
		sub->havingQual != NULL || sub->sortClause != NIL ||
		sub->distinctClause != NIL || sub->limitOffset != NULL ||
		sub->limitCount != NULL || sub->cteList != NIL || sub->setOperations != NULL ||
		sub->jointree == NULL || sub->jointree->fromlist == NIL ||
		contain_volatile_functions((Node *) sub))
		return false;
	foreach(lc, sub->targetList)
		if (((TargetEntry *) lfirst(lc))->resjunk)
			return false;
	/* row locks only of a FOR UPDATE/SHARE of the subquery itself */
	foreach(lc, sub->rowMarks)
		if (!((RowMarkClause *) lfirst(lc))->pushedDown)
			return false;
	foreach(lc, sub->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			return false;
		if (rte->rtekind == RTE_RELATION && rte->securityQuals != NIL)
			return false;
	}
	return true;
}

/* context of WholeRowWalker */
typedef struct WholeRowContext
{
	Index		rtindex;		/* entry of the top level looked for */
	int			depth;			/* of the query walked */
} WholeRowContext;

/* WholeRowWalker finds a whole-row Var of an entry of the top level. */
static bool
WholeRowWalker(Node *node, WholeRowContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup == context->depth &&
			((Var *) node)->varno == context->rtindex &&
			((Var *) node)->varattno == InvalidAttrNumber;
	if (IsA(node, Query))
	{
		bool		found;

		context->depth++;
		found = query_tree_walker((Query *) node, WholeRowWalker, context, 0);
		context->depth--;
		return found;
	}
	return expression_tree_walker(node, WholeRowWalker, context);
}

/* ReferencesWholeRow tells whether a query reads entry rtindex's whole row. */
static bool
ReferencesWholeRow(Query *query, Index rtindex)
{
	WholeRowContext context = {rtindex, 0};

	return query_tree_walker(query, WholeRowWalker, &context, 0);
}

/*
 * RemoveRangeTableEntries removes entries nothing refers to from a query's
 * range table, renumbering the others.  False (nothing changed) when
 * something still refers to one of them.
 */
static bool
RemoveRangeTableEntries(Query *query, Bitmapset *remove)
{
	List	   *rtable = NIL;
	Index		oldIndex = 0;
	Index		newIndex = 0;
	ListCell   *lc;
	int			rtindex = -1;

	/* nothing may refer to them: the join tree, Vars at any depth, locks */
	while ((rtindex = bms_next_member(remove, rtindex)) >= 0)
		if (rangeTableEntry_used((Node *) query, rtindex, 0))
			return false;
	foreach(lc, query->rowMarks)
		if (bms_is_member(((RowMarkClause *) lfirst(lc))->rti, remove))
			return false;

	/*
	 * Renumbered upwards: an entry only moves down, to a number whose
	 * entry was removed or already moved, which nothing refers to any more.
	 */
	foreach(lc, query->rtable)
	{
		oldIndex++;
		if (bms_is_member(oldIndex, remove))
			continue;
		newIndex++;
		if (newIndex != oldIndex)
			ChangeVarNodes((Node *) query, oldIndex, newIndex, 0);
		rtable = lappend(rtable, lfirst(lc));
	}
	query->rtable = rtable;
	return true;
}

/*
 * FlattenableJoin tells whether subqueries under a join may be flattened:
 * not under a FULL join, and not when columns are named through the join
 * (USING and NATURAL name columns of the sides, and columns read through
 * a join's alias are printed by that name).
 */
static bool
FlattenableJoin(JoinExpr *join)
{
	return (join->jointype == JOIN_INNER || join->jointype == JOIN_LEFT ||
			join->jointype == JOIN_RIGHT) &&
		join->usingClause == NIL && !join->isNatural && join->alias == NULL &&
		join->join_using_alias == NULL;
}

/*
 * FindReference finds the RangeTblRef of rtindex in the FROM list of the
 * top level, or as a side of a join the join's ON filters (see
 * FlattenableJoin): *refptr is where it is referenced from,
 * *parentJoin its join (NULL in the FROM list).
 */
static bool
FindReference(Node *node, Index rtindex, Node ***refptr, JoinExpr **parentJoin)
{
	ListCell   *lc;

	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
		{
			Node	   *item = lfirst(lc);

			if (IsA(item, RangeTblRef) && ((RangeTblRef *) item)->rtindex == rtindex)
			{
				*refptr = (Node **) &lfirst(lc);
				*parentJoin = NULL;
				return true;
			}
			if (IsA(item, JoinExpr) && FindReference(item, rtindex, refptr, parentJoin))
				return true;
		}
		return false;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;
		Node	  **sides[2] = {&join->larg, &join->rarg};
		int			i;

		if (!FlattenableJoin(join))
			return false;
		for (i = 0; i < 2; i++)
		{
			Node	   *side = *sides[i];

			/*
			 * A side the join filters with its ON: an inner join's, or the
			 * nullable side of an outer join (the subquery's WHERE joins
			 * the ON; on the preserved side it would filter no row).
			 */
			if (IsA(side, RangeTblRef) && ((RangeTblRef *) side)->rtindex == rtindex)
			{
				if (join->jointype != JOIN_INNER &&
					!(join->jointype == JOIN_LEFT && i == 1) &&
					!(join->jointype == JOIN_RIGHT && i == 0))
					return false;
				*refptr = sides[i];
				*parentJoin = join;
				return true;
			}
			if (IsA(side, JoinExpr) && FindReference(side, rtindex, refptr, parentJoin))
				return true;
		}
	}
	return false;
}

/*
 * CollectCandidates lists the subqueries in FROM that the top-level FROM
 * list or joins read (see FlattenableJoin).
 */
static void
CollectCandidates(Query *query, Node *node, List **candidates)
{
	ListCell   *lc;

	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			CollectCandidates(query, lfirst(lc), candidates);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		if (!FlattenableJoin(join))
			return;
		CollectCandidates(query, join->larg, candidates);
		CollectCandidates(query, join->rarg, candidates);
	}
	else if (IsA(node, RangeTblRef))
	{
		Index		rtindex = ((RangeTblRef *) node)->rtindex;
		RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);

		if (rte->rtekind == RTE_SUBQUERY && !rte->lateral && !rte->security_barrier)
			*candidates = lappend_int(*candidates, rtindex);
	}
}

/*
 * PullUpOne flattens the subquery of entry rtindex into the query: its
 * tables take its place in the range table (so that joins still come after
 * what they join, as the rewriter's checks expect), its FROM items take its
 * place in the join tree (in the FROM list, or as the side of an inner join
 * when it has one item), its WHERE joins the query's (or the join's ON),
 * and the query's references to its columns become its output expressions.
 * NULL when the subquery cannot be flattened; the query is then unchanged.
 */
static Query *
PullUpOne(Query *query, Index rtindex)
{
	RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
	Query	   *sub = copyObject(rte->subquery);
	Query	   *flat;
	Relids		used;
	Bitmapset  *unused = NULL;
	Node	  **refptr;
	JoinExpr   *parentJoin;
	Index		i;
	Index		count;
	List	   *rtable = NIL;
	ListCell   *lc;
	bool		hasSubLinks = false;
	RowMarkClause *mark = NULL;

	/* views over views */
	flat = PullUpLevel(sub);
	if (flat != NULL)
		sub = flat;
	if (!IsSimpleSubquery(sub))
		return NULL;
	if (!FindReference((Node *) query->jointree, rtindex, &refptr, &parentJoin))
		return NULL;

	/*
	 * Grouping sets null the grouped expressions in some rows, which the
	 * planner keeps apart with placeholders; a whole-row reference to the
	 * subquery would become an anonymous ROW() without its column names.
	 */
	if (query->groupingSets != NIL || ReferencesWholeRow(query, rtindex))
		return NULL;
	/*
	 * FOR UPDATE/SHARE of the subquery (of a view) marked its tables for
	 * locking (pushed down); flattened, the marks are the query's own.
	 */
	foreach(lc, query->rowMarks)
		if (((RowMarkClause *) lfirst(lc))->rti == rtindex)
			mark = lfirst(lc);
	if ((mark == NULL) != (sub->rowMarks == NIL))
		return NULL;

	/*
	 * As the side of a join, the subquery must have one FROM item, and
	 * columns that are its tables' own: an expression would be computed
	 * above the join, and on an outer join's nullable side would not be
	 * NULL in the rows the join adds (coalesce(x, 0) would read 0).
	 */
	if (parentJoin != NULL)
	{
		if (list_length(sub->jointree->fromlist) != 1)
			return NULL;
		foreach(lc, sub->targetList)
			if (!IsA(((TargetEntry *) lfirst(lc))->expr, Var))
				return NULL;
	}

	/*
	 * A view's own entries (kept for the privilege check on the view) are
	 * not read: they go, and the caller keeps the original's for the check.
	 */
	used = get_relids_in_jointree((Node *) sub->jointree, true);
	for (i = 1; i <= list_length(sub->rtable); i++)
		if (!bms_is_member(i, used))
			unused = bms_add_member(unused, i);
	if (unused != NULL && !RemoveRangeTableEntries(sub, unused))
		return NULL;

	/*
	 * Make room after rtindex for the subquery's entries (moving the last
	 * ones first, to numbers nothing uses yet), and number them from there.
	 */
	count = list_length(sub->rtable);
	for (i = list_length(query->rtable); i > rtindex; i--)
		ChangeVarNodes((Node *) query, i, i + count, 0);
	OffsetVarNodes((Node *) sub, rtindex, 0);
	/* (references to levels above are one level closer now) */
	IncrementVarSublevelsUp((Node *) sub, -1, 1);
	foreach(lc, query->rtable)
	{
		rtable = lappend(rtable, lfirst(lc));
		if (foreach_current_index(lc) + 1 == (int) rtindex)
			rtable = list_concat(rtable, sub->rtable);
	}
	query->rtable = rtable;
	if (mark != NULL)
	{
		query->rowMarks = list_delete_ptr(query->rowMarks, mark);
		foreach(lc, sub->rowMarks)
		{
			/* printed when the user asked for it (not for a view in a view) */
			((RowMarkClause *) lfirst(lc))->pushedDown = mark->pushedDown;
			query->rowMarks = lappend(query->rowMarks, lfirst(lc));
		}
		query->hasForUpdate = true;
	}

	if (parentJoin == NULL)
	{
		FromExpr   *top = query->jointree;
		List	   *fromlist = NIL;

		foreach(lc, top->fromlist)
		{
			if ((Node **) &lfirst(lc) == refptr)
				fromlist = list_concat(fromlist, sub->jointree->fromlist);
			else
				fromlist = lappend(fromlist, lfirst(lc));
		}
		top->fromlist = fromlist;
		/* the subquery's conditions first: they filter before the query's */
		if (sub->jointree->quals != NULL)
			top->quals = top->quals == NULL ? sub->jointree->quals :
				(Node *) make_and_qual(sub->jointree->quals, top->quals);
	}
	else
	{
		RangeTblEntry *joinRte = rt_fetch(parentJoin->rtindex, query->rtable);
		List	  **sideColumns = (refptr == &parentJoin->larg) ?
			&joinRte->joinleftcols : &joinRte->joinrightcols;
		List	   *columns = NIL;

		/* the join's columns of that side are the table's (all plain Vars) */
		foreach(lc, *sideColumns)
		{
			TargetEntry *tle = list_nth(sub->targetList, lfirst_int(lc) - 1);

			columns = lappend_int(columns, ((Var *) tle->expr)->varattno);
		}
		*sideColumns = columns;
		*refptr = linitial(sub->jointree->fromlist);
		if (sub->jointree->quals != NULL)
			parentJoin->quals = parentJoin->quals == NULL ? sub->jointree->quals :
				(Node *) make_and_qual(sub->jointree->quals, parentJoin->quals);
	}

	flat = (Query *) ReplaceVarsFromTargetList((Node *) query, rtindex, 0, rte,
											   sub->targetList,
											   REPLACEVARS_REPORT_ERROR, 0,
											   &hasSubLinks);
	flat->hasSubLinks |= hasSubLinks;

	/* the subquery's own entry is not used any more */
	if (!RemoveRangeTableEntries(flat, bms_make_singleton(rtindex)))
		elog(ERROR, "flattened subquery %u is still referenced", rtindex);
	return flat;
}
