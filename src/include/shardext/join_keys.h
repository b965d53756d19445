/*-------------------------------------------------------------------------
 *
 * join_keys.h
 *	  Filters of distributed tables by the join keys of small local tables.
 *
 * IDENTIFICATION
 *	  src/include/shardext/join_keys.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_JOIN_KEYS_H
#define SHARDEXT_JOIN_KEYS_H

#include "nodes/parsenodes.h"

extern Query *AddJoinKeyFilters(Query *parse);

#endif							/* SHARDEXT_JOIN_KEYS_H */
