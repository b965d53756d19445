/*-------------------------------------------------------------------------
 *
 * node.c
 *	  Adding and removing nodes.
 *
 * A node is a row of shardext.nodes plus a postgres_fdw foreign server
 * named shardext_node_<id> and a user mapping for the user who added it.
 * The coordinator is node 0, registered by CREATE EXTENSION, so that with
 * no worker it can hold shards itself (single-node mode).
 *
 * Adding a node first connects to it (within shardext.connect_timeout), so
 * that a typo or a stopped server is reported at once, naming host:port.
 *
 * IDENTIFICATION
 *	  src/node.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "shardext/catalog.h"
#include "shardext/connection.h"
#include "shardext/distribute.h"
#include "shardext/metadata_cache.h"
#include "shardext/node.h"
#include "shardext/remote_exec.h"
#include "shardext/transaction.h"

/* a statement to run on one node, for TryInSubtransaction */
typedef struct DropContext
{
	int32		nodeId;
	char	   *sql;
} DropContext;

PG_FUNCTION_INFO_V1(shardext_add_node);
PG_FUNCTION_INFO_V1(shardext_remove_node);
PG_FUNCTION_INFO_V1(shardext_register_coordinator);

static void CheckNodeAddress(const char *host, int32 port, const char *dbname);
static char *DatabaseSetting(HeapTuple tuple, AttrNumber column);
static char *LocaleKey(const char *name);
static char *DescribeDatabaseSettings(char **values);
static char *DatabaseIdentity(PGconn *conn);
static void CheckNotRegisteredByAnotherName(const char *identity,
											 const char *host, int port,
											 const char *dbname);
static void CheckNodeDatabase(PGconn *conn, const char *host, int port,
							  const char *dbname);
static void InsertNode(int32 nodeId, const char *host, int32 port,
					   const char *dbname, NodeRole role, int32 primaryNodeId);
static int	CountPlacementsOnNode(int32 nodeId);
static void DropReferenceCopies(ShardextNode *node);
static void DropOnNode(void *arg);
static void CountPlacementCallback(Datum *values, bool *nulls, void *arg);

/* context of CountPlacementCallback */
typedef struct PlacementCount
{
	int32		nodeId;
	int			count;
} PlacementCount;

/*
 * RequireSuperuser raises an error unless the current user is a superuser:
 * nodes are cluster administration.
 */
static void
RequireSuperuser(const char *functionName)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", functionName),
				 errhint("Only a superuser can add or remove nodes.")));
}

/*
 * NodeServerName returns the name of the foreign server of a node.
 */
char *
NodeServerName(int32 nodeId)
{
	return psprintf("shardext_node_%d", nodeId);
}

/*
 * CheckNodeAddress validates host, port and dbname, so that a bad value is
 * reported plainly instead of as a libpq error.
 */
static void
CheckNodeAddress(const char *host, int32 port, const char *dbname)
{
	if (host[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("host must not be empty"),
				 errhint("Give the host name or IP address of the node.")));
	if (port < 1 || port > 65535)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("port %d is out of range", port),
				 errhint("A port is a number between 1 and 65535.")));
	if (dbname[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("database name must not be empty"),
				 errhint("Give the database of the node that will hold the "
						 "shards.")));
}

/*
 * InsertNode creates the node's foreign server and user mapping and its row
 * of shardext.nodes.
 */
