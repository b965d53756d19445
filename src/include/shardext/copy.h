/*-------------------------------------------------------------------------
 *
 * copy.h
 *	  Routing rows to shards in COPY text format, and back.
 *
 * IDENTIFICATION
 *	  src/include/shardext/copy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_COPY_H
#define SHARDEXT_COPY_H

#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/relcache.h"

#include "shardext/metadata_cache.h"

/* rows on their way to the shards of one table */
typedef struct ShardRowRouter
{
	ShardextTable *table;
	TupleDesc	tupleDesc;
	List	   *attnums;		/* integer list of the columns sent */
	FmgrInfo   *outputFunctions;	/* by attribute number - 1 */
	char	   *columnList;		/* "(a, b, ...)" */
	StringInfoData *buffers;	/* one per shard index */
	uint64	   *rowCounts;		/* rows routed to each shard */
	uint64	  **lines;			/* per shard, the input line of each buffered
								 * row (0: none), for the nodes' errors */
	int		   *lineCounts;
	int		   *lineCapacities;
	/* the error context of the input's line, not applied to the nodes' errors */
	struct ErrorContextCallback *inputContext;
	uint64		totalRows;
	int			flushThreshold; /* bytes buffered per shard before a flush */
	bool		deferKeys;		/* defer constraints across batches (COPY) */
	struct KeyDeferral *deferral;	/* once a shard gets a second batch */
} ShardRowRouter;

extern List *CopyableAttnums(TupleDesc tupleDesc);
extern char *ColumnListSql(TupleDesc tupleDesc, List *attnums);
extern void AppendCopyText(StringInfo buf, const char *value);
extern ShardRowRouter *CreateShardRowRouter(ShardextTable *table,
											TupleDesc tupleDesc, List *attnums);
extern int	RouteSlotToShard(ShardRowRouter *router, TupleTableSlot *slot,
							 uint64 inputLine);
extern void FlushShardBuffer(ShardRowRouter *router, int shardIndex);
extern void FlushAllShardBuffers(ShardRowRouter *router);
extern uint64 CopyShardToNode(int32 sourceNodeId, int32 targetNodeId,
							  const char *shardName, Relation rel);
extern uint64 CopyShardRowsToNode(int32 sourceNodeId, int32 targetNodeId,
								  const char *sourceName, const char *targetName,
								  const char *where, Relation rel);
extern uint64 CopyShardIntoRelation(int32 nodeId, const char *shardName,
									Relation rel);

#endif							/* SHARDEXT_COPY_H */
