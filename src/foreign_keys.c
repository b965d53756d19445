/*-------------------------------------------------------------------------
 *
 * foreign_keys.c
 *	  Foreign keys between distributed tables, enforced on the nodes.
 *
 * A foreign key can hold between shards only when every referencing row
 * and the row it references live in the same database: so shardext
 * accepts a foreign key of a distributed table only
 *
 *	- to a reference table (a copy is on every node, the coordinator
 *	  included), from any distributed table, or
 *	- to a hash or range table co-located with the referencing one, when
 *	  the key sends the referencing table's distribution column to the
 *	  referenced table's distribution column (equal values, same shard
 *	  group, same node), or
 *	- to itself, under the same condition, or to a federated table from a
 *	  federated table on the same node.
 *
 * The constraint stays in the coordinator's catalog (so \d, pg_dump, DROP
 * ... CASCADE and TRUNCATE see it as usual; its triggers sit on the
 * coordinator's empty tables and never fire) and every shard gets the same
 * constraint, named per shard (<name>_<shardid>, as index-backed
 * constraints), to the shard of the referenced table in its shard group on
 * its node.  The nodes check rows and run the ON DELETE / ON UPDATE
 * actions; their messages name the shards, which the executor renames back
 * (LogicalNames).  An action that would change the referencing table's
 * distribution column (SET NULL, SET DEFAULT, ON UPDATE CASCADE) is
 * refused: the row would stay in a shard its new value does not map to;
 * so is SET DEFAULT of a column whose default only the coordinator has.
 *
 * PostgreSQL checks a statement's rows when it ends; a statement that
 * reaches a node in several batches defers the table's keys to itself (and
 * its deferrable constraints not deferred at the time) there until it ends
 * (KeyDeferral).  SET CONSTRAINTS reaches each node with its shards' names
 * (NodeConstraintsSetCommand).
 *
 * Local tables cannot reference distributed tables (deletes run on the
 * nodes, which cannot see the local rows), and distributed tables cannot
 * reference local ones.
 *
 * IDENTIFICATION
 *	  src/foreign_keys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "lib/stringinfo.h"
#include "rewrite/rewriteHandler.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "shardext/foreign_keys.h"
#include "shardext/connection.h"
#include "shardext/metadata_cache.h"
#include "shardext/remote_exec.h"
#include "shardext/shard_ddl.h"

static List *ConstraintColumns(HeapTuple tuple, AttrNumber attribute);
static void AppendColumnNames(StringInfo buf, Oid relid, List *attnums);
static const char *ActionName(char action);
static bool ActionChangesColumn(char action);
static void CheckForeignKey(ShardextTable *table, HeapTuple tuple);
static List *DeferrableConstraintOids(void);
static List *TableConstraints(Oid relid);

/*
 * ConstraintColumns returns the attribute numbers (an int List) stored in
 * int2[] column attribute (conkey, confkey, confdelsetcols) of a
 * pg_constraint tuple; NIL when it is null.
 */
static List *
ConstraintColumns(HeapTuple tuple, AttrNumber attribute)
{
	bool		isNull;
	Datum		datum = SysCacheGetAttr(CONSTROID, tuple, attribute, &isNull);
	Datum	   *elements;
	int			count;
	List	   *result = NIL;
	int			i;

	if (isNull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(datum), INT2OID, 2, true,
					  TYPALIGN_SHORT, &elements, NULL, &count);
	for (i = 0; i < count; i++)
		result = lappend_int(result, DatumGetInt16(elements[i]));
	return result;
}

/* AppendColumnNames appends "(a, b)" for columns attnums of relid. */
static void
AppendColumnNames(StringInfo buf, Oid relid, List *attnums)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '(');
	foreach(lc, attnums)
	{
		if (lc != list_head(attnums))
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf,
							   quote_identifier(get_attname(relid, lfirst_int(lc),
															false)));
	}
	appendStringInfoChar(buf, ')');
}

