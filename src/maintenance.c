/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  A background worker per database that finishes what two-phase
 *	  commits left prepared.
 *
 * A transaction that wrote on several nodes commits by two-phase commit;
 * when a node or the coordinator fails between the phases, a node keeps a
 * prepared transaction, which holds its locks until it is committed or
 * rolled back by the decision recorded on the coordinator
 * (shardext_recover_transactions).  Users should not have to notice: a
 * maintenance worker in each database that uses shardext runs that
 * recovery every shardext.recovery_interval, and so also forgets the
 * decisions no longer needed.  Only transactions prepared at least
 * RECOVERY_MIN_AGE_MS ago (by the node's clock) are touched, so that the
 * worker does not race a backend finishing its own commit.
 *
 * The worker is started by the first backend that reads the shard map of a
 * database (StartMaintenanceWorker), except in template databases (a
 * session there would keep CREATE DATABASE from copying it); shared memory
 * lists the databases that have one.  It runs as the extension's owner (who must be a superuser, as
 * the one who created it was, and needs user mappings like any role), and
 * stops when the extension is dropped or the interval is set to 0.  An
 * error or SIGTERM ends it too (SIGTERM also ends a wait for a node); it is
 * not restarted by the postmaster, but backends look every 10 s (at most,
 * when they read the shard map) whether their database's worker runs and
 * start it again, so that long-lived pooled sessions bring it back too.
 *
 * IDENTIFICATION
 *	  src/maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "shardext/guc.h"
#include "shardext/maintenance.h"
#include "shardext/transaction.h"

/* how many databases can have a maintenance worker */
#define MAX_MAINTAINED_DATABASES 64

/* prepared transactions younger than this are left to their backend */
#define RECOVERY_MIN_AGE_MS 10000

/* which databases have a maintenance worker */
typedef struct MaintenanceShared
{
	slock_t		mutex;
	Oid			databases[MAX_MAINTAINED_DATABASES];
	pid_t		pids[MAX_MAINTAINED_DATABASES];	/* 0 until the worker runs */
} MaintenanceShared;

static MaintenanceShared *Shared = NULL;
static shmem_request_hook_type PrevShmemRequestHook = NULL;
static shmem_startup_hook_type PrevShmemStartupHook = NULL;

/* when this backend looks again whether its database's worker runs */
static TimestampTz NextCheck = 0;

/* how often a backend looks (a worker may have stopped: an error, a reload) */
#define WORKER_CHECK_MS 10000

static void MaintenanceShmemRequest(void);
static void MaintenanceShmemStartup(void);
static bool ClaimDatabase(Oid databaseId);
static void ReleaseDatabase(int code, Datum arg);
static bool RunMaintenance(void);
static void SetWorkerPid(Oid databaseId);

PGDLLEXPORT void ShardextMaintenanceMain(Datum arg);

/*
 * ShardextInitMaintenance reserves the shared memory of the workers'
 * list.  Called from _PG_init, in the postmaster.
 */
void
ShardextInitMaintenance(void)
{
	PrevShmemRequestHook = shmem_request_hook;
	shmem_request_hook = MaintenanceShmemRequest;
	PrevShmemStartupHook = shmem_startup_hook;
	shmem_startup_hook = MaintenanceShmemStartup;
}

/* MaintenanceShmemRequest asks for the list's shared memory. */
static void
MaintenanceShmemRequest(void)
{
	if (PrevShmemRequestHook != NULL)
		PrevShmemRequestHook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(MaintenanceShared)));
}

