/*-------------------------------------------------------------------------
 *
 * distribute.c
 *	  Turning tables into distributed tables and back.
 *
 * create_distributed_table checks the table, chooses shard bounds and
 * nodes (following a co-located table when there is one), creates the
 * shard tables on the nodes, records the shard map and moves the table's
 * rows into the shards; the local table keeps none.  Everything happens in
 * the caller's transaction: remote work runs in remote transactions that
 * commit with it, so a failure anywhere leaves the table as it was, with
 * every row.
 *
 * undistribute_table does the reverse: it copies every shard's rows back
 * into the local table, drops the shards and forgets the table.
 *
 * IDENTIFICATION
 *	  src/distribute.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "shardext/catalog.h"
#include "shardext/connection.h"
#include "shardext/copy.h"
#include "shardext/deparse.h"
#include "shardext/distribute.h"
#include "shardext/foreign_keys.h"
#include "shardext/guc.h"
#include "shardext/metadata_cache.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/routing.h"
#include "shardext/shard_ddl.h"
#include "shardext/statistics.h"
#include "shardext/transaction.h"

PG_FUNCTION_INFO_V1(create_distributed_table);
PG_FUNCTION_INFO_V1(undistribute_table);
PG_FUNCTION_INFO_V1(create_reference_table);
PG_FUNCTION_INFO_V1(create_federated_table);
PG_FUNCTION_INFO_V1(shardext_directory_move_key);

bool		ShardextLocalUtilityOnly = false;

/* the shard map chosen for a new distributed table */
typedef struct ShardPlan
{
	int			shardCount;
	int64	   *shardIds;
	char	  **minValues;		/* text bounds; NULL = unbounded */
	char	  **maxValues;
	List	  **nodeIds;		/* per shard: int list of its nodes */
	int32		colocationId;
} ShardPlan;

static void CheckNoTableOnNode(NodeConnection *nc, int32 nodeId,
							   ShardextTable *table, const char *relationName);
static void CheckTableOwner(Oid relid);
static void LockOwnedTable(Oid relid, LOCKMODE mode);
static DistributionType ParseDistributionType(const char *name);
static void PlanHashShards(ShardPlan *plan, int shardCount);
static void PlanRangeShards(ShardPlan *plan, Oid relid, AttrNumber attno,
							ArrayType *bounds);
static ShardextTable *FindColocationTarget(Oid relid, DistributionType type,
										   AttrNumber attno, ShardPlan *plan,
										   const char *colocateWith);
static bool ShardBoundsMatch(ShardextTable *other, ShardPlan *plan);
static void ChooseNodes(ShardPlan *plan, ShardextTable *colocated);
static int	ColocatedShardCount(const char *colocateWith);
static void CreateShardTables(Oid relid, ShardPlan *plan, char **shardNames);
static void InsertTableMetadata(Oid relid, DistributionType type,
								const char *column, ShardPlan *plan,
								char **shardNames);
static uint64 MoveRowsIntoShards(Oid relid, ShardextTable *table);
static void RunLocalUtility(const char *command, Oid relid);
static void AnalyzeShards(ShardextTable *table);
static void AddShardForeignKeys(ShardextTable *table);
static void CheckNotDistributed(Oid relid);
static int32 NewColocationId(void);
static void DistributeTable(Oid relid, DistributionType type,
							const char *column, ShardPlan *plan);
static void DistributeSingleShardTable(Oid relid, DistributionType type,
									   List *nodeIds);

/*
 * CheckTableOwner raises an error unless the current user owns the table.
 */
static void
CheckTableOwner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

/*
 * LockOwnedTable locks a table in mode and checks that it (still) exists
 * and that the current user owns it.
 */
static void
LockOwnedTable(Oid relid, LOCKMODE mode)
{
	LockRelationOid(relid, mode);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	CheckTableOwner(relid);
}

/* ParseDistributionType turns the user's spelling into a type. */
static DistributionType
ParseDistributionType(const char *name)
{
	if (pg_strcasecmp(name, "hash") == 0)
		return DIST_HASH;
	if (pg_strcasecmp(name, "range") == 0)
		return DIST_RANGE;
	if (pg_strcasecmp(name, "directory") == 0)
		return DIST_DIRECTORY;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown distribution type \"%s\"", name),
			 errhint("Use 'hash', 'range' or 'directory'.")));
	return DIST_HASH;			/* keep compiler quiet */
}

/*
 * PlanHashShards splits the int4 hash space into shardCount equal ranges.
 */
static void
PlanHashShards(ShardPlan *plan, int shardCount)
{
	uint64		step = (UINT64CONST(1) << 32) / shardCount;
	int			i;

	plan->shardCount = shardCount;
	plan->minValues = palloc(sizeof(char *) * shardCount);
	plan->maxValues = palloc(sizeof(char *) * shardCount);
	for (i = 0; i < shardCount; i++)
	{
		int64		min = (int64) PG_INT32_MIN + (int64) (step * i);
		int64		max = (i == shardCount - 1) ? PG_INT32_MAX :
			min + (int64) step - 1;

		plan->minValues[i] = psprintf(INT64_FORMAT, min);
		plan->maxValues[i] = psprintf(INT64_FORMAT, max);
	}
}

/*
 * PlanRangeShards checks the split points of a range distribution (they
 * must read as the column's type, and be sorted and distinct) and makes
 * n + 1 shards of them.  Bounds are stored in the type's canonical text.
 */
