/*-------------------------------------------------------------------------
 *
 * node_types.c
 *	  Enum types, domains and composite types on the nodes.
 *
 * A stock worker has only PostgreSQL's built-in types.  A distributed
 * table may still have columns of enum types, of domains (over built-in
 * types, enums or other such domains, with constraints a worker can check),
 * of composite types of those and of arrays of those: shardext creates them on a node, in the schema
 * and with the name they have on the coordinator, before the first shard
 * that needs them (TypeCreateCommands, sent with the DDL of every shard and
 * before a column gets such a type).  A node that already has a type of
 * that name keeps it when it is the same (the same labels in the same
 * order; the same base type, collation, NOT NULL and constraints), gets it
 * anew when nothing there uses it, and otherwise refuses, naming it.
 *
 * Later changes of such a type (ALTER TYPE ... ADD VALUE, RENAME VALUE,
 * RENAME TO, SET SCHEMA; ALTER DOMAIN ... ADD, DROP, VALIDATE and RENAME
 * CONSTRAINT, SET and DROP NOT NULL; DROP TYPE and DROP DOMAIN) are
 * repeated, in the statement's remote transactions, on every node that has
 * the type (PropagateTypeStatement).
 *
 * Domain defaults stay on the coordinator, which computes the defaults of
 * every row it sends.  Values cross as text, which for an enum is its
 * label; the OIDs of the labels differ between servers, and the hash of an
 * enum is the hash of that OID, so an enum cannot be a hash distribution
 * column (TypeHashesByOid).
 *
 * IDENTIFICATION
 *	  src/node_types.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/acl.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "shardext/connection.h"
#include "shardext/deparse.h"
#include "shardext/metadata_cache.h"
#include "shardext/node.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/shard_ddl.h"

/* what a statement about enums or domains needs to know from before it ran */
struct TypeStatement
{
	Node	   *parsetree;
	Oid			typid;			/* the type it changes (not DROP) */
	List	   *names;			/* TypeIdentity * of the types it names */
	List	   *oldConstraints; /* ADD CONSTRAINT: the domain's constraint
								 * OIDs before */
};

/* a type as the nodes know it: schema, name and kind */
typedef struct TypeIdentity
{
	char	   *schema;
	char	   *name;
	char		kind;			/* TYPTYPE_ENUM or TYPTYPE_DOMAIN */
} TypeIdentity;

/* types whose test IsNodeType is computing (a domain may name itself) */
static List *TypesBeingChecked = NIL;

static bool DomainIsNodeType(Oid typid, Form_pg_type form);
static List *DomainConstraints(Oid typid);
static Node *EnumInputRemover(Node *node, void *context);
static bool IsStandaloneComposite(Form_pg_type form);
static bool IsEnumType(Oid typid, HeapTuple tuple, void *arg);
static bool IsThatType(Oid typid, HeapTuple tuple, void *arg);
static bool IsTypeChangedHere(Oid typid, HeapTuple tuple, void *arg);
static List *TypeParts(Oid typid, Form_pg_type form);
static bool CompositeIsNodeType(Oid typid);
static char *CompositeCreateCommand(Oid typid, Form_pg_type form);
static bool CollectTypesWalker(Node *node, List **types);
static void CollectUsedTypes(Oid typid, Oid namespaceId, List **types);
static List *TypesUsedInSchema(Oid namespaceId);
static void CheckEnumRenameValue(Oid typid);
static bool CatalogRowChangedHere(HeapTuple tuple);
static bool TypeChangedHere(Oid typid);
static List *AppendTypeCreateCommands(List *commands, Oid typid, List **done);
static List *TableColumnTypeCommands(Oid relid);
static void RunOnNode(int32 nodeId, List *commands);
static char *EnumCreateCommand(Oid typid, Form_pg_type form);
static char *DomainCreateCommand(Oid typid, Form_pg_type form);
static char *EnsureTypeCommand(Form_pg_type form, const char *sameCondition,
							   List *createCommands);
static TypeIdentity *IdentityOfType(Oid typid);
static Oid	TypeOfNames(List *names);
static char *QualifiedIdentity(TypeIdentity *identity);
static char *OnNodesHavingType(TypeIdentity *identity, List *commands);
static void RunOnNodes(const char *what, List *commands);
static void CheckConstraintShippable(Oid constraintId, const char *domainName);
static List *AttributeCommands(AlterTableStmt *stmt, Oid typid, const char *name,
							   List **typeCommands);

/*
 * IsStandaloneComposite tells whether a type is a composite type of its own
 * (CREATE TYPE ... AS (...)), not a table's row type.
 */
static bool
IsStandaloneComposite(Form_pg_type form)
{
	return form->typtype == TYPTYPE_COMPOSITE && OidIsValid(form->typrelid) &&
		get_rel_relkind(form->typrelid) == RELKIND_COMPOSITE_TYPE;
}

/*
 * TypeParts returns the types a type is built of: a domain's base type, an
 * array's element type, or the types of a composite type's attributes.
 */
static List *
TypeParts(Oid typid, Form_pg_type form)
{
	List	   *parts = NIL;

	if (form->typtype == TYPTYPE_DOMAIN)
		parts = list_make1_oid(form->typbasetype);
	else if (OidIsValid(form->typelem) &&
			 form->typsubscript == F_ARRAY_SUBSCRIPT_HANDLER)
		parts = list_make1_oid(form->typelem);
	else if (IsStandaloneComposite(form))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		int			i;

		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				parts = lappend_oid(parts, TupleDescAttr(desc, i)->atttypid);
		ReleaseTupleDesc(desc);
	}
	return parts;
}

/* a test of one type, for AnyTypePart */
typedef bool (*TypeTest) (Oid typid, HeapTuple tuple, void *arg);

/*
 * AnyTypePart tells whether test holds for type typid or for a type it is
 * built of (TypeParts), at any depth.
 */
static bool
AnyTypePart(Oid typid, TypeTest test, void *arg)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	List	   *parts = NIL;
	bool		found;
	ListCell   *lc;

	if (!HeapTupleIsValid(tuple))
		return false;
	found = test(typid, tuple, arg);
	if (!found)
		parts = TypeParts(typid, (Form_pg_type) GETSTRUCT(tuple));
	ReleaseSysCache(tuple);
	foreach(lc, parts)
		if (AnyTypePart(lfirst_oid(lc), test, arg))
			return true;
	return found;
}

/*
 * CheckingNodeTypes tells whether IsNodeType is checking a type's parts
 * (a domain's constraints, a composite's columns) now.
 */
bool
CheckingNodeTypes(void)
{
	return TypesBeingChecked != NIL;
}

/*
 * IsNodeType tells whether a node has, or can be given, a type: it is
 * built in (a stock server has it), an enum, a domain over a node type with
 * constraints a node can check, a composite type of node types, or an array
 * of a node type.
 */
bool
IsNodeType(Oid typid)
{
	HeapTuple	tuple;
	Form_pg_type form;
	bool		result;

	if (list_member_oid(TypesBeingChecked, typid))
		return false;
	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", typid);
	form = (Form_pg_type) GETSTRUCT(tuple);
	if (form->typtype == TYPTYPE_DOMAIN)
		result = DomainIsNodeType(typid, form);
	else if (OidIsValid(form->typelem) &&
			 form->typsubscript == F_ARRAY_SUBSCRIPT_HANDLER)
		result = IsNodeType(form->typelem);
	else if (typid < FirstNormalObjectId)
		result = true;
	else if (IsStandaloneComposite(form))
		result = CompositeIsNodeType(typid);
	else
		result = (form->typtype == TYPTYPE_ENUM);
	ReleaseSysCache(tuple);
	return result;
}

