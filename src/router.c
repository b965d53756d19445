/*-------------------------------------------------------------------------
 *
 * router.c
 *	  Recognising queries that one shard group can answer.
 *
 * A query can be sent whole to one node when everything in it can run
 * there (only distributed tables, built-in functions and types, no
 * sequence functions, no row security) and every occurrence of every
 * distributed table is pinned to one shard by an equality on its
 * distribution column.
 *
 * Pins are found per query level with a union-find over the distribution
 * columns of the level's tables: WHERE clauses and the ON clauses of inner
 * joins on the path from the top of the join tree give "column = value"
 * and "column = column"; ON clauses of outer joins give only "column =
 * column", which is safe in both directions (a row of one side only meets
 * rows of the other side with the same key, and a WHERE equality on the
 * nullable side rejects the null-extended rows).  A value is any
 * expression without Vars, volatile functions, aggregates or sublinks:
 * a constant, a parameter, or a stable expression of them; it is evaluated
 * at execution time, so generic plans of prepared statements stay router
 * plans.
 *
 * IDENTIFICATION
 *	  src/router.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "shardext/metadata_cache.h"
#include "shardext/node_types.h"
#include "shardext/router.h"
#include "shardext/shard_ddl.h"
#include "shardext/routing.h"

/* a distribution column of one range table entry of a query level */
typedef struct PinMember
{
	Index		rtindex;
	ShardextTable *table;
	int			parent;			/* union-find parent, index in members */
	Expr	   *pin;			/* value, on the root of a class */
	bool		tied;			/* equal to a co-located distribution column
								 * of an enclosing level (a correlated
								 * subquery) */
} PinMember;

/* state of the analysis of one query level */
typedef struct LevelState
{
	PinMember  *members;
	int			count;
	struct LevelState *parent;	/* the enclosing query level, or NULL */
} LevelState;

static bool AnalyzeQueryLevel(Query *query, RouterAnalysis *analysis);
static bool ShippabilityWalker(Node *node, RouterAnalysis *analysis);
static bool IsBuiltinFunction(Oid funcid, void *context);
static int	FindMember(LevelState *state, Index rtindex);
static int	FindRoot(LevelState *state, int member);
static void CollectEqualities(Node *quals, LevelState *state, bool valuesToo);
static bool EquatesCoLocatedMembers(OpExpr *op, LevelState *state, int left,
									int right);
static void UniteMembers(LevelState *state, int left, int right);
static void CollectOuterJoinEqualities(JoinExpr *join, LevelState *state);
static void WalkJoinTree(Node *node, LevelState *state, bool innerPath);
static int	DistributionColumnMember(Node *node, LevelState *state);
static bool IsPinValue(Node *node);
static Expr *InsertedRowPin(Query *query, ShardextTable *table);
static bool OuterDistributionColumn(Node *node, LevelState *state,
									ShardextTable *table, Expr **pin);
static bool LevelHasUntiedSubLinks(Query *query, LevelState *state,
								   int32 colocationId);
static bool SubqueryTied(Query *query, LevelState *parent, int32 colocationId,
						 int tiedResno);
static bool LateralSubqueriesTied(Query *query, LevelState *state,
								  int32 colocationId);
static bool IsUpdatedViewEntry(Query *query, RangeTblEntry *rte, Index rtindex);
static bool IsUnreadViewEntry(Query *query, RangeTblEntry *rte, Index rtindex);
static bool CollectCoLocatedMembers(Query *query, LevelState *state,
									LevelState *parent, int32 *colocationId,
									bool otherRtes);
static bool ReadsTransactionTime(Node *node);
static bool TransactionTimeWalker(Node *node, void *context);
static void AddTablePin(RouterAnalysis *analysis, Oid relid, Expr *pin);
static void AddSingleShardTable(RouterAnalysis *analysis, Oid relid);
static bool PreservedReferenceTable(Node *node, Query *query, bool preserved);
static bool MaxParamWalker(Node *node, int *maxId);
static void AddMember(LevelState *state, Index rtindex, ShardextTable *table);
static void InitSingleTableState(LevelState *state, PinMember *member,
								 Index rtindex, ShardextTable *table);

/*
 * AnalyzeRouterQuery analyses a query for router execution.
 */
RouterAnalysis *
AnalyzeRouterQuery(Query *query)
{
	RouterAnalysis *analysis = palloc0(sizeof(RouterAnalysis));

	analysis->shippable = true;
	analysis->allPinned = true;
	analysis->writes = (query->commandType != CMD_SELECT);
	ShippabilityWalker((Node *) query, analysis);
	if (analysis->shippable &&
		(ReturnsAnonymousRecord(query->targetList) ||
		 ReturnsAnonymousRecord(query->returningList)))
	{
		analysis->shippable = false;
		analysis->reason = "the query returns values of an anonymous record type";
	}
	return analysis;
}

/*
 * IsBuiltinFunction is the check_functions_in_node callback: true for
 * functions a node cannot run (so that the walk stops).
 */
static bool
IsBuiltinFunction(Oid funcid, void *context)
{
	if (funcid >= FirstNormalObjectId)
		return true;
	switch (funcid)
	{
		case F_NEXTVAL:
		case F_CURRVAL:
		case F_LASTVAL:
		case F_SETVAL_REGCLASS_INT8:
		case F_SETVAL_REGCLASS_INT8_BOOL:
			return true;
		default:
			return false;
	}
}

/*
 * ReadsTransactionTime tells whether a node is a call of now() or one of its
 * kin (CURRENT_TIMESTAMP, CURRENT_DATE, ..., statement_timestamp()): each
 * node would answer with its own transaction's time, so a write that uses
 * one computes its values on the coordinator instead.
 */
static bool
ReadsTransactionTime(Node *node)
{
	if (IsA(node, FuncExpr))
	{
		Oid			funcid = ((FuncExpr *) node)->funcid;

		return funcid == F_NOW || funcid == F_TRANSACTION_TIMESTAMP ||
			funcid == F_STATEMENT_TIMESTAMP;
	}
	if (IsA(node, SQLValueFunction))
	{
		switch (((SQLValueFunction *) node)->op)
		{
			case SVFOP_CURRENT_DATE:
			case SVFOP_CURRENT_TIME:
			case SVFOP_CURRENT_TIME_N:
			case SVFOP_CURRENT_TIMESTAMP:
			case SVFOP_CURRENT_TIMESTAMP_N:
			case SVFOP_LOCALTIME:
			case SVFOP_LOCALTIME_N:
			case SVFOP_LOCALTIMESTAMP:
			case SVFOP_LOCALTIMESTAMP_N:
				return true;
			default:
				return false;
		}
	}
	return false;
}

