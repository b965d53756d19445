/*-------------------------------------------------------------------------
 *
 * pushdown.h
 *	  Pushing aggregation and top-N of multi-shard queries to the shards.
 *
 * IDENTIFICATION
 *	  src/include/shardext/pushdown.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_PUSHDOWN_H
#define SHARDEXT_PUSHDOWN_H

#include "nodes/parsenodes.h"

/* alias of the subquery that runs on every shard */
#define PER_SHARD_ALIAS "shardext_partial"

/*
 * The queryId that marks the per-shard subquery of a rewritten query: the
 * alias alone could be a user's.
 */
#define PER_SHARD_QUERY_ID UINT64CONST(0x7368617264706172)

extern Query *RewriteForShardPushdown(Query *parse);
extern Query *RewriteSubqueriesForShardPushdown(Query *parse);
extern bool RteNullable(Node *node, Index rtindex, bool nullable);

#endif							/* SHARDEXT_PUSHDOWN_H */
