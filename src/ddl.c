/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Carrying schema changes of distributed tables to their shards.
 *
 * Rather than translating each kind of DDL statement, the utility hook
 * captures the "shape" of every distributed table a statement touches
 * (name, schema, columns with their types, defaults and NOT NULL,
 * constraints, indexes) before the statement runs locally, and again
 * after; the difference is turned into ALTER TABLE / CREATE INDEX / DROP
 * INDEX statements for each shard, sent in the remote transactions, so the
 * shards change atomically with the coordinator's table.  Whatever form the
 * user wrote (ALTER TABLE with several subcommands, RENAME, SET SCHEMA,
 * CREATE INDEX, DROP INDEX, ...), the same few shard statements follow.
 *
 * The new shape must still be distributable (unique keys holding the
 * distribution column, foreign keys that can hold between shards, built-in
 * types): the checks of create_distributed_table run again and roll the
 * statement back when they fail.  The distribution column cannot be dropped
 * or change type.
 *
 * Constraints and indexes are compared by an identity read from the catalog
 * (columns by number), so a column rename leaves them alone on the shards.
 * Foreign keys are dropped before, and added after, every other change of
 * every table a statement touched: a referenced key may only change while no
 * foreign key uses it.
 *
 * IDENTIFICATION
 *	  src/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parse_type.h"
#include "rewrite/rewriteHandler.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "shardext/catalog.h"
#include "shardext/ddl.h"
#include "shardext/deparse.h"
#include "shardext/foreign_keys.h"
#include "shardext/metadata_cache.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/shard_ddl.h"
#include "shardext/transaction.h"

/* one column of a table shape */
typedef struct ColumnShape
{
	AttrNumber	attnum;
	bool		dropped;
	char	   *name;
	char	   *type;			/* with typmod */
	Oid			typid;
	int32		typmod;
	char	   *collation;		/* NULL: the type's default */
	Oid			collationOid;
	bool		notNull;
	char	   *defaultSql;		/* NULL: none, or not evaluable on a node */
	bool		volatileDefault;	/* the default is not immutable */
	bool		coordinatorDefault; /* computed on the coordinator only
									 * (sequence, identity) */
	bool		typeDefault;	/* the default is the domain's, not the
								 * column's own */
	bool		fillHere;		/* the shards have the default, but an added
								 * column's rows get it from the coordinator
								 * (it writes values as text in this
								 * session's style) */
	bool		generated;
	ColumnSettings settings;	/* storage, compression, statistics target */
} ColumnShape;

/* a constraint or index of a table shape */
typedef struct ObjectShape
{
	Oid			oid;
	char	   *name;
	bool		isCheck;		/* CHECK constraints keep their name */
	bool		isForeign;		/* a foreign key: its definition is
								 * ForeignKeyIdentity (the body names the
								 * referenced shard, which differs per shard) */
	bool		validated;		/* foreign keys: convalidated */
	char	   *definition;		/* constraint body, or index definition
								 * after "ON table " */
	char	   *identity;		/* what it enforces, from the catalog by
								 * column number: a column rename leaves it,
								 * and the shards, as they are */
	bool		isUnique;
} ObjectShape;

struct TableShape
{
	Oid			relid;
	char	   *schemaName;
	char	   *tableName;
	char		persistence;	/* relpersistence: logged or unlogged */
	char		replicaIdentity;	/* relreplident */
	char	   *replicaIndex;	/* its index's name, REPLICA_IDENTITY_INDEX */
	int			keyTriggers;	/* its foreign keys' triggers (internal ones) */
	int			keyTriggersDisabled;	/* of those, the disabled */
	int			keyTriggersOther;	/* and those that fire ALWAYS or REPLICA */
	Oid			owner;			/* relowner */
	List	   *storageOptions; /* TableStorageOptions */
	int			natts;
	ColumnShape *columns;
	List	   *constraints;	/* ObjectShape * */
	List	   *indexes;		/* ObjectShape *, indexes without constraint */
	List	   *conversions;	/* ColumnConversion *: ALTER COLUMN TYPE of
								 * the statement */
	bool		copyChangedHere;	/* the statement changes the coordinator's
									 * copy too (it renames the table's
									 * schema, or reassigns what a role
									 * owns) */
	struct TableShape *after;	/* the shape after the statement, while it
								 * is propagated */
	List	   *shardNames;		/* of an after shape: each shard's new name */
};

/* one ALTER COLUMN ... TYPE of a statement, with its USING expression */
typedef struct ColumnConversion
{
	char	   *column;			/* name before the statement */
	char	   *usingSql;		/* deparsed USING expression, or NULL */
} ColumnConversion;

static void CountKeyTriggers(Relation rel, TableShape *shape);
static void CheckImplicitConversion(TableShape *shape, const char *column,
									TypeName *typeName);
static ObjectShape *FindObject(List *objects, Oid oid);
static ColumnConversion *FindConversion(TableShape *shape, const char *column);
static void CheckAddedColumnDefaults(TableShape *shape, AlterTableStmt *stmt);
static bool ColumnRewritten(TableShape *before, ColumnShape *old,
							ColumnShape *new);
static List *StorageOptionCommands(const char *shardName, List *before,
								   List *after);
static List *ShardCommands(TableShape *before, TableShape *after, List **later,
						   ShardextShard *shard, char **newShardName);
static List *ForeignKeyCommands(TableShape *before, TableShape *after,
								ShardextShard *shard, const char *shardName,
								bool adding);
static void RunOnShardPlacements(TableShape *before, ShardextTable *table,
								 ShardextShard *shard, List *commands,
								 bool skipCoordinator);
static void CheckShapeChange(TableShape *before);
static void AppendVector(StringInfo buf, Datum datum, bool isOid);
static char *IndexIdentity(Oid indexOid);
static char *ConstraintIdentity(HeapTuple tuple, TupleDesc desc);
static void DropForeignKeysOfShard(TableShape *before, ShardextTable *table,
								   ShardextShard *shard);
static void UpdateShardRelation(int64 shardId, const char *shardName);
static bool UsesNewUserTypes(TableShape *before, TableShape *after);
static List *NewCoordinatorDefaultColumns(TableShape *before, TableShape *after);
static void FillNewColumn(ShardextTable *table, ShardextShard *shard,
						  const char *shardName, ColumnShape *column);

/*
 * AppendVector appends the count values of an int2vector or oidvector.
 */