/* context of TransactionTimeMutator */
typedef struct TransactionTimeContext
{
	int			firstParamId;
	List	  **exprs;
} TransactionTimeContext;

/*
 * TransactionTimeMutator replaces calls of now() and its kin by parameters
 * (see ParameterizeTransactionTime).
 */
static Node *
TransactionTimeMutator(Node *node, TransactionTimeContext *context)
{
	if (node == NULL)
		return NULL;
	if (ReadsTransactionTime(node))
	{
		Param	   *param = makeNode(Param);
		int			index = -1;
		ListCell   *lc;

		foreach(lc, *context->exprs)
			if (equal(lfirst(lc), node))
				index = foreach_current_index(lc);
		if (index < 0)
		{
			*context->exprs = lappend(*context->exprs, copyObject(node));
			index = list_length(*context->exprs) - 1;
		}
		param->paramkind = PARAM_EXTERN;
		param->paramid = context->firstParamId + index + 1;
		param->paramtype = exprType(node);
		param->paramtypmod = exprTypmod(node);
		param->paramcollid = InvalidOid;
		param->location = -1;
		return (Node *) param;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, TransactionTimeMutator,
										   context, 0);
	return expression_tree_mutator(node, TransactionTimeMutator, context);
}

/*
 * ParameterizeTransactionTime returns node (an expression tree or a query;
 * a copy when it changes anything) with every call of now() and its kin
 * (CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIME, statement_timestamp(), ...)
 * replaced by a parameter: each node would answer with the start of its
 * own transaction, while the query must see the coordinator's.  The calls
 * are appended to *exprs (equal calls share one), parameter firstParamId +
 * 1 + their position there; the executor evaluates them on the
 * coordinator and sends their values.
 */
Node *
ParameterizeTransactionTime(Node *node, int firstParamId, List **exprs)
{
	TransactionTimeContext context = {firstParamId, exprs};

	if (node == NULL || !TransactionTimeWalker(node, NULL))
		return node;
	return TransactionTimeMutator(copyObject(node), &context);
}

/*
 * ContainsTransactionTime tells whether node (an expression tree or a
 * query) calls now() or its kin: statements shipped with such calls must
 * go through ParameterizeTransactionTime.
 */
bool
ContainsTransactionTime(Node *node)
{
	return TransactionTimeWalker(node, NULL);
}

/* TransactionTimeWalker tells whether node calls now() or its kin. */
static bool
TransactionTimeWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (ReadsTransactionTime(node))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, TransactionTimeWalker, context, 0);
	return expression_tree_walker(node, TransactionTimeWalker, context);
}

/* ReadsSessionStateChecker is ReadsSessionState for check_functions_in_node. */
static bool
ReadsSessionStateChecker(Oid funcid, void *context)
{
	return ReadsSessionState(funcid);
}

/*
 * ShippabilityWalker walks the whole query: it analyses each query level's
 * pins and checks that every expression can run on a node.
 */
static bool
ShippabilityWalker(Node *node, RouterAnalysis *analysis)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		void	   *enclosing = analysis->level;
		bool		result;

		/* AnalyzeQueryLevel makes this level the current one */
		if (!AnalyzeQueryLevel(query, analysis))
			return true;
		result = query_tree_walker(query, ShippabilityWalker, analysis,
								   QTW_EXAMINE_RTES_BEFORE);
		analysis->level = enclosing;
		return result;
	}
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_NAMEDTUPLESTORE)
		{
			analysis->shippable = false;
			analysis->reason = "the query reads a transition table";
			return true;
		}
		return false;
	}
	/* a sequence's value (a serial or identity default): the coordinator's */
	if (IsA(node, NextValueExpr) ||
		(IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid < FirstNormalObjectId &&
		 IsBuiltinFunction(((FuncExpr *) node)->funcid, NULL)))
	{
		analysis->shippable = false;
		analysis->reason = "the query takes a sequence's value (a serial or identity column's default, say), which is the coordinator's";
		return true;
	}
	if (check_functions_in_node(node, IsBuiltinFunction, NULL))
	{
		analysis->shippable = false;
		analysis->reason = "the query uses a function that the nodes do not have";
		return true;
	}
	/* a shard's system columns are not the table's (ctid is per shard) */
	if (IsA(node, Var) && ((Var *) node)->varattno < 0)
	{
		analysis->shippable = false;
		analysis->reason = "the query reads system columns";
		return true;
	}
	if (check_functions_in_node(node, ReadsSessionStateChecker, NULL) ||
		(IsA(node, SQLValueFunction) &&
		 SQLValueReadsSessionState((SQLValueFunction *) node)))
	{
		analysis->shippable = false;
		analysis->reason = "the query uses a function that answers from the session";
		return true;
	}
	if (WritesInSessionStyle(node))
	{
		analysis->shippable = false;
		analysis->reason = "the query writes dates, times or floats as text, which the nodes write in other styles";
		return true;
	}
	if (IsA(node, Const) && !NodesHaveType(((Const *) node)->consttype))
	{
		analysis->shippable = false;
		analysis->reason = "the query uses a type that the nodes do not have";
		return true;
	}
	if (IsA(node, Const) && !IsShippableConst((Const *) node))
	{
		analysis->shippable = false;
		analysis->reason = "the query names an object that the nodes do not have";
		return true;
	}
	if (IsA(node, CollateExpr) &&
		((CollateExpr *) node)->collOid >= FirstNormalObjectId)
	{
		analysis->shippable = false;
		analysis->reason = "the query uses a collation that the nodes do not have";
		return true;
	}
	if (IsUserCoercion(node))
	{
		analysis->shippable = false;
		analysis->reason = "the query uses a cast that the nodes do not have";
		return true;
	}
	if (IsA(node, CoerceToDomain) &&
		!NodesHaveType(((CoerceToDomain *) node)->resulttype))
	{
		analysis->shippable = false;
		analysis->reason = "the query uses a domain that the nodes do not have";
		return true;
	}
	if (IsA(node, Var) && ((Var *) node)->varattno < 0)
	{
		analysis->shippable = false;
		analysis->reason = "the query reads a system column";
		return true;
	}
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN &&
		!NodesHaveParamType(((Param *) node)->paramtype))
	{
		analysis->shippable = false;
		analysis->reason = "the query has a parameter of a type that the nodes do not have";
		return true;
	}
	/* PARAM_SUBLINK: the output of "x IN (SELECT ...)", deparsed with it */
	if (IsA(node, Param) && ((Param *) node)->paramkind != PARAM_EXTERN &&
		((Param *) node)->paramkind != PARAM_SUBLINK)
	{
		analysis->shippable = false;
		analysis->reason = "the query uses an internal parameter";
		return true;
	}
	return expression_tree_walker(node, ShippabilityWalker, analysis);
}

