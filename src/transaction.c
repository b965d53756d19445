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
 * Transactions that wrote on several nodes (or on a node and locally) are
 * committed with two-phase commit (see docs/architecture.md).
 *
 * A top-level statement that is its transaction's whole work sends a node
 * its part without BEGIN and COMMIT (one round trip): in the extended query
 * protocol that needs a look at the client's next message, as statements
 * pipelined before one Sync are one transaction.
 *
 * IDENTIFICATION
 *	  src/transaction.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/transam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "libpq/libpq-be.h"
#include "libpq/libpq.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/procarray.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/portal.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "shardext/catalog.h"
#include "shardext/connection.h"
#include "shardext/deadlock.h"
#include "shardext/foreign_keys.h"
#include "shardext/guc.h"
#include "shardext/metadata_cache.h"
#include "shardext/remote_exec.h"
#include "shardext/shard_ddl.h"
#include "shardext/transaction.h"

/*
 * The value styles (DateStyle and its order, IntervalStyle,
 * extra_float_digits) this backend's cached plans were made under, -1 for
 * none yet, and whether they changed in this transaction (which may yet
 * take the change back).
 */
static int	PlannedDateStyle = -1;
static int	PlannedDateOrder = -1;
static int	PlannedIntervalStyle = -1;
static int	PlannedFloatDigits = 0;
static bool StyleChangedInTransaction = false;

/* the client's portal running a top-level SQL EXECUTE (utility.c), or NULL */
Portal		ExecuteStmtClientPortal = NULL;

/* a remote transaction was opened in this transaction (on any node) */
static bool RemoteTransactionOpened = false;

/*
 * the transaction had written locally or opened a remote transaction when
 * the running top-level statement started
 */
static bool EarlierWorkInTransaction = false;
int			ShardextUtilityDepth = 0;

/*
 * nesting of executor runs and finishes (where AFTER triggers fire): 1 while
 * a top-level statement runs
 */
static int	ExecutorDepth = 0;
static ExecutorRun_hook_type PrevExecutorRun = NULL;
static ExecutorFinish_hook_type PrevExecutorFinish = NULL;

static void ShardextExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
								uint64 count, bool execute_once);
static void ShardextExecutorFinish(QueryDesc *queryDesc);
static void ShardextXactCallback(XactEvent event, void *arg);
static void ForgetLocalCopyPlans(void);
static void RecoverNodeInSubtransaction(void *arg);
static void ShardextSubXactCallback(SubXactEvent event,
									SubTransactionId mySubid,
									SubTransactionId parentSubid, void *arg);
static void EndRemoteSubTransactions(SubXactEvent event);
static const char *RemoteBeginCommand(void);
static void ReplayConstraintModes(NodeConnection *nc, int nestLevel);
static bool StatementEndsTransaction(void);
static bool NextClientMessageIsSync(void);
static void CommitRemoteTransactions(void);
static void CommitWrittenNode(NodeConnection *nc);

/* gids committed on every node, whose decision rows can go (TopMemoryContext) */
static List *FinishedGids = NIL;
static void FinishPreparedTransactions(bool commit);
static void ForgetStyledPlans(void);
static void ForgetPlansOfLocalStyles(bool transactionEnds);
static void ForgetTransactionState(void);
static void CheckCopiesNotChangedHere(void);

static void CollectGidCallback(Datum *values, bool *nulls, void *arg);
static void CollectRecordCallback(Datum *values, bool *nulls, void *arg);

PG_FUNCTION_INFO_V1(shardext_recover_transactions);

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
	PrevExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = ShardextExecutorFinish;
}

/*
 * ShardextExecutorRun counts how deeply executor runs nest, so that a
 * statement can tell whether it is a top-level one.
 */
