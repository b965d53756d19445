/*-------------------------------------------------------------------------
 *
 * remote_exec.c
 *	  Running statements on nodes.
 *
 * Statements are sent with libpq's asynchronous calls and the backend waits
 * on its latch, so a query cancel or a terminated node interrupts the wait
 * instead of hanging.  An interrupted connection is left in an unknown
 * state: it is marked broken and closed at the end of the transaction.
 *
 * Errors raised by a node are re-raised here with the node's SQLSTATE,
 * message, detail and hint, and a context line naming the node.  libpq
 * results are malloc'ed: every PGresult is cleared on every path.
 *
 * IDENTIFICATION
 *	  src/remote_exec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "pgtime.h"
#include "storage/proc.h"
#include "tsearch/ts_cache.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xml.h"

#include "shardext/deadlock.h"
#include "shardext/guc.h"
#include "shardext/metadata_cache.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/shard_ddl.h"

/* most statements prepared on one connection */
#define MAX_PREPARED_STATEMENTS 1000

/*
 * An entry of NodeConnection.statements, keyed by a hash of the statement
 * text; the text is kept to tell collisions apart.  Entries and their texts
 * live in the hash's memory context, freed with the connection.
 */
typedef struct PreparedStatement
{
	uint64		key;
	char	   *sql;
	int			id;				/* prepared as shardext_<id> */
	int			nParams;
	Oid		   *types;
} PreparedStatement;

/* how long a cancelled statement's end is waited for (ms) */
#define CANCEL_ANSWER_MS 2000

/* how long a statement's rest is read before it is cancelled instead (ms) */
#define DRAIN_BEFORE_CANCEL_MS 5

/*
 * The session settings sent to nodes: those that change how values are read
 * and written, lock_timeout (a lock wait on a node, e.g. in a deadlock that
 * spans nodes, ends as the session asked), and the nodes' parallel workers.
 */
static const char *const SessionSettingNames[SESSION_SETTING_COUNT] = {
	"TimeZone", "DateStyle", "IntervalStyle", "extra_float_digits",
	"bytea_output", "default_text_search_config", "xmloption", "xmlbinary",
	"lock_timeout", "timezone_abbreviations", "quote_all_identifiers",
	"max_parallel_workers_per_gather"	/* from shardext.node_parallel_workers */
};
#define PARALLEL_SETTING (SESSION_SETTING_COUNT - 1)
#define DATESTYLE_SETTING 1
#define INTERVALSTYLE_SETTING 2
#define EXTRA_FLOAT_DIGITS_SETTING 3

static void WaitForConnectionInput(NodeConnection *nc);
static bool DeadlockCheckHoldingCancel(NodeConnection *nc, bool firstCheck,
									   char **detail);
static void StopRemoteStatement(NodeConnection *nc);
static PGresult *ExecutePreparedOnce(NodeConnection *nc, const char *sql,
									 int nParams, const Oid *paramTypes,
									 const char *const *paramValues);
static PGresult *ExecuteStatementTyped(NodeConnection *nc, const char *sql, int nParams,
									   const Oid *paramTypes,
									   const char *const *paramValues);
static bool UserReadsTable(const char *schema, const char *table);
static void SyncReplicationRole(NodeConnection *nc);
static void ReportRemoteErrorContext(NodeConnection *nc, PGresult *res,
									 const char *context) pg_attribute_noreturn();
static void ForgetCopyLines(NodeConnection *nc);
static char *CopyInputLineContext(NodeConnection *nc, PGresult *res);
static void CancelRemoteStatement(NodeConnection *nc);
static bool ReadRemainingResults(NodeConnection *nc, TimestampTz deadline);
static bool ReadResultsUntil(NodeConnection *nc, TimestampTz deadline,
							 PGresult **last, bool evenWhenExiting);
static void SyncSessionSettings(NodeConnection *nc);
static const char *ExactSettingValue(int i);
static void ForgetStaleStatements(NodeConnection *nc);
static const char *NodeParallelWorkers(int32 nodeId);
static void ServeInterruptsKeepingConnection(NodeConnection *nc);
static char *LogicalNames(const char *message);
static bool AppendLogicalName(StringInfo buf, const char *start,
							  const char *end);
static char *LogicalName(const char *name);
static int	ScanIdentifier(const char *p, char **name);
static char *CoordinatorTypeNames(const char *message);
static char *CoordinatorTypeName(char *message, const char *schema,
								 const char *datatype);
static void ReportConnectionFailure(NodeConnection *nc) pg_attribute_noreturn();
static void LogRemoteCommandWithParams(NodeConnection *nc, const char *sql,
									   int nParams,
									   const char *const *paramValues);

/*
 * LogRemoteCommand shows a statement sent to a node when
 * shardext.log_remote_commands is on.
 */
void
LogRemoteCommand(NodeConnection *nc, const char *sql)
{
	LogRemoteCommandWithParams(nc, sql, 0, NULL);
}

/*
 * LogRemoteCommandWithParams is LogRemoteCommand for a statement with text
 * parameters: the detail shows their values too, quoted as literals.
 */
static void
LogRemoteCommandWithParams(NodeConnection *nc, const char *sql, int nParams,
						   const char *const *paramValues)
{
	StringInfoData values;
	int			i;

	if (!ShardextLogRemoteCommands)
		return;
	if (nParams == 0 || paramValues == NULL)
	{
		ereport(NOTICE,
				(errmsg("issuing %s", sql),
				 errdetail("on node %s", nc->label)));
		return;
	}
	initStringInfo(&values);
	for (i = 0; i < nParams; i++)
		appendStringInfo(&values, "%s$%d = %s", i > 0 ? ", " : "", i + 1,
						 paramValues[i] == NULL ? "NULL" :
						 quote_literal_cstr(paramValues[i]));
	ereport(NOTICE,
			(errmsg("issuing %s", sql),
			 errdetail("on node %s, parameters: %s", nc->label, values.data)));
}

/*
 * ReportConnectionFailure raises the error for a connection that failed,
 * marking it broken.
 */
static void
ReportConnectionFailure(NodeConnection *nc)
{
	char	   *message = pchomp(PQerrorMessage(nc->conn));
	bool		inTransaction = nc->inTransaction;

	/* refused before anything was sent (too many parameters, say) */
	if (PQstatus(nc->conn) == CONNECTION_OK && !PQisBusy(nc->conn))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("could not send the statement to node %s", nc->label),
				 errdetail_internal("%s", message),
				 errhint("Nothing reached the node; a statement sent to a node takes at most "
						 "65535 parameters.")));
	CloseConnectionAtEndOfTransaction(nc);
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("lost connection to node %s", nc->label),
			 errdetail_internal("%s", message),
			 inTransaction ?
			 errhint("Check that the node is running; roll back the transaction "
					 "(its work on that node is lost) and retry it once the node is back.") :
			 errhint("Check that the node is running; the statement can be "
					 "retried once it is back.")));
}

/*
 * SendRemoteQuery sends a statement with text parameters, without waiting
 * for its result.
 */
void
SendRemoteQuery(NodeConnection *nc, const char *sql, int nParams,
				const char *const *paramValues)
{
	SendRemoteQueryTyped(nc, sql, nParams, NULL, paramValues);
}

/*
 * SendRemoteQueryTyped sends a statement with text parameters of the given
 * types (0: let the node infer it), without waiting for its result.
 */
