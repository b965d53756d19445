/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  The planner hook: entry point of distributed planning.
 *
 * Queries that touch no distributed table go to the previous planner hook
 * (or the standard planner) untouched, after a check that costs a scan of
 * the range table and nothing when the extension is not installed.
 *
 * IDENTIFICATION
 *	  src/planner.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "optimizer/planner.h"

#include "shardext/hooks.h"

static planner_hook_type PrevPlannerHook = NULL;

static PlannedStmt *ShardextPlanner(Query *parse, const char *queryString,
									int cursorOptions,
									ParamListInfo boundParams);

/*
 * ShardextInstallPlannerHooks installs the planner hook, keeping the
 * previous one.
 */
void
ShardextInstallPlannerHooks(void)
{
	PrevPlannerHook = planner_hook;
	planner_hook = ShardextPlanner;
}

/*
 * ShardextPlanner plans a query.
 */
static PlannedStmt *
ShardextPlanner(Query *parse, const char *queryString, int cursorOptions,
				ParamListInfo boundParams)
{
	if (PrevPlannerHook != NULL)
		return PrevPlannerHook(parse, queryString, cursorOptions, boundParams);
	return standard_planner(parse, queryString, cursorOptions, boundParams);
}