static void
ShardextExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
					uint64 count, bool execute_once)
{
	if (ExecutorDepth == 0)
		EarlierWorkInTransaction = RemoteTransactionOpened ||
			TransactionIdIsValid(GetTopTransactionIdIfAny());
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
 * ShardextExecutorFinish counts as ShardextExecutorRun does: the AFTER
 * triggers a statement fires when it finishes run inside it.
 */
static void
ShardextExecutorFinish(QueryDesc *queryDesc)
{
	ExecutorDepth++;
	PG_TRY();
	{
		if (PrevExecutorFinish != NULL)
			PrevExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
		ForgetPlansOfOtherStyles();
	}
	PG_FINALLY();
	{
		ExecutorDepth--;
	}
	PG_END_TRY();
}

/*
 * RemoteTransactionsOpen tells whether this transaction opened a remote
 * transaction on some node: its commit then needs the extension's catalog
 * (shardext.transactions).
 */
bool
RemoteTransactionsOpen(void)
{
	return RemoteTransactionOpened;
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
 * StatementEndsTransaction tells whether the transaction of a top-level
 * statement outside a transaction block ends with it.  In the simple query
 * protocol it does.  In the extended protocol the implicit transaction lasts
 * until the client's Sync, and statements a client pipelines before one Sync
 * (a JDBC batch in autocommit mode) are one transaction, atomic like any
 * other.  Then the statement is the transaction's whole work only when the
 * client's next message, already received, is that Sync, and nothing before
 * it in the transaction wrote locally or opened a remote transaction.
 */
static bool
StatementEndsTransaction(void)
{
	Portal		portal = (ExecuteStmtClientPortal != NULL) ?
		ExecuteStmtClientPortal : ActivePortal;

	/*
	 * Without a portal it is no client's statement but, say, one of a
	 * function called with the function-call protocol, or of a deferred
	 * trigger at commit: more may follow.
	 */
	if (portal == NULL)
		return false;

	/*
	 * Earlier work of the transaction commits with it (a simple query can
	 * join an extended-protocol transaction before its Sync).  What the
	 * statement itself did locally does not count (a sequence's nextval
	 * takes a transaction id).
	 */
	if (EarlierWorkInTransaction)
		return false;

	/* a portal of the simple protocol runs no cached plan */
	if (portal->cplan == NULL || whereToSendOutput != DestRemote)
		return true;
	return NextClientMessageIsSync();
}

/*
 * NextClientMessageIsSync tells whether the next message from the client is
 * a Sync and has already arrived (in the backend's input buffer or, for an
 * unencrypted connection, in the socket's).  It does not wait for input.
 */
static bool
NextClientMessageIsSync(void)
{
	unsigned char next;

	if (MyProcPort == NULL || pq_is_reading_msg())
		return false;
	if (pq_buffer_has_data())
	{
		int			type;

		/* a whole message was read before this one ran: this is its type */
		pq_startmsgread();
		type = pq_peekbyte();
		pq_endmsgread();
		return type == 'S';
	}
	if (MyProcPort->ssl_in_use)
		return false;
#ifdef ENABLE_GSS
	if (be_gssapi_get_enc(MyProcPort))
		return false;
#endif
	return recv(MyProcPort->sock, &next, 1, MSG_PEEK | MSG_DONTWAIT) == 1 &&
		next == 'S';
}

/*
 * The statement of this transaction (its command tag) that changed the
 * coordinator's copies of reference tables here, not through the
 * coordinator's connection to itself (REASSIGN OWNED, DROP OWNED, GRANT ...
 * ON ALL TABLES IN SCHEMA), or NULL: that connection, another backend,
 * would wait for this transaction's locks on them until it ends.
 */
static const char *CopiesChangedHere = NULL;

/*
 * NoteCopiesChangedHere records that statement (a command tag) changed the
 * coordinator's copies of reference tables in this transaction, after
 * checking that the transaction has not used them through the coordinator's
 * connection to itself: that backend holds locks the statement would wait
 * for until this transaction ends, that is forever.  Called before the
 * statement runs.
 */
void
NoteCopiesChangedHere(const char *statement)
{
	NodeConnection *nc = FindNodeConnection(COORDINATOR_NODE_ID);

	if (nc != NULL && nc->inTransaction)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s cannot run in a transaction that used reference tables through the coordinator's own connection",
						statement),
				 errdetail("The statement changes the coordinator's copies of reference tables, which that connection holds locks on until the transaction ends."),
				 errhint("Run %s in a transaction of its own.", statement)));
	CopiesChangedHere = statement;
}

/*
 * CheckCopiesNotChangedHere raises an error, rather than waiting forever,
 * when the coordinator's connection to itself is about to be used in a
 * transaction that changed the coordinator's copies of reference tables
 * itself (NoteCopiesChangedHere).
 */
static void
CheckCopiesNotChangedHere(void)
{
	if (CopiesChangedHere != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tables placed on the coordinator cannot be read or changed through its own connection after %s in the same transaction",
						CopiesChangedHere),
				 errdetail("%s changed tables placed on the coordinator (the copies of reference tables, federated tables on node 0); the connection would wait for this transaction's locks on them.",
						   CopiesChangedHere),
				 errhint("Run %s in a transaction of its own.", CopiesChangedHere)));
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
	NodeConnection *nc;

	if (nodeId == COORDINATOR_NODE_ID)
		CheckCopiesNotChangedHere();

	if (onlyStatement && StatementMayRunWithoutTransaction() &&
		StatementEndsTransaction())
	{
		nc = GetNodeConnection(nodeId);
		if (!nc->inTransaction && !nc->broken)
		{
			nc->soleWrite = forWrite;
			return nc;
		}
	}
	nc = GetNodeConnectionInTransaction(nodeId, forWrite);
	nc->soleWrite = false;
	return nc;
}

/*
 * ParallelConnectionsForNode returns over how many connections a read of
 * several shards of one node may run: up to shardext.max_connections_per_node
 * when the read needs no remote transaction (a statement that is its own
 * transaction, at READ COMMITTED, on a node with none open), else 1.
 * explainOnly: for EXPLAIN without ANALYZE, as if the statement ran alone.
 */
