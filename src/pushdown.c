/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *	  Pushing aggregation and top-N of multi-shard queries to the shards.
 *
 * A multi-shard query over one distributed table that aggregates, or that
 * sorts and limits, is rewritten into two levels: a subquery that every
 * shard runs (partial aggregates per group, or its own top N), aliased
 * PER_SHARD_ALIAS so that the planner hook scans it with a
 * ShardextPartialScan, and an outer query that the coordinator runs over
 * the union of the shards' rows (combining the partial aggregates, or
 * merging the top N).  Examples:
 *
 *   SELECT tenant, count(*), avg(val) FROM items WHERE val > 0 GROUP BY tenant
 * becomes
 *   SELECT p.g1 AS tenant, sum(p.a1)::bigint AS count,
 *          (sum(p.a2)::numeric / NULLIF(sum(p.a3), 0)::numeric) AS avg
 *     FROM (SELECT tenant AS g1, count(*) AS a1, sum(val) AS a2,
 *                  count(val) AS a3
 *             FROM public.items r WHERE (val > 0) GROUP BY 1) p
 *    GROUP BY p.g1
 *
 *   SELECT id, val FROM items ORDER BY val DESC LIMIT 10
 * becomes
 *   SELECT p.c1 AS id, p.c2 AS val
 *     FROM (SELECT id AS c1, val AS c2 FROM public.items ORDER BY val DESC LIMIT 10) p
 *    ORDER BY p.c2 DESC LIMIT 10
 *
 * The outer query is built as text (the original query deparsed with its
 * aggregates and grouping expressions replaced by numbered placeholders,
 * which are then substituted), and parsed and analyzed again: PostgreSQL's
 * parser types and checks it.  Only what can be combined exactly is pushed
 * down: count, sum, min, max, avg of numbers, bool_and, bool_or (with or
 * without FILTER); anything else (DISTINCT aggregates, ordered aggregates,
 * joins, window functions, grouping sets, ...) keeps the plain multi-shard
 * plan.
 *
 * IDENTIFICATION
 *	  src/pushdown.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/typcache.h"

#include "shardext/deparse.h"
#include "shardext/metadata_cache.h"
#include "shardext/pushdown.h"
#include "shardext/router.h"
#include "shardext/shard_ddl.h"

/* placeholders: $AGG_PARAM_BASE + i for aggregates, $GROUP_PARAM_BASE + j */
#define AGG_PARAM_BASE 30000
#define GROUP_PARAM_BASE 40000

/* alias of the table inside the per-shard subquery */
#define INNER_ALIAS "r"

/* state of the rewrite of an aggregate query */
typedef struct AggRewrite
{
	Oid			relid;
	Index		rtindex;
	List	   *groupExprs;		/* expressions of GROUP BY */
	List	   *innerColumns;	/* char *: "expr AS name" of the subquery */
	List	   *combines;		/* char *: outer text of each aggregate */
	bool		failed;
} AggRewrite;

static Node *ReplaceAggregates(Node *node, AggRewrite *rewrite);
static char *InnerColumn(AggRewrite *rewrite, const char *expr);
static char *DeparseInner(AggRewrite *rewrite, Node *expr);
static bool CombineAggregate(Aggref *aggref, AggRewrite *rewrite,
							 char **combine);
static char *SubstitutePlaceholders(const char *sql, List *aggs, List *groups);
static Query *AnalyzeRewritten(const char *sql, Query *original);
static bool IsPushableQueryShape(Query *parse, ShardextTable **table);
static bool ReadsSystemColumns(Node *node);
static Query *RewriteAggregates(Query *parse, ShardextTable *table);
static Query *RewriteTopN(Query *parse, ShardextTable *table);

/*
 * RewriteForShardPushdown returns the two-level form of a multi-shard query
 * when aggregation or top-N can be pushed to the shards, else NULL.
 */
Query *
RewriteForShardPushdown(Query *parse)
{
	ShardextTable *table;

	if (!IsPushableQueryShape(parse, &table))
		return NULL;
	if (parse->hasAggs || parse->groupClause != NIL)
		return RewriteAggregates(parse, table);
	if (parse->sortClause != NIL && parse->limitCount != NULL)
		return RewriteTopN(parse, table);
	return NULL;
}