void
SendRemoteQueryTyped(NodeConnection *nc, const char *sql, int nParams,
					 const Oid *paramTypes, const char *const *paramValues)
{
	FinishPendingCopy(nc);
	SyncSessionSettings(nc);
	LogRemoteCommandWithParams(nc, sql, nParams, paramValues);
	if (!PQsendQueryParams(nc->conn, sql, nParams, paramTypes, paramValues,
						   NULL, NULL, 0))
		ReportConnectionFailure(nc);
}

/*
 * SendRemoteQueryStreaming sends a statement like SendRemoteQueryTyped, its
 * rows to be read one at a time with GetRemoteRow: the coordinator holds
 * one row (and libpq's input buffer), whatever the size of the result.
 */
void
SendRemoteQueryStreaming(NodeConnection *nc, const char *sql, int nParams,
						 const Oid *paramTypes, const char *const *paramValues)
{
	SendRemoteQueryTyped(nc, sql, nParams, paramTypes, paramValues);
	if (!PQsetSingleRowMode(nc->conn))
		elog(ERROR, "could not read the result of node %s row by row", nc->label);
}

/*
 * RemoteRowReady tells, reading what has arrived without waiting, whether
 * GetRemoteRow would return at once.
 */
bool
RemoteRowReady(NodeConnection *nc)
{
	if (!PQisBusy(nc->conn))
		return true;
	if (!PQconsumeInput(nc->conn))
		ReportConnectionFailure(nc);
	return !PQisBusy(nc->conn);
}

/*
 * GetRemoteRow returns the next row of a statement sent with
 * SendRemoteQueryStreaming, as a one-row PGresult the caller clears, or
 * NULL after the last row; a failed statement raises its error.
 */
PGresult *
GetRemoteRow(NodeConnection *nc)
{
	PGresult   *res;

	WaitForConnectionInput(nc);
	res = PQgetResult(nc->conn);
	if (res == NULL)
		return NULL;
	switch (PQresultStatus(res))
	{
		case PGRES_SINGLE_TUPLE:
			return res;
		case PGRES_TUPLES_OK:
			/* the end of the rows; then the end of the statement */
			PQclear(res);
			WaitForConnectionInput(nc);
			res = PQgetResult(nc->conn);
			if (res != NULL)
			{
				PQclear(res);
				elog(ERROR, "unexpected result after the rows of node %s", nc->label);
			}
			return NULL;
		default:
			/* an error: read up to the end of the statement, then raise it */
			for (;;)
			{
				PGresult   *next;

				WaitForConnectionInput(nc);
				next = PQgetResult(nc->conn);
				if (next == NULL)
					break;
				PQclear(next);
			}
			ReportRemoteError(nc, res);
	}
	return NULL;					/* keep compiler quiet */
}

/*
 * NodeParallelWorkers returns what max_parallel_workers_per_gather statements
 * on a node get, as SQL: shardext.node_parallel_workers, or with -1, 0 on a
 * node that shares its host with another node (the nodes of a multi-shard
 * statement already keep its cores busy, and parallel workers would only
 * compete with them), else the node's own setting.
 */
static const char *
NodeParallelWorkers(int32 nodeId)
{
	ShardextNode *node;

	if (ShardextNodeParallelWorkers >= 0)
		return psprintf("%d", ShardextNodeParallelWorkers);
	node = ShardextGetNode(nodeId, true);
	return (node != NULL && node->sharesHost) ? "0" : "DEFAULT";
}

/*
 * ExactSettingValue returns the value of session setting i for the nodes:
 * the session's, except for the output formats of values, which are those
 * in which values cross exactly both ways (ExactOutputFunctionCall writes
 * the coordinator's so): extra_float_digits at least 1 (floats with all
 * their digits), DateStyle ISO with the session's field order (time zones
 * as numeric offsets: the abbreviations other styles print, IST or CST,
 * are read through timezone_abbreviations, not as the session's zone), and
 * IntervalStyle postgres (sql_standard's signs read differently).
 */
static const char *
ExactSettingValue(int i)
{
	if (i == EXTRA_FLOAT_DIGITS_SETTING && extra_float_digits < 1)
		return "1";
	if (i == DATESTYLE_SETTING)
		return DateOrder == DATEORDER_DMY ? "ISO, DMY" :
			DateOrder == DATEORDER_YMD ? "ISO, YMD" : "ISO, MDY";
	if (i == INTERVALSTYLE_SETTING)
		return "postgres";
	return GetConfigOption(SessionSettingNames[i], false, false);
}

/*
 * SyncReplicationRole gives the node session_replication_role as the
 * coordinator's session has it.
 */
static void
SyncReplicationRole(NodeConnection *nc)
{
	const char *value;
	char	   *sql;
	PGresult   *res;

	switch (SessionReplicationRole)
	{
		case SESSION_REPLICATION_ROLE_REPLICA:
			value = "replica";
			break;
		case SESSION_REPLICATION_ROLE_LOCAL:
			value = "local";
			break;
		default:
			value = "origin";
			break;
	}
	sql = psprintf("SET session_replication_role = %s", value);
	LogRemoteCommand(nc, sql);
	if (!PQsendQuery(nc->conn, sql))
		ReportConnectionFailure(nc);
	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ReportRemoteErrorContext(nc, res,
								 psprintf("giving the node this session's session_replication_role "
										  "(%s), which the role of the user mapping must be "
										  "allowed to set there too", value));
	PQclear(res);
	nc->replicationRole = SessionReplicationRole;
}

/*
 * SyncSessionSettings sends the session's settings that change how values
 * are read, written and computed (TimeZone, DateStyle, IntervalStyle,
 * extra_float_digits, bytea_output, default_text_search_config, xmloption,
 * xmlbinary, timezone_abbreviations, quote_all_identifiers, the value
 * formats as ExactSettingValue
 * gives them; lock_timeout; and max_parallel_workers_per_gather, see
 * NodeParallelWorkers)
 * to the node when they differ from what the connection was last given, so that the node reads and writes values (parameters, results, COPY
 * data, casts to text, now()::date, to_tsvector(text)) as the coordinator's
 * session does.  Costs a few string comparisons when nothing changed.
 */