/*
 * CompositeIsNodeType tells whether a node can have composite type typid:
 * its attributes have node types and built-in collations.
 */
static bool
CompositeIsNodeType(Oid typid)
{
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(typid, -1);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (attr->attisdropped)
			continue;
		if (attr->attcollation >= FirstNormalObjectId || !IsNodeType(attr->atttypid))
			return false;
	}
	return true;
}

/*
 * DomainIsNodeType tells whether a node can have domain typid: its base
 * type, its collation and its constraints are a node's.
 */
static bool
DomainIsNodeType(Oid typid, Form_pg_type form)
{
	volatile bool result = true;
	ListCell   *lc;

	if (typid < FirstNormalObjectId)
		return IsNodeType(form->typbasetype);
	if (form->typcollation >= FirstNormalObjectId)
		return false;

	TypesBeingChecked = lappend_oid(TypesBeingChecked, typid);
	PG_TRY();
	{
		result = IsNodeType(form->typbasetype);
		foreach(lc, DomainConstraints(typid))
		{
			HeapTuple	tuple = SearchSysCache1(CONSTROID,
												ObjectIdGetDatum(lfirst_oid(lc)));
			Datum		conbin;
			bool		isNull;

			if (!result)
				break;
			if (!HeapTupleIsValid(tuple))
				elog(ERROR, "cache lookup failed for constraint %u",
					 lfirst_oid(lc));
			conbin = SysCacheGetAttr(CONSTROID, tuple,
									 Anum_pg_constraint_conbin, &isNull);
			if (!isNull)
				result = IsShippableExpression(stringToNode(TextDatumGetCString(conbin)));
			ReleaseSysCache(tuple);
		}
	}
	PG_FINALLY();
	{
		TypesBeingChecked = list_delete_last(TypesBeingChecked);
	}
	PG_END_TRY();
	return result;
}

/* DomainConstraints returns the OIDs of the constraints of domain typid. */
static List *
DomainConstraints(Oid typid)
{
	List	   *result = NIL;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	Assert(OidIsValid(typid));
	rel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(rel, ConstraintTypidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		result = lappend_oid(result, ((Form_pg_constraint) GETSTRUCT(tuple))->oid);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * TypeHashesByOid tells whether the hash of a value of a type depends on
 * the OIDs of the server it is computed on: the type is, or is built of,
 * an enum.
 */
bool
TypeHashesByOid(Oid typid)
{
	return AnyTypePart(typid, IsEnumType, NULL);
}

/* IsEnumType is the TypeTest of TypeHashesByOid. */
static bool
IsEnumType(Oid typid, HeapTuple tuple, void *arg)
{
	return ((Form_pg_type) GETSTRUCT(tuple))->typtype == TYPTYPE_ENUM;
}

/*
 * GetStoredValueInputInfo returns the input function, its I/O parameter and
 * the type modifier with which to read a value of type typid (typmod) that
 * is already stored somewhere (a node's row, a bound in the catalog): a
 * domain's value is read as its base type's, as PostgreSQL reads stored
 * values without checking the domain's constraints again (a NOT VALID or
 * newer constraint must not make rows that hold unreadable).
 */
void
GetStoredValueInputInfo(Oid typid, int32 typmod, Oid *input, Oid *ioParam,
						int32 *inputTypmod)
{
	int32		baseTypmod = typmod;
	Oid			baseType = getBaseTypeAndTypmod(typid, &baseTypmod);

	getTypeInputInfo(baseType, input, ioParam);
	*inputTypmod = (baseType == typid) ? typmod : baseTypmod;
}

/*
 * IsObjectReferenceType tells whether values of a type are OIDs of catalog
 * objects written as names (regclass, regtype, ..., or a domain or array of
 * one): a node would store its own OIDs for them, and a name means another
 * object, or none, there.
 */
bool
IsObjectReferenceType(Oid typid)
{
	typid = getBaseType(typid);
	if (OidIsValid(get_element_type(typid)))
		return IsObjectReferenceType(get_element_type(typid));
	return IsRegType(typid);
}

/* IsRegType tells whether a type is one of the OID aliases (regclass, ...). */
bool
IsRegType(Oid typid)
{
	switch (typid)
	{
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCLASSOID:
		case REGCOLLATIONOID:
		case REGTYPEOID:
		case REGROLEOID:
		case REGNAMESPACEOID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
			return true;
		default:
			return false;
	}
}

/*
 * TypeUses tells whether type typid is type usedTypid, or a domain, array
 * or composite type built of it.
 */
bool
TypeUses(Oid typid, Oid usedTypid)
{
	return AnyTypePart(typid, IsThatType, &usedTypid);
}

/* IsThatType is the TypeTest of TypeUses: typid is *(Oid *) arg. */
static bool
IsThatType(Oid typid, HeapTuple tuple, void *arg)
{
	return typid == *(Oid *) arg;
}

/* what a statement drops with CASCADE that types can be (or be in, or belong to) */
typedef struct TypeDropSet
{
	List	   *types;			/* DROP TYPE/DOMAIN: the types */
	List	   *namespaces;		/* DROP SCHEMA: the schemas */
	List	   *roles;			/* DROP OWNED: the roles */
} TypeDropSet;

static bool IsDroppedType(Oid typid, HeapTuple tuple, void *arg);

/*
 * StatementTypeDrops returns what a statement drops types by, with CASCADE
 * (which drops the columns of those types too): NULL for other statements.
 */
static TypeDropSet *
StatementTypeDrops(Node *parsetree)
{
	TypeDropSet *set;
	ListCell   *lc;

	if (IsA(parsetree, DropOwnedStmt))
	{
		DropOwnedStmt *stmt = (DropOwnedStmt *) parsetree;

		if (stmt->behavior != DROP_CASCADE)
			return NULL;
		set = palloc0(sizeof(TypeDropSet));
		foreach(lc, stmt->roles)
		{
			Oid			role = get_rolespec_oid(lfirst(lc), true);

			if (OidIsValid(role))
				set->roles = lappend_oid(set->roles, role);
		}
		return set;
	}
	if (!IsA(parsetree, DropStmt) ||
		((DropStmt *) parsetree)->behavior != DROP_CASCADE)
		return NULL;
	set = palloc0(sizeof(TypeDropSet));
	switch (((DropStmt *) parsetree)->removeType)
	{
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			foreach(lc, ((DropStmt *) parsetree)->objects)
			{
				Oid			typid = LookupTypeNameOid(NULL, lfirst_node(TypeName, lc), true);

				if (OidIsValid(typid))
					set->types = lappend_oid(set->types, typid);
			}
			return set;
		case OBJECT_SCHEMA:
			foreach(lc, ((DropStmt *) parsetree)->objects)
			{
				Oid			namespace = get_namespace_oid(strVal(lfirst(lc)), true);

				if (OidIsValid(namespace))
					set->namespaces = lappend_oid(set->namespaces, namespace);
			}
			return set;
		default:
			return NULL;
	}
}

/*
 * TypeChainDropped tells whether a statement dropping set drops type typid,
 * or a type it is built of (TypeParts).
 */
static bool
TypeChainDropped(Oid typid, TypeDropSet *set)
{
	return AnyTypePart(typid, IsDroppedType, set);
}

/* IsDroppedType is the TypeTest of TypeChainDropped. */
static bool
IsDroppedType(Oid typid, HeapTuple tuple, void *arg)
{
	TypeDropSet *set = (TypeDropSet *) arg;
	Form_pg_type form = (Form_pg_type) GETSTRUCT(tuple);

	return typid >= FirstNormalObjectId &&
		(list_member_oid(set->types, typid) ||
		 list_member_oid(set->namespaces, form->typnamespace) ||
		 list_member_oid(set->roles, form->typowner));
}

/*
 * StatementDropsTypes tells whether a statement may drop types, and with
 * them columns, with CASCADE: DROP TYPE/DOMAIN/SCHEMA ... CASCADE, DROP
 * OWNED ... CASCADE.  The columns of the coordinator's copies of reference
 * tables go here with the local statement.
 */
bool
StatementDropsTypes(Node *parsetree)
{
	return StatementTypeDrops(parsetree) != NULL;
}

/*
 * TablesLosingColumns returns the distributed tables (not dropped by the
 * statement themselves) of which a statement dropping types with CASCADE
 * drops columns; it refuses the statement when one is a distribution
 * column.
 */
List *
TablesLosingColumns(Node *parsetree)
{
	TypeDropSet *set = StatementTypeDrops(parsetree);
	List	   *relids = NIL;
	ListCell   *lc;

	if (set == NULL)
		return NIL;
	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);
		Relation	rel = relation_open(table->relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		bool		loses = false;
		int			i;

		/* tables the statement drops whole */
		if (list_member_oid(set->namespaces, RelationGetNamespace(rel)) ||
			list_member_oid(set->roles, rel->rd_rel->relowner))
		{
			relation_close(rel, AccessShareLock);
			continue;
		}
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute attr = TupleDescAttr(desc, i);

			if (attr->attisdropped || !TypeChainDropped(attr->atttypid, set))
				continue;
			if (attr->attnum == table->distAttno)
				ereport(ERROR,
						(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
						 errmsg("cannot drop type %s because distribution column \"%s\" of table \"%s\" uses it",
								format_type_be(attr->atttypid), NameStr(attr->attname),
								RelationGetRelationName(rel)),
						 errhint("Call undistribute_table() first, or drop the table.")));
			loses = true;
		}
		relation_close(rel, AccessShareLock);
		if (loses)
			relids = lappend_oid(relids, table->relid);
	}
	return relids;
}

