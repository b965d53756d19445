/*-------------------------------------------------------------------------
 *
 * deparse.c
 *	  Turning queries into SQL for shards.
 *
 * A statement sent whole to a node (router queries, DML on every shard) is
 * produced by PostgreSQL's own deparser, pg_get_querydef, on the analyzed
 * and rewritten query, so every construct PostgreSQL can parse comes out
 * right.  Two settings make the text usable on a node: search_path is
 * reduced to pg_catalog, so that every table (and any other non-catalog
 * object) is written schema-qualified, and standard_conforming_strings is
 * on.  Every distributed table gets an explicit alias, so that column
 * references name the alias and never the table.
 *
 * The text is then split at each place where a distributed table is named
 * (outside string literals and quoted identifiers, at token boundaries) into
 * a QueryTemplate; rendering it with shard names gives the statement for a
 * shard group.  Splitting happens once, at plan time; rendering is string
 * concatenation.
 *
 * IDENTIFICATION
 *	  src/deparse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/rel.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "shardext/deparse.h"
#include "shardext/node_types.h"
#include "shardext/metadata_cache.h"

/* context of the range table walkers */
typedef struct RteWalkerContext
{
	List	   *rtes;			/* RTE_RELATION entries found */
	bool		setAliases;		/* give distributed tables an alias */
} RteWalkerContext;

static bool RteWalker(Node *node, RteWalkerContext *context);
static void AvoidSchemaNamedAlias(RangeTblEntry *rte);
static void QualifyColumns(Query *query);
static void KeepUpdateTarget(Query *query);
static bool IsIdentChar(unsigned char c);
static int	SkipToken(const char *sql, int pos);
static char *CollapseWhitespace(const char *sql);
static void NameExcludedOnce(Query *query);
static bool IsAssignment(Node *node);
static void CheckSingleAssignments(Query *query);
static Node *CastUserTypeParams(Node *node, void *context);
static Node *ExpressionForNodesMutator(Node *node, void *context);

/*
 * DoBlock returns a DO statement running PL/pgSQL body (from BEGIN or
 * DECLARE to its END), dollar-quoted with a tag that does not occur in it:
 * names and labels in the body may hold any text.
 */
char *
DoBlock(const char *body)
{
	char	   *tag = pstrdup("$shardext$");
	int			n = 0;

	while (strstr(body, tag) != NULL)
		tag = psprintf("$shardext%d$", ++n);
	return psprintf("DO %s %s %s", tag, body, tag);
}

/*
 * SetDeparseGucs switches to the settings under which deparsed SQL is
 * valid on a node: a search path of pg_catalog only (pushed as an override
 * search path, which costs nothing like a GUC change), and
 * standard_conforming_strings on (through the GUC machinery only in the
 * rare session that has it off).  Returns what ResetDeparseGucs needs.
 */
