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

extern bool DistributedDeadlockVictim(char **detail);

#endif							/* SHARDEXT_DEADLOCK_H */
