/*-------------------------------------------------------------------------
 *
 * shardext.c
 *	  Library entry point: parameters, hooks and callbacks.
 *
 * shardext must be loaded through shared_preload_libraries on the
 * coordinator: its hooks see every query of every backend, and later
 * features reserve shared memory.  _PG_init refuses any other way of
 * loading, with a hint saying what to set.  Each hook keeps the previous
 * one and chains to it, so shardext coexists with other extensions.
 *
 * IDENTIFICATION
 *	  src/shardext.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "shardext/connection.h"
#include "shardext/guc.h"
#include "shardext/hooks.h"
#include "shardext/maintenance.h"
#include "shardext/metadata_cache.h"
#include "shardext/self_connection.h"
#include "shardext/transaction.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init checks that the library is being preloaded, then defines the
 * parameters and installs the hooks and callbacks.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("shardext must be loaded via shared_preload_libraries"),
				 errdetail("The library was loaded into a running session, where "
						   "its hooks would not see every query."),
				 errhint("Add shardext to shared_preload_libraries in postgresql.conf "
						 "and restart the server, then run CREATE EXTENSION shardext.")));

	ShardextDefineGucs();
	ShardextInitMetadataCache();
	ShardextInitConnections();
	ShardextInitSelfConnections();
	ShardextInitTransactions();
	ShardextInitMaintenance();
	ShardextInstallPlannerHooks();
	ShardextInstallUtilityHook();
}