static void
InsertNode(int32 nodeId, const char *host, int32 port, const char *dbname,
		   NodeRole role, int32 primaryNodeId)
{
	char	   *serverName = NodeServerName(nodeId);
	char	   *userName;
	char	   *sql;
	Oid			argTypes[7] = {INT4OID, TEXTOID, INT4OID, TEXTOID, TEXTOID,
	INT4OID, NAMEOID};
	Datum		args[7];
	char		nulls[7] = "       ";

	sql = psprintf("CREATE SERVER %s FOREIGN DATA WRAPPER postgres_fdw "
				   "OPTIONS (host %s, port %s, dbname %s)",
				   quote_identifier(serverName),
				   quote_literal_cstr(host),
				   quote_literal_cstr(psprintf("%d", port)),
				   quote_literal_cstr(dbname));
	ExecuteCatalogSql(sql, 0, NULL, NULL, NULL);

	/*
	 * The mapping is for the user calling us, not for the catalog's owner,
	 * and names the remote user, which postgres_fdw would otherwise take
	 * from the operating system.
	 */
	userName = GetUserNameFromId(GetUserId(), false);
	sql = psprintf("CREATE USER MAPPING FOR %s SERVER %s OPTIONS (user %s)",
				   quote_identifier(userName),
				   quote_identifier(serverName),
				   quote_literal_cstr(userName));
	ExecuteCatalogSql(sql, 0, NULL, NULL, NULL);

	args[0] = Int32GetDatum(nodeId);
	args[1] = CStringGetTextDatum(host);
	args[2] = Int32GetDatum(port);
	args[3] = CStringGetTextDatum(dbname);
	args[4] = CStringGetTextDatum(NodeRoleName(role));
	args[5] = Int32GetDatum(primaryNodeId);
	if (primaryNodeId == 0)
		nulls[5] = 'n';
	args[6] = DirectFunctionCall1(namein, CStringGetDatum(serverName));
	ExecuteCatalogSql("INSERT INTO shardext.nodes "
					  "(node_id, host, port, dbname, role, primary_node_id, "
					  "is_active, server_name) "
					  "VALUES ($1, $2, $3, $4, $5, $6, true, $7)",
					  7, argTypes, args, nulls);
}

/* DatabaseSetting returns a text column of the current database's row. */
static char *
DatabaseSetting(HeapTuple tuple, AttrNumber column)
{
	bool		isNull;
	Datum		datum = SysCacheGetAttr(DATABASEOID, tuple, column, &isNull);

	return isNull ? "" : TextDatumGetCString(datum);
}

/*
 * LocaleKey returns a libc locale name in a form in which two spellings of
 * the same locale are equal: POSIX is C, and the code set after the dot is
 * compared without case and punctuation (en_US.UTF-8 is en_US.utf8).
 */
static char *
LocaleKey(const char *name)
{
	StringInfoData buf;
	const char *dot = strchr(name, '.');
	const char *p;

	if (strcmp(name, "POSIX") == 0)
		return "C";
	if (dot == NULL)
		return pstrdup(name);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, name, dot - name + 1);
	for (p = dot + 1; *p != '\0' && *p != '@'; p++)
		if (isalnum((unsigned char) *p))
			appendStringInfoChar(&buf, pg_tolower((unsigned char) *p));
	appendStringInfoString(&buf, p);
	return buf.data;
}

/* the database settings CheckNodeDatabase compares, in this order */
#define DATABASE_SETTINGS 5
static const char *const DatabaseSettingNames[DATABASE_SETTINGS] = {
	"encoding", "locale provider", "LC_COLLATE", "LC_CTYPE", "ICU locale"
};

/* DescribeDatabaseSettings says the settings for a message (names quoted). */
static char *
DescribeDatabaseSettings(char **values)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < DATABASE_SETTINGS; i++)
		appendStringInfo(&buf, i < 2 ? "%s%s %s" : "%s%s \"%s\"",
						 i > 0 ? ", " : "", DatabaseSettingNames[i], values[i]);
	return buf.data;
}

/*
 * CheckNodeDatabase raises an error unless the database dbname of a node
 * (conn, which it closes) compares and sorts text as the coordinator's
 * does: the same encoding, locale provider, LC_COLLATE, LC_CTYPE and ICU
 * locale (libc locales compared by LocaleKey).  The nodes filter, sort,
 * group and index the shards' rows; under another collation they would
 * answer otherwise than the coordinator.
 */
