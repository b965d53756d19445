/*-------------------------------------------------------------------------
 *
 * remote_scan.c
 *	  Custom scan nodes that run SQL on shards.
 *
 * Three nodes do the remote work of distributed plans:
 *
 * - ShardextQuery runs a whole statement on shards: a router query (one
 *   shard group, picked at execution time by evaluating the pins, so that
 *   generic plans stay valid when shards move), or an UPDATE/DELETE on
 *   every shard of a table.  It returns the statement's rows and counts the
 *   rows it changed.
 * - ShardextScan reads one distributed table for a plan the standard
 *   planner built around it: it fetches the needed columns of every shard
 *   (or of the one shard an equality on the distribution column picks),
 *   with the quals that can run on the nodes, and leaves joins, grouping
 *   and sorting to the coordinator.
 * - ShardextInsert routes the rows of its subplan (VALUES, SELECT, ...) to
 *   their shards, in multi-row INSERTs per shard, and returns RETURNING
 *   rows.
 *
 * Results arrive as text and are read with the columns' input functions.
 * Every PGresult is cleared by a reset callback of the executor's memory
 * context when it is not cleared before, so an error never leaks one.
 *
 * IDENTIFICATION
 *	  src/remote_scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "portability/instr_time.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/tuplesort.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/xml.h"

#include "shardext/deparse.h"
#include "shardext/foreign_keys.h"
#include "shardext/guc.h"
#include "shardext/metadata_cache.h"
#include "shardext/modify.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/remote_scan.h"
#include "shardext/routing.h"
#include "shardext/transaction.h"

/* one statement for one node */
typedef struct RemoteTask
{
	int32		nodeId;
	int64		shardId;
	char	   *sql;
	double		elapsedMs;		/* how long the node took (-1: not run) */
	bool		mirror;			/* writes another copy: result not returned */
	int			slot;			/* which of the node's connections */
} RemoteTask;

/* reading the text rows of a PGresult into slots */
typedef struct RowDecoder
{
	int			natts;
	FmgrInfo   *inputFunctions;
	Oid		   *ioParams;
	int32	   *typmods;
} RowDecoder;

/* the PGresult a scan holds, cleared when the executor's memory goes */
typedef struct ResultHolder
{
	PGresult   *result;
	MemoryContextCallback callback;
} ResultHolder;

/* text parameters for a remote statement */
typedef struct RemoteParams
{
	int			count;
	Oid		   *types;
	const char **values;
} RemoteParams;

/*
 * The rows of one statement, read from a node one at a time (libpq
 * single-row mode): the coordinator holds one row, whatever the size of the
 * result.  Should anything else need the connection before the last row is
 * read, the rest is read into a tuplestore first (StoreStreamRows) and the
 * stream goes on from there.  A stream is set up once per scan and
 * restarted for each statement.
 */
typedef struct RowStream
{
	NodeConnection *nc;			/* while rows may still come from the node */
	EState	   *estate;
	RowDecoder *decoder;
	List	   *attnums;		/* where the result's columns go, or NIL */
	TupleDesc	desc;			/* of the decoded rows */
	ResultHolder *holder;		/* the row being decoded */
	Tuplestorestate *stored;	/* rows read ahead, or NULL */
	TupleTableSlot *storedSlot; /* for reading them */
	TupleTableSlot *drainSlot;	/* for storing them (the caller's slot may
								 * hold the row being returned) */
	MemoryContext drainContext;
	ResourceOwner owner;		/* the executor's, for the stored rows */
	int			rows;			/* rows read from the node */
	bool		finished;		/* the node sent its last row */
	instr_time	startedAt;
	double		elapsedMs;		/* until the last row came */
	MemoryContextCallback callback;
} RowStream;

typedef struct QueryScanState
{
	CustomScanState css;
	Oid			opener;			/* the role that started the executor */
	QueryTemplate template;
	List	   *relids;
	List	   *pinStates;		/* ExprState * or NULL, parallel to relids */
	List	   *pinTypes;		/* type of each pin */
	ExprState  *pinListState;	/* all shards: column IN (array) picks some */
	Oid			pinListType;	/* the array's element type */
	QueryScanMode mode;
	int			paramCount;
	List	   *constants;		/* Const values of parameters after paramCount */
	CmdType		commandType;
	RowDecoder *decoder;
	List	   *tasks;
	bool		tasksReady;
	int			nextTask;
	ResultHolder **batchHolders;	/* results of the batched statements */
	int			batchCount;
	int			batchIndex;
	ResultHolder *holder;
	int			nextRow;
	MemoryContext rowContext;
	List	   *openRelations;	/* a cursor's tables: OpenCursorTables */
} QueryScanState;

/* shards read by one statement of a ShardextScan, at most */
#define SCAN_BATCH_SHARDS 64

typedef struct TableScanState
{
	CustomScanState css;
	Oid			opener;			/* the role that started the executor */
	Oid			relid;
	char	   *selectSql;		/* "SELECT cols FROM " */
	char	   *whereSql;		/* " r WHERE ..." */
	List	   *attnums;
	ExprState  *pinState;
	Oid			pinType;
	ExprState  *pinListState;	/* column IN (array): one shard per element */
	Oid			pinListType;	/* the array's element type */
	int			paramCount;
	List	   *timeExprs;		/* now() and its kin, sent after the params */
	bool		pinRemote;		/* the pin's value is sent, after those */
	char	   *pinText;		/* that value, as text */
	/* a computed IN list is sent too, to each shard its values: */
	char	   *pinListPrefix;	/* " AND r.col = ANY ($" */
	char	   *pinListSuffix;	/* "::type[])" */
	char	  **pinListTexts;	/* per shard index: its values as an array */
	bool		ran;			/* the shards were computed at least once */
	RowDecoder *decoder;
	List	   *batches;		/* Lists of shard indexes: one node's each */
	bool		shardsReady;
	int			nextBatch;		/* next position in batches */
	MemoryContext rowContext;
	RowStream  *streams[2];		/* the shard being read, and the next one */
	int			current;		/* stream being read, or -1 */
	/* the next shard, sent ahead to another node while this one is read */
	int			prefetchPosition;	/* in batches, or -1 */

	/*
	 * A scan whose statements do not depend on outer rows reads the same
	 * rows on every rescan: from the first rescan on, they are read once
	 * into a tuplestore and replayed from there.
	 */
	bool		stable;
	Bitmapset  *pinParams;		/* else: the executor parameters of the pins */
	bool		fromCache;		/* rows come from the cache */
	bool		cacheFilled;
	int64		cacheReplays;	/* rescans served by the cache */
	Tuplestorestate *cache;
	TupleTableSlot *cacheSlot;
} TableScanState;

typedef struct InsertScanState
{
	CustomScanState css;
	Oid			relid;
	QueryTemplate prefix;
	QueryTemplate tail;
	int			columnCount;
	int			distColumn;		/* 1-based position in the subplan's rows */
	int			paramCount;		/* the statement's own and timeExprs' */
	List	   *timeExprs;		/* now() and its kin, after its own params */
	RowDecoder *decoder;		/* for RETURNING rows */
	FmgrInfo   *outputFunctions;
	Oid		   *columnTypes;
	Tuplestorestate *returning;
	TupleTableSlot *returningSlot;	/* reads the tuplestore */
	/* RETURNING rows, sorted back into the order of the rows inserted */
	Tuplesortstate *sorter;
	TupleTableSlot *sortSlot;	/* the returned columns + the row's position */
	TupleTableSlot *sortedSlot; /* reads the sorter */
	int64		nextOrdinal;
	bool		done;
	ResultHolder *holder;
	KeyDeferral *deferral;		/* once the statement sends several batches */
	MemoryContext rowContext;
	List	   *arbiterColumns; /* ON CONFLICT DO UPDATE: positions of the
								 * key columns in the rows, or NIL */
	HTAB	  **seenKeys;		/* per shard sent in several batches: hashes
								 * of the keys of its rows so far */
	FmgrInfo  **keyHashFunctions;	/* per arbiter column: its type's hash
									 * (equal values hash alike), or NULL */
	Oid		   *keyCollations;	/* per arbiter column */
} InsertScanState;

/* a row waiting to be sent to its shard, and its position in the input */
typedef struct PendingRow
{
	int64		ordinal;
	uint64		keyHash;		/* of its arbiter columns' values */
	bool		keyNull;		/* one of them is null: no conflict */
	char	   *values[FLEXIBLE_ARRAY_MEMBER];
} PendingRow;

typedef struct PartialScanState
{
	CustomScanState css;
	Oid			opener;			/* the role that started the executor */
	QueryTemplate template;
	List	   *relids;			/* co-located tables of the subquery */
	int			paramCount;
	bool		perShard;		/* a single table's subquery runs per shard,
								 * not over the union of a node's shards */
	List	   *timeExprs;		/* now() and its kin, sent after the params */
	char	   *unionColumns;	/* select list of each shard in a union */
	RowDecoder *decoder;
	bool		started;
	int			nodeCount;
	RowStream **streams;		/* one per task */
	int32	   *nodeIds;		/* node of each task */
	int		   *slots;			/* connection of each task on its node */
	int			remaining;		/* streams not finished */
	int			current;		/* stream read last */
	MemoryContext rowContext;
	List	   *openRelations;	/* a cursor's tables: OpenCursorTables */
} PartialScanState;

static void RememberArbiterKey(InsertScanState *state, HTAB *keys,
							   PendingRow *row, bool check);
static void RememberBatchKeys(InsertScanState *state, int shardIndex, List *rows);
static void HashArbiterKey(InsertScanState *state, TupleTableSlot *slot,
						   PendingRow *row);
static bool StartScanAtBegin(CustomScanState *node, int eflags);
static TupleTableSlot *NextAsOpener(ScanState *node, Oid opener,
									TupleTableSlot *(*next) (ScanState *));
static Oid	RemoteParamType(Oid typid);
static bool CollectExecParams(Node *node, Bitmapset **params);
static char *ShardValuesText(ShardextTable *table, Datum *values,
							 List *positions, MemoryContext context);
static List *OpenCursorTables(List *relids);
static void CloseCursorTables(List *relations);
static void StartPartialScan(PartialScanState *state);
static void PrepareQueryTasks(QueryScanState *state);
static void RunNextQueryTask(QueryScanState *state);
static void PrepareTableScanBatches(TableScanState *state);
static bool StartNextTableBatch(TableScanState *state);
static void DecodeColumns(RowDecoder *decoder, PGresult *res, int row,
						  List *attnums, TupleTableSlot *slot,
						  MemoryContext rowContext);
static RowStream *MakeRowStream(EState *estate, RowDecoder *decoder,
								List *attnums, TupleDesc desc);
static void StartRowStream(RowStream *stream, NodeConnection *nc,
						   const char *sql, RemoteParams *params);
static void FinishRowStream(RowStream *stream);
static bool RowStreamNext(RowStream *stream, TupleTableSlot *slot,
						  MemoryContext rowContext);
static bool RowStreamReady(RowStream *stream);
static void StoreStreamRows(NodeConnection *nc, void *arg);
static void ForgetRowStream(void *arg);
static void StopRowStream(RowStream *stream);
static Node *CreatePartialScanState(CustomScan *cscan);
static void BeginPartialScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecPartialScan(CustomScanState *node);
static void EndPartialScan(CustomScanState *node);
static void ReScanPartialScan(CustomScanState *node);
static void ExplainPartialScan(CustomScanState *node, List *ancestors,
							   ExplainState *es);

static Node *CreateQueryScanState(CustomScan *cscan);
static void BeginQueryScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecQueryScan(CustomScanState *node);
static void EndQueryScan(CustomScanState *node);
static void ReScanQueryScan(CustomScanState *node);
static void ExplainQueryScan(CustomScanState *node, List *ancestors,
							 ExplainState *es);

static Node *CreateTableScanState(CustomScan *cscan);
static void BeginTableScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecTableScan(CustomScanState *node);
static void EndTableScan(CustomScanState *node);
static void ReScanTableScan(CustomScanState *node);
static List *GroupShardsByNode(ShardextTable *table, List *indexes);
static int32 BatchNode(TableScanState *state, int position);
static TupleTableSlot *RemoteTableScanNext(TableScanState *state);
static void FillScanCache(TableScanState *state);
static void ExplainTableScan(CustomScanState *node, List *ancestors,
							 ExplainState *es);

static Node *CreateInsertScanState(CustomScan *cscan);
static void BeginInsertScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecInsertScan(CustomScanState *node);
static void EndInsertScan(CustomScanState *node);
static void ReScanInsertScan(CustomScanState *node);
static void ExplainInsertScan(CustomScanState *node, List *ancestors,
							  ExplainState *es);

static char *ParamValueText(Oid type, Datum value, bool isNull);

