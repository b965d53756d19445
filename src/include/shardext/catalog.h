/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Reading and writing the shardext.* catalog tables.
 *
 * IDENTIFICATION
 *	  src/include/shardext/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_CATALOG_H
#define SHARDEXT_CATALOG_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "nodes/pg_list.h"

#define SHARDEXT_SCHEMA "shardext"

/* column numbers of shardext.nodes */
#define Anum_nodes_node_id 1
#define Anum_nodes_host 2
#define Anum_nodes_port 3
#define Anum_nodes_dbname 4
#define Anum_nodes_role 5
#define Anum_nodes_primary_node_id 6
#define Anum_nodes_is_active 7
#define Anum_nodes_server_name 8
#define Natts_nodes 8

/* column numbers of shardext.tables */
#define Anum_tables_table_name 1
#define Anum_tables_distribution_type 2
#define Anum_tables_distribution_column 3
#define Anum_tables_colocation_id 4
#define Anum_tables_shard_count 5
#define Natts_tables 5

/* column numbers of shardext.shards */
#define Anum_shards_shard_id 1
#define Anum_shards_table_name 2
#define Anum_shards_shard_index 3
#define Anum_shards_min_value 4
#define Anum_shards_max_value 5
#define Anum_shards_shard_relation 6
#define Natts_shards 6

/* column numbers of shardext.placements */
#define Anum_placements_shard_id 1
#define Anum_placements_node_id 2
#define Natts_placements 2

/* column numbers of shardext.directory */
#define Anum_directory_table_name 1
#define Anum_directory_key 2
#define Anum_directory_shard_id 3
#define Natts_directory 3

/* column numbers of shardext.shard_statistics */
#define Anum_shard_statistics_shard_id 1
#define Anum_shard_statistics_row_count 2
#define Anum_shard_statistics_page_count 3
#define Anum_shard_statistics_collected_at 4
#define Natts_shard_statistics 4

/* callback of ScanCatalogTable, called for each row */
typedef void (*CatalogRowCallback) (Datum *values, bool *nulls, void *arg);

extern Oid	ShardextSchemaOid(bool missingOk);
extern Oid	ShardextCatalogRelid(const char *tableName, bool missingOk);
extern bool ShardextIsCatalogRelid(Oid relid);
extern void ScanCatalogTable(const char *tableName, CatalogRowCallback callback,
							 void *arg);
extern int	ExecuteCatalogSql(const char *sql, int nargs, Oid *argTypes,
							  Datum *args, const char *nulls);
extern Datum NextCatalogSequenceValue(const char *sequenceName);
extern bool ShardMapRestoredHere(void);

#endif							/* SHARDEXT_CATALOG_H */
