/*-------------------------------------------------------------------------
 *
 * index_commands.h
 *	  Index statements on distributed tables that the shape comparison of
 *	  ddl.c does not carry to the shards.
 *
 * IDENTIFICATION
 *	  src/include/shardext/index_commands.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_INDEX_COMMANDS_H
#define SHARDEXT_INDEX_COMMANDS_H

#include "nodes/nodes.h"

extern bool RunIndexStatement(Node *parsetree, bool isTopLevel,
							  void (*runLocally) (void *arg), void *arg);

#endif							/* SHARDEXT_INDEX_COMMANDS_H */
