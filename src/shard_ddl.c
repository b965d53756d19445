/*-------------------------------------------------------------------------
 *
 * shard_ddl.c
 *	  Checking that a table can be distributed, and the DDL of its shards.
 *
 * A shard is an ordinary table on a worker, a stock PostgreSQL server that
 * only has built-in types, functions, operators and collations, and the
 * enum types and domains shardext creates there (node_types.c).  So a table
 * can only be distributed when everything its shards need is one of those
 * (CheckTableDistributable), and the DDL of a shard is generated so that it
 * names nothing else (ShardCreateCommands): expressions are deparsed with
 * search_path = pg_catalog, so that any name outside pg_catalog comes out
 * schema-qualified and the text means the same on every server.
 *
 * The coordinator evaluates defaults, identity columns and sequences before
 * rows reach a shard, so a shard only gets the defaults a worker can
 * evaluate (for rows written there directly) and never an identity or a
 * sequence.  Constraints and indexes that live in a schema-wide namespace
 * (primary keys, unique constraints, indexes) get the shard ID appended to
 * their names, so that the shards of a table can share a worker schema.
 *
 * IsShippableExpression is the single test of "a worker can evaluate this",
 * shared with query pushdown: it accepts only node types it knows, and only
 * objects with OIDs below FirstNormalObjectId (those initdb creates), but
 * for the types of IsNodeType.
 *
 * IDENTIFICATION
 *	  src/shard_ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/toast_compression.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/partition.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/fmgrtab.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "shardext/metadata_cache.h"
#include "shardext/deparse.h"
#include "shardext/node_types.h"
#include "shardext/shard_ddl.h"

static char *ShardNameUnquoted(const char *name, int64 shardId);
static bool IsUserObject(Oid objectId);
static Oid	RelationAccessMethod(Oid relid);
static void CheckRelationKind(Relation rel, const char *tableName);
static void CheckInheritance(Relation rel, const char *tableName);
static void CheckColumns(Relation rel, const char *tableName);
static void CheckDistributionColumn(Relation rel, const char *tableName,
									AttrNumber distAttno, char method);
static void CheckConstraints(Relation rel, const char *tableName);
static void CheckStyleOfNodeExpression(Node *expr, const char *tableName,
									   const char *what);
static bool SessionStyleWalker(Node *node, void *context);
static bool WritesInStyles(Node *node, bool dates, bool floats,
						   bool readsIntervals);
static bool IsTableRowType(Oid typid);
static void CheckReferencingForeignKeys(Relation rel, const char *tableName);
static void CheckIndex(Relation rel, Oid indexOid, const char *tableName,
					   AttrNumber distAttno, char method);
static void CheckIndexes(Relation rel, const char *tableName,
						 AttrNumber distAttno, char method);
static void CheckTriggers(Relation rel, const char *tableName);
static Node *ColumnDefaultExpression(Relation rel, AttrNumber attnum);
static char *QualifiedCollationName(Oid collationId);
static char *CreateTableCommand(Relation rel, const char *shardName);
static char *ColumnSettingsCommand(Relation rel, const char *shardName);
static const char *StorageName(char storage);
static char *PrivilegeCommand(Relation rel, const char *shardName);
static void AppendOwnerHandover(StringInfo body, const char *condition,
								const char *currentOwner,
								const char *object, Oid ownerId);
static void AppendAclGrants(StringInfo body, Datum aclDatum, Oid ownerId,
							const char *object, const char *column);
static List *ConstraintCommands(Relation rel, const char *shardName,
								int64 shardId);
static List *IndexCommands(Relation rel, const char *shardName,
						   int64 shardId);
static bool NotShippableWalker(Node *node, void *context);
static bool IsShippableOperator(Oid operatorId);

/*
 * Whether a plan made since the styles last changed sends an expression
 * that writes values as text in the nodes' styles (WritesInSessionStyle).
 */
bool		PlansSendStyledValues = false;

/*
 * ShardNameUnquoted returns "<name>_<shardId>" when that fits in
 * NAMEDATALEN - 1 bytes.  Otherwise it returns "<prefix>_<hash>_<shardId>",
 * where prefix is name cut on a character boundary to make the whole fit and
 * hash is 8 hex digits of a hash of the full name: two long names that
 * begin alike (such as a long table name and its "..._pkey") must not get
 * the same shard name.
 */
static char *
ShardNameUnquoted(const char *name, int64 shardId)
{
	char		suffix[32];
	int			nameLength = strlen(name);
	int			maxPrefixLength;
	uint32		nameHash;

	snprintf(suffix, sizeof(suffix), "_" INT64_FORMAT, shardId);
	if (nameLength + strlen(suffix) <= NAMEDATALEN - 1)
		return psprintf("%s%s", name, suffix);

	nameHash = hash_bytes((const unsigned char *) name, nameLength);
	maxPrefixLength = NAMEDATALEN - 1 - strlen(suffix) - 9;
	return psprintf("%.*s_%08x%s",
					pg_mbcliplen(name, nameLength, maxPrefixLength), name,
					nameHash, suffix);
}

/*
 * LogicalObjectName returns the name, on the coordinator, of the table relid
 * or of one of its indexes or constraints whose name on shard shardId is
 * shardName (unquoted), or NULL: a node's messages name shard objects, which
 * long names make unrecognizable (their names are cut and hashed).
 */
char *
LogicalObjectName(Oid relid, int64 shardId, const char *shardName)
{
	Relation	rel;
	Relation	constraints;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	ListCell   *lc;
	char	   *result = NULL;
	char	   *relationName = get_rel_name(relid);

	if (relationName == NULL)
		return NULL;
	if (strcmp(ShardNameUnquoted(relationName, shardId), shardName) == 0)
		return relationName;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return NULL;
	foreach(lc, RelationGetIndexList(rel))
	{
		char	   *indexName = get_rel_name(lfirst_oid(lc));

		if (indexName != NULL &&
			strcmp(ShardNameUnquoted(indexName, shardId), shardName) == 0)
			result = indexName;
	}
	relation_close(rel, AccessShareLock);
	if (result != NULL)
		return result;

	constraints = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(constraints, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (result == NULL && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		char	   *name = NameStr(((Form_pg_constraint) GETSTRUCT(tuple))->conname);

		if (strcmp(ShardNameUnquoted(name, shardId), shardName) == 0)
			result = pstrdup(name);
	}
	systable_endscan(scan);
	table_close(constraints, AccessShareLock);
	return result;
}

/*
 * ShardObjectNameUnquoted returns ShardObjectName's name unquoted (for
 * catalog lookups).
 */
char *
ShardObjectNameUnquoted(const char *name, int64 shardId)
{
	return ShardNameUnquoted(name, shardId);
}

/*
 * ShardObjectName returns the quoted name that object (an index or an
 * index-backed constraint) called name gets on shard shardId:
 * "<name>_<shardId>", or, when that would not fit in an identifier, name
 * truncated and followed by a hash of it (see ShardNameUnquoted).
 */
char *
ShardObjectName(const char *name, int64 shardId)
{
	return pstrdup(quote_identifier(ShardNameUnquoted(name, shardId)));
}

/*
 * ShardTableName returns the schema-qualified, quoted name of shard shardId
 * of table relid: it lives in the schema of the same name as the table's,
 * and is named like ShardObjectName names objects.
 */
char *
ShardTableName(Oid relid, int64 shardId)
{
	char	   *relationName = get_rel_name(relid);

	if (relationName == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  ShardNameUnquoted(relationName, shardId));
}

/*
 * IsUserObject tells whether a catalog object was created after initdb, so
 * that a stock worker does not have it.
 */
static bool
IsUserObject(Oid objectId)
{
	return objectId >= FirstNormalObjectId;
}

/*
 * RelationAccessMethod returns the access method of a relation (of an index,
 * here).
 */
static Oid
RelationAccessMethod(Oid relid)
{
	HeapTuple	classTuple;
	Oid			accessMethod;

	classTuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(classTuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	accessMethod = ((Form_pg_class) GETSTRUCT(classTuple))->relam;
	ReleaseSysCache(classTuple);
	return accessMethod;
}

/*
 * Set while CheckTableStaysDistributable checks a distributed table after a
 * statement changed it: the messages then speak of the change.
 */
static bool CheckingChange = false;

/* ... and the kind of that table ("distributed", "reference", "federated") */
static const char *CheckingKind = "distributed";

/* NotDistributable begins a message saying why a table cannot be distributed. */
static char *
NotDistributable(const char *tableName)
{
	if (CheckingChange)
		return psprintf("cannot change %s table %s", CheckingKind, tableName);
	return psprintf("cannot distribute table %s", tableName);
}

/* BeforeDistributing ends a hint saying what to do first. */
static const char *
BeforeDistributing(void)
{
	return CheckingChange ? "" : " before distributing the table";
}

/*
 * CheckTableStaysDistributable is CheckTableDistributable for a distributed
 * table that a statement changed.
 */
void
CheckTableStaysDistributable(Oid relid, AttrNumber distAttno, char method)
{
	CheckingChange = true;
	CheckingKind = TableKindName(ShardextGetTable(relid));
	PG_TRY();
	{
		CheckTableDistributable(relid, distAttno, method);
	}
	PG_FINALLY();
	{
		CheckingChange = false;
		CheckingKind = "distributed";
	}
	PG_END_TRY();
}

/*
 * CheckTableDistributable raises an error, saying why and what to do, unless
 * table relid can be distributed with method ('h' hash, 'r' range, 'd'
 * directory, or 'n' for
 * tables without a distribution column, with distAttno InvalidAttrNumber)
 * on column distAttno.  It takes AccessShareLock on the table, kept until the
 * end of the transaction.
 */
void
CheckTableDistributable(Oid relid, AttrNumber distAttno, char method)
{
	Relation	rel;
	char	   *tableName;

	if (method != 'h' && method != 'r' && method != 'd' && method != 'n')
		elog(ERROR, "unrecognized distribution method \"%c\"", method);
	if ((method == 'n') != (distAttno == InvalidAttrNumber))
		elog(ERROR, "distribution method \"%c\" does not match column %d",
			 method, distAttno);

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	tableName = RelationQualifiedName(relid);

	CheckRelationKind(rel, tableName);
	CheckInheritance(rel, tableName);
	CheckColumns(rel, tableName);
	if (method != 'n')
		CheckDistributionColumn(rel, tableName, distAttno, method);
	CheckConstraints(rel, tableName);
	CheckReferencingForeignKeys(rel, tableName);
	CheckIndexes(rel, tableName, distAttno, method);
	CheckTriggers(rel, tableName);

	if (rel->rd_rel->relrowsecurity && CheckingChange)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable row level security on table %s", tableName),
				 errdetail("The table is a %s table; row level security policies are not enforced on shards.",
						   CheckingKind)));
	if (rel->rd_rel->relrowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because it has row level security enabled",
						NotDistributable(tableName)),
				 errdetail("Row level security policies are not enforced on shards."),
				 errhint("Disable it with ALTER TABLE %s DISABLE ROW LEVEL SECURITY%s.",
						 tableName, BeforeDistributing())));

	relation_close(rel, NoLock);
}