/* FindMember returns the member of an RTE index, or -1. */
static int
FindMember(LevelState *state, Index rtindex)
{
	int			i;

	for (i = 0; i < state->count; i++)
		if (state->members[i].rtindex == rtindex)
			return i;
	return -1;
}

/* FindRoot returns the root of a member's class, compressing the path. */
static int
FindRoot(LevelState *state, int member)
{
	while (state->members[member].parent != member)
	{
		state->members[member].parent =
			state->members[state->members[member].parent].parent;
		member = state->members[member].parent;
	}
	return member;
}

/*
 * DistributionColumnMember returns the member whose distribution column
 * node is (a Var of this level, possibly under a binary-compatible
 * relabeling), or -1.
 */
static int
DistributionColumnMember(Node *node, LevelState *state)
{
	Var		   *var;
	int			member;

	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return -1;
	var = (Var *) node;
	if (var->varlevelsup != 0)
		return -1;
	member = FindMember(state, var->varno);
	if (member < 0 || state->members[member].table->distAttno != var->varattno)
		return -1;
	return member;
}

/*
 * ContainsAnyVar tells whether an expression holds a Var of any query level
 * (an outer query's column, in a correlated subquery, too).
 */
bool
ContainsAnyVar(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) || IsA(node, PlaceHolderVar))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ContainsAnyVar, context, 0);
	return expression_tree_walker(node, ContainsAnyVar, context);
}

/*
 * IsPinValue tells whether an expression can give a pin's value: no Vars
 * (of this level or an outer one),
 * no volatile functions, no aggregates, window functions or sublinks.
 */
static bool
IsPinValue(Node *node)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const))
		return !((Const *) node)->constisnull;
	return !ContainsAnyVar(node, NULL) && !contain_volatile_functions(node) &&
		!contain_agg_clause(node) && !contain_window_function(node) &&
		!contain_subplans(node) && !checkExprHasSubLink(node);
}

/*
 * OuterDistributionColumn tells whether node is (a Var of an enclosing
 * level, possibly under a binary-compatible relabeling) the distribution
 * column of a table co-located with table; *pin is then the pin of that
 * column's class, or NULL when it has none.
 */
static bool
OuterDistributionColumn(Node *node, LevelState *state, ShardextTable *table,
						Expr **pin)
{
	Var		   *var;
	LevelState *outer = state;
	int			member;
	Index		up;

	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var) || ((Var *) node)->varlevelsup == 0)
		return false;
	var = (Var *) node;
	for (up = 0; up < var->varlevelsup && outer != NULL; up++)
		outer = outer->parent;
	if (outer == NULL)
		return false;
	member = FindMember(outer, var->varno);
	if (member < 0 || outer->members[member].table->distAttno != var->varattno ||
		outer->members[member].table->colocationId != table->colocationId)
		return false;
	*pin = outer->members[FindRoot(outer, member)].pin;
	return true;
}

/*
 * IsDistributionEquality tells whether an operator is the equality that
 * distribution by table's column relies on: an equality of the column
 * type's default hash or btree operator family.
 */
bool
IsDistributionEquality(OpExpr *op, ShardextTable *table)
{
	TypeCacheEntry *typentry = lookup_type_cache(table->distTypeId,
												 TYPECACHE_HASH_OPFAMILY |
												 TYPECACHE_BTREE_OPFAMILY);
	Oid			baseType = getBaseType(table->distTypeId);
	Oid			left;
	Oid			right;

	/*
	 * Under another collation than the column's, equal values may differ
	 * in bytes (a case-insensitive collation): rows equal to the value may
	 * then lie in any shard.
	 */
	if (op->inputcollid != table->distCollation &&
		((OidIsValid(op->inputcollid) &&
		  !get_collation_isdeterministic(op->inputcollid)) ||
		 (OidIsValid(table->distCollation) &&
		  !get_collation_isdeterministic(table->distCollation))))
		return false;

	/*
	 * A timestamp (or date: its midnight) equals a timestamptz when it is
	 * that moment in the session's time zone: in a gap of a change to
	 * daylight saving time (or a day a zone skipped), two of them are one
	 * moment, and the value converted to the column's type names only one
	 * of their shards.
	 */
	op_input_types(op->opno, &left, &right);
	if ((baseType == TIMESTAMPOID || baseType == DATEOID) &&
		(left == TIMESTAMPTZOID || right == TIMESTAMPTZOID))
		return false;

	if (OidIsValid(typentry->hash_opf) &&
		op_in_opfamily(op->opno, typentry->hash_opf))
		return true;
	return OidIsValid(typentry->btree_opf) &&
		get_op_opfamily_strategy(op->opno, typentry->btree_opf) ==
		BTEqualStrategyNumber;
}

/*
 * CollectEqualities applies the top-level conjuncts of quals: column =
 * column joins two classes, column = value (when valuesToo) pins one.
 */