/*
 * IsMutableOnNodes tells whether an expression may give another value on
 * a node than here: it has functions that are not immutable, other than
 * the input of enum labels (stable, as labels can be added; the nodes have
 * the coordinator's).
 */
bool
IsMutableOnNodes(Node *expr)
{
	return contain_mutable_functions(EnumInputRemover(expr, NULL));
}

/* EnumInputRemover replaces conversions to enums by their argument. */
static Node *
EnumInputRemover(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, CoerceViaIO) &&
		get_typtype(getBaseType(((CoerceViaIO *) node)->resulttype)) == TYPTYPE_ENUM)
		return EnumInputRemover((Node *) ((CoerceViaIO *) node)->arg, context);
	return expression_tree_mutator(node, EnumInputRemover, context);
}

/*
 * CatalogRowChangedHere tells whether this transaction wrote a catalog
 * row (created or changed the object).
 */
static bool
CatalogRowChangedHere(HeapTuple tuple)
{
	return TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data));
}

/*
 * TypeChangedHere tells whether this transaction created or changed type
 * typid, one it is built of, or an enum's labels.
 */
static bool
TypeChangedHere(Oid typid)
{
	return AnyTypePart(typid, IsTypeChangedHere, NULL);
}

/* IsTypeChangedHere is the TypeTest of TypeChangedHere. */
static bool
IsTypeChangedHere(Oid typid, HeapTuple tuple, void *arg)
{
	bool		changed;

	if (typid < FirstNormalObjectId)
		return false;
	changed = CatalogRowChangedHere(tuple);
	if (!changed && ((Form_pg_type) GETSTRUCT(tuple))->typtype == TYPTYPE_ENUM)
	{
		CatCList   *labels = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
		int			i;

		for (i = 0; i < labels->n_members && !changed; i++)
			changed = CatalogRowChangedHere(&labels->members[i]->tuple);
		ReleaseSysCacheList(labels);
	}
	return changed;
}

/*
 * CheckCopySeesCatalog raises an error when the coordinator's own copy of
 * reference table relid is about to be made or changed through the
 * coordinator's connection to itself while this transaction has created or
 * changed the table's schema or the types of its columns: that connection
 * is another session, which sees only what is committed (it would wait for
 * this transaction's uncommitted schema, or not find its types).
 */
void
CheckCopySeesCatalog(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTuple	tuple;
	const char *what = NULL;
	int			i;

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(RelationGetNamespace(rel)));
	if (HeapTupleIsValid(tuple))
	{
		if (CatalogRowChangedHere(tuple))
			what = psprintf("schema %s", get_namespace_name(RelationGetNamespace(rel)));
		ReleaseSysCache(tuple);
	}
	for (i = 0; i < desc->natts && what == NULL; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (!attr->attisdropped && TypeChangedHere(attr->atttypid))
			what = psprintf("type %s", format_type_be(attr->atttypid));
	}
	if (what != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" cannot be placed on the coordinator with %s, created or changed in this transaction",
						RelationGetRelationName(rel), what),
				 errdetail("Tables placed on the coordinator (the copies of reference tables, "
						   "federated tables on node 0) are written through a connection of "
						   "its own, which sees only committed changes."),
				 errhint("Commit the change of the %s first.", what)));
	relation_close(rel, AccessShareLock);
}

/*
 * TypeCreateCommands returns the statements that make sure a node has type
 * typid and the types it is built on, each in its schema, in the order
 * they need each other (nothing for a built-in type).
 */
List *
TypeCreateCommands(Oid typid)
{
	List	   *done = NIL;
	List	   *commands;
	int			nestLevel = SetDeparseGucs();

	commands = AppendTypeCreateCommands(NIL, typid, &done);
	PopDeparseGucs(nestLevel);
	return commands;
}

/*
 * ColumnTypeCreateCommands returns the statements that make sure a node has
 * the types of the columns of rel (TypeCreateCommands).  Call it under
 * SetDeparseGucs (names come out qualified).
 */
List *
ColumnTypeCreateCommands(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *commands = NIL;
	List	   *done = NIL;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (!attr->attisdropped)
			commands = AppendTypeCreateCommands(commands, attr->atttypid, &done);
	}
	return commands;
}

/*
 * AppendTypeCreateCommands appends to commands those of TypeCreateCommands
 * for typid, leaving out the types in *done (and adding typid there).
 */
