/*-------------------------------------------------------------------------
 *
 * connection.c
 *	  Connections from the coordinator to the nodes.
 *
 * A node is a postgres_fdw foreign server plus a user mapping: the server's
 * options give the address, the user mapping the credentials (user,
 * password, ...).  Options that libpq does not know (postgres_fdw's own,
 * like fetch_size) are left out.  Connecting never blocks longer than
 * shardext.connect_timeout and can be cancelled: the connection is made
 * with libpq's non-blocking calls while the backend waits on its latch.
 *
 * libpq's memory is malloc'ed; every connection made here is closed with
 * CloseNodeConnection, which also gives back the file descriptor reserved
 * for it.
 *
 * Each backend keeps one connection per node in ConnectionHash and reuses
 * it across statements and transactions; its remote transaction state is
 * driven by transaction.c.  A connection is re-validated only when it is
 * found broken (then reconnected, outside a transaction) or when the
 * node's foreign server or user mapping changes.
 *
 * IDENTIFICATION
 *	  src/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <poll.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "shardext/connection.h"
#include "shardext/guc.h"
#include "shardext/remote_exec.h"
#include "shardext/self_connection.h"

/* the oldest server version a node may run */
#define MIN_NODE_SERVER_VERSION 150000

/* this backend's connections, by node id */
static HTAB *ConnectionHash = NULL;

static bool IsLibpqOption(const char *keyword);
/* a connection idle longer than this is checked before use (ms) */
#define IDLE_CHECK_INTERVAL_MS 100

static bool IdleConnectionHasInput(PGconn *conn);
static bool PollConnection(PGconn *conn, TimestampTz deadline, bool *timedOut);
static void NodeNoticeReceiver(void *arg, const PGresult *res);
static bool NodeConnectionOptions(const ShardextNode *node, bool missingOk,
								  int extra, const char ***keywordsOut,
								  const char ***valuesOut, bool *needsPassword);
static bool MappingRequiresPassword(UserMapping *mapping);
static void CheckPasswordUsed(PGconn *conn, const ShardextNode *node);
static void InvalidateConnections(Datum arg, int cacheId, uint32 hashValue);

/*
 * WaitForNodeSocket waits until a node connection's socket is ready for
 * events (WL_SOCKET_READABLE or WL_SOCKET_WRITEABLE), serving interrupts;
 * false when deadline passes first.
 */
bool
WaitForNodeSocket(PGconn *conn, int events, TimestampTz deadline)
{
	for (;;)
	{
		long		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																deadline);
		int			rc;

		if (remaining <= 0)
			return false;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | events,
							   PQsocket(conn), remaining, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & events)
			return true;
	}
}

/*
 * PollConnection drives a connection started by PQconnectStartParams until
 * it is made (true) or fails or deadline passes (false; *timedOut tells
 * which), serving interrupts.
 */
static bool
PollConnection(PGconn *conn, TimestampTz deadline, bool *timedOut)
{
	PostgresPollingStatusType pollStatus = PGRES_POLLING_WRITING;

	*timedOut = false;
	if (PQstatus(conn) == CONNECTION_BAD)
		return false;
	while (pollStatus != PGRES_POLLING_OK)
	{
		if (pollStatus == PGRES_POLLING_FAILED)
			return false;
		if (!WaitForNodeSocket(conn, (pollStatus == PGRES_POLLING_READING) ?
							   WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE,
							   deadline))
		{
			*timedOut = true;
			return false;
		}
		pollStatus = PQconnectPoll(conn);
	}
	return true;
}

/*
 * NodeNoticeReceiver puts the notices and warnings of a node (arg: the
 * connection) into the server log (instead of libpq's default, bare lines
 * on stderr): warnings at LOG,
 * the rest at DEBUG1, as the nodes' answers to statements the coordinator
 * composed (a DROP INDEX IF EXISTS on each shard) are not the user's.
 */
static void
NodeNoticeReceiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	PGconn	   *conn = arg;
	const char *host = PQhost(conn);
	const char *port = PQport(conn);

	/* no interrupt may be served (an error thrown) inside libpq */
	HOLD_INTERRUPTS();
	ereport((severity != NULL && strcmp(severity, "WARNING") == 0) ? LOG : DEBUG1,
			(errmsg_internal("node %s:%s said: %s: %s", host ? host : "?",
							 port ? port : "?", severity ? severity : "NOTICE",
							 message ? message : "")));
	RESUME_INTERRUPTS();
}

