/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  Routing rows to shards in COPY text format, and back.
 *
 * Rows bound for a distributed table are turned into COPY text lines with
 * the columns' output functions and buffered per shard; a full buffer is
 * sent to the shard's node with one COPY ... FROM STDIN in the remote
 * transaction.  Memory stays bounded by shard count times the flush
 * threshold.
 *
 * The other way, CopyShardIntoRelation streams a shard's COPY ... TO STDOUT
 * into PostgreSQL's own COPY FROM machinery on the coordinator, so that
 * defaults, constraints, indexes and triggers of the local table apply.
 *
 * IDENTIFICATION
 *	  src/copy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/copy.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "shardext/copy.h"
#include "shardext/foreign_keys.h"
#include "shardext/remote_exec.h"
#include "shardext/routing.h"
#include "shardext/transaction.h"

/* bytes buffered for one shard before they are sent */
#define SHARD_FLUSH_THRESHOLD (4 * 1024 * 1024)

/* the remote COPY stream that CopyShardDataSource reads from */
static NodeConnection *CopySourceConnection = NULL;
static char *CopySourceBuffer = NULL;
static int	CopySourceLength = 0;
static int	CopySourceOffset = 0;
static bool CopySourceDone = false;

static int	CopyShardDataSource(void *outbuf, int minread, int maxread);

/*
 * CopyableAttnums returns the attribute numbers of the columns that COPY
 * carries: not dropped, not generated.
 */
List *
CopyableAttnums(TupleDesc tupleDesc)
{
	List	   *attnums = NIL;
	int			i;

	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, i);

		if (attr->attisdropped || attr->attgenerated)
			continue;
		attnums = lappend_int(attnums, i + 1);
	}
	return attnums;
}

/*
 * ColumnListSql returns "(a, b, ...)" for the given columns, quoted; ""
 * for none (a table whose columns are all generated or dropped).
 */
char *
ColumnListSql(TupleDesc tupleDesc, List *attnums)
{
	StringInfoData buf;
	ListCell   *lc;

	if (attnums == NIL)
		return "";
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	foreach(lc, attnums)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, lfirst_int(lc) - 1);

		if (lc != list_head(attnums))
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(NameStr(attr->attname)));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * AppendCopyText appends a value to a COPY text line, escaping the
 * characters that COPY's text format gives a meaning to.
 */
void
AppendCopyText(StringInfo buf, const char *value)
{
	const char *p;

	for (p = value; *p != '\0'; p++)
	{
		switch (*p)
		{
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			default:
				appendStringInfoChar(buf, *p);
				break;
		}
	}
}

/*
 * CreateShardRowRouter prepares to route rows of the given descriptor to
 * the shards of a table, sending the columns in attnums (NIL: every column
 * COPY carries).  Everything is allocated in the current memory context.
 */
ShardRowRouter *
CreateShardRowRouter(ShardextTable *table, TupleDesc tupleDesc, List *attnums)
{
	ShardRowRouter *router = palloc0(sizeof(ShardRowRouter));
	ListCell   *lc;
	int			i;

	router->table = table;
	router->tupleDesc = tupleDesc;
	router->attnums = attnums != NIL ? attnums : CopyableAttnums(tupleDesc);
	router->columnList = ColumnListSql(tupleDesc, router->attnums);
	router->outputFunctions = palloc0(sizeof(FmgrInfo) * tupleDesc->natts);
	foreach(lc, router->attnums)
	{
		int			attnum = lfirst_int(lc);
		Oid			outputFunction;
		bool		isVarlena;

		getTypeOutputInfo(TupleDescAttr(tupleDesc, attnum - 1)->atttypid,
						  &outputFunction, &isVarlena);
		fmgr_info(outputFunction, &router->outputFunctions[attnum - 1]);
	}
	router->buffers = palloc0(sizeof(StringInfoData) * table->shardCount);
	for (i = 0; i < table->shardCount; i++)
		initStringInfo(&router->buffers[i]);
	router->rowCounts = palloc0(sizeof(uint64) * table->shardCount);
	router->lines = palloc0(sizeof(uint64 *) * table->shardCount);
	router->lineCounts = palloc0(sizeof(int) * table->shardCount);
	router->lineCapacities = palloc0(sizeof(int) * table->shardCount);
	router->flushThreshold = SHARD_FLUSH_THRESHOLD;
	return router;
}

