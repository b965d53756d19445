/*-------------------------------------------------------------------------
 *
 * transaction.c
 *	  Remote transactions that follow the coordinator's transaction.
 *
 * The first time a transaction of the coordinator uses a node, a remote
 * transaction is opened on the backend's connection to it, with the same
 * isolation level (and read-only flag) as the local one, and every later
 * statement of the transaction on that node goes through the same
 * connection, so it sees the transaction's earlier writes.  Savepoints are
 * mirrored lazily: when a node is used inside a subtransaction, savepoints
 * are created on it up to the current nesting level; releasing or rolling
 * back a subtransaction does the same on every node that reached it.
 *
 * At commit, the remote transactions are committed in the pre-commit
 * callback (where an error still aborts the local transaction); at abort
 * they are rolled back, and a connection in an unknown state is closed.
 * Transactions that wrote on several nodes are committed one node after the
 * other: two-phase commit is a later step (see docs/architecture.md).
 *
 * IDENTIFICATION
 *	  src/transaction.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"

#include "shardext/connection.h"
#include "shardext/remote_exec.h"
#include "shardext/transaction.h"

int			ShardextUtilityDepth = 0;

/* nesting of executor runs: 1 while a top-level statement runs */
static int	ExecutorDepth = 0;
static ExecutorRun_hook_type PrevExecutorRun = NULL;

static void ShardextExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
								uint64 count, bool execute_once);
static void ShardextXactCallback(XactEvent event, void *arg);
static void ShardextSubXactCallback(SubXactEvent event,
									SubTransactionId mySubid,
									SubTransactionId parentSubid, void *arg);
static const char *RemoteBeginCommand(void);

/*
 * ShardextInitTransactions registers the transaction callbacks.  Called
 * once per backend, from _PG_init.
 */
void
ShardextInitTransactions(void)
{
	RegisterXactCallback(ShardextXactCallback, NULL);
	RegisterSubXactCallback(ShardextSubXactCallback, NULL);
	PrevExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = ShardextExecutorRun;
}

/*
 * ShardextExecutorRun counts how deeply executor runs nest, so that a
 * statement can tell whether it is the whole transaction.
 */
static void
ShardextExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
					uint64 count, bool execute_once)
{
	ExecutorDepth++;
	PG_TRY();
	{
		if (PrevExecutorRun != NULL)
			PrevExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		ExecutorDepth--;
	}
	PG_END_TRY();
}

/*
 * StatementMayRunWithoutTransaction tells whether the running statement is
 * a transaction of its own: a top-level statement (not inside a function,
 * procedure or DO block) outside a transaction block.  Then a node can run
 * its part in an implicit transaction, saving the BEGIN and COMMIT round
 * trips, when that part is one statement, or only reads at READ COMMITTED
 * (where every statement takes its own snapshot anyway).
 */
bool
StatementMayRunWithoutTransaction(void)
{
	return ExecutorDepth == 1 && ShardextUtilityDepth == 0 &&
		!IsTransactionBlock();
}

/*
 * GetNodeConnectionForStatement returns the connection for one remote
 * statement.  onlyStatement says that it is the only statement the running
 * statement sends anywhere, or a read at READ COMMITTED: then, in a
 * statement that is its own transaction, no remote transaction is opened
 * (one round trip instead of three).  Otherwise the statement joins the
 * remote transaction.
 */
NodeConnection *
GetNodeConnectionForStatement(int32 nodeId, bool forWrite, bool onlyStatement)
{
	if (onlyStatement && StatementMayRunWithoutTransaction())
	{
		NodeConnection *nc = GetNodeConnection(nodeId);

		if (!nc->inTransaction && !nc->broken)
			return nc;
	}
	return GetNodeConnectionInTransaction(nodeId, forWrite);
}

/* RemoteBeginCommand returns the BEGIN that mirrors the local transaction. */
static const char *
RemoteBeginCommand(void)
{
	const char *level;

	switch (XactIsoLevel)
	{
		case XACT_REPEATABLE_READ:
			level = "REPEATABLE READ";
			break;
		case XACT_SERIALIZABLE:
			level = "SERIALIZABLE";
			break;
		default:
			level = "READ COMMITTED";
			break;
	}
	return psprintf("BEGIN ISOLATION LEVEL %s%s", level,
					XactReadOnly ? " READ ONLY" : "");
}

