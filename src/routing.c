/*-------------------------------------------------------------------------
 *
 * routing.c
 *	  Mapping a distribution value to its shard and node.
 *
 * Hash distribution uses the hash PostgreSQL's hash partitioning uses: the
 * type's extended hash function of its default hash operator class, seeded
 * with HASH_PARTITION_SEED and combined as compute_partition_hash_value
 * does; the low 32 bits are the value's position in the int4 hash space,
 * which the shards split into ranges.  Range distribution compares with the
 * type's default btree comparison function.  Both binary-search the cached
 * bounds and never touch the catalog.
 *
 * The SQL functions shardext_hash, shardext_shard_for_value and
 * shardext_node_for_value expose the same code, so they agree with where
 * rows actually go.
 *
 * IDENTIFICATION
 *	  src/routing.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "partitioning/partbounds.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"

#include "shardext/catalog.h"
#include "shardext/deparse.h"
#include "shardext/guc.h"
#include "shardext/metadata_cache.h"
#include "shardext/routing.h"

PG_FUNCTION_INFO_V1(shardext_hash);
PG_FUNCTION_INFO_V1(shardext_shard_for_value);
PG_FUNCTION_INFO_V1(shardext_node_for_value);
PG_FUNCTION_INFO_V1(shardext_directory_assign);

/* set while create_distributed_table assigns the keys of existing rows */
bool		DirectoryAssignAll = false;

static ShardextShard *AssignDirectoryKey(ShardextTable *table, Datum value,
										 const char *key);

static ShardextTable *GetDistributedTableOrError(Oid relid);
static ShardextShard *ShardForArguments(FunctionCallInfo fcinfo);

/*
 * HashDistributionValue returns the position of a non-null value in the int4
 * hash space.
 */
int32
HashDistributionValue(FmgrInfo *hashProc, Oid collation, Datum value)
{
	bool		isNull = false;
	uint64		hash;

	hash = compute_partition_hash_value(1, hashProc, &collation, &value,
										&isNull);
	return (int32) (uint32) hash;
}

/*
 * FindShardIndexForHash returns the index of the shard of a hash-distributed
 * table whose range holds hashValue.
 */
int
FindShardIndexForHash(ShardextTable *table, int32 hashValue)
{
	int			low = 0;
	int			high = table->shardCount - 1;

	while (low < high)
	{
		int			mid = low + (high - low + 1) / 2;

		if (table->shards[mid]->hashMin <= hashValue)
			low = mid;
		else
			high = mid - 1;
	}
	if (hashValue < table->shards[low]->hashMin ||
		hashValue > table->shards[low]->hashMax)
		elog(ERROR, "no shard of table %u covers hash value %d",
			 table->relid, hashValue);
	return low;
}

/*
 * FindShardIndexForRange returns the index of the shard of a
 * range-distributed table that holds value: the last shard whose lower
 * bound is at or below it (the first shard has none).
 */
static int
FindShardIndexForRange(ShardextTable *table, Datum value)
{
	int			low = 0;
	int			high = table->shardCount - 1;

	while (low < high)
	{
		int			mid = low + (high - low + 1) / 2;
		ShardextShard *shard = table->shards[mid];
		int32		cmp;

		cmp = shard->minText == NULL ? 1 :
			DatumGetInt32(FunctionCall2Coll(&table->compareProc,
											table->distCollation,
											value, shard->rangeMin));
		if (cmp >= 0)
			low = mid;
		else
			high = mid - 1;
	}
	return low;
}

/*
 * FindShardForValue returns the shard that holds rows whose distribution
 * column equals value.  NULL is not a valid distribution value.
 */
ShardextShard *
FindShardForValue(ShardextTable *table, Datum value, bool isNull)
{
	if (isNull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in distribution column \"%s\" of table \"%s\"",
						table->distColumnName, get_rel_name(table->relid)),
				 errdetail("Every row of a distributed table needs a value "
						   "in its distribution column to pick its shard."),
				 errhint("Give the column a value, or declare it NOT NULL.")));

	switch (table->type)
	{
		case DIST_HASH:
			return table->shards[FindShardIndexForHash(table,
													   HashDistributionValue(&table->hashProc,
																			 table->distCollation,
																			 value))];
		case DIST_RANGE:
			return table->shards[FindShardIndexForRange(table, value)];
		case DIST_REFERENCE:
		case DIST_FEDERATED:
			return table->shards[0];
		case DIST_DIRECTORY:
			{
				DirectoryEntry *entry = FindDirectoryEntry(table, value);
				ShardextTable *current;
				char	   *key;

				if (entry != NULL)
					return entry->shard;
				/* the caller's map may predate a key assigned since */
				current = ShardextGetTable(table->relid);
				if (current != NULL && current != table &&
					(entry = FindDirectoryEntry(current, value)) != NULL)
					return entry->shard;
				key = DirectoryKeyText(table, value);
				if (ShardextDirectoryAutoAssign || DirectoryAssignAll)
					return AssignDirectoryKey(table, value, key);
				ereport(ERROR,
						(errcode(ERRCODE_NO_DATA_FOUND),
						 errmsg("key \"%s\" of table \"%s\" is not in the directory",
								key, get_rel_name(table->relid)),
						 errdetail("A directory-distributed table keeps rows only of "
								   "keys assigned to a shard."),
						 errhint("Assign it with shardext_directory_assign(), or set "
								 "shardext.directory_auto_assign = on.")));
			}
	}
	return NULL;
}

