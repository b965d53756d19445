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

/*
 * Set while the coordinator waits for its own connection to build an index
 * concurrently: that build waits for older snapshots, and the catalog
 * lookups of a check would give this backend one.
 */
extern PGDLLIMPORT bool DeadlockDetectionPaused;

extern bool DistributedDeadlockVictim(NodeConnection *waiting, bool firstCheck,
									  char **detail);
extern void EndDeadlockWatch(void);

#endif							/* SHARDEXT_DEADLOCK_H */