/*
 * RouteSlotToShard appends the row in slot to the buffer of its shard,
 * flushing the buffer when it is full, and returns the shard index.
 * inputLine is the row's line in the COPY input (0 when there is none): a
 * node's error about the row names it.
 */
int
RouteSlotToShard(ShardRowRouter *router, TupleTableSlot *slot, uint64 inputLine)
{
	ShardextTable *table = router->table;
	ShardextShard *shard;
	StringInfo	buf;
	ListCell   *lc;

	slot_getallattrs(slot);
	if (table->distAttno != InvalidAttrNumber)
		shard = FindShardForValue(table, slot->tts_values[table->distAttno - 1],
								  slot->tts_isnull[table->distAttno - 1]);
	else
		shard = table->shards[0];

	buf = &router->buffers[shard->shardIndex];
	foreach(lc, router->attnums)
	{
		int			attnum = lfirst_int(lc);

		if (lc != list_head(router->attnums))
			appendStringInfoChar(buf, '\t');
		if (slot->tts_isnull[attnum - 1])
			appendStringInfoString(buf, "\\N");
		else
			AppendCopyText(buf,
						   ExactOutputFunctionCall(&router->outputFunctions[attnum - 1],
											  slot->tts_values[attnum - 1]));
	}
	appendStringInfoChar(buf, '\n');
	if (inputLine > 0)
	{
		int			i = shard->shardIndex;

		if (router->lineCounts[i] >= router->lineCapacities[i])
		{
			router->lineCapacities[i] = Max(64, router->lineCapacities[i] * 2);
			router->lines[i] = router->lines[i] == NULL ?
				MemoryContextAlloc(GetMemoryChunkContext(router),
								   sizeof(uint64) * router->lineCapacities[i]) :
				repalloc(router->lines[i], sizeof(uint64) * router->lineCapacities[i]);
		}
		router->lines[i][router->lineCounts[i]++] = inputLine;
	}
	router->rowCounts[shard->shardIndex]++;
	router->totalRows++;

	if (buf->len >= router->flushThreshold)
	{
		/* several batches: checks at the end wait until then */
		if (router->deferKeys && router->deferral == NULL)
		{
			/* rows are routed in a per-row context: it lives with the router */
			MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(router));

			router->deferral = BeginKeyDeferral(table->relid);
			MemoryContextSwitchTo(old);
		}
		FlushShardBuffer(router, shard->shardIndex);
	}
	return shard->shardIndex;
}

/*
 * FlushShardBuffer sends the buffered rows of one shard to every node that
 * holds it.
 */
void
FlushShardBuffer(ShardRowRouter *router, int shardIndex)
{
	StringInfo	buf = &router->buffers[shardIndex];
	ShardextShard *shard = router->table->shards[shardIndex];
	char	   *command;
	ErrorContextCallback *savedContext;
	ListCell   *lc;

	if (buf->len == 0)
		return;
	command = psprintf("COPY %s %s FROM STDIN", shard->relationName,
					   router->columnList);

	/*
	 * A node's error about an earlier batch surfaces here: it names its own
	 * row's line (see RememberCopyLines), not the input line being read.
	 * (An error leaves the stack to whoever catches it, who restores its
	 * own; PG_TRY here would restore the shortened stack on the way out.)
	 */
	savedContext = error_context_stack;
	if (router->inputContext != NULL && error_context_stack == router->inputContext)
		error_context_stack = router->inputContext->previous;
	foreach(lc, shard->placementNodeIds)
	{
		NodeConnection *nc = GetNodeConnectionInTransaction(lfirst_int(lc),
															true);

		DeferKeysOnNode(router->deferral, nc);
		RemoteCopyIn(nc, command, buf->data, buf->len, false);
		if (router->lineCounts[shardIndex] > 0)
			RememberCopyLines(nc, router->lines[shardIndex],
							  router->lineCounts[shardIndex],
							  get_rel_name(router->table->relid));
	}
	error_context_stack = savedContext;
	resetStringInfo(buf);
	router->lineCounts[shardIndex] = 0;
}