static List *
AppendTypeCreateCommands(List *commands, Oid typid, List **done)
{
	HeapTuple	tuple;
	Form_pg_type form;

	if (typid < FirstNormalObjectId || list_member_oid(*done, typid))
		return commands;
	*done = lappend_oid(*done, typid);

	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", typid);
	form = (Form_pg_type) GETSTRUCT(tuple);
	if (form->typtype == TYPTYPE_DOMAIN)
	{
		ListCell   *lc;
		List	   *used = NIL;

		commands = AppendTypeCreateCommands(commands, form->typbasetype, done);
		/* types its constraints name (a cast to an enum) */
		foreach(lc, DomainConstraints(typid))
		{
			HeapTuple	constraint = SearchSysCache1(CONSTROID,
													 ObjectIdGetDatum(lfirst_oid(lc)));
			Datum		conbin;
			bool		isNull;

			if (!HeapTupleIsValid(constraint))
				continue;
			conbin = SysCacheGetAttr(CONSTROID, constraint,
									 Anum_pg_constraint_conbin, &isNull);
			if (!isNull)
				(void) CollectTypesWalker(stringToNode(TextDatumGetCString(conbin)),
										  &used);
			ReleaseSysCache(constraint);
		}
		foreach(lc, used)
			commands = AppendTypeCreateCommands(commands, lfirst_oid(lc), done);
		commands = lappend(commands, SchemaCreateCommand(form->typnamespace));
		commands = lappend(commands, DomainCreateCommand(typid, form));
	}
	else if (OidIsValid(form->typelem) &&
			 form->typsubscript == F_ARRAY_SUBSCRIPT_HANDLER)
	{
		/* an array type comes with its element type */
		commands = AppendTypeCreateCommands(commands, form->typelem, done);
	}
	else if (form->typtype == TYPTYPE_ENUM)
	{
		commands = lappend(commands, SchemaCreateCommand(form->typnamespace));
		commands = lappend(commands, EnumCreateCommand(typid, form));
	}
	else if (IsStandaloneComposite(form))
	{
		ListCell   *lc;

		foreach(lc, TypeParts(typid, form))
			commands = AppendTypeCreateCommands(commands, lfirst_oid(lc), done);
		commands = lappend(commands, SchemaCreateCommand(form->typnamespace));
		commands = lappend(commands, CompositeCreateCommand(typid, form));
	}
	else
		elog(ERROR, "type %s cannot be created on a node", format_type_be(typid));
	ReleaseSysCache(tuple);
	return commands;
}

/*
 * CollectTypesWalker adds to *types the user-made types of the values in an
 * expression (constants, conversions, function and operator results).
 */
static bool
CollectTypesWalker(Node *node, List **types)
{
	Oid			typid = InvalidOid;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Const:
		case T_CoerceViaIO:
		case T_RelabelType:
		case T_ArrayCoerceExpr:
		case T_CoerceToDomain:
		case T_ArrayExpr:
		case T_FuncExpr:
		case T_OpExpr:
			typid = exprType(node);
			break;
		default:
			break;
	}
	if (typid >= FirstNormalObjectId && !list_member_oid(*types, typid))
		*types = lappend_oid(*types, typid);
	return expression_tree_walker(node, CollectTypesWalker, types);
}

/*
 * EnumCreateCommand returns the statement that makes sure a node has enum
 * typid with the coordinator's labels, in their order.
 */
static char *
EnumCreateCommand(Oid typid, Form_pg_type form)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
	HeapTuple  *labels = palloc(sizeof(HeapTuple) * Max(list->n_members, 1));
	StringInfoData create;
	StringInfoData array;
	int			i;
	int			j;

	/* in sort order (the list comes in name order) */
	for (i = 0; i < list->n_members; i++)
	{
		HeapTuple	tuple = &list->members[i]->tuple;
		float4		order = ((Form_pg_enum) GETSTRUCT(tuple))->enumsortorder;

		for (j = i; j > 0 &&
			 ((Form_pg_enum) GETSTRUCT(labels[j - 1]))->enumsortorder > order; j--)
			labels[j] = labels[j - 1];
		labels[j] = tuple;
	}

	initStringInfo(&create);
	initStringInfo(&array);
	appendStringInfo(&create, "CREATE TYPE %s AS ENUM (",
					 quote_qualified_identifier(get_namespace_name(form->typnamespace),
												NameStr(form->typname)));
	appendStringInfoString(&array, "ARRAY[");
	for (i = 0; i < list->n_members; i++)
	{
		const char *label = quote_literal_cstr(NameStr(((Form_pg_enum) GETSTRUCT(labels[i]))->enumlabel));

		appendStringInfo(&create, "%s%s", i > 0 ? ", " : "", label);
		appendStringInfo(&array, "%s%s", i > 0 ? ", " : "", label);
	}
	appendStringInfoChar(&create, ')');
	appendStringInfoString(&array, "]::pg_catalog.text[]");
	ReleaseSysCacheList(list);

	return EnsureTypeCommand(form,
							 psprintf("ty.typtype = 'e' AND "
									  "(SELECT COALESCE(pg_catalog.array_agg(e.enumlabel::pg_catalog.text "
									  "ORDER BY e.enumsortorder), '{}') "
									  "FROM pg_catalog.pg_enum e WHERE e.enumtypid = ty.oid) = %s",
									  array.data),
							 list_make1(create.data));
}

/*
 * DomainCreateCommand returns the statement that makes sure a node has
 * domain typid with the coordinator's base type, collation, NOT NULL and
 * constraints (not its default: defaults are computed on the coordinator).
 */
static char *
DomainCreateCommand(Oid typid, Form_pg_type form)
{
	char	   *name = quote_qualified_identifier(get_namespace_name(form->typnamespace),
												  NameStr(form->typname));
	char	   *baseType = format_type_with_typemod(form->typbasetype, form->typtypmod);
	char	   *collation = NULL;
	List	   *names = NIL;
	List	   *creates = NIL;
	StringInfoData create;
	StringInfoData array;
	ListCell   *lc;

	if (OidIsValid(form->typcollation) &&
		form->typcollation != get_typcollation(form->typbasetype))
		collation = get_collation_name(form->typcollation);

	initStringInfo(&create);
	appendStringInfo(&create, "CREATE DOMAIN %s AS %s", name, baseType);
	if (collation != NULL)
		appendStringInfo(&create, " COLLATE pg_catalog.%s", quote_identifier(collation));
	if (form->typnotnull)
		appendStringInfoString(&create, " NOT NULL");
	creates = lappend(creates, create.data);

	/* constraints by name, names in byte order (as the node sorts them: COLLATE "C") */
	foreach(lc, DomainConstraints(typid))
	{
		Oid			constraintId = lfirst_oid(lc);
		char	   *conname = get_constraint_name(constraintId);
		ListCell   *pos;
		int			index = 0;

		creates = lappend(creates,
						  psprintf("ALTER DOMAIN %s ADD CONSTRAINT %s %s", name,
								   quote_identifier(conname),
								   TextDatumGetCString(OidFunctionCall1(F_PG_GET_CONSTRAINTDEF_OID,
																		ObjectIdGetDatum(constraintId)))));
		foreach(pos, names)
		{
			if (strcmp(lfirst(pos), conname) > 0)
				break;
			index++;
		}
		names = list_insert_nth(names, index, conname);
	}

	initStringInfo(&array);
	appendStringInfoString(&array, "ARRAY[");
	foreach(lc, names)
		appendStringInfo(&array, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(lfirst(lc)));
	appendStringInfoString(&array, "]::pg_catalog.text[]");

	/*
	 * Constraints are compared by name: a definition read back on the node
	 * need not print as the coordinator printed it (casts come out
	 * otherwise).
	 */
	return EnsureTypeCommand(form,
							 psprintf("ty.typtype = 'd' AND "
									  "pg_catalog.format_type(ty.typbasetype, ty.typtypmod) = %s AND "
									  "ty.typnotnull = %s AND "
									  "COALESCE((SELECT c.collname::pg_catalog.text FROM pg_catalog.pg_collation c "
									  "WHERE c.oid = ty.typcollation AND c.oid <> "
									  "(SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = ty.typbasetype)), '') = %s AND "
									  "(SELECT COALESCE(pg_catalog.array_agg(c.conname::pg_catalog.text "
									  "ORDER BY c.conname::pg_catalog.text COLLATE \"C\"), '{}') "
									  "FROM pg_catalog.pg_constraint c WHERE c.contypid = ty.oid) = %s",
									  quote_literal_cstr(baseType),
									  form->typnotnull ? "true" : "false",
									  quote_literal_cstr(collation ? collation : ""),
									  array.data),
							 creates);
}

