/*-------------------------------------------------------------------------
 *
 * connection.h
 *	  Connections from the coordinator to the nodes.
 *
 * IDENTIFICATION
 *	  src/include/shardext/connection.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHARDEXT_CONNECTION_H
#define SHARDEXT_CONNECTION_H

#include "datatype/timestamp.h"
#include "libpq-fe.h"
#include "nodes/parsenodes.h"

#include "shardext/metadata_cache.h"

extern PGconn *ConnectWithTimeout(const char *const *keywords,
								  const char *const *values,
								  const char *nodeLabel);
extern void CloseNodeConnection(PGconn *conn);
extern bool WaitForNodeSocket(PGconn *conn, int events, TimestampTz deadline);
extern PGconn *ConnectToAddress(const char *host, int port, const char *dbname);
extern PGconn *ConnectToNode(const ShardextNode *node);
extern PGconn *ConnectToNodeQuietly(const ShardextNode *node, int timeoutMs);
extern const char *NodeSessionTag(void);

/* a node's connection of this backend, and its remote transaction state */
/* how many session settings follow the coordinator's (remote_exec.c) */
#define SESSION_SETTING_COUNT 12

/*
 * What the session settings sent to a node depend on, as raw values: when
 * none changed since they were last sent, SyncSessionSettings need not
 * compare the settings' text.
 */
typedef struct SettingsFingerprint
{
	const void *timezone;
	const void *textSearchConfig;
	const void *abbreviations;
	const void *node;
	int			dateStyle;
	int			dateOrder;
	int			intervalStyle;
	int			floatDigits;
	int			byteaOutput;
	int			xmlOption;
	int			xmlBinary;
	int			lockTimeout;
	bool		quoteAllIdentifiers;
	int			nodeParallelWorkers;
} SettingsFingerprint;

typedef struct NodeConnection
{
	int32		nodeId;			/* hash key (node, slot): must be first */
	int32		slot;			/* 0: the node's main connection; 1..: more
								 * for statements that read in parallel */
	PGconn	   *conn;			/* NULL when not connected */
	char	   *label;			/* "id (host:port)", for messages */
	bool		inTransaction;	/* a remote transaction is open */
	int			xactDepth;		/* remote (sub)transaction level reached */
	bool		wroteInTransaction; /* a write was sent in this transaction */
	char		preparedGid[64];	/* prepared for two-phase commit, or "" */
	bool		broken;			/* must be closed at transaction end */
	bool		soleWrite;		/* the statement asked for is a write that is
								 * its node's whole (implicit) transaction */
	bool		writeSent;		/* ... and it is the one running (not the
								 * settings or PREPARE sent before it) */
	bool		cancelSent;		/* a cancel of that write was sent: how the
								 * statement ended decides (GetRemoteResult) */
	bool		invalidated;	/* server options changed: reconnect */
	bool		copyPending;	/* a COPY was sent, its result not read */
	/* the input lines of that COPY's rows (see FinishPendingCopy), or NULL */
	uint64	   *copyLines;		/* in TopMemoryContext */
	int			copyLineCount;
	char	   *copyTable;		/* the table, for messages */
	/* a statement sent ahead by a scan: how to read its result first */
	void		(*pendingDrain) (struct NodeConnection *nc, void *arg);
	void	   *pendingArg;
	int			pendingLevel;	/* transaction nest level it was sent at */
	struct HTAB *statements;	/* statements prepared on this connection */
	struct WaitEventSet *waitSet;	/* latch, postmaster death, socket */
	char	   *settings[SESSION_SETTING_COUNT];	/* session settings sent to
												 * the node, or NULL: see
												 * SyncSessionSettings */
	SettingsFingerprint fingerprint;	/* of those settings, valid while
										 * settings[0] is set */
	int			replicationRole;	/* session_replication_role the node has,
									 * or -1: unknown */
	TimestampTz lastUsed;		/* start of the last statement that used it */
	int			statementCount;
	uint64		statementEpoch; /* ShardextShapeEpoch when statements were
								 * last known valid */
	Oid			userid;			/* the role it was opened for (its user
								 * mapping) */
} NodeConnection;

extern void ShardextInitConnections(void);
extern NodeConnection *GetNodeConnection(int32 nodeId);
extern NodeConnection *GetNodeConnectionSlot(int32 nodeId, int32 slot);
extern NodeConnection *FindNodeConnection(int32 nodeId);
extern void SetRemoteConstraintMode(ConstraintsSetStmt *stmt);
extern bool ConstraintDeferredNow(Oid constraintOid, bool initiallyDeferred);
extern NodeConnection *GetNodeConnectionInTransaction(int32 nodeId,
													  bool forWrite);
extern NodeConnection *GetNodeConnectionForStatement(int32 nodeId,
													 bool forWrite,
													 bool onlyStatement);
extern void CloseConnectionAtEndOfTransaction(NodeConnection *nc);
extern List *OpenNodeConnections(void);
extern void DrainBusyConnections(bool cancel, bool cancelReadOnly);
extern void ForgetPendingScans(int nestLevel);
extern void ResetNodeConnection(NodeConnection *nc);
extern void ReconnectNodeConnection(NodeConnection *nc);
extern void ForgetSessionSettings(NodeConnection *nc);

#endif							/* SHARDEXT_CONNECTION_H */