/*
 * FlushAllShardBuffers sends what is left in every buffer, and waits for
 * every node to have loaded its rows.
 */
void
FlushAllShardBuffers(ShardRowRouter *router)
{
	int			i;
	ListCell   *lc;

	for (i = 0; i < router->table->shardCount; i++)
		FlushShardBuffer(router, i);
	for (i = 0; i < router->table->shardCount; i++)
		foreach(lc, router->table->shards[i]->placementNodeIds)
			FinishPendingCopy(GetNodeConnection(lfirst_int(lc)));
}

/*
 * CopyShardDataSource feeds COPY FROM with the data of the remote COPY TO
 * stream set up by CopyShardIntoRelation.
 */
static int
CopyShardDataSource(void *outbuf, int minread, int maxread)
{
	int			copied = 0;

	while (copied < minread && !CopySourceDone)
	{
		int			n;

		if (CopySourceOffset >= CopySourceLength)
		{
			if (CopySourceBuffer != NULL)
				PQfreemem(CopySourceBuffer);
			CopySourceBuffer = NULL;
			CopySourceOffset = 0;
			CopySourceLength = PQgetCopyData(CopySourceConnection->conn,
											 &CopySourceBuffer, false);
			if (CopySourceLength == -1)
			{
				CopySourceDone = true;
				CopySourceLength = 0;
				break;
			}
			if (CopySourceLength < 0)
			{
				CopySourceLength = 0;
				CloseConnectionAtEndOfTransaction(CopySourceConnection);
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not read rows from node %s",
								CopySourceConnection->label),
						 errdetail_internal("%s",
											pchomp(PQerrorMessage(CopySourceConnection->conn)))));
			}
		}
		n = Min(maxread - copied, CopySourceLength - CopySourceOffset);
		memcpy((char *) outbuf + copied, CopySourceBuffer + CopySourceOffset, n);
		CopySourceOffset += n;
		copied += n;
	}
	return copied;
}

/*
 * CopyShardIntoRelation copies every row of a shard into the local table
 * rel through COPY, and returns the number of rows.
 */
uint64
CopyShardIntoRelation(int32 nodeId, const char *shardName, Relation rel)
{
	NodeConnection *nc = GetNodeConnectionInTransaction(nodeId, false);
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	List	   *attnums = CopyableAttnums(tupleDesc);
	List	   *attnames = NIL;
	ListCell   *lc;
	PGresult   *res;
	CopyFromState cstate;
	uint64		rows;

	foreach(lc, attnums)
		attnames = lappend(attnames,
						   makeString(pstrdup(NameStr(TupleDescAttr(tupleDesc,
																	lfirst_int(lc) - 1)->attname))));

	SendRemoteQuery(nc, psprintf("COPY %s %s TO STDOUT", shardName,
								 ColumnListSql(tupleDesc, attnums)),
					0, NULL);
	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
		ReportRemoteError(nc, res);
	PQclear(res);

	CopySourceConnection = nc;
	CopySourceBuffer = NULL;
	CopySourceLength = 0;
	CopySourceOffset = 0;
	CopySourceDone = false;
	PG_TRY();
	{
		/* COPY FROM finds its target through the parse state's range table */
		ParseState *pstate = make_parsestate(NULL);

		addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL,
									  false, false);
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false,
							   CopyShardDataSource, attnames, NIL);
		rows = CopyFrom(cstate);
		EndCopyFrom(cstate);
		/* read the rest of the stream, if COPY stopped early */
		while (!CopySourceDone)
		{
			char		discard[8192];

			CopyShardDataSource(discard, sizeof(discard), sizeof(discard));
		}
	}
	PG_CATCH();
	{
		/* the node may still be sending: do not reuse the connection */
		CloseConnectionAtEndOfTransaction(nc);
		if (CopySourceBuffer != NULL)
			PQfreemem(CopySourceBuffer);
		CopySourceBuffer = NULL;
		CopySourceConnection = NULL;
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (CopySourceBuffer != NULL)
		PQfreemem(CopySourceBuffer);
	CopySourceBuffer = NULL;
	CopySourceConnection = NULL;

	res = GetRemoteResult(nc);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ReportRemoteError(nc, res);
	PQclear(res);
	return rows;
}

