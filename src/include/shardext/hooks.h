/*-------------------------------------------------------------------------
 *
 * hooks.h
 *	  Entry points of the hooks that shardext installs.
 *
 * IDENTIFICATION
 *	  src/include/shardext/hooks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_HOOKS_H
#define SHARDEXT_HOOKS_H

extern PGDLLIMPORT bool ShardextPlanCoordinatorTables;
extern PGDLLIMPORT bool PlanningCoordinatorTables;

extern void ShardextInstallPlannerHooks(void);
extern void ShardextInstallUtilityHook(void);
extern void ShardextInstallPathlistHook(void);

#endif							/* SHARDEXT_HOOKS_H */
