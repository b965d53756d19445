/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading and writing the shardext.* catalog tables.
 *
 * Reads scan the tables directly (no SQL, no planner), so that the
 * metadata cache can be rebuilt from inside the planner hook without
 * recursing into it.  Writes go through SPI, as the bootstrap superuser and
 * with search_path = pg_catalog, so that the catalog stays writable only by
 * the extension's functions while their callers need no privilege on it,
 * and no object of the caller's search path can capture a name.
 *
 * Every write fires the catalog's statement triggers, which send a relcache
 * invalidation that makes every backend drop its cached shard map (see
 * metadata_cache.c).
 *
 * IDENTIFICATION
 *	  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "shardext/catalog.h"
#include "shardext/distribute.h"

/* set while ExecuteCatalogSql runs: shardext's own catalog writes */
static int	CatalogWriteDepth = 0;

/* set once this session restored rows of shardext.tables from a dump */
static bool RestoredShardMap = false;

static void NoteShardMapRestored(void);

PG_FUNCTION_INFO_V1(shardext_catalog_changed);

/*
 * ShardextSchemaOid returns the OID of schema "shardext", or InvalidOid
 * when missingOk and the extension is not installed.
 */
Oid
ShardextSchemaOid(bool missingOk)
{
	return get_namespace_oid(SHARDEXT_SCHEMA, missingOk);
}

/*
 * ShardextCatalogRelid returns the OID of catalog table shardext.<tableName>.
 */
Oid
ShardextCatalogRelid(const char *tableName, bool missingOk)
{
	Oid			schemaOid = ShardextSchemaOid(missingOk);
	Oid			relid;

	if (!OidIsValid(schemaOid))
		return InvalidOid;
	relid = get_relname_relid(tableName, schemaOid);
	if (!OidIsValid(relid) && !missingOk)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("catalog table \"%s.%s\" does not exist",
						SHARDEXT_SCHEMA, tableName),
				 errhint("Run CREATE EXTENSION shardext in this database.")));
	return relid;
}

/*
 * ScanCatalogTable calls callback for every row of shardext.<tableName>
 * visible to a fresh snapshot (which includes the current transaction's own
 * writes).  The values passed are only valid during the call.
 */
void
ScanCatalogTable(const char *tableName, CatalogRowCallback callback, void *arg)
{
	Oid			relid = ShardextCatalogRelid(tableName, false);
	Relation	rel;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *nulls;

	rel = table_open(relid, AccessShareLock);
	tupdesc = RelationGetDescr(rel);
	values = palloc(sizeof(Datum) * tupdesc->natts);
	nulls = palloc(sizeof(bool) * tupdesc->natts);

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		heap_deform_tuple(tuple, tupdesc, values, nulls);
		callback(values, nulls, arg);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);

	table_close(rel, AccessShareLock);
	pfree(values);
	pfree(nulls);
}

/*
 * ExecuteCatalogSql runs one SQL statement against the catalog as the
 * bootstrap superuser with search_path = pg_catalog, and returns the number
 * of rows it processed.  Rows it returns are left in SPI_tuptable, which is
 * only valid until the caller's next SPI use; callers here need counts only.
 */
int
ExecuteCatalogSql(const char *sql, int nargs, Oid *argTypes, Datum *args,
				  const char *nulls)
{
	Oid			savedUserId;
	int			savedSecContext;
	int			gucNestLevel;
	int			rc;
	uint64		processed;

	GetUserIdAndSecContext(&savedUserId, &savedSecContext);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   savedSecContext | SECURITY_LOCAL_USERID_CHANGE);
	gucNestLevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* the catalog's cascades and triggers fire whatever the session's role */
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		(void) set_config_option("session_replication_role", "origin",
								 PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	CatalogWriteDepth++;
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, nargs, argTypes, args, nulls, false, 0);
	}
	PG_FINALLY();
	{
		CatalogWriteDepth--;
	}
	PG_END_TRY();
	if (rc < 0)
		elog(ERROR, "catalog statement failed (%s): %s",
			 SPI_result_code_string(rc), sql);
	processed = SPI_processed;
	SPI_finish();

	AtEOXact_GUC(true, gucNestLevel);
	SetUserIdAndSecContext(savedUserId, savedSecContext);

	return (int) processed;
}

/*
 * NextCatalogSequenceValue draws the next value of sequence
 * shardext.<sequenceName>, whatever the caller's privileges.
 */
Datum
NextCatalogSequenceValue(const char *sequenceName)
{
	Oid			seqOid = ShardextCatalogRelid(sequenceName, false);

	return Int64GetDatum(nextval_internal(seqOid, false));
}

/*
 * shardext_catalog_changed is the statement trigger of every catalog table:
 * it queues a relcache invalidation of that table, which every backend
 * (this one at the next command, the others after commit) turns into a
 * flush of its cached shard map.  Writes made by hand by a superuser are
 * therefore seen too.
 */
Datum
shardext_catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("shardext.catalog_changed() must be called as a trigger")));

	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));

	/*
	 * Rows of shardext.tables (or placements, restored last) written by
	 * something else than shardext's functions are a dump being restored
	 * (pg_restore, psql): in place of the original, as the README says, so
	 * the shards hold the rows and objects the rest of the dump makes
	 * again.  The tables' rows restored so far are dropped each time.
	 */
	if (CatalogWriteDepth == 0 && TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		(RelationGetRelid(trigdata->tg_relation) == ShardextCatalogRelid("tables", false) ||
		 RelationGetRelid(trigdata->tg_relation) == ShardextCatalogRelid("placements", false)))
		NoteShardMapRestored();
	return PointerGetDatum(NULL);
}

/*
 * NoteShardMapRestored notes that the session restores a dump (see
 * ShardMapRestoredHere) and empties the coordinator's own tables of the
 * restored distributed tables, which the dump's COPY filled before the
 * shard map was back.
 */
static void
NoteShardMapRestored(void)
{
	uint64		i;

	RestoredShardMap = true;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT table_name::oid FROM shardext.tables", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read shardext.tables");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isNull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc,
														  1, &isNull));
		Relation	rel = table_open(relid, RowExclusiveLock);

		DiscardStaleLocalRows(rel, DEBUG1);
		table_close(rel, NoLock);
	}
	SPI_finish();
}

/*
 * ShardMapRestoredHere tells whether this session restored rows of the
 * shard map from a dump (see utility.c's HandleRestoreStatement).
 */
bool
ShardMapRestoredHere(void)
{
	return RestoredShardMap;
}
