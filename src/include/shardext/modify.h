/*-------------------------------------------------------------------------
 *
 * modify.h
 *	  UPDATE and DELETE of distributed tables that read other tables.
 *
 * IDENTIFICATION
 *	  src/include/shardext/modify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_MODIFY_H
#define SHARDEXT_MODIFY_H

#include "nodes/extensible.h"
#include "nodes/params.h"
#include "nodes/plannodes.h"

#include "shardext/metadata_cache.h"

extern CustomScanMethods ShardextModifyScanMethods;

extern PlannedStmt *PlanModifyThroughCoordinator(Query *parse,
												 const char *queryString,
												 int cursorOptions,
												 ParamListInfo boundParams,
												 ShardextTable *table);

#endif							/* SHARDEXT_MODIFY_H */
