/*-------------------------------------------------------------------------
 *
 * deadlock.c
 *	  Detecting deadlocks that span nodes.
 *
 * Transactions that wait for each other on different nodes form a cycle no
 * node can see: each node only sees one transaction waiting for another.
 * PostgreSQL's own detector runs in a backend that has waited for a lock
 * for deadlock_timeout; here, a coordinator backend that has waited as long
 * for a node's answer looks at every node's lock waits (pg_locks and
 * pg_blocking_pids, which every role may read) through short connections
 * of its own.  The node sessions of coordinator backends carry
 * application_name "shardext <system identifier>:<pid>" (NodeSessionTag),
 * so each wait between two such sessions becomes a wait between two
 * coordinator backends.  A cycle through this backend is a deadlock.
 *
 * A check first asks the node waited on whether this backend's session
 * there waits for a lock (a long statement that does not is no deadlock);
 * only then are the other nodes read.  The connections a check opens are
 * kept until the wait ends (EndDeadlockWatch), so a long wait costs one
 * connection per node, not one per check; their I/O serves interrupts.
 *
 * The cycle's member with the highest pid gives way; another member that
 * finds the same cycle still there one deadlock_timeout later, in the same
 * wait, gives way itself (the designated one may not be waiting where it
 * would look).  The backend that gives way cancels its node's statement and raises
 * PostgreSQL's "deadlock detected"; its transaction's rollback on the
 * nodes lets the others go on.  The nodes' waits are read one node after
 * the other, not at one instant, so a cycle must be seen whole: waits that
 * ended meanwhile only make a cycle appear if they came back.
 *
 * Waits for locks on the coordinator itself between the backends found
 * (pg_blocking_pids) are part of the graph too: a backend waiting here for
 * one that waits on a node closes a cycle that PostgreSQL's own detector,
 * which sees only local waits, cannot see.  Sessions whose node server sets
 * application_name are not seen, and a node with no free connection slot
 * cannot be read.
 *
 * IDENTIFICATION
 *	  src/deadlock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "shardext/connection.h"
#include "shardext/deadlock.h"
#include "shardext/metadata_cache.h"

/* how long a look at one node may take (to connect, to answer) */
#define DEADLOCK_NODE_MS 2000

/* is a session of this backend (its pid on the node) waiting for a lock? */
#define WAITING_SQL \
	"SELECT 1 FROM pg_catalog.pg_locks WHERE pid = $1 AND NOT granted LIMIT 1"

/* waits between sessions of coordinator backends, on one node */
#define WAIT_EDGES_SQL \
	"SELECT w.application_name, b.application_name " \
	"FROM (SELECT DISTINCT pid FROM pg_catalog.pg_locks WHERE NOT granted) l " \
	"CROSS JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(l.pid)) AS bp(pid) " \
	"JOIN pg_catalog.pg_stat_activity w ON w.pid = l.pid " \
	"JOIN pg_catalog.pg_stat_activity b ON b.pid = bp.pid " \
	"WHERE w.application_name LIKE $1 AND b.application_name LIKE $1"

/* a coordinator backend waiting for another on a node (NULL: here) */
typedef struct WaitEdge
{
	int			waiter;
	int			blocker;
	ShardextNode *node;
} WaitEdge;

/* a connection of the checks of the current wait */
typedef struct WatchConnection
{
	int32		nodeId;
	PGconn	   *conn;			/* NULL: the node could not be reached */
} WatchConnection;

/* the current wait's connections (in TopMemoryContext) */
static List *watchConnections = NIL;

/* the members of the cycle found in the current wait (sorted pids) */
static List *lastCycle = NIL;
static bool detecting = false;

/* set while waits must take no snapshot, so no catalog lookup (see .h) */
bool		DeadlockDetectionPaused = false;

static bool LookForCycle(NodeConnection *waiting, MemoryContext resultContext,
						 char **detail);
static PGconn *WatchConnectionFor(ShardextNode *node);
static PGresult *QueryNode(PGconn *conn, const char *sql, const char *value);
static void CloseWatchConnection(PGconn *conn);
static List *CollectNodeWaits(ShardextNode *node, const char *pattern,
							  size_t prefixLength, List *edges);
static List *CollectLocalWaits(List *edges);
static bool PathBackToMe(List *edges, int pid, List **visited, List **path);

/*
 * DistributedDeadlockVictim looks for a cycle of waits through this
 * backend, which waits for a statement on connection waiting, across the
 * nodes, and tells whether this backend is to give way (see the file
 * header); then *detail describes the cycle.  firstCheck: the first check
 * of this wait.
 */