static void
SyncSessionSettings(NodeConnection *nc)
{
	const char *values[lengthof(SessionSettingNames)];
	StringInfoData sql;
	PGresult   *res;
	bool		same = true;
	SettingsFingerprint fingerprint;
	int			i;

	/*
	 * session_replication_role = replica (a superuser's data load, a
	 * replication tool) keeps the nodes' foreign key checks from firing, as
	 * the coordinator's.  Sent only when it is not the default, or was not
	 * before: setting it needs a superuser on the node as here.
	 */
	if (unlikely(SessionReplicationRole != nc->replicationRole))
		SyncReplicationRole(nc);

	/* nothing the settings depend on changed since they were sent */
	memset(&fingerprint, 0, sizeof(fingerprint));
	fingerprint.timezone = session_timezone;
	fingerprint.textSearchConfig = TSCurrentConfig;
	fingerprint.abbreviations = GetConfigOption("timezone_abbreviations", false, false);
	fingerprint.node = (ShardextNodeParallelWorkers >= 0) ? NULL :
		ShardextGetNode(nc->nodeId, true);
	fingerprint.dateStyle = DateStyle;
	fingerprint.dateOrder = DateOrder;
	fingerprint.intervalStyle = IntervalStyle;
	fingerprint.floatDigits = extra_float_digits;
	fingerprint.byteaOutput = bytea_output;
	fingerprint.xmlOption = xmloption;
	fingerprint.xmlBinary = xmlbinary;
	fingerprint.lockTimeout = LockTimeout;
	fingerprint.quoteAllIdentifiers = quote_all_identifiers;
	fingerprint.nodeParallelWorkers = ShardextNodeParallelWorkers;
	if (nc->settings[0] != NULL &&
		memcmp(&fingerprint, &nc->fingerprint, sizeof(fingerprint)) == 0)
		return;

	/*
	 * GetConfigOption returns integer settings in a buffer it reuses: each
	 * value is compared before the next is read (and copied when sent).
	 */
	for (i = 0; i < lengthof(SessionSettingNames) && same; i++)
	{
		const char *value = (i == PARALLEL_SETTING) ?
			NodeParallelWorkers(nc->nodeId) : ExactSettingValue(i);

		if (nc->settings[i] == NULL || strcmp(nc->settings[i], value) != 0)
			same = false;
	}
	if (same)
	{
		nc->fingerprint = fingerprint;
		return;
	}
	for (i = 0; i < lengthof(SessionSettingNames); i++)
		values[i] = (i == PARALLEL_SETTING) ?
			NodeParallelWorkers(nc->nodeId) :
			pstrdup(ExactSettingValue(i));

	initStringInfo(&sql);
	for (i = 0; i < lengthof(SessionSettingNames); i++)
		appendStringInfo(&sql, "%sSET %s = %s", i > 0 ? "; " : "",
						 SessionSettingNames[i],
						 i == PARALLEL_SETTING ? values[i] :
						 quote_literal_cstr(values[i]));
	LogRemoteCommand(nc, sql.data);
	if (!PQsendQuery(nc->conn, sql.data))
		ReportConnectionFailure(nc);
	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ReportRemoteError(nc, res);
	PQclear(res);

	ForgetSessionSettings(nc);
	for (i = 0; i < lengthof(SessionSettingNames); i++)
		nc->settings[i] = MemoryContextStrdup(TopMemoryContext, values[i]);
	nc->fingerprint = fingerprint;
}

/*
 * LogicalNames returns a node's message with the quoted names of shards and
 * of their indexes and constraints replaced by the coordinator's names
 * ("items_pkey_100004" becomes "items_pkey"), and the shard's name in
 * "permission denied for table <shard>", so that errors read as on plain
 * PostgreSQL.
 */
static char *
LogicalNames(const char *message)
{
	StringInfoData buf;
	const char *p = message;
	static const char *const unquoted = "permission denied for table ";

	initStringInfo(&buf);

	/* the one common message that names a table without quotes */
	if (strncmp(message, unquoted, strlen(unquoted)) == 0)
	{
		const char *name = message + strlen(unquoted);
		const char *underscore = strrchr(name, '_');
		ShardextTable *table;
		int64		shardId;
		char	   *end;

		if (underscore != NULL && isdigit((unsigned char) underscore[1]) &&
			(shardId = strtoi64(underscore + 1, &end, 10)) > 0 && *end == '\0' &&
			ShardextGetShard(shardId, &table) != NULL)
		{
			appendStringInfo(&buf, "%s%s", unquoted, get_rel_name(table->relid));
			return buf.data;
		}
	}
	while (*p != '\0')
	{
		const char *end;

		if (*p != '"' || strchr(p + 1, '"') == NULL)
		{
			appendStringInfoChar(&buf, *p++);
			continue;
		}

		/*
		 * A quoted name ends at a later quote; names are quoted as they are,
		 * so one with a quote in it ends at one of the quotes after it: the
		 * first that closes a shard's name.
		 */
		for (end = strchr(p + 1, '"'); end != NULL; end = strchr(end + 1, '"'))
			if (AppendLogicalName(&buf, p, end))
				break;
		if (end != NULL)
		{
			p = end + 1;
			continue;
		}
		end = strchr(p + 1, '"');
		appendBinaryStringInfo(&buf, p, end - p + 1);
		p = end + 1;
	}
	return buf.data;
}

/*
 * AppendLogicalName appends, when the text from the quote at start to the
 * quote at end names a shard's table, index or constraint ("schema.name" or
 * "name", ending in _shardid), the coordinator's name of it, quoted, and
 * returns true; else false.  A quoted word that only looks like one (a
 * value in a failing row, a name of the user's ending in digits) is not.
 */
static bool
AppendLogicalName(StringInfo buf, const char *start, const char *end)
{
	const char *underscore = end - 1;
	int64		shardId;
	ShardextTable *table;
	char	   *quoted;
	char	   *dot = NULL;
	char	   *logical;

	while (underscore > start && isdigit((unsigned char) *underscore))
		underscore--;
	if (*underscore != '_' || end - underscore <= 1 || end - underscore >= 20)
		return false;
	shardId = strtoi64(underscore + 1, NULL, 10);
	if (ShardextGetShard(shardId, &table) == NULL)
		return false;

	/* the name, or one qualified by its table's schema: schema.shard */
	quoted = pnstrdup(start + 1, end - start - 1);
	logical = LogicalObjectName(table->relid, shardId, quoted);
	if (logical == NULL && (dot = strrchr(quoted, '.')) != NULL)
	{
		char	   *schema = get_namespace_name(get_rel_namespace(table->relid));

		if (schema != NULL && strlen(schema) == (size_t) (dot - quoted) &&
			strncmp(quoted, schema, dot - quoted) == 0)
			logical = LogicalObjectName(table->relid, shardId, dot + 1);
	}
	if (logical == NULL)
		return false;
	appendStringInfo(buf, "\"%.*s%s\"",
					 dot != NULL ? (int) (dot - quoted + 1) : 0,
					 quoted, logical);
	return true;
}

/*
 * CancelRemoteStatement asks the node to cancel the statement running on
 * the connection; failures are ignored (the connection is dropped anyway).
 */
static void
CancelRemoteStatement(NodeConnection *nc)
{
	PGcancel   *cancel = PQgetCancel(nc->conn);
	char		errbuf[256];

	if (cancel == NULL)
		return;
	(void) PQcancel(cancel, errbuf, sizeof(errbuf));
	PQfreeCancel(cancel);
}

/*
 * DrainConnection reads and discards what remains of a statement sent on
 * the connection whose result nobody will read (a scan that stopped early,
 * a statement on one node interrupted by another node's error); when
 * cancel is set and the rest does not come within DRAIN_BEFORE_CANCEL_MS,
 * it asks the node to cancel the statement.  It waits at most
 * shardext.connect_timeout and does not serve interrupts (it runs while a
 * transaction ends).  Returns false when the connection is left in an
 * unknown state, or, unless cancel, when the statement failed inside the
 * remote transaction (which can then no longer commit).
 */
bool
DrainConnection(NodeConnection *nc, bool cancel)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz deadline = TimestampTzPlusMilliseconds(now,
													   ShardextConnectTimeout * 1000L);

	/*
	 * A short rest is read rather than cancelled: a cancel request opens a
	 * connection of its own, which costs more than a few rows.
	 */
	/*
	 * A backend told to exit waits too (the wait is bounded): the statement
	 * may be a PREPARE TRANSACTION whose prepared transaction the abort must
	 * then roll back, rather than leave it, with its locks, to recovery.
	 */
	if (cancel)
	{
		if (ReadResultsUntil(nc, TimestampTzPlusMilliseconds(now, DRAIN_BEFORE_CANCEL_MS),
							 NULL, true))
			return true;
		CancelRemoteStatement(nc);
	}
	if (!ReadResultsUntil(nc, deadline, NULL, true))
		return false;
	return cancel || PQtransactionStatus(nc->conn) != PQTRANS_INERROR;
}

