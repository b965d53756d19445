/*-------------------------------------------------------------------------
 *
 * distribute.h
 *	  Turning tables into distributed tables and back.
 *
 * IDENTIFICATION
 *	  src/include/shardext/distribute.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_DISTRIBUTE_H
#define SHARDEXT_DISTRIBUTE_H

#include "utils/relcache.h"

/* set while shardext itself runs utility statements on local tables */
extern bool ShardextLocalUtilityOnly;
extern void DiscardStaleLocalRows(Relation rel, int elevel);

extern void DeleteTableMetadata(Oid relid);
extern List *ReferenceTableNodes(void);
extern void CopyReferenceTablesToNode(int32 nodeId);

#endif							/* SHARDEXT_DISTRIBUTE_H */