bool
DistributedDeadlockVictim(NodeConnection *waiting, bool firstCheck, char **detail)
{
	MemoryContext context;
	MemoryContext old;
	volatile bool victim = false;

	if (detecting || DeadlockDetectionPaused || !IsTransactionState())
		return false;
	/* what an earlier wait left (one that an error ended) */
	if (firstCheck)
		EndDeadlockWatch();

	context = AllocSetContextCreate(CurrentMemoryContext, "shardext deadlock",
									ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(context);
	detecting = true;
	PG_TRY();
	{
		victim = LookForCycle(waiting, old, detail);
	}
	PG_FINALLY();
	{
		detecting = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(context);
	return victim;
}

/*
 * EndDeadlockWatch closes the connections the checks of a wait opened and
 * forgets the cycle it saw: called when a wait ends, and at the end of a
 * transaction (a wait an error ended).
 */
void
EndDeadlockWatch(void)
{
	ListCell   *lc;

	foreach(lc, watchConnections)
	{
		WatchConnection *watch = lfirst(lc);

		if (watch->conn != NULL)
			CloseNodeConnection(watch->conn);
		pfree(watch);
	}
	list_free(watchConnections);
	watchConnections = NIL;
	list_free(lastCycle);
	lastCycle = NIL;
}

/*
 * LookForCycle is DistributedDeadlockVictim's search, in a memory context
 * of its own; *detail is made in resultContext.
 */
static bool
LookForCycle(NodeConnection *waiting, MemoryContext resultContext,
			 char **detail)
{
	List	   *edges = NIL;
	List	   *path = NIL;
	List	   *visited = NIL;
	List	   *members = NIL;
	ShardextNode *waitedNode = ShardextGetNode(waiting->nodeId, true);
	PGconn	   *conn;
	PGresult   *res;
	char		pid[12];
	char	   *prefix;
	char	   *pattern;
	bool		victim;
	bool		lockWait;
	int			highest = 0;
	StringInfoData buf;
	ListCell   *lc;

	/* no cycle through this backend unless its session waits for a lock */
	if (waitedNode == NULL || waiting->conn == NULL ||
		(conn = WatchConnectionFor(waitedNode)) == NULL)
		return false;
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(waiting->conn));
	res = QueryNode(conn, WAITING_SQL, pid);
	lockWait = (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
				PQntuples(res) > 0);
	PQclear(res);
	if (!lockWait)
		return false;

	/* "shardext <system id>:" of this coordinator's sessions */
	prefix = pstrdup(NodeSessionTag());
	*(strrchr(prefix, ':') + 1) = '\0';
	pattern = psprintf("%s%%", prefix);

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);

		if (node->isActive && node->role != NODE_ROLE_REPLICA)
			edges = CollectNodeWaits(node, pattern, strlen(prefix), edges);
	}
	edges = CollectLocalWaits(edges);
	if (!PathBackToMe(edges, MyProcPid, &visited, &path))
	{
		list_free(lastCycle);
		lastCycle = NIL;
		return false;
	}

	initStringInfo(&buf);
	foreach(lc, path)
	{
		WaitEdge   *edge = lfirst(lc);

		if (edge->node == NULL)
			appendStringInfo(&buf, "%sProcess %d waits on the coordinator for process %d.",
							 buf.len > 0 ? "\n" : "", edge->waiter, edge->blocker);
		else
			appendStringInfo(&buf, "%sProcess %d waits on node %d (%s:%d) for process %d.",
							 buf.len > 0 ? "\n" : "", edge->waiter,
							 edge->node->nodeId, edge->node->host,
							 edge->node->port, edge->blocker);
		members = lappend_int(members, edge->waiter);
		highest = Max(highest, edge->waiter);
	}
	list_sort(members, list_int_cmp);
	victim = (highest == MyProcPid || equal(members, lastCycle));
	*detail = MemoryContextStrdup(resultContext, buf.data);
	list_free(lastCycle);
	lastCycle = NIL;
	if (!victim)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		lastCycle = list_copy(members);
		MemoryContextSwitchTo(old);
	}
	return victim;
}

/*
 * WatchConnectionFor returns the current wait's connection to a node,
 * connecting at the first check (NULL when the node cannot be reached:
 * not tried again in this wait).
 */