/*
 * CopyShardToNode copies every row of a shard from the node sourceNodeId
 * to the empty shard table of the same name on the node targetNodeId; see
 * CopyShardRowsToNode.
 */
uint64
CopyShardToNode(int32 sourceNodeId, int32 targetNodeId, const char *shardName,
				Relation rel)
{
	return CopyShardRowsToNode(sourceNodeId, targetNodeId, shardName, shardName,
							   NULL, rel);
}

/*
 * CopyShardRowsToNode copies the rows of shard sourceName on node
 * sourceNodeId that match where (SQL, or NULL for all) into shard
 * targetName on another node, in the remote transactions: COPY TO STDOUT
 * there, COPY FROM STDIN here, in batches.  rel is the distributed table
 * (for its columns).  Returns the number of rows.
 */
uint64
CopyShardRowsToNode(int32 sourceNodeId, int32 targetNodeId,
					const char *sourceName, const char *targetName,
					const char *where, Relation rel)
{
	NodeConnection *source = GetNodeConnectionInTransaction(sourceNodeId, false);
	NodeConnection *target = GetNodeConnectionInTransaction(targetNodeId, true);
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	char	   *columns = ColumnListSql(tupleDesc, CopyableAttnums(tupleDesc));
	char	   *copyIn = psprintf("COPY %s %s FROM STDIN", targetName, columns);
	char	   *copyOut;
	StringInfoData batch;
	PGresult   *res;
	uint64		rows = 0;

	if (where == NULL)
		copyOut = psprintf("COPY %s %s TO STDOUT", sourceName, columns);
	else
		copyOut = psprintf("COPY (SELECT %s FROM %s WHERE %s) TO STDOUT",
						   pnstrdup(columns + 1, strlen(columns) - 2),
						   sourceName, where);
	FinishPendingCopy(source);
	SendRemoteQuery(source, copyOut, 0, NULL);
	res = GetRemoteResult(source);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
		ReportRemoteError(source, res);
	PQclear(res);

	initStringInfo(&batch);
	PG_TRY();
	{
		for (;;)
		{
			char	   *line;
			int			length = PQgetCopyData(source->conn, &line, false);

			if (length == -1)
				break;
			if (length < 0)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not read rows from node %s", source->label),
						 errdetail_internal("%s", pchomp(PQerrorMessage(source->conn)))));
			appendBinaryStringInfo(&batch, line, length);
			PQfreemem(line);
			rows++;
			if (batch.len >= SHARD_FLUSH_THRESHOLD)
			{
				RemoteCopyIn(target, copyIn, batch.data, batch.len, true);
				resetStringInfo(&batch);
			}
		}
	}
	PG_CATCH();
	{
		/* the source may still be sending: do not reuse its connection */
		CloseConnectionAtEndOfTransaction(source);
		PG_RE_THROW();
	}
	PG_END_TRY();
	res = GetRemoteResult(source);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ReportRemoteError(source, res);
	PQclear(res);
	if (batch.len > 0)
		RemoteCopyIn(target, copyIn, batch.data, batch.len, true);
	return rows;
}