/*
 * ConnectWithTimeout opens a connection with the given libpq keywords and
 * values (NULL-terminated arrays), waiting at most shardext.connect_timeout.
 * nodeLabel ("host:port" or a node name) appears in every error.  The
 * caller closes the result with CloseNodeConnection.
 */
PGconn *
ConnectWithTimeout(const char *const *keywords, const char *const *values,
				   const char *nodeLabel)
{
	PGconn	   *volatile conn = NULL;
	TimestampTz deadline;

	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to node %s", nodeLabel),
				 errdetail("There are too many open files on the coordinator."),
				 errhint("Raise max_files_per_process or the system's limit on "
						 "open files.")));

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   ShardextConnectTimeout * 1000);
	PG_TRY();
	{
		bool		timedOut;

		conn = PQconnectStartParams(keywords, values, false);
		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while connecting to node %s",
							nodeLabel)));
		if (!PollConnection(conn, deadline, &timedOut))
		{
			if (timedOut)
				ereport(ERROR,
						(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						 errmsg("could not connect to node %s", nodeLabel),
						 errdetail("The node did not answer within "
								   "shardext.connect_timeout (%d s).",
								   ShardextConnectTimeout),
						 errhint("Check that the node is running and reachable, "
								 "or raise shardext.connect_timeout.")));
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to node %s", nodeLabel),
					 errdetail_internal("%s", pchomp(PQerrorMessage(conn))),
					 errhint("Check that the node is running and accepts "
							 "connections from the coordinator.")));
		}

		PQsetNoticeReceiver(conn, NodeNoticeReceiver, (void *) conn);
		if (PQserverVersion(conn) < MIN_NODE_SERVER_VERSION)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("node %s runs PostgreSQL %d, older than 15",
							nodeLabel, PQserverVersion(conn) / 10000),
					 errhint("Upgrade the node to PostgreSQL 15 or later.")));
	}
	PG_CATCH();
	{
		CloseNodeConnection(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return conn;
}

/*
 * CloseNodeConnection closes a connection made by ConnectWithTimeout and
 * releases its file descriptor reservation.  NULL is allowed.
 */
void
CloseNodeConnection(PGconn *conn)
{
	ReleaseExternalFD();
	if (conn != NULL)
		PQfinish(conn);
}

/*
 * ConnectToAddress connects to host:port/dbname as the current user, with
 * no other option: used to check a node before it is registered.
 */
PGconn *
ConnectToAddress(const char *host, int port, const char *dbname)
{
	const char *keywords[7];
	const char *values[7];
	char		portString[12];
	char	   *label = psprintf("%s:%d", host, port);

	snprintf(portString, sizeof(portString), "%d", port);
	keywords[0] = "host";
	values[0] = host;
	keywords[1] = "port";
	values[1] = portString;
	keywords[2] = "dbname";
	values[2] = dbname;
	keywords[3] = "user";
	values[3] = GetUserNameFromId(GetUserId(), false);
	keywords[4] = "fallback_application_name";
	values[4] = "shardext";
	keywords[5] = "client_encoding";
	values[5] = GetDatabaseEncodingName();
	keywords[6] = NULL;
	values[6] = NULL;

	return ConnectWithTimeout(keywords, values, label);
}

/*
 * NodeSessionTag returns the application_name of this backend's sessions on
 * the nodes (unless the node's server options set one): "shardext <system
 * identifier of the coordinator>:<pid of this backend>", so that a node's
 * pg_stat_activity tells which coordinator backend each session serves
 * (distributed deadlock detection reads it).
 */
const char *
NodeSessionTag(void)
{
	static char tag[64] = "";

	if (tag[0] == '\0')
		snprintf(tag, sizeof(tag), "shardext " UINT64_FORMAT ":%d",
				 GetSystemIdentifier(), MyProcPid);
	return tag;
}

/*
 * MappingRequiresPassword tells whether a user mapping must give a password
 * (postgres_fdw's password_required option, true unless a superuser set it
 * false).
 */
static bool
MappingRequiresPassword(UserMapping *mapping)
{
	ListCell   *lc;

	foreach(lc, mapping->options)
	{
		DefElem    *option = lfirst(lc);

		if (strcmp(option->defname, "password_required") == 0)
			return defGetBoolean(option);
	}
	return true;
}

/*
 * CheckPasswordUsed raises an error, as postgres_fdw does, when a connection
 * made for a non-superuser whose mapping requires a password was accepted
 * without one (trust or peer authentication on the node): the role would
 * act on the node as whatever user its mapping names.
 */
static void
CheckPasswordUsed(PGconn *conn, const ShardextNode *node)
{
	if (PQconnectionUsedPassword(conn))
		return;
	CloseNodeConnection(conn);
	ereport(ERROR,
			(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
			 errmsg("password is required to reach node %d (%s:%d)",
					node->nodeId, node->host, node->port),
			 errdetail("Non-superuser cannot connect if the server does not request a password."),
			 errhint("Make the node's authentication ask for a password, or have a superuser "
					 "set password_required 'false' in the user mapping of %s for server %s.",
					 quote_identifier(GetUserNameFromId(GetUserId(), false)),
					 quote_identifier(node->serverName))));
}

/*
 * NodeConnectionOptions returns, in *keywords and *values (NULL-terminated,
 * with room for extra more entries), the libpq options of a connection to
 * a registered node: its foreign server's and the current user's user
 * mapping's.  Without a server or a mapping it raises an error, or returns
 * false with missingOk.
 *
 * As with postgres_fdw, a non-superuser's mapping must give a password
 * (unless a superuser set password_required 'false' in it), and the
 * connection must then use it (*needsPassword; see CheckPasswordUsed): a
 * role that may change its own mapping must not borrow the coordinator's
 * standing with a node that trusts it.
 */
static bool
NodeConnectionOptions(const ShardextNode *node, bool missingOk, int extra,
					  const char ***keywordsOut, const char ***valuesOut,
					  bool *needsPassword)
{
	ForeignServer *server = GetForeignServerByName(node->serverName, true);
	UserMapping *mapping;
	List	   *options;
	int			n;
	const char **keywords;
	const char **values;
	bool		hasUser = false;
	bool		hasApplicationName = false;
	const char *serverOptions = NULL;
	static const char *const keepalive[] = {
		"keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout"
	};
	ListCell   *lc;
	int			i = 0;
	int			k;

	if (server == NULL)
	{
		if (missingOk)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("foreign server \"%s\" of node %d (%s:%d) does not exist",
						node->serverName, node->nodeId, node->host, node->port),
				 errhint("Register the node again, or create the server as "
						 "shardext_add_node does.")));
	}
	if (!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(GetUserId()),
							   ObjectIdGetDatum(server->serverid)) &&
		!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							   ObjectIdGetDatum(server->serverid)))
	{
		if (missingOk)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" has no user mapping for node %d (%s:%d)",
						GetUserNameFromId(GetUserId(), false), node->nodeId,
						node->host, node->port),
				 errdetail("Nodes are reached through the foreign server \"%s\", "
						   "as the user its user mapping names.", node->serverName),
				 errhint("Create one: CREATE USER MAPPING FOR %s SERVER %s OPTIONS (user '...').",
						 quote_identifier(GetUserNameFromId(GetUserId(), false)),
						 quote_identifier(node->serverName))));
	}
	mapping = GetUserMapping(GetUserId(), server->serverid);
	*needsPassword = !superuser_arg(GetUserId()) && MappingRequiresPassword(mapping);
	if (*needsPassword)
	{
		bool		hasPassword = false;

		foreach(lc, mapping->options)
		{
			DefElem    *option = lfirst(lc);

			if (strcmp(option->defname, "password") == 0 &&
				defGetString(option)[0] != '\0')
				hasPassword = true;
		}
		if (!hasPassword)
		{
			if (missingOk)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					 errmsg("password is required to reach node %d (%s:%d)",
							node->nodeId, node->host, node->port),
					 errdetail("Non-superusers must give a password in their user mapping, "
							   "as for postgres_fdw."),
					 errhint("ALTER USER MAPPING FOR %s SERVER %s OPTIONS (ADD password '...'), "
							 "or have a superuser set password_required 'false' in it.",
							 quote_identifier(GetUserNameFromId(GetUserId(), false)),
							 quote_identifier(node->serverName))));
		}
	}
	options = list_concat(list_copy(server->options), mapping->options);
	n = list_length(options) + 5 + lengthof(keepalive) + extra;
	keywords = palloc0(sizeof(char *) * n);
	values = palloc0(sizeof(char *) * n);

	foreach(lc, options)
	{
		DefElem    *option = lfirst(lc);

		if (!IsLibpqOption(option->defname))
			continue;
		if (strcmp(option->defname, "user") == 0)
			hasUser = true;
		if (strcmp(option->defname, "application_name") == 0)
			hasApplicationName = true;
		if (strcmp(option->defname, "options") == 0)
		{
			serverOptions = defGetString(option);
			continue;
		}
		keywords[i] = option->defname;
		values[i] = defGetString(option);
		i++;
	}
	if (!hasUser)
	{
		keywords[i] = "user";
		values[i] = GetUserNameFromId(GetUserId(), false);
		i++;
	}
	/*
	 * Statements sent to a node name every object but pg_catalog's with its
	 * schema (deparse.c): its session searches pg_catalog only, so that a
	 * function or operator a node has in public (an extension's @> on int[],
	 * say) never takes the place of the built-in one the coordinator chose.
	 */
	keywords[i] = "options";
	values[i] = psprintf("%s%s-c search_path=pg_catalog",
						 serverOptions ? serverOptions : "",
						 serverOptions ? " " : "");
	i++;
	/* set, not a fallback: PGAPPNAME in the server's environment would win */
	if (!hasApplicationName)
	{
		keywords[i] = "application_name";
		values[i] = NodeSessionTag();
		i++;
	}

	/*
	 * A node whose host stops answering (down, or cut off) is noticed by
	 * TCP keepalives and the user timeout, after about four times
	 * shardext.connect_timeout, rather than by the kernel's retries after
	 * many minutes; the server's options may set them otherwise.
	 */
	for (k = 0; k < lengthof(keepalive); k++)
	{
		bool		set = false;

		foreach(lc, options)
			if (strcmp(((DefElem *) lfirst(lc))->defname, keepalive[k]) == 0)
				set = true;
		if (set)
			continue;
		keywords[i] = keepalive[k];
		values[i] = psprintf("%d", k == 2 ? 3 :
							 k == 3 ? 4000 * Max(ShardextConnectTimeout, 1) :
							 Max(ShardextConnectTimeout, 1));
		i++;
	}
	keywords[i] = "client_encoding";
	values[i] = GetDatabaseEncodingName();

	*keywordsOut = keywords;
	*valuesOut = values;
	return true;
}

