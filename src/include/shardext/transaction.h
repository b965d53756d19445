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

/* nesting of utility statements being processed (utility.c counts) */
extern int	ShardextUtilityDepth;
extern Portal ExecuteStmtClientPortal;

extern void ShardextInitTransactions(void);
extern void ForgetPlansOfOtherStyles(void);
extern bool RemoteTransactionsOpen(void);
extern bool StatementMayRunWithoutTransaction(void);
extern int	ParallelConnectionsForNode(int32 nodeId, bool explainOnly);
extern void CheckCopyNotInLocalUse(Oid table, const char *copyName);
extern void NoteCopiesChangedHere(const char *statement);
extern ErrorData *TryInSubtransaction(void (*fn) (void *arg), void *arg);
extern int	ShardextRecoverTransactions(int minAgeMs);

#endif							/* SHARDEXT_TRANSACTION_H */