int
ParallelConnectionsForNode(int32 nodeId, bool explainOnly)
{
	NodeConnection *nc;

	/* EXPLAIN without ANALYZE shows what the statement itself would do */
	if (ShardextMaxConnectionsPerNode <= 1 || XactIsoLevel != XACT_READ_COMMITTED ||
		IsTransactionBlock() ||
		(!explainOnly && (ExecutorDepth > 1 || ShardextUtilityDepth != 0)))
		return 1;
	nc = FindNodeConnection(nodeId);
	if (nc != NULL && (nc->inTransaction || nc->broken))
		return 1;
	return ShardextMaxConnectionsPerNode;
}

/*
 * The SET CONSTRAINTS of this transaction, in order, with the subtransaction
 * level of each (a rollback to a savepoint forgets those of deeper levels):
 * a node that joins the transaction later gets them after its BEGIN.  Each
 * node gets the names its shards have (NodeConstraintsSetCommand).
 */
typedef struct ConstraintMode
{
	int			nestLevel;
	bool		all;
	bool		deferred;
	List	   *constraintOids;
} ConstraintMode;

static List *ConstraintModes = NIL;

/*
 * SetRemoteConstraintMode carries a SET CONSTRAINTS that just ran to every
 * remote transaction (at the current savepoint level) and keeps it for the
 * nodes that join later.
 */
void
SetRemoteConstraintMode(ConstraintsSetStmt *stmt)
{
	List	   *oids = RemoteConstraintOids(stmt);
	MemoryContext old;
	ConstraintMode *mode;
	ListCell   *lc;

	if (stmt->constraints != NIL && oids == NIL)
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	mode = palloc(sizeof(ConstraintMode));
	mode->nestLevel = GetCurrentTransactionNestLevel();
	mode->all = (stmt->constraints == NIL);
	mode->deferred = stmt->deferred;
	mode->constraintOids = list_copy(oids);
	ConstraintModes = lappend(ConstraintModes, mode);
	MemoryContextSwitchTo(old);

	foreach(lc, OpenNodeConnections())
	{
		NodeConnection *nc = lfirst(lc);
		char	   *command;

		if (!nc->inTransaction || nc->broken || nc->slot != 0)
			continue;
		command = NodeConstraintsSetCommand(mode->all, mode->deferred,
											mode->constraintOids, nc->nodeId);
		if (command != NULL)
			RemoteExecuteCommand(GetNodeConnectionInTransaction(nc->nodeId, false),
								 command);
	}
}

/*
 * ReplayConstraintModes sends to a node that just joined the transaction
 * the SET CONSTRAINTS of subtransaction level nestLevel, once its savepoint
 * of that level exists (so that a rollback to it undoes them there too).
 * The modes' levels never decrease along the list: a new one has the
 * current level, and those of ended subtransactions went or moved up.
 */
static void
ReplayConstraintModes(NodeConnection *nc, int nestLevel)
{
	ListCell   *lc;

	foreach(lc, ConstraintModes)
	{
		ConstraintMode *mode = lfirst(lc);

		char	   *command;

		if (mode->nestLevel != nestLevel)
			continue;
		command = NodeConstraintsSetCommand(mode->all, mode->deferred,
											mode->constraintOids, nc->nodeId);
		if (command != NULL)
			RemoteExecuteCommand(nc, command);
	}
}

/*
 * ConstraintDeferredNow tells whether a deferrable constraint is deferred at
 * this point of the transaction: its INITIALLY setting, then every SET
 * CONSTRAINTS of the transaction that names it or says ALL.
 */
bool
ConstraintDeferredNow(Oid constraintOid, bool initiallyDeferred)
{
	bool		deferred = initiallyDeferred;
	ListCell   *lc;

	foreach(lc, ConstraintModes)
	{
		ConstraintMode *mode = lfirst(lc);

		if (mode->all || list_member_oid(mode->constraintOids, constraintOid))
			deferred = mode->deferred;
	}
	return deferred;
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
	/*
	 * A SERIALIZABLE READ ONLY DEFERRABLE transaction waits on each node for
	 * a snapshot that cannot fail, as it does here.
	 */
	return psprintf("BEGIN ISOLATION LEVEL %s%s%s", level,
					XactReadOnly ? " READ ONLY" : "",
					(XactReadOnly && XactDeferrable &&
					 XactIsoLevel == XACT_SERIALIZABLE) ? " DEFERRABLE" : "");
}

/*
 * GetNodeConnectionInTransaction returns the connection to a node with a
 * remote transaction open at the current subtransaction level.  forWrite
 * records that the transaction writes there.
 */
NodeConnection *
GetNodeConnectionInTransaction(int32 nodeId, bool forWrite)
{
	NodeConnection *nc;
	int			currentLevel = GetCurrentTransactionNestLevel();
	bool		begun = false;

	if (nodeId == COORDINATOR_NODE_ID)
		CheckCopiesNotChangedHere();
	nc = GetNodeConnection(nodeId);

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
		RemoteTransactionOpened = true;
		begun = true;
		ReplayConstraintModes(nc, 1);
	}
	while (nc->xactDepth < currentLevel)
	{
		char	   *sql = psprintf("SAVEPOINT shardext_s%d", nc->xactDepth + 1);

		RemoteExecuteCommand(nc, sql);
		nc->xactDepth++;
		if (begun)
			ReplayConstraintModes(nc, nc->xactDepth);
	}
	if (forWrite && !nc->wroteInTransaction && nodeId == COORDINATOR_NODE_ID)
		ForgetLocalCopyPlans();
	if (forWrite)
		nc->wroteInTransaction = true;
	return nc;
}