/*
 * LookupShardForValue returns the shard that holds the rows whose
 * distribution column equals value, or NULL when no shard can hold any
 * (NULL, or a key the directory does not have): for reads.
 */
ShardextShard *
LookupShardForValue(ShardextTable *table, Datum value, bool isNull)
{
	if (isNull)
		return NULL;
	if (table->type == DIST_DIRECTORY)
	{
		DirectoryEntry *entry = FindDirectoryEntry(table, value);

		return entry ? entry->shard : NULL;
	}
	return FindShardForValue(table, value, false);
}

/*
 * DirectoryKeyText returns the text of a distribution value as the
 * directory stores it: the type's output, in the canonical settings.
 */
char *
DirectoryKeyText(ShardextTable *table, Datum value)
{
	int			nestLevel = SetCanonicalDatumGucs();
	char	   *key = OutputFunctionCall(&table->outputProc, value);

	ResetDeparseGucs(nestLevel);
	return key;
}

/*
 * InsertDirectoryEntry records that key of table lives in shardId (an
 * existing entry stays: ON CONFLICT DO NOTHING) and makes the change
 * visible to this backend's cache.
 */
static void
InsertDirectoryEntry(Oid relid, const char *key, Datum value, int64 shardId)
{
	Oid			argTypes[3] = {REGCLASSOID, TEXTOID, INT8OID};
	Datum		args[3];
	volatile bool inserted = false;

	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(key);
	args[2] = Int64GetDatum(shardId);
	BeginOwnDirectoryKey();
	PG_TRY();
	{
		inserted = ExecuteCatalogSql("INSERT INTO shardext.directory (table_name, key, shard_id) "
									 "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
									 3, argTypes, args, NULL) == 1;
		CommandCounterIncrement();
	}
	PG_CATCH();
	{
		EndOwnDirectoryKey(false, relid, key, value, shardId);
		PG_RE_THROW();
	}
	PG_END_TRY();
	EndOwnDirectoryKey(inserted, relid, key, value, shardId);
}

/*
 * KeyTextIdentifiesKey tells whether equal keys of a directory table always
 * have the same text (integers, uuids, dates, enums, text compared
 * deterministically...), as opposed to numeric 1 and 1.0, float 0 and -0,
 * intervals '1 day' and '24 hours', or texts under a nondeterministic
 * collation.
 */
static bool
KeyTextIdentifiesKey(ShardextTable *table)
{
	Oid			type = getBaseType(table->distTypeId);

	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case UUIDOID:
		case DATEOID:
		case BOOLOID:
		case BYTEAOID:
			return true;
		case TEXTOID:
		case VARCHAROID:
			return get_collation_isdeterministic(table->distCollation);
		default:
			return type_is_enum(type);
	}
}

/*
 * LockDirectoryAssignments keeps other transactions from recording new keys
 * of a directory table until this one ends, and returns the table's current
 * map, with the keys they committed meanwhile.  The directory's primary key
 * compares the keys' text: without the lock, two sessions could each
 * record their own spelling of one key (1 and 1.0) in different shards.
 * Where the text identifies the key, that primary key suffices, and
 * automatic assignments take no lock unless always.
 */
static ShardextTable *
LockDirectoryAssignments(ShardextTable *table, bool always)
{
	ShardextTable *current;

	if (!always && KeyTextIdentifiesKey(table))
		return table;
	LockDatabaseObject(ShardextCatalogRelid("directory", false), table->relid, 0,
					   ExclusiveLock);
	AcceptInvalidationMessages();
	current = ShardextGetTable(table->relid);
	return current ? current : table;
}

/*
 * AssignDirectoryKey gives a new key to the shard with the fewest keys
 * (the lowest index among equals) and returns the key's shard, which is
 * another one if a concurrent session assigned the key first.
 */