static void
CollectEqualities(Node *quals, LevelState *state, bool valuesToo)
{
	List	   *conjuncts;
	ListCell   *lc;

	if (quals == NULL)
		return;
	if (IsA(quals, List))
		conjuncts = (List *) quals;
	else if (is_andclause(quals))
		conjuncts = ((BoolExpr *) quals)->args;
	else
		conjuncts = list_make1(quals);

	foreach(lc, conjuncts)
	{
		Node	   *clause = lfirst(lc);
		OpExpr	   *op;
		int			left;
		int			right;

		if (is_andclause(clause))
		{
			CollectEqualities(clause, state, valuesToo);
			continue;
		}
		if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
			continue;
		op = (OpExpr *) clause;
		left = DistributionColumnMember(linitial(op->args), state);
		right = DistributionColumnMember(lsecond(op->args), state);

		if (left >= 0 && right >= 0)
		{
			if (EquatesCoLocatedMembers(op, state, left, right))
				UniteMembers(state, left, right);
		}
		else if (valuesToo && (left >= 0 || right >= 0))
		{
			int			member = (left >= 0) ? left : right;
			Node	   *value = (left >= 0) ? lsecond(op->args) : linitial(op->args);
			Expr	   *outerPin;
			int			root;

			if (!IsDistributionEquality(op, state->members[member].table))
				continue;

			/*
			 * The distribution column of a co-located table of an enclosing
			 * level (a correlated subquery): for each row there, this table's
			 * rows lie in the same shard group, so it takes that table's pin.
			 */
			if (OuterDistributionColumn(value, state, state->members[member].table,
										&outerPin))
			{
				state->members[member].tied = true;
				if (outerPin == NULL)
					continue;
				value = (Node *) outerPin;
			}
			else if (!IsPinValue(value))
				continue;
			root = FindRoot(state, member);
			if (state->members[root].pin == NULL)
				state->members[root].pin = (Expr *) value;
		}
	}
}

/*
 * EquatesCoLocatedMembers tells whether op, over the distribution columns of
 * members left and right, is an equality that puts their equal rows in the
 * same shard group (co-located tables, an equality of the column's type).
 */
static bool
EquatesCoLocatedMembers(OpExpr *op, LevelState *state, int left, int right)
{
	return state->members[left].table->colocationId ==
		state->members[right].table->colocationId &&
		IsDistributionEquality(op, state->members[left].table);
}

/* UniteMembers joins the classes of two members (the pin goes along). */
static void
UniteMembers(LevelState *state, int left, int right)
{
	int			leftRoot = FindRoot(state, left);
	int			rightRoot = FindRoot(state, right);

	if (leftRoot == rightRoot)
		return;
	state->members[rightRoot].parent = leftRoot;
	if (state->members[leftRoot].pin == NULL)
		state->members[leftRoot].pin = state->members[rightRoot].pin;
}

/*
 * CollectOuterJoinEqualities applies the distribution column equalities of
 * an outer join's ON clause, which decide which rows match but filter
 * neither the preserved side nor, in a full join, either side.  Columns of
 * the nullable side equal to each other join their classes (unmatched rows
 * there are dropped); equalities within a preserved side say nothing.  An
 * equality across the join ties a nullable row to the preserved row it
 * matches: the nullable side joins the preserved side's class when all
 * such equalities name one class there (two preserved classes equal to the
 * same nullable column are not equal to each other).
 */
static void
CollectOuterJoinEqualities(JoinExpr *join, LevelState *state)
{
	Relids		leftRelids = get_relids_in_jointree(join->larg, false);
	Relids		rightRelids = get_relids_in_jointree(join->rarg, false);
	bool		full = (join->jointype == JOIN_FULL);
	List	   *leftMembers = NIL;
	List	   *rightMembers = NIL;
	int			leftRoot = -1;
	int			rightRoot = -1;
	bool		oneLeftClass = true;
	bool		oneRightClass = true;
	ListCell   *lc;

	foreach(lc, make_ands_implicit((Expr *) join->quals))
	{
		Node	   *clause = lfirst(lc);
		OpExpr	   *op;
		int			a;
		int			b;
		bool		aLeft;
		bool		bLeft;

		if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
			continue;
		op = (OpExpr *) clause;
		a = DistributionColumnMember(linitial(op->args), state);
		b = DistributionColumnMember(lsecond(op->args), state);
		if (a < 0 || b < 0 || !EquatesCoLocatedMembers(op, state, a, b))
			continue;
		aLeft = bms_is_member(state->members[a].rtindex, leftRelids);
		bLeft = bms_is_member(state->members[b].rtindex, leftRelids);
		if ((!aLeft && !bms_is_member(state->members[a].rtindex, rightRelids)) ||
			(!bLeft && !bms_is_member(state->members[b].rtindex, rightRelids)))
			continue;
		if (aLeft == bLeft)
		{
			/* both on the nullable side of a left or right join */
			if (!full && aLeft == (join->jointype == JOIN_RIGHT))
				UniteMembers(state, a, b);
			continue;
		}
		leftMembers = lappend_int(leftMembers, aLeft ? a : b);
		rightMembers = lappend_int(rightMembers, aLeft ? b : a);
	}

	foreach(lc, leftMembers)
	{
		int			root = FindRoot(state, lfirst_int(lc));

		oneLeftClass &= (leftRoot < 0 || leftRoot == root);
		leftRoot = root;
	}
	foreach(lc, rightMembers)
	{
		int			root = FindRoot(state, lfirst_int(lc));

		oneRightClass &= (rightRoot < 0 || rightRoot == root);
		rightRoot = root;
	}
	if (leftMembers == NIL ||
		(join->jointype != JOIN_RIGHT && !oneLeftClass) ||
		(join->jointype != JOIN_LEFT && !oneRightClass))
		return;
	/* the nullable side's members go to the preserved side's class */
	if (join->jointype == JOIN_RIGHT)
	{
		foreach(lc, leftMembers)
			UniteMembers(state, rightRoot, lfirst_int(lc));
	}
	else
	{
		foreach(lc, rightMembers)
			UniteMembers(state, leftRoot, lfirst_int(lc));
	}
}

/*
 * WalkJoinTree collects the equalities of a level's join tree; innerPath
 * tells whether the node is reached from the top through inner joins only.
 */
static void
WalkJoinTree(Node *node, LevelState *state, bool innerPath)
{
	if (node == NULL)
		return;
	if (IsA(node, FromExpr))
	{
		FromExpr   *from = (FromExpr *) node;
		ListCell   *lc;

		foreach(lc, from->fromlist)
			WalkJoinTree(lfirst(lc), state, innerPath);
		CollectEqualities(from->quals, state, innerPath);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;
		bool		inner = innerPath && join->jointype == JOIN_INNER;

		WalkJoinTree(join->larg, state, inner);
		WalkJoinTree(join->rarg, state, inner);
		if (join->jointype == JOIN_INNER)
			CollectEqualities(join->quals, state, inner);
		else
			CollectOuterJoinEqualities(join, state);
	}
}