/*
 * ForgetLocalCopyPlans makes cached plans that read the coordinator's
 * copies of reference tables directly (planner.c) be planned again: this
 * transaction now writes on the coordinator through its connection to
 * itself, and the local snapshot would not see those writes.
 */
static void
ForgetLocalCopyPlans(void)
{
	ListCell   *lc;

	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);
		Oid			copy;

		if (!IsReferenceTable(table))
			continue;

		/*
		 * Those plans read the copy (its OID is among their relations); the
		 * table itself is left alone, so that the shard map and the
		 * statements prepared on nodes stay valid.
		 */
		copy = CoordinatorCopyRelid(table->shards[0]->relationName);
		if (OidIsValid(copy))
			CacheInvalidateRelcacheByRelid(copy);
	}
}

/*
 * CommitRemoteTransactions runs at pre-commit.  When the transaction wrote
 * on more than one node (or on one node and on the coordinator) and
 * shardext.two_phase_commit is on, every written node prepares its
 * transaction, and the decision is recorded in shardext.transactions within
 * the local transaction: it exists if and only if the local commit happens.
 * The prepared transactions are committed after the local commit (see
 * FinishPreparedTransactions).  Otherwise every node commits now, one after
 * the other.  Nodes that were only read commit in either case.
 */
static void
CommitRemoteTransactions(void)
{
	List	   *connections = OpenNodeConnections();
	List	   *writers = NIL;
	bool		twoPhase;
	ListCell   *lc;

	foreach(lc, connections)
	{
		NodeConnection *nc = lfirst(lc);

		if (!nc->inTransaction)
			continue;
		if (nc->broken)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("connection to node %s was lost in this transaction",
							nc->label),
					 errhint("The transaction is rolled back; retry it.")));
		/*
		 * Shards on the coordinator itself of a server without prepared
		 * transactions (a laptop in single-node mode) commit right before
		 * the local transaction, best effort.
		 */
		if (nc->wroteInTransaction &&
			!(nc->nodeId == COORDINATOR_NODE_ID && max_prepared_xacts == 0))
			writers = lappend(writers, nc);
	}

	twoPhase = ShardextTwoPhaseCommit &&
		(list_length(writers) > 1 ||
		 (list_length(writers) == 1 &&
		  TransactionIdIsValid(GetTopTransactionIdIfAny())));

	if (twoPhase)
	{
		FullTransactionId fxid = GetTopFullTransactionId();
		bool		pushedSnapshot = false;
		List	   *gids = NIL;
		Oid			argTypes[2] = {TEXTOID, INT4OID};
		Datum		args[2];

		/*
		 * The decisions are written first, and flushed with the transaction's
		 * id before any node prepares: a coordinator that crashes after a
		 * PREPARE then comes back knowing that id as used (so it is never
		 * handed out again, and recovery sees the transaction as aborted
		 * rather than still running).  The rows become visible only if the
		 * local transaction commits.
		 */
		foreach(lc, writers)
		{
			NodeConnection *nc = lfirst(lc);
			char	   *gid = psprintf("shardext_" UINT64_FORMAT "_" UINT64_FORMAT "_%d",
									   GetSystemIdentifier(),
									   U64FromFullTransactionId(fxid),
									   nc->nodeId);

			gids = lappend(gids, gid);
			args[0] = CStringGetTextDatum(gid);
			args[1] = Int32GetDatum(nc->nodeId);
			/* at pre-commit of an implicit transaction no snapshot is set */
			if (!ActiveSnapshotSet())
			{
				PushActiveSnapshot(GetTransactionSnapshot());
				pushedSnapshot = true;
			}
			ExecuteCatalogSql("INSERT INTO shardext.transactions (gid, node_id) "
							  "VALUES ($1, $2)", 2, argTypes, args, NULL);
		}
		XLogFlush(XactLastRecEnd);

		foreach(lc, writers)
		{
			NodeConnection *nc = lfirst(lc);
			char	   *gid = list_nth(gids, foreach_current_index(lc));

			/*
			 * A failed PREPARE aborts the node's transaction; one whose fate
			 * is unknown (lost connection) is rolled back by recovery, as no
			 * decision to commit gets committed.  The gid is recorded before
			 * the node is asked: an error here (a cancel that came after the
			 * node prepared) must not leave a prepared transaction the abort
			 * would not roll back.
			 */
			strlcpy(nc->preparedGid, gid, sizeof(nc->preparedGid));
			RemoteExecuteCommand(nc, psprintf("PREPARE TRANSACTION %s",
											  quote_literal_cstr(gid)));
			nc->inTransaction = false;
			nc->xactDepth = 0;
			nc->wroteInTransaction = false;
		}
		/* the decisions of earlier, finished commits are not needed any more */
		if (FinishedGids != NIL)
		{
			Oid			gidType[1] = {TEXTARRAYOID};
			Datum		gidArray[1];
			Datum	   *elems = palloc(sizeof(Datum) * list_length(FinishedGids));
			int			n = 0;

			foreach(lc, FinishedGids)
				elems[n++] = CStringGetTextDatum(lfirst(lc));
			gidArray[0] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1,
														 false, TYPALIGN_INT));
			ExecuteCatalogSql("DELETE FROM shardext.transactions WHERE gid = ANY ($1)",
							  1, gidType, gidArray, NULL);
			list_free_deep(FinishedGids);
			FinishedGids = NIL;
		}
		if (pushedSnapshot)
			PopActiveSnapshot();
		if (ShardextDebugCommitDelay > 0)
			pg_usleep(ShardextDebugCommitDelay * 1000L);
	}

	foreach(lc, connections)
	{
		NodeConnection *nc = lfirst(lc);

		if (!nc->inTransaction)
			continue;
		if (nc->wroteInTransaction)
			CommitWrittenNode(nc);
		else
			RemoteExecuteCommand(nc, "COMMIT");
		nc->inTransaction = false;
		nc->xactDepth = 0;
		nc->wroteInTransaction = false;
	}
}

