/*-------------------------------------------------------------------------
 *
 * self_connection.c
 *	  Telling the coordinator's sessions that serve its own connections.
 *
 * The coordinator is node 0: it holds a copy of every reference table and
 * reaches it, like any node, through a connection, here to itself.  The
 * backend serving such a connection runs shardext's own statements on the
 * copies (CREATE TABLE, ALTER TABLE, ...), which the user's statement that
 * caused them has already shown to the user's event triggers.  Fired again
 * there, those triggers would see tables that are not the user's, and the
 * ones that write to reference or distributed tables would use nodes from
 * a transaction that is itself a node's, which cannot commit (or, when they
 * distribute the tables they see, recurse until no connection is left).
 *
 * So each backend records in shared memory the process id of the backend
 * serving its connection to itself, and a backend that finds its own id
 * there runs its DDL with event triggers of the usual kind (ENABLE, firing
 * on origin) left out, as session_replication_role = replica does.  Shared
 * memory, unlike a setting or an application_name, cannot be written by a
 * user who would like his DDL to escape the event triggers.
 *
 * IDENTIFICATION
 *	  src/self_connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/backendid.h"
#include "storage/shmem.h"

#include "shardext/self_connection.h"

/* per backend (by BackendId), the pid serving its connection to itself */
static pg_atomic_uint32 *SelfConnectionPids = NULL;

static shmem_request_hook_type PrevShmemRequestHook = NULL;
static shmem_startup_hook_type PrevShmemStartupHook = NULL;

/* whether this backend's slot must be cleared when it exits */
static bool ClearAtExit = false;

/* whether this backend was found to serve a connection of the coordinator */
static bool IsSelfConnection = false;

static void SelfConnectionShmemRequest(void);
static void SelfConnectionShmemStartup(void);
static void ClearSlot(int code, Datum arg);

/*
 * ShardextInitSelfConnections reserves the shared memory of the list.
 * Called from _PG_init, in the postmaster.
 */
void
ShardextInitSelfConnections(void)
{
	PrevShmemRequestHook = shmem_request_hook;
	shmem_request_hook = SelfConnectionShmemRequest;
	PrevShmemStartupHook = shmem_startup_hook;
	shmem_startup_hook = SelfConnectionShmemStartup;
}

/* SelfConnectionShmemRequest asks for one slot per backend. */
static void
SelfConnectionShmemRequest(void)
{
	if (PrevShmemRequestHook != NULL)
		PrevShmemRequestHook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(pg_atomic_uint32) * MaxBackends));
}

/* SelfConnectionShmemStartup finds or makes the slots. */
static void
SelfConnectionShmemStartup(void)
{
	bool		found;

	if (PrevShmemStartupHook != NULL)
		PrevShmemStartupHook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	SelfConnectionPids = ShmemInitStruct("shardext self connections",
										 sizeof(pg_atomic_uint32) * MaxBackends,
										 &found);
	if (!found)
	{
		int			i;

		for (i = 0; i < MaxBackends; i++)
			pg_atomic_init_u32(&SelfConnectionPids[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * NoteSelfConnection records that backend pid (0: none) serves this
 * backend's main connection to the coordinator itself.  It is recorded
 * before anything is sent on the connection.
 */
void
NoteSelfConnection(int pid)
{
	if (SelfConnectionPids == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId > MaxBackends)
		return;
	if (!ClearAtExit && pid != 0)
	{
		before_shmem_exit(ClearSlot, (Datum) 0);
		ClearAtExit = true;
	}
	pg_atomic_write_u32(&SelfConnectionPids[MyBackendId - 1], (uint32) pid);
}

/* ClearSlot forgets this backend's connection to itself, at exit. */
static void
ClearSlot(int code, Datum arg)
{
	NoteSelfConnection(0);
}

/*
 * ServesSelfConnection tells whether this backend serves the connection of
 * another backend of the coordinator to itself.  Such a backend stays one
 * for its life (its client closes it when done), so a yes is kept; a no is
 * looked up again each time, as a backend is asked only when it runs DDL.
 */
bool
ServesSelfConnection(void)
{
	int			i;

	if (IsSelfConnection)
		return true;
	if (SelfConnectionPids == NULL)
		return false;
	for (i = 0; i < MaxBackends; i++)
	{
		if (pg_atomic_read_u32(&SelfConnectionPids[i]) == (uint32) MyProcPid)
		{
			IsSelfConnection = true;
			return true;
		}
	}
	return false;
}