/* ActionName returns the SQL of a referential action code. */
static const char *
ActionName(char action)
{
	switch (action)
	{
		case FKCONSTR_ACTION_NOACTION:
			return "NO ACTION";
		case FKCONSTR_ACTION_RESTRICT:
			return "RESTRICT";
		case FKCONSTR_ACTION_CASCADE:
			return "CASCADE";
		case FKCONSTR_ACTION_SETNULL:
			return "SET NULL";
		case FKCONSTR_ACTION_SETDEFAULT:
			return "SET DEFAULT";
	}
	elog(ERROR, "unrecognized foreign key action \"%c\"", action);
	return NULL;				/* keep compiler quiet */
}

/* ActionChangesColumn tells whether an action writes referencing columns. */
static bool
ActionChangesColumn(char action)
{
	return action == FKCONSTR_ACTION_SETNULL ||
		action == FKCONSTR_ACTION_SETDEFAULT;
}

/*
 * ForeignKeyIdentity returns a string that changes exactly when what the
 * shards' copy of foreign key constraintOid enforces changes: the columns
 * (by number, so renames do not count), the referenced table, the actions,
 * MATCH and deferrability.  Whether it is validated is apart (see
 * ForeignKeyIsValidated).
 */
char *
ForeignKeyIdentity(Oid constraintOid)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintOid));
	Form_pg_constraint constraint;
	StringInfoData buf;
	ListCell   *lc;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintOid);
	constraint = (Form_pg_constraint) GETSTRUCT(tuple);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%u %c %c %c %d %d (", constraint->confrelid,
					 constraint->confupdtype, constraint->confdeltype,
					 constraint->confmatchtype, constraint->condeferrable,
					 constraint->condeferred);
	foreach(lc, ConstraintColumns(tuple, Anum_pg_constraint_conkey))
		appendStringInfo(&buf, " %d", lfirst_int(lc));
	appendStringInfoString(&buf, ") (");
	foreach(lc, ConstraintColumns(tuple, Anum_pg_constraint_confkey))
		appendStringInfo(&buf, " %d", lfirst_int(lc));
	appendStringInfoString(&buf, ") (");
	foreach(lc, ConstraintColumns(tuple, Anum_pg_constraint_confdelsetcols))
		appendStringInfo(&buf, " %d", lfirst_int(lc));
	appendStringInfoChar(&buf, ')');
	ReleaseSysCache(tuple);
	return buf.data;
}

/* ForeignKeyIsValidated tells whether a foreign key is validated. */
bool
ForeignKeyIsValidated(Oid constraintOid)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintOid));
	bool		validated;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintOid);
	validated = ((Form_pg_constraint) GETSTRUCT(tuple))->convalidated;
	ReleaseSysCache(tuple);
	return validated;
}

/*
 * ForeignKeyShardDefinition returns the body of foreign key constraintOid
 * for the shard of shard group shardIndex of its table: "FOREIGN KEY (...)
 * REFERENCES <shard of the referenced table in that group> (...) ...",
 * built from the catalog fields (the referenced table's name changes per
 * shard).  It is NOT VALID when the coordinator's constraint is.
 */
char *
ForeignKeyShardDefinition(Oid constraintOid, int shardIndex)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintOid));
	Form_pg_constraint constraint;
	ShardextTable *referenced;
	StringInfoData buf;
	List	   *setColumns;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintOid);
	constraint = (Form_pg_constraint) GETSTRUCT(tuple);
	referenced = ShardextGetTable(constraint->confrelid);
	if (referenced == NULL)
		elog(ERROR, "foreign key %u references table %u, which is not distributed",
			 constraintOid, constraint->confrelid);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "FOREIGN KEY ");
	AppendColumnNames(&buf, constraint->conrelid,
					  ConstraintColumns(tuple, Anum_pg_constraint_conkey));
	appendStringInfo(&buf, " REFERENCES %s ",
					 ShardTableName(constraint->confrelid,
									GroupShard(referenced, shardIndex)->shardId));
	AppendColumnNames(&buf, constraint->confrelid,
					  ConstraintColumns(tuple, Anum_pg_constraint_confkey));
	if (constraint->confmatchtype == FKCONSTR_MATCH_FULL)
		appendStringInfoString(&buf, " MATCH FULL");
	appendStringInfo(&buf, " ON UPDATE %s ON DELETE %s",
					 ActionName(constraint->confupdtype),
					 ActionName(constraint->confdeltype));
	setColumns = ConstraintColumns(tuple, Anum_pg_constraint_confdelsetcols);
	if (setColumns != NIL)
	{
		appendStringInfoChar(&buf, ' ');
		AppendColumnNames(&buf, constraint->conrelid, setColumns);
	}
	/*
	 * A key to its own table is deferrable on the shards, so that a
	 * statement sending rows in batches can defer it (BeginKeyDeferral).
	 */
	if (constraint->condeferrable || constraint->confrelid == constraint->conrelid)
		appendStringInfoString(&buf, " DEFERRABLE");
	if (constraint->condeferred)
		appendStringInfoString(&buf, " INITIALLY DEFERRED");
	if (!constraint->convalidated)
		appendStringInfoString(&buf, " NOT VALID");
	ReleaseSysCache(tuple);
	return buf.data;
}