static void
AppendVector(StringInfo buf, Datum datum, bool isOid)
{
	int			i;

	if (isOid)
	{
		oidvector  *vector = (oidvector *) DatumGetPointer(datum);

		for (i = 0; i < vector->dim1; i++)
			appendStringInfo(buf, " %u", vector->values[i]);
	}
	else
	{
		int2vector *vector = (int2vector *) DatumGetPointer(datum);

		for (i = 0; i < vector->dim1; i++)
			appendStringInfo(buf, " %d", vector->values[i]);
	}
	appendStringInfoChar(buf, ';');
}

/*
 * IndexIdentity returns what an index indexes and how (access method,
 * columns by number, operator classes, collations, options, expressions
 * and predicate as node trees, storage parameters), without names.
 */
static char *
IndexIdentity(Oid indexOid)
{
	HeapTuple	indexTuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexOid));
	HeapTuple	classTuple = SearchSysCache1(RELOID, ObjectIdGetDatum(indexOid));
	Form_pg_index index;
	StringInfoData buf;
	bool		isNull;
	Datum		datum;
	AttrNumber	vectors[] = {Anum_pg_index_indkey, Anum_pg_index_indclass,
	Anum_pg_index_indcollation, Anum_pg_index_indoption};
	AttrNumber	trees[] = {Anum_pg_index_indexprs, Anum_pg_index_indpred};
	int			i;

	if (!HeapTupleIsValid(indexTuple) || !HeapTupleIsValid(classTuple))
		elog(ERROR, "cache lookup failed for index %u", indexOid);
	index = (Form_pg_index) GETSTRUCT(indexTuple);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%u %d %d %d;",
					 ((Form_pg_class) GETSTRUCT(classTuple))->relam,
					 index->indisunique, index->indnullsnotdistinct,
					 index->indimmediate);
	for (i = 0; i < lengthof(vectors); i++)
	{
		datum = SysCacheGetAttr(INDEXRELID, indexTuple, vectors[i], &isNull);
		if (!isNull)
			AppendVector(&buf, datum,
						 vectors[i] != Anum_pg_index_indkey &&
						 vectors[i] != Anum_pg_index_indoption);
	}
	for (i = 0; i < lengthof(trees); i++)
	{
		datum = SysCacheGetAttr(INDEXRELID, indexTuple, trees[i], &isNull);
		if (!isNull)
			appendStringInfoString(&buf, TextDatumGetCString(datum));
		appendStringInfoChar(&buf, ';');
	}
	datum = SysCacheGetAttr(RELOID, classTuple, Anum_pg_class_reloptions, &isNull);
	if (!isNull)
		appendStringInfoString(&buf,
							   TextDatumGetCString(OidOutputFunctionCall(F_ARRAY_OUT,
																		 datum)));
	ReleaseSysCache(classTuple);
	ReleaseSysCache(indexTuple);
	return buf.data;
}

/*
 * ConstraintIdentity returns what a CHECK, primary key or unique constraint
 * (a pg_constraint tuple) enforces, without names: its type,
 * deferrability, validation and expression tree or index.
 */
static char *
ConstraintIdentity(HeapTuple tuple, TupleDesc desc)
{
	Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);
	bool		isNull;
	Datum		conbin = heap_getattr(tuple, Anum_pg_constraint_conbin, desc,
									  &isNull);

	return psprintf("%c %d %d %d %d %s", constraint->contype,
					constraint->condeferrable, constraint->condeferred,
					constraint->convalidated, constraint->connoinherit,
					isNull ? IndexIdentity(constraint->conindid) :
					TextDatumGetCString(conbin));
}

/*
 * CaptureTableShape reads the current shape of a table (as seen by the
 * current command).
 */
TableShape *
CaptureTableShape(Oid relid)
{
	TableShape *shape = palloc0(sizeof(TableShape));
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *context = deparse_context_for(RelationGetRelationName(rel), relid);
	bool	   *sessionStyle = palloc0(sizeof(bool) * Max(desc->natts, 1));
	Node	  **defaults = palloc0(sizeof(Node *) * Max(desc->natts, 1));
	bool	   *typeDefaults = palloc0(sizeof(bool) * Max(desc->natts, 1));
	int			nestLevel;
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	ListCell   *lc;
	int			i;

	/*
	 * Each column's default: its own, or else its domain's (PostgreSQL fills
	 * an added column with either); and which write values as text in this
	 * session's style.
	 */
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (attr->attisdropped || attr->attidentity || attr->attgenerated)
			continue;
		if (!attr->atthasdef)
			defaults[i] = get_typdefault(attr->atttypid);
		typeDefaults[i] = (defaults[i] != NULL);
	}
	for (i = 0; desc->constr != NULL && i < desc->constr->num_defval; i++)
	{
		defaults[desc->constr->defval[i].adnum - 1] =
			stringToNode(desc->constr->defval[i].adbin);
		typeDefaults[desc->constr->defval[i].adnum - 1] = false;
	}
	for (i = 0; i < desc->natts; i++)
		sessionStyle[i] = ExpressionWritesInSessionStyle(defaults[i]);
	nestLevel = SetDeparseGucs();

	shape->relid = relid;
	shape->schemaName = get_namespace_name(RelationGetNamespace(rel));
	shape->tableName = pstrdup(RelationGetRelationName(rel));
	shape->persistence = rel->rd_rel->relpersistence;
	shape->replicaIdentity = rel->rd_rel->relreplident;
	if (shape->replicaIdentity == REPLICA_IDENTITY_INDEX &&
		OidIsValid(RelationGetReplicaIndex(rel)))
		shape->replicaIndex = get_rel_name(RelationGetReplicaIndex(rel));
	CountKeyTriggers(rel, shape);
	shape->owner = rel->rd_rel->relowner;
	shape->storageOptions = TableStorageOptions(rel);
	shape->natts = desc->natts;
	shape->columns = palloc0(sizeof(ColumnShape) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		ColumnShape *column = &shape->columns[i];

		column->attnum = i + 1;
		column->dropped = attr->attisdropped;
		if (column->dropped)
			continue;
		column->name = pstrdup(NameStr(attr->attname));
		column->type = format_type_with_typemod(attr->atttypid, attr->atttypmod);
		column->typid = attr->atttypid;
		column->typmod = attr->atttypmod;
		column->collationOid = attr->attcollation;
		if (OidIsValid(attr->attcollation) &&
			attr->attcollation != get_typcollation(attr->atttypid))
			column->collation = generate_collation_name(attr->attcollation);
		column->notNull = attr->attnotnull;
		column->settings.storage = attr->attstorage;
		column->settings.compression = attr->attcompression;
		column->settings.stattarget = attr->attstattarget;
		column->generated = (attr->attgenerated != '\0');
		column->coordinatorDefault = (attr->attidentity != '\0');
		column->typeDefault = typeDefaults[i];
		if (defaults[i] != NULL)
		{
			Node	   *expr = defaults[i];

			column->volatileDefault = contain_mutable_functions(expr);

			/*
			 * A default that is not immutable (now(), random()) is computed
			 * on the coordinator only, as the rows it gives an added column
			 * must get the coordinator's values; one that writes values as
			 * text in this session's style is the shards' too (whatever the
			 * session, as the shards' definition stays), but fills an added
			 * column from the coordinator.
			 */
			if (column->generated ||
				(IsShippableExpression(expr) && !column->volatileDefault))
			{
				column->defaultSql = deparse_expression(expr, context,
														false, false);
				column->fillHere = sessionStyle[i] && !column->generated;
			}
			else
				column->coordinatorDefault = true;
		}
	}

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);
		ObjectShape *object;

		if (constraint->contype != CONSTRAINT_CHECK &&
			constraint->contype != CONSTRAINT_PRIMARY &&
			constraint->contype != CONSTRAINT_UNIQUE &&
			constraint->contype != CONSTRAINT_FOREIGN)
			continue;
		object = palloc0(sizeof(ObjectShape));
		object->oid = constraint->oid;
		object->name = pstrdup(NameStr(constraint->conname));
		object->isCheck = (constraint->contype == CONSTRAINT_CHECK);
		object->isForeign = (constraint->contype == CONSTRAINT_FOREIGN);
		if (object->isForeign)
		{
			object->definition = ForeignKeyIdentity(constraint->oid);
			object->identity = object->definition;
			object->validated = constraint->convalidated;
		}
		else
		{
			object->definition =
				TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
														ObjectIdGetDatum(constraint->oid)));
			object->identity = ConstraintIdentity(tuple,
												  RelationGetDescr(constraintRel));
		}
		shape->constraints = lappend(shape->constraints, object);
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);

	foreach(lc, RelationGetIndexList(rel))
	{
		Oid			indexOid = lfirst_oid(lc);
		ObjectShape *object;
		char	   *definition;
		char	   *onClause;
		char	   *on;

		if (OidIsValid(get_index_constraint(indexOid)))
			continue;
		object = palloc0(sizeof(ObjectShape));
		object->oid = indexOid;
		object->name = get_rel_name(indexOid);
		definition = TextDatumGetCString(DirectFunctionCall1(pg_get_indexdef,
															 ObjectIdGetDatum(indexOid)));
		object->isUnique = (strncmp(definition, "CREATE UNIQUE", 13) == 0);
		/* keep what follows "ON [ONLY] schema.table " (names may hold " USING ") */
		onClause = psprintf(" ON %s%s USING ",
							rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ?
							"ONLY " : "",
							quote_qualified_identifier(shape->schemaName,
													   shape->tableName));
		on = strstr(definition, onClause);
		if (on != NULL)
			on += strlen(onClause) - strlen(" USING ");
		if (on == NULL)
			elog(ERROR, "unexpected definition of index %u: %s", indexOid,
				 definition);
		object->definition = pstrdup(on + 1);
		object->identity = IndexIdentity(indexOid);
		shape->indexes = lappend(shape->indexes, object);
	}

	PopDeparseGucs(nestLevel);
	relation_close(rel, NoLock);
	return shape;
}