/* AddTablePin records the pin of one occurrence of a table. */
static void
AddTablePin(RouterAnalysis *analysis, Oid relid, Expr *pin)
{
	ListCell   *relidCell;
	ListCell   *pinCell;

	if (pin == NULL)
		analysis->allPinned = false;
	forboth(relidCell, analysis->relids, pinCell, analysis->pins)
	{
		if (lfirst_oid(relidCell) != relid)
			continue;
		/* another occurrence: it must be pinned to the same value */
		if (pin == NULL || lfirst(pinCell) == NULL)
			lfirst(pinCell) = NULL;
		else if (!equal(pin, lfirst(pinCell)))
			analysis->allPinned = false;
		return;
	}
	analysis->relids = lappend_oid(analysis->relids, relid);
	analysis->pins = lappend(analysis->pins, pin);
}

/*
 * AddSingleShardTable records a reference or federated table, which needs
 * no pin (its entry in pins stays NULL).
 */
static void
AddSingleShardTable(RouterAnalysis *analysis, Oid relid)
{
	if (list_member_oid(analysis->relids, relid))
		return;
	analysis->relids = lappend_oid(analysis->relids, relid);
	analysis->pins = lappend(analysis->pins, NULL);
}

/*
 * AnalyzeQueryLevel checks the range table of one level and records the
 * pins of its distributed tables.  Returns false when the query cannot be
 * shipped whole.
 */
static bool
AnalyzeQueryLevel(Query *query, RouterAnalysis *analysis)
{
	LevelState *levelState = palloc0(sizeof(LevelState));
	LevelState	state;
	ListCell   *lc;
	List	   *singleShardTables = NIL;
	Index		rtindex = 0;
	int			i;

	state.members = palloc0(sizeof(PinMember) * Max(list_length(query->rtable), 1));
	state.count = 0;
	state.parent = (LevelState *) analysis->level;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		ShardextTable *table;

		rtindex++;
		if (rte->rtekind != RTE_RELATION)
			continue;
		if (IsUpdatedViewEntry(query, rte, rtindex))
			continue;
		table = ShardextGetTable(rte->relid);
		if (table == NULL)
		{
			analysis->shippable = false;
			analysis->reason = "the query reads a table that is not distributed";
			return false;
		}
		if (rte->securityQuals != NIL)
		{
			analysis->shippable = false;
			analysis->reason = "row level security applies";
			return false;
		}
		/*
		 * The target of a top-level INSERT is not read; its rows are routed
		 * one by one.  An INSERT in a WITH is not routed: the statement
		 * would reach one node with the table's own name.
		 */
		if (query->commandType == CMD_INSERT &&
			rtindex == (Index) query->resultRelation)
		{
			Expr	   *pin;

			if (state.parent == NULL)
				continue;
			/* a federated table: its one shard, on its node */
			if (IsSingleShardTable(table) && !IsReferenceTable(table))
			{
				AddSingleShardTable(analysis, table->relid);
				continue;
			}
			/* one row of a hash, range or directory table: pinned by its value */
			pin = InsertedRowPin(query, table);
			if (pin == NULL)
			{
				analysis->shippable = false;
				analysis->reason = "a WITH inserts into a distributed table";
				return false;
			}
			AddTablePin(analysis, table->relid, pin);
			continue;
		}
		/*
		 * A single-shard table needs no pin: its shard is in every group.
		 * It is recorded after the distributed tables, unless it is the
		 * target of the UPDATE or DELETE (the target comes first).
		 */
		if (IsSingleShardTable(table))
		{
			if (rtindex == (Index) query->resultRelation)
				AddSingleShardTable(analysis, table->relid);
			else
				singleShardTables = lappend_oid(singleShardTables, table->relid);
			continue;
		}
		AddMember(&state, rtindex, table);
	}

	if (state.count > 0)
	{
		WalkJoinTree((Node *) query->jointree, &state, true);

		for (i = 0; i < state.count; i++)
		{
			int			root = FindRoot(&state, i);

			AddTablePin(analysis, state.members[i].table->relid,
						state.members[root].pin);
		}
	}
	foreach(lc, singleShardTables)
		AddSingleShardTable(analysis, lfirst_oid(lc));

	/* kept for the levels below, whose columns may equal this one's */
	*levelState = state;
	analysis->level = levelState;
	return true;
}

/*
 * InsertedRowPin returns the distribution value of the one row an INSERT
 * (in a WITH) writes with VALUES into a table with shards by value, when it
 * is a pin value, or NULL: then the statement can go to that row's shard.
 * Single-shard tables are not pinned this way (a reference table's copies
 * must all get the row).
 */
static Expr *
InsertedRowPin(Query *query, ShardextTable *table)
{
	ListCell   *lc;

	if (IsSingleShardTable(table) || query->jointree->fromlist != NIL ||
		table->distAttno <= 0)
		return NULL;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resno == table->distAttno && !tle->resjunk &&
			IsPinValue((Node *) tle->expr))
			return (Expr *) copyObject(tle->expr);
	}
	return NULL;
}

/*
 * AddMember adds the distribution column of range table entry rtindex (of
 * table) to a level, as a class of its own with no pin; state->members has
 * room for it.
 */
static void
AddMember(LevelState *state, Index rtindex, ShardextTable *table)
{
	PinMember  *member = &state->members[state->count];

	member->rtindex = rtindex;
	member->table = table;
	member->parent = state->count;
	member->pin = NULL;
	member->tied = false;
	state->count++;
}

/*
 * InitSingleTableState makes state a level with one member, the base
 * relation rtindex of table, for looking at that relation's restrictions.
 */
static void
InitSingleTableState(LevelState *state, PinMember *member, Index rtindex,
					 ShardextTable *table)
{
	state->members = member;
	state->count = 0;
	state->parent = NULL;
	AddMember(state, rtindex, table);
}

/*
 * FindPinInClauses returns the value of a "distribution column = value"
 * clause among clauses (restrictions of one base relation rtindex), with
 * its operators' function ids filled in, or NULL.
 */
