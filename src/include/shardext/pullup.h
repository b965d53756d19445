/*-------------------------------------------------------------------------
 *
 * pullup.h
 *	  Flattening of views and simple subqueries in FROM, for routing.
 *
 * IDENTIFICATION
 *	  src/include/shardext/pullup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_PULLUP_H
#define SHARDEXT_PULLUP_H

#include "nodes/parsenodes.h"

extern Query *PullUpSimpleSubqueries(Query *parse);

#endif							/* SHARDEXT_PULLUP_H */