/*
 * CheckImplicitConversion refuses an ALTER COLUMN ... TYPE without USING
 * whose conversion the nodes would compute otherwise than the coordinator:
 * dates, times, intervals or floats turned into text in a session whose
 * DateStyle, IntervalStyle or extra_float_digits the nodes do not have (see
 * WritesInSessionStyle).
 */
static void
CheckImplicitConversion(TableShape *shape, const char *column, TypeName *typeName)
{
	Oid			typid;
	int32		typmod;
	Oid			oldType;
	int32		oldTypmod;
	Oid			oldCollation;
	AttrNumber	attnum = get_attnum(shape->relid, column);
	Node	   *expr;

	if (attnum == InvalidAttrNumber)
		return;
	typenameTypeIdAndMod(NULL, typeName, &typid, &typmod);
	get_atttypetypmodcoll(shape->relid, attnum, &oldType, &oldTypmod, &oldCollation);
	expr = coerce_to_target_type(NULL,
								 (Node *) makeVar(1, attnum, oldType, oldTypmod,
												  oldCollation, 0),
								 oldType, typid, typmod, COERCION_ASSIGNMENT,
								 COERCE_IMPLICIT_CAST, -1);
	if (expr != NULL && !IsShippableExpression(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the conversion of column \"%s\" of distributed table \"%s\" to type %s cannot be computed on the nodes",
						column, shape->tableName, format_type_with_typemod(typid, typmod)),
				 errdetail("The shards convert their own rows, writing dates, times and intervals "
						   "in ISO and postgres styles and floats with all their digits, while this "
						   "session's DateStyle, IntervalStyle or extra_float_digits differ."),
				 errhint("Run the statement with DateStyle ISO, IntervalStyle postgres and "
						 "extra_float_digits 1 (the defaults), or add a new column, fill it with "
						 "UPDATE, then drop the old one.")));
}

/*
 * CaptureStatementDetails records what the shape difference alone cannot
 * tell: that a statement renames the table's schema, and, before an ALTER
 * TABLE runs, the USING
 * expression of each of its ALTER COLUMN ... TYPE subcommands, analyzed
 * against the table as it is and deparsed, so that the shards convert their
 * rows the same way (also when the type stays the same).  The expression
 * must be computable on the nodes, and immutable: each node would compute
 * now() or random() its own way.
 */