Expr *
FindPinInClauses(List *clauses, Index rtindex, ShardextTable *table)
{
	LevelState	state;
	PinMember	member;
	ListCell   *lc;

	InitSingleTableState(&state, &member, rtindex, table);

	foreach(lc, clauses)
	{
		Node	   *clause = lfirst(lc);
		OpExpr	   *op;
		Node	   *value;

		if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
			continue;
		op = (OpExpr *) clause;
		if (DistributionColumnMember(linitial(op->args), &state) == 0)
			value = lsecond(op->args);
		else if (DistributionColumnMember(lsecond(op->args), &state) == 0)
			value = linitial(op->args);
		else
			continue;
		if (IsDistributionEquality(op, table) && IsPinValue(value))
		{
			Expr	   *pin = copyObject((Expr *) value);

			fix_opfuncids((Node *) pin);
			return pin;
		}
	}
	return NULL;
}

/*
 * FindPinListInClauses returns the array of a "distribution column IN
 * (values)" clause (column = ANY (array)) among clauses, or NULL: the array
 * is a constant or an ARRAY[...] of values that need no row.  Each element
 * names one shard to read.
 */
Expr *
FindPinListInClauses(List *clauses, Index rtindex, ShardextTable *table)
{
	LevelState	state;
	PinMember	member;
	ListCell   *lc;

	InitSingleTableState(&state, &member, rtindex, table);

	foreach(lc, clauses)
	{
		Node	   *clause = lfirst(lc);
		ScalarArrayOpExpr *saop;
		OpExpr		equality;
		Node	   *array;
		Expr	   *pin;

		if (!IsA(clause, ScalarArrayOpExpr))
			continue;
		saop = (ScalarArrayOpExpr *) clause;
		if (!saop->useOr || list_length(saop->args) != 2 ||
			DistributionColumnMember(linitial(saop->args), &state) != 0)
			continue;
		memset(&equality, 0, sizeof(equality));
		equality.opno = saop->opno;
		equality.inputcollid = saop->inputcollid;
		if (!IsDistributionEquality(&equality, table))
			continue;
		array = lsecond(saop->args);
		if (IsA(array, Const) ? ((Const *) array)->constisnull :
			!IsPinValue(array))
			continue;
		pin = copyObject((Expr *) array);
		fix_opfuncids((Node *) pin);
		return pin;
	}
	return NULL;
}

/*
 * MaxExternParamId returns the highest number of an external parameter
 * ($n) in a query or expression, 0 when there is none.
 */
int
MaxExternParamId(Node *node)
{
	int			maxId = 0;

	MaxParamWalker(node, &maxId);
	return maxId;
}

/* MaxParamWalker is the walker of MaxExternParamId. */
static bool
MaxParamWalker(Node *node, int *maxId)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		*maxId = Max(*maxId, ((Param *) node)->paramid);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, MaxParamWalker, maxId, 0);
	return expression_tree_walker(node, MaxParamWalker, maxId);
}

/*
 * PreservedReferenceTable tells whether a reference table lies in a part of
 * the join tree whose rows an outer join keeps without a match (preserved
 * tells whether node is such a part).
 */
static bool
PreservedReferenceTable(Node *node, Query *query, bool preserved)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) node)->rtindex,
									  query->rtable);
		ShardextTable *table;

		if (!preserved || rte->rtekind != RTE_RELATION)
			return false;
		table = ShardextGetTable(rte->relid);
		return table != NULL && IsReferenceTable(table);
	}
	if (IsA(node, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) node)->fromlist)
			if (PreservedReferenceTable(lfirst(lc), query, preserved))
				return true;
		return false;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;
		bool		left = preserved || join->jointype == JOIN_LEFT ||
			join->jointype == JOIN_FULL || join->jointype == JOIN_ANTI;
		bool		right = preserved || join->jointype == JOIN_RIGHT ||
			join->jointype == JOIN_FULL;

		return PreservedReferenceTable(join->larg, query, left) ||
			PreservedReferenceTable(join->rarg, query, right);
	}
	return false;
}

/*
 * CollectCoLocatedMembers makes state a level (under parent) whose members
 * are the distribution columns of the query level's distributed tables, all
 * co-located: with *colocationId when it is set, else with the first one's
 * (set there).  Reference tables are left out (a copy is next to every
 * shard group); VALUES, functions and RESULT entries too when otherRtes.
 * Returns false when the level reads anything else (a local, federated or
 * not co-located table, a subquery in FROM, row security).
 */
static bool
CollectCoLocatedMembers(Query *query, LevelState *state, LevelState *parent,
						int32 *colocationId, bool otherRtes)
{
	ListCell   *lc;
	Index		rtindex = 0;

	state->members = palloc0(sizeof(PinMember) * Max(list_length(query->rtable), 1));
	state->count = 0;
	state->parent = parent;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		ShardextTable *table;

		rtindex++;
		/* (a LATERAL subquery is checked by LateralSubqueriesTied) */
		if (rte->rtekind == RTE_JOIN ||
			(rte->rtekind == RTE_SUBQUERY && rte->lateral) ||
			(otherRtes && (rte->rtekind == RTE_VALUES ||
						   rte->rtekind == RTE_FUNCTION ||
						   rte->rtekind == RTE_RESULT)))
			continue;
		if (rte->rtekind != RTE_RELATION)
			return false;
		if (IsUnreadViewEntry(query, rte, rtindex))
			continue;
		table = ShardextGetTable(rte->relid);
		if (table == NULL || rte->securityQuals != NIL)
			return false;
		if (IsReferenceTable(table))
			continue;
		if (IsSingleShardTable(table) ||
			(*colocationId >= 0 && table->colocationId != *colocationId))
			return false;
		*colocationId = table->colocationId;
		AddMember(state, rtindex, table);
	}
	return true;
}

/*
 * IsUpdatedViewEntry tells whether a range table entry of an UPDATE or
 * DELETE is the view it was written against, or a view under it: the
 * rewriter made the views' table the target and kept their entries, unread,
 * for the privilege checks on the views (which the plan's range table still
 * makes).  (A view read in FROM is a subquery by then, and a view that is
 * the target itself, with INSTEAD OF triggers, is the result relation.)
 */
static bool
IsUpdatedViewEntry(Query *query, RangeTblEntry *rte, Index rtindex)
{
	return rte->relkind == RELKIND_VIEW && rtindex != (Index) query->resultRelation &&
		(query->commandType == CMD_UPDATE || query->commandType == CMD_DELETE);
}

/*
 * IsUnreadViewEntry is IsUpdatedViewEntry, or tells whether an entry of a
 * SELECT is a view's OLD or NEW entry, kept (not in FROM) in the query of a
 * view read in FROM (a subquery by then): the query of a view over
 * co-located tables can run per shard group (pushdown.c), while the router
 * still sends no view's query to a node.
 */