static void
PlanRangeShards(ShardPlan *plan, Oid relid, AttrNumber attno, ArrayType *bounds)
{
	Oid			typeId;
	int32		typmod;
	Oid			collation;
	Oid			inputFunction;
	Oid			ioParam;
	Oid			outputFunction;
	bool		isVarlena;
	TypeCacheEntry *typentry;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Datum	   *values;
	int			nestLevel;
	int			i;

	get_atttypetypmodcoll(relid, attno, &typeId, &typmod, &collation);
	getTypeInputInfo(typeId, &inputFunction, &ioParam);
	getTypeOutputInfo(typeId, &outputFunction, &isVarlena);
	typentry = lookup_type_cache(typeId, TYPECACHE_CMP_PROC_FINFO);

	deconstruct_array(bounds, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("range distribution needs at least one split point"),
				 errhint("Pass range_bounds => ARRAY['b1', 'b2', ...]: n split "
						 "points make n + 1 shards.")));

	values = palloc(sizeof(Datum) * nelems);
	for (i = 0; i < nelems; i++)
	{
		char	   *boundText;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("split point %d of range_bounds is null", i + 1),
					 errhint("Split points must be values of the "
							 "distribution column's type.")));
		boundText = TextDatumGetCString(elems[i]);
		values[i] = OidInputFunctionCall(inputFunction, boundText, ioParam, typmod);
		if (i > 0 &&
			DatumGetInt32(FunctionCall2Coll(&typentry->cmp_proc_finfo,
											collation, values[i - 1],
											values[i])) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range_bounds must be sorted and distinct"),
					 errdetail("Split point %d (%s) does not come after split point %d.",
							   i + 1, boundText, i),
					 errhint("List the split points in increasing order.")));
	}

	/* bounds are kept in a text form that no session setting changes */
	nestLevel = SetCanonicalDatumGucs();
	plan->shardCount = nelems + 1;
	plan->minValues = palloc(sizeof(char *) * plan->shardCount);
	plan->maxValues = palloc(sizeof(char *) * plan->shardCount);
	for (i = 0; i < plan->shardCount; i++)
	{
		plan->minValues[i] = (i == 0) ? NULL :
			OidOutputFunctionCall(outputFunction, values[i - 1]);
		plan->maxValues[i] = (i == nelems) ? NULL :
			OidOutputFunctionCall(outputFunction, values[i]);
	}
	ResetDeparseGucs(nestLevel);
}

/*
 * ShardBoundsMatch tells whether another table has exactly the planned
 * shard bounds.
 */
static bool
ShardBoundsMatch(ShardextTable *other, ShardPlan *plan)
{
	int			i;

	if (other->shardCount != plan->shardCount)
		return false;
	for (i = 0; i < plan->shardCount; i++)
	{
		ShardextShard *shard = other->shards[i];

		if ((shard->minText == NULL) != (plan->minValues[i] == NULL) ||
			(shard->maxText == NULL) != (plan->maxValues[i] == NULL))
			return false;
		if (shard->minText && strcmp(shard->minText, plan->minValues[i]) != 0)
			return false;
		if (shard->maxText && strcmp(shard->maxText, plan->maxValues[i]) != 0)
			return false;
	}
	return true;
}

/*
 * FindColocationTarget returns the table the new one is co-located with, or
 * NULL for a new co-location group.  'default' picks the first table of the
 * same distribution type, column type and shard bounds; 'none' starts a new
 * group; a table name must name such a table.
 */
static ShardextTable *
FindColocationTarget(Oid relid, DistributionType type, AttrNumber attno,
					 ShardPlan *plan, const char *colocateWith)
{
	Oid			typeId;
	int32		typmod;
	Oid			collation;
	ListCell   *lc;

	get_atttypetypmodcoll(relid, attno, &typeId, &typmod, &collation);

	if (pg_strcasecmp(colocateWith, "none") == 0)
		return NULL;

	if (pg_strcasecmp(colocateWith, "default") == 0)
	{
		foreach(lc, ShardextAllTables())
		{
			ShardextTable *other = lfirst(lc);

			if (other->type == type && other->distTypeId == typeId &&
				other->distCollation == collation &&
				ShardBoundsMatch(other, plan))
				return other;
		}
		return NULL;
	}
	else
	{
		List	   *names = stringToQualifiedNameList(colocateWith);
		Oid			otherRelid = RangeVarGetRelid(makeRangeVarFromNameList(names),
												  AccessShareLock, false);
		ShardextTable *other = ShardextGetTable(otherRelid);
		const char *otherName = get_rel_name(otherRelid);

		if (other == NULL || other->distColumnName == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 other == NULL ?
					 errmsg("cannot co-locate with \"%s\": it is not a distributed table",
							otherName) :
					 errmsg("cannot co-locate with \"%s\": it is a %s table",
							otherName, TableKindName(other)),
					 errhint("Name a hash- or range-distributed table, or pass "
							 "'default' or 'none'.")));
		if (other->type != type || other->distTypeId != typeId ||
			other->distCollation != collation)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot co-locate with \"%s\": its distribution differs",
							otherName),
					 errdetail("\"%s\" is %s-distributed on a column of type %s.",
							   otherName, DistributionTypeName(other->type),
							   format_type_be(other->distTypeId)),
					 errhint("Co-located tables need the same distribution type "
							 "and distribution column type.")));
		if (!ShardBoundsMatch(other, plan))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot co-locate with \"%s\": its shards differ",
							otherName),
					 errdetail("\"%s\" has %d shards.", otherName,
							   other->shardCount),
					 errhint("Use the same shard_count (or range_bounds).")));
		return other;
	}
}

/*
 * ChooseNodes places the shards: like the co-located table's shards, else
 * round-robin over the active workers, else on the coordinator
 * (single-node mode).
 */