/*
 * ReadRemainingResults reads and discards the results of the statement
 * running on the connection until its end, or until deadline; returns
 * whether the end came (false too when the connection failed or a COPY
 * started).
 */
static bool
ReadRemainingResults(NodeConnection *nc, TimestampTz deadline)
{
	return ReadResultsUntil(nc, deadline, NULL, false);
}

/*
 * ReadResultsUntil is ReadRemainingResults keeping, when last is not NULL,
 * the last result in *last (NULL when none came; the caller clears it).
 * evenWhenExiting: a backend told to exit waits too (until deadline).
 */
static bool
ReadResultsUntil(NodeConnection *nc, TimestampTz deadline, PGresult **last,
				 bool evenWhenExiting)
{
	if (last != NULL)
		*last = NULL;
	for (;;)
	{
		PGresult   *res;

		while (PQisBusy(nc->conn))
		{
			long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																  deadline);
			int			rc;

			if (timeout <= 0)
				return false;
			/* a backend told to exit does not wait, unless asked to */
			if (ProcDiePending && !evenWhenExiting)
				return false;
			rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE |
								   WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								   PQsocket(nc->conn), timeout, PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
				ResetLatch(MyLatch);
			if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(nc->conn))
				return false;
		}
		res = PQgetResult(nc->conn);
		if (res == NULL)
			return true;
		if (PQresultStatus(res) == PGRES_COPY_IN ||
			PQresultStatus(res) == PGRES_COPY_OUT ||
			PQresultStatus(res) == PGRES_COPY_BOTH)
		{
			PQclear(res);
			return false;
		}
		if (last != NULL)
		{
			PQclear(*last);
			*last = res;
		}
		else
			PQclear(res);
	}
}

/*
 * StopRemoteStatement asks the node to cancel the statement running on a
 * connection (it may be waiting for a lock) and, unless the backend is to
 * exit, reads how it ended (briefly): the connection then serves what
 * follows, such as the ROLLBACK TO SAVEPOINT of a subtransaction that
 * catches the error that follows.  A node that does not answer in time
 * leaves it in an unknown state: it is not reused.
 */
static void
StopRemoteStatement(NodeConnection *nc)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   CANCEL_ANSWER_MS);

	CancelRemoteStatement(nc);
	if (ProcDiePending || !ReadRemainingResults(nc, deadline))
		CloseConnectionAtEndOfTransaction(nc);
}

/*
 * DeadlockCheckHoldingCancel runs DistributedDeadlockVictim with query
 * cancels held off: a cancel (statement_timeout) that comes during the check
 * is served by the wait afterwards (the latch is set again), which decides
 * how a write that is its node's whole transaction ended; raised inside the
 * check it would skip that.
 */
static bool
DeadlockCheckHoldingCancel(NodeConnection *nc, bool firstCheck, char **detail)
{
	bool		victim;

	HOLD_CANCEL_INTERRUPTS();
	PG_TRY();
	{
		victim = DistributedDeadlockVictim(nc, firstCheck, detail);
	}
	PG_FINALLY();
	{
		RESUME_CANCEL_INTERRUPTS();
	}
	PG_END_TRY();
	if (QueryCancelPending)
		SetLatch(MyLatch);
	return victim;
}

/*
 * WaitForConnectionInput waits until a result can be read from the
 * connection without blocking, serving interrupts meanwhile.
 */
static void
WaitForConnectionInput(NodeConnection *nc)
{
	TimestampTz checkAt = 0;
	TimestampTz cancelDeadline = 0;
	int			cancelsSent = 0;
	bool		watched = false;

	if (!PQisBusy(nc->conn))
		return;

	/* one wait event set per connection, kept: no epoll set per wait */
	if (nc->waitSet == NULL)
	{
		nc->waitSet = CreateWaitEventSet(TopMemoryContext, 3);
		AddWaitEventToSet(nc->waitSet, WL_LATCH_SET, PGINVALID_SOCKET,
						  MyLatch, NULL);
		AddWaitEventToSet(nc->waitSet, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET,
						  NULL, NULL);
		AddWaitEventToSet(nc->waitSet, WL_SOCKET_READABLE, PQsocket(nc->conn),
						  NULL, NULL);
	}

	while (PQisBusy(nc->conn))
	{
		WaitEvent	event;
		char	   *detail;
		long		timeout = DeadlockTimeout;

		/*
		 * Every deadlock_timeout of waiting, look for a deadlock across the
		 * nodes (deadlock.c).  The time of the next check is taken at the
		 * first wakeup that is not the answer, so that interrupts do not
		 * put the check off (and the fast path reads no clock).
		 */
		if (nc->cancelSent)
			timeout = Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														  cancelDeadline), 0);
		else if (checkAt != 0)
			timeout = Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														  checkAt), 0);
		if (WaitEventSetWait(nc->waitSet, timeout, &event, 1,
							 PG_WAIT_EXTENSION) == 0)
		{
			bool		first = !watched;

			/*
			 * A cancelled write the node has not ended yet (it may be
			 * catching cancels): asked again, up to three times; after
			 * that its outcome is unknown, and the cancel is raised.
			 */
			if (nc->cancelSent)
			{
				if (++cancelsSent < 3)
				{
					CancelRemoteStatement(nc);
					cancelDeadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
																 CANCEL_ANSWER_MS);
					continue;
				}
				nc->cancelSent = false;
				StopRemoteStatement(nc);
				CHECK_FOR_INTERRUPTS();
				continue;
			}

			checkAt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  DeadlockTimeout);
			watched = true;
			if (DeadlockCheckHoldingCancel(nc, first, &detail))
			{
				EndDeadlockWatch();
				StopRemoteStatement(nc);
				ereport(ERROR,
						(errcode(ERRCODE_T_R_DEADLOCK_DETECTED),
						 errmsg("deadlock detected"),
						 errdetail_internal("%s", detail),
						 errhint("The transactions waited for each other across nodes, "
								 "where no single server could see it; retry the transaction.")));
			}
			continue;
		}
		if (event.events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			if (checkAt == 0)
				checkAt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													  DeadlockTimeout);
			if (nc->cancelSent && !ProcDiePending)
				continue;		/* waiting for how the cancelled write ended */
			if (InterruptPending && QueryCancelPending && !ProcDiePending &&
				nc->writeSent && !nc->inTransaction && !nc->cancelSent)
			{
				/*
				 * A write that is its node's whole transaction: the node is
				 * asked to cancel it, and how it ended decides what is
				 * reported (GetRemoteResult) — one that finished anyway is
				 * committed there, and is reported done, as PostgreSQL
				 * reports a statement the cancel came too late for.
				 */
				CancelRemoteStatement(nc);
				nc->cancelSent = true;
				cancelsSent = 1;
				cancelDeadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															 CANCEL_ANSWER_MS);
				continue;
			}
			nc->cancelSent = false;
			if (InterruptPending && (QueryCancelPending || ProcDiePending))
				StopRemoteStatement(nc);
			CHECK_FOR_INTERRUPTS();
		}
		if (event.events & WL_SOCKET_READABLE)
		{
			if (!PQconsumeInput(nc->conn))
				ReportConnectionFailure(nc);
		}
	}
	if (watched)
		EndDeadlockWatch();
}

/*
 * GetRemoteResult waits for the result of the statement sent last and
 * returns it: the last result, or the first one that starts a COPY.  The
 * caller clears it.
 */
