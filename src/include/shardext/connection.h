/*-------------------------------------------------------------------------
 *
 * connection.h
 *	  Connections from the coordinator to the nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/connection.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_CONNECTION_H
#define SHARDEXT_CONNECTION_H

#include "libpq-fe.h"

#include "shardext/metadata_cache.h"

extern PGconn *ConnectWithTimeout(const char *const *keywords,
								  const char *const *values,
								  const char *nodeLabel);
extern void CloseNodeConnection(PGconn *conn);
extern PGconn *ConnectToAddress(const char *host, int port, const char *dbname);
extern PGconn *ConnectToNode(const ShardextNode *node);

#endif							/* SHARDEXT_CONNECTION_H */
