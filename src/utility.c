/*-------------------------------------------------------------------------
 *
 * utility.c
 *	  The ProcessUtility hook: DDL on distributed tables and on shardext.
 *
 * DROP EXTENSION shardext first drops the foreign servers of the worker
 * nodes (created at run time, so not members of the extension), so that no
 * server is left behind pointing at a former node.
 *
 * IDENTIFICATION
 *	  src/utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"

#include "shardext/catalog.h"
#include "shardext/hooks.h"
#include "shardext/metadata_cache.h"

static ProcessUtility_hook_type PrevProcessUtility = NULL;

static void ShardextProcessUtility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree,
								   ProcessUtilityContext context,
								   ParamListInfo params,
								   QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);
static bool DropsShardextExtension(Node *parsetree);
static void DropNodeServers(void);

/*
 * ShardextInstallUtilityHook installs the ProcessUtility hook, keeping the
 * previous one.
 */
void
ShardextInstallUtilityHook(void)
{
	PrevProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = ShardextProcessUtility;
}

/*
 * ShardextProcessUtility handles the utility statements that concern
 * shardext, then runs the statement through the previous hook.
 */
static void
ShardextProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	if (DropsShardextExtension(pstmt->utilityStmt) &&
		ShardextExtensionLoaded())
		DropNodeServers();

	if (PrevProcessUtility != NULL)
		PrevProcessUtility(pstmt, queryString, readOnlyTree, context, params,
						   queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* DropsShardextExtension tells whether a statement is DROP EXTENSION shardext. */
static bool
DropsShardextExtension(Node *parsetree)
{
	DropStmt   *drop;
	ListCell   *lc;

	if (!IsA(parsetree, DropStmt))
		return false;
	drop = (DropStmt *) parsetree;
	if (drop->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, drop->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "shardext") == 0)
			return true;
	}
	return false;
}

/*
 * DropNodeServers drops the foreign server (and user mappings) of every
 * node but the coordinator, whose server belongs to the extension: only its
 * user mappings are dropped.
 */
static void
DropNodeServers(void)
{
	ListCell   *lc;

	foreach(lc, ShardextAllNodes())
	{
		ShardextNode *node = lfirst(lc);

		if (node->role == NODE_ROLE_COORDINATOR)
		{
			/* the server goes with the extension, its user mappings not */
			ExecuteCatalogSql(psprintf("DO $$DECLARE r record; BEGIN "
									   "FOR r IN SELECT usename FROM pg_catalog.pg_user_mappings "
									   "WHERE srvname = %s LOOP "
									   "EXECUTE pg_catalog.format('DROP USER MAPPING FOR %%s SERVER %%I', "
									   "CASE WHEN r.usename = 'public' THEN 'PUBLIC' "
									   "ELSE pg_catalog.quote_ident(r.usename) END, %s); "
									   "END LOOP; END$$",
									   quote_literal_cstr(node->serverName),
									   quote_literal_cstr(node->serverName)),
							  0, NULL, NULL, NULL);
			continue;
		}
		ExecuteCatalogSql(psprintf("DROP SERVER IF EXISTS %s CASCADE",
								   quote_identifier(node->serverName)),
						  0, NULL, NULL, NULL);
	}
}