/*
 * CheckRelationKind raises an error unless rel is an ordinary, permanent or
 * unlogged, table.
 */
static void
CheckRelationKind(Relation rel, const char *tableName)
{
	char		relkind = rel->rd_rel->relkind;

	if (relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute partitioned table %s", tableName),
				 errdetail("Partitioned tables cannot be distributed yet."),
				 errhint("Distribute a table that is not partitioned.")));
	if (relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot distribute relation %s because it is not a table",
						tableName),
				 errdetail_relkind_not_supported(relkind),
				 (relkind == RELKIND_VIEW || relkind == RELKIND_MATVIEW) ?
				 errhint("Distribute the tables it reads instead.") :
				 errhint("Only ordinary tables can be distributed.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute temporary table %s", tableName),
				 errdetail("A temporary table is only visible to one session of the coordinator."),
				 errhint("Distribute an ordinary or unlogged table instead.")));
	if (OidIsValid(rel->rd_rel->reloftype))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because it is a typed table (of type %s)",
						NotDistributable(tableName), format_type_be(rel->rd_rel->reloftype)),
				 errdetail("ALTER TYPE ... CASCADE would change the table without its shards."),
				 errhint("Make it an ordinary table with ALTER TABLE %s NOT OF%s.",
						 tableName, BeforeDistributing())));
}

/*
 * CheckInheritance raises an error if rel is a partition, or inherits from
 * a table, or a table inherits from it: shards would not keep the hierarchy.
 */
static void
CheckInheritance(Relation rel, const char *tableName)
{
	Oid			relid = RelationGetRelid(rel);
	Relation	inheritsRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			parentOid = InvalidOid;
	List	   *children;

	if (rel->rd_rel->relispartition)
	{
		char	   *parentName = RelationQualifiedName(get_partition_parent(relid,
																			true));

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because it is a partition of %s",
						NotDistributable(tableName), parentName),
				 errhint("Detach it with ALTER TABLE %s DETACH PARTITION %s%s.",
						 parentName, tableName, BeforeDistributing())));
	}

	inheritsRel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(inheritsRel, InheritsRelidSeqnoIndexId, true,
							  NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		parentOid = ((Form_pg_inherits) GETSTRUCT(tuple))->inhparent;
	systable_endscan(scan);
	table_close(inheritsRel, AccessShareLock);

	if (OidIsValid(parentOid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because it inherits from table %s",
						NotDistributable(tableName), RelationQualifiedName(parentOid)),
				 errhint("Remove the inheritance with ALTER TABLE %s NO INHERIT %s%s.",
						 tableName, RelationQualifiedName(parentOid), BeforeDistributing())));

	children = find_inheritance_children(relid, NoLock);
	if (children != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because table %s inherits from it",
						NotDistributable(tableName), RelationQualifiedName(linitial_oid(children))),
				 errhint("Remove the inheritance with ALTER TABLE %s NO INHERIT %s%s.",
						 RelationQualifiedName(linitial_oid(children)),
						 tableName, BeforeDistributing())));
}

/*
 * CheckColumns raises an error if a column has a type or collation that is
 * not built in, or is a generated column whose expression a worker cannot
 * evaluate.
 */
static void
CheckColumns(Relation rel, const char *tableName)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i);
		const char *columnName = quote_identifier(NameStr(attr->attname));

		if (attr->attisdropped)
			continue;
		if (!IsNodeType(attr->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because column %s has type %s, which the nodes cannot have",
							NotDistributable(tableName), columnName,
							format_type_be(attr->atttypid)),
					 IsTableRowType(attr->atttypid) ?
					 errdetail("It is the row type of table %s, which the nodes do not have.",
							   format_type_be(attr->atttypid)) :
					 errdetail("Nodes have PostgreSQL's built-in types, and the enums, domains (of "
							   "built-in functions) and composite types that shardext creates there."),
					 errhint("Change the type of column %s to %s%s.", columnName,
							 IsTableRowType(attr->atttypid) ?
							 "a composite type of its own (CREATE TYPE ... AS)" : "one of those",
							 BeforeDistributing())));
		if (IsObjectReferenceType(attr->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because column %s has type %s",
							NotDistributable(tableName), columnName,
							format_type_be(attr->atttypid)),
					 errdetail("Its values are OIDs of objects of the coordinator, which are "
							   "other objects, or none, on the nodes."),
					 errhint("Change the type of column %s to text (the object's name) or oid%s.",
							 columnName, BeforeDistributing())));
		if (IsUserObject(attr->attcollation))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because column %s has collation %s, which is not built in",
							NotDistributable(tableName), columnName,
							QualifiedCollationName(attr->attcollation)),
					 errdetail("Workers only have the collations created by initdb."),
					 errhint("Change the collation of column %s to a built-in collation%s.",
							 columnName, BeforeDistributing())));
		if (attr->attgenerated == ATTRIBUTE_GENERATED_STORED)
			CheckStyleOfNodeExpression(ColumnDefaultExpression(rel, attr->attnum),
									   tableName,
									   psprintf("generated column %s", columnName));
		if (attr->attgenerated == ATTRIBUTE_GENERATED_STORED &&
			!IsShippableExpression(ColumnDefaultExpression(rel, attr->attnum)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because generated column %s uses objects that are not built in",
							NotDistributable(tableName), columnName),
					 errdetail("Workers only have the built-in functions, operators and types of PostgreSQL, and no sequences."),
					 CheckingChange ?
					 errhint("Define the generated column with built-in functions only.") :
					 errhint("Drop the generated column, or define it with built-in functions "
							 "only, before distributing the table.")));
	}
}

/* IsTableRowType tells whether a type is the row type of a table. */
static bool
IsTableRowType(Oid typid)
{
	return get_typtype(typid) == TYPTYPE_COMPOSITE &&
		get_rel_relkind(get_typ_typrelid(typid)) != RELKIND_COMPOSITE_TYPE;
}

/*
 * CheckStyleOfNodeExpression raises an error if what (a generated column or
 * a CHECK constraint of table tableName), which the nodes compute, writes
 * dates, times, intervals or floats as text in this session's style, which
 * the nodes do not share (WritesInSessionStyle): they write ISO dates,
 * postgres intervals and floats with all their digits.
 */
static void
CheckStyleOfNodeExpression(Node *expr, const char *tableName, const char *what)
{
	if (ExpressionWritesInSessionStyle(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because %s writes dates, times or floats as text in this session's style",
						NotDistributable(tableName), what),
				 errdetail("The nodes compute it, writing dates and times in ISO style, intervals "
						   "in postgres style and floats with all their digits, while this session's "
						   "DateStyle, IntervalStyle or extra_float_digits differ."),
				 errhint("Run the statement with DateStyle ISO, IntervalStyle postgres and "
						 "extra_float_digits 1 (the defaults).")));
}

/*
 * CheckSessionStyleOfWrites raises an error when rows written into
 * distributed table relid in this session would be checked or computed by
 * the nodes other than here: a generated column or CHECK constraint writes
 * dates, times or floats as text, and this session's DateStyle,
 * IntervalStyle or extra_float_digits differ from the nodes' (the table was
 * distributed, or the expression added, in a session with the usual
 * settings).  Costs nothing with the usual settings.
 */
void
CheckSessionStyleOfWrites(Oid relid)
{
	Relation	rel;
	TupleConstr *constr;
	const char *what = NULL;
	int			i;

	if (DateStyle == USE_ISO_DATES && IntervalStyle == INTSTYLE_POSTGRES &&
		extra_float_digits >= 1)
		return;
	rel = relation_open(relid, AccessShareLock);
	constr = RelationGetDescr(rel)->constr;
	for (i = 0; constr != NULL && what == NULL && i < constr->num_check; i++)
		if (ExpressionWritesInSessionStyle(stringToNode(constr->check[i].ccbin)))
			what = psprintf("check constraint %s",
							quote_identifier(constr->check[i].ccname));
	for (i = 0; constr != NULL && what == NULL && i < constr->num_defval; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel),
											   constr->defval[i].adnum - 1);

		if (attr->attgenerated == ATTRIBUTE_GENERATED_STORED &&
			ExpressionWritesInSessionStyle(stringToNode(constr->defval[i].adbin)))
			what = psprintf("generated column %s",
							quote_identifier(NameStr(attr->attname)));
	}
	if (what != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot write rows into table %s in this session because %s writes dates, times or floats as text",
						RelationQualifiedName(relid), what),
				 errdetail("The nodes compute it, writing dates and times in ISO style, intervals "
						   "in postgres style and floats with all their digits, while this session's "
						   "DateStyle, IntervalStyle or extra_float_digits differ."),
				 errhint("Write the rows with DateStyle ISO, IntervalStyle postgres and "
						 "extra_float_digits 1 (the defaults).")));
	relation_close(rel, NoLock);
}

/*
 * CheckDistributionColumn raises an error unless distAttno is a column that
 * can distribute rel with method 'h' (hash), 'r' (range) or 'd' (directory).
 */