CustomScanMethods ShardextPartialScanMethods = {
	"ShardextPartialScan", CreatePartialScanState
};
CustomScanMethods ShardextQueryScanMethods = {
	"ShardextQuery", CreateQueryScanState
};
CustomScanMethods ShardextTableScanMethods = {
	"ShardextScan", CreateTableScanState
};
CustomScanMethods ShardextInsertScanMethods = {
	"ShardextInsert", CreateInsertScanState
};

static CustomExecMethods PartialScanExecMethods = {
	.CustomName = "ShardextPartialScan",
	.BeginCustomScan = BeginPartialScan,
	.ExecCustomScan = ExecPartialScan,
	.EndCustomScan = EndPartialScan,
	.ReScanCustomScan = ReScanPartialScan,
	.ExplainCustomScan = ExplainPartialScan
};
static CustomExecMethods QueryScanExecMethods = {
	.CustomName = "ShardextQuery",
	.BeginCustomScan = BeginQueryScan,
	.ExecCustomScan = ExecQueryScan,
	.EndCustomScan = EndQueryScan,
	.ReScanCustomScan = ReScanQueryScan,
	.ExplainCustomScan = ExplainQueryScan
};
static CustomExecMethods TableScanExecMethods = {
	.CustomName = "ShardextScan",
	.BeginCustomScan = BeginTableScan,
	.ExecCustomScan = ExecTableScan,
	.EndCustomScan = EndTableScan,
	.ReScanCustomScan = ReScanTableScan,
	.ExplainCustomScan = ExplainTableScan
};
static CustomExecMethods InsertScanExecMethods = {
	.CustomName = "ShardextInsert",
	.BeginCustomScan = BeginInsertScan,
	.ExecCustomScan = ExecInsertScan,
	.EndCustomScan = EndInsertScan,
	.ReScanCustomScan = ReScanInsertScan,
	.ExplainCustomScan = ExplainInsertScan
};

/*
 * RegisterShardextScanMethods makes the scan nodes known by name, for
 * plan copying and serialization.  Called once from _PG_init.
 */
void
RegisterShardextScanMethods(void)
{
	RegisterCustomScanMethods(&ShardextPartialScanMethods);
	RegisterCustomScanMethods(&ShardextModifyScanMethods);
	RegisterCustomScanMethods(&ShardextQueryScanMethods);
	RegisterCustomScanMethods(&ShardextTableScanMethods);
	RegisterCustomScanMethods(&ShardextInsertScanMethods);
}

/* ---------------------------------------------------------------------
 * Helpers shared by the nodes
 * ---------------------------------------------------------------------
 */

/* ClearHeldResult clears the held result, if any. */
static void
ClearHeldResult(void *arg)
{
	ResultHolder *holder = (ResultHolder *) arg;

	if (holder->result != NULL)
		PQclear(holder->result);
	holder->result = NULL;
}

/*
 * MakeResultHolder returns a holder whose result is cleared when the
 * executor's query memory context goes away, on success or error.
 */
static ResultHolder *
MakeResultHolder(EState *estate)
{
	ResultHolder *holder = MemoryContextAllocZero(estate->es_query_cxt,
												  sizeof(ResultHolder));

	holder->callback.func = ClearHeldResult;
	holder->callback.arg = holder;
	MemoryContextRegisterResetCallback(estate->es_query_cxt, &holder->callback);
	return holder;
}

/* HoldResult replaces the held result. */
static void
HoldResult(ResultHolder *holder, PGresult *result)
{
	ClearHeldResult(holder);
	holder->result = result;
}

/*
 * StartingCursor tells whether the executor is starting the plan of a
 * cursor: a named portal (DECLARE CURSOR, a PL/pgSQL cursor or FOR loop,
 * a protocol-level portal fetched in parts) that PortalStart is setting up
 * (EXECUTE's and a simple query's portals are not shown in pg_cursors:
 * they run to their end at once).
 * Its scans send their statements at once, so that the cursor reads the
 * rows as they were when it was opened, as PostgreSQL's cursors do, not as
 * the statements run between its opening and its first fetch left them.
 * (The unnamed portal of a plain statement runs to its end right away.)
 */
static bool
StartingCursor(void)
{
	return ActivePortal != NULL && ActivePortal->status == PORTAL_DEFINED &&
		ActivePortal->visible &&
		ActivePortal->name != NULL && ActivePortal->name[0] != '\0';
}

/*
 * StartScanAtBegin tells whether a scan begun with eflags sends its
 * statements now: for a cursor being opened, unless only explained, or
 * waiting for values of an outer query or of an InitPlan (computed when the
 * scan first runs).
 */
static bool
StartScanAtBegin(CustomScanState *node, int eflags)
{
	return (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && StartingCursor() &&
		bms_is_empty(node->ss.ps.plan->allParam);
}

/*
 * OpenCursorTables opens the coordinator's tables of a scan a cursor is
 * opened with (StartingCursor), to be closed by CloseCursorTables when it ends: while the
 * cursor is open, DROP, TRUNCATE and ALTER TABLE of them in this session
 * are refused as PostgreSQL refuses them for a table an open cursor reads
 * (the scan reads nodes, so PostgreSQL itself would not see the use).
 */
static List *
OpenCursorTables(List *relids)
{
	List	   *relations = NIL;
	ListCell   *lc;

	if (!StartingCursor())
		return NIL;
	foreach(lc, relids)
		relations = lappend(relations, relation_open(lfirst_oid(lc), NoLock));
	return relations;
}

/* CloseCursorTables closes what OpenCursorTables opened. */
static void
CloseCursorTables(List *relations)
{
	ListCell   *lc;

	foreach(lc, relations)
		relation_close(lfirst(lc), NoLock);
}

/* MakeRowDecoder prepares to read rows of the given descriptor. */
static RowDecoder *
MakeRowDecoder(TupleDesc desc)
{
	RowDecoder *decoder = palloc0(sizeof(RowDecoder));
	int			i;

	decoder->natts = desc->natts;
	decoder->inputFunctions = palloc0(sizeof(FmgrInfo) * desc->natts);
	decoder->ioParams = palloc0(sizeof(Oid) * desc->natts);
	decoder->typmods = palloc0(sizeof(int32) * desc->natts);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		Oid			inputFunction;

		if (attr->attisdropped)
			continue;
		/* (a domain's values as its base type's: the node checked them) */
		GetStoredValueInputInfo(attr->atttypid, attr->atttypmod, &inputFunction,
								&decoder->ioParams[i], &decoder->typmods[i]);
		fmgr_info(inputFunction, &decoder->inputFunctions[i]);
	}
	return decoder;
}

/*
 * DecodeRow stores row `row` of res in slot: result column j goes to
 * attribute attnums[j] (or j + 1 when attnums is NIL); other attributes
 * are null.  Values are read as the nodes wrote them: the NULL elements of
 * arrays as NULLs and XML as content, whatever the session's array_nulls
 * and xmloption (which only say how this session's own input is read).
 */
static void
DecodeRow(RowDecoder *decoder, PGresult *res, int row, List *attnums,
		  TupleTableSlot *slot, MemoryContext rowContext)
{
	bool		arrayNulls = Array_nulls;
	int			xmlOption = xmloption;

	if (likely(arrayNulls && xmlOption == XMLOPTION_CONTENT))
	{
		DecodeColumns(decoder, res, row, attnums, slot, rowContext);
		return;
	}
	PG_TRY();
	{
		Array_nulls = true;
		xmloption = XMLOPTION_CONTENT;
		DecodeColumns(decoder, res, row, attnums, slot, rowContext);
	}
	PG_FINALLY();
	{
		Array_nulls = arrayNulls;
		xmloption = xmlOption;
	}
	PG_END_TRY();
}

/* DecodeColumns does the work of DecodeRow. */
static void
DecodeColumns(RowDecoder *decoder, PGresult *res, int row, List *attnums,
			  TupleTableSlot *slot, MemoryContext rowContext)
{
	MemoryContext old;
	int			ncolumns = PQnfields(res);
	int			j;

	ExecClearTuple(slot);
	MemoryContextReset(rowContext);
	old = MemoryContextSwitchTo(rowContext);
	memset(slot->tts_isnull, true, sizeof(bool) * decoder->natts);
	for (j = 0; j < ncolumns; j++)
	{
		int			attnum = (attnums != NIL) ? list_nth_int(attnums, j) : j + 1;

		if (attnum > decoder->natts)
			elog(ERROR, "remote result has more columns than expected");
		if (PQgetisnull(res, row, j))
		{
			slot->tts_values[attnum - 1] = (Datum) 0;
			slot->tts_isnull[attnum - 1] = true;
			continue;
		}
		slot->tts_values[attnum - 1] =
			InputFunctionCall(&decoder->inputFunctions[attnum - 1],
							  PQgetvalue(res, row, j),
							  decoder->ioParams[attnum - 1],
							  decoder->typmods[attnum - 1]);
		slot->tts_isnull[attnum - 1] = false;
	}
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
}

/*
 * RemoteParamType returns the type a parameter of type typid is sent to a
 * node with: its own when built in, a domain's built-in base type (for an
 * array of domains, the array of that base type), text for
 * an enum or composite type (the statement casts it: CastUserTypeParams;
 * a parameter the statement does not use must still have a type), or 0
 * (unknown: the node infers it) for an untyped literal.
 */
static Oid
RemoteParamType(Oid typid)
{
	Oid			base;

	if (typid == UNKNOWNOID)
		return InvalidOid;
	if (typid < FirstNormalObjectId)
		return typid;
	base = NodeBaseType(typid);
	return base < FirstNormalObjectId ? base : TEXTOID;
}

/*
 * BuildRemoteParams turns the statement's parameters 1..count into text,
 * with their types when built in (the node infers the others), leaving
 * room for extra parameters after them.
 */
static RemoteParams
BuildRemoteParams(EState *estate, int count, int extra)
{
	ParamListInfo paramLI = estate->es_param_list_info;
	RemoteParams params;
	int			i;

	params.count = count;
	params.types = palloc0(sizeof(Oid) * Max(count + extra, 1));
	params.values = palloc0(sizeof(char *) * Max(count + extra, 1));
	for (i = 1; i <= count; i++)
	{
		ParamExternData *prm = NULL;
		ParamExternData workspace;

		if (paramLI != NULL && i <= paramLI->numParams)
		{
			if (paramLI->paramFetch != NULL)
				prm = paramLI->paramFetch(paramLI, i, false, &workspace);
			else
				prm = &paramLI->params[i - 1];
		}
		if (prm == NULL || !OidIsValid(prm->ptype))
		{
			params.types[i - 1] = TEXTOID;
			params.values[i - 1] = NULL;
			continue;
		}
		params.types[i - 1] = RemoteParamType(prm->ptype);
		params.values[i - 1] = ParamValueText(prm->ptype, prm->value,
											  prm->isnull);
	}
	return params;
}

/* ParamValueText returns a parameter's value as text, or NULL for NULL. */
static char *
ParamValueText(Oid type, Datum value, bool isNull)
{
	Oid			outputFunction;
	bool		isVarlena;
	FmgrInfo	flinfo;

	if (isNull)
		return NULL;
	getTypeOutputInfo(type, &outputFunction, &isVarlena);
	fmgr_info(outputFunction, &flinfo);
	return ExactOutputFunctionCall(&flinfo, value);
}

/*
 * AddConstantParams appends the values of constants turned into parameters
 * (see ConstToParamMutator) after the statement's own parameters, and of
 * the calls of now() and its kin (see ParameterizeTransactionTime),
 * evaluated here.
 */
static void
AddConstantParams(RemoteParams *params, List *constants, EState *estate)
{
	ListCell   *lc;

	foreach(lc, constants)
	{
		Node	   *item = lfirst(lc);
		int			n = params->count++;
		Oid			type = exprType(item);
		Datum		value;
		bool		isNull;

		if (IsA(item, Const))
		{
			value = ((Const *) item)->constvalue;
			isNull = ((Const *) item)->constisnull;
		}
		else
		{
			ExprState  *exprState = ExecInitExpr((Expr *) item, NULL);

			value = ExecEvalExprSwitchContext(exprState,
											  GetPerTupleExprContext(estate),
											  &isNull);
		}
		/* (an outer row's value may be of an enum or other type of ours) */
		params->types[n] = RemoteParamType(type);
		params->values[n] = ParamValueText(type, value, isNull);
	}
}

/*
 * NextAsOpener returns next(node) computed as role opener, the role that
 * started the executor, when another one fetches (a cursor opened in a
 * SECURITY DEFINER function and fetched outside it, or after SET ROLE): the
 * remote statements a scan starts late then reach the nodes with the
 * opener's user mapping, whose privileges PostgreSQL checked, once, when
 * the cursor was opened.
 */
static TupleTableSlot *
NextAsOpener(ScanState *node, Oid opener, TupleTableSlot *(*next) (ScanState *))
{
	Oid			savedUserId;
	int			savedSecContext;
	TupleTableSlot *volatile slot = NULL;

	GetUserIdAndSecContext(&savedUserId, &savedSecContext);
	SetUserIdAndSecContext(opener, savedSecContext | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		slot = next(node);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(savedUserId, savedSecContext);
	}
	PG_END_TRY();
	return slot;
}