/*
 * CommitWrittenNode commits, in one phase, the remote transaction of a node
 * the transaction wrote on.  The wait for the answer can be cancelled (a
 * node may be stuck), but once COMMIT was sent a cancel, a termination or a
 * lost connection leaves it unknown whether the node committed: that is
 * what the error then says, rather than the plain cancel, which would read
 * as a rollback.  An error of the node itself (a deferred constraint) means
 * it did not commit, and is raised as it is.
 */
static void
CommitWrittenNode(NodeConnection *nc)
{
	MemoryContext context = CurrentMemoryContext;

	PG_TRY();
	{
		RemoteExecuteCommand(nc, "COMMIT");
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_QUERY_CANCELED &&
			edata->sqlerrcode != ERRCODE_ADMIN_SHUTDOWN &&
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_CONNECTION_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN),
				 errmsg("whether the transaction committed on node %s is unknown",
						nc->label),
				 errdetail("COMMIT was sent to the node, which had not answered when this "
						   "happened: %s", edata->message),
				 errhint("Check whether its changes on that node are there before retrying it.")));
	}
	PG_END_TRY();
}

/*
 * RemotePreparedTransactionExists tells whether the node has a prepared
 * transaction gid, or may have it (the connection cannot tell).  Never
 * raises an error.
 */
static bool
RemotePreparedTransactionExists(NodeConnection *nc, const char *gid)
{
	PGresult   *res;
	bool		exists = true;

	if (nc->conn == NULL || PQstatus(nc->conn) != CONNECTION_OK ||
		PQtransactionStatus(nc->conn) == PQTRANS_ACTIVE)
		return true;
	res = RemoteQueryQuietly(nc, psprintf("SELECT 1 FROM pg_catalog.pg_prepared_xacts WHERE gid = %s",
										  quote_literal_cstr(gid)));
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
		exists = (PQntuples(res) > 0);
	PQclear(res);
	return exists;
}

/*
 * FinishPreparedTransactions commits (after a local commit) or rolls back
 * (after an abort) the transactions prepared at pre-commit.  It must not
 * fail: a node that cannot be reached keeps its prepared transaction, and
 * shardext_recover_transactions() finishes it by the recorded decision.
 */
static void
FinishPreparedTransactions(bool commit)
{
	ListCell   *lc;

	HOLD_INTERRUPTS();
	if (commit && ShardextDebugCommitPreparedDelay > 0 &&
		OpenNodeConnections() != NIL)
		pg_usleep(ShardextDebugCommitPreparedDelay * 1000L);
	foreach(lc, OpenNodeConnections())
	{
		NodeConnection *nc = lfirst(lc);
		char	   *sql;

		if (nc->preparedGid[0] == '\0')
			continue;
		sql = psprintf("%s PREPARED %s", commit ? "COMMIT" : "ROLLBACK",
					   quote_literal_cstr(nc->preparedGid));
		if (RemoteExecuteQuietly(nc, sql))
		{
			if (commit)
			{
				MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

				FinishedGids = lappend(FinishedGids, pstrdup(nc->preparedGid));
				MemoryContextSwitchTo(old);
			}
		}
		else if (!RemotePreparedTransactionExists(nc, nc->preparedGid))
		{
			/*
			 * Gone: for a rollback, its PREPARE failed or never ran; for a
			 * commit, recovery (the maintenance worker, after a commit that
			 * took long) finished it already — by the committed decision.
			 */
		}
		else
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("prepared transaction %s on node %s may be left %s",
							nc->preparedGid, nc->label,
							commit ? "to commit" : "to roll back"),
					 errdetail("The node did not answer within shardext.connect_timeout, or "
							   "the connection failed (the node may not even have prepared "
							   "it). The decision is recorded: recovery finishes it."),
					 errhint("The maintenance worker runs shardext_recover_transactions() "
							 "every shardext.recovery_interval; run it yourself once "
							 "the node is reachable to finish sooner.")));
			nc->broken = true;
		}
		nc->preparedGid[0] = '\0';
	}
	RESUME_INTERRUPTS();
}