static void
CheckNodeDatabase(PGconn *conn, const char *host, int port, const char *dbname)
{
	PGresult   *res;
	HeapTuple	tuple;
	Form_pg_database db;
	char	   *here[DATABASE_SETTINGS];
	char	   *there[DATABASE_SETTINGS];
	bool		same = true;
	int			i;

	/* (the ICU locale's column is datlocale from PostgreSQL 17 on) */
	res = PQexec(conn, "SELECT pg_catalog.pg_encoding_to_char(encoding), "
				 "CASE datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' "
				 "ELSE datlocprovider::text END, "
				 "datcollate, datctype, coalesce(pg_catalog.to_jsonb(d) ->> 'daticulocale', "
				 "pg_catalog.to_jsonb(d) ->> 'datlocale', '') "
				 "FROM pg_catalog.pg_database d WHERE datname = pg_catalog.current_database()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		char	   *message = pchomp(PQerrorMessage(conn));

		PQclear(res);
		CloseNodeConnection(conn);
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not read the settings of database \"%s\" on node %s:%d",
						dbname, host, port),
				 errdetail_internal("%s", message)));
	}
	for (i = 0; i < DATABASE_SETTINGS; i++)
		there[i] = pstrdup(PQgetvalue(res, 0, i));
	PQclear(res);
	CloseNodeConnection(conn);

	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	db = (Form_pg_database) GETSTRUCT(tuple);
	here[0] = pstrdup(GetDatabaseEncodingName());
	here[1] = db->datlocprovider == COLLPROVIDER_ICU ? "icu" :
		db->datlocprovider == COLLPROVIDER_LIBC ? "libc" :
		psprintf("%c", db->datlocprovider);
	here[2] = DatabaseSetting(tuple, Anum_pg_database_datcollate);
	here[3] = DatabaseSetting(tuple, Anum_pg_database_datctype);
	here[4] = DatabaseSetting(tuple, Anum_pg_database_daticulocale);
	ReleaseSysCache(tuple);

	for (i = 0; i < DATABASE_SETTINGS; i++)
	{
		bool		locale = (i == 2 || i == 3);

		if (strcmp(locale ? LocaleKey(here[i]) : here[i],
				   locale ? LocaleKey(there[i]) : there[i]) != 0)
			same = false;
	}
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("database \"%s\" on node %s:%d does not compare text as the coordinator's database does",
						dbname, host, port),
				 errdetail("The node's database has %s; the coordinator's has %s.",
						   DescribeDatabaseSettings(there),
						   DescribeDatabaseSettings(here)),
				 errhint("Create the node's database with the coordinator's settings "
						 "(CREATE DATABASE ... TEMPLATE template0 ENCODING ... LOCALE_PROVIDER ... "
						 "LC_COLLATE ... LC_CTYPE ... ICU_LOCALE ...).")));
}

/*
 * DatabaseIdentity returns what tells the database a connection reached
 * from every other, whatever the address used to reach it: its server's
 * system identifier and its OID ("sysid/oid"), or NULL when the node cannot
 * say.
 */
static char *
DatabaseIdentity(PGconn *conn)
{
	PGresult   *res;
	char	   *identity = NULL;

	res = PQexec(conn, "SELECT s.system_identifier::text || '/' || d.oid::text "
				 "FROM pg_catalog.pg_control_system() s, pg_catalog.pg_database d "
				 "WHERE d.datname = pg_catalog.current_database()");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		identity = pstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return identity;
}

/*
 * CheckNotRegisteredByAnotherName refuses a node database that is the
 * coordinator's own or that of a registered node reached by another address
 * (localhost for 127.0.0.1, a socket directory): two nodes in one database
 * would hold each other's shards, and one coordinator statement would wait
 * on itself there.  Registered nodes that cannot be reached are not
 * compared.
 */
static void
CheckNotRegisteredByAnotherName(const char *identity, const char *host,
								int port, const char *dbname)
{
	MemoryContext context = CurrentMemoryContext;
	ListCell   *lc;

	if (identity == NULL)
		return;
	if (strcmp(identity, psprintf(UINT64_FORMAT "/%u", GetSystemIdentifier(),
								  MyDatabaseId)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("database \"%s\" on node %s:%d is the coordinator's own database",
						dbname, host, port),
				 errdetail("The coordinator keeps its own placements (node 0) in it already."),
				 errhint("Add databases of other servers, or other databases, as workers.")));

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);
		char	   *other = NULL;

		if (node->role == NODE_ROLE_COORDINATOR)
			continue;
		PG_TRY();
		{
			PGconn	   *conn = ConnectToAddress(node->host, node->port,
												node->dbname);

			other = DatabaseIdentity(conn);
			CloseNodeConnection(conn);
		}
		PG_CATCH();
		{
			/* a node that is down now cannot be told apart */
			MemoryContextSwitchTo(context);
			FlushErrorState();
		}
		PG_END_TRY();
		if (other != NULL && strcmp(other, identity) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("database \"%s\" on node %s:%d is registered already as node %d (%s:%d)",
							dbname, host, port, node->nodeId, node->host, node->port),
					 errdetail("Both addresses reach the same database of the same server."),
					 errhint("The nodes are listed in shardext.nodes.")));
	}
}

