/*-------------------------------------------------------------------------
 *
 * self_connection.h
 *	  Telling the coordinator's sessions that serve its own connections.
 *
 * IDENTIFICATION
 *	  src/include/shardext/self_connection.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_SELF_CONNECTION_H
#define SHARDEXT_SELF_CONNECTION_H

extern void ShardextInitSelfConnections(void);
extern void NoteSelfConnection(int pid);
extern bool ServesSelfConnection(void);

#endif							/* SHARDEXT_SELF_CONNECTION_H */