/*
 * MakeRowStream sets up a stream of rows of descriptor desc, decoded with
 * decoder (result columns placed by attnums, or in order when NIL), in the
 * executor's memory.
 */
static RowStream *
MakeRowStream(EState *estate, RowDecoder *decoder, List *attnums, TupleDesc desc)
{
	RowStream  *stream = MemoryContextAllocZero(estate->es_query_cxt,
												sizeof(RowStream));

	stream->estate = estate;
	stream->decoder = decoder;
	stream->attnums = attnums;
	stream->desc = desc;
	stream->holder = MakeResultHolder(estate);
	stream->owner = CurrentResourceOwner;
	/*
	 * The slots for rows kept ahead are made now, with the executor's
	 * resource owner (a drain may happen while another statement runs,
	 * under another owner, and a slot pins its tuple descriptor).
	 */
	stream->storedSlot = ExecAllocTableSlot(&estate->es_tupleTable, desc,
											&TTSOpsMinimalTuple);
	stream->drainSlot = ExecAllocTableSlot(&estate->es_tupleTable, desc,
										   &TTSOpsVirtual);
	stream->drainContext = AllocSetContextCreate(estate->es_query_cxt,
												 "shardext stored row",
												 ALLOCSET_SMALL_SIZES);
	stream->finished = true;
	stream->callback.func = ForgetRowStream;
	stream->callback.arg = stream;
	MemoryContextRegisterResetCallback(estate->es_query_cxt, &stream->callback);
	return stream;
}

/*
 * StartRowStream sends a statement on nc whose rows the stream then
 * returns.
 */
static void
StartRowStream(RowStream *stream, NodeConnection *nc, const char *sql,
			   RemoteParams *params)
{
	StopRowStream(stream);
	SendRemoteQueryStreaming(nc, sql, params->count, params->types,
							 params->values);
	nc->pendingDrain = StoreStreamRows;
	nc->pendingArg = stream;
	nc->pendingLevel = GetCurrentTransactionNestLevel();
	stream->nc = nc;
	stream->rows = 0;
	stream->finished = false;
	stream->elapsedMs = -1;
	INSTR_TIME_SET_CURRENT(stream->startedAt);
}

/*
 * FinishRowStream notes that the node sent the last row: the connection is
 * free for other statements.
 */
static void
FinishRowStream(RowStream *stream)
{
	instr_time	now;

	ForgetRowStream(stream);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, stream->startedAt);
	stream->elapsedMs = INSTR_TIME_GET_MILLISEC(now);
}

/*
 * RowStreamNext puts the next row in slot (its values in rowContext) and
 * returns true, or returns false after the last row.
 */
static bool
RowStreamNext(RowStream *stream, TupleTableSlot *slot, MemoryContext rowContext)
{
	PGresult   *res;

	if (stream->stored != NULL)
	{
		if (tuplestore_gettupleslot(stream->stored, true, false,
									stream->storedSlot))
		{
			ExecCopySlot(slot, stream->storedSlot);
			return true;
		}
		tuplestore_end(stream->stored);
		stream->stored = NULL;
		stream->finished = true;
		return false;
	}
	if (stream->finished || stream->nc == NULL)
	{
		stream->finished = true;
		return false;
	}
	HoldResult(stream->holder, NULL);
	res = GetRemoteRow(stream->nc);
	if (res == NULL)
	{
		FinishRowStream(stream);
		stream->finished = true;
		return false;
	}
	HoldResult(stream->holder, res);
	stream->rows++;
	DecodeRow(stream->decoder, res, 0, stream->attnums, slot, rowContext);
	return true;
}

/* RowStreamReady tells whether RowStreamNext would return without waiting. */
static bool
RowStreamReady(RowStream *stream)
{
	return stream->finished || stream->stored != NULL ||
		stream->nc == NULL || RemoteRowReady(stream->nc);
}

/*
 * StoreStreamRows is the pendingDrain callback of a connection that
 * streams rows: when something else needs the connection, the rows still
 * to come are read into a tuplestore, which the stream returns afterwards.
 */
static void
StoreStreamRows(NodeConnection *nc, void *arg)
{
	RowStream  *stream = (RowStream *) arg;
	MemoryContext old;
	ResourceOwner savedOwner;

	if (stream->nc != nc || stream->finished)
		return;

	/*
	 * The rows (and the temporary file they may spill to) belong to the
	 * scan's executor, not to the statement that needs the connection.
	 */
	savedOwner = CurrentResourceOwner;
	CurrentResourceOwner = stream->owner;
	PG_TRY();
	{
		old = MemoryContextSwitchTo(stream->estate->es_query_cxt);
		stream->stored = tuplestore_begin_heap(false, false, work_mem);
		MemoryContextSwitchTo(old);
		for (;;)
		{
			PGresult   *res = GetRemoteRow(nc);

			if (res == NULL)
				break;
			HoldResult(stream->holder, res);
			stream->rows++;
			DecodeRow(stream->decoder, res, 0, stream->attnums, stream->drainSlot,
					  stream->drainContext);
			tuplestore_puttupleslot(stream->stored, stream->drainSlot);
			HoldResult(stream->holder, NULL);
		}
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = savedOwner;
	}
	PG_END_TRY();
	ExecClearTuple(stream->drainSlot);
	FinishRowStream(stream);
}

/*
 * ForgetRowStream takes the stream off its connection (also as a reset
 * callback of the executor's memory, after an error): a statement not read
 * to the end is then drained or cancelled before the connection's next use.
 */
static void
ForgetRowStream(void *arg)
{
	RowStream  *stream = (RowStream *) arg;
	NodeConnection *nc = stream->nc;

	if (nc != NULL && nc->pendingArg == stream)
	{
		nc->pendingDrain = NULL;
		nc->pendingArg = NULL;
	}
	stream->nc = NULL;
}

/* StopRowStream ends a stream, read to the end or not. */
static void
StopRowStream(RowStream *stream)
{
	ForgetRowStream(stream);
	HoldResult(stream->holder, NULL);
	if (stream->stored != NULL)
		tuplestore_end(stream->stored);
	stream->stored = NULL;
	stream->finished = true;
}

/*
 * GroupShardOnNode returns the shard of table in shard group index (of a
 * co-location group of shardCount shards), which must be on node nodeId:
 * a co-located shard there, or a reference table's copy.
 */
static ShardextShard *
GroupShardOnNode(ShardextTable *table, int index, int shardCount, int32 nodeId)
{
	ShardextShard *shard;

	if (IsSingleShardTable(table))
	{
		shard = table->shards[0];
		if (!ShardPlacedOn(shard, nodeId))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" has no copy on node %d",
							get_rel_name(table->relid), nodeId),
					 errhint("Run the statement again: nodes may have changed.")));
		return shard;
	}
	if (table->shardCount != shardCount ||
		table->shards[index]->nodeId != nodeId)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("co-located shards are on different nodes"),
				 errhint("Run the statement again: shards may have moved.")));
	return table->shards[index];
}

/*
 * EvaluatePin returns the shard a pin's value selects in table, or NULL when
 * the value is NULL ("column = NULL" holds for no row, on any shard) or out
 * of the range of the column's integer type.
 */
static ShardextShard *
EvaluatePin(ShardextTable *table, ExprState *pinState, Oid pinType,
			ExprContext *econtext, char **text)
{
	bool		isNull;
	Datum		value;

	value = ExecEvalExprSwitchContext(pinState, econtext, &isNull);
	if (isNull || !PinValueFits(table, value, pinType))
		return NULL;
	value = CoerceToDistributionType(table, value, pinType);
	if (text != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_query_memory);

		if (*text != NULL)
			pfree(*text);
		*text = ParamValueText(table->distTypeId, value, false);
		MemoryContextSwitchTo(old);
	}
	return LookupShardForValue(table, value, false);
}

/*
 * PinListShards evaluates the array of "column IN (values)" and returns the
 * indexes of the shards its non-NULL elements fall in, in shard order, each
 * once; NIL when there are none (no row can match).
 */
static List *
PinListShards(ShardextTable *table, ExprState *arrayState, Oid elementType,
			  ExprContext *econtext, char **texts)
{
	bool		isNull;
	Datum		arrayDatum;
	ArrayType  *array;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *values;
	bool	   *nulls;
	int			count;
	bool	   *wanted;
	List	  **shardValues = NULL;
	List	   *indexes = NIL;
	int			i;

	arrayDatum = ExecEvalExprSwitchContext(arrayState, econtext, &isNull);
	if (isNull)
		return NIL;
	array = DatumGetArrayTypeP(arrayDatum);
	get_typlenbyvalalign(elementType, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elementType, typlen, typbyval, typalign,
					  &values, &nulls, &count);
	wanted = palloc0(sizeof(bool) * table->shardCount);
	if (texts != NULL)
		shardValues = palloc0(sizeof(List *) * table->shardCount);
	for (i = 0; i < count; i++)
	{
		ShardextShard *shard;
		Datum		value;

		if (nulls[i] || !PinValueFits(table, values[i], elementType))
			continue;
		value = CoerceToDistributionType(table, values[i], elementType);
		shard = LookupShardForValue(table, value, false);
		if (shard == NULL)
			continue;
		wanted[shard->shardIndex] = true;
		if (texts != NULL)
		{
			values[i] = value;
			shardValues[shard->shardIndex] =
				lappend_int(shardValues[shard->shardIndex], i);
		}
	}
	for (i = 0; i < table->shardCount; i++)
	{
		if (!wanted[i])
			continue;
		indexes = lappend_int(indexes, i);
		if (texts != NULL)
			texts[i] = ShardValuesText(table, values, shardValues[i],
									   econtext->ecxt_per_query_memory);
	}
	return indexes;
}

/*
 * ShardValuesText returns the values at positions (an integer List) of
 * values, of the distribution column's type, as the text of an array of
 * its base type (a domain's check is not for values no row may have),
 * allocated in context.
 */
static char *
ShardValuesText(ShardextTable *table, Datum *values, List *positions,
				MemoryContext context)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *datums = palloc(sizeof(Datum) * list_length(positions));
	Oid			baseType = getBaseType(table->distTypeId);
	ArrayType  *array;
	MemoryContext old;
	char	   *text;
	ListCell   *lc;
	int			n = 0;

	foreach(lc, positions)
		datums[n++] = values[lfirst_int(lc)];
	get_typlenbyvalalign(baseType, &typlen, &typbyval, &typalign);
	array = construct_array(datums, n, baseType, typlen, typbyval, typalign);
	old = MemoryContextSwitchTo(context);
	text = ParamValueText(get_array_type(baseType), PointerGetDatum(array),
						  false);
	MemoryContextSwitchTo(old);
	return text;
}

/*
 * FirstListParam returns the number of the parameter that carries the values
 * of a computed IN list to the first shard of a statement.
 */
static int
FirstListParam(TableScanState *state)
{
	return state->paramCount + list_length(state->timeExprs) +
		(state->pinRemote ? 1 : 0) + 1;
}

/* GetTableOrError returns a table's cache entry, which must exist. */
static ShardextTable *
GetTableOrError(Oid relid)
{
	ShardextTable *table = ShardextGetTable(relid);

	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is no longer distributed",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errhint("Run the statement again.")));
	return table;
}

/* ShowNode adds the node of a task to EXPLAIN output. */
static void
ExplainNode(const char *label, int32 nodeId, ExplainState *es)
{
	ShardextNode *node = ShardextGetNode(nodeId, true);

	if (node == NULL)
		ExplainPropertyInteger(label, NULL, nodeId, es);
	else
		ExplainPropertyText(label, psprintf("%d (%s:%d)", node->nodeId,
											node->host, node->port), es);
}

/* ---------------------------------------------------------------------
 * ShardextPartialScan
 * ---------------------------------------------------------------------
 */