/*
 * shardext_add_node(host, port, dbname) registers a worker and returns its
 * node id.  The node must answer within shardext.connect_timeout.
 */
Datum
shardext_add_node(PG_FUNCTION_ARGS)
{
	char	   *host = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		port = PG_GETARG_INT32(1);
	char	   *dbname = text_to_cstring(PG_GETARG_TEXT_PP(2));
	ShardextNode *existing;
	PGconn	   *conn;
	char	   *identity;
	int32		nodeId;

	RequireSuperuser("shardext_add_node");
	CheckNodeAddress(host, port, dbname);

	existing = ShardextFindNode(host, port);
	if (existing != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node %s:%d is already registered as node %d",
						host, port, existing->nodeId),
				 errhint("The nodes are listed in shardext.nodes.")));

	conn = ConnectToAddress(host, port, dbname);
	identity = DatabaseIdentity(conn);
	CheckNodeDatabase(conn, host, port, dbname);
	CheckNotRegisteredByAnotherName(identity, host, port, dbname);

	/* (an id the sequence was set back to is skipped: see NewColocationId) */
	do
		nodeId = DatumGetInt64(NextCatalogSequenceValue("nodes_node_id_seq"));
	while (ShardextGetNode(nodeId, true) != NULL);
	InsertNode(nodeId, host, port, dbname, NODE_ROLE_WORKER, 0);
	CommandCounterIncrement();

	/* before it takes shards, the node gets its reference tables */
	CopyReferenceTablesToNode(nodeId);

	PG_RETURN_INT32(nodeId);
}

/*
 * shardext_remove_node(host, port) unregisters a worker that holds no
 * shard placement and has no replica, dropping its foreign server.
 */
Datum
shardext_remove_node(PG_FUNCTION_ARGS)
{
	char	   *host = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		port = PG_GETARG_INT32(1);
	ShardextNode *node;
	ListCell   *lc;
	int			placements;
	Oid			argTypes[1] = {INT4OID};
	Datum		args[1];
	char	   *serverName;

	RequireSuperuser("shardext_remove_node");

	node = ShardextFindNode(host, port);
	if (node == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %s:%d is not registered", host, port),
				 errhint("The nodes are listed in shardext.nodes.")));
	if (node->role == NODE_ROLE_COORDINATOR)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot remove the coordinator"),
				 errdetail("Node %d is the coordinator itself.", node->nodeId)));

	placements = CountPlacementsOnNode(node->nodeId);
	if (placements > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg_plural("node %d (%s:%d) still holds %d shard placement",
							   "node %d (%s:%d) still holds %d shard placements",
							   placements,
							   node->nodeId, host, port, placements),
				 errhint("Undistribute the tables that use it (undistribute_table()), "
						 "or drop them, first.")));

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *other = lfirst(lc);

		if (other->primaryNodeId == node->nodeId)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("node %d (%s:%d) has replica node %d",
							node->nodeId, host, port, other->nodeId),
					 errhint("Remove the replica first.")));
	}

	DropReferenceCopies(node);

	args[0] = Int32GetDatum(node->nodeId);
	serverName = pstrdup(node->serverName);
	ExecuteCatalogSql("DELETE FROM shardext.placements WHERE node_id = $1",
					  1, argTypes, args, NULL);
	/* commit decisions kept for the node's recovery: it leaves with them */
	ExecuteCatalogSql("DELETE FROM shardext.transactions WHERE node_id = $1",
					  1, argTypes, args, NULL);
	/* the node goes first: its server cannot be dropped while it is registered */
	ExecuteCatalogSql("DELETE FROM shardext.nodes WHERE node_id = $1",
					  1, argTypes, args, NULL);
	CommandCounterIncrement();
	ExecuteCatalogSql(psprintf("DROP SERVER IF EXISTS %s CASCADE",
							   quote_identifier(serverName)),
					  0, NULL, NULL, NULL);

	PG_RETURN_VOID();
}

/*
 * DropReferenceCopies drops, in the current transaction, the copies of
 * reference tables that a node being removed holds, so that the node can be
 * added again later.  A node that cannot be reached keeps them: a WARNING
 * names them, and the node is removed all the same (it may be gone for
 * good).
 */