/*
 * ConnectToNode connects to a registered node with the options of its
 * foreign server and of the current user's user mapping.
 */
PGconn *
ConnectToNode(const ShardextNode *node)
{
	const char **keywords;
	const char **values;

	bool		needsPassword;
	PGconn	   *conn;

	(void) NodeConnectionOptions(node, false, 0, &keywords, &values,
								 &needsPassword);
	conn = ConnectWithTimeout(keywords, values,
							  psprintf("%d (%s:%d)", node->nodeId,
									   node->host, node->port));
	if (needsPassword)
		CheckPasswordUsed(conn, node);
	return conn;
}

/*
 * ConnectToNodeQuietly is ConnectToNode for a short look at a node: it
 * waits at most timeoutMs (serving interrupts) and returns NULL instead of
 * raising an error when it cannot connect.  The caller closes the result
 * with CloseNodeConnection.
 */
PGconn *
ConnectToNodeQuietly(const ShardextNode *node, int timeoutMs)
{
	const char **keywords;
	const char **values;
	PGconn	   *volatile conn = NULL;
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeoutMs);
	bool		connected = false;
	bool		timedOut;

	bool		needsPassword;

	if (!NodeConnectionOptions(node, true, 0, &keywords, &values,
							   &needsPassword))
		return NULL;
	if (!AcquireExternalFD())
		return NULL;
	PG_TRY();
	{
		conn = PQconnectStartParams(keywords, values, false);
		connected = (conn != NULL && PollConnection(conn, deadline, &timedOut));
	}
	PG_CATCH();
	{
		CloseNodeConnection(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (!connected || (needsPassword && !PQconnectionUsedPassword(conn)))
	{
		CloseNodeConnection(conn);
		return NULL;
	}
	return conn;
}

/*
 * IsLibpqOption tells whether keyword is a connection option libpq knows,
 * as opposed to an option of postgres_fdw itself.
 */
static bool
IsLibpqOption(const char *keyword)
{
	static PQconninfoOption *libpqOptions = NULL;
	PQconninfoOption *option;

	if (libpqOptions == NULL)
	{
		libpqOptions = PQconndefaults();
		if (libpqOptions == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}
	for (option = libpqOptions; option->keyword != NULL; option++)
	{
		/* debug options ("D" in dispchar) are not for users */
		if (strchr(option->dispchar, 'D') != NULL)
			continue;
		if (strcmp(option->keyword, keyword) == 0)
			return true;
	}
	return false;
}

/*
 * ShardextInitConnections sets up the connection hash and registers the
 * callbacks that follow changes of servers and user mappings.  Called once
 * per backend, from _PG_init.
 */
void
ShardextInitConnections(void)
{
	HASHCTL		info;

	memset(&info, 0, sizeof(info));
	info.keysize = 2 * sizeof(int32);
	info.entrysize = sizeof(NodeConnection);
	info.hcxt = TopMemoryContext;
	ConnectionHash = hash_create("shardext connections", 16, &info,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, InvalidateConnections,
								  (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, InvalidateConnections,
								  (Datum) 0);
}

/*
 * InvalidateConnections marks every connection for reconnection after a
 * change of a foreign server or user mapping (which may hold a new address
 * or password).  Connections in a transaction are replaced after it.
 */
static void
InvalidateConnections(Datum arg, int cacheId, uint32 hashValue)
{
	HASH_SEQ_STATUS status;
	NodeConnection *nc;

	hash_seq_init(&status, ConnectionHash);
	while ((nc = hash_seq_search(&status)) != NULL)
		nc->invalidated = true;
}

/*
 * ResetNodeConnection closes a connection and forgets its transaction
 * state; the next use connects again.
 */
void
ResetNodeConnection(NodeConnection *nc)
{
	if (nc->conn != NULL)
		CloseNodeConnection(nc->conn);
	if (nc->conn != NULL && nc->nodeId == COORDINATOR_NODE_ID && nc->slot == 0)
		NoteSelfConnection(0);
	nc->conn = NULL;
	if (nc->statements != NULL)
		hash_destroy(nc->statements);
	if (nc->waitSet != NULL)
		FreeWaitEventSet(nc->waitSet);
	nc->waitSet = NULL;
	ForgetSessionSettings(nc);
	/* a new session has the server's default, origin */
	nc->replicationRole = SESSION_REPLICATION_ROLE_ORIGIN;
	nc->statements = NULL;
	nc->statementCount = 0;
	nc->inTransaction = false;
	nc->xactDepth = 0;
	nc->wroteInTransaction = false;
	nc->preparedGid[0] = '\0';
	nc->broken = false;
	nc->soleWrite = false;
	nc->writeSent = false;
	nc->cancelSent = false;
	nc->invalidated = false;
	nc->copyPending = false;
	nc->pendingDrain = NULL;
	nc->pendingArg = NULL;
}

/*
 * ForgetSessionSettings makes the next statement on the connection send the
 * session settings again (after a reconnect, or a rollback that undid a
 * SET).
 */
void
ForgetSessionSettings(NodeConnection *nc)
{
	int			i;

	for (i = 0; i < lengthof(nc->settings); i++)
	{
		if (nc->settings[i] != NULL)
			pfree(nc->settings[i]);
		nc->settings[i] = NULL;
	}
	/* one we set may have been undone (only a superuser could set it) */
	if (nc->replicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		nc->replicationRole = -1;
}

/*
 * IdleConnectionHasInput tells, without blocking, whether an idle
 * connection has anything to read (a message or the end of the stream).
 */
static bool
IdleConnectionHasInput(PGconn *conn)
{
	struct pollfd pfd;

	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return true;
	return poll(&pfd, 1, 0) != 0;
}

/*
 * GetNodeConnection returns this backend's connection to a node, connecting
 * first when there is none, or when the one there is was broken or
 * invalidated and no remote transaction is open on it.
 */
NodeConnection *
GetNodeConnection(int32 nodeId)
{
	return GetNodeConnectionSlot(nodeId, 0);
}

/*
 * ReconnectNodeConnection replaces a lost connection (outside a remote
 * transaction) by a new one to the same node, for the statement that found
 * it lost.
 */
void
ReconnectNodeConnection(NodeConnection *nc)
{
	bool		soleWrite = nc->soleWrite;

	Assert(!nc->inTransaction);
	ResetNodeConnection(nc);
	if (GetNodeConnectionSlot(nc->nodeId, nc->slot) != nc)
		elog(ERROR, "node connection moved while reconnecting");
	nc->soleWrite = soleWrite;
}

/*
 * FindNodeConnection returns this backend's main connection to a node, or
 * NULL when there is none, without connecting.
 */
NodeConnection *
FindNodeConnection(int32 nodeId)
{
	int32		key[2] = {nodeId, 0};

	return hash_search(ConnectionHash, key, HASH_FIND, NULL);
}

/*
 * GetNodeConnectionSlot is GetNodeConnection for one of the connections to
 * a node: slot 0 is the main one (remote transactions use it), the others
 * serve statements that read a node's shards over several connections at
 * once, outside remote transactions.
 */
NodeConnection *
GetNodeConnectionSlot(int32 nodeId, int32 slot)
{
	NodeConnection *nc;
	TimestampTz statementStart;
	int32		key[2] = {nodeId, slot};
	bool		found;

	nc = hash_search(ConnectionHash, key, HASH_ENTER, &found);
	/* (GetNodeConnectionForStatement says when it is a sole write) */
	if (found)
		nc->soleWrite = false;
	if (!found)
	{
		nc->lastUsed = 0;
		nc->conn = NULL;
		nc->label = NULL;
		nc->statements = NULL;
		nc->waitSet = NULL;
		nc->copyLines = NULL;
		nc->copyLineCount = 0;
		nc->copyTable = NULL;
		memset(nc->settings, 0, sizeof(nc->settings));
		ResetNodeConnection(nc);
	}

	/*
	 * A scan still reading a statement on this connection keeps its rows
	 * first (they must not be lost with the connection).
	 */
	if (nc->conn != NULL && nc->pendingDrain != NULL)
		FinishPendingCopy(nc);

	/*
	 * A statement whose reader went away (a scan stopped early, or was
	 * rescanned): drained (cancelled first when no remote transaction is
	 * open), so that the connection is kept.
	 */
	if (nc->conn != NULL && !nc->broken && !nc->copyPending &&
		PQstatus(nc->conn) == CONNECTION_OK &&
		PQtransactionStatus(nc->conn) == PQTRANS_ACTIVE &&
		!DrainConnection(nc, !nc->inTransaction))
		nc->broken = true;

	/*
	 * An idle connection may have been closed by the node (a restart, an
	 * idle timeout).  A node sends nothing on an idle connection unless it
	 * is closing it, so anything to read means: connect again.  The check
	 * costs a system call; a connection used less than
	 * IDLE_CHECK_INTERVAL_MS before this statement started is not checked
	 * (no node restarts that fast).
	 */
	/*
	 * A connection acts as the role it was opened for (its user mapping):
	 * another role (SET ROLE, a SECURITY DEFINER function) gets its own,
	 * opened anew; within a remote transaction that cannot be.
	 */
	if (nc->conn != NULL && nc->userid != GetUserId())
	{
		if (nc->inTransaction || nc->copyPending || nc->pendingDrain != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot reach node %s as role \"%s\" in a transaction that reached it as role \"%s\"",
							nc->label, GetUserNameFromId(GetUserId(), false),
							GetUserNameFromId(nc->userid, true) ?
							GetUserNameFromId(nc->userid, true) : "?"),
					 errdetail("A transaction works on a node through one connection, "
							   "opened with one role's user mapping."),
					 errhint("Run what the other role does (SET ROLE, SECURITY DEFINER "
							 "functions) in a transaction of its own.")));
		ResetNodeConnection(nc);
	}

	statementStart = GetCurrentStatementStartTimestamp();
	if (nc->conn != NULL && !nc->inTransaction &&
		(nc->broken || nc->invalidated ||
		 PQstatus(nc->conn) != CONNECTION_OK ||
		 PQtransactionStatus(nc->conn) == PQTRANS_ACTIVE ||
		 (TimestampDifferenceExceeds(nc->lastUsed, statementStart,
									 IDLE_CHECK_INTERVAL_MS) &&
		  IdleConnectionHasInput(nc->conn))))
		ResetNodeConnection(nc);
	nc->lastUsed = statementStart;

	if (nc->conn == NULL)
	{
		ShardextNode *node = ShardextGetNode(nodeId, false);

		if (!node->isActive)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("node %d (%s:%d) is not active",
							node->nodeId, node->host, node->port),
					 errhint("Activate the node or move its shards.")));
		if (nc->label != NULL)
			pfree(nc->label);
		nc->label = MemoryContextStrdup(TopMemoryContext,
										psprintf("%d (%s:%d)", node->nodeId,
												 node->host, node->port));
		nc->conn = ConnectToNode(node);
		nc->userid = GetUserId();
		if (nodeId == COORDINATOR_NODE_ID && nc->slot == 0)
			NoteSelfConnection(PQbackendPID(nc->conn));
	}
	return nc;
}

