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

/*
 * The constraints of a table deferred on the nodes while one statement sends
 * them several batches (made at its first batch that is not its last).
 */
typedef struct KeyDeferral
{
	List	   *constraintOids; /* NIL: nothing to defer */
	List	   *nodeIds;		/* nodes where they are deferred */
} KeyDeferral;

struct NodeConnection;

extern char *ForeignKeyIdentity(Oid constraintOid);
extern bool ForeignKeyIsValidated(Oid constraintOid);
extern char *ForeignKeyShardDefinition(Oid constraintOid, int shardIndex);
extern List *ForeignKeyOids(Oid relid);
extern List *ShardForeignKeyCommands(Oid relid, ShardextShard *shard);
extern List *ReferencingTables(Oid relid);
extern char *KeyCheckedPerBatch(Oid relid, bool update);
extern void CheckForeignKeys(Oid relid);
extern void CheckUndistributeForeignKeys(Oid relid);
extern List *RemoteConstraintOids(ConstraintsSetStmt *stmt);
extern KeyDeferral *BeginKeyDeferral(Oid relid);
extern void DeferKeysOnNode(KeyDeferral *deferral, struct NodeConnection *nc);
extern void EndKeyDeferral(KeyDeferral *deferral);
extern char *NodeConstraintsSetCommand(bool all, bool deferred,
									   List *constraintOids, int32 nodeId);

#endif							/* SHARDEXT_FOREIGN_KEYS_H */