static void
DropReferenceCopies(ShardextNode *node)
{
	StringInfoData names;
	ListCell   *lc;
	DropContext context;
	ErrorData  *edata;

	initStringInfo(&names);
	foreach(lc, ShardextAllTables())
	{
		ShardextTable *table = lfirst(lc);

		if (IsReferenceTable(table) &&
			list_member_int(table->shards[0]->placementNodeIds, node->nodeId))
			appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
							 table->shards[0]->relationName);
	}
	if (names.len == 0)
		return;

	context.nodeId = node->nodeId;
	context.sql = psprintf("DROP TABLE IF EXISTS %s", names.data);
	edata = TryInSubtransaction(DropOnNode, &context);
	if (edata != NULL)
		ereport(WARNING,
				(errmsg("could not drop the copies of reference tables on node %d (%s:%d)",
						node->nodeId, node->host, node->port),
				 errdetail("%s", edata->message),
				 errhint("Drop %s on that node before adding it again.",
						 names.data)));
}

/* DropOnNode runs a DropContext's statement in the node's transaction. */
static void
DropOnNode(void *arg)
{
	DropContext *context = (DropContext *) arg;

	RemoteExecuteCommand(GetNodeConnectionInTransaction(context->nodeId, true),
						 context->sql);
}

/* CountPlacementCallback counts the placements on one node. */
static void
CountPlacementCallback(Datum *values, bool *nulls, void *arg)
{
	PlacementCount *count = (PlacementCount *) arg;

	ShardextTable *table = NULL;

	if (DatumGetInt32(values[Anum_placements_node_id - 1]) != count->nodeId)
		return;
	/* copies of reference tables go with the node */
	if (ShardextGetShard(DatumGetInt64(values[Anum_placements_shard_id - 1]),
						 &table) != NULL && IsReferenceTable(table))
		return;
	count->count++;
}

/* CountPlacementsOnNode returns how many shard placements a node holds. */
static int
CountPlacementsOnNode(int32 nodeId)
{
	PlacementCount count = {nodeId, 0};

	ScanCatalogTable("placements", CountPlacementCallback, &count);
	return count.count;
}

/*
 * shardext.register_coordinator() registers the coordinator itself as node
 * 0, reached through the first Unix socket directory (or 127.0.0.1 when
 * there is none) on its own port.  Run by CREATE EXTENSION.
 */
Datum
shardext_register_coordinator(PG_FUNCTION_ARGS)
{
	const char *socketDirs = GetConfigOption("unix_socket_directories",
											 true, false);
	const char *portString = GetConfigOption("port", false, false);
	char	   *host = NULL;

	if (socketDirs != NULL)
	{
		char	   *copy = pstrdup(socketDirs);
		char	   *comma = strchr(copy, ',');

		if (comma != NULL)
			*comma = '\0';
		host = copy;
		while (*host == ' ')
			host++;
		if (host[0] == '\0')
			host = NULL;
	}
	if (host == NULL)
		host = "127.0.0.1";

	InsertNode(COORDINATOR_NODE_ID, host, pg_strtoint32(portString),
			   get_database_name(MyDatabaseId), NODE_ROLE_COORDINATOR, 0);
	PG_RETURN_INT32(COORDINATOR_NODE_ID);
}

/*
 * NodesReachable returns the active workers, warning about (and leaving out)
 * those the current role has no user mapping for: statements about roles
 * and schemas, which a role that never uses distributed tables may run too,
 * do not fail for want of a mapping.
 */
List *
NodesReachable(const char *what)
{
	List	   *nodes = NIL;
	ListCell   *lc;

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);
		ForeignServer *server;

		if (node->role != NODE_ROLE_WORKER || !node->isActive)
			continue;
		server = GetForeignServerByName(node->serverName, true);
		if (server == NULL ||
			(!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(GetUserId()),
									ObjectIdGetDatum(server->serverid)) &&
			 !SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
									ObjectIdGetDatum(server->serverid))))
		{
			ereport(NOTICE,
					(errmsg("%s not applied on node %d (%s:%d)", what, node->nodeId,
							node->host, node->port),
					 errdetail("Role \"%s\" has no user mapping for server \"%s\".",
							   GetUserNameFromId(GetUserId(), false), node->serverName),
					 errhint("Run the statement again as a role with a user mapping for every node.")));
			continue;
		}
		nodes = lappend(nodes, node);
	}
	return nodes;
}
