/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The shardext.* configuration parameters.
 *
 * IDENTIFICATION
 *	  src/include/shardext/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_GUC_H
#define SHARDEXT_GUC_H

/* values of shardext.read_from */
typedef enum ShardextReadFrom
{
	READ_FROM_PRIMARY,
	READ_FROM_REPLICA,
	READ_FROM_ANY
} ShardextReadFrom;

extern int	ShardextShardCount;
extern int	ShardextReadFromSetting;
extern int	ShardextMaxReplicaLag;
extern bool ShardextTwoPhaseCommit;
extern bool ShardextOrderedMultiNodeWrites;
extern int	ShardextConnectTimeout;
extern int	ShardextMaxConnectionsPerNode;
extern int	ShardextNodeParallelWorkers;
extern bool ShardextDirectoryAutoAssign;
extern bool ShardextLogRemoteCommands;
extern bool ShardextEnablePushdown;
extern int	ShardextJoinKeyFilterLimit;
extern bool ShardextParameterizeConstants;
extern int	ShardextRecoveryInterval;
extern int	ShardextDebugCommitDelay;
extern int	ShardextDebugCommitPreparedDelay;

extern void ShardextDefineGucs(void);

#endif							/* SHARDEXT_GUC_H */
