/*-------------------------------------------------------------------------
 *
 * deadlock.h
 *	  Detecting deadlocks that span nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/deadlock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_DEADLOCK_H
#define SHARDEXT_DEADLOCK_H

#include "shardext/connection.h"

extern bool DistributedDeadlockVictim(NodeConnection *waiting, bool firstCheck,
									  char **detail);
extern void EndDeadlockWatch(void);

#endif							/* SHARDEXT_DEADLOCK_H */