static ShardextShard *
AssignDirectoryKey(ShardextTable *table, Datum value, const char *key)
{
	ShardextTable *current = LockDirectoryAssignments(table, false);
	DirectoryEntry *entry;
	ShardextShard *shard;
	int			best = 0;
	int			i;

	/* another transaction recorded an equal key meanwhile */
	if (current != table && (entry = FindDirectoryEntry(current, value)) != NULL)
		return entry->shard;
	/* counted in the current map: the caller's may predate recent keys */
	current = ShardextGetTable(table->relid);
	if (current == NULL)
		current = table;
	for (i = 1; i < current->shardCount; i++)
		if (current->directoryShardKeys[i] < current->directoryShardKeys[best])
			best = i;
	InsertDirectoryEntry(table->relid, key, value, current->shards[best]->shardId);
	current = ShardextGetTable(table->relid);
	entry = current ? FindDirectoryEntry(current, value) : NULL;
	shard = entry ? entry->shard : NULL;
	if (shard == NULL)
		elog(ERROR, "directory key %s of table %u was not recorded",
			 key, table->relid);
	return shard;
}

/*
 * shardext_directory_assign(table, key, shard_id) puts a key of a
 * directory-distributed table in a shard; only the table's owner may.
 */
Datum
shardext_directory_assign(PG_FUNCTION_ARGS)
{
	ShardextTable *table;
	ShardextTable *owner = NULL;
	ShardextShard *shard;
	DirectoryEntry *existing;
	Datum		value;
	char	   *key;
	int64		shardId;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table_name, key and shard_id must not be null")));
	table = GetDirectoryTableOrError(PG_GETARG_OID(0));

	/* where a table's rows go is its owner's call, as moving them is */
	LockRelationOid(table->relid, RowExclusiveLock);
	if (!pg_class_ownercheck(table->relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(table->relid));
	shardId = PG_GETARG_INT64(2);
	shard = ShardextGetShard(shardId, &owner);
	if (shard == NULL || owner->relid != table->relid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard " INT64_FORMAT " is not a shard of table \"%s\"",
						shardId, get_rel_name(table->relid)),
				 errhint("shardext.shards lists the shards of each table.")));
	value = CoerceToDistributionType(table, PG_GETARG_DATUM(1),
									 get_fn_expr_argtype(fcinfo->flinfo, 1));
	/* (a domain's key must satisfy it: routing converts to its base type) */
	if (get_typtype(table->distTypeId) == TYPTYPE_DOMAIN)
		domain_check(value, false, table->distTypeId, NULL, NULL);
	key = DirectoryKeyText(table, value);
	table = LockDirectoryAssignments(table, true);
	existing = FindDirectoryEntry(table, value);
	if (existing != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("key \"%s\" of table \"%s\" is already assigned",
						key, get_rel_name(table->relid)),
				 errdetail("It is in shard " INT64_FORMAT ".",
						   existing->shard->shardId),
				 errhint("Move it with shardext_directory_move_key().")));
	InsertDirectoryEntry(table->relid, key, value, shardId);
	PG_RETURN_VOID();
}

/*
 * GetDirectoryTableOrError returns the cache entry of a directory-
 * distributed table, or raises an error saying what the table is.
 */