static void
ChooseNodes(ShardPlan *plan, ShardextTable *colocated)
{
	List	   *workers = NIL;
	ListCell   *lc;
	int			i;

	plan->nodeIds = palloc(sizeof(List *) * plan->shardCount);
	if (colocated != NULL)
	{
		for (i = 0; i < plan->shardCount; i++)
			plan->nodeIds[i] = list_make1_int(colocated->shards[i]->nodeId);
		return;
	}

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);

		if (node->role == NODE_ROLE_WORKER && node->isActive)
			workers = lappend_int(workers, node->nodeId);
	}
	for (i = 0; i < plan->shardCount; i++)
		plan->nodeIds[i] = list_make1_int((workers == NIL) ? COORDINATOR_NODE_ID :
										  list_nth_int(workers, i % list_length(workers)));
}

/*
 * ColocatedShardCount returns the shard count of a new hash-distributed
 * table given none: that of the hash-distributed table colocate_with names,
 * else shardext.shard_count.
 */
static int
ColocatedShardCount(const char *colocateWith)
{
	Oid			otherRelid;
	ShardextTable *other;

	if (colocateWith == NULL || pg_strcasecmp(colocateWith, "default") == 0 ||
		pg_strcasecmp(colocateWith, "none") == 0)
		return ShardextShardCount;
	otherRelid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(colocateWith)),
								  AccessShareLock, true);
	other = OidIsValid(otherRelid) ? ShardextGetTable(otherRelid) : NULL;
	return (other != NULL && other->type == DIST_HASH) ? other->shardCount :
		ShardextShardCount;
}

/*
 * CreateShardTables creates the shard tables on their nodes, in the remote
 * transactions.
 */
static void
CreateShardTables(Oid relid, ShardPlan *plan, char **shardNames)
{
	List	   *nodeIds = NIL;
	int			i;

	for (i = 0; i < plan->shardCount; i++)
	{
		List	   *commands = ShardCreateCommands(relid, shardNames[i],
												   plan->shardIds[i]);
		ListCell   *nodeCell;

		foreach(nodeCell, plan->nodeIds[i])
		{
			NodeConnection *nc;
			ListCell   *lc;

			if (lfirst_int(nodeCell) == COORDINATOR_NODE_ID)
				CheckCopySeesCatalog(relid);
			nc = GetNodeConnectionInTransaction(lfirst_int(nodeCell), true);

			foreach(lc, commands)
				RemoteExecuteCommand(nc, (char *) lfirst(lc));
			nodeIds = list_append_unique_int(nodeIds, lfirst_int(nodeCell));
		}
	}
	CreateColumnTypesOnOtherNodes(relid, nodeIds);
}

/*
 * TextArrayDatum returns count C strings (NULL for a null element) as a
 * text[] Datum.
 */
