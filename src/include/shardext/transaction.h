/*-------------------------------------------------------------------------
 *
 * transaction.h
 *	  Remote transactions that follow the coordinator's transaction.
 *
 * IDENTIFICATION
 *	  src/include/shardext/transaction.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_TRANSACTION_H
#define SHARDEXT_TRANSACTION_H

#include "utils/portal.h"

/* field4 of the advisory locks of LockNodesForWrite (pg_locks.objsubid) */
#define SHARDEXT_WRITE_LOCK_CLASS 83

/* nesting of utility statements being processed (utility.c counts) */
extern int	ShardextUtilityDepth;
extern Portal ExecuteStmtClientPortal;

extern void ShardextInitTransactions(void);
extern void ForgetPlansOfOtherStyles(void);
extern bool RemoteTransactionsOpen(void);
extern List *LockNodesForWrite(Oid relid, List *nodeIds);
extern void UnlockNodesForWrite(Oid relid, List *nodes);
extern bool StatementMayRunWithoutTransaction(void);
extern int	ParallelConnectionsForNode(int32 nodeId, bool explainOnly);
extern void CheckCopyNotInLocalUse(Oid table, const char *copyName);
extern void NoteCopiesChangedHere(const char *statement);
extern ErrorData *TryInSubtransaction(void (*fn) (void *arg), void *arg);
extern int	ShardextRecoverTransactions(int minAgeMs);

#endif							/* SHARDEXT_TRANSACTION_H */
