/*-------------------------------------------------------------------------
 *
 * node_types.h
 *	  Enum types, domains and composite types on the nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/node_types.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_NODE_TYPES_H
#define SHARDEXT_NODE_TYPES_H

#include "nodes/pg_list.h"
#include "utils/relcache.h"

typedef struct TypeStatement TypeStatement;

extern void CreateColumnTypesOnOtherNodes(Oid relid, List *nodeIds);
extern void CreateColumnTypesOnNode(Oid relid, int32 nodeId);
extern bool IsNodeType(Oid typid);
extern bool CheckingNodeTypes(void);
extern bool NodesHaveType(Oid typid);
extern bool TypeHashesByOid(Oid typid);
extern bool TypeUses(Oid typid, Oid usedTypid);
extern Oid	NodeBaseType(Oid typid);
extern bool NodesHaveParamType(Oid typid);
extern bool NodesHaveUserType(Oid typid);
extern bool TypeUsedByTables(Oid typid);
extern bool IsObjectReferenceType(Oid typid);
extern bool IsRegType(Oid typid);
extern void GetStoredValueInputInfo(Oid typid, int32 typmod, Oid *input,
									Oid *ioParam, int32 *inputTypmod);
extern bool StatementDropsTypes(Node *parsetree);
extern bool IsMutableOnNodes(Node *expr);
extern List *TablesLosingColumns(Node *parsetree);
extern void CheckCopySeesCatalog(Oid relid);
extern List *TypeCreateCommands(Oid typid);
extern List *ColumnTypeCreateCommands(Relation rel);
extern TypeStatement *BeforeTypeStatement(Node *parsetree);
extern void PropagateTypeStatement(TypeStatement *state);

#endif							/* SHARDEXT_NODE_TYPES_H */