ShardextTable *
GetDirectoryTableOrError(Oid relid)
{
	ShardextTable *table = ShardextGetTable(relid);

	if (table == NULL || table->type != DIST_DIRECTORY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not directory-distributed",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errhint("Distribute it with create_distributed_table(table, column, 'directory').")));
	return table;
}

/*
 * PinValueFits tells whether a value of another type than the distribution
 * column's, compared with the column (int4 = int8, float8 = float4, ...),
 * can equal a value of the column's type: an integer in the column type's
 * range, a float8 that a float4 holds exactly.  When it cannot, no row is
 * equal to it.  Values of other types always "fit".
 */
bool
PinValueFits(ShardextTable *table, Datum value, Oid valueType)
{
	int64		v;
	Oid			distType;

	if (valueType == table->distTypeId)
		return true;
	/* a domain's values are its base type's (its constraints aside) */
	distType = getBaseType(table->distTypeId);
	if (valueType == FLOAT8OID && distType == FLOAT4OID)
	{
		float8		f = DatumGetFloat8(value);

		return isnan(f) || (float8) (float4) f == f;
	}
	/* an inet with bits right of its mask equals no cidr */
	if (valueType == INETOID && distType == CIDROID)
		return DatumGetBool(DirectFunctionCall2(network_eq, value,
												DirectFunctionCall1(inet_to_cidr, value)));
	switch (valueType)
	{
		case INT2OID:
			v = DatumGetInt16(value);
			break;
		case INT4OID:
			v = DatumGetInt32(value);
			break;
		case INT8OID:
			v = DatumGetInt64(value);
			break;
		default:
			return true;
	}
	switch (distType)
	{
		case INT2OID:
			return v >= PG_INT16_MIN && v <= PG_INT16_MAX;
		case INT4OID:
			return v >= PG_INT32_MIN && v <= PG_INT32_MAX;
		default:
			return true;
	}
}

/*
 * CoerceToDistributionType converts a value of another type to the type of
 * the distribution column, as the comparison of the two does: floats
 * exactly (a float4 value widened to float8; a float8 one narrowed only
 * when PinValueFits), others through the types' text forms without the
 * column's length limit (varchar(3) = 'abcdef' is no error, just no row),
 * and into a domain's base type without its constraints (a value a domain
 * column cannot hold matches no row, as on PostgreSQL).
 */
Datum
CoerceToDistributionType(ShardextTable *table, Datum value, Oid valueType)
{
	Oid			outputFunction;
	bool		isVarlena;
	Oid			inputFunction;
	Oid			ioParam;
	char	   *text;
	Oid			distType;

	if (valueType == table->distTypeId)
		return value;
	distType = getBaseType(table->distTypeId);
	if (valueType == distType)
		return value;
	if (valueType == FLOAT4OID && distType == FLOAT8OID)
		return Float8GetDatum((float8) DatumGetFloat4(value));
	if (valueType == FLOAT8OID && distType == FLOAT4OID)
		return Float4GetDatum((float4) DatumGetFloat8(value));
	getTypeOutputInfo(valueType, &outputFunction, &isVarlena);
	text = OidOutputFunctionCall(outputFunction, value);
	getTypeInputInfo(distType, &inputFunction, &ioParam);
	return OidInputFunctionCall(inputFunction, text, ioParam, -1);
}

/*
 * GetDistributedTableOrError returns the cache entry of a table that has a
 * distribution column, or raises an error saying what the table is.
 */
static ShardextTable *
GetDistributedTableOrError(Oid relid)
{
	ShardextTable *table = ShardextGetTable(relid);

	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not distributed",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errhint("Distribute it with create_distributed_table().")));
	return table;
}

/*
 * shardext_hash(value anyelement) returns the int4 hash that hash
 * distribution uses for value, or NULL for NULL.
 */
Datum
shardext_hash(PG_FUNCTION_ARGS)
{
	Oid			valueType = get_fn_expr_argtype(fcinfo->flinfo, 0);
	TypeCacheEntry *typentry;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	typentry = lookup_type_cache(valueType, TYPECACHE_HASH_EXTENDED_PROC_FINFO);
	if (!OidIsValid(typentry->hash_extended_proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s has no hash function", format_type_be(valueType)),
				 errhint("Hash distribution needs a type with a default hash "
						 "operator class.")));
	PG_RETURN_INT32(HashDistributionValue(&typentry->hash_extended_proc_finfo,
										  PG_GET_COLLATION(),
										  PG_GETARG_DATUM(0)));
}

/*
 * ShardForArguments returns the shard of table arguments 0 and 1 (a value
 * of any type) of a routing function; NULL when the table is NULL.
 */
static ShardextShard *
ShardForArguments(FunctionCallInfo fcinfo)
{
	ShardextTable *table;
	Datum		value;

	if (PG_ARGISNULL(0))
		return NULL;
	table = GetDistributedTableOrError(PG_GETARG_OID(0));
	if (table->distColumnName == NULL)
		return table->shards[0];
	value = PG_ARGISNULL(1) ? (Datum) 0 :
		CoerceToDistributionType(table, PG_GETARG_DATUM(1),
								 get_fn_expr_argtype(fcinfo->flinfo, 1));
	if (table->type == DIST_DIRECTORY)
	{
		/*
		 * Whether a key has an assignment is the directory's content, shown
		 * (shardext.directory) only to who may read the table.
		 */
		if (pg_class_aclcheck(table->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(table->relid)),
					 errdetail("The shard of a directory table's key tells whether the "
							   "key is assigned: it needs SELECT on the table.")));
		return LookupShardForValue(table, value, PG_ARGISNULL(1));
	}
	return FindShardForValue(table, value, PG_ARGISNULL(1));
}

/*
 * shardext_shard_for_value(table, value) returns the id of the shard of
 * table that holds rows with that distribution value.
 */
Datum
shardext_shard_for_value(PG_FUNCTION_ARGS)
{
	ShardextShard *shard = ShardForArguments(fcinfo);

	if (shard == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(shard->shardId);
}

/*
 * shardext_node_for_value(table, value) returns the id of the node that
 * holds rows with that distribution value.
 */
Datum
shardext_node_for_value(PG_FUNCTION_ARGS)
{
	ShardextShard *shard = ShardForArguments(fcinfo);

	if (shard == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT32(shard->nodeId);
}