static void
CheckDistributionColumn(Relation rel, const char *tableName,
						AttrNumber distAttno, char method)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	Form_pg_attribute attr;
	const char *columnName;
	TypeCacheEntry *typeEntry;

	if (distAttno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s by a system column",
						NotDistributable(tableName)),
				 errhint("Choose one of the table's own columns.")));
	if (distAttno == 0 || distAttno > tupleDesc->natts ||
		TupleDescAttr(tupleDesc, distAttno - 1)->attisdropped)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column %d of table %s does not exist",
						distAttno, tableName)));

	attr = TupleDescAttr(tupleDesc, distAttno - 1);
	columnName = quote_identifier(NameStr(attr->attname));

	if (attr->attgenerated)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s by generated column %s",
						NotDistributable(tableName), columnName),
				 errhint("Choose a column that is not generated.")));

	if (method == 'h' && TypeHashesByOid(attr->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot hash-distribute table %s by column %s",
						tableName, columnName),
				 errdetail("Type %s is an enum, or built on one: the hash of an enum value "
						   "is that of its OID, which a dump and restore changes.",
						   format_type_be(attr->atttypid)),
				 errhint("Choose another distribution column, or use range distribution.")));
	if (method == 'h' || method == 'd')
	{
		typeEntry = lookup_type_cache(attr->atttypid,
									  TYPECACHE_HASH_EXTENDED_PROC);
		if (!OidIsValid(typeEntry->hash_extended_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("cannot %s-distribute table %s by column %s",
							method == 'd' ? "directory" : "hash", tableName, columnName),
					 errdetail("Type %s has no default hash operator class with an extended hash function.",
							   format_type_be(attr->atttypid)),
					 errhint(method == 'd' ? "Choose another distribution column." :
							 "Choose another distribution column, or use range distribution.")));
	}
	else
	{
		typeEntry = lookup_type_cache(attr->atttypid, TYPECACHE_CMP_PROC);
		if (!OidIsValid(typeEntry->cmp_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("cannot range-distribute table %s by column %s",
							tableName, columnName),
					 errdetail("Type %s has no default btree operator class.",
							   format_type_be(attr->atttypid)),
					 errhint("Choose another distribution column, or use hash distribution.")));
	}
}

/*
 * CheckConstraints raises an error if rel has a foreign key to a local
 * table, an exclusion
 * constraint, or a CHECK constraint that a worker cannot evaluate.  Primary
 * keys and unique constraints are checked with their indexes.
 */
static void
CheckConstraints(Relation rel, const char *tableName)
{
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);
		const char *constraintName = quote_identifier(NameStr(constraint->conname));

		/*
		 * A foreign key to itself or to a distributed table may hold between
		 * shards; CheckForeignKeys tells once the table's shards are known.
		 */
		if (constraint->contype == CONSTRAINT_FOREIGN &&
			constraint->confrelid != RelationGetRelid(rel) &&
			ShardextGetTable(constraint->confrelid) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because its foreign key %s references local table %s",
							NotDistributable(tableName), constraintName,
							RelationQualifiedName(constraint->confrelid)),
					 errdetail("The shards are on the nodes, which cannot see the rows of a local table."),
					 CheckingChange && strcmp(CheckingKind, "distributed") != 0 ?
					 errhint("First make %s a reference table.",
							 RelationQualifiedName(constraint->confrelid)) :
					 CheckingChange ?
					 errhint("First make %s a reference table or a distributed table "
							 "to co-locate with.",
							 RelationQualifiedName(constraint->confrelid)) :
					 errhint("Drop the foreign key%s, or first make %s a reference table or "
							 "a distributed table to co-locate with.",
							 BeforeDistributing(),
							 RelationQualifiedName(constraint->confrelid))));
		if (constraint->contype == CONSTRAINT_EXCLUSION)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because it has exclusion constraint %s",
							NotDistributable(tableName), constraintName),
					 CheckingChange && strcmp(CheckingKind, "distributed") != 0 ?
					 errdetail("shardext does not make exclusion constraints on the nodes.") :
					 errdetail("Exclusion constraints are not enforced between shards."),
					 CheckingChange ? 0 :
					 errhint("Drop the exclusion constraint%s.", BeforeDistributing())));
		if (constraint->contype == CONSTRAINT_CHECK)
		{
			bool		isNull;
			Datum		conbin = heap_getattr(tuple, Anum_pg_constraint_conbin,
											  RelationGetDescr(constraintRel),
											  &isNull);

			if (isNull)
				elog(ERROR, "null conbin for constraint %u",
					 constraint->oid);
			CheckStyleOfNodeExpression(stringToNode(TextDatumGetCString(conbin)),
									   tableName,
									   psprintf("check constraint %s", constraintName));
			if (!IsShippableExpression(stringToNode(TextDatumGetCString(conbin))))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("%s because check constraint %s uses objects that are not built in",
								NotDistributable(tableName), constraintName),
						 errdetail("Workers only have the built-in functions, operators and types of PostgreSQL, and no sequences."),
						 CheckingChange ?
						 errhint("Write the constraint with built-in functions and operators only.") :
						 errhint("Drop the constraint%s.", BeforeDistributing())));
		}
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);
}

/*
 * CheckReferencingForeignKeys raises an error if a foreign key of a local
 * table references rel (pg_constraint has no index on confrelid: this scans
 * it whole, which is fine for a one-time check).
 */
static void
CheckReferencingForeignKeys(Relation rel, const char *tableName)
{
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_confrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(constraintRel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);

		/* distributed tables referencing it are checked by CheckForeignKeys */
		if (constraint->contype != CONSTRAINT_FOREIGN ||
			constraint->conrelid == RelationGetRelid(rel) ||
			ShardextGetTable(constraint->conrelid) != NULL)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because foreign key %s of table %s references it",
						NotDistributable(tableName),
						quote_identifier(NameStr(constraint->conname)),
						RelationQualifiedName(constraint->conrelid)),
				 errdetail("Rows of a distributed table are deleted and updated on the nodes, "
						   "which cannot check the local rows that reference them."),
				 errhint("Drop the foreign key%s; distribute both tables, then add it again.",
						 BeforeDistributing())));
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);
}

/*
 * CheckIndexes checks every valid index of rel with CheckIndex.  Exclusion
 * constraints are reported by CheckConstraints.
 */
static void
CheckIndexes(Relation rel, const char *tableName, AttrNumber distAttno,
			 char method)
{
	ListCell   *cell;

	/* an index a failed CREATE INDEX CONCURRENTLY left binds nothing */
	foreach(cell, RelationGetIndexList(rel))
		if (get_index_isvalid(lfirst_oid(cell)))
			CheckIndex(rel, lfirst_oid(cell), tableName, distAttno, method);
}

/*
 * CheckIndex raises an error if a unique index (or the index of a primary
 * key or unique constraint) of rel does not have the distribution column
 * among its key columns, so that shards could not enforce it, or if the
 * index uses an access method, operator class, collation or expression a
 * worker does not have.
 */
static void
CheckIndex(Relation rel, Oid indexOid, const char *tableName,
		   AttrNumber distAttno, char method)
{
	HeapTuple	indexTuple;
	Form_pg_index indexForm;
	Oid			constraintOid = get_index_constraint(indexOid);
	char	   *indexDescription;
	Datum		datum;
	bool		isNull;
	oidvector  *opclasses;
	oidvector  *collations;
	Node	   *expressions = NULL;
	Node	   *predicate = NULL;
	const char *problem = NULL;
	int			i;

	if (OidIsValid(constraintOid))
		indexDescription = psprintf("constraint %s",
									quote_identifier(get_constraint_name(constraintOid)));
	else
		indexDescription = psprintf("index %s",
									quote_identifier(get_rel_name(indexOid)));

	indexTuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexOid));
	if (!HeapTupleIsValid(indexTuple))
		elog(ERROR, "cache lookup failed for index %u", indexOid);
	indexForm = (Form_pg_index) GETSTRUCT(indexTuple);

	if (indexForm->indisunique && method != 'n')
	{
		bool		hasDistColumn = false;

		for (i = 0; i < indexForm->indnkeyatts; i++)
			if (indexForm->indkey.values[i] == distAttno)
				hasDistColumn = true;
		if (!hasDistColumn)
		{
			const char *columnName =
			quote_identifier(get_attname(RelationGetRelid(rel),
										 distAttno, false));

			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s because %s does not include distribution column %s",
							NotDistributable(tableName), indexDescription, columnName),
					 errdetail("Shards can only enforce uniqueness when rows with equal keys are in the same shard."),
					 errhint("Add column %s to the key of %s%s.",
							 columnName, indexDescription, BeforeDistributing())));
		}
	}

	datum = SysCacheGetAttr(INDEXRELID, indexTuple,
							Anum_pg_index_indclass, &isNull);
	Assert(!isNull);
	opclasses = (oidvector *) DatumGetPointer(datum);
	datum = SysCacheGetAttr(INDEXRELID, indexTuple,
							Anum_pg_index_indcollation, &isNull);
	Assert(!isNull);
	collations = (oidvector *) DatumGetPointer(datum);
	datum = SysCacheGetAttr(INDEXRELID, indexTuple,
							Anum_pg_index_indexprs, &isNull);
	if (!isNull)
		expressions = stringToNode(TextDatumGetCString(datum));
	datum = SysCacheGetAttr(INDEXRELID, indexTuple,
							Anum_pg_index_indpred, &isNull);
	if (!isNull)
		predicate = stringToNode(TextDatumGetCString(datum));

	if (IsUserObject(RelationAccessMethod(indexOid)))
		problem = "an access method";
	for (i = 0; i < opclasses->dim1 && problem == NULL; i++)
		if (IsUserObject(opclasses->values[i]))
			problem = "an operator class";
	for (i = 0; i < collations->dim1 && problem == NULL; i++)
		if (IsUserObject(collations->values[i]))
			problem = "a collation";
	if (problem == NULL &&
		(!IsShippableExpression(expressions) ||
		 !IsShippableExpression(predicate)))
		problem = "a function, operator or type";
	ReleaseSysCache(indexTuple);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because %s uses %s that is not built in",
						NotDistributable(tableName), indexDescription, problem),
				 errdetail("Workers only have the built-in objects of PostgreSQL."),
				 CheckingChange ?
				 errhint("Use built-in access methods, operator classes, collations and functions only.") :
				 errhint("Drop %s%s.",
						 indexDescription, BeforeDistributing())));
}

/*
 * CheckNewIndex checks, as for a changed distributed table, that shards can
 * have the new index indexOid of distributed table relid (valid or not).
 */
void
CheckNewIndex(Oid relid, Oid indexOid, AttrNumber distAttno, char method)
{
	Relation	rel = relation_open(relid, AccessShareLock);

	CheckingChange = true;
	CheckingKind = TableKindName(ShardextGetTable(relid));
	PG_TRY();
	{
		CheckIndex(rel, indexOid, RelationQualifiedName(relid), distAttno, method);
	}
	PG_FINALLY();
	{
		CheckingChange = false;
		CheckingKind = "distributed";
	}
	PG_END_TRY();
	relation_close(rel, AccessShareLock);
}

