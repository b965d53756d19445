/*-------------------------------------------------------------------------
 *
 * metadata_cache.c
 *	  The per-backend cache of the shard map.
 *
 * The catalog (shardext.nodes, tables, shards, placements, directory) is
 * read into backend memory once and then served from there: the router
 * path runs no SQL against the catalog.  Any write to the catalog fires a
 * statement trigger that sends a relcache invalidation of the catalog
 * table; a relcache invalidation of a cached distributed table (DDL, DROP)
 * or a full reset does the same.  The invalidation callback only marks the
 * cache stale; the next lookup rebuilds it.
 *
 * A rebuild does not free the old cache at once: code may still hold
 * pointers into it (an invalidation can arrive whenever a lock is taken).
 * The old memory context is kept until the end of the transaction.
 *
 * IDENTIFICATION
 *	  src/metadata_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/inval.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "shardext/catalog.h"
#include "shardext/deparse.h"
#include "shardext/maintenance.h"
#include "shardext/metadata_cache.h"
#include "shardext/node_types.h"

/* the cached catalog; everything hangs off CacheContext */
typedef struct MetadataCache
{
	MemoryContext context;
	List	   *nodes;			/* ShardextNode *, ordered by node id */
	HTAB	   *tables;			/* ShardextTable, keyed by relid */
	List	   *tableList;		/* the same entries, in catalog order */
	HTAB	   *shards;			/* ShardLookupEntry, keyed by shard id */
	bool		copiesKnown;	/* copyRelids was filled */
	List	   *copyRelids;		/* relations holding node 0's placements */
	List	   *copyTables;		/* the tables they are shards of */
} MetadataCache;

/* entry of MetadataCache.shards */
typedef struct ShardLookupEntry
{
	int64		shardId;		/* hash key: must be first */
	ShardextShard *shard;
	ShardextTable *table;
} ShardLookupEntry;

static const char *const CatalogTableNames[6] = {
	"nodes", "tables", "shards", "placements", "directory", "shard_statistics"
};

/* index of shardext.directory in CatalogTableNames */
#define DIRECTORY_CATALOG 4
/* index of shardext.shard_statistics, which extension version 0.1 lacks */
#define STATISTICS_CATALOG 5

static MetadataCache *Cache = NULL;
static bool CacheStale = true;

/*
 * Counts the invalidations of distributed tables (their shape may have
 * changed): the statements prepared on node connections before the last one
 * may read shards whose result type changed (remote_exec.c deallocates
 * them).  Catalog changes alone (directory keys, placements) do not count.
 */
uint64		ShardextShapeEpoch = 0;

/*
 * Set while this backend writes a new directory key and makes it visible:
 * the directory's invalidations are counted instead of making the map
 * stale (see BeginOwnDirectoryKey).
 */
static bool AbsorbingOwnDirectoryKey = false;
static int	AbsorbedDirectoryInvalidations = 0;

/* entry of ShardextTable.directoryAdded: the keys added with one hash */
typedef struct AddedKeys
{
	uint32		hash;			/* hash key: must be first */
	List	   *entries;		/* DirectoryEntry * */
} AddedKeys;

/* OIDs of the catalog tables, known from the first rebuild on */
static Oid	CatalogRelids[6];

/* contexts of replaced caches, freed at the end of the transaction */
static List *RetiredContexts = NIL;

static void InvalidateShardMap(Datum arg, Oid relid);
static void FreeRetiredCaches(XactEvent event, void *arg);
static MetadataCache *GetCache(void);
static void BuildNodeCallback(Datum *values, bool *nulls, void *arg);
static void BuildTableCallback(Datum *values, bool *nulls, void *arg);
static void BuildShardCallback(Datum *values, bool *nulls, void *arg);
static void BuildDirectoryCallback(Datum *values, bool *nulls, void *arg);
static const char *HostKey(const char *host);
static void MarkNodesSharingHosts(List *nodes);
static void PrepareDirectory(ShardextTable *table);
static void BuildPlacementCallback(Datum *values, bool *nulls, void *arg);
static void BuildStatisticsCallback(Datum *values, bool *nulls, void *arg);
static void EstimateTableRows(ShardextTable *table);
static void CompleteTables(MetadataCache *cache);
static int	CompareNodes(const ListCell *a, const ListCell *b);