/*
 * CompositeCreateCommand returns the statement that makes sure a node has
 * composite type typid with the coordinator's attributes (names, types and
 * collations, in order; dropped ones left out, as its values are written).
 */
static char *
CompositeCreateCommand(Oid typid, Form_pg_type form)
{
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(typid, -1);
	StringInfoData create;
	StringInfoData array;
	bool		first = true;
	int			i;

	initStringInfo(&create);
	initStringInfo(&array);
	appendStringInfo(&create, "CREATE TYPE %s AS (",
					 quote_qualified_identifier(get_namespace_name(form->typnamespace),
												NameStr(form->typname)));
	appendStringInfoString(&array, "ARRAY[");
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		char	   *type;

		if (attr->attisdropped)
			continue;
		type = format_type_with_typemod(attr->atttypid, attr->atttypmod);
		appendStringInfo(&create, "%s%s %s", first ? "" : ", ",
						 quote_identifier(NameStr(attr->attname)), type);
		if (OidIsValid(attr->attcollation) &&
			attr->attcollation != get_typcollation(attr->atttypid))
			appendStringInfo(&create, " COLLATE pg_catalog.%s",
							 quote_identifier(get_collation_name(attr->attcollation)));
		appendStringInfo(&array, "%s%s", first ? "" : ", ",
						 quote_literal_cstr(psprintf("%s %s", NameStr(attr->attname), type)));
		first = false;
	}
	appendStringInfoChar(&create, ')');
	appendStringInfoString(&array, "]::pg_catalog.text[]");

	return EnsureTypeCommand(form,
							 psprintf("ty.typtype = 'c' AND "
									  "(SELECT COALESCE(pg_catalog.array_agg(a.attname::pg_catalog.text "
									  "OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) "
									  "pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum), '{}') "
									  "FROM pg_catalog.pg_attribute a WHERE a.attrelid = ty.typrelid "
									  "AND a.attnum > 0 AND NOT a.attisdropped) = %s",
									  array.data),
							 list_make1(create.data));
}

/*
 * EnsureTypeCommand returns a DO block that, on a node without shardext
 * (the coordinator has the original), creates the type of form with
 * createCommands unless the node has a type of that name for which
 * sameCondition (an SQL condition on pg_type row "ty") holds.  A node type
 * of that name that differs is replaced when nothing on the node uses it
 * (left over from an earlier definition), else the statement fails.  The
 * node's search path is pg_catalog while it compares (definitions read
 * back with the names the coordinator wrote).
 */
static char *
EnsureTypeCommand(Form_pg_type form, const char *sameCondition,
				  List *createCommands)
{
	char	   *schema = get_namespace_name(form->typnamespace);
	char	   *qualified = quote_qualified_identifier(schema, NameStr(form->typname));
	StringInfoData body;
	ListCell   *lc;

	initStringInfo(&body);
	appendStringInfo(&body,
					 "DECLARE ty pg_catalog.pg_type; same bool; "
					 "path text := pg_catalog.current_setting('search_path'); BEGIN "
					 "IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'shardext') "
					 "THEN RETURN; END IF; "
					 "PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true); "
					 "SELECT t.* INTO ty FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
					 "ON n.oid = t.typnamespace WHERE n.nspname = %s AND t.typname = %s; "
					 "IF ty.oid IS NOT NULL THEN same := (%s); "
					 "IF NOT same AND (ty.typtype IN ('e', 'd') OR (ty.typtype = 'c' AND "
					 "(SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = ty.typrelid) = 'c')) "
					 "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
					 "WHERE d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass "
					 "AND d.refobjid IN (ty.oid, ty.typarray) AND d.deptype = 'n') THEN "
					 "EXECUTE 'DROP ' OPERATOR(pg_catalog.||) CASE ty.typtype WHEN 'd' THEN 'DOMAIN' "
					 "ELSE 'TYPE' END OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) %s; "
					 "ty.oid := NULL; "
					 "ELSIF NOT same THEN RAISE EXCEPTION USING ERRCODE = 'duplicate_object', "
					 "MESSAGE = %s, DETAIL = %s, HINT = %s; END IF; END IF; "
					 "IF ty.oid IS NULL THEN ",
					 quote_literal_cstr(schema),
					 quote_literal_cstr(NameStr(form->typname)),
					 sameCondition,
					 quote_literal_cstr(qualified),
					 quote_literal_cstr(psprintf("type %s on this node differs from the coordinator's",
												 qualified)),
					 quote_literal_cstr("It is not the same kind of type, or objects on the node use it, "
										"so shardext cannot create it anew."),
					 quote_literal_cstr("Make the node's type the same as the coordinator's, "
										"or drop what uses it there and then the type."));
	foreach(lc, createCommands)
		appendStringInfo(&body, "EXECUTE %s; ", quote_literal_cstr(lfirst(lc)));
	appendStringInfoString(&body,
						   "END IF; PERFORM pg_catalog.set_config('search_path', path, true); END");
	return DoBlock(body.data);
}

/* IdentityOfType returns the schema, name and kind of a type. */
static TypeIdentity *
IdentityOfType(Oid typid)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Form_pg_type form;
	TypeIdentity *identity;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", typid);
	form = (Form_pg_type) GETSTRUCT(tuple);
	identity = palloc0(sizeof(TypeIdentity));
	identity->schema = get_namespace_name(form->typnamespace);
	identity->name = pstrdup(NameStr(form->typname));
	identity->kind = form->typtype;
	ReleaseSysCache(tuple);
	return identity;
}

/* QualifiedIdentity returns the qualified, quoted name of a type identity. */
static char *
QualifiedIdentity(TypeIdentity *identity)
{
	return quote_qualified_identifier(identity->schema, identity->name);
}

/*
 * TypeOfNames returns the user-made enum or domain that a list of names
 * (or a TypeName) denotes, or InvalidOid.
 */
static Oid
TypeOfNames(List *names)
{
	TypeName   *typeName;
	Oid			typid;
	char		kind;

	if (names == NIL)
		return InvalidOid;
	typeName = IsA(names, TypeName) ? (TypeName *) names :
		makeTypeNameFromNameList(names);
	typid = LookupTypeNameOid(NULL, typeName, true);
	if (!OidIsValid(typid) || typid < FirstNormalObjectId)
		return InvalidOid;
	kind = get_typtype(typid);
	if (kind == TYPTYPE_COMPOSITE)
		return get_rel_relkind(get_typ_typrelid(typid)) == RELKIND_COMPOSITE_TYPE ?
			typid : InvalidOid;
	return (kind == TYPTYPE_ENUM || kind == TYPTYPE_DOMAIN) ? typid : InvalidOid;
}