static Datum
TextArrayDatum(char **values, int count)
{
	Datum	   *elements = palloc0(sizeof(Datum) * Max(count, 1));
	bool	   *nulls = palloc0(sizeof(bool) * Max(count, 1));
	int			dims[1] = {count};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < count; i++)
	{
		nulls[i] = (values[i] == NULL);
		if (!nulls[i])
			elements[i] = CStringGetTextDatum(values[i]);
	}
	return PointerGetDatum(construct_md_array(elements, nulls, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * InsertTableMetadata records the table, its shards and their placements,
 * each kind in one statement: every catalog statement makes the next lookup
 * build the shard map anew, and one per shard made that quadratic.
 */
static void
InsertTableMetadata(Oid relid, DistributionType type, const char *column,
					ShardPlan *plan, char **shardNames)
{
	Oid			tableTypes[5] = {REGCLASSOID, TEXTOID, TEXTOID, INT4OID, INT4OID};
	Datum		tableArgs[5];
	Oid			shardTypes[5] = {INT8ARRAYOID, REGCLASSOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID};
	Datum		shardArgs[5];
	Oid			placementTypes[2] = {INT8ARRAYOID, INT4ARRAYOID};
	Datum		placementArgs[2];
	char		tableNulls[5] = "     ";
	Datum	   *shardIds = palloc(sizeof(Datum) * Max(plan->shardCount, 1));
	Datum	   *placementShards;
	Datum	   *placementNodes;
	int			count = 0;
	int			i;

	tableArgs[0] = ObjectIdGetDatum(relid);
	tableArgs[1] = CStringGetTextDatum(DistributionTypeName(type));
	if (column != NULL)
		tableArgs[2] = CStringGetTextDatum(column);
	else
		tableNulls[2] = 'n';
	tableArgs[3] = Int32GetDatum(plan->colocationId);
	tableArgs[4] = Int32GetDatum(plan->shardCount);
	ExecuteCatalogSql("INSERT INTO shardext.tables (table_name, distribution_type, "
					  "distribution_column, colocation_id, shard_count) "
					  "VALUES ($1, $2, $3, $4, $5)",
					  5, tableTypes, tableArgs, tableNulls);

	for (i = 0; i < plan->shardCount; i++)
		count += list_length(plan->nodeIds[i]);
	placementShards = palloc(sizeof(Datum) * Max(count, 1));
	placementNodes = palloc(sizeof(Datum) * Max(count, 1));
	count = 0;
	for (i = 0; i < plan->shardCount; i++)
	{
		ListCell   *lc;

		shardIds[i] = Int64GetDatum(plan->shardIds[i]);
		foreach(lc, plan->nodeIds[i])
		{
			placementShards[count] = shardIds[i];
			placementNodes[count++] = Int32GetDatum(lfirst_int(lc));
		}
	}
	shardArgs[0] = PointerGetDatum(construct_array(shardIds, plan->shardCount,
												   INT8OID, sizeof(int64), true,
												   TYPALIGN_DOUBLE));
	shardArgs[1] = ObjectIdGetDatum(relid);
	shardArgs[2] = TextArrayDatum(plan->minValues, plan->shardCount);
	shardArgs[3] = TextArrayDatum(plan->maxValues, plan->shardCount);
	shardArgs[4] = TextArrayDatum(shardNames, plan->shardCount);
	ExecuteCatalogSql("INSERT INTO shardext.shards (shard_id, table_name, "
					  "shard_index, min_value, max_value, shard_relation) "
					  "SELECT s.id, $2, (s.n - 1)::int, s.min_value, s.max_value, s.relation "
					  "FROM unnest($1, $3, $4, $5) WITH ORDINALITY "
					  "AS s(id, min_value, max_value, relation, n)",
					  5, shardTypes, shardArgs, NULL);

	placementArgs[0] = PointerGetDatum(construct_array(placementShards, count, INT8OID,
													   sizeof(int64), true,
													   TYPALIGN_DOUBLE));
	placementArgs[1] = PointerGetDatum(construct_array(placementNodes, count, INT4OID,
													   sizeof(int32), true,
													   TYPALIGN_INT));
	ExecuteCatalogSql("INSERT INTO shardext.placements (shard_id, node_id) "
					  "SELECT * FROM unnest($1, $2)",
					  2, placementTypes, placementArgs, NULL);
}

/*
 * MoveRowsIntoShards copies every row of the local table into its shard,
 * reporting progress in pg_stat_progress_copy, and returns the row count.
 */
static uint64
MoveRowsIntoShards(Oid relid, ShardextTable *table)
{
	Relation	rel = table_open(relid, NoLock);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	MemoryContext rowContext = AllocSetContextCreate(CurrentMemoryContext,
													 "shardext row",
													 ALLOCSET_DEFAULT_SIZES);
	ShardRowRouter *router = CreateShardRowRouter(table, RelationGetDescr(rel), NIL);
	uint64		rows;
	int			i;

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, relid);
	pgstat_progress_update_param(PROGRESS_COPY_COMMAND, PROGRESS_COPY_COMMAND_TO);
	pgstat_progress_update_param(PROGRESS_COPY_TYPE, PROGRESS_COPY_TYPE_CALLBACK);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old = MemoryContextSwitchTo(rowContext);

		RouteSlotToShard(router, slot, 0);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowContext);
		if (router->totalRows % 1000 == 0)
		{
			CHECK_FOR_INTERRUPTS();
			pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED,
										 router->totalRows);
		}
	}
	FlushAllShardBuffers(router);
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED,
								 router->totalRows);
	pgstat_progress_end_command();

	for (i = 0; i < table->shardCount; i++)
		ereport(DEBUG1,
				(errmsg("moved " UINT64_FORMAT " rows into shard " INT64_FORMAT
						" on node %d", router->rowCounts[i],
						table->shards[i]->shardId, table->shards[i]->nodeId)));

	rows = router->totalRows;
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return rows;
}

/*
 * AddShardForeignKeys gives every placement of every shard of a table the
 * table's foreign keys, once the shards have their rows (the nodes check
 * them all at once).
 */
static void
AddShardForeignKeys(ShardextTable *table)
{
	int			i;

	if (ForeignKeyOids(table->relid) == NIL)
		return;
	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];
		List	   *commands = ShardForeignKeyCommands(table->relid, shard);
		ListCell   *nodeCell;
		ListCell   *lc;

		foreach(nodeCell, shard->placementNodeIds)
		{
			NodeConnection *nc = GetNodeConnectionInTransaction(lfirst_int(nodeCell),
																true);

			foreach(lc, commands)
				RemoteExecuteCommand(nc, (char *) lfirst(lc));
		}
	}
}

/*
 * AnalyzeShards gathers statistics on the shards that received rows, so
 * that the nodes plan the queries on them well from the start: one ANALYZE
 * per node, in the remote transactions.
 */
static void
AnalyzeShards(ShardextTable *table)
{
	List	   *nodeIds = NIL;
	ListCell   *lc;
	ListCell   *nodeCell;
	int			i;

	for (i = 0; i < table->shardCount; i++)
		foreach(nodeCell, table->shards[i]->placementNodeIds)
			if (!list_member_int(nodeIds, lfirst_int(nodeCell)))
				nodeIds = lappend_int(nodeIds, lfirst_int(nodeCell));
	foreach(lc, nodeIds)
	{
		int32		nodeId = lfirst_int(lc);
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfoString(&sql, "ANALYZE ");
		for (i = 0; i < table->shardCount; i++)
		{
			if (!ShardPlacedOn(table->shards[i], nodeId))
				continue;
			if (sql.len > strlen("ANALYZE "))
				appendStringInfoString(&sql, ", ");
			appendStringInfoString(&sql, table->shards[i]->relationName);
		}
		RemoteExecuteCommand(GetNodeConnectionInTransaction(nodeId, true), sql.data);
	}
}

/*
 * RunLocalUtility runs "command table" on the coordinator's own table only,
 * without what shardext adds to the command for a distributed table (the
 * shards are not truncated by TRUNCATE, not analyzed by ANALYZE).
 */
static void
RunLocalUtility(const char *command, Oid relid)
{
	char	   *sql = psprintf("%s %s", command,
							   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
														  get_rel_name(relid)));

	ShardextLocalUtilityOnly = true;
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not run %s on the local table", command);
		SPI_finish();
	}
	PG_FINALLY();
	{
		ShardextLocalUtilityOnly = false;
	}
	PG_END_TRY();
}

