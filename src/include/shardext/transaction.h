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

extern void ShardextInitTransactions(void);

#endif							/* SHARDEXT_TRANSACTION_H */
