/*-------------------------------------------------------------------------
 *
 * remote_exec.h
 *	  Running statements on nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/remote_exec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_REMOTE_EXEC_H
#define SHARDEXT_REMOTE_EXEC_H

#include "fmgr.h"
#include "libpq-fe.h"
#include "nodes/pg_list.h"

#include "shardext/connection.h"

extern void SendRemoteQuery(NodeConnection *nc, const char *sql, int nParams,
							const char *const *paramValues);
extern void SendRemoteQueryTyped(NodeConnection *nc, const char *sql,
								 int nParams, const Oid *paramTypes,
								 const char *const *paramValues);
extern PGresult *GetRemoteResult(NodeConnection *nc);
extern void SendRemoteQueryStreaming(NodeConnection *nc, const char *sql,
									 int nParams, const Oid *paramTypes,
									 const char *const *paramValues);
extern bool RemoteRowReady(NodeConnection *nc);
extern PGresult *GetRemoteRow(NodeConnection *nc);
extern void SendRemoteStatements(NodeConnection *nc, const char *sql);
extern List *GetRemoteResults(NodeConnection *nc);
extern PGresult *RemoteExecuteTyped(NodeConnection *nc, const char *sql,
									int nParams, const Oid *paramTypes,
									const char *const *paramValues);
extern PGresult *RemoteExecute(NodeConnection *nc, const char *sql,
							   int nParams, const char *const *paramValues);
extern PGresult *RemoteExecutePrepared(NodeConnection *nc, const char *sql,
									   int nParams, const Oid *paramTypes,
									   const char *const *paramValues);
extern void RemoteExecuteCommand(NodeConnection *nc, const char *sql);
extern uint64 RemoteExecuteCount(NodeConnection *nc, const char *sql,
								 int nParams, const char *const *paramValues);
extern bool RemoteExecuteQuietly(NodeConnection *nc, const char *sql);
extern PGresult *RemoteQueryQuietly(NodeConnection *nc, const char *sql);
extern bool RemoteCommandSucceeds(NodeConnection *nc, const char *sql);
extern void ReportRemoteError(NodeConnection *nc, PGresult *res) pg_attribute_noreturn();
extern void RemoteCopyIn(NodeConnection *nc, const char *copyCommand,
						 const char *data, int length, bool wait);
extern void FinishPendingCopy(NodeConnection *nc);
extern void RememberCopyLines(NodeConnection *nc, const uint64 *lines,
							  int count, const char *tableName);
extern bool DiscardPendingCopy(NodeConnection *nc);
extern bool DrainConnection(NodeConnection *nc, bool cancel);
extern void LogRemoteCommand(NodeConnection *nc, const char *sql);

extern char *ExactOutputFunctionCall(FmgrInfo *flinfo, Datum value);

#endif							/* SHARDEXT_REMOTE_EXEC_H */