/*
 * CheckTriggers raises an error if rel has a user trigger: it would fire on
 * the coordinator's empty table, never on the shards.
 */
static void
CheckTriggers(Relation rel, const char *tableName)
{
	Relation	triggerRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	triggerRel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(triggerRel, TriggerRelidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger trigger = (Form_pg_trigger) GETSTRUCT(tuple);

		if (trigger->tgisinternal)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s because it has trigger %s",
						NotDistributable(tableName), quote_identifier(NameStr(trigger->tgname))),
				 errdetail("Triggers would not fire on the shards."),
				 CheckingChange ? 0 :
				 errhint("Drop the trigger%s.", BeforeDistributing())));
	}
	systable_endscan(scan);
	table_close(triggerRel, AccessShareLock);
}

/*
 * ColumnDefaultExpression returns the default (or generation) expression of
 * column attnum of rel, freshly read from its node string, or NULL.
 */
static Node *
ColumnDefaultExpression(Relation rel, AttrNumber attnum)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	int			i;

	if (constr == NULL)
		return NULL;
	for (i = 0; i < constr->num_defval; i++)
	{
		if (constr->defval[i].adnum == attnum)
			return stringToNode(constr->defval[i].adbin);
	}
	return NULL;
}

/*
 * NodeFillsOmittedColumn tells whether a shard of rel, given a row without
 * column attnum, fills it with the value the coordinator would: the column
 * has no default (nor has its type: NULL on both sides), or its own default
 * is one the shards carry (shippable) and gives the same value wherever and
 * in whatever session it runs.  Such a column, when an INSERT or COPY does
 * not name it, is left out of the statement a node gets, so that the node
 * checks INSERT privilege on the columns the user named, as PostgreSQL does.
 */
bool
NodeFillsOmittedColumn(Relation rel, AttrNumber attnum)
{
	Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Node	   *expr;

	if (attr->attisdropped || attr->attgenerated || attr->attidentity)
		return false;
	if (!attr->atthasdef)
		return build_column_default(rel, attnum) == NULL;
	expr = ColumnDefaultExpression(rel, attnum);
	return expr != NULL && IsShippableExpression(expr) &&
		!contain_mutable_functions(expr) && !ExpressionWritesInSessionStyle(expr);
}

/*
 * QualifiedCollationName returns the schema-qualified, quoted name of a
 * collation.
 */
static char *
QualifiedCollationName(Oid collationId)
{
	HeapTuple	tuple;
	Form_pg_collation collation;
	char	   *result;

	tuple = SearchSysCache1(COLLOID, ObjectIdGetDatum(collationId));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for collation %u", collationId);
	collation = (Form_pg_collation) GETSTRUCT(tuple);
	result = quote_qualified_identifier(get_namespace_name(collation->collnamespace),
										NameStr(collation->collname));
	ReleaseSysCache(tuple);
	return result;
}

/*
 * ReplicaIdentityCommand returns the ALTER TABLE that gives shard shardName
 * (of shard ID shardId) the replica identity identity (relreplident) of its
 * table, with index indexName's shard for REPLICA IDENTITY USING INDEX: what
 * logical replication of the shards from the nodes sends of updated and
 * deleted rows.
 */
char *
ReplicaIdentityCommand(const char *shardName, int64 shardId, char identity,
					   const char *indexName)
{
	const char *clause;

	switch (identity)
	{
		case REPLICA_IDENTITY_FULL:
			clause = "FULL";
			break;
		case REPLICA_IDENTITY_NOTHING:
			clause = "NOTHING";
			break;
		case REPLICA_IDENTITY_INDEX:
			/* (without its index, as PostgreSQL treats it: NOTHING) */
			clause = (indexName != NULL) ?
				psprintf("USING INDEX %s", ShardObjectName(indexName, shardId)) :
				"NOTHING";
			break;
		default:
			clause = "DEFAULT";
			break;
	}
	return psprintf("ALTER TABLE %s REPLICA IDENTITY %s", shardName, clause);
}

/*
 * ShardCreateCommands returns the statements (a List of palloc'd strings)
 * that create shard shardName (schema-qualified and quoted, see
 * ShardTableName) of table relid, with shard ID shardId, on a worker: the
 * schema, the enum types and domains of its columns, the table with its columns, defaults, generated columns and NOT
 * NULLs, its CHECK, primary key and unique constraints, then its other
 * indexes.  Expressions are deparsed under SetDeparseGucs (search path
 * pg_catalog; ISO dates, all float digits, standard strings).
 */
List *
ShardCreateCommands(Oid relid, const char *shardName, int64 shardId)
{
	Relation	rel;
	List	   *commands = NIL;
	char	   *settings;
	int			nestLevel;

	rel = relation_open(relid, AccessShareLock);

	/* constants in the forms a node reads back exactly, whatever the session's */
	nestLevel = SetDeparseGucs();

	commands = lappend(commands, SchemaCreateCommand(RelationGetNamespace(rel)));
	commands = list_concat(commands, ColumnTypeCreateCommands(rel));
	commands = lappend(commands, CreateTableCommand(rel, shardName));
	settings = ColumnSettingsCommand(rel, shardName);
	if (settings != NULL)
		commands = lappend(commands, settings);
	commands = list_concat(commands,
						   ConstraintCommands(rel, shardName, shardId));
	commands = list_concat(commands, IndexCommands(rel, shardName, shardId));
	if (rel->rd_rel->relreplident != REPLICA_IDENTITY_DEFAULT)
		commands = lappend(commands,
						   ReplicaIdentityCommand(shardName, shardId,
												  rel->rd_rel->relreplident,
												  OidIsValid(RelationGetReplicaIndex(rel)) ?
												  get_rel_name(RelationGetReplicaIndex(rel)) :
												  NULL));
	commands = lappend(commands, PrivilegeCommand(rel, shardName));

	PopDeparseGucs(nestLevel);
	relation_close(rel, NoLock);
	return commands;
}

/*
 * SchemaCreateCommand returns the statement that makes sure a node has the
 * schema of a table, created when missing with the coordinator schema's
 * owner where that role exists on the node (and the connection's role may
 * hand it over; an empty schema the node has already is handed over too),
 * and with the privileges the schema has on the coordinator,
 * for the roles that exist on the node (given also to a schema the node
 * already has, where the connection's role may): the roles that may use
 * the table must be able to reach its shards.  On the coordinator itself
 * (node 0, where shardext is installed) the schema is the original and is
 * left alone.
 */
char *
SchemaCreateCommand(Oid namespaceId)
{
	HeapTuple	tuple;
	Form_pg_namespace form;
	const char *name;
	const char *literal;
	StringInfoData body;
	StringInfoData grants;
	Datum		acl;
	bool		isNull;

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(namespaceId));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", namespaceId);
	form = (Form_pg_namespace) GETSTRUCT(tuple);
	name = quote_identifier(pstrdup(NameStr(form->nspname)));
	literal = quote_literal_cstr(NameStr(form->nspname));
	initStringInfo(&grants);
	acl = SysCacheGetAttr(NAMESPACEOID, tuple, Anum_pg_namespace_nspacl, &isNull);
	if (!isNull)
		AppendAclGrants(&grants, acl, form->nspowner,
						psprintf("SCHEMA %s", name), NULL);

	initStringInfo(&body);
	appendStringInfo(&body,
					 "DECLARE created bool := false; fresh bool; grantee oid; BEGIN "
					 "IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'shardext') "
					 "THEN RETURN; END IF; "
					 "IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s) "
					 "THEN EXECUTE %s; created := true; END IF; "
					 "fresh := created OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend "
					 "WHERE refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass "
					 "AND refobjid = (SELECT oid FROM pg_catalog.pg_namespace "
					 "WHERE nspname = %s));",
					 literal, quote_literal_cstr(psprintf("CREATE SCHEMA %s", name)),
					 literal);

	/*
	 * An empty schema the node has already (one a schema renamed or dropped
	 * here left there) is made like a new one: handed to the owner here,
	 * whose tables' shards it gets, and stripped of the privileges it had,
	 * which were another schema's.
	 */
	AppendOwnerHandover(&body, "fresh AND",
						psprintf("(SELECT pg_catalog.pg_get_userbyid(nspowner) FROM "
								 "pg_catalog.pg_namespace WHERE nspname = %s)", literal),
						psprintf("SCHEMA %s", name), form->nspowner);
	appendStringInfo(&body,
					 " IF fresh AND NOT created AND pg_catalog.pg_has_role((SELECT nspowner "
					 "FROM pg_catalog.pg_namespace WHERE nspname = %s), 'USAGE') THEN "
					 "FOR grantee IN SELECT DISTINCT a.grantee FROM pg_catalog.pg_namespace n, "
					 "pg_catalog.aclexplode(n.nspacl) a WHERE n.nspname = %s AND "
					 "a.grantee <> n.nspowner LOOP EXECUTE pg_catalog.format('REVOKE ALL ON "
					 "SCHEMA %%s FROM %%s CASCADE', %s, CASE WHEN grantee = 0 THEN 'PUBLIC' "
					 "ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(grantee)) END); "
					 "END LOOP; END IF;",
					 literal, literal, quote_literal_cstr(name));
	appendStringInfo(&body,
					 " IF pg_catalog.pg_has_role((SELECT nspowner FROM pg_catalog.pg_namespace "
					 "WHERE nspname = %s), 'USAGE') THEN %s END IF; END",
					 literal, grants.data);
	ReleaseSysCache(tuple);
	return DoBlock(body.data);
}

/*
 * PrivilegeCommand returns the statement that gives a new shard the
 * privileges its table has on the coordinator, table and column grants
 * alike, to the roles that exist on the node, and makes the table's owner,
 * where the node has that role and the connection's role may hand the shard
 * over, the shard's owner too: GRANTs and owner changes made before the
 * shard existed reach it this way, later ones are applied to it as they
 * are made.  The owner's own privileges are implied.
 */
