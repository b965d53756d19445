/*-------------------------------------------------------------------------
 *
 * remote_scan.h
 *	  Custom scan nodes that run SQL on shards.
 *
 * IDENTIFICATION
 *	  src/include/shardext/remote_scan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_REMOTE_SCAN_H
#define SHARDEXT_REMOTE_SCAN_H

#include "nodes/extensible.h"

/* how a ShardextQuery scan picks its shards */
typedef enum QueryScanMode
{
	QUERY_SCAN_ROUTER = 1,		/* one shard group, chosen by the pins */
	QUERY_SCAN_ALL_SHARDS = 2	/* every shard of the (single) table */
} QueryScanMode;

/* positions in custom_private of a ShardextQuery scan */
#define QUERY_PRIVATE_FRAGMENTS 0
#define QUERY_PRIVATE_SLOTS 1
#define QUERY_PRIVATE_RELIDS 2
#define QUERY_PRIVATE_PINS 3
#define QUERY_PRIVATE_MODE 4
#define QUERY_PRIVATE_PARAMS 5
#define QUERY_PRIVATE_COMMAND 6
#define QUERY_PRIVATE_CONSTANTS 7
#define QUERY_PRIVATE_FUNCTIONS 8
#define QUERY_PRIVATE_PIN_LIST 9

/* positions in custom_private of a ShardextScan */
#define SCAN_PRIVATE_RELID 0
#define SCAN_PRIVATE_SELECT 1
#define SCAN_PRIVATE_WHERE 2
#define SCAN_PRIVATE_ATTNUMS 3
#define SCAN_PRIVATE_PIN 4
#define SCAN_PRIVATE_PARAMS 5
#define SCAN_PRIVATE_PIN_LIST 6
#define SCAN_PRIVATE_FUNCTIONS 7
#define SCAN_PRIVATE_TIME 8
#define SCAN_PRIVATE_STABLE 9
#define SCAN_PRIVATE_PIN_REMOTE 10
#define SCAN_PRIVATE_PIN_LIST_SQL 11

/* positions in custom_private of a ShardextInsert */
#define INSERT_PRIVATE_RELID 0
#define INSERT_PRIVATE_PREFIX_FRAGMENTS 1
#define INSERT_PRIVATE_PREFIX_SLOTS 2
#define INSERT_PRIVATE_TAIL_FRAGMENTS 3
#define INSERT_PRIVATE_TAIL_SLOTS 4
#define INSERT_PRIVATE_COLUMNS 5
#define INSERT_PRIVATE_DIST_COLUMN 6
#define INSERT_PRIVATE_PARAMS 7
#define INSERT_PRIVATE_ARBITER 8
#define INSERT_PRIVATE_FUNCTIONS 9
#define INSERT_PRIVATE_TIME 10

/* positions in custom_private of a ShardextPartialScan */
#define PARTIAL_PRIVATE_FRAGMENTS 0
#define PARTIAL_PRIVATE_SLOTS 1
#define PARTIAL_PRIVATE_RELID 2
#define PARTIAL_PRIVATE_PARAMS 3
#define PARTIAL_PRIVATE_FUNCTIONS 4
#define PARTIAL_PRIVATE_PER_SHARD 5
#define PARTIAL_PRIVATE_TIME 6
#define PARTIAL_PRIVATE_UNION_COLUMNS 7

extern CustomScanMethods ShardextPartialScanMethods;
extern CustomScanMethods ShardextQueryScanMethods;
extern CustomScanMethods ShardextTableScanMethods;
extern CustomScanMethods ShardextInsertScanMethods;

extern void RegisterShardextScanMethods(void);
extern TupleTableSlot *NextStoredRow(CustomScanState *node,
									 struct Tuplestorestate *store,
									 TupleTableSlot **slot);

extern void CheckExecutePrivileges(List *functions);

#endif							/* SHARDEXT_REMOTE_SCAN_H */
