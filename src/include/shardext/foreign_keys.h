/*-------------------------------------------------------------------------
 *
 * foreign_keys.h
 *	  Foreign keys between distributed tables, enforced on the nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/foreign_keys.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_FOREIGN_KEYS_H
#define SHARDEXT_FOREIGN_KEYS_H

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

#include "shardext/metadata_cache.h"

/* a table's keys to itself, deferred on nodes for one batched statement */
typedef struct KeyDeferral
{
	Oid			relid;
	List	   *constraintOids; /* its keys to itself, not deferrable */
	bool		active;			/* the statement sends several batches */
	List	   *nodeIds;		/* nodes where the keys are deferred */
} KeyDeferral;

struct NodeConnection;

extern char *ForeignKeyIdentity(Oid constraintOid);
extern bool ForeignKeyIsValidated(Oid constraintOid);
extern char *ForeignKeyShardDefinition(Oid constraintOid, int shardIndex);
extern List *ForeignKeyOids(Oid relid);
extern List *ShardForeignKeyCommands(Oid relid, ShardextShard *shard);
extern List *ReferencingTables(Oid relid);
extern void CheckForeignKeys(Oid relid);
extern void CheckUndistributeForeignKeys(Oid relid);
extern List *RemoteConstraintOids(ConstraintsSetStmt *stmt);
extern KeyDeferral *BeginKeyDeferral(Oid relid);
extern void DeferKeysOnNode(KeyDeferral *deferral, struct NodeConnection *nc);
extern void EndKeyDeferral(KeyDeferral *deferral);
extern char *NodeConstraintsSetCommand(bool all, bool deferred,
									   List *constraintOids, int32 nodeId);

#endif							/* SHARDEXT_FOREIGN_KEYS_H */
