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

extern char *ForeignKeyIdentity(Oid constraintOid);
extern bool ForeignKeyIsValidated(Oid constraintOid);
extern char *ForeignKeyShardDefinition(Oid constraintOid, int shardIndex);
extern List *ForeignKeyOids(Oid relid);
extern List *ShardForeignKeyCommands(Oid relid, int shardIndex,
									 const char *shardName);
extern List *ReferencingTables(Oid relid);
extern void CheckForeignKeys(Oid relid);
extern void CheckUndistributeForeignKeys(Oid relid);
extern List *RemoteConstraintOids(ConstraintsSetStmt *stmt);
extern char *NodeConstraintsSetCommand(bool all, bool deferred,
									   List *constraintOids, int32 nodeId);

#endif							/* SHARDEXT_FOREIGN_KEYS_H */