/*
 * ForgetTransactionState ends what lasts as long as a transaction: the
 * remote-transaction flag, plans made under a SET LOCAL style, the
 * deadlock watch's connections.
 */
static void
ForgetTransactionState(void)
{
	RemoteTransactionOpened = false;
	CopiesChangedHere = NULL;
	ConstraintModes = NIL;
	ForgetPlansOfLocalStyles(true);
	EndDeadlockWatch();
}

/*
 * ForgetPlansOfOtherStyles drops this backend's cached plans (prepared
 * statements, PL/pgSQL) when how values are written as text (DateStyle,
 * IntervalStyle, extra_float_digits) is no longer what it was when they
 * were made: which expressions a node may compute depends on it
 * (WritesInSessionStyle), and a plan made under the old style would have a
 * node write text in the wrong form.  It is called at every planning,
 * after every SET or RESET and at the end of every executor run
 * (set_config() changes the styles too, in a query).
 */
void
ForgetPlansOfOtherStyles(void)
{
	if (DateStyle == PlannedDateStyle && DateOrder == PlannedDateOrder &&
		IntervalStyle == PlannedIntervalStyle &&
		extra_float_digits == PlannedFloatDigits)
		return;
	if (PlannedDateStyle != -1)
	{
		ForgetStyledPlans();
		StyleChangedInTransaction = true;
	}
	PlannedDateStyle = DateStyle;
	PlannedDateOrder = DateOrder;
	PlannedIntervalStyle = IntervalStyle;
	PlannedFloatDigits = extra_float_digits;
}

/*
 * ForgetStyledPlans drops the cached plans (all of them: PostgreSQL has no
 * finer way) when one that sends values written as text in the nodes'
 * styles may be among them.
 */
static void
ForgetStyledPlans(void)
{
	if (PlansSendStyledValues)
	{
		ResetPlanCache();
		PlansSendStyledValues = false;
	}
}

/*
 * ForgetPlansOfLocalStyles drops the cached plans when a value style
 * changed in a transaction that ends (subtransaction: that aborts): a
 * rollback, or the end of a SET LOCAL, gives the old style back after this
 * callback, before any plan is made again.  The transaction's change stays
 * noted until the transaction ends.
 */