/*
 * CloseConnectionAtEndOfTransaction marks a connection whose state is
 * unknown (a command was interrupted, the link failed) so that it is
 * closed when the transaction ends instead of being reused.
 */
void
CloseConnectionAtEndOfTransaction(NodeConnection *nc)
{
	nc->broken = true;
}

/*
 * DrainBusyConnections finishes, on every connection, a statement that was
 * sent and whose result nobody will read (see DrainConnection): called when
 * a transaction or subtransaction ends, before its remote counterpart ends.
 * The statement is cancelled when cancel is set (an abort), when no remote
 * transaction is open, and, with cancelReadOnly (a top-level commit), when
 * the remote transaction wrote nothing; otherwise its rows are read.  A
 * connection that cannot be drained is closed at the end of the
 * transaction.
 */
void
DrainBusyConnections(bool cancel, bool cancelReadOnly)
{
	HASH_SEQ_STATUS status;
	NodeConnection *nc;

	if (ConnectionHash == NULL)
		return;
	hash_seq_init(&status, ConnectionHash);
	while ((nc = hash_seq_search(&status)) != NULL)
	{
		if (nc->conn == NULL || nc->broken || nc->copyPending ||
			nc->pendingDrain != NULL ||
			PQtransactionStatus(nc->conn) != PQTRANS_ACTIVE)
			continue;
		if (!DrainConnection(nc, cancel || !nc->inTransaction ||
							 (cancelReadOnly && !nc->wroteInTransaction)))
			nc->broken = true;
	}
}