/*
 * GetNodeConnectionInTransaction returns the connection to a node with a
 * remote transaction open at the current subtransaction level.  forWrite
 * records that the transaction writes there.
 */
NodeConnection *
GetNodeConnectionInTransaction(int32 nodeId, bool forWrite)
{
	NodeConnection *nc = GetNodeConnection(nodeId);
	int			currentLevel = GetCurrentTransactionNestLevel();

	if (nc->broken)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("connection to node %s was lost in this transaction",
						nc->label),
				 errhint("Roll back the transaction and retry it.")));

	if (!nc->inTransaction)
	{
		const char *begin = RemoteBeginCommand();

		/*
		 * A connection kept from an earlier transaction may have been closed
		 * by the node since (it restarted): then connect again, once.
		 */
		if (!RemoteCommandSucceeds(nc, begin))
		{
			if (PQstatus(nc->conn) != CONNECTION_OK)
			{
				ResetNodeConnection(nc);
				nc = GetNodeConnection(nodeId);
			}
			RemoteExecuteCommand(nc, begin);
		}
		nc->inTransaction = true;
		nc->xactDepth = 1;
	}
	while (nc->xactDepth < currentLevel)
	{
		char	   *sql = psprintf("SAVEPOINT shardext_s%d", nc->xactDepth + 1);

		RemoteExecuteCommand(nc, sql);
		nc->xactDepth++;
	}
	if (forWrite)
		nc->wroteInTransaction = true;
	return nc;
}

/*
 * ShardextXactCallback commits or rolls back the remote transactions with
 * the local one.
 */
static void
ShardextXactCallback(XactEvent event, void *arg)
{
	List	   *connections;
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (OpenNodeConnections() != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that used shardext nodes")));
			return;
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			connections = OpenNodeConnections();
			foreach(lc, connections)
			{
				NodeConnection *nc = lfirst(lc);

				if (!nc->inTransaction)
					continue;
				if (nc->broken)
					ereport(ERROR,
							(errcode(ERRCODE_CONNECTION_FAILURE),
							 errmsg("connection to node %s was lost in this transaction",
									nc->label)));
				RemoteExecuteCommand(nc, "COMMIT");
				nc->inTransaction = false;
				nc->xactDepth = 0;
				nc->wroteInTransaction = false;
			}
			return;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			connections = OpenNodeConnections();
			foreach(lc, connections)
			{
				NodeConnection *nc = lfirst(lc);

				if (nc->broken ||
					(nc->inTransaction && !RemoteExecuteQuietly(nc, "ROLLBACK")))
					ResetNodeConnection(nc);
				nc->inTransaction = false;
				nc->xactDepth = 0;
				nc->wroteInTransaction = false;
			}
			return;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			connections = OpenNodeConnections();
			foreach(lc, connections)
			{
				NodeConnection *nc = lfirst(lc);

				if (nc->broken)
					ResetNodeConnection(nc);
			}
			return;
		default:
			return;
	}
}

/*
 * ShardextSubXactCallback releases or rolls back the remote savepoints of
 * a subtransaction that ends.
 */
static void
ShardextSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	int			currentLevel;
	ListCell   *lc;

	if (event != SUBXACT_EVENT_PRE_COMMIT_SUB &&
		event != SUBXACT_EVENT_ABORT_SUB)
		return;

	currentLevel = GetCurrentTransactionNestLevel();
	foreach(lc, OpenNodeConnections())
	{
		NodeConnection *nc = lfirst(lc);
		char	   *sql;

		if (!nc->inTransaction || nc->xactDepth < currentLevel)
			continue;

		if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
		{
			if (nc->broken)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("connection to node %s was lost in this transaction",
								nc->label)));
			sql = psprintf("RELEASE SAVEPOINT shardext_s%d", currentLevel);
			RemoteExecuteCommand(nc, sql);
		}
		else if (!nc->broken)
		{
			sql = psprintf("ROLLBACK TO SAVEPOINT shardext_s%d; "
						   "RELEASE SAVEPOINT shardext_s%d",
						   currentLevel, currentLevel);
			if (!RemoteExecuteQuietly(nc, sql))
				CloseConnectionAtEndOfTransaction(nc);
		}
		nc->xactDepth = currentLevel - 1;
	}
}