/*
 * create_distributed_table(table_name, distribution_column,
 * distribution_type, shard_count, colocate_with, range_bounds) distributes
 * a table.
 */
Datum
create_distributed_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *column;
	DistributionType type;
	AttrNumber	attno;
	ShardPlan	plan;
	ShardextTable *colocated;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, distribution_column and distribution_type "
						"must not be null")));
	relid = PG_GETARG_OID(0);
	column = text_to_cstring(PG_GETARG_TEXT_PP(1));
	type = ParseDistributionType(text_to_cstring(PG_GETARG_TEXT_PP(2)));

	CheckNotDistributed(relid);

	attno = get_attnum(relid, column);
	if (attno == InvalidAttrNumber || attno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						column, get_rel_name(relid)),
				 errhint("The column name is matched exactly, including case.")));

	CheckTableDistributable(relid, attno, type == DIST_RANGE ? 'r' :
							type == DIST_DIRECTORY ? 'd' : 'h');

	memset(&plan, 0, sizeof(plan));
	if (type == DIST_DIRECTORY)
	{
		int			shardCount = PG_ARGISNULL(3) ? ShardextShardCount :
			PG_GETARG_INT32(3);
		char	   *colocateWith = PG_ARGISNULL(4) ? "default" :
			text_to_cstring(PG_GETARG_TEXT_PP(4));

		if (!PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range_bounds is only for range distribution")));
		if (pg_strcasecmp(colocateWith, "default") != 0 &&
			pg_strcasecmp(colocateWith, "none") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("directory-distributed tables cannot be co-located"),
					 errdetail("Each directory table has a directory of its own."),
					 errhint("Leave colocate_with out.")));
		if (shardCount < 1 || shardCount > 64000)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("shard_count must be between 1 and 64000"),
					 errhint("%d is not.", shardCount)));
		/* shards without bounds: the directory says which key goes where */
		plan.shardCount = shardCount;
		plan.minValues = palloc0(sizeof(char *) * shardCount);
		plan.maxValues = palloc0(sizeof(char *) * shardCount);
		plan.colocationId =
			NewColocationId();
		ChooseNodes(&plan, NULL);
		DirectoryAssignAll = true;
		PG_TRY();
		{
			DistributeTable(relid, type, column, &plan);
		}
		PG_FINALLY();
		{
			DirectoryAssignAll = false;
		}
		PG_END_TRY();
		PG_RETURN_VOID();
	}
	if (type == DIST_HASH)
	{
		int			shardCount = PG_ARGISNULL(3) ?
			ColocatedShardCount(PG_ARGISNULL(4) ? NULL :
								text_to_cstring(PG_GETARG_TEXT_PP(4))) :
			PG_GETARG_INT32(3);

		if (!PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range_bounds is only for range distribution")));
		if (shardCount < 1 || shardCount > 64000)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("shard_count must be between 1 and 64000"),
					 errhint("%d is not.", shardCount)));
		PlanHashShards(&plan, shardCount);
	}
	else
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range distribution needs range_bounds"),
					 errhint("Pass range_bounds => ARRAY['b1', 'b2', ...]: n split "
							 "points make n + 1 shards.")));
		PlanRangeShards(&plan, relid, attno, PG_GETARG_ARRAYTYPE_P(5));
		if (!PG_ARGISNULL(3) && PG_GETARG_INT32(3) != plan.shardCount)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("shard_count %d does not match the %d shards of range_bounds",
							PG_GETARG_INT32(3), plan.shardCount),
					 errhint("Leave shard_count NULL for range distribution.")));
	}

	colocated = FindColocationTarget(relid, type, attno, &plan,
									 PG_ARGISNULL(4) ? "default" :
									 text_to_cstring(PG_GETARG_TEXT_PP(4)));
	plan.colocationId = colocated ? colocated->colocationId :
		NewColocationId();
	ChooseNodes(&plan, colocated);

	DistributeTable(relid, type, column, &plan);
	PG_RETURN_VOID();
}

/*
 * CheckNotDistributed locks a table that is about to be distributed (writes
 * wait, reads go on while its rows move) and checks that it exists, that
 * the caller owns it and that it is not distributed yet.
 */
static void
CheckNotDistributed(Oid relid)
{
	ShardextTable *table;

	LockOwnedTable(relid, ExclusiveLock);
	table = ShardextGetTable(relid);
	if (table != NULL && !IsSingleShardTable(table))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already distributed", get_rel_name(relid)),
				 errhint("Call undistribute_table() first to distribute it "
						 "differently.")));
	if (table != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already a %s table", get_rel_name(relid),
						DistributionTypeName(table->type)),
				 errhint("Call undistribute_table() first to distribute it "
						 "differently.")));
}

/*
 * NewColocationId draws a co-location group id no table has: the sequence
 * may have been set back (by hand, or by the setval of a refused data-only
 * restore), and a table given a used id would be taken for co-located with
 * that group's.
 */
static int32
NewColocationId(void)
{
	for (;;)
	{
		int32		id = DatumGetInt64(NextCatalogSequenceValue("colocation_id_seq"));
		ListCell   *lc;
		bool		used = false;

		foreach(lc, ShardextAllTables())
			if (((ShardextTable *) lfirst(lc))->colocationId == id)
				used = true;
		if (!used)
			return id;
	}
}

/*
 * DistributeTable carries out a shard plan whose bounds, nodes and
 * co-location are chosen: it creates the shard tables, records the shard
 * map, moves the local rows into the shards and empties the local table.
 */