/*
 * TableConstraints returns the constraints of table relid, in name order,
 * as palloc'd copies of their pg_constraint fixed-size fields
 * (Form_pg_constraint).
 */
static List *
TableConstraints(Oid relid)
{
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint copy = palloc(sizeof(FormData_pg_constraint));

		memcpy(copy, GETSTRUCT(tuple), sizeof(FormData_pg_constraint));
		result = lappend(result, copy);
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);
	return result;
}

/*
 * ForeignKeyOids returns the OIDs of the foreign keys of table relid
 * (referencing), in name order.
 */
List *
ForeignKeyOids(Oid relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, TableConstraints(relid))
	{
		Form_pg_constraint constraint = lfirst(lc);

		if (constraint->contype == CONSTRAINT_FOREIGN)
			result = lappend_oid(result, constraint->oid);
	}
	return result;
}

/*
 * ShardForeignKeyCommands returns the ALTER TABLE statements that give a
 * shard of table relid the table's foreign keys, named per shard
 * (ShardObjectName: on the coordinator, a reference table's copy shares the
 * table's schema, and SET CONSTRAINTS by name must tell them apart).  The
 * nodes validate the existing rows.
 */
List *
ShardForeignKeyCommands(Oid relid, ShardextShard *shard)
{
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, ForeignKeyOids(relid))
	{
		Oid			constraintOid = lfirst_oid(lc);

		commands = lappend(commands,
						   psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s",
									shard->relationName,
									ShardObjectName(get_constraint_name(constraintOid),
													shard->shardId),
									ForeignKeyShardDefinition(constraintOid,
															  shard->shardIndex)));
	}
	return commands;
}

/*
 * ReferencingTables returns the tables other than relid that have a
 * foreign key to relid (pg_constraint has no index on confrelid: this scans
 * it whole, which is fine for DDL).
 */
List *
ReferencingTables(Oid relid)
{
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_confrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(constraintRel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);

		if (constraint->contype == CONSTRAINT_FOREIGN &&
			constraint->conrelid != relid)
			result = list_append_unique_oid(result, constraint->conrelid);
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);
	return result;
}

/*
 * KeyCheckedPerBatch returns the name of a foreign key referencing table
 * relid that would be checked, or would act, after each statement when an
 * UPDATE (update) or DELETE sends one shard its rows in several statements,
 * where PostgreSQL checks it once at the end of the one statement: a key of
 * the table to itself with an action (its NO ACTION keys are deferred
 * across the statements, BeginKeyDeferral) and, for an UPDATE, a key of
 * another table that is not deferred now (a DELETE's checks and actions on
 * other tables come out the same either way).  NULL when there is none.
 * Scans pg_constraint whole: called only when a shard needs a second
 * statement.
 */