/*
 * ForgetPendingScans takes off the connections the statements of scans
 * sent in a subtransaction at nestLevel or deeper that aborts: the scans'
 * executors (PL/pgSQL's, ended only after the subtransaction callbacks)
 * will never read them, nor can their rows be kept for them; the
 * statements are then cancelled like any other busy one
 * (DrainBusyConnections).
 */
void
ForgetPendingScans(int nestLevel)
{
	HASH_SEQ_STATUS status;
	NodeConnection *nc;

	if (ConnectionHash == NULL)
		return;
	hash_seq_init(&status, ConnectionHash);
	while ((nc = hash_seq_search(&status)) != NULL)
	{
		if (nc->pendingDrain != NULL && nc->pendingLevel >= nestLevel)
		{
			nc->pendingDrain = NULL;
			nc->pendingArg = NULL;
		}
	}
}

/*
 * OpenNodeConnections returns every connection of the backend that has a
 * remote transaction open, for the transaction callbacks.
 */
List *
OpenNodeConnections(void)
{
	HASH_SEQ_STATUS status;
	NodeConnection *nc;
	List	   *result = NIL;

	if (ConnectionHash == NULL)
		return NIL;
	hash_seq_init(&status, ConnectionHash);
	while ((nc = hash_seq_search(&status)) != NULL)
	{
		/* busy: a statement was sent and its result never read */
		if (nc->conn != NULL && !nc->copyPending && nc->pendingDrain == NULL &&
			PQtransactionStatus(nc->conn) == PQTRANS_ACTIVE)
			nc->broken = true;
		if (nc->conn != NULL &&
			(nc->inTransaction || nc->broken || nc->preparedGid[0] != '\0'))
			result = lappend(result, nc);
	}
	return result;
}