PGresult   *
GetRemoteResult(NodeConnection *nc)
{
	PGresult   *volatile last = NULL;

	PG_TRY();
	{
		for (;;)
		{
			PGresult   *res;
			ExecStatusType status;

			WaitForConnectionInput(nc);
			res = PQgetResult(nc->conn);
			if (res == NULL)
				break;
			status = PQresultStatus(res);
			if (last != NULL)
			{
				/* keep the first error of a statement rather than later ones */
				if (PQresultStatus(last) == PGRES_FATAL_ERROR)
				{
					PQclear(res);
					continue;
				}
				PQclear(last);
			}
			last = res;
			if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT ||
				status == PGRES_COPY_BOTH)
				break;
		}
	}
	PG_CATCH();
	{
		if (last != NULL)
			PQclear(last);
		nc->cancelSent = false;
		nc->writeSent = false;
		PG_RE_THROW();
	}
	PG_END_TRY();

	nc->writeSent = false;
	/* a write cancelled while it ran (WaitForConnectionInput) */
	if (nc->cancelSent)
	{
		nc->cancelSent = false;
		if (last != NULL && (PQresultStatus(last) == PGRES_COMMAND_OK ||
							 PQresultStatus(last) == PGRES_TUPLES_OK))
			QueryCancelPending = false; /* it finished, and is committed */
		else if (InterruptPending && QueryCancelPending)
		{
			if (last != NULL)
				PQclear(last);
			CHECK_FOR_INTERRUPTS();
			last = NULL;
		}
	}
	if (last == NULL)
		ReportConnectionFailure(nc);
	return last;
}

/*
 * SendRemoteStatements sends several statements separated by semicolons
 * (no parameters) in one message, without waiting for their results.
 */
void
SendRemoteStatements(NodeConnection *nc, const char *sql)
{
	FinishPendingCopy(nc);
	SyncSessionSettings(nc);
	LogRemoteCommand(nc, sql);
	if (!PQsendQuery(nc->conn, sql))
		ReportConnectionFailure(nc);
}

/*
 * GetRemoteResults waits for every result of the statements sent last and
 * returns them, in order; the first error is raised once all are read.  The
 * caller clears the results.
 */
List *
GetRemoteResults(NodeConnection *nc)
{
	List	   *results = NIL;
	PGresult   *error = NULL;
	PGresult   *res;
	ListCell   *lc;

	/* read every result, so that the connection is idle again */
	for (;;)
	{
		WaitForConnectionInput(nc);
		res = PQgetResult(nc->conn);
		if (res == NULL)
			break;
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
			PQresultStatus(res) != PGRES_TUPLES_OK && error == NULL)
			error = res;
		else
			results = lappend(results, res);
	}
	if (error != NULL)
	{
		foreach(lc, results)
			PQclear(lfirst(lc));
		ReportRemoteError(nc, error);
	}
	return results;
}

/*
 * ReportRemoteError re-raises the error in res (which it clears) as if it
 * were local, naming the node in the context.
 */
void
ReportRemoteError(NodeConnection *nc, PGresult *res)
{
	ReportRemoteErrorContext(nc, res, NULL);
}

/*
 * ReportRemoteErrorContext is ReportRemoteError with a context line of our
 * own (when not NULL) before the node's.
 */
static void
ReportRemoteErrorContext(NodeConnection *nc, PGresult *res, const char *context)
{
	char	   *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	char	   *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char	   *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	char	   *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	char	   *schema = PQresultErrorField(res, PG_DIAG_SCHEMA_NAME);
	char	   *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	char	   *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
	char	   *datatype = PQresultErrorField(res, PG_DIAG_DATATYPE_NAME);
	char	   *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	char	   *rawPrimary;
	int			code = ERRCODE_CONNECTION_FAILURE;

	/* the object fields name the coordinator's objects, as messages do */
	schema = schema ? pstrdup(schema) : NULL;
	table = table ? LogicalName(table) : NULL;
	column = column ? pstrdup(column) : NULL;
	datatype = datatype ? pstrdup(datatype) : NULL;
	constraint = constraint ? LogicalName(constraint) : NULL;
	if (sqlstate != NULL && strlen(sqlstate) == 5)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
							 sqlstate[3], sqlstate[4]);
	rawPrimary = primary ? pstrdup(primary) : NULL;
	primary = primary ? LogicalNames(primary) : pchomp(PQerrorMessage(nc->conn));
	detail = detail ? LogicalNames(detail) : NULL;

	/*
	 * A shard's table the node does not have reads as the coordinator's
	 * table missing: say which shard it is, and what to do.
	 */
	if (code == ERRCODE_UNDEFINED_TABLE && rawPrimary != NULL &&
		strcmp(rawPrimary, primary) != 0 && detail == NULL && hint == NULL)
	{
		detail = psprintf("The node has no table for a shard: %s.", rawPrimary);
		hint = "The shard's table was dropped on the node, or the node's database was "
			"restored without it; restore it from a backup of the node.";
	}
	if (schema != NULL && datatype != NULL && IsTransactionState())
		primary = CoordinatorTypeName(primary, schema, datatype);
	/* (details hold the rows' values: they stay as they are) */
	if (IsTransactionState())
		primary = CoordinatorTypeNames(primary);
	if (detail != NULL && ERRCODE_TO_CATEGORY(code) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION &&
		schema != NULL && table != NULL && IsTransactionState() &&
		!UserReadsTable(schema, table))
		detail = NULL;
	hint = hint ? pstrdup(hint) : NULL;
	PQclear(res);
	if (PQstatus(nc->conn) != CONNECTION_OK)
		CloseConnectionAtEndOfTransaction(nc);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", primary),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 schema ? err_generic_string(PG_DIAG_SCHEMA_NAME, schema) : 0,
			 table ? err_generic_string(PG_DIAG_TABLE_NAME, table) : 0,
			 column ? err_generic_string(PG_DIAG_COLUMN_NAME, column) : 0,
			 datatype ? err_generic_string(PG_DIAG_DATATYPE_NAME, datatype) : 0,
			 constraint ? err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint) : 0,
			 context ? errcontext("%s", context) : 0,
			 errcontext("while executing on node %s", nc->label)));
}

/*
 * UserReadsTable tells whether the current user may read every column of
 * the coordinator's table schema.table.  A constraint violation's DETAIL
 * shows the failing row's or key's values as the node's user may see them;
 * PostgreSQL shows them only to a user allowed to read them, and a user
 * without SELECT on the table gets the error without its DETAIL.
 */
static bool
UserReadsTable(const char *schema, const char *table)
{
	Oid			namespaceId = get_namespace_oid(schema, true);
	Oid			relid;

	if (!OidIsValid(namespaceId))
		return true;
	relid = get_relname_relid(table, namespaceId);
	if (!OidIsValid(relid))
		return true;
	return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/*
 * CoordinatorTypeName returns a node's message with the name of the data
 * type the error is about (schema.datatype, qualified on the node, whose
 * search path does not have the type's schema) written as the coordinator
 * writes it in this session (unqualified when the search path finds it),
 * as PostgreSQL's own message would.
 */
static char *
CoordinatorTypeName(char *message, const char *schema, const char *datatype)
{
	Oid			namespaceId = get_namespace_oid(schema, true);
	Oid			typid;
	char	   *nodeName;
	char	   *ourName;
	char	   *found;

	if (!OidIsValid(namespaceId))
		return message;
	typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
							CStringGetDatum(datatype), ObjectIdGetDatum(namespaceId));
	if (!OidIsValid(typid))
		return message;
	nodeName = quote_qualified_identifier(schema, datatype);
	ourName = format_type_be(typid);
	found = strstr(message, nodeName);
	if (found == NULL || strcmp(nodeName, ourName) == 0)
		return message;
	return psprintf("%.*s%s%s", (int) (found - message), message, ourName,
					found + strlen(nodeName));
}