static void
DistributeTable(Oid relid, DistributionType type, const char *column,
				ShardPlan *plan)
{
	ShardextTable *table;
	char	  **shardNames;
	uint64		rows;
	int			i;

	plan->shardIds = palloc(sizeof(int64) * plan->shardCount);
	shardNames = palloc(sizeof(char *) * plan->shardCount);
	for (i = 0; i < plan->shardCount; i++)
	{
		/*
		 * A placement on the coordinator is a table beside the original:
		 * a shard id whose name a table there has already is skipped; so
		 * is one the shard map has (the sequence set back by hand, or by
		 * the setval of a refused data-only restore).
		 */
		do
		{
			plan->shardIds[i] = DatumGetInt64(NextCatalogSequenceValue("shard_id_seq"));
			shardNames[i] = ShardTableName(relid, plan->shardIds[i]);
		} while (ShardextGetShard(plan->shardIds[i], NULL) != NULL ||
				 (list_member_int(plan->nodeIds[i], COORDINATOR_NODE_ID) &&
				  OidIsValid(get_relname_relid(ShardObjectNameUnquoted(get_rel_name(relid),
																	   plan->shardIds[i]),
											   get_rel_namespace(relid)))));
	}

	CreateShardTables(relid, plan, shardNames);
	InsertTableMetadata(relid, type, column, plan, shardNames);
	CommandCounterIncrement();

	table = ShardextGetTable(relid);
	if (table == NULL)
		elog(ERROR, "distributed table %u is missing from the cache", relid);
	CheckForeignKeys(relid);
	rows = MoveRowsIntoShards(relid, table);
	AddShardForeignKeys(table);
	if (rows > 0)
	{
		/* the local rows give the coordinator's statistics, for the last time */
		AnalyzeShards(table);
		RunLocalUtility("ANALYZE", relid);
		RecordShardStatistics(table);
	}
	RunLocalUtility("TRUNCATE ONLY", relid);

	/* plans that read the local table must be made again */
	CacheInvalidateRelcacheByRelid(relid);

	if (IsSingleShardTable(table))
		ereport(NOTICE,
				(errmsg("%s table \"%s\": " UINT64_FORMAT " rows copied to %d %s",
						DistributionTypeName(type), get_rel_name(relid), rows,
						list_length(plan->nodeIds[0]),
						list_length(plan->nodeIds[0]) == 1 ? "node" : "nodes")));
	else
		ereport(NOTICE,
				(errmsg("distributed table \"%s\": " UINT64_FORMAT " rows moved into %d shards",
						get_rel_name(relid), rows, plan->shardCount)));
}

/*
 * DistributeSingleShardTable makes a table of one shard placed on nodeIds:
 * a reference table (every node) or a federated table (one node).
 */
static void
DistributeSingleShardTable(Oid relid, DistributionType type, List *nodeIds)
{
	ShardPlan	plan;

	CheckTableDistributable(relid, InvalidAttrNumber, 'n');
	memset(&plan, 0, sizeof(plan));
	plan.shardCount = 1;
	plan.minValues = palloc0(sizeof(char *));
	plan.maxValues = palloc0(sizeof(char *));
	plan.nodeIds = palloc(sizeof(List *));
	plan.nodeIds[0] = nodeIds;
	plan.colocationId =
		NewColocationId();
	DistributeTable(relid, type, NULL, &plan);
}

/*
 * ReferenceTableNodes returns the nodes that hold a copy of every
 * reference table: the coordinator and every active worker.
 */
List *
ReferenceTableNodes(void)
{
	List	   *nodeIds = list_make1_int(COORDINATOR_NODE_ID);
	ListCell   *lc;

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);

		if (node->role == NODE_ROLE_WORKER && node->isActive)
			nodeIds = lappend_int(nodeIds, node->nodeId);
	}
	return nodeIds;
}

/*
 * CheckNoTableOnNode raises a clear error when the node already has a
 * table of the name a reference table's copy would get: a copy left there
 * by shardext_remove_node when it could not reach the node.
 */
static void
CheckNoTableOnNode(NodeConnection *nc, int32 nodeId, ShardextTable *table,
				   const char *relationName)
{
	const char *values[1] = {relationName};
	PGresult   *res = RemoteExecute(nc, "SELECT to_regclass($1) IS NOT NULL",
									1, values);
	bool		exists = (PQntuples(res) == 1 &&
						  strcmp(PQgetvalue(res, 0, 0), "t") == 0);

	PQclear(res);
	if (exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("node %d already has a table %s for the copy of reference table \"%s\"",
						nodeId, relationName, get_rel_name(table->relid)),
				 errdetail("It may be a copy left there when the node was removed "
						   "while it could not be reached."),
				 errhint("Drop %s on the node, then add the node again.",
						 relationName)));
}

/*
 * CopyReferenceTablesToNode gives a node that joins the cluster a copy of
 * every reference table (created, filled from an existing copy, analyzed,
 * recorded as a placement), and the types other tables' columns use, in
 * the caller's transaction.
 */