static void
ForgetPlansOfLocalStyles(bool transactionEnds)
{
	if (StyleChangedInTransaction)
	{
		ForgetStyledPlans();
		PlannedDateStyle = -1;
		if (transactionEnds)
			StyleChangedInTransaction = false;
	}
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
			DrainBusyConnections(false, true);
			CommitRemoteTransactions();
			return;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			ForgetTransactionState();
			DrainBusyConnections(true, true);
			FinishPreparedTransactions(false);
			connections = OpenNodeConnections();
			foreach(lc, connections)
			{
				NodeConnection *nc = lfirst(lc);

				if (nc->broken ||
					(nc->inTransaction && !RemoteExecuteQuietly(nc, "ROLLBACK")))
					ResetNodeConnection(nc);
				ForgetSessionSettings(nc);
				nc->inTransaction = false;
				nc->xactDepth = 0;
				nc->wroteInTransaction = false;
			}
			return;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			ForgetTransactionState();
			FinishPreparedTransactions(true);
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

/* one node's part of shardext_recover_transactions() */
typedef struct RecoverContext
{
	ShardextNode *node;
	List	  **stillPrepared;
	int			minAgeMs;
	int			finished;
} RecoverContext;

/* one prepared transaction found on a node by recovery */
typedef struct PreparedOnNode
{
	char	   *gid;
	TransactionId xid;
} PreparedOnNode;

/*
 * RecoverNode finishes the shardext transactions left prepared on one node:
 * committed when the coordinator recorded the commit, rolled back when the
 * coordinator's transaction ended without it.  Returns how many it
 * finished.
 */
static int
RecoverNode(ShardextNode *node, int minAgeMs, List **stillPrepared)
{
	NodeConnection nc;
	char	   *prefix = psprintf("shardext_" UINT64_FORMAT "_",
								  GetSystemIdentifier());
	List	   *committedGids = NIL;
	int			finished = 0;

	memset(&nc, 0, sizeof(nc));
	nc.nodeId = node->nodeId;
	nc.label = psprintf("%d (%s:%d)", node->nodeId, node->host, node->port);
	nc.conn = ConnectToNode(node);
	PG_TRY();
	{
		const char *params[2];
		PGresult   *res;
		List	   *prepared = NIL;
		ListCell   *lc;
		int			i;

		/* (those younger than minAgeMs, by the node's clock, are left) */
		params[0] = psprintf("%s%%", prefix);
		params[1] = psprintf("%d", minAgeMs);
		res = RemoteExecute(&nc, "SELECT gid, prepared > now() - make_interval(secs => $2::int / 1000.0) "
							"FROM pg_catalog.pg_prepared_xacts "
							"WHERE gid LIKE $1 AND database = current_database()",
							2, params);
		for (i = 0; i < PQntuples(res); i++)
		{
			PreparedOnNode *p = palloc0(sizeof(PreparedOnNode));
			uint64		fullXid;
			int			nodeId;

			p->gid = pstrdup(PQgetvalue(res, i, 0));
			if (sscanf(p->gid + strlen(prefix), UINT64_FORMAT "_%d",
					   &fullXid, &nodeId) != 2)
				continue;
			p->xid = XidFromFullTransactionId(FullTransactionIdFromU64(fullXid));
			if (strcmp(PQgetvalue(res, i, 1), "t") == 0)
			{
				*stillPrepared = lappend(*stillPrepared, p->gid);
				continue;
			}
			prepared = lappend(prepared, p);
		}
		PQclear(res);

		/*
		 * Leave alone the transactions whose coordinator transaction still
		 * runs; for the others, the decisions read afterwards are final.
		 */
		foreach(lc, prepared)
		{
			PreparedOnNode *p = lfirst(lc);

			if (TransactionIdIsInProgress(p->xid))
			{
				*stillPrepared = lappend(*stillPrepared, p->gid);
				p->gid = NULL;
			}
		}
		ScanCatalogTable("transactions", CollectGidCallback, &committedGids);

		foreach(lc, prepared)
		{
			PreparedOnNode *p = lfirst(lc);
			bool		committed = false;
			ListCell   *gidCell;

			if (p->gid == NULL)
				continue;
			foreach(gidCell, committedGids)
				if (strcmp(lfirst(gidCell), p->gid) == 0)
					committed = true;
			RemoteExecuteCommand(&nc, psprintf("%s PREPARED %s",
											   committed ? "COMMIT" : "ROLLBACK",
											   quote_literal_cstr(p->gid)));
			finished++;
		}
	}
	PG_FINALLY();
	{
		if (nc.waitSet != NULL)
			FreeWaitEventSet(nc.waitSet);
		CloseNodeConnection(nc.conn);
	}
	PG_END_TRY();
	return finished;
}

/* a row of shardext.transactions */
typedef struct DecisionRecord
{
	char	   *gid;
	int32		nodeId;
} DecisionRecord;

/* CollectRecordCallback collects the rows of shardext.transactions. */
static void
CollectRecordCallback(Datum *values, bool *nulls, void *arg)
{
	List	  **records = (List **) arg;
	DecisionRecord *record = palloc(sizeof(DecisionRecord));

	record->gid = TextDatumGetCString(values[0]);
	record->nodeId = DatumGetInt32(values[1]);
	*records = lappend(*records, record);
}

/* CollectGidCallback collects the gids of shardext.transactions. */
static void
CollectGidCallback(Datum *values, bool *nulls, void *arg)
{
	List	  **gids = (List **) arg;

	*gids = lappend(*gids, TextDatumGetCString(values[0]));
}

/*
 * TryInSubtransaction runs fn(arg) in a subtransaction and returns NULL
 * when it succeeded, else its error (the subtransaction rolled back, the
 * error state cleared), for the caller to report as it sees fit.
 */
ErrorData *
TryInSubtransaction(void (*fn) (void *arg), void *arg)
{
	MemoryContext oldContext = CurrentMemoryContext;
	ResourceOwner oldOwner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldContext);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldContext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldContext);
	CurrentResourceOwner = oldOwner;
	return edata;
}

/* RecoverNodeInSubtransaction is RecoverNode for TryInSubtransaction. */
static void
RecoverNodeInSubtransaction(void *arg)
{
	RecoverContext *context = (RecoverContext *) arg;

	context->finished = RecoverNode(context->node, context->minAgeMs,
									context->stillPrepared);
}

/*
 * shardext_recover_transactions() finishes the transactions that a failure
 * of a node or of the coordinator left prepared, by the decision recorded
 * on the coordinator, and forgets the decisions no longer needed.  Returns
 * the number of prepared transactions it finished.
 */
Datum
shardext_recover_transactions(PG_FUNCTION_ARGS)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function shardext_recover_transactions"),
				 errhint("Only a superuser can finish prepared transactions.")));
	PG_RETURN_INT32(ShardextRecoverTransactions(0));
}

/*
 * ShardextRecoverTransactions is shardext_recover_transactions for
 * transactions prepared at least minAgeMs ago (the maintenance worker
 * leaves younger ones to the backends committing them).
 */