/*
 * ShardextInitMetadataCache registers the invalidation callback.  Called
 * once per backend, from _PG_init.
 */
void
ShardextInitMetadataCache(void)
{
	CacheRegisterRelcacheCallback(InvalidateShardMap, (Datum) 0);
	RegisterXactCallback(FreeRetiredCaches, NULL);
}

/*
 * InvalidateShardMap marks the cache stale when the invalidated relation is
 * one the cache depends on (and counts a distributed table's change in
 * ShardextShapeEpoch).
 * It never touches the catalog.
 */
static void
InvalidateShardMap(Datum arg, Oid relid)
{
	bool		catalog = false;
	bool		table;
	int			i;

	/* the key EndOwnDirectoryKey adds to the map itself */
	if (AbsorbingOwnDirectoryKey && OidIsValid(relid) &&
		relid == CatalogRelids[DIRECTORY_CATALOG])
	{
		AbsorbedDirectoryInvalidations++;
		return;
	}

	for (i = 0; i < lengthof(CatalogRelids) && !catalog; i++)
		catalog = (CatalogRelids[i] == relid);
	table = !OidIsValid(relid) ||
		(Cache != NULL && hash_search(Cache->tables, &relid, HASH_FIND, NULL) != NULL);
	if (catalog || table)
		CacheStale = true;
	/* only a table's own change can change what its shards return */
	if (table)
		ShardextShapeEpoch++;
}

/*
 * FreeRetiredCaches frees replaced caches once no pointer into them can be
 * in use any more.
 */
static void
FreeRetiredCaches(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
		return;
	if (RetiredContexts == NIL)
		return;
	foreach(lc, RetiredContexts)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(RetiredContexts);
	RetiredContexts = NIL;
}

/*
 * ShardextExtensionLoaded tells whether the extension exists in the current
 * database and is usable (not being created or dropped).
 */
bool
ShardextExtensionLoaded(void)
{
	Oid			relid;

	if (!IsTransactionState())
		return false;
	if (creating_extension)
		return false;
	if (Cache != NULL && !CacheStale)
		return true;
	relid = ShardextCatalogRelid("placements", true);
	return OidIsValid(relid);
}

/*
 * ShardextCheckExtensionLoaded raises an error if the extension is not
 * installed in the current database.
 */
void
ShardextCheckExtensionLoaded(void)
{
	if (!OidIsValid(ShardextCatalogRelid("placements", true)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"shardext\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION shardext.")));
}

/*
 * GetCache returns the cache, rebuilding it first when it is stale.
 */