char *
KeyCheckedPerBatch(Oid relid, bool update)
{
	Relation	constraintRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *result = NULL;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_confrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(constraintRel, InvalidOid, false, NULL, 1, &key);
	while (result == NULL && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);
		char		action = update ? constraint->confupdtype : constraint->confdeltype;

		if (constraint->contype != CONSTRAINT_FOREIGN)
			continue;
		if (constraint->conrelid == relid ?
			action != FKCONSTR_ACTION_NOACTION :
			update && (action != FKCONSTR_ACTION_NOACTION ||
					   !constraint->condeferrable ||
					   !ConstraintDeferredNow(constraint->oid, constraint->condeferred)))
			result = pstrdup(NameStr(constraint->conname));
	}
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);
	return result;
}

/*
 * CheckForeignKey raises an error unless one foreign key of distributed
 * table table can hold between its shards (see the file header).
 */
static void
CheckForeignKey(ShardextTable *table, HeapTuple tuple)
{
	Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);
	const char *name = NameStr(constraint->conname);
	char	   *tableName = get_rel_name(constraint->conrelid);
	char	   *referencedName = get_rel_name(constraint->confrelid);
	ShardextTable *referenced = ShardextGetTable(constraint->confrelid);
	List	   *keys = ConstraintColumns(tuple, Anum_pg_constraint_conkey);
	List	   *referencedKeys = ConstraintColumns(tuple, Anum_pg_constraint_confkey);
	List	   *setColumns = ConstraintColumns(tuple, Anum_pg_constraint_confdelsetcols);
	bool		pairsDistributionColumns = false;
	ListCell   *lc;
	ListCell   *rc;

	if (referenced == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign key \"%s\" of distributed table \"%s\" cannot reference local table \"%s\"",
						name, tableName, referencedName),
				 errdetail("The shards are on the nodes, which cannot see the rows of a local table."),
				 errhint("Make \"%s\" a reference table with create_reference_table(), or distribute it "
						 "co-located with \"%s\", then add the foreign key.",
						 referencedName, tableName)));

	if (!IsSingleShardTable(table))
		forboth(lc, keys, rc, referencedKeys)
			if (lfirst_int(lc) == table->distAttno &&
				!IsSingleShardTable(referenced) &&
				lfirst_int(rc) == referenced->distAttno)
				pairsDistributionColumns = true;

	if (IsReferenceTable(referenced))
	{
		/* every node has a copy */
	}
	else if (referenced->type == DIST_FEDERATED)
	{
		if (table->type != DIST_FEDERATED ||
			referenced->shards[0]->nodeId != table->shards[0]->nodeId)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("foreign key \"%s\" of table \"%s\" cannot reference federated table \"%s\"",
							name, tableName, referencedName),
					 errdetail("Only a federated table on the same node can reference a federated table."),
					 errhint("Make \"%s\" a reference table instead.", referencedName)));
	}
	else if (IsSingleShardTable(table) ||
			 (table->relid != referenced->relid &&
			  (table->type == DIST_DIRECTORY || referenced->type == DIST_DIRECTORY ||
			   table->colocationId != referenced->colocationId)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign key \"%s\" of table \"%s\" cannot reference distributed table \"%s\"",
						name, tableName, referencedName),
				 errdetail(IsSingleShardTable(table) ?
						   "A %s table cannot reference a distributed table: its rows are not split like the referenced rows." :
						   "The tables are not co-located, so a row and the row it references may be on different nodes.",
						   DistributionTypeName(table->type)),
				 IsSingleShardTable(table) ?
				 errhint("Make \"%s\" a reference table, or distribute \"%s\" co-located with it.",
						 referencedName, tableName) :
				 errhint("Distribute \"%s\" with colocate_with => '%s' (same distribution type, "
						 "column type and shard count), or make \"%s\" a reference table.",
						 tableName, referencedName, referencedName)));
	else if (!pairsDistributionColumns)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign key \"%s\" of table \"%s\" must include distribution column \"%s\"",
						name, tableName, table->distColumnName),
				 errdetail("The key must send \"%s\" to the distribution column \"%s\" of \"%s\", so that a row "
						   "and the row it references are in the same shard group.",
						   table->distColumnName, referenced->distColumnName, referencedName),
				 errhint("Reference a unique key of \"%s\" that holds \"%s\", with \"%s\" at its place in the key.",
						 referencedName, referenced->distColumnName, table->distColumnName)));

	/* SET DEFAULT runs on the nodes, which only have the defaults they can compute */
	if (constraint->confdeltype == FKCONSTR_ACTION_SETDEFAULT ||
		constraint->confupdtype == FKCONSTR_ACTION_SETDEFAULT)
	{
		Relation	rel = table_open(constraint->conrelid, AccessShareLock);
		List	   *affected = keys;

		if (constraint->confupdtype != FKCONSTR_ACTION_SETDEFAULT && setColumns != NIL)
			affected = setColumns;
		foreach(lc, affected)
		{
			Node	   *def = build_column_default(rel, lfirst_int(lc));

			if (def != NULL && !IsShippableExpression(def))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("foreign key \"%s\" of table \"%s\" cannot use SET DEFAULT for column \"%s\"",
								name, tableName,
								get_attname(constraint->conrelid, lfirst_int(lc), false)),
						 errdetail("The action runs on the nodes, which cannot compute the column's default "
								   "(a sequence, an identity, or a function that is not built in)."),
						 errhint("Use SET NULL, CASCADE or NO ACTION, or give the column a constant default.")));
		}
		table_close(rel, AccessShareLock);
	}

	/* actions must leave the distribution column as it is */
	if (!IsSingleShardTable(table) && list_member_int(keys, table->distAttno))
	{
		bool		changesDistribution =
			ActionChangesColumn(constraint->confupdtype) ||
			constraint->confupdtype == FKCONSTR_ACTION_CASCADE ||
			(ActionChangesColumn(constraint->confdeltype) &&
			 (setColumns == NIL || list_member_int(setColumns, table->distAttno)));

		if (changesDistribution)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("foreign key \"%s\" of table \"%s\" cannot change distribution column \"%s\"",
							name, tableName, table->distColumnName),
					 errdetail("ON UPDATE CASCADE, SET NULL and SET DEFAULT would change the column on its node, "
							   "leaving the row in a shard its new value does not belong to."),
					 errhint("Use NO ACTION, RESTRICT or ON DELETE CASCADE, or list only other columns "
							 "in ON DELETE SET NULL (...).")));
	}
}