int
ShardextRecoverTransactions(int minAgeMs)
{
	List	   *records = NIL;
	List	   *stillPrepared = NIL;
	List	   *reachedNodes = NIL;
	ListCell   *lc;
	int			finished = 0;

	/*
	 * The decisions that may be forgotten are read before the nodes: a
	 * decision committed later may be of a transaction whose PREPARE came
	 * after a node was read (it would look finished there).
	 */
	ScanCatalogTable("transactions", CollectRecordCallback, &records);

	foreach(lc, ShardextAllNodes())
	{
		RecoverContext context;
		ErrorData  *edata;

		context.node = lfirst(lc);
		context.stillPrepared = &stillPrepared;
		context.minAgeMs = minAgeMs;
		context.finished = 0;
		if (context.node->role == NODE_ROLE_REPLICA)
			continue;

		/* a node that cannot be reached keeps its transactions for later */
		edata = TryInSubtransaction(RecoverNodeInSubtransaction, &context);
		if (edata == NULL)
		{
			finished += context.finished;
			reachedNodes = lappend_int(reachedNodes, context.node->nodeId);
		}
		else
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("could not recover transactions on node %d (%s:%d): %s",
							context.node->nodeId, context.node->host,
							context.node->port, edata->message),
					 errhint("Run shardext_recover_transactions() again once the "
							 "node is reachable.")));
	}

	/*
	 * A decision is done with once its node was reached and no longer has
	 * the transaction prepared.
	 */
	foreach(lc, records)
	{
		DecisionRecord *record = lfirst(lc);
		Oid			argTypes[1] = {TEXTOID};
		Datum		args[1];
		ListCell   *gidCell;
		bool		pending = false;

		if (!list_member_int(reachedNodes, record->nodeId))
			continue;
		foreach(gidCell, stillPrepared)
			if (strcmp(lfirst(gidCell), record->gid) == 0)
				pending = true;
		if (pending)
			continue;
		args[0] = CStringGetTextDatum(record->gid);
		ExecuteCatalogSql("DELETE FROM shardext.transactions WHERE gid = $1",
						  1, argTypes, args, NULL);
	}
	return finished;
}

/*
 * ShardextSubXactCallback releases or rolls back the remote savepoints of
 * a subtransaction that ends.  What it allocates goes to a context of its
 * own, emptied each time: the subtransaction's CurTransactionContext, the
 * current one, is kept until the top transaction ends once anything was
 * allocated in it (8 kB per released savepoint).
 */
static void
ShardextSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	static MemoryContext endContext = NULL;
	MemoryContext old;

	if (event != SUBXACT_EVENT_PRE_COMMIT_SUB &&
		event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ForgetPlansOfLocalStyles(false);
	if (endContext == NULL)
		endContext = AllocSetContextCreate(TopMemoryContext,
										   "shardext subtransaction end",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(endContext);
	old = MemoryContextSwitchTo(endContext);
	EndRemoteSubTransactions(event);
	MemoryContextSwitchTo(old);
	MemoryContextReset(endContext);
}

/*
 * EndRemoteSubTransactions does the work of ShardextSubXactCallback.
 */
static void
EndRemoteSubTransactions(SubXactEvent event)
{
	int			currentLevel;
	ListCell   *lc;

	currentLevel = GetCurrentTransactionNestLevel();
	foreach(lc, ConstraintModes)
	{
		ConstraintMode *mode = lfirst(lc);

		if (mode->nestLevel < currentLevel)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
			ConstraintModes = foreach_delete_current(ConstraintModes, lc);
		else
			mode->nestLevel = currentLevel - 1;
	}
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ForgetPendingScans(currentLevel);
	DrainBusyConnections(event == SUBXACT_EVENT_ABORT_SUB, false);
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
			/* a COPY batch the aborted statement sent ahead ends first */
			if (!DiscardPendingCopy(nc) || !RemoteExecuteQuietly(nc, sql))
				CloseConnectionAtEndOfTransaction(nc);
			ForgetSessionSettings(nc);
		}
		nc->xactDepth = currentLevel - 1;
	}
}

/*
 * CheckCopyNotInLocalUse raises an error when this transaction holds a lock
 * on copyName, the coordinator's copy of table, from reading it locally
 * (planner.c): changing the copy through the coordinator's connection to
 * itself would wait for that lock forever.
 */
void
CheckCopyNotInLocalUse(Oid table, const char *copyName)
{
	Oid			copy = CoordinatorCopyRelid(copyName);
	char	   *name = OidIsValid(table) ? get_rel_name(table) : NULL;
	LOCKTAG		tag;

	if (!OidIsValid(copy))
		return;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, copy);
	if (!LockHeldByMe(&tag, AccessShareLock) && !LockHeldByMe(&tag, RowShareLock) &&
		!LockHeldByMe(&tag, RowExclusiveLock))
		return;

	/* the table's name, also when only the copy's is known */
	if (name == NULL)
	{
		ListCell   *lc;

		foreach(lc, ShardextAllTables())
		{
			ShardextTable *candidate = lfirst(lc);

			if (IsReferenceTable(candidate) &&
				strcmp(candidate->shards[0]->relationName, copyName) == 0)
				name = get_rel_name(candidate->relid);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("reference table \"%s\" was read from the coordinator's own copy in this transaction",
					name != NULL ? name : copyName),
			 errdetail("Changing its copies now would wait for this transaction's own lock on the copy."),
			 errhint("Change the table before reading it in the transaction, or in a transaction of its own.")));
}