/* ReadsSystemColumnsWalker finds Vars of system columns. */
static bool
ReadsSystemColumnsWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varattno < 0;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ReadsSystemColumnsWalker,
								 context, 0);
	return expression_tree_walker(node, ReadsSystemColumnsWalker, context);
}

/* ReadsSystemColumns tells whether a query reads a system column. */
static bool
ReadsSystemColumns(Node *node)
{
	return ReadsSystemColumnsWalker(node, NULL);
}

/*
 * IsPushableQueryShape checks that a query reads one distributed table,
 * with nothing the two-level form does not cover.
 */
static bool
IsPushableQueryShape(Query *parse, ShardextTable **table)
{
	RangeTblEntry *rte;
	RangeTblRef *ref;

	if (parse->commandType != CMD_SELECT || parse->utilityStmt != NULL ||
		list_length(parse->rtable) != 1 || parse->hasSubLinks ||
		parse->hasWindowFuncs || parse->hasTargetSRFs ||
		parse->hasRecursive || parse->hasModifyingCTE ||
		parse->hasForUpdate || parse->hasRowSecurity ||
		parse->cteList != NIL || parse->setOperations != NULL ||
		parse->groupingSets != NIL || parse->distinctClause != NIL ||
		parse->rowMarks != NIL || parse->limitOption != LIMIT_OPTION_COUNT ||
		parse->jointree == NULL || list_length(parse->jointree->fromlist) != 1)
		return false;
	ref = linitial(parse->jointree->fromlist);
	if (!IsA(ref, RangeTblRef) || ref->rtindex != 1)
		return false;
	rte = rt_fetch(1, parse->rtable);
	if (rte->rtekind != RTE_RELATION || rte->securityQuals != NIL ||
		rte->tablesample != NULL)
		return false;
	*table = ShardextGetTable(rte->relid);
	if (*table == NULL || (*table)->distColumnName == NULL)
		return false;
	/* system columns (tableoid, ...) mean something else on a shard */
	if (ReadsSystemColumns((Node *) parse))
		return false;
	if (parse->jointree->quals != NULL &&
		(!IsShippableExpression(parse->jointree->quals) ||
		 contain_volatile_functions(parse->jointree->quals)))
		return false;
	return true;
}

/* DeparseInner returns an expression over the table as shard SQL. */
static char *
DeparseInner(AggRewrite *rewrite, Node *expr)
{
	return DeparseExpressionForShard(expr, rewrite->relid, rewrite->rtindex,
									 INNER_ALIAS);
}

/*
 * InnerColumn adds a column to the per-shard subquery and returns its
 * reference in the outer query.
 */
static char *
InnerColumn(AggRewrite *rewrite, const char *expr)
{
	int			n = list_length(rewrite->innerColumns) + 1;

	rewrite->innerColumns = lappend(rewrite->innerColumns,
									psprintf("%s AS c%d", expr, n));
	return psprintf("%s.c%d", PER_SHARD_ALIAS, n);
}

/*
 * CombineAggregate adds the partial aggregates of one aggregate to the
 * subquery and sets *combine to the outer expression that combines them.
 * Returns false for aggregates that cannot be split exactly.
 */
