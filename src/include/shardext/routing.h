/*-------------------------------------------------------------------------
 *
 * routing.h
 *	  Mapping a distribution value to its shard and node.
 *
 * IDENTIFICATION
 *	  src/include/shardext/routing.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_ROUTING_H
#define SHARDEXT_ROUTING_H

#include "shardext/metadata_cache.h"

extern int32 HashDistributionValue(FmgrInfo *hashProc, Oid collation,
								   Datum value);
extern ShardextShard *FindShardForValue(ShardextTable *table, Datum value,
										bool isNull);
extern ShardextShard *LookupShardForValue(ShardextTable *table, Datum value,
										  bool isNull);
extern char *DirectoryKeyText(ShardextTable *table, Datum value);
extern ShardextTable *GetDirectoryTableOrError(Oid relid);
extern bool DirectoryAssignAll;
extern int	FindShardIndexForHash(ShardextTable *table, int32 hashValue);
extern bool PinValueFits(ShardextTable *table, Datum value, Oid valueType);
extern Datum CoerceToDistributionType(ShardextTable *table, Datum value,
									  Oid valueType);

#endif							/* SHARDEXT_ROUTING_H */