void
CaptureStatementDetails(TableShape *shape, Node *parsetree)
{
	ListCell   *lc;
	Relation	rel = NULL;
	List	   *context = NIL;

	if ((IsA(parsetree, RenameStmt) &&
		 ((RenameStmt *) parsetree)->renameType == OBJECT_SCHEMA) ||
		IsA(parsetree, ReassignOwnedStmt) || StatementDropsTypes(parsetree))
		shape->copyChangedHere = true;
	if (!IsA(parsetree, AlterTableStmt))
		return;
	CheckAddedColumnDefaults(shape, (AlterTableStmt *) parsetree);
	foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		ColumnDef  *def = (ColumnDef *) cmd->def;
		ColumnConversion *conversion;

		if (cmd->subtype != AT_AlterColumnType || cmd->name == NULL)
			continue;
		conversion = palloc0(sizeof(ColumnConversion));
		conversion->column = pstrdup(cmd->name);
		if (def != NULL && IsA(def, ColumnDef) && def->raw_default != NULL)
		{
			ParseState *pstate = make_parsestate(NULL);
			ParseNamespaceItem *nsitem;
			Node	   *expr;
			int			nestLevel;

			if (rel == NULL)
			{
				rel = relation_open(shape->relid, NoLock);
				context = deparse_context_for(RelationGetRelationName(rel),
											  shape->relid);
			}
			nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
												   NULL, false, true);
			addNSItemToQuery(pstate, nsitem, false, true, true);
			expr = transformExpr(pstate, copyObject(def->raw_default),
								 EXPR_KIND_ALTER_COL_TRANSFORM);
			if (!IsShippableExpression(expr))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("the USING expression of column \"%s\" cannot be computed on the nodes of %s table \"%s\"",
								cmd->name, TableKindName(ShardextGetTable(shape->relid)),
								shape->tableName),
						 errdetail("The shards convert their own rows; the expression "
								   "may only use built-in functions and the table's columns."),
						 errhint("Add a new column, fill it with UPDATE, then drop the old one.")));
			if (IsMutableOnNodes(expr))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("the USING expression of column \"%s\" of %s table \"%s\" must be immutable",
								cmd->name, TableKindName(ShardextGetTable(shape->relid)),
								shape->tableName),
						 errdetail("Every shard converts its own rows on its node, where "
								   "functions such as now() or random() give other values."),
						 errhint("Add a new column, fill it with UPDATE, then drop the old one.")));
			nestLevel = SetDeparseGucs();
			conversion->usingSql = deparse_expression(expr, context, false, false);
			PopDeparseGucs(nestLevel);
		}
		else if (def != NULL && IsA(def, ColumnDef) && def->typeName != NULL)
			CheckImplicitConversion(shape, cmd->name, def->typeName);
		shape->conversions = lappend(shape->conversions, conversion);
	}
	if (rel != NULL)
		relation_close(rel, NoLock);
}

/*
 * CheckAddedColumnDefaults refuses an ALTER TABLE that adds a column and
 * sets or drops its default in the same statement: PostgreSQL fills the
 * existing rows with the default of ADD COLUMN, while the shards, which get
 * the column as it is after the statement, would fill them with the final
 * one.
 */
static void
CheckAddedColumnDefaults(TableShape *shape, AlterTableStmt *stmt)
{
	List	   *added = NIL;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AddColumn && cmd->def != NULL &&
			IsA(cmd->def, ColumnDef))
			added = lappend(added, ((ColumnDef *) cmd->def)->colname);
		else if (cmd->subtype == AT_ColumnDefault && cmd->name != NULL)
		{
			ListCell   *ac;

			foreach(ac, added)
				if (strcmp(lfirst(ac), cmd->name) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot add column \"%s\" and change its default in one statement on distributed table \"%s\"",
									cmd->name, shape->tableName),
							 errdetail("The rows the table has get the default of ADD COLUMN; "
									   "the shards would get the column with its final default."),
							 errhint("Add the column, then change its default with a second ALTER TABLE.")));
		}
	}
}

/* FindConversion finds the ALTER COLUMN TYPE of a column (name before). */
static ColumnConversion *
FindConversion(TableShape *shape, const char *column)
{
	ListCell   *lc;

	foreach(lc, shape->conversions)
	{
		ColumnConversion *conversion = lfirst(lc);

		if (strcmp(conversion->column, column) == 0)
			return conversion;
	}
	return NULL;
}

/*
 * ColumnRewritten tells whether the shards' ALTER TABLE changes the type of
 * a column (old in shape before, new after): it converts the column when its
 * type, typmod or collation changed, or the statement gave a USING.  Types
 * and collations are compared as objects: a renamed schema prints them by
 * other names.
 */
static bool
ColumnRewritten(TableShape *before, ColumnShape *old, ColumnShape *new)
{
	return FindConversion(before, old->name) != NULL ||
		old->typid != new->typid || old->typmod != new->typmod ||
		old->collationOid != new->collationOid;
}

/*
 * StorageOptionCommands returns the statements that change a shard's storage
 * parameters (TableStorageOptions strings) from before to after: SET of the
 * new and changed ones, RESET of those gone.
 */
static List *
StorageOptionCommands(const char *shardName, List *before, List *after)
{
	List	   *set = NIL;
	StringInfoData reset;
	List	   *commands = NIL;
	ListCell   *lc;
	ListCell   *oc;

	initStringInfo(&reset);
	foreach(lc, after)
	{
		bool		found = false;

		foreach(oc, before)
			if (strcmp(lfirst(lc), lfirst(oc)) == 0)
				found = true;
		if (!found)
			set = lappend(set, lfirst(lc));
	}
	foreach(oc, before)
	{
		const char *old = lfirst(oc);
		int			nameLength = strchr(old, '=') - old;
		bool		found = false;

		foreach(lc, after)
			if (strncmp(lfirst(lc), old, nameLength + 1) == 0)
				found = true;
		if (!found)
			appendStringInfo(&reset, "%s%.*s", reset.len > 0 ? ", " : "",
							 nameLength, old);
	}
	if (reset.len > 0)
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s RESET (%s)", shardName, reset.data));
	if (set != NIL)
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s SET (%s)", shardName,
									StorageOptionsClause(set)));
	return commands;
}

/* FindObject finds an object of a shape by OID. */
static ObjectShape *
FindObject(List *objects, Oid oid)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		ObjectShape *object = lfirst(lc);

		if (object->oid == oid)
			return object;
	}
	return NULL;
}

/*
 * ShardCommands returns the statements that turn one shard from the before
 * shape into the after shape; *newShardName is the shard's name afterwards.
 */