/*
 * CreateColumnTypesOnOtherNodes creates the enum, domain and composite
 * types that the columns of table relid use on every active worker that
 * holds no placement of it (nodeIds lists those that do), in the
 * statement's remote transactions.  Every node then has every type a
 * shardext table uses: statements with parameters of such types go to any
 * node (NodesHaveParamType), and a later ALTER TYPE finds the type alike on
 * all of them (a federated table's type was on its one node only).
 */
void
CreateColumnTypesOnOtherNodes(Oid relid, List *nodeIds)
{
	List	   *commands = TableColumnTypeCommands(relid);
	ListCell   *lc;

	if (commands == NIL)
		return;
	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);

		if (node->role == NODE_ROLE_WORKER && node->isActive &&
			!list_member_int(nodeIds, node->nodeId))
			RunOnNode(node->nodeId, commands);
	}
}

/*
 * CreateColumnTypesOnNode is CreateColumnTypesOnOtherNodes for one node (one
 * that joins the cluster).
 */
void
CreateColumnTypesOnNode(Oid relid, int32 nodeId)
{
	RunOnNode(nodeId, TableColumnTypeCommands(relid));
}

/*
 * TableColumnTypeCommands returns the statements that make on a node the
 * types the columns of table relid use (ColumnTypeCreateCommands).
 */
static List *
TableColumnTypeCommands(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	int			nestLevel = SetDeparseGucs();
	List	   *commands = ColumnTypeCreateCommands(rel);

	PopDeparseGucs(nestLevel);
	relation_close(rel, NoLock);
	return commands;
}

/* RunOnNode sends commands to a node, in the statement's remote transaction. */
static void
RunOnNode(int32 nodeId, List *commands)
{
	NodeConnection *nc;
	ListCell   *lc;

	if (commands == NIL)
		return;
	nc = GetNodeConnectionInTransaction(nodeId, true);
	foreach(lc, commands)
		RemoteExecuteCommand(nc, (char *) lfirst(lc));
}

/*
 * NodeBaseType returns the type a value of type typid is sent to a node as:
 * a domain's base type, and for an array of domains that the nodes do not
 * have (no distributed table uses them) the array of their base type (the
 * coordinator checked the domains' constraints already).  An array of
 * domains the nodes have stays one: a column of that type compares only
 * with it.
 */
Oid
NodeBaseType(Oid typid)
{
	Oid			base = getBaseType(typid);
	Oid			element = get_element_type(base);
	Oid			elementBase;

	if (!OidIsValid(element))
		return base;
	elementBase = getBaseType(element);
	if (elementBase == element || !OidIsValid(get_array_type(elementBase)) ||
		TypeUsedByTables(element))
		return base;
	return get_array_type(elementBase);
}

/*
 * NodesHaveParamType tells whether a statement sent to the nodes can use a
 * parameter of type typid: a built-in type, a domain over one or an array
 * of such (sent as the built-in type: NodeBaseType), or an enum or
 * composite type, or an array of one, that a distributed table uses (sent
 * as text and cast to it: CastUserTypeParams).  Other parameters are
 * computed with on the coordinator.
 */
bool
NodesHaveParamType(Oid typid)
{
	Oid			base = NodeBaseType(typid);

	return base < FirstNormalObjectId || NodesHaveUserType(base);
}

/*
 * NodesHaveUserType tells whether the nodes have an enum, domain or
 * composite type, or an array of one (typid, not built in): a distributed
 * table uses it.
 */
bool
NodesHaveUserType(Oid typid)
{
	Oid			element = get_element_type(typid);

	return TypeUsedByTables(OidIsValid(element) ? element : typid);
}

/*
 * NodesHaveType tells whether a statement sent to the nodes may name type
 * typid: a built-in one, or one of the user types shardext creates on the
 * nodes (IsNodeType) that they have already, because a distributed table
 * uses it (TypeUsedByTables).  A cast to a domain no table uses yet would
 * fail there ("type does not exist"), so such an expression is computed
 * here.  While a type's own constraints are checked (a DDL statement), the
 * type is taken as the nodes will have it.
 */
bool
NodesHaveType(Oid typid)
{
	if (!IsNodeType(typid))
		return false;
	return typid < FirstNormalObjectId || CheckingNodeTypes() ||
		NodesHaveUserType(typid);
}

/*
 * TypeUsedByTables tells whether a column of a distributed table has type
 * typid or a type built on it: then every node has it (the nodes holding
 * the table's shards, and the others: CreateColumnTypesOnOtherNodes).
 */
bool
TypeUsedByTables(Oid typid)
{
	List	   *types = list_make1_oid(typid);
	bool		used = false;
	int			i;

	/*
	 * Through pg_depend, what depends on the type: a column of a table
	 * (distributed: found), of a composite type (whose type is then built
	 * on it), or a type (a domain over it, an array of it).  No table is
	 * opened, so no lock waits behind another statement's.
	 */
	for (i = 0; i < list_length(types) && !used; i++)
	{
		Relation	depend = table_open(DependRelationId, AccessShareLock);
		ScanKeyData keys[2];
		SysScanDesc scan;
		HeapTuple	tuple;

		ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
		ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(list_nth_oid(types, i)));
		scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL,
								  2, keys);
		while (!used && HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tuple);

			if (dep->classid == TypeRelationId)
				types = list_append_unique_oid(types, dep->objid);
			else if (dep->classid == RelationRelationId && dep->objsubid > 0)
			{
				if (ShardextGetTable(dep->objid) != NULL)
					used = true;
				else if (get_rel_relkind(dep->objid) == RELKIND_COMPOSITE_TYPE)
					types = list_append_unique_oid(types, get_rel_type_id(dep->objid));
			}
		}
		systable_endscan(scan);
		table_close(depend, AccessShareLock);
	}
	list_free(types);
	return used;
}

/*
 * CollectUsedTypes adds to *types typid and the types it is built of that
 * are in schema namespaceId and made on the nodes (enums, domains,
 * composite types).
 */
static void
CollectUsedTypes(Oid typid, Oid namespaceId, List **types)
{
	HeapTuple	tuple;
	Form_pg_type form;
	List	   *parts;
	ListCell   *lc;

	if (typid < FirstNormalObjectId || list_member_oid(*types, typid))
		return;
	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tuple))
		return;
	form = (Form_pg_type) GETSTRUCT(tuple);
	if (form->typnamespace == namespaceId &&
		(form->typtype == TYPTYPE_ENUM || form->typtype == TYPTYPE_DOMAIN ||
		 IsStandaloneComposite(form)))
		*types = lappend_oid(*types, typid);
	parts = TypeParts(typid, form);
	ReleaseSysCache(tuple);
	foreach(lc, parts)
		CollectUsedTypes(lfirst_oid(lc), namespaceId, types);
}

/*
 * TypesUsedInSchema returns the types in schema namespaceId that columns
 * of distributed tables use (the nodes have them).
 */
static List *
TypesUsedInSchema(Oid namespaceId)
{
	List	   *types = NIL;
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);
		Relation	rel = relation_open(table->relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		int			i;

		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				CollectUsedTypes(TupleDescAttr(desc, i)->atttypid, namespaceId, &types);
		relation_close(rel, AccessShareLock);
	}
	return types;
}

/*
 * CheckEnumRenameValue refuses ALTER TYPE ... RENAME VALUE of an enum that a
 * range or directory table is distributed by: its bounds or keys are in the
 * catalog as labels.
 */