int
SetDeparseGucs(void)
{
	OverrideSearchPath *path = GetOverrideSearchPath(CurrentMemoryContext);
	int			nestLevel = 0;

	path->schemas = NIL;
	path->addCatalog = true;
	path->addTemp = false;
	PushOverrideSearchPath(path);
	if (!standard_conforming_strings || extra_float_digits < 1 ||
		DateStyle != USE_ISO_DATES || IntervalStyle != INTSTYLE_POSTGRES)
	{
		nestLevel = NewGUCNestLevel();
		if (!standard_conforming_strings)
			(void) set_config_option("standard_conforming_strings", "on",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		/*
		 * Constants in the forms the nodes read exactly (see
		 * ExactOutputFunctionCall): floats with all their digits, dates
		 * and times in ISO style, intervals in postgres style.
		 */
		if (extra_float_digits < 1)
			(void) set_config_option("extra_float_digits", "1",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		if (DateStyle != USE_ISO_DATES)
			(void) set_config_option("DateStyle", "ISO",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		if (IntervalStyle != INTSTYLE_POSTGRES)
			(void) set_config_option("IntervalStyle", "postgres",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
	}
	return nestLevel;
}

/*
 * SetCanonicalDatumGucs switches to the settings under which values are
 * written to and read from the catalog as text (range bounds, directory
 * keys): the same whatever the session's DateStyle, IntervalStyle, float
 * output, time zone or bytea output.
 * Returns the nest level to pass to ResetDeparseGucs.
 */
int
SetCanonicalDatumGucs(void)
{
	int			nestLevel = NewGUCNestLevel();

	(void) set_config_option("DateStyle", "ISO, MDY",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("IntervalStyle", "postgres",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("TimeZone", "UTC",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("bytea_output", "hex",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestLevel;
}

/*
 * ResetDeparseGucs restores the settings changed by SetDeparseGucs (or by
 * SetCanonicalDatumGucs, whose nest level is never 0).
 */
void
ResetDeparseGucs(int nestLevel)
{
	if (nestLevel != 0)
		AtEOXact_GUC(true, nestLevel);
}

/* PopDeparseGucs ends what SetDeparseGucs started. */
void
PopDeparseGucs(int nestLevel)
{
	ResetDeparseGucs(nestLevel);
	PopOverrideSearchPath();
}

/*
 * RteWalker collects the RTE_RELATION entries of a query and all its
 * subqueries, CTEs and sublinks.
 */
static bool
RteWalker(Node *node, RteWalkerContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
		{
			context->rtes = lappend(context->rtes, rte);
			if (context->setAliases && ShardextGetTable(rte->relid) != NULL)
			{
				if (rte->alias == NULL)
					rte->alias = makeAlias(rte->eref->aliasname, NIL);
				/* no ONLY: a distributed table has no children, and a shard
				 * may be replaced by a subquery */
				rte->inh = true;
			}
		}
		if (context->setAliases)
			AvoidSchemaNamedAlias(rte);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, RteWalker, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, RteWalker, context);
}

/*
 * AvoidSchemaNamedAlias renames a range table entry named like a schema:
 * the deparsed SQL would qualify its columns as "schema.column", which
 * reads like a table of that schema where SplitQueryTemplate fills in
 * shard names ("w AS public" with a column w of table public.w).  Only
 * the name changes; a join without an alias keeps having none.
 */
static void
AvoidSchemaNamedAlias(RangeTblEntry *rte)
{
	const char *name = (rte->alias != NULL) ? rte->alias->aliasname :
		(rte->eref != NULL) ? rte->eref->aliasname : NULL;

	if (name == NULL || !OidIsValid(get_namespace_oid(name, true)))
		return;
	if (rte->alias == NULL)
	{
		if (rte->rtekind == RTE_JOIN)
			return;
		rte->alias = makeAlias(name, NIL);
	}
	rte->alias->aliasname = psprintf("%s_r", name);
}

/*
 * CollectRelationRtes returns every RTE_RELATION of a query, at every level
 * (the entries themselves, not copies).
 */
List *
CollectRelationRtes(Query *query)
{
	RteWalkerContext context = {NIL, false};

	RteWalker((Node *) query, &context);
	return context.rtes;
}

/*
 * ClearPermissionChecks makes the table entries of a query, at every level,
 * check no privileges: for a rewritten query whose original's entries the
 * plan's range table gets instead (planner.c KeepPermissionChecks).
 */
void
ClearPermissionChecks(Query *query)
{
	ListCell   *lc;

	foreach(lc, CollectRelationRtes(query))
	{
		((RangeTblEntry *) lfirst(lc))->requiredPerms = 0;
		((RangeTblEntry *) lfirst(lc))->selectedCols = NULL;
	}
}

/*
 * RelationQualifiedName returns the schema-qualified, quoted name of a
 * relation, the form used in our messages and in generated SQL.
 */
char *
RelationQualifiedName(Oid relid)
{
	char	   *relationName = get_rel_name(relid);

	if (relationName == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  relationName);
}

/*
 * QualifyColumns makes the deparser qualify the columns of a query over a
 * single range table entry, which it prints bare: in ORDER BY and DISTINCT
 * ON a bare name means an output column of that name first ("SELECT a AS b
 * ... ORDER BY t.b" would sort by a; "SELECT k, k::text ... ORDER BY 1" is
 * ambiguous), and the shards' queries rename their outputs.  The deparser
 * qualifies them when the range table has more than one entry, so a copy
 * of the entry is appended that nothing refers to (it is not printed).
 */
static void
QualifyColumns(Query *query)
{
	RangeTblEntry *unused;

	if (list_length(query->rtable) != 1)
		return;
	unused = copyObject((RangeTblEntry *) linitial(query->rtable));
	unused->alias = makeAlias("shardext_unused", NIL);
	unused->lateral = false;
	unused->inFromCl = false;
	query->rtable = lappend(query->rtable, unused);
}

/*
 * KeepUpdateTarget gives an UPDATE whose SET list the rewriter emptied
 * ("SET generated_column = DEFAULT": stored generated columns are computed
 * by the node) an assignment of the distribution column to itself: the
 * rows are still updated and counted, as on PostgreSQL, and an empty SET
 * would not parse.  (The first column: the distribution column assigned to
 * itself reads as moving rows only to a reader, not to the node.)
 */
static void
KeepUpdateTarget(Query *query)
{
	Relation	rel;
	TupleDesc	desc;
	ListCell   *lc;
	int			i;

	if (query->commandType != CMD_UPDATE)
		return;
	foreach(lc, query->targetList)
		if (!((TargetEntry *) lfirst(lc))->resjunk)
			return;
	rel = relation_open(rt_fetch(query->resultRelation, query->rtable)->relid, NoLock);
	desc = RelationGetDescr(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (attr->attisdropped || attr->attgenerated)
			continue;
		query->targetList =
			lcons(makeTargetEntry((Expr *) makeVar(query->resultRelation, attr->attnum,
												   attr->atttypid, attr->atttypmod,
												   attr->attcollation, 0),
								  attr->attnum, pstrdup(NameStr(attr->attname)), false),
				  query->targetList);
		break;
	}
	relation_close(rel, NoLock);
}

/*
 * DeparseQueryForShards returns the SQL of a query (which it copies first),
 * with every table schema-qualified and every distributed table aliased.
 */
char *
DeparseQueryForShards(Query *query, List *relids)
{
	Query	   *copy = copyObject(query);
	RteWalkerContext context = {NIL, true};
	int			nestLevel;
	char	   *sql;

	RteWalker((Node *) copy, &context);
	QualifyColumns(copy);
	/*
	 * The target of an UPDATE or DELETE written against a view is the
	 * rewriter's copy of the view's table entry, marked as in FROM: the
	 * deparser would name it there a second time.
	 */
	if ((copy->commandType == CMD_UPDATE || copy->commandType == CMD_DELETE) &&
		copy->resultRelation > 0)
		rt_fetch(copy->resultRelation, copy->rtable)->inFromCl = false;
	KeepUpdateTarget(copy);
	NameExcludedOnce(copy);
	CheckSingleAssignments(copy);
	/* (an INSERT's values take their types from its columns) */
	{
		List	   *insertValues = NIL;

		if (copy->commandType == CMD_INSERT)
		{
			insertValues = copy->targetList;
			copy->targetList = NIL;
		}
		copy = (Query *) CastUserTypeParams((Node *) copy, NULL);
		if (insertValues != NIL)
			copy->targetList = insertValues;
	}
	nestLevel = SetDeparseGucs();
	sql = pg_get_querydef(copy, false);
	PopDeparseGucs(nestLevel);
	return CollapseWhitespace(sql);
}

/*
 * IsAssignment tells whether an expression assigns to a field or an element
 * of a value (SET c.f = ..., SET a[1] = ...).
 */
static bool
IsAssignment(Node *node)
{
	return node != NULL &&
		(IsA(node, FieldStore) ||
		 (IsA(node, SubscriptingRef) && ((SubscriptingRef *) node)->refassgnexpr != NULL));
}

/*
 * CheckSingleAssignments refuses an UPDATE (or ON CONFLICT DO UPDATE) that
 * assigns to several fields or elements of one column (SET c.a = 1, c.b =
 * 2; SET a[1] = 1, a[2] = 2): PostgreSQL merges them into one expression,
 * which its deparser cannot write back (it would keep one assignment only).
 */
static void
CheckSingleAssignments(Query *query)
{
	List	   *targets = NIL;
	ListCell   *lc;

	if (query->commandType == CMD_UPDATE)
		targets = query->targetList;
	else if (query->onConflict != NULL)
		targets = query->onConflict->onConflictSet;
	foreach(lc, targets)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;
		bool		several = false;

		if (IsA(expr, FieldStore))
			several = list_length(((FieldStore *) expr)->newvals) > 1 ||
				IsAssignment((Node *) ((FieldStore *) expr)->arg);
		else if (IsAssignment(expr))
			several = IsAssignment((Node *) ((SubscriptingRef *) expr)->refexpr);
		if (several)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot assign to several fields or elements of column \"%s\" in one statement on a distributed table",
							tle->resname ? tle->resname : "?"),
					 errhint("Assign them in separate statements, or assign the whole column "
							 "(SET c = ROW(...), SET a = ARRAY[...]).")));
	}
}

/*
 * CastUserTypeParams writes a parameter of an enum or composite type (or a
 * domain over one) that the nodes have (a distributed table uses it) with
 * an explicit cast to it: the node gets such a parameter as text
 * (BuildRemoteParams; the OIDs differ), and would not know its type, or
 * would read a composite as an anonymous record; the same for an array of
 * such a type.  A domain over a built-in type is sent as its base type, an
 * array of domains as the array of their base type (NodeBaseType).
 */
static Node *
CastUserTypeParams(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN &&
		((Param *) node)->paramtype >= FirstNormalObjectId)
	{
		Param	   *param = (Param *) node;
		Oid			type = NodeBaseType(param->paramtype);

		if (type >= FirstNormalObjectId && NodesHaveUserType(type))
			return (Node *) makeRelabelType((Expr *) copyObject(param), type,
											-1, InvalidOid, COERCE_EXPLICIT_CAST);
		return node;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, CastUserTypeParams,
										   context, 0);
	return expression_tree_mutator(node, CastUserTypeParams, context);
}

/*
 * NameExcludedOnce renames, in an INSERT ... ON CONFLICT, the range table
 * entries called "excluded" that are not its EXCLUDED pseudo-relation (an
 * INSERT through a view keeps the view's): the deparser would otherwise
 * call the one the statement uses excluded_1, which a node does not read
 * as EXCLUDED.
 */
static void
NameExcludedOnce(Query *query)
{
	ListCell   *lc;

	if (query->onConflict == NULL || query->onConflict->exclRelIndex == 0)
		return;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (foreach_current_index(lc) + 1 == query->onConflict->exclRelIndex ||
			rte->eref == NULL || strcmp(rte->eref->aliasname, "excluded") != 0)
			continue;
		rte->alias = makeAlias("shardext_excluded_unused", NIL);
		rte->eref = makeAlias("shardext_excluded_unused", rte->eref->colnames);
	}
}

/*
 * CollapseWhitespace returns sql with every run of whitespace outside
 * literals and quoted identifiers turned into one space, and none at the
 * ends: the deparser's line breaks and indentation cost bytes on every
 * statement and make logs hard to read.
 */
static char *
CollapseWhitespace(const char *sql)
{
	StringInfoData buf;
	int			pos = 0;
	bool		pendingSpace = false;

	initStringInfo(&buf);
	while (sql[pos] != '\0')
	{
		char		c = sql[pos];

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
		{
			pendingSpace = (buf.len > 0);
			pos++;
			continue;
		}
		if (pendingSpace)
			appendStringInfoChar(&buf, ' ');
		pendingSpace = false;
		if (c == '\'' || c == '"')
		{
			int			end = SkipToken(sql, pos);

			appendBinaryStringInfo(&buf, sql + pos, end - pos);
			pos = end;
			continue;
		}
		appendStringInfoChar(&buf, c);
		pos++;
	}
	return buf.data;
}

/* IsIdentChar tells whether c can continue an unquoted identifier. */
static bool
IsIdentChar(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/*
 * SkipToken returns the position after the token that starts at pos: a
 * string literal, a quoted identifier, an unquoted word, or one character.
 */
static int
SkipToken(const char *sql, int pos)
{
	char		quote = sql[pos];

	if (quote == '\'' || quote == '"')
	{
		pos++;
		while (sql[pos] != '\0')
		{
			if (sql[pos] == quote)
			{
				if (sql[pos + 1] == quote)
				{
					pos += 2;
					continue;
				}
				return pos + 1;
			}
			pos++;
		}
		return pos;
	}
	if (IsIdentChar((unsigned char) quote))
	{
		while (sql[pos] != '\0' && IsIdentChar((unsigned char) sql[pos]))
			pos++;
		return pos;
	}
	return pos + 1;
}

/*
 * SplitQueryTemplate splits deparsed SQL at each place where one of the
 * tables in relids is named.
 */
QueryTemplate *
SplitQueryTemplate(const char *sql, List *relids)
{
	QueryTemplate *template = palloc0(sizeof(QueryTemplate));
	int			ntables = list_length(relids);
	char	  **names = palloc(sizeof(char *) * Max(ntables, 1));
	int		   *lengths = palloc(sizeof(int) * Max(ntables, 1));
	int			pos = 0;
	int			start = 0;
	int			i;

	for (i = 0; i < ntables; i++)
	{
		names[i] = RelationQualifiedName(list_nth_oid(relids, i));
		lengths[i] = strlen(names[i]);
	}

	while (sql[pos] != '\0')
	{
		unsigned char c = (unsigned char) sql[pos];
		bool		tokenStart;
		int			match = -1;

		tokenStart = (c == '"' || (IsIdentChar(c) && !isdigit(c))) &&
			(pos == 0 || !(IsIdentChar((unsigned char) sql[pos - 1]) ||
						   sql[pos - 1] == '.' || sql[pos - 1] == '"'));
		if (tokenStart)
		{
			for (i = 0; i < ntables && match < 0; i++)
			{
				char		next = sql[pos + lengths[i]];

				if (strncmp(sql + pos, names[i], lengths[i]) == 0 &&
					!IsIdentChar((unsigned char) next) && next != '.' &&
					next != '"' && next != '(')
					match = i;
			}
		}
		if (match >= 0)
		{
			template->fragments = lappend(template->fragments,
										  makeString(pnstrdup(sql + start,
															  pos - start)));
			template->slots = lappend_int(template->slots, match);
			pos += lengths[match];
			start = pos;
		}
		else
			pos = SkipToken(sql, pos);
	}
	template->fragments = lappend(template->fragments,
								  makeString(pstrdup(sql + start)));
	return template;
}

/*
 * RenderQueryTemplate returns the statement of a template with the given
 * names (one per table of the template's table list) filled in.
 */
char *
RenderQueryTemplate(QueryTemplate *template, char **tableNames)
{
	StringInfoData buf;
	ListCell   *fragment;
	ListCell   *slot;

	initStringInfo(&buf);
	forboth(fragment, template->fragments, slot, template->slots)
	{
		appendStringInfoString(&buf, strVal(lfirst(fragment)));
		appendStringInfoString(&buf, tableNames[lfirst_int(slot)]);
	}
	appendStringInfoString(&buf, strVal(llast(template->fragments)));
	return buf.data;
}

/*
 * ExpressionForNodesMutator undoes what the planner's simplification did to an
 * expression that the deparser cannot print back for a node: relabelings
 * that change an expression's collation become the COLLATE clauses they
 * came from (the deparser prints a RelabelType without its collation), and
 * casts through text of a constant ('2024-01-01'::text::date), which it
 * leaves as a cast (or a call of the type's input function) of a cstring
 * constant that a node refuses, become casts of a text constant again.
 */
static Node *
ExpressionForNodesMutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param))
		return CastUserTypeParams(node, context);
	if (IsA(node, CoerceViaIO) && IsA(((CoerceViaIO *) node)->arg, Const) &&
		((Const *) ((CoerceViaIO *) node)->arg)->consttype == CSTRINGOID)
	{
		CoerceViaIO *coerce = copyObject((CoerceViaIO *) node);
		Const	   *input = (Const *) coerce->arg;

		coerce->arg = (Expr *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
										 input->constisnull ? (Datum) 0 :
										 CStringGetTextDatum(DatumGetCString(input->constvalue)),
										 input->constisnull, false);
		return (Node *) coerce;
	}
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->args != NIL &&
		IsA(linitial(((FuncExpr *) node)->args), Const) &&
		((Const *) linitial(((FuncExpr *) node)->args))->consttype == CSTRINGOID)
	{
		FuncExpr   *func = (FuncExpr *) node;
		Const	   *input = linitial(func->args);
		Oid			inputFunction;
		Oid			ioParam;

		getTypeInputInfo(func->funcresulttype, &inputFunction, &ioParam);
		if (inputFunction == func->funcid)
		{
			CoerceViaIO *coerce = makeNode(CoerceViaIO);

			coerce->arg = (Expr *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
											 input->constisnull ? (Datum) 0 :
											 CStringGetTextDatum(DatumGetCString(input->constvalue)),
											 input->constisnull, false);
			coerce->resulttype = func->funcresulttype;
			coerce->resultcollid = func->funccollid;
			coerce->coerceformat = COERCE_EXPLICIT_CAST;
			coerce->location = -1;
			return (Node *) coerce;
		}
	}
	if (IsA(node, RelabelType))
	{
		RelabelType *relabel = (RelabelType *) node;
		Oid			argCollation = exprCollation((Node *) relabel->arg);

		if (OidIsValid(relabel->resultcollid) &&
			relabel->resultcollid != argCollation)
		{
			CollateExpr *collate = makeNode(CollateExpr);
			RelabelType *inner = copyObject(relabel);

			inner->arg = (Expr *) ExpressionForNodesMutator((Node *) relabel->arg, context);
			inner->resultcollid = argCollation;
			collate->arg = (Expr *) inner;
			collate->collOid = relabel->resultcollid;
			collate->location = -1;
			return (Node *) collate;
		}
	}
	return expression_tree_mutator(node, ExpressionForNodesMutator, context);
}