/*
 * ScanIdentifier returns the length of the identifier (quoted, or a plain
 * lower-case one) at the start of p, 0 when there is none, and its name in
 * *name.
 */
static int
ScanIdentifier(const char *p, char **name)
{
	int			len = 0;

	if (*p == '"')
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (len = 1; p[len] != '\0'; len++)
		{
			if (p[len] == '"' && p[len + 1] == '"')
				appendStringInfoChar(&buf, p[len++]);
			else if (p[len] == '"')
				break;
			else
				appendStringInfoChar(&buf, p[len]);
		}
		if (p[len] != '"' || buf.len == 0)
			return 0;
		*name = buf.data;
		return len + 1;
	}
	if (!((*p >= 'a' && *p <= 'z') || *p == '_' || IS_HIGHBIT_SET(*p)))
		return 0;
	while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= '0' && p[len] <= '9') ||
		   p[len] == '_' || p[len] == '$' || IS_HIGHBIT_SET(p[len]))
		len++;
	*name = pnstrdup(p, len);
	return len;
}

/*
 * CoordinatorTypeNames returns a node's message with the schema-qualified
 * names of the coordinator's own types (enums, domains, composite types:
 * "invalid input value for enum public.mood") written as the coordinator
 * writes them in this session, where the search path usually finds them
 * ("enum mood"): a node's session searches pg_catalog only.
 */
static char *
CoordinatorTypeNames(const char *message)
{
	StringInfoData result;
	const char *p = message;
	bool		afterIdentifierChar = false;

	initStringInfo(&result);
	while (*p != '\0')
	{
		char	   *schema;
		char	   *type;
		int			schemaLen;
		int			typeLen;

		schemaLen = afterIdentifierChar ? 0 : ScanIdentifier(p, &schema);
		if (schemaLen > 0 && p[schemaLen] == '.' &&
			(typeLen = ScanIdentifier(p + schemaLen + 1, &type)) > 0)
		{
			Oid			namespaceId = get_namespace_oid(schema, true);
			Oid			typid = OidIsValid(namespaceId) ?
				GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum(type),
								ObjectIdGetDatum(namespaceId)) : InvalidOid;

			/* (one shardext makes on the nodes: not a table's row type) */
			if (typid >= FirstNormalObjectId && IsNodeType(typid))
			{
				appendStringInfoString(&result, format_type_be(typid));
				p += schemaLen + 1 + typeLen;
				afterIdentifierChar = true;
				continue;
			}
		}
		if (schemaLen > 0)
		{
			appendBinaryStringInfo(&result, p, schemaLen);
			p += schemaLen;
			afterIdentifierChar = true;
			continue;
		}
		afterIdentifierChar = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
							   (*p >= '0' && *p <= '9') || *p == '_' || *p == '$' ||
							   *p == '.' || IS_HIGHBIT_SET(*p));
		appendStringInfoChar(&result, *p++);
	}
	return result.data;
}

/*
 * LogicalName returns the coordinator's name of the object a node names
 * name (a shard, or one of its indexes or constraints), or a copy of name.
 */
static char *
LogicalName(const char *name)
{
	char	   *quoted = LogicalNames(psprintf("\"%s\"", name));

	return pnstrdup(quoted + 1, strlen(quoted) - 2);
}

/*
 * RememberCopyLines records the input lines of the rows of the COPY just
 * sent on the connection (its batch's line i is input line lines[i - 1]),
 * so that a node's error about a row names the line the user wrote.
 */
void
RememberCopyLines(NodeConnection *nc, const uint64 *lines, int count,
				  const char *tableName)
{
	ForgetCopyLines(nc);
	nc->copyLines = MemoryContextAlloc(TopMemoryContext, sizeof(uint64) * count);
	memcpy(nc->copyLines, lines, sizeof(uint64) * count);
	nc->copyLineCount = count;
	nc->copyTable = MemoryContextStrdup(TopMemoryContext, tableName ? tableName : "?");
}

/* ForgetCopyLines drops what RememberCopyLines recorded. */
static void
ForgetCopyLines(NodeConnection *nc)
{
	if (nc->copyLines != NULL)
		pfree(nc->copyLines);
	if (nc->copyTable != NULL)
		pfree(nc->copyTable);
	nc->copyLines = NULL;
	nc->copyTable = NULL;
	nc->copyLineCount = 0;
}

/*
 * CopyInputLineContext returns "COPY table, line N" for a node's error about
 * line n of the COPY batch it was sent (its context says "COPY shard, line
 * n"), N being the row's line in the coordinator's input; NULL when unknown.
 */
static char *
CopyInputLineContext(NodeConnection *nc, PGresult *res)
{
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *found;
	long		line;

	if (context == NULL || nc->copyLines == NULL ||
		strncmp(context, "COPY ", 5) != 0 ||
		(found = strstr(context, ", line ")) == NULL)
		return NULL;
	line = strtol(found + strlen(", line "), NULL, 10);
	if (line < 1 || line > nc->copyLineCount || nc->copyLines[line - 1] == 0)
		return NULL;
	return psprintf("COPY %s, line " UINT64_FORMAT, nc->copyTable,
					nc->copyLines[line - 1]);
}

/*
 * RemoteExecute runs a statement and returns its result, which the caller
 * clears; an error on the node is raised here.
 */
PGresult   *
RemoteExecute(NodeConnection *nc, const char *sql, int nParams,
			  const char *const *paramValues)
{
	return RemoteExecuteTyped(nc, sql, nParams, NULL, paramValues);
}

/*
 * RemoteExecuteTyped is RemoteExecute with parameter types (0: let the
 * node infer the type).
 */
PGresult   *
RemoteExecuteTyped(NodeConnection *nc, const char *sql, int nParams,
				   const Oid *paramTypes, const char *const *paramValues)
{
	PGresult   *res;
	ExecStatusType status;

	SendRemoteQueryTyped(nc, sql, nParams, paramTypes, paramValues);
	res = GetRemoteResult(nc);
	status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		ReportRemoteError(nc, res);
	return res;
}

/*
 * ExecuteStatementTyped is RemoteExecuteTyped for the statement a caller of
 * RemoteExecutePrepared asked for (not the settings or PREPARE sent before
 * it): a cancel that comes while it runs as a sole write is handled as such
 * (WaitForConnectionInput).
 */
static PGresult *
ExecuteStatementTyped(NodeConnection *nc, const char *sql, int nParams,
					  const Oid *paramTypes, const char *const *paramValues)
{
	PGresult   *res;
	ExecStatusType status;

	SendRemoteQueryTyped(nc, sql, nParams, paramTypes, paramValues);
	nc->writeSent = nc->soleWrite;
	res = GetRemoteResult(nc);
	status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		ReportRemoteError(nc, res);
	return res;
}

/* RemoteExecuteCommand runs a statement whose result is not needed. */
void
RemoteExecuteCommand(NodeConnection *nc, const char *sql)
{
	PQclear(RemoteExecute(nc, sql, 0, NULL));
}

/*
 * RemoteExecuteCount runs a statement and returns the number of rows it
 * processed.
 */