static void
CheckEnumRenameValue(Oid typid)
{
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);

		if ((table->type == DIST_RANGE || table->type == DIST_DIRECTORY) &&
			table->distAttno != InvalidAttrNumber &&
			TypeUses(table->distTypeId, typid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot rename a value of enum %s: table %s is distributed by it",
							format_type_be(typid), get_rel_name(table->relid)),
					 errdetail("Its shard bounds or directory keys are kept as labels."),
					 errhint("Call undistribute_table() first, or add a new value instead.")));
	}
}

/*
 * BeforeTypeStatement notes, before a statement runs, what
 * PropagateTypeStatement needs to repeat it on the nodes: the enums and
 * domains it names.  Returns NULL for statements about nothing of the kind.
 */
TypeStatement *
BeforeTypeStatement(Node *parsetree)
{
	TypeStatement *state = palloc0(sizeof(TypeStatement));
	Oid			typid = InvalidOid;
	ListCell   *lc;

	state->parsetree = parsetree;
	switch (nodeTag(parsetree))
	{
		case T_AlterEnumStmt:
			typid = TypeOfNames(((AlterEnumStmt *) parsetree)->typeName);
			if (OidIsValid(typid) && ((AlterEnumStmt *) parsetree)->oldVal != NULL)
				CheckEnumRenameValue(typid);
			break;
		case T_AlterDomainStmt:
			{
				AlterDomainStmt *stmt = (AlterDomainStmt *) parsetree;

				typid = TypeOfNames(stmt->typeName);
				if (OidIsValid(typid) && stmt->subtype == 'C')
					state->oldConstraints = DomainConstraints(typid);
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				/* a renamed schema: its types move on the nodes */
				if (stmt->renameType == OBJECT_SCHEMA)
				{
					Oid			namespaceId = get_namespace_oid(stmt->subname, true);

					if (OidIsValid(namespaceId))
						foreach(lc, TypesUsedInSchema(namespaceId))
							state->names = lappend(state->names,
												   IdentityOfType(lfirst_oid(lc)));
					return state->names != NIL ? state : NULL;
				}
				if (stmt->renameType == OBJECT_TYPE ||
					stmt->renameType == OBJECT_DOMAIN ||
					stmt->renameType == OBJECT_DOMCONSTRAINT)
					typid = TypeOfNames(castNode(List, stmt->object));
				else if (stmt->renameType == OBJECT_ATTRIBUTE && stmt->relation != NULL)
				{
					Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

					if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_COMPOSITE_TYPE)
						typid = get_rel_type_id(relid);
				}
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				if (stmt->objectType == OBJECT_TYPE ||
					stmt->objectType == OBJECT_DOMAIN)
					typid = TypeOfNames(castNode(List, stmt->object));
				break;
			}
		case T_AlterTableStmt:
			{
				/* ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE */
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
				Oid			relid;

				if (stmt->objtype != OBJECT_TYPE || stmt->relation == NULL)
					break;
				relid = RangeVarGetRelid(stmt->relation, NoLock, true);
				if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_COMPOSITE_TYPE)
					typid = get_rel_type_id(relid);
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				if (stmt->removeType != OBJECT_TYPE &&
					stmt->removeType != OBJECT_DOMAIN)
					break;
				foreach(lc, stmt->objects)
				{
					Oid			dropped = TypeOfNames(lfirst(lc));

					if (OidIsValid(dropped))
						state->names = lappend(state->names, IdentityOfType(dropped));
				}
				break;
			}
		default:
			break;
	}
	if (OidIsValid(typid))
		state->names = lappend(state->names, IdentityOfType(typid));
	state->typid = typid;

	/*
	 * Only the nodes holding shards of tables that use a type are sure to
	 * have it as the coordinator does: one a node has left over from
	 * earlier, or of its own, is left alone (and replaced when needed).
	 */
	if (OidIsValid(typid) && !TypeUsedByTables(typid))
		return NULL;
	if (IsA(parsetree, DropStmt))
	{
		List	   *used = NIL;

		foreach(lc, state->names)
		{
			TypeIdentity *identity = lfirst(lc);
			Oid			dropped = TypeOfNames(list_make2(makeString(identity->schema),
														 makeString(identity->name)));

			if (OidIsValid(dropped) && TypeUsedByTables(dropped))
				used = lappend(used, identity);
		}
		state->names = used;
	}
	return state->names != NIL ? state : NULL;
}

/*
 * OnNodesHavingType wraps statements about a type so that a node runs them
 * when it has that type (of that kind), and the coordinator, which has
 * shardext and ran them already, does not.
 */
static char *
OnNodesHavingType(TypeIdentity *identity, List *commands)
{
	StringInfoData body;
	ListCell   *lc;

	initStringInfo(&body);
	appendStringInfo(&body,
					 "BEGIN "
					 "IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'shardext') "
					 "AND EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
					 "ON n.oid = t.typnamespace WHERE n.nspname = %s AND t.typname = %s "
					 "AND t.typtype = '%c') THEN ",
					 quote_literal_cstr(identity->schema),
					 quote_literal_cstr(identity->name), identity->kind);
	foreach(lc, commands)
		appendStringInfo(&body, "EXECUTE %s; ", quote_literal_cstr(lfirst(lc)));
	appendStringInfoString(&body, "END IF; END");
	return DoBlock(body.data);
}

/*
 * PropagateTypeStatement repeats on every node that has them, after the
 * statement ran here, what a statement noted by BeforeTypeStatement changed
 * of enums and domains.
 */