/*
 * DeparseExpressionForShard returns the SQL of an expression over one
 * relation (whose Vars have the given varno), naming its columns through
 * alias.
 */
char *
DeparseExpressionForShard(Node *expr, Oid relid, Index varno, const char *alias)
{
	Node	   *copy = ExpressionForNodesMutator(copyObject(expr), NULL);
	int			nestLevel;
	char	   *sql;

	if (varno != 1)
		ChangeVarNodes(copy, varno, 1, 0);
	nestLevel = SetDeparseGucs();
	sql = deparse_expression(copy, deparse_context_for(alias, relid),
							 true, false);
	PopDeparseGucs(nestLevel);
	return sql;
}

/* context of ReplaceTableOidMutator */
typedef struct TableOidContext
{
	Index		varno;
	Oid			relid;
} TableOidContext;

static bool CollectFunctionChecker(Oid funcid, void *context);
static bool CollectFunctionsWalker(Node *node, void *context);

static Node *
ReplaceTableOidMutator(Node *node, TableOidContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varno == context->varno &&
		((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varattno == TableOidAttributeNumber)
		return (Node *) makeConst(OIDOID, -1, InvalidOid, sizeof(Oid),
								  ObjectIdGetDatum(context->relid), false, true);
	return expression_tree_mutator(node, ReplaceTableOidMutator, (void *) context);
}

/*
 * ReplaceTableOidVars returns node with the tableoid of range table entry
 * varno (at this query level) replaced by the constant relid: a shard on its
 * node has another OID.  (A node prints an OID it does not know as a number,
 * so tableoid::regclass still reads back as the table's name.)
 */
Node *
ReplaceTableOidVars(Node *node, Index varno, Oid relid)
{
	TableOidContext context = {varno, relid};

	return ReplaceTableOidMutator(node, &context);
}

/* CollectFunctionChecker adds a function to the list in context. */
static bool
CollectFunctionChecker(Oid funcid, void *context)
{
	List	  **functions = (List **) context;

	if (!list_member_oid(*functions, funcid))
		*functions = lappend_oid(*functions, funcid);
	return false;
}

/* CollectFunctionsWalker collects the functions of a query tree. */
static bool
CollectFunctionsWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CollectFunctionsWalker, context, 0);
	(void) check_functions_in_node(node, CollectFunctionChecker, context);
	return expression_tree_walker(node, CollectFunctionsWalker, context);
}

/*
 * CollectFunctions returns the OIDs of the functions (operators' too) an
 * expression or query sent to nodes calls: the scans check the user's
 * EXECUTE privilege on them at executor start, as PostgreSQL does for
 * what it evaluates itself.
 */
List *
CollectFunctions(Node *query)
{
	List	   *functions = NIL;

	(void) CollectFunctionsWalker(query, &functions);
	return functions;
}

