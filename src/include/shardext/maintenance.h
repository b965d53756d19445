/*-------------------------------------------------------------------------
 *
 * maintenance.h
 *	  The maintenance worker of each database that uses shardext.
 *
 * IDENTIFICATION
 *	  src/include/shardext/maintenance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_MAINTENANCE_H
#define SHARDEXT_MAINTENANCE_H

extern void ShardextInitMaintenance(void);
extern void StartMaintenanceWorker(void);
extern void StopMaintenanceWorker(Oid databaseId);

#endif							/* SHARDEXT_MAINTENANCE_H */