void
PropagateTypeStatement(TypeStatement *state)
{
	Node	   *parsetree = state->parsetree;
	TypeIdentity *identity = linitial(state->names);
	char	   *name = QualifiedIdentity(identity);
	const char *keyword = identity->kind == TYPTYPE_DOMAIN ? "DOMAIN" : "TYPE";
	List	   *commands = NIL;
	List	   *typeCommands = NIL;
	ListCell   *lc;
	int			nestLevel;

	nestLevel = SetDeparseGucs();
	switch (nodeTag(parsetree))
	{
		case T_AlterEnumStmt:
			{
				AlterEnumStmt *stmt = (AlterEnumStmt *) parsetree;

				if (stmt->oldVal != NULL)
					commands = list_make1(psprintf("ALTER TYPE %s RENAME VALUE %s TO %s", name,
												   quote_literal_cstr(stmt->oldVal),
												   quote_literal_cstr(stmt->newVal)));
				else
					commands = list_make1(psprintf("ALTER TYPE %s ADD VALUE %s%s%s%s", name,
												   stmt->skipIfNewValExists ? "IF NOT EXISTS " : "",
												   quote_literal_cstr(stmt->newVal),
												   stmt->newValNeighbor == NULL ? "" :
												   stmt->newValIsAfter ? " AFTER " : " BEFORE ",
												   stmt->newValNeighbor == NULL ? "" :
												   quote_literal_cstr(stmt->newValNeighbor)));
				break;
			}
		case T_AlterDomainStmt:
			{
				AlterDomainStmt *stmt = (AlterDomainStmt *) parsetree;

				switch (stmt->subtype)
				{
					case 'N':
						commands = list_make1(psprintf("ALTER DOMAIN %s DROP NOT NULL", name));
						break;
					case 'O':
						commands = list_make1(psprintf("ALTER DOMAIN %s SET NOT NULL", name));
						break;
					case 'C':
						foreach(lc, DomainConstraints(state->typid))
						{
							Oid			constraintId = lfirst_oid(lc);

							if (list_member_oid(state->oldConstraints, constraintId))
								continue;
							CheckConstraintShippable(constraintId, name);
							commands = lappend(commands,
											   psprintf("ALTER DOMAIN %s ADD CONSTRAINT %s %s", name,
														quote_identifier(get_constraint_name(constraintId)),
														TextDatumGetCString(OidFunctionCall1(F_PG_GET_CONSTRAINTDEF_OID,
																							 ObjectIdGetDatum(constraintId)))));
						}
						break;
					case 'X':
						commands = list_make1(psprintf("ALTER DOMAIN %s DROP CONSTRAINT IF EXISTS %s",
													   name, quote_identifier(stmt->name)));
						break;
					case 'V':
						commands = list_make1(psprintf("ALTER DOMAIN %s VALIDATE CONSTRAINT %s",
													   name, quote_identifier(stmt->name)));
						break;
					default:
						/* SET/DROP DEFAULT: defaults stay on the coordinator */
						break;
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA)
				{
					Oid			namespaceId = get_namespace_oid(stmt->newname, false);
					List	   *all = NIL;

					foreach(lc, state->names)
					{
						TypeIdentity *moved = lfirst(lc);

						all = lappend(all,
									  OnNodesHavingType(moved,
														list_make2(SchemaCreateCommand(namespaceId),
																   psprintf("ALTER %s %s SET SCHEMA %s",
																			moved->kind == TYPTYPE_DOMAIN ?
																			"DOMAIN" : "TYPE",
																			QualifiedIdentity(moved),
																			quote_identifier(stmt->newname)))));
					}
					PopDeparseGucs(nestLevel);
					RunOnNodes(CreateCommandName(parsetree), all);
					return;
				}
				if (stmt->renameType == OBJECT_DOMCONSTRAINT)
					commands = list_make1(psprintf("ALTER DOMAIN %s RENAME CONSTRAINT %s TO %s",
												   name, quote_identifier(stmt->subname),
												   quote_identifier(stmt->newname)));
				else if (stmt->renameType == OBJECT_ATTRIBUTE)
					commands = list_make1(psprintf("ALTER TYPE %s RENAME ATTRIBUTE %s TO %s",
												   name, quote_identifier(stmt->subname),
												   quote_identifier(stmt->newname)));
				else
					commands = list_make1(psprintf("ALTER %s %s RENAME TO %s", keyword, name,
												   quote_identifier(stmt->newname)));
				break;
			}
		case T_AlterTableStmt:
			commands = AttributeCommands((AlterTableStmt *) parsetree,
										 state->typid, name, &typeCommands);
			break;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;
				Oid			namespaceId = get_namespace_oid(stmt->newschema, false);

				commands = list_make2(SchemaCreateCommand(namespaceId),
									  psprintf("ALTER %s %s SET SCHEMA %s", keyword, name,
											   quote_identifier(stmt->newschema)));
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				foreach(lc, state->names)
				{
					TypeIdentity *dropped = lfirst(lc);

					commands = lappend(commands,
									   OnNodesHavingType(dropped, list_make1(psprintf("DROP %s %s%s",
																  dropped->kind == TYPTYPE_DOMAIN ?
																  "DOMAIN" : "TYPE",
																  QualifiedIdentity(dropped),
																  stmt->behavior == DROP_CASCADE ?
																  " CASCADE" : ""))));
				}
				PopDeparseGucs(nestLevel);
				RunOnNodes(CreateCommandName(parsetree), commands);
				return;
			}
		default:
			break;
	}
	PopDeparseGucs(nestLevel);

	if (commands != NIL)
		RunOnNodes(CreateCommandName(parsetree),
				   lappend(typeCommands, OnNodesHavingType(identity, commands)));
}

/*
 * AttributeCommands returns the ALTER TYPE statement that repeats on a
 * node what an ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE did to composite
 * type typid (named name), and in *typeCommands those that give the nodes
 * the types of added or changed attributes.  Call it after the statement
 * ran, under SetDeparseGucs.
 */
static List *
AttributeCommands(AlterTableStmt *stmt, Oid typid, const char *name,
				  List **typeCommands)
{
	Oid			relid = get_typ_typrelid(typid);
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		const char *attname = (cmd->subtype == AT_AddColumn) ?
			((ColumnDef *) cmd->def)->colname : cmd->name;
		const char *separator = sql.len > 0 ? ", " : "";

		if (cmd->subtype == AT_AddColumn || cmd->subtype == AT_AlterColumnType)
		{
			AttrNumber	attnum = get_attnum(relid, attname);
			Oid			atttype;
			int32		atttypmod;
			Oid			attcollation;

			if (attnum == InvalidAttrNumber)
				continue;
			get_atttypetypmodcoll(relid, attnum, &atttype, &atttypmod, &attcollation);
			*typeCommands = list_concat(*typeCommands, TypeCreateCommands(atttype));
			appendStringInfo(&sql, "%s%s ATTRIBUTE %s %s%s", separator,
							 cmd->subtype == AT_AddColumn ? "ADD" : "ALTER",
							 quote_identifier(attname),
							 cmd->subtype == AT_AddColumn ? "" : "TYPE ",
							 format_type_with_typemod(atttype, atttypmod));
			if (OidIsValid(attcollation) && attcollation != get_typcollation(atttype))
				appendStringInfo(&sql, " COLLATE pg_catalog.%s",
								 quote_identifier(get_collation_name(attcollation)));
		}
		else if (cmd->subtype == AT_DropColumn)
			appendStringInfo(&sql, "%sDROP ATTRIBUTE %s%s", separator,
							 cmd->missing_ok ? "IF EXISTS " : "",
							 quote_identifier(attname));
		else
			continue;
		if (cmd->behavior == DROP_CASCADE)
			appendStringInfoString(&sql, " CASCADE");
	}
	if (sql.len == 0)
		return NIL;
	return list_make1(psprintf("ALTER TYPE %s %s", name, sql.data));
}

/*
 * CheckConstraintShippable refuses a new constraint of a domain that
 * distributed tables use when the nodes cannot evaluate it.
 */
static void
CheckConstraintShippable(Oid constraintId, const char *domainName)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintId));
	Datum		conbin;
	bool		isNull;
	bool		shippable = true;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintId);
	conbin = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conbin, &isNull);
	if (!isNull)
		shippable = IsShippableExpression(stringToNode(TextDatumGetCString(conbin)));
	ReleaseSysCache(tuple);
	if (!shippable)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot add constraint \"%s\" to domain %s, which distributed tables use",
						get_constraint_name(constraintId), domainName),
				 errdetail("The nodes check it, and have only the built-in functions and operators "
						   "of PostgreSQL and the types shardext gives them."),
				 errhint("Define the constraint with built-in functions only.")));
}

/*
 * RunOnNodes sends commands to every active worker (those the current role
 * can reach: NodesReachable), in the remote transactions.
 */
static void
RunOnNodes(const char *what, List *commands)
{
	ListCell   *lc;

	foreach(lc, NodesReachable(what))
	{
		NodeConnection *nc = GetNodeConnectionInTransaction(((ShardextNode *) lfirst(lc))->nodeId,
															true);
		ListCell   *cc;

		foreach(cc, commands)
			RemoteExecuteCommand(nc, lfirst(cc));
	}
}
