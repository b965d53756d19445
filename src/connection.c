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
 * IDENTIFICATION
 *	  src/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "shardext/connection.h"
#include "shardext/guc.h"

/* the oldest server version a node may run */
#define MIN_NODE_SERVER_VERSION 150000

static bool IsLibpqOption(const char *keyword);

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
		PostgresPollingStatusType pollStatus = PGRES_POLLING_WRITING;

		conn = PQconnectStartParams(keywords, values, false);
		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while connecting to node %s",
							nodeLabel)));
		if (PQstatus(conn) == CONNECTION_BAD)
			pollStatus = PGRES_POLLING_FAILED;

		while (pollStatus != PGRES_POLLING_OK)
		{
			long		remaining;
			int			events;
			int			rc;

			if (pollStatus == PGRES_POLLING_FAILED)
			{
				char	   *message = pchomp(PQerrorMessage(conn));

				ereport(ERROR,
						(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						 errmsg("could not connect to node %s", nodeLabel),
						 errdetail_internal("%s", message),
						 errhint("Check that the node is running and accepts "
								 "connections from the coordinator.")));
			}

			remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														deadline);
			if (remaining <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						 errmsg("could not connect to node %s", nodeLabel),
						 errdetail("The node did not answer within "
								   "shardext.connect_timeout (%d s).",
								   ShardextConnectTimeout),
						 errhint("Check that the node is running and reachable, "
								 "or raise shardext.connect_timeout.")));

			events = (pollStatus == PGRES_POLLING_READING) ?
				WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_TIMEOUT |
								   WL_EXIT_ON_PM_DEATH | events,
								   PQsocket(conn), remaining,
								   PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			if (rc & events)
				pollStatus = PQconnectPoll(conn);
		}

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
 * ConnectToNode connects to a registered node with the options of its
 * foreign server and of the current user's user mapping.
 */
PGconn *
ConnectToNode(const ShardextNode *node)
{
	ForeignServer *server = GetForeignServerByName(node->serverName, false);
	UserMapping *mapping = GetUserMapping(GetUserId(), server->serverid);
	List	   *options = list_concat(list_copy(server->options),
									  mapping->options);
	int			n = list_length(options) + 4;
	const char **keywords = palloc0(sizeof(char *) * n);
	const char **values = palloc0(sizeof(char *) * n);
	bool		hasUser = false;
	ListCell   *lc;
	int			i = 0;

	foreach(lc, options)
	{
		DefElem    *option = lfirst(lc);

		if (!IsLibpqOption(option->defname))
			continue;
		if (strcmp(option->defname, "user") == 0)
			hasUser = true;
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
	keywords[i] = "fallback_application_name";
	values[i] = "shardext";
	i++;
	keywords[i] = "client_encoding";
	values[i] = GetDatabaseEncodingName();

	return ConnectWithTimeout(keywords, values,
							  psprintf("%d (%s:%d)", node->nodeId,
									   node->host, node->port));
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