/* MaintenanceShmemStartup finds or makes the list in shared memory. */
static void
MaintenanceShmemStartup(void)
{
	bool		found;

	if (PrevShmemStartupHook != NULL)
		PrevShmemStartupHook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	Shared = ShmemInitStruct("shardext maintenance", sizeof(MaintenanceShared),
							 &found);
	if (!found)
	{
		SpinLockInit(&Shared->mutex);
		memset(Shared->databases, 0, sizeof(Shared->databases));
		memset(Shared->pids, 0, sizeof(Shared->pids));
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * ClaimDatabase records that databaseId has a maintenance worker; false
 * when it had one already (or the list is full).
 */
static bool
ClaimDatabase(Oid databaseId)
{
	int			freeSlot = -1;
	int			i;

	SpinLockAcquire(&Shared->mutex);
	for (i = 0; i < MAX_MAINTAINED_DATABASES; i++)
	{
		if (Shared->databases[i] == databaseId)
		{
			SpinLockRelease(&Shared->mutex);
			return false;
		}
		if (Shared->databases[i] == InvalidOid && freeSlot < 0)
			freeSlot = i;
	}
	if (freeSlot >= 0)
	{
		Shared->databases[freeSlot] = databaseId;
		Shared->pids[freeSlot] = 0;
	}
	SpinLockRelease(&Shared->mutex);
	return freeSlot >= 0;
}

/*
 * SetWorkerPid records the worker of databaseId as this process (taking a
 * slot when the list does not have the database: a restarted worker).
 */
static void
SetWorkerPid(Oid databaseId)
{
	int			i;

	(void) ClaimDatabase(databaseId);
	SpinLockAcquire(&Shared->mutex);
	for (i = 0; i < MAX_MAINTAINED_DATABASES; i++)
		if (Shared->databases[i] == databaseId)
			Shared->pids[i] = MyProcPid;
	SpinLockRelease(&Shared->mutex);
}

/*
 * StopMaintenanceWorker stops the maintenance worker of a database, if it
 * has one, and waits (up to 5 s) for it to exit: DROP DATABASE, and other
 * commands that need a database without sessions, would find it there.
 */
void
StopMaintenanceWorker(Oid databaseId)
{
	pid_t		pid = 0;
	int			i;
	int			waited;

	if (Shared == NULL || !OidIsValid(databaseId))
		return;
	SpinLockAcquire(&Shared->mutex);
	for (i = 0; i < MAX_MAINTAINED_DATABASES; i++)
		if (Shared->databases[i] == databaseId)
			pid = Shared->pids[i];
	SpinLockRelease(&Shared->mutex);
	if (pid == 0)
		return;
	(void) kill(pid, SIGTERM);
	for (waited = 0; waited < 500; waited++)
	{
		bool		gone = true;

		SpinLockAcquire(&Shared->mutex);
		for (i = 0; i < MAX_MAINTAINED_DATABASES; i++)
			if (Shared->databases[i] == databaseId && Shared->pids[i] == pid)
				gone = false;
		SpinLockRelease(&Shared->mutex);
		if (gone)
			return;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
}

/* ReleaseDatabase takes a database (arg) off the list. */
static void
ReleaseDatabase(int code, Datum arg)
{
	Oid			databaseId = DatumGetObjectId(arg);
	int			i;

	SpinLockAcquire(&Shared->mutex);
	for (i = 0; i < MAX_MAINTAINED_DATABASES; i++)
		if (Shared->databases[i] == databaseId)
		{
			Shared->databases[i] = InvalidOid;
			Shared->pids[i] = 0;
		}
	SpinLockRelease(&Shared->mutex);
}

/*
 * StartMaintenanceWorker starts the current database's maintenance worker
 * unless it runs already: called by a backend whenever it reads the shard
 * map (the extension is in use here); it looks at most every 10 s, and is
 * a comparison of timestamps in between.
 */
void
StartMaintenanceWorker(void)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();
	BackgroundWorker worker;
	HeapTuple	tuple;
	bool		isTemplate;

	if (now < NextCheck)
		return;
	NextCheck = TimestampTzPlusMilliseconds(now, WORKER_CHECK_MS);
	if (Shared == NULL || !IsUnderPostmaster || MyBackendType != B_BACKEND ||
		ShardextRecoveryInterval <= 0 || !OidIsValid(MyDatabaseId))
	{
		/* other processes never ask */
		if (MyBackendType != B_BACKEND)
			NextCheck = DT_NOEND;
		return;
	}
	/* a template database must stay free of sessions to be copied */
	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (!HeapTupleIsValid(tuple))
		return;
	isTemplate = ((Form_pg_database) GETSTRUCT(tuple))->datistemplate;
	ReleaseSysCache(tuple);
	if (isTemplate || !ClaimDatabase(MyDatabaseId))
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	/* not restarted: backends start it again when they find it missing */
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "shardext");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ShardextMaintenanceMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "shardext maintenance for database %u",
			 MyDatabaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, "shardext maintenance");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	worker.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&worker, NULL))
	{
		ReleaseDatabase(0, ObjectIdGetDatum(MyDatabaseId));
		ereport(LOG,
				(errmsg("shardext could not start the maintenance worker of database %u",
						MyDatabaseId),
				 errhint("Raise max_worker_processes; meanwhile run "
						 "shardext_recover_transactions() after failures.")));
	}
}

/*
 * ShardextMaintenanceMain is the worker's main function: recovery at
 * start, then every shardext.recovery_interval.
 */
void
ShardextMaintenanceMain(Datum arg)
{
	Oid			databaseId = DatumGetObjectId(arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/* SIGTERM also ends a wait for a node (DROP DATABASE waits for it) */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* (off the list however it ends: connecting may fail too) */
	before_shmem_exit(ReleaseDatabase, ObjectIdGetDatum(databaseId));
	SetWorkerPid(databaseId);
	BackgroundWorkerInitializeConnectionByOid(databaseId, InvalidOid, 0);
	pgstat_report_appname("shardext maintenance");

	for (;;)
	{
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (ShardextRecoveryInterval <= 0 || !RunMaintenance())
			proc_exit(0);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ShardextRecoveryInterval, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * RunMaintenance runs one recovery, as the extension's owner; false when
 * the extension is gone from the database.
 */
static bool
RunMaintenance(void)
{
	bool		installed;
	Oid			owner = InvalidOid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "shardext: recovering prepared transactions");

	installed = OidIsValid(get_extension_oid("shardext", true));
	if (installed)
	{
		bool		isNull;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT extowner FROM pg_catalog.pg_extension "
						"WHERE extname = 'shardext'", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
			owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1,
												   &isNull));
		SPI_finish();
	}
	if (installed && OidIsValid(owner) && superuser_arg(owner))
	{
		Oid			savedUser;
		int			savedContext;

		GetUserIdAndSecContext(&savedUser, &savedContext);
		SetUserIdAndSecContext(owner, savedContext | SECURITY_LOCAL_USERID_CHANGE);
		(void) ShardextRecoverTransactions(RECOVERY_MIN_AGE_MS);
		SetUserIdAndSecContext(savedUser, savedContext);
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	return installed;
}