/*
 * CheckForeignKeys raises an error unless every foreign key of distributed
 * table relid can hold between shards, and no local table references it.
 */
void
CheckForeignKeys(Oid relid)
{
	ShardextTable *table = ShardextGetTable(relid);
	ListCell   *lc;

	if (table == NULL)
		elog(ERROR, "table %u is not distributed", relid);
	foreach(lc, ForeignKeyOids(relid))
	{
		HeapTuple	tuple = SearchSysCache1(CONSTROID,
											ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for constraint %u", lfirst_oid(lc));
		CheckForeignKey(table, tuple);
		ReleaseSysCache(tuple);
	}
	foreach(lc, ReferencingTables(relid))
		if (ShardextGetTable(lfirst_oid(lc)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("local table \"%s\" cannot reference distributed table \"%s\"",
							get_rel_name(lfirst_oid(lc)), get_rel_name(relid)),
					 errdetail("Rows of a distributed table are deleted and updated on the nodes, "
							   "which cannot check the rows that reference them here."),
					 errhint("Distribute \"%s\" too (co-located, or \"%s\" as a reference table), "
							 "or drop its foreign key.",
							 get_rel_name(lfirst_oid(lc)), get_rel_name(relid))));
}

/*
 * CheckUndistributeForeignKeys raises an error if table relid has foreign
 * keys or is referenced by one: undistributing would leave a key between a
 * local and a distributed table, and the rows copied back would be checked
 * by queries sent to the shards being read.
 */
void
CheckUndistributeForeignKeys(Oid relid)
{
	ListCell   *lc;

	foreach(lc, ForeignKeyOids(relid))
	{
		HeapTuple	tuple = SearchSysCache1(CONSTROID,
											ObjectIdGetDatum(lfirst_oid(lc)));
		Oid			referenced;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for constraint %u", lfirst_oid(lc));
		referenced = ((Form_pg_constraint) GETSTRUCT(tuple))->confrelid;
		ReleaseSysCache(tuple);

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot undistribute table \"%s\" because of its foreign key \"%s\" to \"%s\"",
						get_rel_name(relid), get_constraint_name(lfirst_oid(lc)),
						get_rel_name(referenced)),
				 referenced == relid ?
				 errdetail("The rows come back shard by shard, which the key would check one at a time.") :
				 errdetail("A local table cannot reference a distributed table."),
				 referenced == relid ?
				 errhint("Drop the foreign key, undistribute the table, then add the foreign key again.") :
				 errhint("Drop the foreign key first.")));
	}
	foreach(lc, ReferencingTables(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot undistribute table \"%s\" because table \"%s\" references it",
						get_rel_name(relid), get_rel_name(lfirst_oid(lc))),
				 errdetail("A distributed table cannot reference a local table."),
				 errhint("Drop the foreign key of \"%s\" first.", get_rel_name(lfirst_oid(lc)))));
}