static PGconn *
WatchConnectionFor(ShardextNode *node)
{
	WatchConnection *watch;
	MemoryContext old;
	ListCell   *lc;

	foreach(lc, watchConnections)
	{
		watch = lfirst(lc);
		if (watch->nodeId == node->nodeId)
			return watch->conn;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	watch = palloc(sizeof(WatchConnection));
	watch->nodeId = node->nodeId;
	watch->conn = NULL;
	watchConnections = lappend(watchConnections, watch);
	MemoryContextSwitchTo(old);
	watch->conn = ConnectToNodeQuietly(node, DEADLOCK_NODE_MS);
	return watch->conn;
}

/*
 * QueryNode runs a query with one text parameter on a watch connection,
 * waiting at most DEADLOCK_NODE_MS and serving interrupts; NULL when it
 * did not complete (the connection is then not used again in this wait).
 */
static PGresult *
QueryNode(PGconn *conn, const char *sql, const char *value)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   DEADLOCK_NODE_MS);
	const char *values[1] = {value};
	PGresult   *res = NULL;
	PGresult   *next;

	if (PQstatus(conn) != CONNECTION_OK ||
		!PQsendQueryParams(conn, sql, 1, NULL, values, NULL, NULL, 0))
		return NULL;
	for (;;)
	{
		while (PQisBusy(conn))
		{
			if (!WaitForNodeSocket(conn, WL_SOCKET_READABLE, deadline) ||
				!PQconsumeInput(conn))
			{
				PQclear(res);
				/* unusable from now on: a statement may still run there */
				CloseWatchConnection(conn);
				return NULL;
			}
		}
		next = PQgetResult(conn);
		if (next == NULL)
			return res;
		PQclear(res);
		res = next;
	}
}

/* CloseWatchConnection closes one connection of the current wait's. */
static void
CloseWatchConnection(PGconn *conn)
{
	ListCell   *lc;

	foreach(lc, watchConnections)
	{
		WatchConnection *watch = lfirst(lc);

		if (watch->conn == conn)
			watch->conn = NULL;
	}
	CloseNodeConnection(conn);
}

/*
 * CollectNodeWaits adds to edges the waits between sessions of this
 * coordinator's backends on a node.  A node that cannot be reached, or
 * does not answer, adds none.
 */
static List *
CollectNodeWaits(ShardextNode *node, const char *pattern, size_t prefixLength,
				 List *edges)
{
	PGconn	   *conn = WatchConnectionFor(node);
	PGresult   *res;
	int			row;

	if (conn == NULL)
		return edges;
	res = QueryNode(conn, WAIT_EDGES_SQL, pattern);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		for (row = 0; row < PQntuples(res); row++)
		{
			WaitEdge   *edge = palloc(sizeof(WaitEdge));

			edge->waiter = atoi(PQgetvalue(res, row, 0) + prefixLength);
			edge->blocker = atoi(PQgetvalue(res, row, 1) + prefixLength);
			edge->node = node;
			if (edge->waiter > 0 && edge->blocker > 0 &&
				edge->waiter != edge->blocker)
				edges = lappend(edges, edge);
		}
	}
	PQclear(res);
	return edges;
}

/*
 * CollectLocalWaits adds to edges the waits for locks on the coordinator
 * itself of the backends the edges name (and of those these waits lead
 * to): a backend that waits here for one that waits on a node closes a
 * cycle no node, and not PostgreSQL's own detector, can see.  The node of
 * such an edge is NULL.
 */
static List *
CollectLocalWaits(List *edges)
{
	List	   *pids = list_make1_int(MyProcPid);
	ListCell   *lc;
	int			i;

	foreach(lc, edges)
	{
		WaitEdge   *edge = lfirst(lc);

		pids = list_append_unique_int(pids, edge->waiter);
		pids = list_append_unique_int(pids, edge->blocker);
	}
	/* (pids grows while it is walked: the waits lead to more backends) */
	for (i = 0; i < list_length(pids); i++)
	{
		int			pid = list_nth_int(pids, i);
		ArrayType  *blockers;
		Datum	   *elements;
		bool	   *nulls;
		int			count;
		int			j;

		if (pid == MyProcPid)
			continue;			/* this backend waits on a node, not here */
		blockers = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids,
														  Int32GetDatum(pid)));
		deconstruct_array(blockers, INT4OID, sizeof(int32), true, TYPALIGN_INT,
						  &elements, &nulls, &count);
		for (j = 0; j < count; j++)
		{
			WaitEdge   *edge;

			if (nulls[j] || DatumGetInt32(elements[j]) <= 0)
				continue;
			edge = palloc(sizeof(WaitEdge));
			edge->waiter = pid;
			edge->blocker = DatumGetInt32(elements[j]);
			edge->node = NULL;
			edges = lappend(edges, edge);
			pids = list_append_unique_int(pids, edge->blocker);
		}
	}
	return edges;
}

/*
 * PathBackToMe tells whether the waits lead from backend pid back to this
 * one; *path gets the waits of that path, in order.
 */
static bool
PathBackToMe(List *edges, int pid, List **visited, List **path)
{
	ListCell   *lc;

	foreach(lc, edges)
	{
		WaitEdge   *edge = lfirst(lc);

		if (edge->waiter != pid)
			continue;
		if (edge->blocker == MyProcPid ||
			(!list_member_int(*visited, edge->blocker) &&
			 (*visited = lappend_int(*visited, edge->blocker),
			  PathBackToMe(edges, edge->blocker, visited, path))))
		{
			*path = lcons(edge, *path);
			return true;
		}
	}
	return false;
}