static List *
ShardCommands(TableShape *before, TableShape *after, List **later,
			  ShardextShard *shard, char **newShardName)
{
	List	   *commands = NIL;
	char	   *name = shard->relationName;
	const char *schema = quote_identifier(after->schemaName);
	ListCell   *lc;
	int			i;

	if (strcmp(before->schemaName, after->schemaName) != 0)
	{
		commands = lappend(commands,
						   SchemaCreateCommand(get_namespace_oid(after->schemaName, false)));
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s SET SCHEMA %s", name, schema));
		name = psprintf("%s.%s", schema,
						ShardObjectName(before->tableName, shard->shardId));
	}
	if (strcmp(before->tableName, after->tableName) != 0)
	{
		char	   *newTable = ShardObjectName(after->tableName, shard->shardId);

		commands = lappend(commands,
						   psprintf("ALTER TABLE %s RENAME TO %s", name, newTable));
		name = psprintf("%s.%s", schema, newTable);
	}
	*newShardName = name;

	/* a new owner, on the nodes where the role exists */
	if (before->owner != after->owner)
	{
		char	   *role = GetUserNameFromId(after->owner, false);
		char	   *alter = psprintf("ALTER TABLE %s OWNER TO %s", name,
									 quote_identifier(role));

		commands = lappend(commands,
						   DoBlock(psprintf("BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles "
											"WHERE rolname = %s) THEN EXECUTE %s; END IF; END",
											quote_literal_cstr(role), quote_literal_cstr(alter))));
	}
	if (before->persistence != after->persistence)
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s SET %s", name,
									after->persistence == RELPERSISTENCE_UNLOGGED ?
									"UNLOGGED" : "LOGGED"));
	commands = list_concat(commands,
						   StorageOptionCommands(name, before->storageOptions,
												 after->storageOptions));

	/* constraints and indexes that went away or changed */
	foreach(lc, before->constraints)
	{
		ObjectShape *old = lfirst(lc);
		ObjectShape *new = FindObject(after->constraints, old->oid);

		/* a new name only (foreign keys change in ForeignKeyCommands) */
		if (new != NULL && strcmp(new->identity, old->identity) == 0)
		{
			if (strcmp(new->name, old->name) != 0)
				commands = lappend(commands,
								   psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", name,
											old->isCheck ?
											quote_identifier(old->name) :
											ShardObjectName(old->name, shard->shardId),
											old->isCheck ?
											quote_identifier(new->name) :
											ShardObjectName(new->name, shard->shardId)));
			continue;
		}
		if (old->isForeign)
			continue;
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
									name, old->isCheck ? quote_identifier(old->name) :
									ShardObjectName(old->name, shard->shardId)));
	}
	foreach(lc, before->indexes)
	{
		ObjectShape *old = lfirst(lc);
		ObjectShape *new = FindObject(after->indexes, old->oid);

		if (new != NULL && strcmp(new->identity, old->identity) == 0)
		{
			if (strcmp(new->name, old->name) != 0)
				commands = lappend(commands,
								   psprintf("ALTER INDEX IF EXISTS %s.%s RENAME TO %s", schema,
											ShardObjectName(old->name, shard->shardId),
											ShardObjectName(new->name, shard->shardId)));
			continue;
		}
		commands = lappend(commands,
						   psprintf("DROP INDEX IF EXISTS %s.%s", schema,
									ShardObjectName(old->name, shard->shardId)));
	}

	/*
	 * Columns.  Drops and type changes go in one ALTER TABLE, first: like
	 * PostgreSQL, every USING then reads the row as it was (a column another
	 * conversion changes, or the statement drops).
	 */
	{
		StringInfoData rewrite;
		List	   *typeCommands = NIL;

		/*
		 * Drops from the last column back: a generated column comes after
		 * the columns it reads, and goes before them (a node refuses to
		 * drop a column something else needs, as PostgreSQL would have).
		 */
		initStringInfo(&rewrite);
		for (i = Min(after->natts, before->natts) - 1; i >= 0; i--)
			if (after->columns[i].dropped && !before->columns[i].dropped)
				appendStringInfo(&rewrite, "%sDROP COLUMN IF EXISTS %s",
								 rewrite.len > 0 ? ", " : "",
								 quote_identifier(before->columns[i].name));
		for (i = 0; i < after->natts; i++)
		{
			ColumnShape *new = &after->columns[i];
			ColumnShape *old = (i < before->natts) ? &before->columns[i] : NULL;
			ColumnConversion *conversion;

			if (old == NULL || old->dropped || new->dropped)
				continue;
			conversion = FindConversion(before, old->name);

			/*
			 * Without USING, a node converts as PostgreSQL did here, by
			 * assignment (a value too long for a shorter varchar is an
			 * error, not cut).
			 */
			if (ColumnRewritten(before, old, new))
			{
				typeCommands = list_concat(typeCommands, TypeCreateCommands(new->typid));
				appendStringInfo(&rewrite, "%sALTER COLUMN %s TYPE %s%s%s%s%s",
								 rewrite.len > 0 ? ", " : "",
								 quote_identifier(old->name), new->type,
								 new->collation ? " COLLATE " : "",
								 new->collation ? new->collation : "",
								 conversion && conversion->usingSql ? " USING " : "",
								 conversion && conversion->usingSql ?
								 conversion->usingSql : "");
			}
		}
		commands = list_concat(commands, typeCommands);
		if (rewrite.len > 0)
			commands = lappend(commands, psprintf("ALTER TABLE %s %s", name, rewrite.data));
	}
	for (i = 0; i < after->natts; i++)
	{
		ColumnShape *new = &after->columns[i];
		ColumnShape *old = (i < before->natts) ? &before->columns[i] : NULL;
		const char *column;
		const char *oldDefault;
		const char *newDefault;

		if (new->dropped)
			continue;
		column = quote_identifier(new->name);
		if (old == NULL || old->dropped)
		{
			StringInfoData buf;

			/*
			 * Each copy of a reference table would compute its own values
			 * for the rows it has.
			 */
			if (new->defaultSql && new->volatileDefault &&
				list_length(shard->placementNodeIds) > 1)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot add column \"%s\" with a default that is not immutable to reference table \"%s\"",
								new->name, after->tableName),
						 errdetail("Every copy would compute its own values for the rows it holds."),
						 errhint("Add the column without the default, fill it with UPDATE, then set the default.")));
			commands = list_concat(commands, TypeCreateCommands(new->typid));
			initStringInfo(&buf);

			/*
			 * Filled from the coordinator afterwards (FillNewColumn); a
			 * domain's column is added as its base type and made the domain
			 * after that, as the domain may refuse the NULLs it has until
			 * then.
			 */
			if (new->coordinatorDefault && get_typtype(new->typid) == TYPTYPE_DOMAIN)
			{
				int32		typmod = -1;
				Oid			base = getBaseTypeAndTypmod(new->typid, &typmod);
				int			nestLevel = SetDeparseGucs();

				appendStringInfo(&buf, "ALTER TABLE %s ADD COLUMN %s %s", name,
								 column, format_type_with_typemod(base, typmod));
				PopDeparseGucs(nestLevel);
				if (new->collation)
					appendStringInfo(&buf, " COLLATE %s", new->collation);
				commands = lappend(commands, buf.data);
				*later = lcons(psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s",
										name, column, new->type), *later);
				continue;
			}
			appendStringInfo(&buf, "ALTER TABLE %s ADD COLUMN %s %s", name,
							 column, new->type);
			if (new->collation)
				appendStringInfo(&buf, " COLLATE %s", new->collation);
			/* filled from the coordinator afterwards (FillNewColumn) */
			if (new->coordinatorDefault || new->fillHere)
			{
				commands = lappend(commands, buf.data);
				if (new->fillHere && !new->typeDefault)
					*later = lcons(psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
											name, column, new->defaultSql), *later);
				continue;
			}
			if (new->defaultSql)
				appendStringInfo(&buf, new->generated ?
								 " GENERATED ALWAYS AS (%s) STORED" :
								 " DEFAULT %s", new->defaultSql);
			if (new->notNull)
				appendStringInfoString(&buf, " NOT NULL");
			commands = lappend(commands, buf.data);
			/* a domain's default fills the rows; the column has none */
			if (new->typeDefault && new->defaultSql && !new->generated)
				commands = lappend(commands,
								   psprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
											name, column));
			continue;
		}
		if (strcmp(old->name, new->name) != 0)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", name,
										quote_identifier(old->name), column));
		if (old->generated && !new->generated)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s ALTER COLUMN %s DROP EXPRESSION",
										name, column));

		/* the column's own default (a domain's stays with the domain) */
		oldDefault = old->typeDefault ? NULL : old->defaultSql;
		newDefault = new->typeDefault ? NULL : new->defaultSql;
		if (!old->generated &&
			((oldDefault == NULL) != (newDefault == NULL) ||
			 (oldDefault && strcmp(oldDefault, newDefault) != 0)))
		{
			if (newDefault != NULL && !new->generated)
				commands = lappend(commands,
								   psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
											name, column, newDefault));
			else if (!new->generated)
				commands = lappend(commands,
								   psprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
											name, column));
		}

		/*
		 * A default computed here going away: shards made by earlier
		 * versions may carry it (a node fills a column left out of an INSERT
		 * with its own default).
		 */
		else if (!old->generated && !new->generated && old->coordinatorDefault &&
				 !new->coordinatorDefault && newDefault == NULL)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
										name, column));
		if (old->notNull != new->notNull)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s ALTER COLUMN %s %s NOT NULL",
										name, column, new->notNull ? "SET" : "DROP"));
	}

	/*
	 * Storage, compression and statistics targets of the columns, last: a
	 * domain column the coordinator fills becomes the domain only after that
	 * (which resets its storage and compression, as any type change does).
	 */
	{
		StringInfoData settings;

		initStringInfo(&settings);
		for (i = 0; i < after->natts; i++)
		{
			ColumnShape *new = &after->columns[i];
			ColumnShape *old = (i < before->natts) ? &before->columns[i] : NULL;
			ColumnSettings has;

			if (new->dropped)
				continue;
			if (old == NULL || old->dropped)
				has = TypeColumnSettings(new->typid);
			else if (ColumnRewritten(before, old, new))
			{
				/* ALTER COLUMN TYPE keeps only the statistics target */
				has = TypeColumnSettings(new->typid);
				has.stattarget = old->settings.stattarget;
			}
			else
				has = old->settings;
			AppendColumnSettings(&settings, new->name, &has, &new->settings);
		}
		if (settings.len > 0)
			*later = lappend(*later, psprintf("ALTER TABLE %s %s", name, settings.data));
	}

	/*
	 * Constraints and indexes that are new or changed: after the columns the
	 * coordinator fills (FillNewColumn), which they may check.
	 */
	foreach(lc, after->constraints)
	{
		ObjectShape *new = lfirst(lc);
		ObjectShape *old = FindObject(before->constraints, new->oid);

		if (new->isForeign ||
			(old != NULL && strcmp(new->identity, old->identity) == 0))
			continue;
		*later = lappend(*later,
						   psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", name,
									new->isCheck ? quote_identifier(new->name) :
									ShardObjectName(new->name, shard->shardId),
									new->definition));
	}
	foreach(lc, after->indexes)
	{
		ObjectShape *new = lfirst(lc);
		ObjectShape *old = FindObject(before->indexes, new->oid);

		if (old != NULL && strcmp(new->identity, old->identity) == 0)
			continue;
		*later = lappend(*later,
						   psprintf("CREATE %sINDEX %s ON %s %s",
									new->isUnique ? "UNIQUE " : "",
									ShardObjectName(new->name, shard->shardId),
									name, new->definition));
	}

	/*
	 * DISABLE/ENABLE TRIGGER ALL (pg_restore --disable-triggers): the
	 * shards' foreign keys are checked by their own triggers on the nodes.
	 */
	if (before->keyTriggersDisabled != after->keyTriggersDisabled ||
		before->keyTriggersOther != after->keyTriggersOther)
	{
		if (after->keyTriggersDisabled == 0 && after->keyTriggersOther == 0)
			*later = lappend(*later, psprintf("ALTER TABLE %s ENABLE TRIGGER ALL", name));
		else if (after->keyTriggersDisabled == after->keyTriggers)
			*later = lappend(*later, psprintf("ALTER TABLE %s DISABLE TRIGGER ALL", name));
		else
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change some of the foreign key triggers of table \"%s\"",
							after->tableName),
					 errdetail("The foreign keys of a distributed table are checked on its "
							   "shards, whose triggers can only be enabled or disabled all at once."),
					 errhint("Use ALTER TABLE ... DISABLE TRIGGER ALL and ENABLE TRIGGER ALL.")));
	}

	/* a new replica identity: after the indexes, one of which it may name */
	if (before->replicaIdentity != after->replicaIdentity ||
		(before->replicaIndex == NULL) != (after->replicaIndex == NULL) ||
		(after->replicaIndex != NULL &&
		 strcmp(before->replicaIndex, after->replicaIndex) != 0))
		*later = lappend(*later,
						 ReplicaIdentityCommand(name, shard->shardId,
												after->replicaIdentity,
												after->replicaIndex));
	return commands;
}