static bool
IsUnreadViewEntry(Query *query, RangeTblEntry *rte, Index rtindex)
{
	return IsUpdatedViewEntry(query, rte, rtindex) ||
		(rte->relkind == RELKIND_VIEW && query->commandType == CMD_SELECT &&
		 !rte->inFromCl);
}

/*
 * DistributedTablesJoinedOnDistribution tells whether the top level of a
 * query reads only distributed tables of one co-location group, all joined
 * (directly or through each other) by equalities of their distribution
 * columns: then the query can run on each shard group separately and the
 * union of the results is its result.  Reference tables may join in,
 * except on the preserved side of an outer join: each group would add
 * their unmatched rows once more.
 */
bool
DistributedTablesJoinedOnDistribution(Query *query)
{
	LevelState	state;
	int32		colocationId = -1;
	int			root = -1;
	int			i;

	if (!CollectCoLocatedMembers(query, &state, NULL, &colocationId, false))
		return false;
	if (state.count == 0 ||
		PreservedReferenceTable((Node *) query->jointree, query, false))
		return false;
	WalkJoinTree((Node *) query->jointree, &state, true);
	for (i = 0; i < state.count; i++)
	{
		int			memberRoot = FindRoot(&state, i);

		if (root >= 0 && memberRoot != root)
			return false;
		root = memberRoot;
	}
	return LateralSubqueriesTied(query, &state, colocationId) &&
		!LevelHasUntiedSubLinks(query, &state, colocationId) &&
		!HasVolatileSubLink((Node *) query);
}

/*
 * LateralSubqueriesTied tells whether every LATERAL subquery in FROM of a
 * level reads, for each row it is evaluated for, only that row's shard
 * group (SubqueryTied): "the latest 3 orders of each customer" then runs
 * per shard group as it is.
 */
static bool
LateralSubqueriesTied(Query *query, LevelState *state, int32 colocationId)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && rte->lateral &&
			!SubqueryTied(rte->subquery, state, colocationId, 0))
			return false;
	}
	return true;
}

/*
 * VolatileSubLinkWalker finds a subquery (SubLink, subquery in FROM, WITH
 * query) that calls volatile functions.
 */
static bool
VolatileSubLinkWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink) &&
		contain_volatile_functions(((SubLink *) node)->subselect))
		return true;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		/* subqueries in FROM and WITH queries, evaluated once too */
		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_SUBQUERY &&
				contain_volatile_functions((Node *) rte->subquery))
				return true;
		}
		foreach(lc, query->cteList)
			if (contain_volatile_functions(((CommonTableExpr *) lfirst(lc))->ctequery))
				return true;
		return query_tree_walker(query, VolatileSubLinkWalker, context, 0);
	}
	return expression_tree_walker(node, VolatileSubLinkWalker, context);
}

/*
 * HasVolatileSubLink tells whether a query has a subquery that calls
 * volatile functions: PostgreSQL evaluates one that does not depend on the
 * row once (random() gives one value to every row, ORDER BY random() LIMIT
 * 1 picks one row in all); run on each shard group, it would be evaluated
 * once per group.
 */
bool
HasVolatileSubLink(Node *node)
{
	return VolatileSubLinkWalker(node, NULL);
}

/* context of UntiedSubLinkWalker */
typedef struct SubLinkContext
{
	LevelState *level;			/* the level whose expressions are walked */
	int32		colocationId;	/* of its distributed tables */
	List	   *conjuncts;		/* SubLinks that are conjuncts of its WHERE */
} SubLinkContext;

/*
 * SemiJoinResno returns, for a sublink `column IN (SELECT ...)` whose column
 * is a distribution column of level and whose test is the distribution
 * equality, the number of the subquery's output column it is compared
 * with; else 0.
 */
static int
SemiJoinResno(SubLink *sublink, LevelState *level)
{
	OpExpr	   *op;
	Node	   *param;
	int			member;

	if (sublink->subLinkType != ANY_SUBLINK || sublink->testexpr == NULL ||
		!IsA(sublink->testexpr, OpExpr))
		return 0;
	op = (OpExpr *) sublink->testexpr;
	if (list_length(op->args) != 2)
		return 0;
	member = DistributionColumnMember(linitial(op->args), level);
	param = lsecond(op->args);
	while (param != NULL && IsA(param, RelabelType))
		param = (Node *) ((RelabelType *) param)->arg;
	if (member < 0 || param == NULL || !IsA(param, Param) ||
		((Param *) param)->paramkind != PARAM_SUBLINK ||
		!IsDistributionEquality(op, level->members[member].table))
		return 0;
	return ((Param *) param)->paramid;
}

/*
 * UntiedSubLinkWalker finds a sublink of the level whose subquery is not
 * tied to it (see SubqueryTied).
 */
static bool
UntiedSubLinkWalker(Node *node, SubLinkContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *sublink = (SubLink *) node;
		int			tiedResno = 0;

		/*
		 * `column IN (SELECT ...)` as a condition of WHERE is a semi-join:
		 * rows whose test is false or null alike are left out, so only the
		 * subquery's rows equal to the column, in the column's shard group,
		 * matter.
		 */
		if (list_member_ptr(context->conjuncts, sublink))
			tiedResno = SemiJoinResno(sublink, context->level);
		if (!SubqueryTied(castNode(Query, sublink->subselect), context->level,
						  context->colocationId, tiedResno))
			return true;
		return UntiedSubLinkWalker(sublink->testexpr, context);
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, UntiedSubLinkWalker, context);
}

/*
 * LevelHasUntiedSubLinks tells whether a query level (whose distributed
 * tables state holds) has a sublink that may read other shard groups than
 * the row it is evaluated for.
 */
static bool
LevelHasUntiedSubLinks(Query *query, LevelState *state, int32 colocationId)
{
	SubLinkContext context;
	ListCell   *lc;

	if (!query->hasSubLinks)
		return false;
	context.level = state;
	context.colocationId = colocationId;
	context.conjuncts = NIL;
	if (query->jointree != NULL)
		foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
			if (IsA(lfirst(lc), SubLink))
				context.conjuncts = lappend(context.conjuncts, lfirst(lc));
	/* the range table too: VALUES lists, function arguments, TABLESAMPLE */
	return query_tree_walker(query, UntiedSubLinkWalker, &context, 0);
}