void
CopyReferenceTablesToNode(int32 nodeId)
{
	Oid			placementTypes[2] = {INT8OID, INT4OID};
	List	   *copied = NIL;
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);
		ShardextShard *shard = table->shards[0];
		NodeConnection *nc;
		Relation	rel;
		Datum		args[2];
		ListCell   *commandCell;
		uint64		rows;

		if (!IsReferenceTable(table) || ShardPlacedOn(shard, nodeId))
			continue;
		LockRelationOid(table->relid, ExclusiveLock);
		nc = GetNodeConnectionInTransaction(nodeId, true);
		CheckNoTableOnNode(nc, nodeId, table, shard->relationName);
		foreach(commandCell, ShardCreateCommands(table->relid, shard->relationName,
												 shard->shardId))
			RemoteExecuteCommand(nc, (char *) lfirst(commandCell));
		rel = table_open(table->relid, NoLock);
		rows = CopyShardToNode(shard->nodeId, nodeId, shard->relationName, rel);
		table_close(rel, NoLock);
		if (rows > 0)
			RemoteExecuteCommand(nc, psprintf("ANALYZE %s", shard->relationName));

		args[0] = Int64GetDatum(shard->shardId);
		args[1] = Int32GetDatum(nodeId);
		ExecuteCatalogSql("INSERT INTO shardext.placements (shard_id, node_id) "
						  "VALUES ($1, $2)", 2, placementTypes, args, NULL);
		CacheInvalidateRelcacheByRelid(table->relid);
		ereport(NOTICE,
				(errmsg("copied reference table \"%s\" to node %d: " UINT64_FORMAT " rows",
						get_rel_name(table->relid), nodeId, rows)));
		copied = lappend_oid(copied, table->relid);
	}
	CommandCounterIncrement();

	/* foreign keys between the copies, once all are there */
	foreach(lc, copied)
	{
		ShardextTable *table = ShardextGetTable(lfirst_oid(lc));
		ListCell   *commandCell;

		foreach(commandCell, ShardForeignKeyCommands(table->relid, table->shards[0]))
			RemoteExecuteCommand(GetNodeConnectionInTransaction(nodeId, true),
								 (char *) lfirst(commandCell));
	}

	/* and the types the other tables use, which every node has */
	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);

		if (!IsReferenceTable(table))
			CreateColumnTypesOnNode(table->relid, nodeId);
	}
}

/*
 * create_reference_table(table_name) copies a table to every node: reads
 * use one copy, writes change all of them.
 */
Datum
create_reference_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	CheckNotDistributed(relid);
	DistributeSingleShardTable(relid, DIST_REFERENCE, ReferenceTableNodes());
	PG_RETURN_VOID();
}

/*
 * create_federated_table(table_name, node) moves a whole table to one node
 * (functional partitioning).
 */
Datum
create_federated_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int32		nodeId;
	ShardextNode *node;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name and node must not be null"),
				 errhint("shardext.nodes lists the node ids.")));
	relid = PG_GETARG_OID(0);
	nodeId = PG_GETARG_INT32(1);
	CheckNotDistributed(relid);
	node = ShardextGetNode(nodeId, true);
	if (node == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %d does not exist", nodeId),
				 errhint("The nodes are listed in shardext.nodes.")));
	if (node->role == NODE_ROLE_REPLICA || !node->isActive)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node %d (%s:%d) cannot hold a federated table",
						node->nodeId, node->host, node->port),
				 errdetail("It is %s.", node->role == NODE_ROLE_REPLICA ?
						   "a read replica" : "not active"),
				 errhint("Choose an active worker or the coordinator (node 0).")));
	DistributeSingleShardTable(relid, DIST_FEDERATED, list_make1_int(nodeId));
	PG_RETURN_VOID();
}

/*
 * DeleteTableMetadata forgets a table: its catalog rows (shards,
 * placements and directory entries go by cascade).
 */
void
DeleteTableMetadata(Oid relid)
{
	Oid			argTypes[1] = {OIDOID};
	Datum		args[1];

	args[0] = ObjectIdGetDatum(relid);
	ExecuteCatalogSql("DELETE FROM shardext.tables WHERE table_name::oid = $1",
					  1, argTypes, args, NULL);
}

/*
 * DiscardStaleLocalRows deletes the rows that the coordinator's own table
 * of a distributed table holds: none, but for a dump restored in place,
 * whose COPY filled it before the shard map was back (the shards hold those
 * rows).  They would come back twice with the shards' rows.  elevel: of
 * the message saying how many there were.
 */
void
DiscardStaleLocalRows(Relation rel, int elevel)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	uint64		count = 0;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		simple_table_tuple_delete(rel, &slot->tts_tid, snapshot);
		count++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	if (count > 0)
	{
		CommandCounterIncrement();
		ereport(elevel,
				(errmsg("discarded %llu rows that the coordinator's own table \"%s\" held",
						(unsigned long long) count, RelationGetRelationName(rel)),
				 errdetail("A distributed table's rows are in its shards; these were "
						   "left by a dump restored in place.")));
	}
}

/*
 * CheckNodeSnapshotsFresh refuses to copy a table's rows on the nodes in
 * nodeIds (to move them, or bring them back) in a REPEATABLE READ or
 * SERIALIZABLE transaction that already used one of those nodes: its
 * snapshot there was taken before the lock just taken, and rows that other
 * sessions committed in between would be neither copied nor deleted (left
 * behind in a shard, or dropped with it).  action names what is refused.
 */
static void
CheckNodeSnapshotsFresh(List *nodeIds, const char *action)
{
	ListCell   *lc;

	if (!IsolationUsesXactSnapshot())
		return;
	foreach(lc, OpenNodeConnections())
	{
		NodeConnection *nc = lfirst(lc);

		if (nc->inTransaction && list_member_int(nodeIds, nc->nodeId))
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("cannot %s in a %s transaction that has already used node %s",
							action, XactIsoLevel == XACT_SERIALIZABLE ?
							"SERIALIZABLE" : "REPEATABLE READ", nc->label),
					 errdetail("The transaction's snapshot on the node was taken before the "
							   "table was locked: rows other sessions committed since "
							   "would be lost."),
					 errhint("Do it first in the transaction, or in a READ COMMITTED one.")));
	}
}