/*
 * CountKeyTriggers counts a table's internal triggers (those of its foreign
 * keys, on either side) into its shape: all, the disabled, and those that
 * fire ALWAYS or REPLICA.  Only a change of the last two counts is a
 * DISABLE/ENABLE TRIGGER (a new foreign key adds enabled triggers to a
 * table whose others are disabled).
 */
static void
CountKeyTriggers(Relation rel, TableShape *shape)
{
	TriggerDesc *triggers = rel->trigdesc;
	int			i;

	shape->keyTriggers = 0;
	shape->keyTriggersDisabled = 0;
	shape->keyTriggersOther = 0;
	for (i = 0; triggers != NULL && i < triggers->numtriggers; i++)
	{
		Trigger    *trigger = &triggers->triggers[i];

		if (!trigger->tgisinternal)
			continue;
		shape->keyTriggers++;
		if (trigger->tgenabled == TRIGGER_DISABLED)
			shape->keyTriggersDisabled++;
		else if (trigger->tgenabled != TRIGGER_FIRES_ON_ORIGIN)
			shape->keyTriggersOther++;
	}
}

/* UpdateShardRelation records a shard's new name. */
static void
UpdateShardRelation(int64 shardId, const char *shardName)
{
	Oid			argTypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];

	args[0] = Int64GetDatum(shardId);
	args[1] = CStringGetTextDatum(shardName);
	ExecuteCatalogSql("UPDATE shardext.shards SET shard_relation = $2 "
					  "WHERE shard_id = $1", 2, argTypes, args, NULL);
}

