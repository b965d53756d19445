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
 * The cycle's member with the highest pid gives way; another member that
 * finds the same cycle still there one deadlock_timeout later gives way
 * itself (the designated one may not be waiting where it would look).
 * The backend that gives way cancels its node's statement and raises
 * PostgreSQL's "deadlock detected"; its transaction's rollback on the
 * nodes lets the others go on.  The nodes' waits are read one node after
 * the other, not at one instant, so a cycle must be seen whole: waits that
 * ended meanwhile only make a cycle appear if they came back.
 *
 * Waits on the coordinator's own locks are not seen (PostgreSQL's detector
 * covers cycles made of them only), nor sessions whose node server sets
 * application_name.
 *
 * IDENTIFICATION
 *	  src/deadlock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"

#include "shardext/connection.h"
#include "shardext/deadlock.h"
#include "shardext/metadata_cache.h"

/* how long a look at one node may take to connect */
#define DEADLOCK_CONNECT_SECONDS 2

/* waits between sessions of coordinator backends, on one node */
#define WAIT_EDGES_SQL \
	"SELECT w.application_name, b.application_name " \
	"FROM (SELECT DISTINCT pid FROM pg_catalog.pg_locks WHERE NOT granted) l " \
	"CROSS JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(l.pid)) AS bp(pid) " \
	"JOIN pg_catalog.pg_stat_activity w ON w.pid = l.pid " \
	"JOIN pg_catalog.pg_stat_activity b ON b.pid = bp.pid " \
	"WHERE w.application_name LIKE $1 AND b.application_name LIKE $1"

/* a coordinator backend waiting for another on a node */
typedef struct WaitEdge
{
	int			waiter;
	int			blocker;
	ShardextNode *node;
} WaitEdge;

/* the members of the last cycle found (sorted pids), to see it again */
static List *lastCycle = NIL;
static bool detecting = false;

static List *CollectNodeWaits(ShardextNode *node, const char *pattern,
							  size_t prefixLength, List *edges);
static bool LookForCycle(MemoryContext resultContext, char **detail);
static bool PathBackToMe(List *edges, int pid, List **visited, List **path);

/*
 * DistributedDeadlockVictim looks for a cycle of waits through this
 * backend across the nodes, and tells whether this backend is to give way
 * (see the file header); then *detail describes the cycle.
 */
bool
DistributedDeadlockVictim(char **detail)
{
	MemoryContext context;
	MemoryContext old;
	volatile bool victim = false;

	if (detecting || !IsTransactionState())
		return false;

	context = AllocSetContextCreate(CurrentMemoryContext, "shardext deadlock",
									ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(context);
	detecting = true;
	PG_TRY();
	{
		victim = LookForCycle(old, detail);
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
 * LookForCycle is DistributedDeadlockVictim's search, in a memory context
 * of its own; *detail is made in resultContext.
 */
static bool
LookForCycle(MemoryContext resultContext, char **detail)
{
	List	   *edges = NIL;
	List	   *path = NIL;
	List	   *visited = NIL;
	List	   *members = NIL;
	char	   *prefix;
	char	   *pattern;
	bool		victim;
	int			highest = 0;
	StringInfoData buf;
	ListCell   *lc;

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
 * CollectNodeWaits adds to edges the waits between sessions of this
 * coordinator's backends on a node.  A node that cannot be reached, or
 * does not answer, adds none.
 */
static List *
CollectNodeWaits(ShardextNode *node, const char *pattern, size_t prefixLength,
				 List *edges)
{
	PGconn	   *conn = ConnectToNodeQuietly(node, DEADLOCK_CONNECT_SECONDS);
	const char *values[1] = {pattern};
	PGresult   *res;
	int			row;

	if (conn == NULL)
		return edges;
	PQclear(PQexec(conn, "SET statement_timeout = '2s'"));
	res = PQexecParams(conn, WAIT_EDGES_SQL, 1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
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
	CloseNodeConnection(conn);
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