/*
 * RemoteConstraintOids returns the deferrable constraints of distributed
 * tables (foreign keys, unique and primary keys, exclusion constraints)
 * that a SET CONSTRAINTS names: looked up as PostgreSQL does (the first
 * schema of the search path with constraints of that name).  NIL for ALL.
 */
List *
RemoteConstraintOids(ConstraintsSetStmt *stmt)
{
	Relation	constraintRel;
	List	   *result = NIL;
	ListCell   *lc;

	if (stmt->constraints == NIL)
		return NIL;
	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	foreach(lc, stmt->constraints)
	{
		RangeVar   *name = lfirst(lc);
		List	   *namespaces;
		ListCell   *nc;

		if (name->schemaname != NULL)
			namespaces = list_make1_oid(LookupExplicitNamespace(name->schemaname, true));
		else
			namespaces = fetch_search_path(true);
		foreach(nc, namespaces)
		{
			ScanKeyData keys[2];
			SysScanDesc scan;
			HeapTuple	tuple;
			bool		found = false;

			if (!OidIsValid(lfirst_oid(nc)))
				continue;
			ScanKeyInit(&keys[0], Anum_pg_constraint_conname, BTEqualStrategyNumber,
						F_NAMEEQ, CStringGetDatum(name->relname));
			ScanKeyInit(&keys[1], Anum_pg_constraint_connamespace, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(lfirst_oid(nc)));
			scan = systable_beginscan(constraintRel, ConstraintNameNspIndexId, true,
									  NULL, 2, keys);
			while (HeapTupleIsValid(tuple = systable_getnext(scan)))
			{
				Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);

				found = true;
				if (constraint->condeferrable &&
					OidIsValid(constraint->conrelid) &&
					ShardextGetTable(constraint->conrelid) != NULL)
					result = list_append_unique_oid(result, constraint->oid);
			}
			systable_endscan(scan);
			if (found)
				break;
		}
	}
	table_close(constraintRel, AccessShareLock);
	return result;
}

/*
 * DeferrableConstraintOids returns the deferrable constraints of every
 * distributed table.
 */
static List *
DeferrableConstraintOids(void)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		ListCell   *cc;

		foreach(cc, TableConstraints(((ShardextTable *) lfirst(lc))->relid))
			if (((Form_pg_constraint) lfirst(cc))->condeferrable)
				result = lappend_oid(result, ((Form_pg_constraint) lfirst(cc))->oid);
	}
	return result;
}

/*
 * NodeConstraintsSetCommand returns the SET CONSTRAINTS that carries a
 * SET CONSTRAINTS (ALL, or the constraints constraintOids) to node nodeId,
 * or NULL when none of the constraints is on that node.  Shards name
 * their foreign and index-backed keys per shard (ShardObjectName).  Names
 * are schema-qualified: a shard is in the schema of the same name as its
 * table's.
 */
