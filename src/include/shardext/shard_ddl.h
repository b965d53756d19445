/*-------------------------------------------------------------------------
 *
 * shard_ddl.h
 *	  Checking that a table can be distributed, and the DDL of its shards.
 *
 * IDENTIFICATION
 *	  src/include/shardext/shard_ddl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_SHARD_DDL_H
#define SHARDEXT_SHARD_DDL_H

#include "access/attnum.h"
#include "lib/stringinfo.h"
#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/relcache.h"

extern char *LogicalObjectName(Oid relid, int64 shardId, const char *shardName);
extern void CheckTableStaysDistributable(Oid relid, AttrNumber distAttno,
										 char method);
extern void CheckTableDistributable(Oid relid, AttrNumber distAttno,
									char method);
/* the physical settings of a column a shard must repeat */
typedef struct ColumnSettings
{
	char		storage;		/* attstorage */
	char		compression;	/* attcompression */
	int			stattarget;		/* attstattarget */
} ColumnSettings;

extern ColumnSettings TypeColumnSettings(Oid typid);
extern void AppendColumnSettings(StringInfo buf, const char *column,
								 const ColumnSettings *has,
								 const ColumnSettings *wanted);
extern List *TableStorageOptions(Relation rel);
extern char *StorageOptionsClause(List *options);
extern List *ShardCreateCommands(Oid relid, const char *shardName,
								 int64 shardId);
extern char *SchemaCreateCommand(Oid namespaceId);
extern char *ReplicaIdentityCommand(const char *shardName, int64 shardId,
									char identity, const char *indexName);
extern bool ReturnsAnonymousRecord(List *targetList);
extern bool IsAnonymousRecord(Node *expr);
extern char *ShardObjectName(const char *name, int64 shardId);
extern char *ShardObjectNameUnquoted(const char *name, int64 shardId);
extern char *ShardTableName(Oid relid, int64 shardId);
extern void CheckNewIndex(Oid relid, Oid indexOid, AttrNumber distAttno,
						  char method);
extern char *ShardIndexCommand(Oid indexOid, const char *shardName,
							   int64 shardId, bool concurrently);
extern bool ReadsSessionState(Oid funcid);
extern bool PlansSendStyledValues;
extern bool WritesInSessionStyle(Node *node);
extern bool ExpressionWritesInSessionStyle(Node *expr);
extern void CheckSessionStyleOfWrites(Oid relid);
extern bool SQLValueReadsSessionState(SQLValueFunction *svf);
extern bool IsShippableConst(Const *constant);
extern bool IsShippableExpression(Node *expr);
extern bool IsUserCoercion(Node *node);
extern bool NodeFillsOmittedColumn(Relation rel, AttrNumber attnum);

#endif							/* SHARDEXT_SHARD_DDL_H */