/*
 * ForeignKeyCommands returns, for one shard (named shardName) of the table
 * of a shape, the statements that drop the foreign keys the statement
 * removed or changed (adding false), or that add the new and changed ones
 * and validate those it validated (adding true).  Drops run before, adds
 * after, every other change of every table the statement touched: a
 * referenced table's key may only change while no foreign key uses it.
 */
static List *
ForeignKeyCommands(TableShape *before, TableShape *after, ShardextShard *shard,
				   const char *shardName, bool adding)
{
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, adding ? after->constraints : before->constraints)
	{
		ObjectShape *object = lfirst(lc);
		ObjectShape *other = FindObject(adding ? before->constraints :
										after->constraints, object->oid);
		bool		same = (other != NULL &&
							strcmp(other->identity, object->identity) == 0);

		if (!object->isForeign)
			continue;
		if (!adding && !same)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
										shardName, ShardObjectName(object->name, shard->shardId)));
		else if (adding && !same)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", shardName,
										ShardObjectName(object->name, shard->shardId),
										ForeignKeyShardDefinition(object->oid,
																  shard->shardIndex)));
		else if (adding && object->validated && !other->validated)
			commands = lappend(commands,
							   psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", shardName,
										ShardObjectName(object->name, shard->shardId)));
	}
	return commands;
}

/*
 * DropForeignKeysOfShard drops on every placement of a shard the foreign
 * keys the statement removed or changed.  The coordinator's own copy (of a
 * reference table) may have lost them already, with the copy they
 * referenced (DROP SCHEMA ... CASCADE): then the statement holds the
 * copy's lock, and the copy is left alone.
 */
static void
DropForeignKeysOfShard(TableShape *before, ShardextTable *table,
					   ShardextShard *shard)
{
	List	   *commands = ForeignKeyCommands(before, before->after, shard,
											  shard->relationName, false);
	Oid			copy;
	bool		touched;
	ListCell   *lc;

	if (commands == NIL)
		return;
	copy = ShardPlacedOn(shard, COORDINATOR_NODE_ID) ?
		CoordinatorCopyRelid(shard->relationName) : InvalidOid;
	touched = ShardPlacedOn(shard, COORDINATOR_NODE_ID) && !OidIsValid(copy);
	foreach(lc, before->constraints)
	{
		ObjectShape *object = lfirst(lc);
		ObjectShape *after = FindObject(before->after->constraints, object->oid);

		if (object->isForeign && OidIsValid(copy) &&
			(after == NULL || strcmp(after->identity, object->identity) != 0) &&
			!OidIsValid(get_relation_constraint_oid(copy,
													ShardObjectNameUnquoted(object->name,
																			shard->shardId),
													true)))
			touched = true;
	}
	RunOnShardPlacements(before, table, shard, commands, touched);
}

/*
 * RunOnShardPlacements sends commands to every placement of a shard of the
 * table of shape before, in the remote transactions; the coordinator's own
 * copy is skipped when skipCoordinator is set or the statement changed it
 * here already (copyChangedHere).
 */
static void
RunOnShardPlacements(TableShape *before, ShardextTable *table,
					 ShardextShard *shard, List *commands, bool skipCoordinator)
{
	ListCell   *nodeCell;
	ListCell   *lc;

	if (commands == NIL)
		return;
	foreach(nodeCell, shard->placementNodeIds)
	{
		NodeConnection *nc;

		if (lfirst_int(nodeCell) == COORDINATOR_NODE_ID)
		{
			/* changed already (it was in the renamed schema too, ...) */
			if (before->copyChangedHere || skipCoordinator)
				continue;
			CheckCopyNotInLocalUse(table->relid, shard->relationName);
			CheckCopySeesCatalog(table->relid);
		}
		nc = GetNodeConnectionInTransaction(lfirst_int(nodeCell), true);
		foreach(lc, commands)
			RemoteExecuteCommand(nc, (char *) lfirst(lc));
	}
}

/*
 * CheckShapeChange compares a table's shape before a statement with its
 * shape now (kept in before->after) and checks that the table can stay
 * distributed.  A table the statement dropped gets no after shape.
 */
static void
CheckShapeChange(TableShape *before)
{
	ShardextTable *table = ShardextGetTable(before->relid);
	TableShape *after;
	ColumnShape *distBefore;
	ColumnShape *distAfter;

	before->after = NULL;
	if (table == NULL || get_rel_name(before->relid) == NULL)
		return;
	after = CaptureTableShape(before->relid);

	if (table->distAttno != InvalidAttrNumber)
	{
		distBefore = &before->columns[table->distAttno - 1];
		distAfter = &after->columns[table->distAttno - 1];
		if (distAfter->dropped)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot drop distribution column \"%s\" of table \"%s\"",
							distBefore->name, before->tableName),
					 errhint("Call undistribute_table() first.")));
		if (strcmp(distBefore->type, distAfter->type) != 0 ||
			(distBefore->collation == NULL) != (distAfter->collation == NULL))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the type of distribution column \"%s\" of table \"%s\"",
							distBefore->name, before->tableName),
					 errdetail("Rows would belong to other shards."),
					 errhint("Call undistribute_table() first.")));
		if (strcmp(distBefore->name, distAfter->name) != 0)
		{
			Oid			argTypes[2] = {OIDOID, TEXTOID};
			Datum		args[2];

			args[0] = ObjectIdGetDatum(before->relid);
			args[1] = CStringGetTextDatum(distAfter->name);
			ExecuteCatalogSql("UPDATE shardext.tables SET distribution_column = $2 "
							  "WHERE table_name::oid = $1", 2, argTypes, args, NULL);
		}
	}
	CheckTableStaysDistributable(before->relid, table->distAttno,
								 IsSingleShardTable(table) ? 'n' :
								 table->type == DIST_RANGE ? 'r' :
								 table->type == DIST_DIRECTORY ? 'd' : 'h');
	CheckForeignKeys(before->relid);
	before->after = after;
}

/*
 * PropagateShapeChanges applies to every shard the difference between the
 * shapes of tables before a statement (TableShape *) and their shapes now,
 * after checking that they can stay distributed: first the foreign keys
 * that went away on every table, then every other change table by table,
 * then the new foreign keys.
 */
