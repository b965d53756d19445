/*-------------------------------------------------------------------------
 *
 * ddl.h
 *	  Carrying schema changes of distributed tables to their shards.
 *
 * IDENTIFICATION
 *	  src/include/shardext/ddl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_DDL_H
#define SHARDEXT_DDL_H

#include "nodes/parsenodes.h"

typedef struct TableShape TableShape;

extern TableShape *CaptureTableShape(Oid relid);
extern void CaptureStatementDetails(TableShape *shape, Node *parsetree);
extern void PropagateShapeChanges(List *shapes);

#endif							/* SHARDEXT_DDL_H */
