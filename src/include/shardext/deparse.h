/*-------------------------------------------------------------------------
 *
 * deparse.h
 *	  Turning queries into SQL for shards.
 *
 * IDENTIFICATION
 *	  src/include/shardext/deparse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_DEPARSE_H
#define SHARDEXT_DEPARSE_H

#include "nodes/parsenodes.h"

/*
 * A statement split around the places where distributed tables are named:
 * fragments[0] table[slots[0]] fragments[1] table[slots[1]] ... fragments[n].
 */
typedef struct QueryTemplate
{
	List	   *fragments;		/* String nodes, one more than slots */
	List	   *slots;			/* integer list: index into the table list */
} QueryTemplate;

extern List *CollectRelationRtes(Query *query);
extern void ClearPermissionChecks(Query *query);
extern char *DeparseQueryForShards(Query *query, List *relids);
extern QueryTemplate *SplitQueryTemplate(const char *sql, List *relids);
extern char *RenderQueryTemplate(QueryTemplate *template, char **tableNames);
extern char *DeparseExpressionForShard(Node *expr, Oid relid, Index varno,
									   const char *alias);
extern char *RelationQualifiedName(Oid relid);
extern char *DoBlock(const char *body);
extern int	SetDeparseGucs(void);
extern int	SetCanonicalDatumGucs(void);
extern void ResetDeparseGucs(int nestLevel);
extern void PopDeparseGucs(int nestLevel);

extern Node *ReplaceTableOidVars(Node *node, Index varno, Oid relid);

extern List *CollectFunctions(Node *query);

#endif							/* SHARDEXT_DEPARSE_H */