static char *
PrivilegeCommand(Relation rel, const char *shardName)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	Oid			ownerId = rel->rd_rel->relowner;
	StringInfoData body;
	HeapTuple	tuple;
	Datum		acl;
	bool		isNull;
	int			i;

	initStringInfo(&body);
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(RelationGetRelid(rel)));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", RelationGetRelid(rel));
	acl = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isNull);
	if (!isNull)
		AppendAclGrants(&body, acl, ownerId, psprintf("TABLE %s", shardName), NULL);
	ReleaseSysCache(tuple);

	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i);

		if (attr->attisdropped)
			continue;
		tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(RelationGetRelid(rel)),
								Int16GetDatum(attr->attnum));
		if (!HeapTupleIsValid(tuple))
			continue;
		acl = SysCacheGetAttr(ATTNUM, tuple, Anum_pg_attribute_attacl, &isNull);
		if (!isNull)
			AppendAclGrants(&body, acl, ownerId, psprintf("TABLE %s", shardName),
							NameStr(attr->attname));
		ReleaseSysCache(tuple);
	}

	AppendOwnerHandover(&body, "", "current_user", psprintf("TABLE %s", shardName),
						ownerId);
	return DoBlock(psprintf("BEGIN %s END", body.data));
}

/*
 * AppendOwnerHandover appends to the body of a DO block the ALTER ... OWNER
 * that makes ownerId's role the owner of object (SQL such as "TABLE name")
 * on a node, when condition (PL/pgSQL, followed by AND; "" for none) holds,
 * the object's owner there (currentOwner, an SQL expression giving the
 * role's name) is another role, the node has the role and the connection's
 * role may hand the object over (it is a member of that role).
 */
static void
AppendOwnerHandover(StringInfo body, const char *condition,
					const char *currentOwner, const char *object, Oid ownerId)
{
	char	   *owner = GetUserNameFromId(ownerId, false);
	const char *literal = quote_literal_cstr(owner);

	appendStringInfo(body,
					 " IF %s %s <> %s AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles "
					 "WHERE rolname = %s) AND pg_catalog.pg_has_role(%s, 'MEMBER') "
					 "THEN EXECUTE %s; END IF;",
					 condition, currentOwner, literal, literal, literal,
					 quote_literal_cstr(psprintf("ALTER %s OWNER TO %s", object,
												 quote_identifier(owner))));
}

/*
 * AppendAclGrants appends to the body of a DO block the GRANTs that give
 * object (SQL such as "TABLE name"; with column, that column of it) the
 * privileges of an ACL, each role's only when the role exists on the node
 * it runs on.  The owner's entries are skipped (an owner has them anyway).
 */
static void
AppendAclGrants(StringInfo body, Datum aclDatum, Oid ownerId,
				const char *object, const char *column)
{
	static const struct
	{
		AclMode		mode;
		const char *name;
	}			privileges[] =
	{
		{ACL_SELECT, "SELECT"}, {ACL_INSERT, "INSERT"}, {ACL_UPDATE, "UPDATE"},
		{ACL_DELETE, "DELETE"}, {ACL_TRUNCATE, "TRUNCATE"},
		{ACL_REFERENCES, "REFERENCES"}, {ACL_TRIGGER, "TRIGGER"},
		{ACL_USAGE, "USAGE"}, {ACL_CREATE, "CREATE"}
	};
	Acl		   *acl = DatumGetAclP(aclDatum);
	AclItem    *items = ACL_DAT(acl);
	int			i;

	for (i = 0; i < ACL_NUM(acl); i++)
	{
		AclItem    *item = &items[i];
		AclMode		modes = ACLITEM_GET_PRIVS(*item);
		AclMode		options = ACLITEM_GET_GOPTIONS(*item);
		const char *grantee;
		int			pass;

		if (item->ai_grantee == ownerId)
			continue;
		if (item->ai_grantee == ACL_ID_PUBLIC)
			grantee = "PUBLIC";
		else
		{
			char	   *name = GetUserNameFromId(item->ai_grantee, true);

			if (name == NULL)
				continue;
			grantee = quote_identifier(name);
			appendStringInfo(body, " IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles "
							 "WHERE rolname = %s) THEN", quote_literal_cstr(name));
		}

		/* without, then with grant option */
		for (pass = 0; pass < 2; pass++)
		{
			AclMode		these = (pass == 0) ? (modes & ~options) : options;
			StringInfoData grant;
			int			p;

			if (these == 0)
				continue;
			initStringInfo(&grant);
			appendStringInfoString(&grant, "GRANT ");
			for (p = 0; p < lengthof(privileges); p++)
			{
				if ((these & privileges[p].mode) == 0)
					continue;
				appendStringInfo(&grant, "%s%s", grant.len > 6 ? ", " : "",
								 privileges[p].name);
				if (column != NULL)
					appendStringInfo(&grant, " (%s)", quote_identifier(column));
			}
			appendStringInfo(&grant, " ON %s TO %s%s", object, grantee,
							 pass == 1 ? " WITH GRANT OPTION" : "");
			appendStringInfo(body, " EXECUTE %s;", quote_literal_cstr(grant.data));
		}
		if (item->ai_grantee != ACL_ID_PUBLIC)
			appendStringInfoString(body, " END IF;");
	}
}

/*
 * ReturnsAnonymousRecord tells whether a target list has a value of an
 * anonymous record type (ROW(...), or an array of them): a node sends it
 * as text, which the coordinator cannot read back ("input of anonymous
 * composite types is not implemented"), so it must be computed here.
 */
bool
ReturnsAnonymousRecord(List *targetList)
{
	ListCell   *lc;

	foreach(lc, targetList)
		if (IsAnonymousRecord((Node *) ((TargetEntry *) lfirst(lc))->expr))
			return true;
	return false;
}

/* IsAnonymousRecord tells whether an expression's type is RECORD or RECORD[]. */
bool
IsAnonymousRecord(Node *expr)
{
	Oid			type = exprType(expr);

	return type == RECORDOID || type == RECORDARRAYOID;
}

/*
 * CreateTableCommand returns the CREATE TABLE statement of shard shardName
 * of rel: every column with its type, collation when not the type's, NOT
 * NULL, a default a worker can evaluate and that is immutable (others are
 * left out: the coordinator evaluates them, and a node fills only columns
 * whose default gives the same value anywhere, NodeFillsOmittedColumn) and
 * the expression of a stored generated column; and the table's storage
 * parameters.  Identity is not copied; ColumnSettingsCommand gives the
 * columns their storage, compression and statistics targets.
 */
static char *
CreateTableCommand(Relation rel, const char *shardName)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	List	   *deparseContext;
	StringInfoData buf;
	bool		firstColumn = true;
	List	   *options;
	int			i;

	deparseContext = deparse_context_for(RelationGetRelationName(rel),
										 RelationGetRelid(rel));

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE %sTABLE %s (",
					 rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED ?
					 "UNLOGGED " : "",
					 shardName);
	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i);

		if (attr->attisdropped)
			continue;
		if (!firstColumn)
			appendStringInfoString(&buf, ", ");
		firstColumn = false;

		appendStringInfo(&buf, "%s %s",
						 quote_identifier(NameStr(attr->attname)),
						 format_type_with_typemod(attr->atttypid,
												  attr->atttypmod));
		if (OidIsValid(attr->attcollation) &&
			attr->attcollation != get_typcollation(attr->atttypid))
			appendStringInfo(&buf, " COLLATE %s",
							 QualifiedCollationName(attr->attcollation));
		if (attr->atthasdef)
		{
			Node	   *expr = ColumnDefaultExpression(rel, attr->attnum);

			if (expr == NULL)
				elog(ERROR, "default of column \"%s\" of relation %u not found",
					 NameStr(attr->attname), RelationGetRelid(rel));
			if (attr->attgenerated == ATTRIBUTE_GENERATED_STORED)
				appendStringInfo(&buf, " GENERATED ALWAYS AS (%s) STORED",
								 deparse_expression(expr, deparseContext,
													false, false));
			else if (IsShippableExpression(expr) && !contain_mutable_functions(expr))
				appendStringInfo(&buf, " DEFAULT %s",
								 deparse_expression(expr, deparseContext,
													false, false));
		}
		if (attr->attnotnull)
			appendStringInfoString(&buf, " NOT NULL");
	}
	appendStringInfoChar(&buf, ')');
	options = TableStorageOptions(rel);
	if (options != NIL)
		appendStringInfo(&buf, " WITH (%s)", StorageOptionsClause(options));
	return buf.data;
}

/*
 * ColumnSettingsCommand returns the ALTER TABLE statement that gives the
 * columns of shard shardName, as CreateTableCommand made them, the storage,
 * compression and statistics targets of rel's, or NULL when they have them
 * already.
 */
static char *
ColumnSettingsCommand(Relation rel, const char *shardName)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i);
		ColumnSettings has;
		ColumnSettings wanted;

		if (attr->attisdropped)
			continue;
		has = TypeColumnSettings(attr->atttypid);
		wanted.storage = attr->attstorage;
		wanted.compression = attr->attcompression;
		wanted.stattarget = attr->attstattarget;
		AppendColumnSettings(&buf, NameStr(attr->attname), &has, &wanted);
	}
	if (buf.len == 0)
		return NULL;
	return psprintf("ALTER TABLE %s %s", shardName, buf.data);
}

/*
 * TypeColumnSettings returns the settings a new column of type typid gets:
 * the type's storage, the default compression and statistics target.
 */
ColumnSettings
TypeColumnSettings(Oid typid)
{
	ColumnSettings settings;

	settings.storage = get_typstorage(typid);
	settings.compression = InvalidCompressionMethod;
	settings.stattarget = -1;
	return settings;
}

/* the STORAGE keyword of an attstorage value */
static const char *
StorageName(char storage)
{
	switch (storage)
	{
		case TYPSTORAGE_PLAIN:
			return "PLAIN";
		case TYPSTORAGE_EXTERNAL:
			return "EXTERNAL";
		case TYPSTORAGE_MAIN:
			return "MAIN";
		default:
			return "EXTENDED";
	}
}

/*
 * AppendColumnSettings appends to buf the ALTER TABLE subcommands (after
 * ", " when buf is not empty) that change a shard's column from the
 * storage, compression and statistics target it has to those wanted, the
 * coordinator's: its planner statistics and how it stores values are the
 * shard's business, not the coordinator table's.
 */