static Node *
CreatePartialScanState(CustomScan *cscan)
{
	PartialScanState *state = palloc0(sizeof(PartialScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &PartialScanExecMethods;
	return (Node *) state;
}

static void
BeginPartialScan(CustomScanState *node, EState *estate, int eflags)
{
	PartialScanState *state = (PartialScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;

	state->opener = GetUserId();
	state->template.fragments = list_nth(private, PARTIAL_PRIVATE_FRAGMENTS);
	state->template.slots = list_nth(private, PARTIAL_PRIVATE_SLOTS);
	state->relids = list_nth(private, PARTIAL_PRIVATE_RELID);
	state->paramCount = intVal(list_nth(private, PARTIAL_PRIVATE_PARAMS));
	state->perShard = boolVal(list_nth(private, PARTIAL_PRIVATE_PER_SHARD));
	state->timeExprs = list_nth(private, PARTIAL_PRIVATE_TIME);
	state->unionColumns = strVal(list_nth(private, PARTIAL_PRIVATE_UNION_COLUMNS));
	CheckExecutePrivileges(list_nth(private, PARTIAL_PRIVATE_FUNCTIONS));
	state->decoder =
		MakeRowDecoder(node->ss.ss_ScanTupleSlot->tts_tupleDescriptor);
	state->rowContext = AllocSetContextCreate(estate->es_query_cxt,
											  "shardext remote row",
											  ALLOCSET_SMALL_SIZES);

	/* a cursor's rows are those of when it was declared */
	state->openRelations = OpenCursorTables(state->relids);
	if (StartScanAtBegin(node, eflags))
		StartPartialScan(state);
}

/*
 * PartialScanTasks returns the statements of a pushed-down scan: per node
 * holding shards, one per connection the node may use at once (see
 * ParallelConnectionsForNode), its shards dealt out over them.  For a
 * single table, the subquery over the union of the node's shards (so that
 * each node aggregates or sorts its rows once); for co-located tables, and
 * a subquery valid only through the table's constraints (a union has none),
 * the subquery on each of the node's shard groups, joined by UNION ALL.
 */
static List *
PartialScanTasks(PartialScanState *state, bool explainOnly)
{
	int			ntables = list_length(state->relids);
	bool		unionOfShards = (ntables == 1 && !state->perShard);
	ShardextTable **tables = palloc(sizeof(ShardextTable *) * ntables);
	char	  **names = palloc(sizeof(char *) * ntables);
	List	   *nodeIds = NIL;
	List	   *tasks = NIL;
	ShardextTable *driver = NULL;
	ListCell   *lc;
	int			shardCount;
	int			i;
	int			j;

	for (j = 0; j < ntables; j++)
	{
		tables[j] = GetTableOrError(list_nth_oid(state->relids, j));
		if (driver == NULL && !IsSingleShardTable(tables[j]))
			driver = tables[j];
	}
	if (driver == NULL)
		elog(ERROR, "pushed-down query reads no distributed table");
	shardCount = driver->shardCount;
	for (i = 0; i < shardCount; i++)
		if (!list_member_int(nodeIds, driver->shards[i]->nodeId))
			nodeIds = lappend_int(nodeIds, driver->shards[i]->nodeId);

	foreach(lc, nodeIds)
	{
		int32		nodeId = lfirst_int(lc);
		int			nodeShards = 0;
		int			slots;
		int			slot;

		for (i = 0; i < shardCount; i++)
			if (driver->shards[i]->nodeId == nodeId)
				nodeShards++;
		/* the node's shards, dealt out over its connections */
		slots = Min(ParallelConnectionsForNode(nodeId, explainOnly), nodeShards);
		for (slot = 0; slot < slots; slot++)
		{
			RemoteTask *task = palloc0(sizeof(RemoteTask));
			StringInfoData sql;
			int			count = 0;
			int			seen = 0;
			char	   *onlyShard = NULL;

			initStringInfo(&sql);
			for (i = 0; i < shardCount; i++)
			{
				if (driver->shards[i]->nodeId != nodeId)
					continue;
				if (seen++ % slots != slot)
					continue;
				if (count == 0)
					task->shardId = driver->shards[i]->shardId;
				if (unionOfShards)
				{
					appendStringInfo(&sql, "%sSELECT %s FROM %s",
									 count > 0 ? " UNION ALL " : "",
									 state->unionColumns,
									 driver->shards[i]->relationName);
					onlyShard = driver->shards[i]->relationName;
				}
				else
				{
					for (j = 0; j < ntables; j++)
						names[j] = GroupShardOnNode(tables[j], i, shardCount,
													nodeId)->relationName;
					appendStringInfo(&sql, "%s(%s)", count > 0 ? " UNION ALL " : "",
									 RenderQueryTemplate(&state->template, names));
				}
				count++;
			}
			if (unionOfShards)
			{
				names[0] = (count > 1) ? psprintf("(%s)", sql.data) : onlyShard;
				task->sql = RenderQueryTemplate(&state->template, names);
			}
			else
				task->sql = sql.data;
			task->nodeId = nodeId;
			task->slot = slot;
			tasks = lappend(tasks, task);
		}
	}
	return tasks;
}

/*
 * StartPartialScan sends every node its statement, to be read row by row:
 * the nodes work at the same time, and the coordinator holds one row of
 * each, however many rows they return.
 */
static void
StartPartialScan(PartialScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	List	   *tasks = PartialScanTasks(state, false);
	RemoteParams params = BuildRemoteParams(estate, state->paramCount,
											list_length(state->timeExprs));
	TupleDesc	desc = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	ListCell   *lc;

	AddConstantParams(&params, state->timeExprs, estate);

	if (state->streams == NULL || state->nodeCount != list_length(tasks))
	{
		int			i;

		state->nodeCount = list_length(tasks);
		state->streams = palloc0(sizeof(RowStream *) * state->nodeCount);
		for (i = 0; i < state->nodeCount; i++)
			state->streams[i] = MakeRowStream(estate, state->decoder, NIL, desc);
		state->nodeIds = palloc0(sizeof(int32) * state->nodeCount);
		state->slots = palloc0(sizeof(int) * state->nodeCount);
	}
	foreach(lc, tasks)
	{
		RemoteTask *task = lfirst(lc);
		int			i = foreach_current_index(lc);
		NodeConnection *nc = task->slot == 0 ?
			GetNodeConnectionForStatement(task->nodeId, false,
										  XactIsoLevel == XACT_READ_COMMITTED) :
			GetNodeConnectionSlot(task->nodeId, task->slot);

		state->nodeIds[i] = task->nodeId;
		state->slots[i] = task->slot;
		StartRowStream(state->streams[i], nc, task->sql, &params);
	}
	MemoryContextSwitchTo(old);
	state->remaining = state->nodeCount;
	state->started = true;
	state->current = 0;
}

/*
 * NextPartialStream picks the stream to read a row from: the one read last
 * while it has rows at hand, else another one that has, else (all nodes
 * still working) the one read last, waiting for it.
 */
static int
NextPartialStream(PartialScanState *state)
{
	int			k;

	for (k = 0; k < state->nodeCount; k++)
	{
		int			i = (state->current + k) % state->nodeCount;

		if (!state->streams[i]->finished && RowStreamReady(state->streams[i]))
			return i;
	}
	for (k = 0; k < state->nodeCount; k++)
	{
		int			i = (state->current + k) % state->nodeCount;

		if (!state->streams[i]->finished)
			return i;
	}
	return -1;
}

static TupleTableSlot *
PartialScanNext(ScanState *node)
{
	PartialScanState *state = (PartialScanState *) node;
	TupleTableSlot *slot = node->ss_ScanTupleSlot;

	if (unlikely(state->opener != GetUserId()))
		return NextAsOpener(node, state->opener, PartialScanNext);
	if (!state->started)
		StartPartialScan(state);
	while (state->remaining > 0)
	{
		int			i = NextPartialStream(state);

		state->current = i;
		if (RowStreamNext(state->streams[i], slot, state->rowContext))
			return slot;
		state->remaining--;
	}
	return ExecClearTuple(slot);
}

static bool
PartialScanRecheck(ScanState *node, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
ExecPartialScan(CustomScanState *node)
{
	return ExecScan(&node->ss, (ExecScanAccessMtd) PartialScanNext,
					(ExecScanRecheckMtd) PartialScanRecheck);
}

/*
 * EndPartialScan lets go of the rows held; a node that has more rows is
 * drained (or cancelled) before its connection's next use.
 */
static void
EndPartialScan(CustomScanState *node)
{
	PartialScanState *state = (PartialScanState *) node;
	int			i;

	for (i = 0; i < state->nodeCount && state->streams != NULL; i++)
		StopRowStream(state->streams[i]);
	CloseCursorTables(state->openRelations);
	state->openRelations = NIL;
}

static void
ReScanPartialScan(CustomScanState *node)
{
	PartialScanState *state = (PartialScanState *) node;

	EndPartialScan(node);
	state->started = false;
}

/*
 * ExplainPartialScan shows that the subquery runs on every shard and, with
 * VERBOSE, the statement sent to one node.
 */
static void
ExplainPartialScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	PartialScanState *state = (PartialScanState *) node;
	ShardextTable *table = NULL;
	List	   *tasks = PartialScanTasks(state, !es->analyze);
	ListCell   *lc;

	/* the shard count of the distributed tables, not of reference tables */
	foreach(lc, state->relids)
	{
		table = GetTableOrError(lfirst_oid(lc));
		if (!IsSingleShardTable(table))
			break;
	}

	ExplainPropertyText("Distributed Plan", "pushed down to every shard", es);
	ExplainPropertyInteger("Shard Count", NULL, table->shardCount, es);
	ExplainPropertyInteger("Task Count", NULL, list_length(tasks), es);
	if (es->verbose)
		ExplainPropertyText("Remote SQL", ((RemoteTask *) linitial(tasks))->sql,
							es);
	/* with ANALYZE: when each node's result came, and its rows */
	if (es->analyze && state->nodeIds != NULL)
	{
		int			i;

		for (i = 0; i < state->nodeCount; i++)
		{
			RowStream  *stream = state->streams[i];

			ExplainPropertyText(state->slots[i] == 0 ?
								psprintf("Node %d", state->nodeIds[i]) :
								psprintf("Node %d (connection %d)", state->nodeIds[i],
										 state->slots[i] + 1),
								stream->finished ?
								psprintf("%d rows in %.3f ms", stream->rows,
										 stream->elapsedMs) :
								psprintf("%d rows read, not finished",
										 stream->rows), es);
		}
	}
}

/* ---------------------------------------------------------------------
 * ShardextQuery
 * ---------------------------------------------------------------------
 */

static Node *
CreateQueryScanState(CustomScan *cscan)
{
	QueryScanState *state = palloc0(sizeof(QueryScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &QueryScanExecMethods;
	return (Node *) state;
}

/*
 * BeginQueryScan reads the plan's private data and prepares the pins.
 */
static void
BeginQueryScan(CustomScanState *node, EState *estate, int eflags)
{
	QueryScanState *state = (QueryScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;
	ListCell   *lc;

	state->opener = GetUserId();
	state->template.fragments = list_nth(private, QUERY_PRIVATE_FRAGMENTS);
	state->template.slots = list_nth(private, QUERY_PRIVATE_SLOTS);
	state->relids = list_nth(private, QUERY_PRIVATE_RELIDS);
	state->mode = intVal(list_nth(private, QUERY_PRIVATE_MODE));
	state->paramCount = intVal(list_nth(private, QUERY_PRIVATE_PARAMS));
	state->commandType = intVal(list_nth(private, QUERY_PRIVATE_COMMAND));
	state->constants = list_nth(private, QUERY_PRIVATE_CONSTANTS);

	CheckExecutePrivileges(list_nth(private, QUERY_PRIVATE_FUNCTIONS));
	foreach(lc, (List *) list_nth(private, QUERY_PRIVATE_PINS))
	{
		Expr	   *pin = lfirst(lc);

		state->pinStates = lappend(state->pinStates,
								   pin ? ExecInitExpr(pin, &node->ss.ps) : NULL);
		state->pinTypes = lappend_oid(state->pinTypes,
									  pin ? exprType((Node *) pin) : InvalidOid);
	}
	if (list_nth(private, QUERY_PRIVATE_PIN_LIST) != NULL)
	{
		Expr	   *pinList = list_nth(private, QUERY_PRIVATE_PIN_LIST);

		state->pinListState = ExecInitExpr(pinList, &node->ss.ps);
		state->pinListType = get_element_type(exprType((Node *) pinList));
	}
	state->decoder =
		MakeRowDecoder(node->ss.ss_ScanTupleSlot->tts_tupleDescriptor);
	state->holder = MakeResultHolder(estate);
	state->rowContext = AllocSetContextCreate(estate->es_query_cxt,
											  "shardext remote row",
											  ALLOCSET_SMALL_SIZES);

	/* a cursor's rows are those of when it was declared */
	state->openRelations = OpenCursorTables(state->relids);
	if (StartScanAtBegin(node, eflags))
	{
		PrepareQueryTasks(state);
		if (state->batchCount == 0 && state->nextTask < list_length(state->tasks))
			RunNextQueryTask(state);
	}
}

/*
 * CheckExecutePrivileges checks the user's EXECUTE privilege on functions a
 * scan sends to nodes, which PostgreSQL never evaluates here and so would
 * not check: the nodes may run them as another role.
 */
void
CheckExecutePrivileges(List *functions)
{
	ListCell   *lc;

	foreach(lc, functions)
	{
		Oid			funcid = lfirst_oid(lc);
		AclResult	aclresult = pg_proc_aclcheck(funcid, GetUserId(), ACL_EXECUTE);

		/* named as PostgreSQL's executor names it (aggregate sum, ...) */
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult,
						   get_func_prokind(funcid) == PROKIND_AGGREGATE ?
						   OBJECT_AGGREGATE : OBJECT_FUNCTION,
						   get_func_name(funcid));
	}
}

/*
 * ReferenceWriteTasks returns the tasks of a statement that writes the
 * reference table target: the same statement (task's SQL) for every node
 * holding a copy, in node order (so that concurrent writers lock the copies
 * in the same order).  The first task's result is the statement's; the
 * others are mirrors whose rows and counts are not returned again.  Every
 * table of the statement must be a reference table.
 */
static List *
ReferenceWriteTasks(ShardextTable *target, RemoteTask *task, List *relids)
{
	ShardextShard *shard = target->shards[0];
	List	   *tasks = NIL;
	ListCell   *lc;

	foreach(lc, relids)
	{
		ShardextTable *table = GetTableOrError(lfirst_oid(lc));

		if (!IsReferenceTable(table))
			elog(ERROR, "a write of a reference table reads table \"%s\"",
				 get_rel_name(table->relid));
	}
	foreach(lc, shard->placementNodeIds)
	{
		RemoteTask *copy = palloc(sizeof(RemoteTask));

		*copy = *task;
		copy->nodeId = lfirst_int(lc);
		copy->shardId = shard->shardId;
		copy->mirror = (lc != list_head(shard->placementNodeIds));
		tasks = lappend(tasks, copy);
	}
	return tasks;
}

/*
 * ComputeQueryTasks returns the statements a ShardextQuery runs: for a
 * router query, the one statement of the shard group its pins select; for
 * an all-shards statement, one per shard.
 */
static List *
ComputeQueryTasks(QueryScanState *state)
{
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	int			ntables = list_length(state->relids);
	char	  **names = palloc(sizeof(char *) * Max(ntables, 1));
	List	   *tasks = NIL;

	if (state->mode == QUERY_SCAN_ROUTER)
	{
		RemoteTask *task = palloc0(sizeof(RemoteTask));
		ShardextTable *referenceTarget = NULL;
		int			i;

		task->nodeId = -1;
		task->elapsedMs = -1;
		for (i = 0; i < ntables; i++)
		{
			ShardextTable *table = GetTableOrError(list_nth_oid(state->relids, i));
			ShardextShard *shard;

			if (IsReferenceTable(table))
			{
				/* the node is chosen by the other tables; the target comes first */
				names[i] = table->shards[0]->relationName;
				if (i == 0 && state->commandType != CMD_SELECT)
					referenceTarget = table;
				continue;
			}
			if (IsSingleShardTable(table))
				shard = table->shards[0];
			else
			{
				shard = EvaluatePin(table, list_nth(state->pinStates, i),
									list_nth_oid(state->pinTypes, i), econtext,
									NULL);

				/*
				 * A NULL pin (or a directory key not assigned) matches no
				 * row in any shard; the statement still runs, on a shard
				 * picked below, so that aggregates return their one row.
				 */
				if (shard == NULL)
				{
					names[i] = NULL;
					continue;
				}
			}
			names[i] = shard->relationName;
			if (task->nodeId < 0)
			{
				task->nodeId = shard->nodeId;
				task->shardId = shard->shardId;
			}
			else if (shard->nodeId != task->nodeId)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the shards this query needs are on different nodes"),
						 errdetail("Shard " INT64_FORMAT " is on node %d, shard "
								   INT64_FORMAT " on node %d.",
								   task->shardId, task->nodeId,
								   shard->shardId, shard->nodeId),
						 errhint("Run the statement again: shards may have moved.")));
		}
		for (i = 0; i < ntables; i++)
		{
			ShardextTable *table = GetTableOrError(list_nth_oid(state->relids, i));
			int			j;

			if (names[i] != NULL)
				continue;
			for (j = 0; j < table->shardCount && names[i] == NULL; j++)
				if (task->nodeId < 0 || table->shards[j]->nodeId == task->nodeId)
					names[i] = table->shards[j]->relationName;
			if (names[i] == NULL)
				return NIL;		/* no shard on that node: nothing to read */
			if (task->nodeId < 0)
			{
				task->nodeId = table->shards[0]->nodeId;
				task->shardId = table->shards[0]->shardId;
			}
		}
		task->sql = RenderQueryTemplate(&state->template, names);

		if (referenceTarget != NULL)
			return ReferenceWriteTasks(referenceTarget, task, state->relids);

		/* only reference tables: the coordinator's copy when it has one */
		if (task->nodeId < 0)
		{
			ShardextShard *shard =
				GetTableOrError(linitial_oid(state->relids))->shards[0];

			task->nodeId = ShardPlacedOn(shard, COORDINATOR_NODE_ID) ?
				COORDINATOR_NODE_ID : shard->nodeId;
			task->shardId = shard->shardId;
		}
		for (i = 0; i < ntables; i++)
		{
			ShardextTable *table = GetTableOrError(list_nth_oid(state->relids, i));

			if (IsReferenceTable(table))
				(void) GroupShardOnNode(table, 0, 1, task->nodeId);
		}
		tasks = lappend(tasks, task);
	}
	else
	{
		/* every shard group of the (co-located) tables, or those of an IN */
		ShardextTable *table = GetTableOrError(linitial_oid(state->relids));
		List	   *wanted = NIL;
		int			i;
		int			j;

		if (state->pinListState != NULL && OidIsValid(state->pinListType))
			wanted = PinListShards(table, state->pinListState,
								   state->pinListType, econtext, NULL);
		for (i = 0; i < table->shardCount; i++)
		{
			RemoteTask *task;

			if (state->pinListState != NULL && !list_member_int(wanted, i))
				continue;
			task = palloc0(sizeof(RemoteTask));

			task->elapsedMs = -1;
			task->nodeId = table->shards[i]->nodeId;
			task->shardId = table->shards[i]->shardId;
			for (j = 0; j < ntables; j++)
				names[j] = GroupShardOnNode(GetTableOrError(list_nth_oid(state->relids, j)),
											i, table->shardCount,
											task->nodeId)->relationName;
			task->sql = RenderQueryTemplate(&state->template, names);
			tasks = lappend(tasks, task);
		}
	}
	return tasks;
}

/*
 * QueryScanWrites tells whether a query scan's statement writes: an
 * INSERT, UPDATE or DELETE, or a SELECT with a data-modifying WITH (a
 * write for the node's transaction and for how a cancel is handled).
 */
static bool
QueryScanWrites(QueryScanState *state)
{
	return state->commandType != CMD_SELECT ||
		state->css.ss.ps.state->es_plannedstmt->hasModifyingCTE;
}

/*
 * CompareTaskNodes orders the tasks of a write by node, then by shard (the
 * order modify.c's CompareBatchNodes gives its batches too: every write of
 * several nodes takes shards in one order).
 */
static int
CompareTaskNodes(const ListCell *a, const ListCell *b)
{
	RemoteTask *taskA = lfirst(a);
	RemoteTask *taskB = lfirst(b);

	if (taskA->nodeId != taskB->nodeId)
		return (taskA->nodeId > taskB->nodeId) - (taskA->nodeId < taskB->nodeId);
	return (taskA->shardId > taskB->shardId) - (taskA->shardId < taskB->shardId);
}

/*
 * RunBatchedTasks runs the statements of an all-shards statement without
 * parameters node by node in one message each, every node at the same
 * time (with nodeOrder, one node after the other, in the tasks' order),
 * and keeps their results; the tasks are then done.
 */
static void
RunBatchedTasks(QueryScanState *state, bool nodeOrder)
{
	EState	   *estate = state->css.ss.ps.state;
	List	   *nodeIds = NIL;
	List	   *connections = NIL;
	List	   *results = NIL;
	ListCell   *lc;
	ListCell   *taskCell;
	int			i = 0;

	foreach(taskCell, state->tasks)
	{
		RemoteTask *task = lfirst(taskCell);

		if (!list_member_int(nodeIds, task->nodeId))
			nodeIds = lappend_int(nodeIds, task->nodeId);
	}
	foreach(lc, nodeIds)
	{
		int32		nodeId = lfirst_int(lc);
		StringInfoData sql;
		NodeConnection *nc;

		initStringInfo(&sql);
		foreach(taskCell, state->tasks)
		{
			RemoteTask *task = lfirst(taskCell);

			if (task->nodeId == nodeId)
				appendStringInfo(&sql, "%s%s", sql.len > 0 ? "; " : "", task->sql);
		}
		nc = GetNodeConnectionForStatement(nodeId, QueryScanWrites(state), false);
		SendRemoteStatements(nc, sql.data);
		if (nodeOrder)
			results = list_concat(results, GetRemoteResults(nc));
		else
			connections = lappend(connections, nc);
	}
	foreach(lc, connections)
		results = list_concat(results, GetRemoteResults(lfirst(lc)));

	state->batchCount = list_length(results);
	state->batchHolders = palloc0(sizeof(ResultHolder *) * Max(state->batchCount, 1));
	foreach(lc, results)
	{
		PGresult   *res = lfirst(lc);

		state->batchHolders[i] = MakeResultHolder(estate);
		HoldResult(state->batchHolders[i], res);
		if (state->commandType != CMD_SELECT && PQcmdTuples(res)[0] != '\0' &&
			PQresultStatus(res) != PGRES_TUPLES_OK)
			estate->es_processed += strtou64(PQcmdTuples(res), NULL, 10);
		i++;
	}
	state->batchIndex = 0;
	state->nextRow = 0;
	state->nextTask = list_length(state->tasks);
}

/*
 * CountReturnedRow counts a RETURNING row of a write as it is returned, as
 * PostgreSQL's ModifyTable counts the rows it changes: a caller that stops
 * reading after some rows (SPI with a row limit, PL/pgSQL's INTO) finds
 * the statement's count equal to the rows it got.
 */
static inline void
CountReturnedRow(QueryScanState *state)
{
	if (state->commandType != CMD_SELECT)
		state->css.ss.ps.state->es_processed++;
}

/*
 * QueryScanNext returns the next row of the statement(s), running the
 * next task when the current result is used up.
 */
static TupleTableSlot *
QueryScanNext(ScanState *node)
{
	QueryScanState *state = (QueryScanState *) node;
	TupleTableSlot *slot = node->ss_ScanTupleSlot;

	if (unlikely(state->opener != GetUserId()))
		return NextAsOpener(node, state->opener, QueryScanNext);
	if (!state->tasksReady)
		PrepareQueryTasks(state);

	/* the rows (RETURNING) of batched statements */
	while (state->batchIndex < state->batchCount)
	{
		PGresult   *res = state->batchHolders[state->batchIndex]->result;

		if (state->nextRow < PQntuples(res))
		{
			DecodeRow(state->decoder, res, state->nextRow++, NIL, slot,
					  state->rowContext);
			CountReturnedRow(state);
			return slot;
		}
		HoldResult(state->batchHolders[state->batchIndex], NULL);
		state->batchIndex++;
		state->nextRow = 0;
	}

	for (;;)
	{
		PGresult   *res = state->holder->result;

		if (res != NULL && state->nextRow < PQntuples(res))
		{
			DecodeRow(state->decoder, res, state->nextRow++, NIL, slot,
					  state->rowContext);
			CountReturnedRow(state);
			return slot;
		}
		HoldResult(state->holder, NULL);
		if (state->nextTask >= list_length(state->tasks))
			return ExecClearTuple(slot);
		RunNextQueryTask(state);
	}
}

/*
 * PrepareQueryTasks computes the statements of the scan; an all-shards
 * statement without parameters runs at once (RunBatchedTasks).
 */
static void
PrepareQueryTasks(QueryScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	bool		nodeOrder = false;

	state->tasks = ComputeQueryTasks(state);

	/*
	 * An UPDATE or DELETE (maybe in WITH) of several nodes changes one
	 * node's rows after the other's, in node order: two of them changing
	 * the same rows then meet on the first node, as PostgreSQL's scans of a
	 * table meet on the first row, instead of each locking one node's rows
	 * and waiting for the other on the other node (a deadlock no node sees).
	 * Shard by shard, the statements go in node order too.
	 */
	if (state->mode == QUERY_SCAN_ALL_SHARDS && ShardextOrderedMultiNodeWrites &&
		(state->commandType == CMD_UPDATE || state->commandType == CMD_DELETE ||
		 (state->commandType == CMD_SELECT && QueryScanWrites(state))))
	{
		list_sort(state->tasks, CompareTaskNodes);
		nodeOrder = true;
	}
	if (state->mode == QUERY_SCAN_ALL_SHARDS && state->paramCount == 0 &&
		state->constants == NIL && list_length(state->tasks) > 1)
		RunBatchedTasks(state, nodeOrder);
	MemoryContextSwitchTo(old);
	state->tasksReady = true;
}

/* RunNextQueryTask runs the next statement of the scan and holds its result. */
static void
RunNextQueryTask(QueryScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	PGresult   *res;
	RemoteTask *task;
	NodeConnection *nc;
	RemoteParams params;
	instr_time	start;
	instr_time	end;

	task = list_nth(state->tasks, state->nextTask++);
	nc = GetNodeConnectionForStatement(task->nodeId, QueryScanWrites(state),
									   list_length(state->tasks) == 1 ||
									   (!QueryScanWrites(state) &&
										XactIsoLevel == XACT_READ_COMMITTED));
	params = BuildRemoteParams(estate, state->paramCount,
							   list_length(state->constants));
	AddConstantParams(&params, state->constants, estate);
	INSTR_TIME_SET_CURRENT(start);
	res = RemoteExecutePrepared(nc, task->sql, params.count, params.types,
								params.values);
	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_SUBTRACT(end, start);
	task->elapsedMs = INSTR_TIME_GET_MILLISEC(end);
	HoldResult(state->holder, res);
	state->nextRow = 0;
	if (task->mirror)
		state->nextRow = PQntuples(res);
	else if (state->commandType != CMD_SELECT && PQcmdTuples(res)[0] != '\0' &&
			 PQresultStatus(res) != PGRES_TUPLES_OK)
		estate->es_processed += strtou64(PQcmdTuples(res), NULL, 10);
}

static bool
QueryScanRecheck(ScanState *node, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
ExecQueryScan(CustomScanState *node)
{
	return ExecScan(&node->ss, (ExecScanAccessMtd) QueryScanNext,
					(ExecScanRecheckMtd) QueryScanRecheck);
}

static void
EndQueryScan(CustomScanState *node)
{
	QueryScanState *state = (QueryScanState *) node;
	int			i;

	HoldResult(state->holder, NULL);
	for (i = 0; i < state->batchCount; i++)
		HoldResult(state->batchHolders[i], NULL);
	CloseCursorTables(state->openRelations);
	state->openRelations = NIL;
}

static void
ReScanQueryScan(CustomScanState *node)
{
	QueryScanState *state = (QueryScanState *) node;

	if (state->commandType != CMD_SELECT && state->tasksReady)
		elog(ERROR, "a distributed data-modifying statement cannot be rescanned");
	HoldResult(state->holder, NULL);
	state->tasksReady = false;
	state->nextTask = 0;
	state->nextRow = 0;
}

/*
 * ExplainQueryScan shows where the statement goes and, with VERBOSE, the
 * SQL sent.
 */
static void
ExplainQueryScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	QueryScanState *state = (QueryScanState *) node;
	List	   *tasks;
	RemoteTask *first;

	tasks = ComputeQueryTasks(state);
	if (tasks == NIL)
	{
		ExplainPropertyText("Distributed Plan", "no shard (no row can match the distribution value)", es);
		return;
	}
	first = linitial(tasks);
	if (state->mode == QUERY_SCAN_ROUTER)
	{
		ExplainPropertyText("Distributed Plan", "router", es);
		ExplainPropertyInteger("Shard", NULL, first->shardId, es);
		ExplainNode("Node", first->nodeId, es);
	}
	else
	{
		ExplainPropertyText("Distributed Plan", state->pinListState != NULL ?
							"the shards of the listed values" : "all shards", es);
		ExplainPropertyInteger("Task Count", NULL, list_length(tasks), es);
	}
	if (es->verbose)
		ExplainPropertyText("Remote SQL", first->sql, es);
	/* with ANALYZE: how long the nodes took */
	if (es->analyze && state->tasksReady && state->batchCount == 0)
	{
		double		total = 0;
		double		longest = 0;
		int			run = 0;
		ListCell   *lc;

		foreach(lc, state->tasks)
		{
			RemoteTask *task = lfirst(lc);

			if (task->elapsedMs < 0)
				continue;
			run++;
			total += task->elapsedMs;
			longest = Max(longest, task->elapsedMs);
		}
		if (run == 1)
			ExplainPropertyFloat("Remote Execution Time", "ms", total, 3, es);
		else if (run > 1)
			ExplainPropertyText("Remote Execution Time",
								psprintf("%.3f ms in %d tasks (longest %.3f ms)",
										 total, run, longest), es);
	}
}

/* ---------------------------------------------------------------------
 * ShardextScan
 * ---------------------------------------------------------------------
 */

static Node *
CreateTableScanState(CustomScan *cscan)
{
	TableScanState *state = palloc0(sizeof(TableScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &TableScanExecMethods;
	return (Node *) state;
}

static void
BeginTableScan(CustomScanState *node, EState *estate, int eflags)
{
	TableScanState *state = (TableScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;
	Expr	   *pin;

	state->opener = GetUserId();
	state->relid = list_nth_oid(list_nth(private, SCAN_PRIVATE_RELID), 0);
	state->selectSql = strVal(list_nth(private, SCAN_PRIVATE_SELECT));
	state->whereSql = strVal(list_nth(private, SCAN_PRIVATE_WHERE));
	state->attnums = list_nth(private, SCAN_PRIVATE_ATTNUMS);
	CheckExecutePrivileges(list_nth(private, SCAN_PRIVATE_FUNCTIONS));
	pin = (Expr *) list_nth(private, SCAN_PRIVATE_PIN);
	if (pin != NULL)
	{
		state->pinState = ExecInitExpr(pin, &node->ss.ps);
		state->pinType = exprType((Node *) pin);
	}
	pin = (Expr *) list_nth(private, SCAN_PRIVATE_PIN_LIST);
	if (pin != NULL)
	{
		state->pinListState = ExecInitExpr(pin, &node->ss.ps);
		state->pinListType = get_element_type(exprType((Node *) pin));
	}
	state->paramCount = intVal(list_nth(private, SCAN_PRIVATE_PARAMS));
	state->timeExprs = list_nth(private, SCAN_PRIVATE_TIME);
	state->pinRemote = intVal(list_nth(private, SCAN_PRIVATE_PIN_REMOTE)) != 0;
	if (list_nth(private, SCAN_PRIVATE_PIN_LIST_SQL) != NIL)
	{
		List	   *parts = list_nth(private, SCAN_PRIVATE_PIN_LIST_SQL);

		state->pinListPrefix = strVal(linitial(parts));
		state->pinListSuffix = strVal(lsecond(parts));
	}
	state->decoder =
		MakeRowDecoder(node->ss.ss_ScanTupleSlot->tts_tupleDescriptor);
	state->rowContext = AllocSetContextCreate(estate->es_query_cxt,
											  "shardext remote row",
											  ALLOCSET_SMALL_SIZES);
	state->streams[0] = MakeRowStream(estate, state->decoder, state->attnums,
									  node->ss.ss_ScanTupleSlot->tts_tupleDescriptor);
	state->streams[1] = MakeRowStream(estate, state->decoder, state->attnums,
									  node->ss.ss_ScanTupleSlot->tts_tupleDescriptor);
	state->current = -1;
	state->prefetchPosition = -1;
	state->stable = intVal(list_nth(private, SCAN_PRIVATE_STABLE)) != 0;
	if (!state->stable)
	{
		(void) CollectExecParams((Node *) list_nth(private, SCAN_PRIVATE_PIN),
								 &state->pinParams);
		(void) CollectExecParams((Node *) list_nth(private, SCAN_PRIVATE_PIN_LIST),
								 &state->pinParams);
	}

	/* a cursor's rows are those of when it was declared */
	if (StartScanAtBegin(node, eflags))
	{
		PrepareTableScanBatches(state);
		(void) StartNextTableBatch(state);
	}
}

/*
 * ComputeScanShards returns the indexes of the shards to read: the one a
 * pin selects, or all.
 */
static List *
ComputeScanShards(TableScanState *state)
{
	ShardextTable *table = GetTableOrError(state->relid);
	List	   *indexes = NIL;
	int			i;

	if (state->pinState != NULL)
	{
		ShardextShard *shard = EvaluatePin(table, state->pinState,
										   state->pinType,
										   state->css.ss.ps.ps_ExprContext,
										   state->pinRemote ? &state->pinText : NULL);

		return shard ? list_make1_int(shard->shardIndex) : NIL;
	}
	if (state->pinListState != NULL && OidIsValid(state->pinListType))
	{
		if (state->pinListPrefix != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(state->css.ss.ps.state->es_query_cxt);

			if (state->pinListTexts != NULL)
				pfree(state->pinListTexts);
			state->pinListTexts = palloc0(sizeof(char *) * table->shardCount);
			MemoryContextSwitchTo(old);
		}
		return PinListShards(table, state->pinListState, state->pinListType,
							 state->css.ss.ps.ps_ExprContext,
							 state->pinListTexts);
	}
	for (i = 0; i < table->shardCount; i++)
		indexes = lappend_int(indexes, i);
	return indexes;
}

/*
 * ShardScanSql returns the statement that reads one shard; listParam is the
 * number of the parameter that carries the shard's values of a computed IN
 * list, when the scan sends one.
 */
static char *
ShardScanSql(TableScanState *state, ShardextShard *shard, int listParam)
{
	if (state->pinListPrefix != NULL)
		return psprintf("%s%s%s%s%d%s", state->selectSql, shard->relationName,
						state->whereSql, state->pinListPrefix, listParam,
						state->pinListSuffix);
	return psprintf("%s%s%s", state->selectSql, shard->relationName,
					state->whereSql);
}

/*
 * GroupShardsByNode returns the shards of indexes (shard indexes of table)
 * as batches, Lists of shard indexes of one node (SCAN_BATCH_SHARDS at
 * most: a UNION ALL of thousands of SELECTs would be parsed by deep
 * recursion on the node), in the order of each batch's first shard.
 */
static List *
GroupShardsByNode(ShardextTable *table, List *indexes)
{
	List	   *batches = NIL;
	ListCell   *lc;

	foreach(lc, indexes)
	{
		int32		nodeId = table->shards[lfirst_int(lc)]->nodeId;
		ListCell   *bc;
		bool		placed = false;

		foreach(bc, batches)
		{
			List	   *batch = lfirst(bc);

			if (table->shards[linitial_int(batch)]->nodeId == nodeId &&
				list_length(batch) < SCAN_BATCH_SHARDS)
			{
				lfirst(bc) = lappend_int(batch, lfirst_int(lc));
				placed = true;
				break;
			}
		}
		if (!placed)
			batches = lappend(batches, list_make1_int(lfirst_int(lc)));
	}
	return batches;
}

/* BatchNode returns the node of the batch at position. */
static int32
BatchNode(TableScanState *state, int position)
{
	ShardextTable *table = GetTableOrError(state->relid);

	return table->shards[linitial_int(list_nth(state->batches, position))]->nodeId;
}

/*
 * StartShardStream sends the statement of the batch at position in batches
 * on stream, to its node: one SELECT per shard, joined by UNION ALL, so that
 * a node's shards cost one round trip.
 */
static void
StartShardStream(TableScanState *state, RowStream *stream, int position)
{
	EState	   *estate = state->css.ss.ps.state;
	ShardextTable *table = GetTableOrError(state->relid);
	List	   *batch = list_nth(state->batches, position);
	NodeConnection *nc = GetNodeConnectionForStatement(BatchNode(state, position),
													   false,
													   XactIsoLevel == XACT_READ_COMMITTED);
	RemoteParams params = BuildRemoteParams(estate, state->paramCount,
											list_length(state->timeExprs) + 1 +
											list_length(batch));
	Oid			listType = InvalidOid;
	StringInfoData sql;
	ListCell   *lc;

	if (state->pinListPrefix != NULL)
		listType = RemoteParamType(get_array_type(getBaseType(table->distTypeId)));
	AddConstantParams(&params, state->timeExprs, estate);
	if (state->pinRemote)
	{
		params.types[params.count] = RemoteParamType(table->distTypeId);
		params.values[params.count] = state->pinText;
		params.count++;
	}
	initStringInfo(&sql);
	foreach(lc, batch)
	{
		int			index = lfirst_int(lc);

		if (lc != list_head(batch))
			appendStringInfoString(&sql, " UNION ALL ");
		appendStringInfoString(&sql,
							   ShardScanSql(state, table->shards[index],
											params.count + 1));
		if (state->pinListPrefix != NULL)
		{
			params.types[params.count] = listType;
			params.values[params.count] = state->pinListTexts[index];
			params.count++;
		}
	}
	StartRowStream(stream, nc, sql.data, &params);
}

/*
 * TableScanNext returns the next row, from the nodes or, on rescans of a
 * stable scan, from the cache (filled with every row first).
 */
static TupleTableSlot *
TableScanNext(ScanState *node)
{
	TableScanState *state = (TableScanState *) node;
	TupleTableSlot *slot = node->ss_ScanTupleSlot;

	if (unlikely(state->opener != GetUserId()))
		return NextAsOpener(node, state->opener, TableScanNext);
	if (!state->fromCache)
		return RemoteTableScanNext(state);
	if (!state->cacheFilled)
		FillScanCache(state);
	if (!tuplestore_gettupleslot(state->cache, true, false, state->cacheSlot))
		return ExecClearTuple(slot);
	ExecCopySlot(slot, state->cacheSlot);
	slot->tts_tableOid = state->relid;
	return slot;
}

/*
 * FillScanCache reads every row of the scan from the nodes into its cache,
 * a tuplestore that spills to disk beyond work_mem.
 */
static void
FillScanCache(TableScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	TupleTableSlot *slot;

	state->cache = tuplestore_begin_heap(false, false, work_mem);
	state->cacheSlot = MakeSingleTupleTableSlot(state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor,
												&TTSOpsMinimalTuple);
	MemoryContextSwitchTo(old);
	for (;;)
	{
		slot = RemoteTableScanNext(state);
		if (TupIsNull(slot))
			break;
		tuplestore_puttupleslot(state->cache, slot);
		CHECK_FOR_INTERRUPTS();
	}
	state->cacheFilled = true;
}

/*
 * RemoteTableScanNext returns the next row from the nodes: each node's
 * shards are read with one statement, the nodes one after the other, each
 * streamed row by row; while one node's rows are read, the next node's
 * statement is already sent, so the nodes work without waiting for the
 * coordinator.
 */
static TupleTableSlot *
RemoteTableScanNext(TableScanState *state)
{
	ScanState  *node = &state->css.ss;
	TupleTableSlot *slot = node->ss_ScanTupleSlot;

	if (!state->shardsReady)
		PrepareTableScanBatches(state);

	for (;;)
	{
		if (state->current >= 0 &&
			RowStreamNext(state->streams[state->current], slot, state->rowContext))
		{
			slot->tts_tableOid = state->relid;
			return slot;
		}
		if (!StartNextTableBatch(state))
			return ExecClearTuple(slot);
	}
}

/* PrepareTableScanBatches finds the shards to read, grouped by node. */
static void
PrepareTableScanBatches(TableScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

	state->batches = GroupShardsByNode(GetTableOrError(state->relid),
									   ComputeScanShards(state));
	MemoryContextSwitchTo(old);
	state->shardsReady = true;
	state->ran = true;
	state->current = -1;
	state->prefetchPosition = -1;
}

/*
 * StartNextTableBatch moves on to the next node's shards (sent ahead
 * already, or sent now), sending the one after ahead on the other stream
 * when it is another node's; false when there are no more.
 */
static bool
StartNextTableBatch(TableScanState *state)
{
	int			position;
	int			next;

	if (state->nextBatch >= list_length(state->batches))
		return false;

	position = state->nextBatch++;
	if (state->prefetchPosition == position)
	{
		/* sent ahead on the other stream */
		state->current = 1 - state->current;
		state->prefetchPosition = -1;
	}
	else
	{
		state->current = (state->current < 0) ? 0 : state->current;
		StartShardStream(state, state->streams[state->current], position);
	}

	/* the next node's shards are sent while this one's are read */
	next = state->nextBatch;
	if (next < list_length(state->batches) &&
		BatchNode(state, next) != BatchNode(state, position))
	{
		StartShardStream(state, state->streams[1 - state->current], next);
		state->prefetchPosition = next;
	}
	return true;
}

static bool
TableScanRecheck(ScanState *node, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
ExecTableScan(CustomScanState *node)
{
	return ExecScan(&node->ss, (ExecScanAccessMtd) TableScanNext,
					(ExecScanRecheckMtd) TableScanRecheck);
}

/* StopTableScan ends both streams, read to the end or not. */
static void
StopTableScan(TableScanState *state)
{
	StopRowStream(state->streams[0]);
	StopRowStream(state->streams[1]);
	state->current = -1;
	state->prefetchPosition = -1;
}

static void
EndTableScan(CustomScanState *node)
{
	TableScanState *state = (TableScanState *) node;

	StopTableScan(state);
	if (state->cache != NULL)
		tuplestore_end(state->cache);
	if (state->cacheSlot != NULL)
		ExecDropSingleTupleTableSlot(state->cacheSlot);
}

/*
 * ReScanTableScan starts the scan again: a stable scan replays its cache,
 * filled on the first rescan.
 */
static void
ReScanTableScan(CustomScanState *node)
{
	TableScanState *state = (TableScanState *) node;

	/*
	 * The pins' parameters may not have changed: an InitPlan's values (join
	 * keys, join_keys.c) stay the same for every rescan of the inner side of
	 * a nested loop; the rows are then those of the last run.
	 */
	bool		same = state->stable ||
		!bms_overlap(node->ss.ps.chgParam, state->pinParams);

	if (same && state->cacheFilled)
	{
		tuplestore_rescan(state->cache);
		state->cacheReplays++;
		return;
	}
	StopTableScan(state);
	state->shardsReady = false;
	state->nextBatch = 0;
	if (!same && state->cacheFilled)
	{
		tuplestore_end(state->cache);
		state->cache = NULL;
		state->cacheFilled = false;
	}
	state->fromCache = same;
}

/*
 * CollectExecParams adds the ids of the executor parameters in node to
 * *params.
 */
static bool
CollectExecParams(Node *node, Bitmapset **params)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		*params = bms_add_member(*params, ((Param *) node)->paramid);
	return expression_tree_walker(node, CollectExecParams, params);
}

/*
 * ExplainTableScan shows how many shards are read and, with VERBOSE, the
 * SQL sent to the first.
 */
static void
ExplainTableScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	TableScanState *state = (TableScanState *) node;
	ShardextTable *table = GetTableOrError(state->relid);
	List	   *indexes;
	ShardextShard *first;

	/*
	 * Shards picked by a parameter's value (an outer row's, an InitPlan's)
	 * are not known before the scan ran, and after it only those of its
	 * last run are: the parameter's value may be gone with its row.
	 */
	if (!state->stable && !state->ran)
	{
		ExplainPropertyText("Distributed Plan", "multi-shard scan", es);
		ExplainPropertyText("Shards", state->pinState != NULL ?
							psprintf("1 of %d, by a parameter's value", table->shardCount) :
							psprintf("those of the listed values, of %d", table->shardCount),
							es);
		if (es->verbose)
			ExplainPropertyText("Remote SQL",
								ShardScanSql(state, table->shards[0], FirstListParam(state)),
								es);
		return;
	}
	if (!state->stable)
	{
		ListCell   *lc;

		indexes = NIL;
		foreach(lc, state->batches)
			indexes = list_concat(indexes, lfirst(lc));
	}
	else
		indexes = ComputeScanShards(state);
	if (indexes == NIL)
	{
		ExplainPropertyText("Distributed Plan",
							state->pinListState != NULL ?
							"no shard (no non-null distribution value in the list)" :
							"no shard (no row can match the distribution value)", es);
		return;
	}
	first = table->shards[linitial_int(indexes)];

	ExplainPropertyText("Distributed Plan", "multi-shard scan", es);
	ExplainPropertyText("Shards", psprintf("%d of %d", list_length(indexes),
										   table->shardCount), es);
	if (list_length(indexes) == 1)
		ExplainNode("Node", first->nodeId, es);
	if (es->verbose)
		ExplainPropertyText("Remote SQL",
							ShardScanSql(state, first, FirstListParam(state)), es);
	if (es->analyze && state->cacheFilled)
		ExplainPropertyInteger("Rescans From Memory", NULL, state->cacheReplays, es);
}

/* ---------------------------------------------------------------------
 * ShardextInsert
 * ---------------------------------------------------------------------
 */

static Node *
CreateInsertScanState(CustomScan *cscan)
{
	InsertScanState *state = palloc0(sizeof(InsertScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &InsertScanExecMethods;
	return (Node *) state;
}

static void
BeginInsertScan(CustomScanState *node, EState *estate, int eflags)
{
	InsertScanState *state = (InsertScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;
	PlanState  *source;
	TupleDesc	sourceDesc;
	int			i;

	state->relid = list_nth_oid(list_nth(private, INSERT_PRIVATE_RELID), 0);
	state->prefix.fragments = list_nth(private, INSERT_PRIVATE_PREFIX_FRAGMENTS);
	state->prefix.slots = list_nth(private, INSERT_PRIVATE_PREFIX_SLOTS);
	state->tail.fragments = list_nth(private, INSERT_PRIVATE_TAIL_FRAGMENTS);
	state->tail.slots = list_nth(private, INSERT_PRIVATE_TAIL_SLOTS);
	state->columnCount = intVal(list_nth(private, INSERT_PRIVATE_COLUMNS));
	state->distColumn = intVal(list_nth(private, INSERT_PRIVATE_DIST_COLUMN));
	state->paramCount = intVal(list_nth(private, INSERT_PRIVATE_PARAMS));
	state->timeExprs = list_nth(private, INSERT_PRIVATE_TIME);
	state->arbiterColumns = list_nth(private, INSERT_PRIVATE_ARBITER);
	CheckExecutePrivileges(list_nth(private, INSERT_PRIVATE_FUNCTIONS));

	source = ExecInitNode(linitial(cscan->custom_plans), estate, eflags);
	node->custom_ps = list_make1(source);
	sourceDesc = ExecGetResultType(source);
	state->outputFunctions = palloc0(sizeof(FmgrInfo) * sourceDesc->natts);
	state->columnTypes = palloc0(sizeof(Oid) * sourceDesc->natts);
	for (i = 0; i < sourceDesc->natts; i++)
	{
		Oid			outputFunction;
		bool		isVarlena;

		state->columnTypes[i] = TupleDescAttr(sourceDesc, i)->atttypid;
		getTypeOutputInfo(state->columnTypes[i], &outputFunction, &isVarlena);
		fmgr_info(outputFunction, &state->outputFunctions[i]);
	}
	/* the arbiter columns' values are compared as their types compare them */
	if (state->arbiterColumns != NIL)
	{
		ListCell   *lc;

		state->keyHashFunctions = palloc0(sizeof(FmgrInfo *) * list_length(state->arbiterColumns));
		state->keyCollations = palloc0(sizeof(Oid) * list_length(state->arbiterColumns));
		foreach(lc, state->arbiterColumns)
		{
			Form_pg_attribute attr = TupleDescAttr(sourceDesc, lfirst_int(lc));
			TypeCacheEntry *typentry = lookup_type_cache(attr->atttypid,
														 TYPECACHE_HASH_EXTENDED_PROC_FINFO);

			/* (built-in collations are deterministic: any one hashes alike) */
			state->keyCollations[foreach_current_index(lc)] =
				OidIsValid(attr->attcollation) ? attr->attcollation :
				get_typcollation(attr->atttypid);
			if (OidIsValid(typentry->hash_extended_proc_finfo.fn_oid))
				state->keyHashFunctions[foreach_current_index(lc)] =
					&typentry->hash_extended_proc_finfo;
		}
	}
	state->decoder =
		MakeRowDecoder(node->ss.ss_ScanTupleSlot->tts_tupleDescriptor);
	state->holder = MakeResultHolder(estate);
	state->rowContext = AllocSetContextCreate(estate->es_query_cxt,
											  "shardext remote row",
											  ALLOCSET_SMALL_SIZES);
}

/*
 * FlushInsertBatch sends the rows gathered for one shard as one multi-row
 * INSERT, and keeps the RETURNING rows.
 */
static void
FlushInsertBatch(InsertScanState *state, ShardextShard *shard, List *rows,
				 bool onlyStatement)
{
	EState	   *estate = state->css.ss.ps.state;
	int			ncolumns = state->columnCount;
	int			nrows = list_length(rows);
	int			ntime = list_length(state->timeExprs);
	RemoteParams params = BuildRemoteParams(estate, state->paramCount - ntime,
											ntime + nrows * ncolumns);
	char	   *names[1];
	StringInfoData sql;
	ListCell   *lc;
	int			next = state->paramCount;
	PGresult   *res;
	NodeConnection *nc;
	int			r;

	AddConstantParams(&params, state->timeExprs, estate);

	names[0] = shard->relationName;
	initStringInfo(&sql);
	appendStringInfoString(&sql, RenderQueryTemplate(&state->prefix, names));
	appendStringInfoString(&sql, "VALUES ");
	foreach(lc, rows)
	{
		char	  **values = ((PendingRow *) lfirst(lc))->values;
		int			c;

		if (lc != list_head(rows))
			appendStringInfoString(&sql, ", ");
		appendStringInfoChar(&sql, '(');
		for (c = 0; c < ncolumns; c++)
		{
			Oid			type = state->columnTypes[c];

			if (c > 0)
				appendStringInfoString(&sql, ", ");
			appendStringInfo(&sql, "$%d", next + 1);
			params.types[next] = (type < FirstNormalObjectId) ? type : InvalidOid;
			params.values[next] = values[c];
			next++;
		}
		appendStringInfoChar(&sql, ')');
	}
	appendStringInfoString(&sql, RenderQueryTemplate(&state->tail, names));

	nc = GetNodeConnectionForStatement(shard->nodeId, true,
									   onlyStatement &&
									   list_length(shard->placementNodeIds) == 1);
	DeferKeysOnNode(state->deferral, nc);
	res = RemoteExecutePrepared(nc, sql.data, next, params.types, params.values);
	HoldResult(state->holder, res);
	/* RETURNING rows are counted as they are returned (NextStoredRow) */
	if (PQcmdTuples(res)[0] != '\0' && state->returning == NULL)
		estate->es_processed += strtou64(PQcmdTuples(res), NULL, 10);
	if (state->returning != NULL)
	{
		TupleTableSlot *slot = state->css.ss.ss_ScanTupleSlot;
		TupleTableSlot *sortSlot = state->sortSlot;
		int			natts = slot->tts_tupleDescriptor->natts;
		int64		firstOrdinal = ((PendingRow *) linitial(rows))->ordinal;

		/*
		 * Each returned row carries the position of its input row (the
		 * node returns them in the order of the VALUES list; if some were
		 * skipped, ON CONFLICT DO NOTHING, the order is only approximate).
		 */
		for (r = 0; r < PQntuples(res); r++)
		{
			int64		ordinal = (PQntuples(res) == nrows) ?
				((PendingRow *) list_nth(rows, r))->ordinal : firstOrdinal + r;

			DecodeRow(state->decoder, res, r, NIL, slot, state->rowContext);
			ExecClearTuple(sortSlot);
			memcpy(sortSlot->tts_values, slot->tts_values, sizeof(Datum) * natts);
			memcpy(sortSlot->tts_isnull, slot->tts_isnull, sizeof(bool) * natts);
			sortSlot->tts_values[natts] = Int64GetDatum(ordinal);
			sortSlot->tts_isnull[natts] = false;
			ExecStoreVirtualTuple(sortSlot);
			tuplesort_puttupleslot(state->sorter, sortSlot);
		}
	}
	HoldResult(state->holder, NULL);

	/* a reference table's other copies get the same rows, in node order */
	foreach(lc, shard->placementNodeIds)
	{
		if (lfirst_int(lc) == shard->nodeId)
			continue;
		nc = GetNodeConnectionForStatement(lfirst_int(lc), true, false);
		DeferKeysOnNode(state->deferral, nc);
		HoldResult(state->holder,
				   RemoteExecutePrepared(nc, sql.data, next, params.types,
										 params.values));
		HoldResult(state->holder, NULL);
	}
}

/*
 * RememberArbiterKey records the ON CONFLICT key of a row of a shard that is
 * sent in several batches; with check, a key already seen in the statement
 * raises PostgreSQL's error (a node only sees one batch at a time).  Rows
 * with a NULL in the key cannot conflict.  Keys are kept as 64-bit hashes
 * of their text.
 */
static void
RememberArbiterKey(InsertScanState *state, HTAB *keys, PendingRow *row,
				   bool check)
{
	bool		found;

	if (row->keyNull)
		return;
	hash_search(keys, &row->keyHash, HASH_ENTER, &found);
	if (found && check)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("ON CONFLICT DO UPDATE command cannot affect row a second time"),
				 errhint("Ensure that no rows proposed for insertion within the same "
						 "command have duplicate constrained values.")));
}

/*
 * HashArbiterKey computes the hash of a row's arbiter columns, with their
 * types' hash functions (so that 1 and 1.0 are the same numeric key), or
 * their text where a type has none.
 */
static void
HashArbiterKey(InsertScanState *state, TupleTableSlot *slot, PendingRow *row)
{
	uint64		hash = 0;
	ListCell   *lc;

	row->keyNull = false;
	foreach(lc, state->arbiterColumns)
	{
		int			column = lfirst_int(lc);
		int			i = foreach_current_index(lc);

		if (slot->tts_isnull[column])
		{
			row->keyNull = true;
			return;
		}
		if (state->keyHashFunctions[i] != NULL)
			hash = DatumGetUInt64(FunctionCall2Coll(state->keyHashFunctions[i],
													state->keyCollations[i],
													slot->tts_values[column],
													UInt64GetDatum(hash)));
		else
			hash = hash_bytes_extended((const unsigned char *) row->values[column],
									   strlen(row->values[column]) + 1, hash);
	}
	row->keyHash = hash;
}

/*
 * RememberBatchKeys starts or goes on keeping the keys of a shard's rows
 * when a batch of them is sent (ON CONFLICT DO UPDATE): later rows are
 * checked against them.
 */
static void
RememberBatchKeys(InsertScanState *state, int shardIndex, List *rows)
{
	ListCell   *lc;

	if (state->seenKeys == NULL)
		state->seenKeys = MemoryContextAllocZero(state->css.ss.ps.state->es_query_cxt,
												 sizeof(HTAB *) *
												 GetTableOrError(state->relid)->shardCount);
	if (state->seenKeys[shardIndex] == NULL)
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(uint64);
		info.entrysize = sizeof(uint64);
		info.hcxt = state->css.ss.ps.state->es_query_cxt;
		state->seenKeys[shardIndex] = hash_create("shardext ON CONFLICT keys", 1024,
												  &info,
												  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		/* the rows of the first batch: the node checks them among themselves */
		foreach(lc, rows)
			RememberArbiterKey(state, state->seenKeys[shardIndex], lfirst(lc), false);
	}
}

/*
 * RunInsert routes every row of the subplan to its shard, in batches.
 */
static void
RunInsert(InsertScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	PlanState  *source = linitial(state->css.custom_ps);
	ShardextTable *table = GetTableOrError(state->relid);
	int			ncolumns = state->columnCount;
	int			batchRows = Min(1000, (65535 - state->paramCount) / Max(ncolumns, 1));
	List	  **pending = palloc0(sizeof(List *) * table->shardCount);
	MemoryContext *contexts = palloc0(sizeof(MemoryContext) * table->shardCount);
	int			flushes = 0;
	int			pendingShards = 0;
	int			i;

	if (state->css.ss.ps.plan->targetlist != NIL)
	{
		MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
		TupleDesc	desc = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
		TupleDesc	sortDesc = CreateTemplateTupleDesc(desc->natts + 1);
		AttrNumber	sortColumn = desc->natts + 1;
		Oid			sortOperator = Int8LessOperator;
		Oid			sortCollation = InvalidOid;
		bool		nullsFirst = false;

		for (i = 0; i < desc->natts; i++)
			TupleDescCopyEntry(sortDesc, i + 1, desc, i + 1);
		TupleDescInitEntry(sortDesc, sortColumn, "ordinal", INT8OID, -1, 0);
		state->sortSlot = ExecAllocTableSlot(&estate->es_tupleTable, sortDesc,
											 &TTSOpsVirtual);
		state->sortedSlot = ExecAllocTableSlot(&estate->es_tupleTable, sortDesc,
											   &TTSOpsMinimalTuple);
		state->sorter = tuplesort_begin_heap(sortDesc, 1, &sortColumn,
											 &sortOperator, &sortCollation,
											 &nullsFirst, work_mem, NULL,
											 TUPLESORT_NONE);
		state->returning = tuplestore_begin_heap(false, false, work_mem);
		MemoryContextSwitchTo(old);
	}

	for (;;)
	{
		TupleTableSlot *slot = ExecProcNode(source);
		ShardextShard *shard;
		MemoryContext old;
		PendingRow *row;
		int			c;

		if (TupIsNull(slot))
			break;
		slot_getallattrs(slot);
		if (IsSingleShardTable(table))
			shard = table->shards[0];
		else
			shard = FindShardForValue(table, slot->tts_values[state->distColumn - 1],
									  slot->tts_isnull[state->distColumn - 1]);
		if (contexts[shard->shardIndex] == NULL)
			contexts[shard->shardIndex] =
				AllocSetContextCreate(CurrentMemoryContext, "shardext insert batch",
									  ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(contexts[shard->shardIndex]);
		row = palloc(offsetof(PendingRow, values) + sizeof(char *) * ncolumns);
		row->ordinal = state->nextOrdinal++;
		for (c = 0; c < ncolumns; c++)
			row->values[c] = slot->tts_isnull[c] ? NULL :
				ExactOutputFunctionCall(&state->outputFunctions[c],
								   slot->tts_values[c]);
		if (state->arbiterColumns != NIL)
			HashArbiterKey(state, slot, row);
		pending[shard->shardIndex] = lappend(pending[shard->shardIndex], row);
		MemoryContextSwitchTo(old);
		if (state->seenKeys != NULL && state->seenKeys[shard->shardIndex] != NULL)
			RememberArbiterKey(state, state->seenKeys[shard->shardIndex], row, true);

		if (list_length(pending[shard->shardIndex]) >= batchRows)
		{
			/* several batches: checks at the end wait until then */
			if (state->deferral == NULL)
				state->deferral = BeginKeyDeferral(state->relid);
			if (state->arbiterColumns != NIL)
				RememberBatchKeys(state, shard->shardIndex,
								  pending[shard->shardIndex]);
			FlushInsertBatch(state, shard, pending[shard->shardIndex], false);
			flushes++;
			pending[shard->shardIndex] = NIL;
			MemoryContextReset(contexts[shard->shardIndex]);
		}
	}

	/* one statement in all is safe outside a remote transaction */
	for (i = 0; i < table->shardCount; i++)
		if (pending[i] != NIL)
			pendingShards++;
	for (i = 0; i < table->shardCount; i++)
	{
		if (pending[i] != NIL)
			FlushInsertBatch(state, table->shards[i], pending[i],
							 flushes == 0 && pendingShards == 1);
		if (contexts[i] != NULL)
			MemoryContextDelete(contexts[i]);
	}
	EndKeyDeferral(state->deferral);

	/* RETURNING rows in the order of the rows inserted */
	if (state->sorter != NULL)
	{
		TupleTableSlot *slot = state->css.ss.ss_ScanTupleSlot;
		int			natts = slot->tts_tupleDescriptor->natts;

		tuplesort_performsort(state->sorter);
		while (tuplesort_gettupleslot(state->sorter, true, false,
									  state->sortedSlot, NULL))
		{
			slot_getallattrs(state->sortedSlot);
			ExecClearTuple(slot);
			memcpy(slot->tts_values, state->sortedSlot->tts_values, sizeof(Datum) * natts);
			memcpy(slot->tts_isnull, state->sortedSlot->tts_isnull, sizeof(bool) * natts);
			ExecStoreVirtualTuple(slot);
			tuplestore_puttupleslot(state->returning, slot);
		}
		tuplesort_end(state->sorter);
		state->sorter = NULL;
	}
}

/*
 * NextStoredRow returns the next row a modifying scan kept (RETURNING),
 * projected to the scan's output, or NULL when there is none.  *slot is
 * the scan's slot for reading the tuplestore, made on first use.
 */
TupleTableSlot *
NextStoredRow(CustomScanState *node, Tuplestorestate *store,
			  TupleTableSlot **slot)
{
	ProjectionInfo *projection = node->ss.ps.ps_ProjInfo;

	if (store == NULL)
		return NULL;
	if (*slot == NULL)
		*slot = ExecAllocTableSlot(&node->ss.ps.state->es_tupleTable,
								   node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
								   &TTSOpsMinimalTuple);
	if (!tuplestore_gettupleslot(store, true, false, *slot))
		return NULL;
	node->ss.ps.state->es_processed++;
	if (projection == NULL)
		return *slot;
	node->ss.ps.ps_ExprContext->ecxt_scantuple = *slot;
	return ExecProject(projection);
}

static TupleTableSlot *
ExecInsertScan(CustomScanState *node)
{
	InsertScanState *state = (InsertScanState *) node;

	if (!state->done)
	{
		RunInsert(state);
		state->done = true;
	}
	return NextStoredRow(node, state->returning, &state->returningSlot);
}

static void
EndInsertScan(CustomScanState *node)
{
	InsertScanState *state = (InsertScanState *) node;

	ExecEndNode(linitial(node->custom_ps));
	HoldResult(state->holder, NULL);
	if (state->returning != NULL)
		tuplestore_end(state->returning);
	state->returning = NULL;
}

static void
ReScanInsertScan(CustomScanState *node)
{
	elog(ERROR, "a distributed INSERT cannot be rescanned");
}

/*
 * ExplainInsertScan shows the target and, with VERBOSE, the statement sent
 * per shard.
 */
static void
ExplainInsertScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	InsertScanState *state = (InsertScanState *) node;
	ShardextTable *table = GetTableOrError(state->relid);
	char	   *names[1];

	ExplainPropertyText("Distributed Plan", "insert routed to shards", es);
	ExplainPropertyInteger("Shard Count", NULL, table->shardCount, es);
	if (es->verbose)
	{
		names[0] = "<shard>";
		ExplainPropertyText("Remote SQL",
							psprintf("%sVALUES (...)%s",
									 RenderQueryTemplate(&state->prefix, names),
									 RenderQueryTemplate(&state->tail, names)),
							es);
	}
}