static MetadataCache *
GetCache(void)
{
	MemoryContext context;
	MemoryContext oldContext;
	MetadataCache *cache;
	int			i;

	/* the extension is in use here: its maintenance worker should run */
	if (Cache != NULL && !CacheStale)
	{
		StartMaintenanceWorker();
		return Cache;
	}

	ShardextCheckExtensionLoaded();
	StartMaintenanceWorker();

	for (i = 0; i < lengthof(CatalogTableNames); i++)
		CatalogRelids[i] = ShardextCatalogRelid(CatalogTableNames[i],
												i == STATISTICS_CATALOG);

	context = AllocSetContextCreate(CacheMemoryContext,
									"shardext metadata cache",
									ALLOCSET_DEFAULT_SIZES);
	oldContext = MemoryContextSwitchTo(context);
	cache = palloc0(sizeof(MetadataCache));
	cache->context = context;
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(Oid);
		info.entrysize = sizeof(ShardextTable);
		info.hcxt = context;
		cache->tables = hash_create("shardext tables", 64, &info,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		info.keysize = sizeof(int64);
		info.entrysize = sizeof(ShardLookupEntry);
		cache->shards = hash_create("shardext shards", 256, &info,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	/*
	 * Mark the cache fresh before reading: an invalidation that arrives
	 * while we read marks it stale again, and the next lookup rereads.
	 */
	CacheStale = false;
	PG_TRY();
	{
		ScanCatalogTable("nodes", BuildNodeCallback, cache);
		list_sort(cache->nodes, CompareNodes);
		MarkNodesSharingHosts(cache->nodes);
		ScanCatalogTable("tables", BuildTableCallback, cache);
		ScanCatalogTable("shards", BuildShardCallback, cache);
		ScanCatalogTable("placements", BuildPlacementCallback, cache);
		ScanCatalogTable("directory", BuildDirectoryCallback, cache);
		if (OidIsValid(CatalogRelids[STATISTICS_CATALOG]))
			ScanCatalogTable("shard_statistics", BuildStatisticsCallback, cache);
		CompleteTables(cache);
	}
	PG_CATCH();
	{
		CacheStale = true;
		MemoryContextSwitchTo(oldContext);
		MemoryContextDelete(context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldContext);

	if (Cache != NULL)
	{
		oldContext = MemoryContextSwitchTo(TopMemoryContext);
		RetiredContexts = lappend(RetiredContexts, Cache->context);
		MemoryContextSwitchTo(oldContext);
	}
	Cache = cache;
	return cache;
}

/* BuildNodeCallback adds one row of shardext.nodes to the cache. */
static void
BuildNodeCallback(Datum *values, bool *nulls, void *arg)
{
	MetadataCache *cache = (MetadataCache *) arg;
	ShardextNode *node = palloc0(sizeof(ShardextNode));
	char	   *role = TextDatumGetCString(values[Anum_nodes_role - 1]);

	node->nodeId = DatumGetInt32(values[Anum_nodes_node_id - 1]);
	node->host = TextDatumGetCString(values[Anum_nodes_host - 1]);
	node->port = DatumGetInt32(values[Anum_nodes_port - 1]);
	node->dbname = TextDatumGetCString(values[Anum_nodes_dbname - 1]);
	if (strcmp(role, "coordinator") == 0)
		node->role = NODE_ROLE_COORDINATOR;
	else if (strcmp(role, "worker") == 0)
		node->role = NODE_ROLE_WORKER;
	else
		node->role = NODE_ROLE_REPLICA;
	node->primaryNodeId = nulls[Anum_nodes_primary_node_id - 1] ? 0 :
		DatumGetInt32(values[Anum_nodes_primary_node_id - 1]);
	node->isActive = DatumGetBool(values[Anum_nodes_is_active - 1]);
	node->serverName =
		pstrdup(NameStr(*DatumGetName(values[Anum_nodes_server_name - 1])));
	cache->nodes = lappend(cache->nodes, node);
}

/*
 * BuildTableCallback adds one row of shardext.tables to the cache, with the
 * type information routing needs.  A row whose table no longer exists (it
 * can only be seen inside the transaction that drops it) is skipped.
 */
static void
BuildTableCallback(Datum *values, bool *nulls, void *arg)
{
	MetadataCache *cache = (MetadataCache *) arg;
	Oid			relid = DatumGetObjectId(values[Anum_tables_table_name - 1]);
	char	   *type = TextDatumGetCString(values[Anum_tables_distribution_type - 1]);
	ShardextTable *table;
	bool		found;

	if (get_rel_name(relid) == NULL)
		return;

	table = hash_search(cache->tables, &relid, HASH_ENTER, &found);
	memset(((char *) table) + sizeof(Oid), 0, sizeof(ShardextTable) - sizeof(Oid));
	if (strcmp(type, "hash") == 0)
		table->type = DIST_HASH;
	else if (strcmp(type, "range") == 0)
		table->type = DIST_RANGE;
	else if (strcmp(type, "directory") == 0)
		table->type = DIST_DIRECTORY;
	else if (strcmp(type, "reference") == 0)
		table->type = DIST_REFERENCE;
	else
		table->type = DIST_FEDERATED;
	table->colocationId = DatumGetInt32(values[Anum_tables_colocation_id - 1]);
	table->shardCount = DatumGetInt32(values[Anum_tables_shard_count - 1]);
	table->shards = palloc0(sizeof(ShardextShard *) * table->shardCount);

	if (!nulls[Anum_tables_distribution_column - 1])
	{
		table->distColumnName =
			TextDatumGetCString(values[Anum_tables_distribution_column - 1]);
		table->distAttno = get_attnum(relid, table->distColumnName);
		if (table->distAttno == InvalidAttrNumber)
			elog(ERROR, "distribution column \"%s\" of table %u does not exist",
				 table->distColumnName, relid);
		get_atttypetypmodcoll(relid, table->distAttno, &table->distTypeId,
							  &table->distTypmod, &table->distCollation);
		get_typlenbyval(table->distTypeId, &table->distTypeLen,
						&table->distTypeByVal);
		if (table->type == DIST_HASH)
		{
			TypeCacheEntry *typentry =
				lookup_type_cache(table->distTypeId,
								  TYPECACHE_HASH_EXTENDED_PROC_FINFO);

			if (!OidIsValid(typentry->hash_extended_proc))
				elog(ERROR, "type %u has no extended hash function",
					 table->distTypeId);
			fmgr_info_copy(&table->hashProc,
						   &typentry->hash_extended_proc_finfo,
						   CurrentMemoryContext);
		}
		else if (table->type == DIST_DIRECTORY)
		{
			Oid			outputFunction;
			bool		isVarlena;
			TypeCacheEntry *typentry =
				lookup_type_cache(table->distTypeId,
								  TYPECACHE_HASH_EXTENDED_PROC_FINFO |
								  TYPECACHE_EQ_OPR_FINFO);

			getTypeOutputInfo(table->distTypeId, &outputFunction, &isVarlena);
			fmgr_info_cxt(outputFunction, &table->outputProc, CurrentMemoryContext);
			if (!OidIsValid(typentry->hash_extended_proc) ||
				!OidIsValid(typentry->eq_opr))
				elog(ERROR, "type %u has no hash function or equality",
					 table->distTypeId);
			fmgr_info_copy(&table->hashProc, &typentry->hash_extended_proc_finfo,
						   CurrentMemoryContext);
			fmgr_info_copy(&table->equalProc, &typentry->eq_opr_finfo,
						   CurrentMemoryContext);
		}
		else if (table->type == DIST_RANGE)
		{
			TypeCacheEntry *typentry =
				lookup_type_cache(table->distTypeId, TYPECACHE_CMP_PROC_FINFO);

			if (!OidIsValid(typentry->cmp_proc))
				elog(ERROR, "type %u has no btree comparison function",
					 table->distTypeId);
			fmgr_info_copy(&table->compareProc, &typentry->cmp_proc_finfo,
						   CurrentMemoryContext);
		}
	}
	cache->tableList = lappend(cache->tableList, table);
}

/*
 * BuildShardCallback adds one row of shardext.shards to its table, parsing
 * its bounds.
 */
static void
BuildShardCallback(Datum *values, bool *nulls, void *arg)
{
	MetadataCache *cache = (MetadataCache *) arg;
	Oid			relid = DatumGetObjectId(values[Anum_shards_table_name - 1]);
	ShardextTable *table = hash_search(cache->tables, &relid, HASH_FIND, NULL);
	ShardextShard *shard;
	ShardLookupEntry *lookup;

	if (table == NULL)
		return;

	shard = palloc0(sizeof(ShardextShard));
	shard->rowCount = -1;
	shard->pageCount = -1;
	shard->shardId = DatumGetInt64(values[Anum_shards_shard_id - 1]);
	shard->shardIndex = DatumGetInt32(values[Anum_shards_shard_index - 1]);
	shard->relationName =
		TextDatumGetCString(values[Anum_shards_shard_relation - 1]);
	if (!nulls[Anum_shards_min_value - 1])
		shard->minText = TextDatumGetCString(values[Anum_shards_min_value - 1]);
	if (!nulls[Anum_shards_max_value - 1])
		shard->maxText = TextDatumGetCString(values[Anum_shards_max_value - 1]);

	if (table->type == DIST_HASH)
	{
		shard->hashMin = shard->minText ? pg_strtoint32(shard->minText) : PG_INT32_MIN;
		shard->hashMax = shard->maxText ? pg_strtoint32(shard->maxText) : PG_INT32_MAX;
	}
	else if (table->type == DIST_RANGE)
	{
		Oid			typinput;
		Oid			typioparam;
		int32		typmod;

		int			nestLevel = SetCanonicalDatumGucs();

		GetStoredValueInputInfo(table->distTypeId, table->distTypmod,
								&typinput, &typioparam, &typmod);
		if (shard->minText)
			shard->rangeMin = OidInputFunctionCall(typinput, shard->minText,
												   typioparam, typmod);
		if (shard->maxText)
			shard->rangeMax = OidInputFunctionCall(typinput, shard->maxText,
												   typioparam, typmod);
		ResetDeparseGucs(nestLevel);
	}

	if (shard->shardIndex < 0 || shard->shardIndex >= table->shardCount)
		elog(ERROR, "shard " INT64_FORMAT " has index %d outside 0..%d",
			 shard->shardId, shard->shardIndex, table->shardCount - 1);
	table->shards[shard->shardIndex] = shard;

	lookup = hash_search(cache->shards, &shard->shardId, HASH_ENTER, NULL);
	lookup->shard = shard;
	lookup->table = table;
}

/*
 * BuildStatisticsCallback adds one row of shardext.shard_statistics to its
 * shard.
 */
static void
BuildStatisticsCallback(Datum *values, bool *nulls, void *arg)
{
	MetadataCache *cache = (MetadataCache *) arg;
	int64		shardId = DatumGetInt64(values[Anum_shard_statistics_shard_id - 1]);
	ShardLookupEntry *lookup = hash_search(cache->shards, &shardId,
										   HASH_FIND, NULL);

	if (lookup == NULL)
		return;
	lookup->shard->rowCount =
		DatumGetFloat8(values[Anum_shard_statistics_row_count - 1]);
	lookup->shard->pageCount =
		DatumGetInt64(values[Anum_shard_statistics_page_count - 1]);
}

/*
 * EstimateTableRows sets a table's row estimate from its shards' statistics:
 * shards never measured (created since) count as the average of the others;
 * -1 when no shard was measured.
 */
static void
EstimateTableRows(ShardextTable *table)
{
	double		rows = 0;
	int			measured = 0;
	int			i;

	for (i = 0; i < table->shardCount; i++)
	{
		if (table->shards[i]->rowCount < 0)
			continue;
		rows += table->shards[i]->rowCount;
		measured++;
	}
	table->rowEstimate = measured > 0 ? rows * table->shardCount / measured : -1;
}

/* BuildPlacementCallback adds one row of shardext.placements to its shard. */
static void
BuildPlacementCallback(Datum *values, bool *nulls, void *arg)
{
	MetadataCache *cache = (MetadataCache *) arg;
	int64		shardId = DatumGetInt64(values[Anum_placements_shard_id - 1]);
	int32		nodeId = DatumGetInt32(values[Anum_placements_node_id - 1]);
	ShardLookupEntry *lookup = hash_search(cache->shards, &shardId,
										   HASH_FIND, NULL);

	if (lookup == NULL)
		return;
	lookup->shard->placementNodeIds =
		lappend_int(lookup->shard->placementNodeIds, nodeId);
}

/*
 * BuildDirectoryCallback adds one row of shardext.directory to its table;
 * CompleteTables sorts them.
 */
static void
BuildDirectoryCallback(Datum *values, bool *nulls, void *arg)
{
	MetadataCache *cache = (MetadataCache *) arg;
	int64		shardId = DatumGetInt64(values[Anum_directory_shard_id - 1]);
	ShardLookupEntry *lookup = hash_search(cache->shards, &shardId,
										   HASH_FIND, NULL);
	DirectoryEntry *entry;

	if (lookup == NULL)
		return;
	entry = palloc(sizeof(DirectoryEntry));
	entry->key = TextDatumGetCString(values[Anum_directory_key - 1]);
	entry->shard = lookup->shard;
	lookup->table->directoryRows = lappend(lookup->table->directoryRows, entry);
}

/* CompareDirectoryEntries orders directory entries by hash. */
static int
CompareDirectoryEntries(const void *a, const void *b)
{
	uint32		ha = ((const DirectoryEntry *) a)->hash;
	uint32		hb = ((const DirectoryEntry *) b)->hash;

	return (ha > hb) - (ha < hb);
}

/*
 * PrepareDirectory reads the keys of a directory table as values of the
 * column's type (in the settings they were written in) and sorts them by
 * hash, for FindDirectoryEntry.
 */
static void
PrepareDirectory(ShardextTable *table)
{
	Oid			inputFunction;
	Oid			ioParam;
	int32		typmod;
	int			nestLevel;
	ListCell   *rowCell;
	int			i;

	GetStoredValueInputInfo(table->distTypeId, table->distTypmod,
							&inputFunction, &ioParam, &typmod);
	nestLevel = SetCanonicalDatumGucs();
	table->directoryCount = list_length(table->directoryRows);
	table->directory = palloc(sizeof(DirectoryEntry) * table->directoryCount);
	foreach(rowCell, table->directoryRows)
	{
		DirectoryEntry *entry = &table->directory[foreach_current_index(rowCell)];

		*entry = *(DirectoryEntry *) lfirst(rowCell);
		entry->value = OidInputFunctionCall(inputFunction, entry->key, ioParam,
											typmod);
		entry->hash = DirectoryHash(table, entry->value);
	}
	ResetDeparseGucs(nestLevel);
	qsort(table->directory, table->directoryCount, sizeof(DirectoryEntry),
		  CompareDirectoryEntries);
	table->directoryShardKeys = palloc0(sizeof(int) * Max(table->shardCount, 1));
	for (i = 0; i < table->directoryCount; i++)
		table->directoryShardKeys[table->directory[i].shard->shardIndex]++;
}

/*
 * DirectoryHash returns the hash of a directory key: equal values (by the
 * type's equality) have equal hashes.
 */
uint32
DirectoryHash(ShardextTable *table, Datum value)
{
	return (uint32) DatumGetUInt64(FunctionCall2Coll(&table->hashProc,
													 table->distCollation,
													 value, UInt64GetDatum(0)));
}

/*
 * FindDirectoryEntry returns the directory entry of a key equal to value
 * (by the type's equality, so that 1 and 1.0 are one numeric key), or NULL.
 */
DirectoryEntry *
FindDirectoryEntry(ShardextTable *table, Datum value)
{
	uint32		hash = DirectoryHash(table, value);
	int			low = 0;
	int			high = table->directoryCount;
	int			i;

	/* the first entry whose hash is not below */
	while (low < high)
	{
		int			mid = low + (high - low) / 2;

		if (table->directory[mid].hash < hash)
			low = mid + 1;
		else
			high = mid;
	}
	for (i = low; i < table->directoryCount && table->directory[i].hash == hash; i++)
		if (DatumGetBool(FunctionCall2Coll(&table->equalProc, table->distCollation,
										   table->directory[i].value, value)))
			return &table->directory[i];
	if (table->directoryAdded != NULL)
	{
		AddedKeys  *added = hash_search(table->directoryAdded, &hash, HASH_FIND, NULL);
		ListCell   *lc;

		if (added != NULL)
			foreach(lc, added->entries)
			{
				DirectoryEntry *entry = lfirst(lc);

				if (DatumGetBool(FunctionCall2Coll(&table->equalProc,
												   table->distCollation,
												   entry->value, value)))
					return entry;
			}
	}
	return NULL;
}

/*
 * BeginOwnDirectoryKey starts the write of a new directory key by this
 * backend (an INSERT into shardext.directory, which the caller runs, then
 * makes visible with CommandCounterIncrement): until EndOwnDirectoryKey,
 * invalidations of the directory are counted instead of making the shard
 * map stale, so that the map need not be rebuilt for every new key (a bulk
 * load with many new keys would be quadratic).
 */
void
BeginOwnDirectoryKey(void)
{
	AbsorbingOwnDirectoryKey = true;
	AbsorbedDirectoryInvalidations = 0;
}

/*
 * EndOwnDirectoryKey ends what BeginOwnDirectoryKey started.  When the
 * write inserted the key (inserted) and the one invalidation seen was its
 * own, the key is added to the cached map; otherwise (another session's
 * change arrived meanwhile, or the key was there already) the map is
 * rebuilt from the catalog as usual.  Other sessions, and this one after a
 * rollback, rebuild their maps anyway.  Also called on error.
 */
void
EndOwnDirectoryKey(bool inserted, Oid relid, const char *key, Datum value,
				   int64 shardId)
{
	ShardextTable *table;
	ShardextTable *owner = NULL;
	ShardextShard *shard;
	MemoryContext old;
	DirectoryEntry *entry;
	AddedKeys  *added;
	bool		found;

	AbsorbingOwnDirectoryKey = false;
	if (!inserted || AbsorbedDirectoryInvalidations != 1)
	{
		CacheStale = true;
		return;
	}
	if (Cache == NULL || CacheStale)
		return;
	table = hash_search(Cache->tables, &relid, HASH_FIND, NULL);
	shard = ShardextGetShard(shardId, &owner);
	if (table == NULL || shard == NULL || owner != table)
	{
		CacheStale = true;
		return;
	}

	old = MemoryContextSwitchTo(Cache->context);
	if (table->directoryAdded == NULL)
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(uint32);
		info.entrysize = sizeof(AddedKeys);
		info.hcxt = Cache->context;
		table->directoryAdded = hash_create("shardext added directory keys", 256,
											&info,
											HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = palloc0(sizeof(DirectoryEntry));
	entry->key = pstrdup(key);
	entry->value = datumCopy(value, table->distTypeByVal, table->distTypeLen);
	entry->hash = DirectoryHash(table, entry->value);
	entry->shard = shard;
	added = hash_search(table->directoryAdded, &entry->hash, HASH_ENTER, &found);
	if (!found)
		added->entries = NIL;
	added->entries = lappend(added->entries, entry);
	table->directoryShardKeys[shard->shardIndex]++;
	MemoryContextSwitchTo(old);
}

/*
 * CompleteTables checks that every table has all its shards, each with a
 * placement, and picks the node of each shard's first placement (lowest
 * node id).  A table whose map is incomplete can only be seen half-written
 * inside the transaction that writes it; it is left out.
 */
static void
CompleteTables(MetadataCache *cache)
{
	ListCell   *lc;
	List	   *complete = NIL;

	foreach(lc, cache->tableList)
	{
		ShardextTable *table = lfirst(lc);
		bool		ok = true;
		int			i;

		for (i = 0; i < table->shardCount && ok; i++)
		{
			ShardextShard *shard = table->shards[i];

			if (shard == NULL || shard->placementNodeIds == NIL)
				ok = false;
			else
			{
				list_sort(shard->placementNodeIds, list_int_cmp);
				shard->nodeId = linitial_int(shard->placementNodeIds);
			}
		}
		if (ok && table->type == DIST_DIRECTORY)
			PrepareDirectory(table);
		if (ok)
		{
			EstimateTableRows(table);
			complete = lappend(complete, table);
		}
		else
			hash_search(cache->tables, &table->relid, HASH_REMOVE, NULL);
	}
	cache->tableList = complete;
}

/* CompareNodes orders nodes by node id. */
static int
CompareNodes(const ListCell *a, const ListCell *b)
{
	const ShardextNode *na = lfirst(a);
	const ShardextNode *nb = lfirst(b);

	return (na->nodeId > nb->nodeId) - (na->nodeId < nb->nodeId);
}

/*
 * ShardextAllNodes returns every node, ordered by node id.  The list and
 * the nodes belong to the cache: callers must not change or free them.
 */
List *
ShardextAllNodes(void)
{
	return GetCache()->nodes;
}

/*
 * ShardextGetNode returns the node with the given id; NULL if there is none
 * and missingOk, an error otherwise.
 */
ShardextNode *
ShardextGetNode(int32 nodeId, bool missingOk)
{
	ListCell   *lc;

	foreach(lc, GetCache()->nodes)
	{
		ShardextNode *node = lfirst(lc);

		if (node->nodeId == nodeId)
			return node;
	}
	if (!missingOk)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %d does not exist", nodeId),
				 errhint("The nodes are listed in shardext.nodes.")));
	return NULL;
}

/*
 * ShardextFindNode returns the node registered at host:port, or NULL.
 */
ShardextNode *
ShardextFindNode(const char *host, int32 port)
{
	ListCell   *lc;

	foreach(lc, GetCache()->nodes)
	{
		ShardextNode *node = lfirst(lc);

		if (node->port == port && strcmp(node->host, host) == 0)
			return node;
	}
	return NULL;
}

/*
 * ShardextGetTable returns the cached entry of a distributed, reference or
 * federated table, or NULL for any other relation.  It runs no SQL.
 */
ShardextTable *
ShardextGetTable(Oid relid)
{
	return hash_search(GetCache()->tables, &relid, HASH_FIND, NULL);
}

/*
 * ShardextHasDistributedTables tells whether any table is distributed: the
 * planner hook's first, cheapest check.
 */
bool
ShardextHasDistributedTables(void)
{
	return GetCache()->tableList != NIL;
}

/* ShardextAllTables returns every cached table entry. */
List *
ShardextAllTables(void)
{
	return GetCache()->tableList;
}

/*
 * CoordinatorCopyRelid returns the OID of the coordinator's relation named
 * relationName (a shard name, schema-qualified and quoted: a reference
 * table's copy), or InvalidOid.  Unlike a RangeVar lookup it checks no
 * privilege: the copy is the extension's business, and a role may use the
 * table (or a view over it) without USAGE on every schema.
 */
Oid
CoordinatorCopyRelid(const char *relationName)
{
	List	   *names = stringToQualifiedNameList(relationName);
	Oid			namespaceId;

	if (list_length(names) != 2)
		return InvalidOid;
	namespaceId = get_namespace_oid(strVal(linitial(names)), true);
	if (!OidIsValid(namespaceId))
		return InvalidOid;
	return get_relname_relid(strVal(lsecond(names)), namespaceId);
}

/*
 * CoordinatorCopyTable returns, when relid is a relation of the coordinator
 * that holds a placement of a shard (node 0's copy of a reference table, a
 * federated table placed on the coordinator, or a shard the coordinator
 * holds while it has no worker), the table it is a shard of; else
 * InvalidOid.  The copies are looked up once per shard map.
 */
Oid
CoordinatorCopyTable(Oid relid)
{
	MetadataCache *cache;
	ListCell   *lc;
	ListCell   *tc;

	if (!OidIsValid(relid) || !ShardextExtensionLoaded())
		return InvalidOid;
	cache = GetCache();
	if (hash_search(cache->tables, &relid, HASH_FIND, NULL) != NULL)
		return InvalidOid;
	if (!cache->copiesKnown)
	{
		MemoryContext oldContext = MemoryContextSwitchTo(cache->context);

		foreach(lc, cache->tableList)
		{
			ShardextTable *table = lfirst(lc);
			int			i;

			for (i = 0; i < table->shardCount; i++)
			{
				ShardextShard *shard = table->shards[i];
				Oid			copy;

				if (!list_member_int(shard->placementNodeIds, COORDINATOR_NODE_ID))
					continue;
				copy = CoordinatorCopyRelid(shard->relationName);
				if (!OidIsValid(copy))
					continue;
				cache->copyRelids = lappend_oid(cache->copyRelids, copy);
				cache->copyTables = lappend_oid(cache->copyTables, table->relid);
			}
		}
		MemoryContextSwitchTo(oldContext);
		cache->copiesKnown = true;
	}
	forboth(lc, cache->copyRelids, tc, cache->copyTables)
	{
		if (lfirst_oid(lc) == relid)
			return lfirst_oid(tc);
	}
	return InvalidOid;
}

/*
 * ShardextGetShard returns a shard by id (and its table through *table when
 * not NULL), or NULL when there is no such shard.
 */
ShardextShard *
ShardextGetShard(int64 shardId, ShardextTable **table)
{
	ShardLookupEntry *lookup = hash_search(GetCache()->shards, &shardId,
										   HASH_FIND, NULL);

	if (lookup == NULL)
		return NULL;
	if (table != NULL)
		*table = lookup->table;
	return lookup->shard;
}

/* DistributionTypeName returns the catalog spelling of a distribution type. */
const char *
DistributionTypeName(DistributionType type)
{
	switch (type)
	{
		case DIST_HASH:
			return "hash";
		case DIST_RANGE:
			return "range";
		case DIST_DIRECTORY:
			return "directory";
		case DIST_REFERENCE:
			return "reference";
		case DIST_FEDERATED:
			return "federated";
	}
	return "unknown";
}

/* NodeRoleName returns the catalog spelling of a node role. */
const char *
NodeRoleName(NodeRole role)
{
	switch (role)
	{
		case NODE_ROLE_COORDINATOR:
			return "coordinator";
		case NODE_ROLE_WORKER:
			return "worker";
		case NODE_ROLE_REPLICA:
			return "replica";
	}
	return "unknown";
}

/*
 * HostKey returns a node's host for comparison: every way of naming this
 * machine (a Unix socket directory, localhost, a loopback address) is one.
 */
static const char *
HostKey(const char *host)
{
	if (host[0] == '/' || strcmp(host, "localhost") == 0 ||
		strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0)
		return "local";
	return host;
}

/*
 * MarkNodesSharingHosts sets sharesHost of every node that has another
 * active node (coordinator, worker or replica) on its host.
 */
static void
MarkNodesSharingHosts(List *nodes)
{
	ListCell   *lc;
	ListCell   *otherCell;

	foreach(lc, nodes)
	{
		ShardextNode *node = lfirst(lc);

		node->sharesHost = false;
		foreach(otherCell, nodes)
		{
			ShardextNode *other = lfirst(otherCell);

			if (other != node && other->isActive &&
				strcmp(HostKey(other->host), HostKey(node->host)) == 0)
				node->sharesHost = true;
		}
	}
}