uint64
RemoteExecuteCount(NodeConnection *nc, const char *sql, int nParams,
				   const char *const *paramValues)
{
	PGresult   *res = RemoteExecute(nc, sql, nParams, paramValues);
	char	   *count = PQcmdTuples(res);
	uint64		result = (count[0] != '\0') ? strtou64(count, NULL, 10) : 0;

	PQclear(res);
	return result;
}

/*
 * RemoteQueryQuietly runs a statement and returns its (last) result, or NULL
 * when the connection cannot run it, fails, or the node does not answer
 * within shardext.connect_timeout (a stuck node must not keep a transaction
 * from ending; a backend told to exit waits that long too, so that the
 * prepared transactions it finishes do not keep their locks until
 * recovery).  It never raises an error
 * and serves no interrupt: for transaction callbacks, which must not fail.
 * The caller clears the result; after NULL the connection's state is
 * unknown, and it should be closed.
 */
PGresult *
RemoteQueryQuietly(NodeConnection *nc, const char *sql)
{
	TimestampTz deadline;
	PGresult   *res;

	if (nc->conn == NULL || PQstatus(nc->conn) != CONNECTION_OK ||
		PQtransactionStatus(nc->conn) == PQTRANS_ACTIVE)
		return NULL;
	if (ShardextLogRemoteCommands)
		elog(LOG, "issuing %s on node %s", sql, nc->label);
	if (!PQsendQuery(nc->conn, sql))
		return NULL;
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   ShardextConnectTimeout * 1000L);
	if (!ReadResultsUntil(nc, deadline, &res, true))
	{
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * RemoteExecuteQuietly runs a statement with RemoteQueryQuietly and tells
 * whether it succeeded.
 */
bool
RemoteExecuteQuietly(NodeConnection *nc, const char *sql)
{
	PGresult   *res = RemoteQueryQuietly(nc, sql);
	bool		ok = (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK);

	PQclear(res);
	return ok;
}

/*
 * RemoteExecutePrepared runs a statement with parameters as a statement
 * prepared on the connection: the first time it is prepared (one more round
 * trip), later executions skip parsing and planning on the node.  The
 * cache holds at most MAX_PREPARED_STATEMENTS statements per connection;
 * statements beyond that, or too long to be a key, or whose parameter types
 * changed, run unprepared.  The caller clears the result.
 */
PGresult   *
RemoteExecutePrepared(NodeConnection *nc, const char *sql, int nParams,
					  const Oid *paramTypes, const char *const *paramValues)
{
	MemoryContext context = CurrentMemoryContext;
	PGresult   *volatile res = NULL;
	volatile bool reconnect = false;

	/*
	 * A read outside a remote transaction whose connection turns out to be
	 * lost (the node restarted, or ended the idle session, since this
	 * backend last used it: connections used a moment ago are not checked
	 * before use) is sent again on a new connection; it changed nothing.
	 * A write is not: whether it committed before the loss is unknown.
	 */
	if (nc->inTransaction || nc->soleWrite)
		return ExecutePreparedOnce(nc, sql, nParams, paramTypes, paramValues);
	PG_TRY();
	{
		res = ExecutePreparedOnce(nc, sql, nParams, paramTypes, paramValues);
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		if (error->sqlerrcode != ERRCODE_CONNECTION_FAILURE ||
			nc->conn == NULL || PQstatus(nc->conn) != CONNECTION_BAD ||
			QueryCancelPending || ProcDiePending)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(error);
		reconnect = true;
	}
	PG_END_TRY();
	if (!reconnect)
		return res;
	EndDeadlockWatch();
	ReconnectNodeConnection(nc);
	return ExecutePreparedOnce(nc, sql, nParams, paramTypes, paramValues);
}

/*
 * ExecutePreparedOnce is RemoteExecutePrepared on the connection as it is.
 */
static PGresult *
ExecutePreparedOnce(NodeConnection *nc, const char *sql, int nParams,
					const Oid *paramTypes, const char *const *paramValues)
{
	PreparedStatement *entry;
	uint64		key;
	char		name[32];
	bool		found;
	bool		retried = false;
	PGresult   *res;

	if (nParams == 0)
		return ExecuteStatementTyped(nc, sql, nParams, paramTypes, paramValues);
retry:

	FinishPendingCopy(nc);
	SyncSessionSettings(nc);
	ForgetStaleStatements(nc);
	if (nc->statements == NULL)
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(uint64);
		info.entrysize = sizeof(PreparedStatement);
		info.hcxt = TopMemoryContext;
		nc->statements = hash_create("shardext prepared statements", 64, &info,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	key = hash_bytes_extended((const unsigned char *) sql, strlen(sql), 0);
	entry = hash_search(nc->statements, &key, HASH_FIND, &found);
	if (entry != NULL &&
		(strcmp(entry->sql, sql) != 0 || entry->nParams != nParams ||
		 (paramTypes != NULL &&
		  memcmp(entry->types, paramTypes, sizeof(Oid) * nParams) != 0)))
		return ExecuteStatementTyped(nc, sql, nParams, paramTypes, paramValues);

	if (entry == NULL)
	{
		/* the hash's own context: freed with it */
		MemoryContext hashContext = GetMemoryChunkContext(nc->statements);

		int			id;

		if (nc->statementCount >= MAX_PREPARED_STATEMENTS)
			return ExecuteStatementTyped(nc, sql, nParams, paramTypes, paramValues);

		/*
		 * The name is used up before the node is asked: a PREPARE that ends
		 * in an error here (a cancel that came after the node prepared it)
		 * may have left the statement on the node under that name.
		 */
		id = ++nc->statementCount;
		snprintf(name, sizeof(name), "shardext_%d", id);
		LogRemoteCommandWithParams(nc, sql, nParams, paramValues);
		if (!PQsendPrepare(nc->conn, name, sql, nParams, paramTypes))
			ReportConnectionFailure(nc);
		res = GetRemoteResult(nc);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			ReportRemoteError(nc, res);
		PQclear(res);
		entry = hash_search(nc->statements, &key, HASH_ENTER, &found);
		entry->id = id;
		entry->sql = MemoryContextStrdup(hashContext, sql);
		entry->nParams = nParams;
		entry->types = MemoryContextAllocZero(hashContext, sizeof(Oid) * nParams);
		if (paramTypes != NULL)
			memcpy(entry->types, paramTypes, sizeof(Oid) * nParams);
	}
	else
		LogRemoteCommandWithParams(nc, sql, nParams, paramValues);

	snprintf(name, sizeof(name), "shardext_%d", entry->id);
	if (!PQsendQueryPrepared(nc->conn, name, nParams, paramValues, NULL, NULL, 0))
		ReportConnectionFailure(nc);
	nc->writeSent = nc->soleWrite;
	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/*
		 * "cached plan must not change result type": the node's plan of the
		 * statement predates a change of the shard (one that committed on
		 * the node after this backend learned of it).  The statement is
		 * forgotten, to be prepared again; a statement that ran in an
		 * implicit transaction is retried at once.
		 */
		if (sqlstate != NULL && strcmp(sqlstate, "0A000") == 0)
		{
			hash_search(nc->statements, &key, HASH_REMOVE, NULL);
			if (!nc->inTransaction && !retried)
			{
				PQclear(res);
				retried = true;
				(void) RemoteCommandSucceeds(nc, psprintf("DEALLOCATE %s", name));
				goto retry;
			}
		}
		ReportRemoteError(nc, res);
	}
	return res;
}

/*
 * ForgetStaleStatements deallocates the statements prepared on a connection
 * once a distributed table (or the catalog) changed since they were
 * prepared: a node's plan of a statement whose result type changed (ALTER
 * COLUMN TYPE) would fail with "cached plan must not change result type".
 * Such changes are rare; the statements are simply prepared again.
 */
static void
ForgetStaleStatements(NodeConnection *nc)
{
	if (nc->statementEpoch == ShardextShapeEpoch)
		return;
	if (nc->statements != NULL)
	{
		RemoteExecuteCommand(nc, "DEALLOCATE ALL");
		hash_destroy(nc->statements);
		nc->statements = NULL;
		nc->statementCount = 0;
	}
	nc->statementEpoch = ShardextShapeEpoch;
}

/*
 * ServeInterruptsKeepingConnection serves pending interrupts while a
 * statement is under way on nc: one that raises an error (a cancel, a
 * timeout, an error of a parallel worker) leaves the statement's state
 * unknown, so the connection is closed at the end of the transaction; the
 * others (a parallel worker's message, a catchup) leave it as it is.
 */
static void
ServeInterruptsKeepingConnection(NodeConnection *nc)
{
	if (!InterruptPending)
		return;
	PG_TRY();
	{
		CHECK_FOR_INTERRUPTS();
	}
	PG_CATCH();
	{
		CloseConnectionAtEndOfTransaction(nc);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * RemoteCommandSucceeds runs a simple statement and tells whether it
 * succeeded; a failure (of the statement or of the connection) is not
 * raised, so that the caller can retry on a new connection.  Interrupts
 * are still served.
 */
bool
RemoteCommandSucceeds(NodeConnection *nc, const char *sql)
{
	bool		ok = false;
	PGresult   *res;

	FinishPendingCopy(nc);
	LogRemoteCommand(nc, sql);
	if (!PQsendQuery(nc->conn, sql))
		return false;
	for (;;)
	{
		while (PQisBusy(nc->conn))
		{
			int			rc = WaitLatchOrSocket(MyLatch,
											   WL_LATCH_SET | WL_SOCKET_READABLE |
											   WL_EXIT_ON_PM_DEATH,
											   PQsocket(nc->conn), -1L,
											   PG_WAIT_EXTENSION);

			if (rc & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				ServeInterruptsKeepingConnection(nc);
			}
			if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(nc->conn))
				return false;
		}
		res = PQgetResult(nc->conn);
		if (res == NULL)
			break;
		ok = (PQresultStatus(res) == PGRES_COMMAND_OK);
		PQclear(res);
	}
	return ok;
}

/*
 * FinishPendingCopy reads the result of a COPY sent by RemoteCopyIn without
 * waiting, raising its error if it failed, or lets the scan that sent a
 * statement ahead on the connection read its result: called before any
 * other use of the connection.
 */
void
FinishPendingCopy(NodeConnection *nc)
{
	PGresult   *res;

	/* a statement a scan sent ahead: the scan reads its result now */
	if (nc->pendingDrain != NULL)
	{
		void		(*drain) (NodeConnection *, void *) = nc->pendingDrain;

		nc->pendingDrain = NULL;
		drain(nc, nc->pendingArg);
		nc->pendingArg = NULL;
	}
	/* a statement whose reader went away: its rows are not needed */
	if (!nc->copyPending && nc->conn != NULL &&
		PQtransactionStatus(nc->conn) == PQTRANS_ACTIVE &&
		!DrainConnection(nc, !nc->inTransaction))
	{
		CloseConnectionAtEndOfTransaction(nc);
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not finish an earlier statement on node %s",
						nc->label),
				 errhint("Roll back the transaction and retry it.")));
	}
	if (!nc->copyPending)
		return;
	nc->copyPending = false;
	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ReportRemoteErrorContext(nc, res, CopyInputLineContext(nc, res));
	ForgetCopyLines(nc);
	PQclear(res);
}