void
AppendColumnSettings(StringInfo buf, const char *column,
					 const ColumnSettings *has, const ColumnSettings *wanted)
{
	const char *name = quote_identifier(column);

	if (has->storage != wanted->storage)
		appendStringInfo(buf, "%sALTER COLUMN %s SET STORAGE %s",
						 buf->len > 0 ? ", " : "", name,
						 StorageName(wanted->storage));
	if (has->compression != wanted->compression)
		appendStringInfo(buf, "%sALTER COLUMN %s SET COMPRESSION %s",
						 buf->len > 0 ? ", " : "", name,
						 CompressionMethodIsValid(wanted->compression) ?
						 GetCompressionMethodName(wanted->compression) :
						 "default");
	if (has->stattarget != wanted->stattarget)
		appendStringInfo(buf, "%sALTER COLUMN %s SET STATISTICS %d",
						 buf->len > 0 ? ", " : "", name, wanted->stattarget);
}

/*
 * TableStorageOptions returns the storage parameters of a table as
 * "name=value" strings: its own (fillfactor, autovacuum_*, ...), then its
 * TOAST table's, named "toast.<name>".
 */
List *
TableStorageOptions(Relation rel)
{
	Oid			relids[2];
	List	   *result = NIL;
	int			i;

	relids[0] = RelationGetRelid(rel);
	relids[1] = rel->rd_rel->reltoastrelid;
	for (i = 0; i < lengthof(relids); i++)
	{
		HeapTuple	tuple;
		Datum		datum;
		bool		isNull;
		ListCell   *lc;

		if (!OidIsValid(relids[i]))
			continue;
		tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relids[i]));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for relation %u", relids[i]);
		datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isNull);
		if (!isNull)
		{
			foreach(lc, untransformRelOptions(datum))
			{
				DefElem    *option = lfirst(lc);

				result = lappend(result,
								 psprintf("%s%s=%s", i == 0 ? "" : "toast.",
										  option->defname,
										  option->arg ? strVal(option->arg) : "true"));
			}
		}
		ReleaseSysCache(tuple);
	}
	return result;
}

/*
 * StorageOptionsClause returns the list of TableStorageOptions strings as
 * the inside of a WITH (...) or SET (...) clause.
 */
char *
StorageOptionsClause(List *options)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, options)
	{
		const char *option = lfirst(lc);
		const char *equals = strchr(option, '=');

		Assert(equals != NULL);
		appendStringInfo(&buf, "%s%.*s = %s", buf.len > 0 ? ", " : "",
						 (int) (equals - option), option,
						 quote_literal_cstr(equals + 1));
	}
	return buf.data;
}

/*
 * ConstraintCommands returns the ALTER TABLE statements that add the CHECK,
 * primary key, unique and exclusion constraints of rel to shard shardName,
 * in name order.  CHECK constraints keep their names; constraints backed by
 * an index get ShardObjectName names, since index names are schema-wide.
 * Foreign keys and constraint triggers are not copied.
 */
static List *
ConstraintCommands(Relation rel, const char *shardName, int64 shardId)
{
	List	   *commands = NIL;
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);
		const char *name = NameStr(constraint->conname);
		char	   *definition;

		if (constraint->contype != CONSTRAINT_CHECK &&
			constraint->contype != CONSTRAINT_PRIMARY &&
			constraint->contype != CONSTRAINT_UNIQUE &&
			constraint->contype != CONSTRAINT_EXCLUSION)
			continue;

		/*
		 * The SQL-level function, unlike pg_get_constraintdef_command(),
		 * gives the body alone, without the index's tablespace, which the
		 * worker may not have.
		 */
		definition = TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
															 ObjectIdGetDatum(constraint->oid)));
		commands = lappend(commands,
						   psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s",
									shardName,
									constraint->contype == CONSTRAINT_CHECK ?
									quote_identifier(name) :
									ShardObjectName(name, shardId),
									definition));
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);
	return commands;
}

/*
 * IndexCommands returns the CREATE INDEX statements of the indexes of rel
 * that back no constraint, for shard shardName, renamed with
 * ShardObjectName.  Like pg_dump, it skips invalid indexes (left by a failed
 * CREATE INDEX CONCURRENTLY).
 */
static List *
IndexCommands(Relation rel, const char *shardName, int64 shardId)
{
	List	   *commands = NIL;
	ListCell   *cell;

	foreach(cell, RelationGetIndexList(rel))
	{
		Oid			indexOid = lfirst_oid(cell);
		HeapTuple	indexTuple;
		bool		isUsable;

		if (OidIsValid(get_index_constraint(indexOid)))
			continue;

		indexTuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexOid));
		if (!HeapTupleIsValid(indexTuple))
			elog(ERROR, "cache lookup failed for index %u", indexOid);
		isUsable = ((Form_pg_index) GETSTRUCT(indexTuple))->indisvalid &&
			((Form_pg_index) GETSTRUCT(indexTuple))->indislive;
		ReleaseSysCache(indexTuple);
		if (!isUsable)
			continue;
		commands = lappend(commands,
						   ShardIndexCommand(indexOid, shardName, shardId, false));
	}
	return commands;
}

/*
 * ShardIndexCommand returns the CREATE INDEX statement (CONCURRENTLY when
 * asked) that builds index indexOid on shard shardName, named with
 * ShardObjectName.
 */
char *
ShardIndexCommand(Oid indexOid, const char *shardName, int64 shardId,
				  bool concurrently)
{
	Oid			tableOid = IndexGetRelation(indexOid, false);
	char	   *tableName = RelationQualifiedName(tableOid);
	HeapTuple	indexTuple;
	bool		isUnique;
	char	   *indexName;
	char	   *definition;
	char	   *prefix;
	char	   *onlyPrefix;
	char	   *rest;

	indexTuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexOid));
	if (!HeapTupleIsValid(indexTuple))
		elog(ERROR, "cache lookup failed for index %u", indexOid);
	isUnique = ((Form_pg_index) GETSTRUCT(indexTuple))->indisunique;
	ReleaseSysCache(indexTuple);

	/*
	 * The SQL-level pg_get_indexdef(), unlike pg_get_indexdef_string(),
	 * leaves out the index's tablespace, which the worker may not have.
	 * Both name the table schema-qualified.
	 */
	definition = TextDatumGetCString(DirectFunctionCall1(pg_get_indexdef,
														 ObjectIdGetDatum(indexOid)));
	indexName = get_rel_name(indexOid);
	prefix = psprintf("CREATE %sINDEX %s ON %s ",
					  isUnique ? "UNIQUE " : "",
					  quote_identifier(indexName), tableName);
	onlyPrefix = psprintf("CREATE %sINDEX %s ON ONLY %s ",
						  isUnique ? "UNIQUE " : "",
						  quote_identifier(indexName), tableName);
	if (strncmp(definition, prefix, strlen(prefix)) == 0)
		rest = definition + strlen(prefix);
	else if (strncmp(definition, onlyPrefix, strlen(onlyPrefix)) == 0)
		rest = definition + strlen(onlyPrefix);
	else
		elog(ERROR, "unexpected definition of index %u: %s",
			 indexOid, definition);

	return psprintf("CREATE %sINDEX %s%s ON %s %s",
					isUnique ? "UNIQUE " : "",
					concurrently ? "CONCURRENTLY " : "",
					ShardObjectName(indexName, shardId),
					shardName, rest);
}

/*
 * IsShippableExpression tells whether a worker can evaluate expr (a node
 * tree, a List of them, or NULL, which is shippable): every node is of a
 * type we know, every function, operator, aggregate, type and collation it
 * names is built in, and it uses no sequence, sub-query or executor
 * parameter.  Whole-row Vars are shippable: a shard has the table's columns.
 * It may fill in the opfuncid of operator nodes.
 */
bool
IsShippableExpression(Node *expr)
{
	return !NotShippableWalker(expr, NULL);
}

/*
 * IsShippableConst tells whether a worker can use a constant: its type and
 * collation are built in, and if it is an OID alias (regclass and the
 * like), the object it names is too.
 */
bool
IsShippableConst(Const *constant)
{
	if (!NodesHaveType(constant->consttype) ||
		IsUserObject(constant->constcollid))
		return false;
	if (constant->constisnull)
		return true;
	if (IsRegType(constant->consttype))
		return !IsUserObject(DatumGetObjectId(constant->constvalue));
	return true;
}

/*
 * IsShippableOperator tells whether an operator and its function are built
 * in.
 */
static bool
IsShippableOperator(Oid operatorId)
{
	return !IsUserObject(operatorId) && !IsUserObject(get_opcode(operatorId));
}

/*
 * SQLValueReadsSessionState tells whether a SQL value function answers from
 * the session: the user and schema would be the node session's.
 */
bool
SQLValueReadsSessionState(SQLValueFunction *svf)
{
	switch (svf->op)
	{
		case SVFOP_CURRENT_ROLE:
		case SVFOP_CURRENT_USER:
		case SVFOP_USER:
		case SVFOP_SESSION_USER:
		case SVFOP_CURRENT_CATALOG:
		case SVFOP_CURRENT_SCHEMA:
			return true;
		default:
			return false;
	}
}

/*
 * Built-in functions that act on, or answer from, the server they run in,
 * by the prefix of their C function's name: large objects, notifications,
 * advisory locks, other backends, files, statistics, sizes and
 * descriptions of objects by OID, sequences, WAL, replication, and the
 * input and output of the reg* types (object names, read and written by
 * the search path: a node's is pg_catalog only).  On a node
 * they would read or change the node's; prefixes are checked with the first
 * three letters of the name first, so that most functions (int4eq,
 * texteq...) are told apart at once.
 */
static const char *const ServerStateFunctionPrefixes[] = {
	"be_lo", "currval_", "format_type", "lastval", "mxid_age",
	"pg_advisory_", "pg_available_", "pg_backup_", "pg_blocking_pids",
	"pg_cancel_backend", "pg_collation_actual_version", "pg_column_is_",
	"pg_config", "pg_control_", "pg_copy_", "pg_create_", "pg_current_",
	"pg_cursor", "pg_database_", "pg_describe_object", "pg_drop_",
	"pg_event_trigger_", "pg_export_snapshot", "pg_extension_",
	"pg_filenode_relation", "pg_get_", "pg_hba_file_rules",
	"pg_ident_file_mappings", "pg_identify_object", "pg_import_",
	"pg_index", "pg_is_other_temp_schema", "pg_is_wal_replay_paused",
	"pg_jit_available", "pg_last_", "pg_listening_channels", "pg_lock_status",
	"pg_log_backend_memory_contexts", "pg_logical_", "pg_ls_", "pg_nextoid",
	"pg_notif", "pg_partition_", "pg_prepared_", "pg_promote", "pg_read_",
	"pg_relation_", "pg_reload_conf", "pg_replication_", "pg_rotate_logfile",
	"pg_safe_snapshot_blocking_pids", "pg_sequence_", "pg_settings_",
	"pg_show_", "pg_stat_", "pg_switch_wal", "pg_table_size",
	"pg_tablespace_", "pg_terminate_backend", "pg_total_relation_size",
	"pg_try_advisory_", "pg_typeof", "pg_wal_replay_", "pg_walfile_name", "pg_xact_",
	"regclass", "regcollation", "regconfig", "regdictionary", "regnamespace",
	"regoper", "regproc", "regrole", "regtype",
	"row_security_active", "setseed", "setval", "txid_status", "xid_age"
};