static bool
CombineAggregate(Aggref *aggref, AggRewrite *rewrite, char **combine)
{
	char	   *name = get_func_name(aggref->aggfnoid);
	char	   *resultType = format_type_with_typemod(aggref->aggtype, -1);
	char	   *argument = NULL;
	char	   *filter = "";

	if (aggref->aggfnoid >= FirstNormalObjectId || aggref->agglevelsup != 0 ||
		aggref->aggdistinct != NIL || aggref->aggorder != NIL ||
		aggref->aggkind != AGGKIND_NORMAL || aggref->aggvariadic ||
		list_length(aggref->args) > 1)
		return false;
	if (aggref->aggfilter != NULL)
	{
		if (!IsShippableExpression((Node *) aggref->aggfilter))
			return false;
		filter = psprintf(" FILTER (WHERE %s)",
						  DeparseInner(rewrite, (Node *) aggref->aggfilter));
	}
	if (aggref->args != NIL)
	{
		Node	   *arg = (Node *) ((TargetEntry *) linitial(aggref->args))->expr;

		if (!IsShippableExpression(arg) || contain_volatile_functions(arg))
			return false;
		argument = DeparseInner(rewrite, arg);
	}

	if (strcmp(name, "count") == 0)
	{
		char	   *column = InnerColumn(rewrite,
										 psprintf("count(%s)%s",
												  argument ? argument : "*",
												  filter));

		*combine = psprintf("COALESCE(sum(%s), 0)::bigint", column);
		return true;
	}
	if (argument == NULL)
		return false;
	if (strcmp(name, "sum") == 0)
	{
		*combine = psprintf("sum(%s)::%s",
							InnerColumn(rewrite, psprintf("sum(%s)%s", argument, filter)),
							resultType);
		return true;
	}
	if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0 ||
		strcmp(name, "bool_and") == 0 || strcmp(name, "bool_or") == 0 ||
		strcmp(name, "every") == 0)
	{
		const char *outer = strcmp(name, "every") == 0 ? "bool_and" : name;

		*combine = psprintf("%s(%s)", outer,
							InnerColumn(rewrite, psprintf("%s(%s)%s", name,
														  argument, filter)));
		return true;
	}
	if (strcmp(name, "avg") == 0 &&
		(aggref->aggtype == NUMERICOID || aggref->aggtype == FLOAT8OID))
	{
		char	   *sum = InnerColumn(rewrite, psprintf("sum(%s)%s", argument, filter));
		char	   *count = InnerColumn(rewrite, psprintf("count(%s)%s", argument, filter));

		*combine = psprintf("(sum(%s)::%s / NULLIF(sum(%s), 0)::%s)",
							sum, resultType, count, resultType);
		return true;
	}
	return false;
}

/*
 * ReplaceAggregates replaces, in the outer query's expressions, every
 * aggregate and every grouping expression by a numbered placeholder.
 */
static Node *
ReplaceAggregates(Node *node, AggRewrite *rewrite)
{
	ListCell   *lc;

	if (node == NULL || rewrite->failed)
		return node;
	foreach(lc, rewrite->groupExprs)
	{
		if (equal(node, lfirst(lc)))
		{
			Param	   *param = makeNode(Param);

			param->paramkind = PARAM_EXTERN;
			param->paramid = GROUP_PARAM_BASE + foreach_current_index(lc) + 1;
			param->paramtype = exprType(node);
			param->paramtypmod = exprTypmod(node);
			param->paramcollid = exprCollation(node);
			param->location = -1;
			return (Node *) param;
		}
	}
	if (IsA(node, Aggref))
	{
		Aggref	   *aggref = (Aggref *) node;
		char	   *combine;
		Param	   *param;

		if (!CombineAggregate(aggref, rewrite, &combine))
		{
			rewrite->failed = true;
			return node;
		}
		rewrite->combines = lappend(rewrite->combines, combine);
		param = makeNode(Param);
		param->paramkind = PARAM_EXTERN;
		param->paramid = AGG_PARAM_BASE + list_length(rewrite->combines);
		param->paramtype = aggref->aggtype;
		param->paramtypmod = -1;
		param->paramcollid = aggref->aggcollid;
		param->location = -1;
		return (Node *) param;
	}
	return expression_tree_mutator(node, ReplaceAggregates, rewrite);
}

/*
 * SubstitutePlaceholders replaces the placeholders ($30001...) in deparsed
 * outer SQL by the combining expressions and grouping columns.
 */