/*
 * DiscardPendingCopy reads and drops the result of a COPY sent without
 * waiting, when an error interrupted the statement that sent it (a COPY
 * still taking data is ended with an error).  Never raises an error: it runs
 * while a (sub)transaction aborts.  Returns false when the connection is not
 * usable afterwards.
 */
bool
DiscardPendingCopy(NodeConnection *nc)
{
	PGresult   *res;

	if (!nc->copyPending)
		return true;
	nc->copyPending = false;
	ForgetCopyLines(nc);
	if (nc->conn == NULL)
		return false;
	while ((res = PQgetResult(nc->conn)) != NULL)
	{
		if (PQresultStatus(res) == PGRES_COPY_IN)
			(void) PQputCopyEnd(nc->conn, "the statement was aborted");
		PQclear(res);
		if (PQstatus(nc->conn) != CONNECTION_OK)
			return false;
	}
	return PQstatus(nc->conn) == CONNECTION_OK;
}

/*
 * RemoteCopyIn runs a COPY ... FROM STDIN command and feeds it data (text
 * format, complete lines).  Unless wait, it returns once the data is sent:
 * the node loads it while the caller prepares the next batch, and the
 * result is read by FinishPendingCopy (called before any other use of the
 * connection).
 */
void
RemoteCopyIn(NodeConnection *nc, const char *copyCommand, const char *data,
			 int length, bool wait)
{
	PGresult   *res;

	FinishPendingCopy(nc);
	SendRemoteQuery(nc, copyCommand, 0, NULL);
	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		ReportRemoteError(nc, res);
	PQclear(res);

	if (PQputCopyData(nc->conn, data, length) != 1 ||
		PQputCopyEnd(nc->conn, NULL) != 1)
		ReportConnectionFailure(nc);
	while (PQflush(nc->conn) == 1)
	{
		int			rc = WaitLatchOrSocket(MyLatch,
										   WL_LATCH_SET | WL_SOCKET_WRITEABLE |
										   WL_EXIT_ON_PM_DEATH,
										   PQsocket(nc->conn), -1L,
										   PG_WAIT_EXTENSION);

		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			ServeInterruptsKeepingConnection(nc);
		}
	}
	nc->copyPending = true;
	if (wait)
		FinishPendingCopy(nc);
}

/*
 * ExactOutputFunctionCall returns a value as text for a node, in the
 * formats the nodes are given (see ExactSettingValue): floats with all
 * their digits even when the session asked for fewer (the node would store
 * or compare them rounded), dates and times in ISO style (with numeric
 * time zone offsets) and intervals in postgres style whatever the session's
 * DateStyle and IntervalStyle.  The output functions read these settings
 * from their variables, which are set around the call.
 */
char *
ExactOutputFunctionCall(FmgrInfo *flinfo, Datum value)
{
	int			savedDigits = extra_float_digits;
	int			savedDateStyle = DateStyle;
	int			savedIntervalStyle = IntervalStyle;
	char	   *result;

	if (savedDigits >= 1 && savedDateStyle == USE_ISO_DATES &&
		savedIntervalStyle == INTSTYLE_POSTGRES)
		return OutputFunctionCall(flinfo, value);
	extra_float_digits = Max(savedDigits, 1);
	DateStyle = USE_ISO_DATES;
	IntervalStyle = INTSTYLE_POSTGRES;
	PG_TRY();
	{
		result = OutputFunctionCall(flinfo, value);
	}
	PG_FINALLY();
	{
		extra_float_digits = savedDigits;
		DateStyle = savedDateStyle;
		IntervalStyle = savedIntervalStyle;
	}
	PG_END_TRY();
	return result;
}