void
PropagateShapeChanges(List *shapes)
{
	ListCell   *lc;
	int			i;

	foreach(lc, shapes)
		CheckShapeChange(lfirst(lc));

	foreach(lc, shapes)
	{
		TableShape *before = lfirst(lc);
		ShardextTable *table = ShardextGetTable(before->relid);

		if (before->after == NULL)
			continue;
		for (i = 0; i < table->shardCount; i++)
			DropForeignKeysOfShard(before, table, table->shards[i]);
	}

	foreach(lc, shapes)
	{
		TableShape *before = lfirst(lc);
		ShardextTable *table = ShardextGetTable(before->relid);

		if (before->after == NULL)
			continue;
		for (i = 0; i < table->shardCount; i++)
		{
			ShardextShard *shard = table->shards[i];
			char	   *newName;
			List	   *later = NIL;
			List	   *commands = ShardCommands(before, before->after, &later,
												 shard, &newName);
			ListCell   *cc;

			RunOnShardPlacements(before, table, shard, commands, false);
			foreach(cc, NewCoordinatorDefaultColumns(before, before->after))
				FillNewColumn(table, shard, newName, lfirst(cc));
			RunOnShardPlacements(before, table, shard, later, false);
			if (strcmp(newName, shard->relationName) != 0)
				UpdateShardRelation(shard->shardId, newName);
			before->after->shardNames = lappend(before->after->shardNames,
												newName);
		}
		if (UsesNewUserTypes(before, before->after))
			CreateColumnTypesOnOtherNodes(before->relid, TablePlacementNodes(table));
	}

	foreach(lc, shapes)
	{
		TableShape *before = lfirst(lc);
		ShardextTable *table = ShardextGetTable(before->relid);

		if (before->after == NULL)
			continue;
		for (i = 0; i < table->shardCount; i++)
			RunOnShardPlacements(before, table, table->shards[i],
								 ForeignKeyCommands(before, before->after,
													table->shards[i],
													list_nth(before->after->shardNames, i),
													true),
								 false);
	}
}

/*
 * UsesNewUserTypes tells whether a change gave a column a type that is not
 * built in (an enum, domain or composite type, or an array of one).
 */
static bool
UsesNewUserTypes(TableShape *before, TableShape *after)
{
	int			i;

	for (i = 0; i < after->natts; i++)
	{
		ColumnShape *new = &after->columns[i];
		ColumnShape *old = (i < before->natts) ? &before->columns[i] : NULL;

		if (!new->dropped && new->typid >= FirstNormalObjectId &&
			(old == NULL || old->dropped || old->typid != new->typid))
			return true;
	}
	return false;
}

/*
 * NewCoordinatorDefaultColumns returns the columns (ColumnShape *) a change
 * added whose default only the coordinator can compute (a sequence, an
 * identity).
 */
static List *
NewCoordinatorDefaultColumns(TableShape *before, TableShape *after)
{
	List	   *columns = NIL;
	int			i;

	for (i = 0; i < after->natts; i++)
	{
		ColumnShape *new = &after->columns[i];

		if (!new->dropped && (new->coordinatorDefault || new->fillHere) &&
			(i >= before->natts || before->columns[i].dropped))
			columns = lappend(columns, new);
	}
	return columns;
}

/*
 * FillNewColumn gives the rows of a shard (named shardName) a value of a
 * column just added whose default only the coordinator can compute: the
 * default is evaluated here once per row and the values sent as an array,
 * then the column gets its NOT NULL.  The copies of a reference table
 * would need the same value for the same row: refused when they have rows.
 */
static void
FillNewColumn(ShardextTable *table, ShardextShard *shard, const char *shardName,
			  ColumnShape *column)
{
	const char *columnName = quote_identifier(column->name);
	ListCell   *nodeCell;

	foreach(nodeCell, shard->placementNodeIds)
	{
		NodeConnection *nc = GetNodeConnectionInTransaction(lfirst_int(nodeCell), true);
		PGresult   *res = RemoteExecute(nc, psprintf("SELECT count(*) FROM %s", shardName),
										0, NULL);
		int64		rows = pg_strtoint64(PQgetvalue(res, 0, 0));

		PQclear(res);
		if (rows > 0 && list_length(shard->placementNodeIds) > 1 &&
			column->coordinatorDefault)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot add column \"%s\" with a default that is not immutable to reference table \"%s\", which has rows",
							column->name, get_rel_name(table->relid)),
					 errdetail("A sequence, identity or function such as now() would have to give "
							   "every copy of a row the same value."),
					 errhint("Add a plain column, fill it with UPDATE, then set the default.")));
		if (rows > 0)
		{
			Relation	rel = table_open(table->relid, NoLock);
			Node	   *def = build_column_default(rel, column->attnum);
			ExprState  *state;
			ExprContext *econtext = CreateStandaloneExprContext();
			Oid			outputFunction;
			bool		isVarlena;
			Datum	   *texts = palloc(sizeof(Datum) * rows);
			bool	   *nulls = palloc(sizeof(bool) * rows);
			int			dims[1];
			int			lbs[1] = {1};
			const char *params[1];
			FmgrInfo	output;
			int64		r;

			getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), column->attnum - 1)->atttypid,
							  &outputFunction, &isVarlena);
			fmgr_info(outputFunction, &output);
			state = ExecInitExpr(expression_planner((Expr *) def), NULL);
			for (r = 0; r < rows; r++)
			{
				bool		isNull;
				Datum		value = ExecEvalExprSwitchContext(state, econtext, &isNull);

				nulls[r] = isNull;
				texts[r] = isNull ? (Datum) 0 :
					CStringGetTextDatum(ExactOutputFunctionCall(&output, value));
				ResetExprContext(econtext);
			}
			FreeExprContext(econtext, true);
			table_close(rel, NoLock);
			dims[0] = (int) rows;
			params[0] = OidOutputFunctionCall(F_ARRAY_OUT,
											  PointerGetDatum(construct_md_array(texts, nulls, 1, dims, lbs,
																				 TEXTOID, -1, false,
																				 TYPALIGN_INT)));
			res = RemoteExecute(nc, psprintf("UPDATE %s AS s SET %s = v.value::%s "
											 "FROM (SELECT ctid AS c, row_number() OVER () AS n FROM %s) r "
											 "JOIN unnest($1::text[]) WITH ORDINALITY AS v(value, n) USING (n) "
											 "WHERE s.ctid = r.c",
											 shardName, columnName, column->type, shardName),
								1, params);
			PQclear(res);
		}
		if (column->notNull)
			RemoteExecuteCommand(nc, psprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL",
											  shardName, columnName));
	}
}
