/*-------------------------------------------------------------------------
 *
 * node.h
 *	  Adding and removing nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/node.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_NODE_H
#define SHARDEXT_NODE_H

extern char *NodeServerName(int32 nodeId);
extern List *NodesReachable(const char *what);

#endif							/* SHARDEXT_NODE_H */