char *
NodeConstraintsSetCommand(bool all, bool deferred, List *constraintOids,
						  int32 nodeId)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		any = false;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SET CONSTRAINTS ");

	/*
	 * ALL names the deferrable constraints: on the shards, keys to their own
	 * table are deferrable even when the user's are not (BeginKeyDeferral).
	 */
	if (all)
		constraintOids = DeferrableConstraintOids();
	foreach(lc, constraintOids)
	{
		HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_constraint constraint;
		ShardextTable *table;
		const char *schema;
		int			i;

		if (!HeapTupleIsValid(tuple))
			continue;
		constraint = (Form_pg_constraint) GETSTRUCT(tuple);
		table = ShardextGetTable(constraint->conrelid);
		schema = quote_identifier(get_namespace_name(get_rel_namespace(constraint->conrelid)));
		for (i = 0; table != NULL && i < table->shardCount; i++)
		{
			if (!ShardPlacedOn(table->shards[i], nodeId))
				continue;
			appendStringInfo(&buf, "%s%s.%s", any ? ", " : "", schema,
							 ShardObjectName(NameStr(constraint->conname),
											 table->shards[i]->shardId));
			any = true;
		}
		ReleaseSysCache(tuple);
	}
	if (!any)
		return NULL;
	appendStringInfo(&buf, " %s", deferred ? "DEFERRED" : "IMMEDIATE");
	return buf.data;
}

/*
 * BeginKeyDeferral returns, for a statement about to send a table's rows to
 * the nodes in several batches (multi-row INSERT, COPY, two-step UPDATE and
 * DELETE), before its first batch, what it needs to have the table's
 * constraints that PostgreSQL checks when a statement ends checked when it
 * ends rather than after each batch: its foreign keys to itself (shards get
 * them DEFERRABLE INITIALLY IMMEDIATE, ForeignKeyShardDefinition, so that
 * they may be deferred for the statement) and its deferrable constraints
 * that are not deferred now (those the transaction deferred stay so).
 * Called only then, it costs single-batch statements nothing.
 */
KeyDeferral *
BeginKeyDeferral(Oid relid)
{
	KeyDeferral *deferral = palloc0(sizeof(KeyDeferral));
	ListCell   *lc;

	foreach(lc, TableConstraints(relid))
	{
		Form_pg_constraint constraint = lfirst(lc);
		bool		selfKey = (constraint->contype == CONSTRAINT_FOREIGN &&
							   constraint->confrelid == relid);

		if ((selfKey && !constraint->condeferrable) ||
			(constraint->condeferrable &&
			 (selfKey || constraint->contype != CONSTRAINT_FOREIGN) &&
			 !ConstraintDeferredNow(constraint->oid, constraint->condeferred)))
			deferral->constraintOids = lappend_oid(deferral->constraintOids,
												   constraint->oid);
	}
	return deferral;
}

/*
 * DeferKeysOnNode defers the constraints of a deferral (NULL: none begun) on
 * the node of nc (in a remote transaction), once per node, before the
 * statement's first batch there.
 */
void
DeferKeysOnNode(KeyDeferral *deferral, NodeConnection *nc)
{
	char	   *command;
	MemoryContext old;

	if (deferral == NULL || deferral->constraintOids == NIL ||
		list_member_int(deferral->nodeIds, nc->nodeId))
		return;
	command = NodeConstraintsSetCommand(false, true, deferral->constraintOids,
										nc->nodeId);
	if (command != NULL)
		RemoteExecuteCommand(nc, command);
	/* the caller may be in a per-row context (COPY) */
	old = MemoryContextSwitchTo(GetMemoryChunkContext(deferral));
	deferral->nodeIds = lappend_int(deferral->nodeIds, nc->nodeId);
	MemoryContextSwitchTo(old);
}

/*
 * EndKeyDeferral makes the deferred keys immediate again on every node
 * that deferred them, which checks the statement's rows there (a violation
 * is the node's error, raised here).
 */
void
EndKeyDeferral(KeyDeferral *deferral)
{
	ListCell   *lc;

	if (deferral == NULL)
		return;
	foreach(lc, deferral->nodeIds)
	{
		char	   *command = NodeConstraintsSetCommand(false, false,
														deferral->constraintOids,
														lfirst_int(lc));

		if (command != NULL)
			RemoteExecuteCommand(GetNodeConnectionInTransaction(lfirst_int(lc), false),
								 command);
	}
	deferral->nodeIds = NIL;
}