/*
 * SubqueryTied tells whether a subquery (and the subqueries in it) reads,
 * for each row of the enclosing level, only that row's shard group: each of
 * its distributed tables is co-located with the enclosing level's and
 * joined, through inner joins of its level, to one equal to a distribution
 * column of an enclosing level (a correlation), or to its output column
 * tiedResno (of a semi-join); reference tables may join in.  The query can
 * then run per shard group as it is.
 */
static bool
SubqueryTied(Query *query, LevelState *parent, int32 colocationId,
			 int tiedResno)
{
	LevelState	state;
	bool	   *tied;
	int			i;

	if (query->commandType != CMD_SELECT || query->setOperations != NULL ||
		query->cteList != NIL || query->hasRecursive ||
		query->hasModifyingCTE || query->rowMarks != NIL ||
		query->jointree == NULL ||
		!CollectCoLocatedMembers(query, &state, parent, &colocationId, true))
		return false;
	if (PreservedReferenceTable((Node *) query->jointree, query, false))
		return false;
	WalkJoinTree((Node *) query->jointree, &state, true);
	/*
	 * A semi-join's output rows must each come from rows of the same
	 * distribution value: no aggregation, limit or the like across rows.
	 */
	if (tiedResno > 0 && !query->hasAggs && query->groupClause == NIL &&
		query->groupingSets == NIL && query->havingQual == NULL &&
		query->limitCount == NULL && query->limitOffset == NULL &&
		!query->hasWindowFuncs && !query->hasTargetSRFs &&
		!query->hasDistinctOn)
	{
		TargetEntry *tle = get_tle_by_resno(query->targetList, tiedResno);
		int			member = tle ? DistributionColumnMember((Node *) tle->expr, &state) : -1;

		if (member >= 0)
			state.members[member].tied = true;
	}

	/* every class of the level's distribution columns must be tied */
	tied = palloc0(sizeof(bool) * Max(state.count, 1));
	for (i = 0; i < state.count; i++)
		if (state.members[i].tied)
			tied[FindRoot(&state, i)] = true;
	for (i = 0; i < state.count; i++)
		if (!tied[FindRoot(&state, i)])
			return false;
	return LateralSubqueriesTied(query, &state, colocationId) &&
		!LevelHasUntiedSubLinks(query, &state, colocationId);
}

/* context of CollectParamTypesWalker */
typedef struct ParamTypesContext
{
	Oid		   *types;
	int			count;
} ParamTypesContext;

/* CollectParamTypesWalker records the type of each external parameter. */
static bool
CollectParamTypesWalker(Node *node, ParamTypesContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		Param	   *param = (Param *) node;

		if (param->paramid >= 1 && param->paramid <= context->count)
			context->types[param->paramid - 1] = param->paramtype;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CollectParamTypesWalker,
								 context, 0);
	return expression_tree_walker(node, CollectParamTypesWalker, context);
}

/*
 * CollectParamTypes fills types[0..count-1] with the types of the external
 * parameters a query or expression uses; others are left as they are.
 */
void
CollectParamTypes(Node *node, Oid *types, int count)
{
	ParamTypesContext context = {types, count};

	CollectParamTypesWalker(node, &context);
}

/*
 * RouterPinsAgree tells whether the pinned tables can be sent to one node
 * as one statement: the pins are all one expression over co-located
 * tables (so they pick the same shard index), or all constants whose
 * shards lie on one node.  Reference tables are on every node; federated
 * tables must lie on that node too.
 */
bool
RouterPinsAgree(RouterAnalysis *analysis)
{
	ListCell   *relidCell;
	ListCell   *pinCell;
	Expr	   *firstPin = NULL;
	int32		colocationId = 0;
	bool		samePin = true;
	bool		allConst = true;
	bool		federated = false;
	int32		nodeId = -1;

	if (!analysis->shippable || !analysis->allPinned || analysis->relids == NIL)
		return false;

	forboth(relidCell, analysis->relids, pinCell, analysis->pins)
	{
		ShardextTable *table = ShardextGetTable(lfirst_oid(relidCell));
		Expr	   *pin = lfirst(pinCell);

		if (IsSingleShardTable(table))
		{
			/* a federated table fixes the node; a reference table is on all */
			if (!IsReferenceTable(table))
			{
				if (nodeId >= 0 && table->shards[0]->nodeId != nodeId)
					return false;
				nodeId = table->shards[0]->nodeId;
				federated = true;
			}
			continue;
		}
		if (pin == NULL)
			return false;
		if (!IsA(pin, Const))
			allConst = false;
		else
		{
			Const	   *value = (Const *) pin;
			ShardextShard *shard;

			/* constants: their shards must share a node */
			if (value->constisnull ||
				!PinValueFits(table, value->constvalue, value->consttype))
				return false;
			shard = LookupShardForValue(table,
										CoerceToDistributionType(table,
																 value->constvalue,
																 value->consttype),
										false);
			/* a directory key not assigned yet: no node to send to */
			if (shard == NULL)
				return false;
			if (nodeId >= 0 && shard->nodeId != nodeId)
				return false;
			nodeId = shard->nodeId;
		}
		if (firstPin == NULL)
		{
			firstPin = pin;
			colocationId = table->colocationId;
		}
		else if (table->colocationId != colocationId || !equal(pin, firstPin))
			samePin = false;
	}
	/* a federated table's node is known now only against constants */
	if (federated && !allConst)
		return false;
	return samePin || allConst;
}

/*
 * SharedPin returns the one pin that every distributed table of the
 * analysis has (the value that picks their shard group), or NULL when a
 * table has none or two have different ones.  Single-shard tables need no
 * pin and are not looked at.
 */
Expr *
SharedPin(RouterAnalysis *analysis)
{
	ListCell   *relidCell;
	ListCell   *pinCell;
	Expr	   *shared = NULL;

	if (!analysis->shippable || !analysis->allPinned)
		return NULL;
	forboth(relidCell, analysis->relids, pinCell, analysis->pins)
	{
		Expr	   *pin = lfirst(pinCell);

		if (IsSingleShardTable(ShardextGetTable(lfirst_oid(relidCell))))
			continue;
		if (pin == NULL || (shared != NULL && !equal(pin, shared)))
			return NULL;
		shared = pin;
	}
	return shared;
}