/*
 * undistribute_table(table_name) copies every row back into the local table,
 * drops the shards and forgets the table.
 */
Datum
undistribute_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ShardextTable *table;
	Relation	rel;
	uint64		rows = 0;
	int			i;

	LockOwnedTable(relid, AccessExclusiveLock);
	table = ShardextGetTable(relid);
	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not distributed", get_rel_name(relid)),
				 errhint("shardext.tables lists the distributed tables.")));
	CheckUndistributeForeignKeys(relid);
	for (i = 0; i < table->shardCount; i++)
		if (ShardPlacedOn(table->shards[i], COORDINATOR_NODE_ID))
			CheckCopyNotInLocalUse(relid, table->shards[i]->relationName);

	CheckNodeSnapshotsFresh(TablePlacementNodes(table),
							psprintf("undistribute table \"%s\"", get_rel_name(relid)));

	rel = table_open(relid, NoLock);
	DiscardStaleLocalRows(rel, NOTICE);
	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];

		rows += CopyShardIntoRelation(shard->nodeId, shard->relationName, rel);
	}
	table_close(rel, NoLock);

	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];
		ListCell   *lc;

		foreach(lc, shard->placementNodeIds)
		{
			NodeConnection *nc = GetNodeConnectionInTransaction(lfirst_int(lc),
																true);

			RemoteExecuteCommand(nc, psprintf("DROP TABLE IF EXISTS %s",
											  shard->relationName));
		}
	}
	DeleteTableMetadata(relid);
	CacheInvalidateRelcacheByRelid(relid);

	ereport(NOTICE,
			(errmsg("table \"%s\" is local again: " UINT64_FORMAT " rows copied back",
					get_rel_name(relid), rows)));
	PG_RETURN_VOID();
}

/*
 * shardext_directory_move_key(table, key, shard_id) moves the rows of one
 * key of a directory-distributed table to another shard and points the
 * directory there, in the caller's transaction.  The table is locked
 * against reads and writes meanwhile, so a reader sees the key in its old
 * shard or in its new one, never in neither.
 */
Datum
shardext_directory_move_key(PG_FUNCTION_ARGS)
{
	Oid			relid;
	ShardextTable *table;
	ShardextTable *owner = NULL;
	ShardextShard *source;
	ShardextShard *target;
	DirectoryEntry *entry;
	Datum		value;
	int64		shardId;
	char	   *key;
	char	   *where;
	char	   *columns;
	Relation	rel;
	uint64		rows;
	Oid			argTypes[3] = {REGCLASSOID, TEXTOID, INT8OID};
	Datum		args[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, key and shard_id must not be null")));
	relid = PG_GETARG_OID(0);
	LockOwnedTable(relid, AccessExclusiveLock);
	table = GetDirectoryTableOrError(relid);
	shardId = PG_GETARG_INT64(2);
	target = ShardextGetShard(shardId, &owner);
	if (target == NULL || owner->relid != relid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard " INT64_FORMAT " is not a shard of table \"%s\"",
						shardId, get_rel_name(relid)),
				 errhint("shardext.shards lists the shards of each table.")));
	value = CoerceToDistributionType(table, PG_GETARG_DATUM(1),
									 get_fn_expr_argtype(fcinfo->flinfo, 1));
	entry = FindDirectoryEntry(table, value);
	if (entry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("key \"%s\" of table \"%s\" is not in the directory",
						DirectoryKeyText(table, value), get_rel_name(relid)),
				 errhint("Assign it with shardext_directory_assign().")));
	/* the key as the directory has it */
	key = entry->key;
	source = entry->shard;
	if (source->shardId == target->shardId)
		PG_RETURN_VOID();
	CheckNodeSnapshotsFresh(list_make2_int(source->nodeId, target->nodeId),
							psprintf("move key \"%s\" of table \"%s\"", key,
									 get_rel_name(relid)));

	where = psprintf("%s = %s::%s", quote_identifier(table->distColumnName),
					 quote_literal_cstr(key),
					 format_type_with_typemod(table->distTypeId, table->distTypmod));
	rel = table_open(relid, NoLock);
	columns = ColumnListSql(RelationGetDescr(rel),
							CopyableAttnums(RelationGetDescr(rel)));
	if (source->nodeId == target->nodeId)
		rows = RemoteExecuteCount(GetNodeConnectionInTransaction(source->nodeId, true),
								  psprintf("INSERT INTO %s %s SELECT %s FROM %s WHERE %s",
										   target->relationName, columns,
										   pnstrdup(columns + 1, strlen(columns) - 2),
										   source->relationName, where), 0, NULL);
	else
		rows = CopyShardRowsToNode(source->nodeId, target->nodeId,
								   source->relationName, target->relationName,
								   where, rel);
	table_close(rel, NoLock);
	RemoteExecuteCommand(GetNodeConnectionInTransaction(source->nodeId, true),
						 psprintf("DELETE FROM %s WHERE %s", source->relationName,
								  where));

	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(key);
	args[2] = Int64GetDatum(shardId);
	ExecuteCatalogSql("UPDATE shardext.directory SET shard_id = $3 "
					  "WHERE table_name = $1 AND key = $2",
					  3, argTypes, args, NULL);
	CommandCounterIncrement();
	CacheInvalidateRelcacheByRelid(relid);
	ereport(NOTICE,
			(errmsg("moved key \"%s\" of table \"%s\" to shard " INT64_FORMAT ": " UINT64_FORMAT " rows",
					key, get_rel_name(relid), shardId, rows)));
	PG_RETURN_VOID();
}