static char *
SubstitutePlaceholders(const char *sql, List *aggs, List *groups)
{
	StringInfoData buf;
	const char *p = sql;

	initStringInfo(&buf);
	while (*p != '\0')
	{
		if (*p == '\'' || *p == '"')
		{
			char		quote = *p;

			appendStringInfoChar(&buf, *p++);
			while (*p != '\0')
			{
				appendStringInfoChar(&buf, *p);
				if (*p++ == quote)
				{
					if (*p == quote)
						appendStringInfoChar(&buf, *p++);
					else
						break;
				}
			}
			continue;
		}
		if (*p == '$' && isdigit((unsigned char) p[1]))
		{
			char	   *end;
			long		id = strtol(p + 1, &end, 10);

			if (id > AGG_PARAM_BASE && id <= AGG_PARAM_BASE + list_length(aggs))
			{
				appendStringInfo(&buf, "(%s)",
								 (char *) list_nth(aggs, id - AGG_PARAM_BASE - 1));
				p = end;
				continue;
			}
			if (id > GROUP_PARAM_BASE && id <= GROUP_PARAM_BASE + list_length(groups))
			{
				appendStringInfoString(&buf,
									   (char *) list_nth(groups, id - GROUP_PARAM_BASE - 1));
				p = end;
				continue;
			}
		}
		appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/*
 * AnalyzeRewritten parses and analyzes the rewritten SQL, with the
 * original query's parameter types.
 */
static Query *
AnalyzeRewritten(const char *sql, Query *original)
{
	int			maxParam = MaxExternParamId((Node *) original);
	Oid		   *paramTypes = palloc0(sizeof(Oid) * Max(maxParam, 1));
	List	   *rawStmts;
	List	   *queries;
	Query	   *query;
	int			i;

	for (i = 0; i < maxParam; i++)
		paramTypes[i] = TEXTOID;
	CollectParamTypes((Node *) original, paramTypes, maxParam);

	rawStmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	queries = pg_analyze_and_rewrite_fixedparams(linitial(rawStmts), sql,
												 paramTypes, maxParam, NULL);
	if (list_length(queries) != 1)
		return NULL;
	query = linitial(queries);
	query->canSetTag = original->canSetTag;
	query->queryId = original->queryId;
	query->stmt_location = original->stmt_location;
	query->stmt_len = original->stmt_len;
	return query;
}

/*
 * RewriteAggregates builds the two-level form of an aggregate query.
 */
static Query *
RewriteAggregates(Query *parse, ShardextTable *table)
{
	Query	   *outer = copyObject(parse);
	RangeTblEntry *rte = rt_fetch(1, outer->rtable);
	AggRewrite	rewrite;
	List	   *groupRefs = NIL;
	StringInfoData inner;
	char	   *sql;
	QueryTemplate *template;
	ListCell   *lc;
	char	   *names[1];

	memset(&rewrite, 0, sizeof(rewrite));
	rewrite.relid = rte->relid;
	rewrite.rtindex = 1;

	/* the grouping expressions become the subquery's first columns */
	foreach(lc, parse->groupClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);
		Node	   *expr = (Node *) tle->expr;

		if (!IsShippableExpression(expr) || contain_volatile_functions(expr))
			return NULL;
		rewrite.groupExprs = lappend(rewrite.groupExprs, expr);
		groupRefs = lappend(groupRefs,
							InnerColumn(&rewrite, DeparseInner(&rewrite, expr)));
	}

	outer->targetList = (List *) ReplaceAggregates((Node *) outer->targetList,
												   &rewrite);
	outer->havingQual = ReplaceAggregates(outer->havingQual, &rewrite);
	if (rewrite.failed ||
		contain_var_clause((Node *) outer->targetList) ||
		contain_var_clause(outer->havingQual))
		return NULL;

	/* the per-shard subquery */
	initStringInfo(&inner);
	appendStringInfoString(&inner, "SELECT ");
	foreach(lc, rewrite.innerColumns)
	{
		if (lc != list_head(rewrite.innerColumns))
			appendStringInfoString(&inner, ", ");
		appendStringInfoString(&inner, (char *) lfirst(lc));
	}
	appendStringInfo(&inner, " FROM %s %s", RelationQualifiedName(rte->relid),
					 INNER_ALIAS);
	if (parse->jointree->quals != NULL)
		appendStringInfo(&inner, " WHERE %s",
						 DeparseInner(&rewrite, parse->jointree->quals));
	if (parse->groupClause != NIL)
	{
		appendStringInfoString(&inner, " GROUP BY ");
		foreach(lc, rewrite.groupExprs)
			appendStringInfo(&inner, "%s%d",
							 lc == list_head(rewrite.groupExprs) ? "" : ", ",
							 foreach_current_index(lc) + 1);
	}

	/* the outer query: the original over the subquery */
	outer->jointree->quals = NULL;
	rte->alias = makeAlias(PER_SHARD_ALIAS, NIL);
	sql = DeparseQueryForShards(outer, list_make1_oid(rte->relid));
	template = SplitQueryTemplate(sql, list_make1_oid(rte->relid));
	if (list_length(template->slots) != 1)
		return NULL;
	names[0] = psprintf("(%s)", inner.data);
	sql = SubstitutePlaceholders(RenderQueryTemplate(template, names),
								 rewrite.combines, groupRefs);
	return AnalyzeRewritten(sql, parse);
}

/*
 * RewriteTopN builds the two-level form of ORDER BY ... LIMIT: each shard
 * returns its first LIMIT + OFFSET rows, the coordinator sorts and limits
 * again.  Sort keys must be output columns sorted by their type's default
 * ordering.
 */
static Query *
RewriteTopN(Query *parse, ShardextTable *table)
{
	Query	   *inner = copyObject(parse);
	RangeTblEntry *rte = rt_fetch(1, parse->rtable);
	StringInfoData outer;
	char	   *innerSql;
	ListCell   *lc;
	bool		first = true;

	Node	   *limitCount = eval_const_expressions(NULL, parse->limitCount);
	Node	   *limitOffset = parse->limitOffset ?
		eval_const_expressions(NULL, parse->limitOffset) : NULL;

	if (!IsA(limitCount, Const) || ((Const *) limitCount)->constisnull ||
		(limitOffset != NULL && !IsA(limitOffset, Const)))
		return NULL;

	/* the shards' query: every target entry named, LIMIT + OFFSET rows */
	foreach(lc, inner->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (!IsShippableExpression((Node *) tle->expr) ||
			contain_volatile_functions((Node *) tle->expr))
			return NULL;
		tle->resjunk = false;
		tle->resname = psprintf("c%d", tle->resno);
	}
	inner->limitCount = limitCount;
	if (limitOffset != NULL && !((Const *) limitOffset)->constisnull)
	{
		int64		limit = DatumGetInt64(((Const *) limitCount)->constvalue);
		int64		offset = DatumGetInt64(((Const *) limitOffset)->constvalue);

		inner->limitCount = (Node *) makeConst(INT8OID, -1, InvalidOid, 8,
											   Int64GetDatum(limit + offset),
											   false, FLOAT8PASSBYVAL);
	}
	inner->limitOffset = NULL;
	innerSql = DeparseQueryForShards(inner, list_make1_oid(rte->relid));

	initStringInfo(&outer);
	appendStringInfoString(&outer, "SELECT ");
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		appendStringInfo(&outer, "%s%s.c%d AS %s", first ? "" : ", ",
						 PER_SHARD_ALIAS, tle->resno,
						 quote_identifier(tle->resname ? tle->resname : "?column?"));
		first = false;
	}
	appendStringInfo(&outer, " FROM (%s) %s ORDER BY ", innerSql, PER_SHARD_ALIAS);
	foreach(lc, parse->sortClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, parse->targetList);
		Oid			type = exprType((Node *) tle->expr);
		TypeCacheEntry *typentry = lookup_type_cache(type, TYPECACHE_LT_OPR |
													 TYPECACHE_GT_OPR);
		const char *direction;

		if (sgc->sortop == typentry->lt_opr)
			direction = "ASC";
		else if (sgc->sortop == typentry->gt_opr)
			direction = "DESC";
		else
			return NULL;
		appendStringInfo(&outer, "%s%s.c%d %s NULLS %s",
						 lc == list_head(parse->sortClause) ? "" : ", ",
						 PER_SHARD_ALIAS, tle->resno, direction,
						 sgc->nulls_first ? "FIRST" : "LAST");
	}
	appendStringInfo(&outer, " LIMIT %s",
					 deparse_expression(limitCount, NIL, false, false));
	if (limitOffset != NULL)
		appendStringInfo(&outer, " OFFSET %s",
						 deparse_expression(limitOffset, NIL, false, false));
	return AnalyzeRewritten(outer.data, parse);
}