/*
 * ReadsSessionState tells whether a built-in function answers from the
 * session or server it runs in (settings, user, schema, search path,
 * privileges, backend, transaction id), or acts on it (large objects,
 * NOTIFY, advisory locks, files, other backends: see
 * ServerStateFunctionPrefixes): on a node it would answer for, or act on,
 * the node's session, so it runs on the coordinator.
 */
bool
ReadsSessionState(Oid funcid)
{
	const char *name;
	size_t		len;
	int			i;

	switch (funcid)
	{
		case F_VERSION:
		case F_CURRENT_USER:
		case F_SESSION_USER:
		case F_CURRENT_QUERY:
		case F_CURRENT_DATABASE:
		case F_CURRENT_SCHEMA:
		case F_CURRENT_SCHEMAS:
		case F_CURRENT_SETTING_TEXT:
		case F_CURRENT_SETTING_TEXT_BOOL:
		case F_SET_CONFIG:
		case F_PG_BACKEND_PID:
		case F_PG_CONF_LOAD_TIME:
		case F_PG_POSTMASTER_START_TIME:
		case F_PG_MY_TEMP_SCHEMA:
		case F_PG_TRIGGER_DEPTH:
		case F_PG_IS_IN_RECOVERY:
		case F_INET_CLIENT_ADDR:
		case F_INET_CLIENT_PORT:
		case F_INET_SERVER_ADDR:
		case F_INET_SERVER_PORT:
		case F_TXID_CURRENT:
		case F_TXID_CURRENT_IF_ASSIGNED:
		case F_TXID_CURRENT_SNAPSHOT:
		case F_PG_CURRENT_SNAPSHOT:
		case F_PG_CLIENT_ENCODING:
		case F_PG_CURRENT_XACT_ID:
		case F_PG_CURRENT_XACT_ID_IF_ASSIGNED:
		case F_TO_REGCLASS:
		case F_TO_REGCOLLATION:
		case F_TO_REGNAMESPACE:
		case F_TO_REGOPER:
		case F_TO_REGOPERATOR:
		case F_TO_REGPROC:
		case F_TO_REGPROCEDURE:
		case F_TO_REGROLE:
		case F_TO_REGTYPE:
			/* SQL functions: not in fmgr_builtins */
		case F_OBJ_DESCRIPTION_OID_NAME:
		case F_OBJ_DESCRIPTION_OID:
		case F_COL_DESCRIPTION:
		case F_SHOBJ_DESCRIPTION:
			return true;
		default:
			break;
	}
	/*
	 * has_table_privilege() and its kin, pg_has_role(): found by the name of
	 * their C function in the table of built-in functions (no catalog
	 * lookup, as this runs for every function of every statement planned).
	 */
	if (funcid > fmgr_last_builtin_oid ||
		fmgr_builtin_oid_index[funcid] == InvalidOidBuiltinMapping)
		return false;
	name = fmgr_builtins[fmgr_builtin_oid_index[funcid]].funcName;
	if ((strncmp(name, "has_", 4) == 0 && strstr(name, "_privilege") != NULL) ||
		strncmp(name, "pg_has_role", 11) == 0)
		return true;
	len = strlen(name);
	if (len > 11 && strcmp(name + len - 11, "_is_visible") == 0)
		return true;
	for (i = 0; i < lengthof(ServerStateFunctionPrefixes); i++)
	{
		const char *prefix = ServerStateFunctionPrefixes[i];

		if (strncmp(name, prefix, 3) == 0 &&
			strncmp(name, prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

/*
 * TypeWrittenInSessionStyle tells whether the text form of a value of type
 * typid depends on a setting the nodes are given otherwise than the session
 * has it (see ExactSettingValue): dates and times when DateStyle is not
 * ISO or IntervalStyle not postgres, floats and the geometric types made of
 * them when extra_float_digits is below 1; arrays, ranges and rows (of any
 * columns) of them.
 */
static bool
TypeWrittenInSessionStyle(Oid typid, bool dates, bool floats)
{
	Oid			element;

	typid = getBaseType(typid);
	switch (typid)
	{
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case DATERANGEOID:
		case TSRANGEOID:
		case TSTZRANGEOID:
		case DATEMULTIRANGEOID:
		case TSMULTIRANGEOID:
		case TSTZMULTIRANGEOID:
			return dates;
		case FLOAT4OID:
		case FLOAT8OID:
		case POINTOID:
		case LSEGOID:
		case PATHOID:
		case BOXOID:
		case POLYGONOID:
		case LINEOID:
		case CIRCLEOID:
			return floats;
		case RECORDOID:
			return true;
		default:
			break;
	}
	element = get_element_type(typid);
	if (OidIsValid(element))
		return TypeWrittenInSessionStyle(element, dates, floats);
	return get_typtype(typid) == TYPTYPE_COMPOSITE;
}

/*
 * FunctionWritesInSessionStyle tells whether a call of function funcid with
 * args writes one of them as text in a session-dependent style: a type's
 * output function (it returns cstring), or a function that takes any type
 * (a pseudo-type parameter: ||, concat, format, to_json, json_build_object,
 * row_to_json, ...) and writes it.
 */
static bool
FunctionWritesInSessionStyle(Oid funcid, List *args, bool dates, bool floats)
{
	HeapTuple	procTuple;
	Form_pg_proc proc;
	bool		result = false;
	ListCell   *lc;

	if (args == NIL)
		return false;
	procTuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(procTuple))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(procTuple);
	foreach(lc, args)
	{
		int			i = foreach_current_index(lc);
		Oid			declared = (i < proc->pronargs) ? proc->proargtypes.values[i] :
			proc->provariadic;

		if ((proc->prorettype == CSTRINGOID ||
			 (OidIsValid(declared) && get_typtype(declared) == TYPTYPE_PSEUDO)) &&
			TypeWrittenInSessionStyle(exprType(lfirst(lc)), dates, floats))
		{
			result = true;
			break;
		}
	}
	ReleaseSysCache(procTuple);
	return result;
}

/*
 * WritesInSessionStyle tells whether node converts between values and text
 * in a way that depends on a setting the session has otherwise than the
 * nodes (which read and write values in the forms that cross exactly):
 * dates, times and intervals written while DateStyle is not ISO or
 * IntervalStyle not postgres, floats written while extra_float_digits is
 * below 1, intervals read while IntervalStyle is sql_standard (its signs
 * read differently).  Such an expression runs on the coordinator.  Covers
 * casts through text, output functions, and the functions that write any
 * argument (||, concat, format, to_json, XML functions, ...).  Costs nothing
 * in a session with the usual settings.
 */
bool
WritesInSessionStyle(Node *node)
{
	bool		dates = (DateStyle != USE_ISO_DATES ||
						 IntervalStyle != INTSTYLE_POSTGRES);
	bool		floats = (extra_float_digits < 1);

	/*
	 * In the nodes' styles the expression may be sent; the plans that send
	 * one are dropped when the styles change (ForgetPlansOfOtherStyles).
	 */
	if (!dates && !floats)
	{
		if (!PlansSendStyledValues && WritesInStyles(node, true, true, true))
			PlansSendStyledValues = true;
		return false;
	}
	return WritesInStyles(node, dates, floats,
						  IntervalStyle == INTSTYLE_SQL_STANDARD);
}

/*
 * WritesInStyles tells whether node writes dates (and times, intervals) or
 * floats as text, or reads intervals from text, as WritesInSessionStyle
 * asks for the styles that differ.
 */
static bool
WritesInStyles(Node *node, bool dates, bool floats, bool readsIntervals)
{
	ListCell   *lc;

	switch (nodeTag(node))
	{
		case T_CoerceViaIO:
			{
				CoerceViaIO *coerce = (CoerceViaIO *) node;

				return TypeWrittenInSessionStyle(exprType((Node *) coerce->arg),
												 dates, floats) ||
					(readsIntervals && getBaseType(coerce->resulttype) == INTERVALOID);
			}
		case T_FuncExpr:
			{
				FuncExpr   *func = (FuncExpr *) node;

				if (readsIntervals && func->funcid == F_INTERVAL_IN)
					return true;
				return FunctionWritesInSessionStyle(func->funcid, func->args,
													dates, floats);
			}
		case T_OpExpr:
			set_opfuncid((OpExpr *) node);
			return FunctionWritesInSessionStyle(((OpExpr *) node)->opfuncid,
												((OpExpr *) node)->args,
												dates, floats);
		case T_Aggref:
			{
				Aggref	   *aggref = (Aggref *) node;
				List	   *args = NIL;

				foreach(lc, aggref->args)
					args = lappend(args, ((TargetEntry *) lfirst(lc))->expr);
				return FunctionWritesInSessionStyle(aggref->aggfnoid, args,
													dates, floats);
			}
		case T_XmlExpr:
			foreach(lc, ((XmlExpr *) node)->args)
				if (TypeWrittenInSessionStyle(exprType(lfirst(lc)), dates, floats))
					return true;
			return false;
		default:
			return false;
	}
}

/*
 * ExpressionWritesInSessionStyle tells whether WritesInSessionStyle holds
 * for any node of an expression.
 */
bool
ExpressionWritesInSessionStyle(Node *expr)
{
	return SessionStyleWalker(expr, NULL);
}

/* SessionStyleWalker does the work of ExpressionWritesInSessionStyle. */
static bool
SessionStyleWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (WritesInSessionStyle(node))
		return true;
	return expression_tree_walker(node, SessionStyleWalker, context);
}

/*
 * IsUserCoercion tells whether node is a conversion (through text, a
 * relabeling, or of an array's elements) by a cast a user created between
 * built-in types (CREATE CAST): the nodes have only the built-in casts, and
 * would refuse it or convert otherwise.
 */
bool
IsUserCoercion(Node *node)
{
	Node	   *arg;
	Oid			target;
	HeapTuple	tuple;
	bool		own;

	switch (nodeTag(node))
	{
		case T_CoerceViaIO:
			arg = (Node *) ((CoerceViaIO *) node)->arg;
			target = ((CoerceViaIO *) node)->resulttype;
			break;
		case T_RelabelType:
			arg = (Node *) ((RelabelType *) node)->arg;
			target = ((RelabelType *) node)->resulttype;
			break;
		case T_ArrayCoerceExpr:
			arg = (Node *) ((ArrayCoerceExpr *) node)->arg;
			target = ((ArrayCoerceExpr *) node)->resulttype;
			break;
		default:
			return false;
	}
	tuple = SearchSysCache2(CASTSOURCETARGET, ObjectIdGetDatum(exprType(arg)),
							ObjectIdGetDatum(target));
	if (!HeapTupleIsValid(tuple))
		return false;
	own = IsUserObject(((Form_pg_cast) GETSTRUCT(tuple))->oid);
	ReleaseSysCache(tuple);
	return own;
}

/*
 * NotShippableWalker returns true as soon as it finds in node something a
 * worker cannot evaluate (the expression_tree_walker convention, see
 * IsShippableExpression).
 */
static bool
NotShippableWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (WritesInSessionStyle(node))
		return true;

	switch (nodeTag(node))
	{
		case T_List:
		case T_TargetEntry:
		case T_NamedArgExpr:
		case T_BoolExpr:
		case T_NullTest:
		case T_BooleanTest:
		case T_CaseWhen:
		case T_GroupingFunc:
			/* nothing to check but the children */
			break;

		case T_Var:
			{
				Var		   *var = (Var *) node;

				/* a shard's system columns are not the table's */
				if (var->varattno < 0)
					return true;
				if (var->varattno != InvalidAttrNumber &&
					(!NodesHaveType(var->vartype) ||
					 IsUserObject(var->varcollid)))
					return true;
			}
			break;

		case T_Const:
			if (!IsShippableConst((Const *) node))
				return true;
			break;

		case T_Param:
			{
				Param	   *param = (Param *) node;

				if (param->paramkind != PARAM_EXTERN ||
					!NodesHaveParamType(param->paramtype) ||
					IsUserObject(param->paramcollid))
					return true;
			}
			break;

		case T_FuncExpr:
			{
				FuncExpr   *func = (FuncExpr *) node;

				switch (func->funcid)
				{
					case F_NEXTVAL:
					case F_CURRVAL:
					case F_SETVAL_REGCLASS_INT8:
					case F_SETVAL_REGCLASS_INT8_BOOL:
					case F_LASTVAL:
						return true;
					default:
						break;
				}
				if (ReadsSessionState(func->funcid))
					return true;
				if (IsUserObject(func->funcid) ||
					!NodesHaveType(func->funcresulttype) ||
					IsUserObject(func->funccollid) ||
					IsUserObject(func->inputcollid))
					return true;
			}
			break;

		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			{
				OpExpr	   *op = (OpExpr *) node;

				set_opfuncid(op);
				if (IsUserObject(op->opno) ||
					IsUserObject(op->opfuncid) ||
					!NodesHaveType(op->opresulttype) ||
					IsUserObject(op->opcollid) ||
					IsUserObject(op->inputcollid))
					return true;
			}
			break;

		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) node;

				set_sa_opfuncid(op);
				if (IsUserObject(op->opno) ||
					IsUserObject(op->opfuncid) ||
					IsUserObject(op->hashfuncid) ||
					IsUserObject(op->negfuncid) ||
					IsUserObject(op->inputcollid))
					return true;
			}
			break;

		case T_Aggref:
			{
				Aggref	   *aggref = (Aggref *) node;

				if (IsUserObject(aggref->aggfnoid) ||
					!NodesHaveType(aggref->aggtype) ||
					IsUserObject(aggref->aggcollid) ||
					IsUserObject(aggref->inputcollid))
					return true;
			}
			break;

		case T_WindowFunc:
			{
				WindowFunc *window = (WindowFunc *) node;

				if (IsUserObject(window->winfnoid) ||
					!NodesHaveType(window->wintype) ||
					IsUserObject(window->wincollid) ||
					IsUserObject(window->inputcollid))
					return true;
			}
			break;

		case T_SortGroupClause:
			{
				SortGroupClause *sortClause = (SortGroupClause *) node;

				if ((OidIsValid(sortClause->eqop) &&
					 !IsShippableOperator(sortClause->eqop)) ||
					(OidIsValid(sortClause->sortop) &&
					 !IsShippableOperator(sortClause->sortop)))
					return true;
			}
			break;

		case T_SubscriptingRef:
			{
				SubscriptingRef *subscript = (SubscriptingRef *) node;

				if (!NodesHaveType(subscript->refcontainertype) ||
					!NodesHaveType(subscript->refrestype) ||
					IsUserObject(subscript->refcollid))
					return true;
			}
			break;

		case T_FieldSelect:
			{
				FieldSelect *select = (FieldSelect *) node;

				if (!NodesHaveType(select->resulttype) ||
					IsUserObject(select->resultcollid))
					return true;
			}
			break;

		case T_FieldStore:
			if (!NodesHaveType(((FieldStore *) node)->resulttype))
				return true;
			break;

		case T_RelabelType:
			{
				RelabelType *relabel = (RelabelType *) node;

				if (!NodesHaveType(relabel->resulttype) ||
					IsUserObject(relabel->resultcollid) ||
					IsUserCoercion(node))
					return true;
			}
			break;

		case T_CoerceViaIO:
			{
				CoerceViaIO *coerce = (CoerceViaIO *) node;

				Oid			outputFunction;
				Oid			inputFunction;
				Oid			ioParam;
				bool		isVarlena;

				if (!NodesHaveType(coerce->resulttype) ||
					IsUserObject(coerce->resultcollid) ||
					IsUserCoercion(node))
					return true;
				/* regtype::text and the like read the search path */
				getTypeOutputInfo(exprType((Node *) coerce->arg), &outputFunction,
								  &isVarlena);
				getTypeInputInfo(coerce->resulttype, &inputFunction, &ioParam);
				if (ReadsSessionState(outputFunction) || ReadsSessionState(inputFunction))
					return true;

				/*
				 * A parameter of a type the nodes lack, converted to a
				 * built-in type: it reaches them as text (its output), which
				 * they convert alike.
				 */
				if (IsA(coerce->arg, Param) &&
					((Param *) coerce->arg)->paramkind == PARAM_EXTERN &&
					coerce->resulttype < FirstNormalObjectId &&
					!NodesHaveParamType(((Param *) coerce->arg)->paramtype))
					return false;
			}
			break;

		case T_ArrayCoerceExpr:
			{
				ArrayCoerceExpr *coerce = (ArrayCoerceExpr *) node;

				if (!NodesHaveType(coerce->resulttype) ||
					IsUserObject(coerce->resultcollid) ||
					IsUserCoercion(node))
					return true;
			}
			break;

		case T_ConvertRowtypeExpr:
			if (!NodesHaveType(((ConvertRowtypeExpr *) node)->resulttype))
				return true;
			break;

		case T_CollateExpr:
			if (IsUserObject(((CollateExpr *) node)->collOid))
				return true;
			break;

		case T_CaseExpr:
			{
				CaseExpr   *caseExpr = (CaseExpr *) node;

				if (!NodesHaveType(caseExpr->casetype) ||
					IsUserObject(caseExpr->casecollid))
					return true;
			}
			break;

		case T_CaseTestExpr:
			{
				CaseTestExpr *caseTest = (CaseTestExpr *) node;

				if (!NodesHaveType(caseTest->typeId) ||
					IsUserObject(caseTest->collation))
					return true;
			}
			break;

		case T_ArrayExpr:
			{
				ArrayExpr  *array = (ArrayExpr *) node;

				if (!NodesHaveType(array->array_typeid) ||
					IsUserObject(array->array_collid))
					return true;
			}
			break;

		case T_RowExpr:
			if (!NodesHaveType(((RowExpr *) node)->row_typeid))
				return true;
			break;

		case T_RowCompareExpr:
			{
				RowCompareExpr *compare = (RowCompareExpr *) node;
				ListCell   *cell;

				foreach(cell, compare->opnos)
				{
					if (!IsShippableOperator(lfirst_oid(cell)))
						return true;
				}
				foreach(cell, compare->inputcollids)
				{
					if (IsUserObject(lfirst_oid(cell)))
						return true;
				}
			}
			break;

		case T_CoalesceExpr:
			{
				CoalesceExpr *coalesce = (CoalesceExpr *) node;

				if (!NodesHaveType(coalesce->coalescetype) ||
					IsUserObject(coalesce->coalescecollid))
					return true;
			}
			break;

		case T_MinMaxExpr:
			{
				MinMaxExpr *minMax = (MinMaxExpr *) node;

				if (!NodesHaveType(minMax->minmaxtype) ||
					IsUserObject(minMax->minmaxcollid) ||
					IsUserObject(minMax->inputcollid))
					return true;
			}
			break;

		case T_SQLValueFunction:
			if (!NodesHaveType(((SQLValueFunction *) node)->type))
				return true;
			if (SQLValueReadsSessionState((SQLValueFunction *) node))
				return true;
			break;

		case T_XmlExpr:
			if (!NodesHaveType(((XmlExpr *) node)->type))
				return true;
			break;

		case T_CoerceToDomain:
			{
				CoerceToDomain *coerce = (CoerceToDomain *) node;

				if (!NodesHaveType(coerce->resulttype) ||
					IsUserObject(coerce->resultcollid))
					return true;
			}
			break;

		case T_CoerceToDomainValue:
			{
				CoerceToDomainValue *value = (CoerceToDomainValue *) node;

				if (!NodesHaveType(value->typeId) ||
					IsUserObject(value->collation))
					return true;
			}
			break;

		default:

			/*
			 * SubLink, SubPlan, AlternativeSubPlan, NextValueExpr,
			 * SetToDefault, CurrentOfExpr, PlaceHolderVar and anything we do
			 * not know.
			 */
			return true;
	}

	return expression_tree_walker(node, NotShippableWalker, context);
}
