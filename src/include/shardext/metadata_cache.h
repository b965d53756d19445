/*-------------------------------------------------------------------------
 *
 * metadata_cache.h
 *	  The per-backend cache of the shard map.
 *
 * IDENTIFICATION
 *	  src/include/shardext/metadata_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_METADATA_CACHE_H
#define SHARDEXT_METADATA_CACHE_H

#include "access/attnum.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

/* the coordinator's own node id */
#define COORDINATOR_NODE_ID 0

typedef enum NodeRole
{
	NODE_ROLE_COORDINATOR,
	NODE_ROLE_WORKER,
	NODE_ROLE_REPLICA
} NodeRole;

/* a row of shardext.nodes */
typedef struct ShardextNode
{
	int32		nodeId;
	char	   *host;
	int32		port;
	char	   *dbname;
	NodeRole	role;
	int32		primaryNodeId;	/* 0 unless a replica */
	bool		isActive;
	bool		sharesHost;		/* another active node runs on its host */
	char	   *serverName;		/* the postgres_fdw foreign server */
} ShardextNode;

/* how a table is spread over the nodes */
typedef enum DistributionType
{
	DIST_HASH,
	DIST_RANGE,
	DIST_DIRECTORY,
	DIST_REFERENCE,
	DIST_FEDERATED
} DistributionType;

/* a row of shardext.shards, with its placements */
typedef struct ShardextShard
{
	int64		shardId;
	int32		shardIndex;
	char	   *minText;		/* bounds as in the catalog; NULL = unbounded */
	char	   *maxText;
	int32		hashMin;		/* hash: owned hash range, both inclusive */
	int32		hashMax;
	Datum		rangeMin;		/* range: [rangeMin, rangeMax) in the column's
								 * type, valid unless the text is NULL */
	Datum		rangeMax;
	char	   *relationName;	/* schema-qualified, quoted name on the node */
	int32		nodeId;			/* node of the first placement */
	List	   *placementNodeIds;	/* int list of every node holding it */
	double		rowCount;		/* rows and pages its node last reported */
	int64		pageCount;		/* (shardext.shard_statistics), or -1 */
} ShardextShard;

/* a row of shardext.directory: a key (canonical text) and its shard */
typedef struct DirectoryEntry
{
	char	   *key;
	Datum		value;			/* the key read as the column's type */
	uint32		hash;			/* its hash: entries are sorted by it */
	ShardextShard *shard;
} DirectoryEntry;

/* a row of shardext.tables, with its shards ordered by shard index */
typedef struct ShardextTable
{
	Oid			relid;			/* hash key: must be first */
	DistributionType type;
	char	   *distColumnName; /* NULL for reference and federated tables */
	AttrNumber	distAttno;
	Oid			distTypeId;
	int32		distTypmod;
	Oid			distCollation;
	int16		distTypeLen;
	bool		distTypeByVal;
	int32		colocationId;
	int			shardCount;
	ShardextShard **shards;		/* shardCount entries, by shard index */
	FmgrInfo	hashProc;		/* hash: the type's extended hash function */
	FmgrInfo	compareProc;	/* range: the type's btree comparison */
	FmgrInfo	outputProc;		/* directory: the type's output function */
	FmgrInfo	equalProc;		/* directory: the type's equality */
	DirectoryEntry *directory;	/* directory: sorted by hash of the key */
	int			directoryCount;
	int		   *directoryShardKeys; /* directory: keys per shard index */
	struct HTAB *directoryAdded;	/* directory: keys this backend assigned
									 * since the map was built, by hash */
	List	   *directoryRows;	/* while the cache is built */
	double		rowEstimate;	/* rows of all shards from their statistics,
								 * or -1 when none was ever measured */
} ShardextTable;

/*
 * Tables without a distribution column have one shard: a reference table's
 * is placed on every node, a federated table's on one node.
 */
#define IsSingleShardTable(table) ((table)->distColumnName == NULL)
#define IsReferenceTable(table) ((table)->type == DIST_REFERENCE)

/* TableKindName names the kind of a table shardext knows, for messages. */
static inline const char *
TableKindName(ShardextTable *table)
{
	if (table == NULL || !IsSingleShardTable(table))
		return "distributed";
	return IsReferenceTable(table) ? "reference" : "federated";
}

/*
 * GroupShard returns the shard of table in shard group index: a single-shard
 * table's one shard belongs to every group.
 */
static inline ShardextShard *
GroupShard(ShardextTable *table, int index)
{
	return IsSingleShardTable(table) ? table->shards[0] : table->shards[index];
}

/* TablePlacementNodes returns the nodes holding placements of a table's shards. */
static inline List *
TablePlacementNodes(ShardextTable *table)
{
	List	   *nodeIds = NIL;
	int			i;

	for (i = 0; i < table->shardCount; i++)
		nodeIds = list_concat_unique_int(nodeIds, table->shards[i]->placementNodeIds);
	return nodeIds;
}

/* ShardPlacedOn tells whether a node holds a placement of shard. */
static inline bool
ShardPlacedOn(ShardextShard *shard, int32 nodeId)
{
	return list_member_int(shard->placementNodeIds, nodeId);
}

extern PGDLLIMPORT uint64 ShardextShapeEpoch;

extern void ShardextInitMetadataCache(void);
extern ShardextTable *ShardextGetTable(Oid relid);
extern bool ShardextHasDistributedTables(void);
extern List *ShardextAllTables(void);
extern ShardextShard *ShardextGetShard(int64 shardId, ShardextTable **table);
extern Oid	CoordinatorCopyRelid(const char *relationName);
extern Oid	CoordinatorCopyTable(Oid relid);
extern const char *DistributionTypeName(DistributionType type);
extern bool ShardextExtensionLoaded(void);
extern void ShardextCheckExtensionLoaded(void);
extern List *ShardextAllNodes(void);
extern ShardextNode *ShardextGetNode(int32 nodeId, bool missingOk);
extern ShardextNode *ShardextFindNode(const char *host, int32 port);
extern const char *NodeRoleName(NodeRole role);
extern uint32 DirectoryHash(ShardextTable *table, Datum value);
extern DirectoryEntry *FindDirectoryEntry(ShardextTable *table, Datum value);
extern void BeginOwnDirectoryKey(void);
extern void EndOwnDirectoryKey(bool inserted, Oid relid, const char *key,
							   Datum value, int64 shardId);

#endif							/* SHARDEXT_METADATA_CACHE_H */
