/*-------------------------------------------------------------------------
 *
 * statistics.h
 *	  VACUUM and ANALYZE of distributed tables, and the statistics the
 *	  coordinator's planner reads for them.
 *
 * IDENTIFICATION
 *	  src/include/shardext/statistics.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_STATISTICS_H
#define SHARDEXT_STATISTICS_H

#include "nodes/parsenodes.h"
#include "shardext/metadata_cache.h"

extern void VacuumDistributedTables(VacuumStmt *stmt);
extern void RecordShardStatistics(ShardextTable *table);

#endif							/* SHARDEXT_STATISTICS_H */
