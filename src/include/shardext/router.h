/*-------------------------------------------------------------------------
 *
 * router.h
 *	  Recognising queries that one shard group can answer.
 *
 * IDENTIFICATION
 *	  src/include/shardext/router.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_ROUTER_H
#define SHARDEXT_ROUTER_H

#include "nodes/parsenodes.h"

/*
 * What router planning found: the distributed tables of the query (each
 * once) and, for each, the expression whose value picks its shard, or NULL
 * when nothing pins it.
 */
typedef struct RouterAnalysis
{
	List	   *relids;			/* distinct distributed tables */
	List	   *pins;			/* Expr * or NULL, parallel to relids */
	bool		allPinned;		/* every occurrence of every table pinned */
	bool		shippable;		/* the whole query can run on a node */
	const char *reason;			/* why not, when it cannot */
	bool		writes;			/* the query is an INSERT, UPDATE or DELETE */
	void	   *level;			/* while walking: the query level being
								 * analysed (router.c's LevelState) */
} RouterAnalysis;

extern RouterAnalysis *AnalyzeRouterQuery(Query *query);
extern bool RouterPinsAgree(RouterAnalysis *analysis);
extern Expr *SharedPin(RouterAnalysis *analysis);
extern Expr *FindPinInClauses(List *clauses, Index rtindex,
							  struct ShardextTable *table);
extern bool ContainsAnyVar(Node *node, void *context);
extern bool IsDistributionEquality(OpExpr *op, struct ShardextTable *table);
extern Expr *FindPinListInClauses(List *clauses, Index rtindex,
								  ShardextTable *table);
extern int	MaxExternParamId(Node *node);
extern Node *ParameterizeTransactionTime(Node *node, int firstParamId,
										 List **exprs);
extern bool ContainsTransactionTime(Node *node);
extern bool DistributedTablesJoinedOnDistribution(Query *query);
extern bool HasVolatileSubLink(Node *node);
extern void CollectParamTypes(Node *node, Oid *types, int count);

#endif							/* SHARDEXT_ROUTER_H */
