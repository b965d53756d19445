/*-------------------------------------------------------------------------
 *
 * statistics.c
 *	  VACUUM and ANALYZE of distributed tables, and the statistics the
 *	  coordinator's planner reads for them.
 *
 * The coordinator's own table of a distributed table is empty: its rows are
 * in shards on the nodes.  After PostgreSQL has run a VACUUM or ANALYZE
 * statement on the coordinator (which leaves the statistics of an empty
 * table alone), each distributed table it named, or every one for a
 * statement naming none:
 *
 * 1. gets the same VACUUM or ANALYZE, with the same options and columns,
 *    run on every placement of its shards but the coordinator's own copies
 *    of reference tables (local tables, vacuumed as such): one statement
 *    per node, the nodes in parallel;
 * 2. has each shard's row count and size read from its node's pg_class
 *    into shardext.shard_statistics, from which the metadata cache gives the
 *    planner the table's row count (multi_shard.c);
 * 3. for ANALYZE, has a random sample of its rows fetched from the nodes
 *    (every shard in proportion to its rows, about as many rows in all as
 *    ANALYZE samples from a table), read with the columns' input functions,
 *    and its column statistics computed from it as ANALYZE computes them
 *    from its sample of a local table (each type's typanalyze and
 *    compute_stats functions, told the whole table's row count, so that
 *    the number of distinct values is estimated for the whole table), and
 *    written into pg_statistic as the distributed table's.
 *
 * The nodes sample with TABLESAMPLE: BERNOULLI while the table has no more
 * pages than rows are sampled (ANALYZE would read every page too), SYSTEM
 * with a per-row filter beyond, so that about as many pages are read as
 * ANALYZE reads.
 *
 * The input, typanalyze and compute functions run as the table's owner,
 * as ANALYZE runs a table's functions.
 *
 * IDENTIFICATION
 *	  src/statistics.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_statistic.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "statistics/statistics.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "shardext/catalog.h"
#include "shardext/connection.h"
#include "shardext/node_types.h"
#include "shardext/remote_exec.h"
#include "shardext/statistics.h"
#include "shardext/transaction.h"

/* a column ANALYZE gathers statistics on */
typedef struct AnalyzedColumn
{
	AttrNumber	attnum;			/* in the distributed table */
	char	   *name;
	Oid			typid;
	int32		typmod;
	int			statTarget;		/* attstattarget, -1 for the default */
} AnalyzedColumn;

/* the shards one node is asked about */
typedef struct NodeShards
{
	int32		nodeId;
	List	   *shards;			/* ShardextShard *, in shard order */
	NodeConnection *nc;
} NodeShards;

/* the rows and pages of a table's shards, as their nodes reported them */
typedef struct ShardSizes
{
	double	   *rows;			/* by shard index; -1 when unknown */
	double	   *pages;
	double		totalRows;
	double		totalPages;
} ShardSizes;

static List *DistributedTablesOf(VacuumStmt *stmt);
static bool MayVacuum(Oid relid);
static char *NodeCommandPrefix(VacuumStmt *stmt);
static void RunOnPlacements(ShardextTable *table, const char *prefix,
							List *columns, bool inTransaction);
static List *GroupShardsByReadNode(ShardextTable *table);
static List *AddNodeShard(List *nodes, int32 nodeId, ShardextShard *shard);
static ShardSizes *ReadShardSizes(ShardextTable *table);
static void SaveShardSizes(ShardextTable *table, ShardSizes *sizes);
static List *AnalyzedColumns(Relation rel, List *names);
static List *FetchSample(ShardextTable *table, ShardSizes *sizes, List *columns,
						 int targetRows);
static void AnalyzeSample(Relation rel, List *columns, List *results,
						  double totalRows, bool verbose, int shardCount);
static void DecodeSample(List *columns, List *results, Datum **values,
						 bool **nulls);
static VacAttrStats *MakeColumnStats(Relation rel, AnalyzedColumn *column);
static Datum StoredForm(Datum value);
static HeapTuple *SampleRows(Relation rel, List *columns, Datum **values,
							 bool **nulls, int nrows);
static void WriteColumnStatistics(Oid relid, AttrNumber attnum,
								  VacAttrStats *stats);

/*
 * VacuumDistributedTables runs a VACUUM or ANALYZE statement, which
 * PostgreSQL has just run on the coordinator, on the distributed tables it
 * names (every one when it names none) and gathers their statistics.
 * Tables the current role may not vacuum or analyze, and with SKIP_LOCKED
 * tables locked by others, are skipped as PostgreSQL skipped them (it has
 * said so).
 */
void
VacuumDistributedTables(VacuumStmt *stmt)
{
	bool		vacuum = stmt->is_vacuumcmd;
	bool		analyze = !stmt->is_vacuumcmd;
	bool		verbose = false;
	bool		skipLocked = false;
	char	   *prefix = NodeCommandPrefix(stmt);
	List	   *done = NIL;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		if (strcmp(opt->defname, "analyze") == 0)
			analyze = defGetBoolean(opt);
		else if (strcmp(opt->defname, "verbose") == 0)
			verbose = defGetBoolean(opt);
		else if (strcmp(opt->defname, "skip_locked") == 0)
			skipLocked = defGetBoolean(opt);
	}

	/*
	 * First the statement on the nodes, for every table: VACUUM runs outside
	 * any transaction there, so before the statistics below open remote
	 * transactions on the same connections.
	 */
	foreach(lc, DistributedTablesOf(stmt))
	{
		VacuumRelation *vrel = lfirst(lc);
		ShardextTable *table;

		if (skipLocked)
		{
			if (!ConditionalLockRelationOid(vrel->oid, ShareUpdateExclusiveLock))
				continue;
		}
		else
			LockRelationOid(vrel->oid, ShareUpdateExclusiveLock);
		table = ShardextGetTable(vrel->oid);
		if (table == NULL || !MayVacuum(vrel->oid))
			continue;
		RunOnPlacements(table, prefix, vrel->va_cols, !vacuum);
		done = lappend(done, vrel);
	}

	/* then the coordinator's statistics of each */
	foreach(lc, done)
	{
		VacuumRelation *vrel = lfirst(lc);
		ShardextTable *table = ShardextGetTable(vrel->oid);
		ShardSizes *sizes;

		if (table == NULL)
			continue;
		sizes = ReadShardSizes(table);
		SaveShardSizes(table, sizes);
		if (analyze)
		{
			Relation	rel = relation_open(vrel->oid, NoLock);
			List	   *columns = AnalyzedColumns(rel, vrel->va_cols);
			int			target = 0;
			ListCell   *columnCell;

			foreach(columnCell, columns)
			{
				AnalyzedColumn *column = lfirst(columnCell);

				target = Max(target, column->statTarget < 0 ?
							 default_statistics_target : column->statTarget);
			}
			/* an empty table keeps its statistics, as ANALYZE leaves them */
			if (columns != NIL && sizes->totalRows > 0)
				AnalyzeSample(rel, columns,
							  FetchSample(table, sizes, columns, 300 * target),
							  sizes->totalRows, verbose, table->shardCount);
			relation_close(rel, NoLock);
		}
	}
}

/*
 * RecordShardStatistics reads the row counts and sizes of a table's shards
 * from their nodes into shardext.shard_statistics (after the shards were
 * filled and analyzed).
 */
void
RecordShardStatistics(ShardextTable *table)
{
	SaveShardSizes(table, ReadShardSizes(table));
}

/* CompareVacuumRelations orders VacuumRelations by OID. */
static int
CompareVacuumRelations(const ListCell *a, const ListCell *b)
{
	Oid			left = ((VacuumRelation *) lfirst(a))->oid;
	Oid			right = ((VacuumRelation *) lfirst(b))->oid;

	return (left > right) - (left < right);
}

/*
 * DistributedTablesOf returns the distributed tables a VACUUM or ANALYZE
 * statement names, as VacuumRelations with their OIDs, or every distributed
 * table when it names none; in OID order, so that sessions lock them in the
 * same order (the locks are held to the end of the transaction).
 */
static List *
DistributedTablesOf(VacuumStmt *stmt)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (stmt->rels == NIL)
	{
		foreach(lc, ShardextAllTables())
		{
			ShardextTable *table = lfirst(lc);

			result = lappend(result, makeVacuumRelation(NULL, table->relid, NIL));
		}
		list_sort(result, CompareVacuumRelations);
		return result;
	}

	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst(lc);
		Oid			relid = OidIsValid(vrel->oid) ? vrel->oid :
			RangeVarGetRelid(vrel->relation, NoLock, true);

		if (OidIsValid(relid) && ShardextGetTable(relid) != NULL)
			result = lappend(result, makeVacuumRelation(NULL, relid, vrel->va_cols));
	}
	list_sort(result, CompareVacuumRelations);
	return result;
}

/*
 * MayVacuum tells whether the current role may vacuum or analyze a table:
 * its owner or the database's (PostgreSQL has warned the others).
 */
static bool
MayVacuum(Oid relid)
{
	return pg_class_ownercheck(relid, GetUserId()) ||
		pg_database_ownercheck(MyDatabaseId, GetUserId());
}

/*
 * NodeCommandPrefix returns the statement to run on the nodes without its
 * tables: "VACUUM (options)" or "ANALYZE (options)".
 */
static char *
NodeCommandPrefix(VacuumStmt *stmt)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfoString(&sql, stmt->is_vacuumcmd ? "VACUUM" : "ANALYZE");
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		appendStringInfoString(&sql, foreach_current_index(lc) == 0 ? " (" : ", ");
		appendStringInfoString(&sql, opt->defname);	/* a lower-case word */
		if (opt->arg == NULL)
			continue;
		if (IsA(opt->arg, Integer))
			appendStringInfo(&sql, " %d", intVal(opt->arg));
		else if (IsA(opt->arg, Boolean))
			appendStringInfoString(&sql, boolVal(opt->arg) ? " true" : " false");
		else
			appendStringInfo(&sql, " %s", quote_literal_cstr(defGetString(opt)));
	}
	if (stmt->options != NIL)
		appendStringInfoChar(&sql, ')');
	return sql.data;
}

/*
 * AddNodeShard adds a shard to the entry of its node in a list of
 * NodeShards (made when missing), and returns the list.
 */
static List *
AddNodeShard(List *nodes, int32 nodeId, ShardextShard *shard)
{
	NodeShards *node = NULL;
	ListCell   *lc;

	foreach(lc, nodes)
		if (((NodeShards *) lfirst(lc))->nodeId == nodeId)
			node = lfirst(lc);
	if (node == NULL)
	{
		node = palloc0(sizeof(NodeShards));
		node->nodeId = nodeId;
		nodes = lappend(nodes, node);
	}
	node->shards = lappend(node->shards, shard);
	return nodes;
}

/*
 * RunOnPlacements runs "prefix shard (columns), ..." on every node holding
 * shards of the table, once per node, the nodes in parallel: in the remote
 * transactions for ANALYZE, outside any for VACUUM.
 */
static void
RunOnPlacements(ShardextTable *table, const char *prefix, List *columns,
				bool inTransaction)
{
	StringInfoData columnList;
	List	   *nodes = NIL;
	ListCell   *lc;
	int			i;

	initStringInfo(&columnList);
	foreach(lc, columns)
		appendStringInfo(&columnList, "%s%s",
						 foreach_current_index(lc) == 0 ? " (" : ", ",
						 quote_identifier(strVal(lfirst(lc))));
	if (columns != NIL)
		appendStringInfoChar(&columnList, ')');

	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];
		ListCell   *nodeCell;

		foreach(nodeCell, shard->placementNodeIds)
		{
			int32		nodeId = lfirst_int(nodeCell);

			/*
			 * The coordinator's copy of a reference table is one of its own
			 * tables, vacuumed and analyzed as such (by autovacuum, or a
			 * VACUUM naming it or none): through a connection to itself it
			 * would wait for the locks this statement holds.
			 */
			if (nodeId == COORDINATOR_NODE_ID)
				continue;
			nodes = AddNodeShard(nodes, nodeId, shard);
		}
	}

	foreach(lc, nodes)
	{
		NodeShards *node = lfirst(lc);
		StringInfoData sql;
		ListCell   *shardCell;

		initStringInfo(&sql);
		appendStringInfoString(&sql, prefix);
		foreach(shardCell, node->shards)
			appendStringInfo(&sql, "%s%s%s",
							 foreach_current_index(shardCell) == 0 ? " " : ", ",
							 ((ShardextShard *) lfirst(shardCell))->relationName,
							 columnList.data);
		node->nc = inTransaction ?
			GetNodeConnectionInTransaction(node->nodeId, false) :
			GetNodeConnection(node->nodeId);
		SendRemoteStatements(node->nc, sql.data);
	}
	foreach(lc, nodes)
	{
		ListCell   *resultCell;
		List	   *results = GetRemoteResults(((NodeShards *) lfirst(lc))->nc);

		foreach(resultCell, results)
			PQclear(lfirst(resultCell));
	}
}

/*
 * GroupShardsByReadNode lists, per node, the shards whose rows and sizes
 * are read there: each shard's first placement on a worker (a reference
 * table's copy on the coordinator only when it has no other).
 */
static List *
GroupShardsByReadNode(ShardextTable *table)
{
	List	   *nodes = NIL;
	int			i;

	for (i = 0; i < table->shardCount; i++)
	{
		ShardextShard *shard = table->shards[i];
		int32		nodeId = shard->nodeId;
		ListCell   *lc;

		foreach(lc, shard->placementNodeIds)
			if (lfirst_int(lc) != COORDINATOR_NODE_ID)
			{
				nodeId = lfirst_int(lc);
				break;
			}
		nodes = AddNodeShard(nodes, nodeId, shard);
	}
	return nodes;
}

/*
 * ReadShardSizes asks the nodes, in parallel, for the row count and pages
 * of each shard in their pg_class (the figures their last VACUUM or ANALYZE
 * left).
 */
static ShardSizes *
ReadShardSizes(ShardextTable *table)
{
	ShardSizes *sizes = palloc0(sizeof(ShardSizes));
	List	   *nodes = GroupShardsByReadNode(table);
	ListCell   *lc;

	sizes->rows = palloc(sizeof(double) * table->shardCount);
	sizes->pages = palloc(sizeof(double) * table->shardCount);

	foreach(lc, nodes)
	{
		NodeShards *node = lfirst(lc);
		StringInfoData sql;
		ListCell   *shardCell;

		initStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT c.reltuples, c.relpages FROM unnest(ARRAY[");
		foreach(shardCell, node->shards)
			appendStringInfo(&sql, "%s%s::pg_catalog.regclass",
							 foreach_current_index(shardCell) == 0 ? "" : ", ",
							 quote_literal_cstr(((ShardextShard *) lfirst(shardCell))->relationName));
		appendStringInfoString(&sql, "]) WITH ORDINALITY AS s(shard, i) "
							   "JOIN pg_catalog.pg_class c ON c.oid = s.shard ORDER BY s.i");
		node->nc = GetNodeConnectionInTransaction(node->nodeId, false);
		SendRemoteStatements(node->nc, sql.data);
	}
	foreach(lc, nodes)
	{
		NodeShards *node = lfirst(lc);
		List	   *results = GetRemoteResults(node->nc);
		PGresult   *res = llast(results);
		ListCell   *shardCell;

		if (PQntuples(res) != list_length(node->shards))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("shards of table \"%s\" are missing on node %s",
							get_rel_name(table->relid), node->nc->label),
					 errhint("The shard map names tables the node does not have (dropped or "
							 "restored there by hand); compare shardext.shards with the node.")));
		foreach(shardCell, node->shards)
		{
			ShardextShard *shard = lfirst(shardCell);
			int			row = foreach_current_index(shardCell);
			double		rows = strtod(PQgetvalue(res, row, 0), NULL);
			double		pages = strtod(PQgetvalue(res, row, 1), NULL);

			/* reltuples is -1 until the shard's first VACUUM or ANALYZE */
			sizes->rows[shard->shardIndex] = rows;
			sizes->pages[shard->shardIndex] = pages;
			sizes->totalRows += Max(rows, 0);
			sizes->totalPages += pages;
		}
		foreach(shardCell, results)
			PQclear(lfirst(shardCell));
	}
	return sizes;
}

/*
 * SaveShardSizes writes the known sizes of a table's shards into
 * shardext.shard_statistics (which extension version 0.1 lacks).
 */
static void
SaveShardSizes(ShardextTable *table, ShardSizes *sizes)
{
	StringInfoData sql;
	int			i;
	bool		any = false;

	if (!OidIsValid(ShardextCatalogRelid("shard_statistics", true)))
		return;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "INSERT INTO shardext.shard_statistics AS s "
						   "(shard_id, row_count, page_count) VALUES ");
	for (i = 0; i < table->shardCount; i++)
	{
		if (sizes->rows[i] < 0)
			continue;
		appendStringInfo(&sql, "%s(" INT64_FORMAT ", %.0f, %.0f)", any ? ", " : "",
						 table->shards[i]->shardId, sizes->rows[i], sizes->pages[i]);
		any = true;
	}
	appendStringInfoString(&sql, " ON CONFLICT (shard_id) DO UPDATE SET "
						   "row_count = excluded.row_count, "
						   "page_count = excluded.page_count, "
						   "collected_at = excluded.collected_at");
	if (any)
		ExecuteCatalogSql(sql.data, 0, NULL, NULL, NULL);
	CommandCounterIncrement();
}

/*
 * AnalyzedColumns returns the columns ANALYZE gathers statistics on: those
 * named, else every column; columns whose statistics target is 0 are left
 * out, as ANALYZE leaves them.
 */
static List *
AnalyzedColumns(Relation rel, List *names)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	List	   *columns = NIL;
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		AnalyzedColumn *column;
		bool		named = (names == NIL);
		ListCell   *lc;

		foreach(lc, names)
			if (strcmp(strVal(lfirst(lc)), NameStr(attr->attname)) == 0)
				named = true;
		if (attr->attisdropped || !named || attr->attstattarget == 0)
			continue;
		column = palloc0(sizeof(AnalyzedColumn));
		column->attnum = attr->attnum;
		column->name = pstrdup(NameStr(attr->attname));
		column->typid = attr->atttypid;
		column->typmod = attr->atttypmod;
		column->statTarget = attr->attstattarget;
		columns = lappend(columns, column);
	}
	return columns;
}

/*
 * FetchSample fetches about targetRows random rows of the table's columns
 * from its shards, each shard's share in proportion to its rows, the nodes
 * in parallel; it returns their results (text).
 */
static List *
FetchSample(ShardextTable *table, ShardSizes *sizes, List *columns,
			int targetRows)
{
	StringInfoData select;
	StringInfoData sample;
	List	   *nodes = GroupShardsByReadNode(table);
	List	   *volatile results = NIL;
	ListCell   *lc;
	double		fraction = Min(1.0, targetRows / sizes->totalRows);

	initStringInfo(&select);
	foreach(lc, columns)
		appendStringInfo(&select, "%s%s", foreach_current_index(lc) == 0 ? "" : ", ",
						 quote_identifier(((AnalyzedColumn *) lfirst(lc))->name));

	/* how each shard is sampled */
	initStringInfo(&sample);
	if (fraction >= 1.0)
		;						/* every row */
	else if (sizes->totalPages <= targetRows)
		appendStringInfo(&sample, " TABLESAMPLE BERNOULLI (%.10g)", 100.0 * fraction);
	else
	{
		/* read as many pages as ANALYZE would, keep a share of their rows */
		double		pageFraction = targetRows / sizes->totalPages;

		appendStringInfo(&sample, " TABLESAMPLE SYSTEM (%.10g)", 100.0 * pageFraction);
		if (fraction / pageFraction < 1.0)
			appendStringInfo(&sample, " WHERE pg_catalog.random() < %.10g",
							 fraction / pageFraction);
	}

	foreach(lc, nodes)
	{
		NodeShards *node = lfirst(lc);
		StringInfoData sql;
		ListCell   *shardCell;

		initStringInfo(&sql);
		foreach(shardCell, node->shards)
		{
			ShardextShard *shard = lfirst(shardCell);

			if (sizes->rows[shard->shardIndex] == 0)
				continue;
			appendStringInfo(&sql, "%sSELECT %s FROM %s%s",
							 sql.len > 0 ? " UNION ALL " : "",
							 select.data, shard->relationName, sample.data);
		}
		if (sql.len == 0)
			continue;
		node->nc = GetNodeConnectionInTransaction(node->nodeId, false);
		SendRemoteStatements(node->nc, sql.data);
	}
	PG_TRY();
	{
		foreach(lc, nodes)
		{
			NodeShards *node = lfirst(lc);

			if (node->nc != NULL)
				results = list_concat(results, GetRemoteResults(node->nc));
		}
	}
	PG_CATCH();
	{
		foreach(lc, results)
			PQclear(lfirst(lc));
		PG_RE_THROW();
	}
	PG_END_TRY();
	return results;
}

/* FetchSampleValue is the compute_stats fetch function over a column's values. */
static Datum
FetchSampleValue(VacAttrStatsP stats, int rownum, bool *isNull)
{
	*isNull = stats->exprnulls[rownum];
	return stats->exprvals[rownum];
}

/*
 * AnalyzeSample computes the statistics of the columns from the sample's
 * rows (text, the columns in order), as ANALYZE computes them from its
 * sample of a local table: each column's type's own typanalyze function
 * (std_typanalyze for most) and compute_stats, told the whole table's row
 * count, and writes them into pg_statistic.  The input, typanalyze and
 * compute functions run as the table's owner, in a restricted operation,
 * as ANALYZE runs them.  It frees the results.
 */
static void
AnalyzeSample(Relation rel, List *columns, List *results, double totalRows,
			  bool verbose, int shardCount)
{
	MemoryContext sampleContext = AllocSetContextCreate(CurrentMemoryContext,
														"shardext sample",
														ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldContext = MemoryContextSwitchTo(sampleContext);
	int			ncolumns = list_length(columns);
	int			nrows = 0;
	Datum	  **values = palloc(sizeof(Datum *) * ncolumns);
	bool	  **nulls = palloc(sizeof(bool *) * ncolumns);
	Oid			savedUserId;
	int			savedSecContext;
	int			gucNestLevel;
	VacAttrStats **built;
	int			nbuilt = 0;
	ListCell   *lc;
	int			c;

	foreach(lc, results)
		nrows += PQntuples((PGresult *) lfirst(lc));
	for (c = 0; c < ncolumns; c++)
	{
		values[c] = palloc(sizeof(Datum) * Max(nrows, 1));
		nulls[c] = palloc(sizeof(bool) * Max(nrows, 1));
	}

	GetUserIdAndSecContext(&savedUserId, &savedSecContext);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   savedSecContext | SECURITY_RESTRICTED_OPERATION);
	gucNestLevel = NewGUCNestLevel();

	PG_TRY();
	{
		DecodeSample(columns, results, values, nulls);
	}
	PG_FINALLY();
	{
		foreach(lc, results)
			PQclear(lfirst(lc));
	}
	PG_END_TRY();

	built = palloc(sizeof(VacAttrStats *) * Max(ncolumns, 1));
	foreach(lc, columns)
	{
		AnalyzedColumn *column = lfirst(lc);
		VacAttrStats *stats = MakeColumnStats(rel, column);

		c = foreach_current_index(lc);
		if (stats == NULL || nrows == 0)
			continue;
		stats->exprvals = values[c];
		stats->exprnulls = nulls[c];
		stats->rowstride = 1;
		stats->compute_stats(stats, FetchSampleValue, nrows, totalRows);
		if (stats->stats_valid)
			WriteColumnStatistics(RelationGetRelid(rel), column->attnum, stats);
		built[nbuilt++] = stats;
	}

	/* the extended statistics (CREATE STATISTICS) from the same sample */
	if (nrows > 0 && nbuilt > 0 && RelationGetStatExtList(rel) != NIL)
	{
		HeapTuple  *rows = SampleRows(rel, columns, values, nulls, nrows);
		int			i;

		/* as ANALYZE leaves them: the rows, through the table's descriptor */
		for (i = 0; i < nbuilt; i++)
		{
			built[i]->rows = rows;
			built[i]->tupDesc = RelationGetDescr(rel);
		}
		BuildRelationExtStatistics(rel, false, totalRows, nrows, rows, nbuilt, built);
	}
	CommandCounterIncrement();

	AtEOXact_GUC(false, gucNestLevel);
	SetUserIdAndSecContext(savedUserId, savedSecContext);
	MemoryContextSwitchTo(oldContext);
	MemoryContextDelete(sampleContext);

	ereport(verbose ? INFO : DEBUG1,
			(errmsg("\"%s\": %d shards, %.0f rows in all, %d rows sampled",
					RelationGetRelationName(rel), shardCount, totalRows, nrows)));
}

/*
 * DecodeSample reads the sample's rows (text, the columns in order) with
 * the columns' input functions into one array of values and one of nulls
 * per column.
 */
static void
DecodeSample(List *columns, List *results, Datum **values, bool **nulls)
{
	int			ncolumns = list_length(columns);
	FmgrInfo   *inputs = palloc(sizeof(FmgrInfo) * ncolumns);
	Oid		   *ioparams = palloc(sizeof(Oid) * ncolumns);
	bool	   *varlena = palloc(sizeof(bool) * ncolumns);
	int32	   *typmods = palloc(sizeof(int32) * ncolumns);
	int			row = 0;
	ListCell   *lc;

	foreach(lc, columns)
	{
		AnalyzedColumn *column = lfirst(lc);
		Oid			input;

		GetStoredValueInputInfo(column->typid, column->typmod, &input,
								&ioparams[foreach_current_index(lc)],
								&typmods[foreach_current_index(lc)]);
		fmgr_info(input, &inputs[foreach_current_index(lc)]);
		varlena[foreach_current_index(lc)] = (get_typlen(column->typid) == -1);
	}
	foreach(lc, results)
	{
		PGresult   *res = lfirst(lc);
		int			r;

		for (r = 0; r < PQntuples(res); r++, row++)
		{
			int			c;

			CHECK_FOR_INTERRUPTS();
			for (c = 0; c < list_length(columns); c++)
			{

				nulls[c][row] = PQgetisnull(res, r, c);
				values[c][row] = InputFunctionCall(&inputs[c],
												   nulls[c][row] ? NULL : PQgetvalue(res, r, c),
												   ioparams[c], typmods[c]);
				if (!nulls[c][row] && varlena[c])
					values[c][row] = StoredForm(values[c][row]);
			}
		}
	}
}

/*
 * SampleRows returns the sample as rows of the table (the columns not
 * sampled null), for the extended statistics.
 */
static HeapTuple *
SampleRows(Relation rel, List *columns, Datum **values, bool **nulls, int nrows)
{
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTuple  *rows = palloc(sizeof(HeapTuple) * nrows);
	Datum	   *rowValues = palloc0(sizeof(Datum) * desc->natts);
	bool	   *rowNulls = palloc(sizeof(bool) * desc->natts);
	int			r;

	for (r = 0; r < nrows; r++)
	{
		ListCell   *lc;

		memset(rowNulls, true, sizeof(bool) * desc->natts);
		foreach(lc, columns)
		{
			AnalyzedColumn *column = lfirst(lc);
			int			c = foreach_current_index(lc);

			rowValues[column->attnum - 1] = values[c][r];
			rowNulls[column->attnum - 1] = nulls[c][r];
		}
		rows[r] = heap_form_tuple(desc, rowValues, rowNulls);
	}
	return rows;
}

/*
 * StoredForm returns a variable-length value with the short header a
 * table's row gives it when it fits in one, as ANALYZE of a local table
 * sees it: the columns' average widths are those of the values as stored.
 */
static Datum
StoredForm(Datum value)
{
	char	   *pointer = DatumGetPointer(value);
	Size		size;
	char	   *shortForm;

	if (!VARATT_IS_4B_U(pointer) || !VARATT_CAN_MAKE_SHORT(pointer))
		return value;
	size = VARATT_CONVERTED_SHORT_SIZE(pointer);
	shortForm = palloc(size);
	SET_VARSIZE_SHORT(shortForm, size);
	memcpy(shortForm + VARHDRSZ_SHORT, VARDATA(pointer), size - VARHDRSZ_SHORT);
	return PointerGetDatum(shortForm);
}

/*
 * MakeColumnStats prepares the statistics of one column, as ANALYZE does
 * for a table's column: its type's typanalyze function (std_typanalyze when
 * it has none) chooses how they are computed.  NULL when the type has no
 * statistics.
 */
static VacAttrStats *
MakeColumnStats(Relation rel, AnalyzedColumn *column)
{
	Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), column->attnum - 1);
	VacAttrStats *stats = palloc0(sizeof(VacAttrStats));
	HeapTuple	typeTuple;
	bool		ok;
	int			i;

	stats->attr = palloc(ATTRIBUTE_FIXED_PART_SIZE);
	memcpy(stats->attr, attr, ATTRIBUTE_FIXED_PART_SIZE);
	stats->attrtypid = attr->atttypid;
	stats->attrtypmod = attr->atttypmod;
	stats->attrcollid = attr->attcollation;
	typeTuple = SearchSysCacheCopy1(TYPEOID, ObjectIdGetDatum(stats->attrtypid));
	if (!HeapTupleIsValid(typeTuple))
		elog(ERROR, "cache lookup failed for type %u", stats->attrtypid);
	stats->attrtype = (Form_pg_type) GETSTRUCT(typeTuple);
	stats->anl_context = CurrentMemoryContext;
	stats->tupattnum = column->attnum;
	for (i = 0; i < STATISTIC_NUM_SLOTS; i++)
	{
		stats->statypid[i] = stats->attrtypid;
		stats->statyplen[i] = stats->attrtype->typlen;
		stats->statypbyval[i] = stats->attrtype->typbyval;
		stats->statypalign[i] = stats->attrtype->typalign;
	}
	if (OidIsValid(stats->attrtype->typanalyze))
		ok = DatumGetBool(OidFunctionCall1(stats->attrtype->typanalyze,
										   PointerGetDatum(stats)));
	else
		ok = std_typanalyze(stats);
	if (!ok || stats->compute_stats == NULL || stats->minrows <= 0)
		return NULL;
	return stats;
}

/*
 * WriteColumnStatistics makes the computed statistics the pg_statistic row
 * of the distributed table's column, replacing the one it had.
 */
static void
WriteColumnStatistics(Oid relid, AttrNumber attnum, VacAttrStats *stats)
{
	Relation	statistics = table_open(StatisticRelationId, RowExclusiveLock);
	Datum		values[Natts_pg_statistic];
	bool		nulls[Natts_pg_statistic];
	bool		replaces[Natts_pg_statistic];
	HeapTuple	oldTuple;
	HeapTuple	newTuple;
	int			k;

	memset(nulls, false, sizeof(nulls));
	memset(replaces, true, sizeof(replaces));
	values[Anum_pg_statistic_starelid - 1] = ObjectIdGetDatum(relid);
	values[Anum_pg_statistic_staattnum - 1] = Int16GetDatum(attnum);
	values[Anum_pg_statistic_stainherit - 1] = BoolGetDatum(false);
	values[Anum_pg_statistic_stanullfrac - 1] = Float4GetDatum(stats->stanullfrac);
	values[Anum_pg_statistic_stawidth - 1] = Int32GetDatum(stats->stawidth);
	values[Anum_pg_statistic_stadistinct - 1] = Float4GetDatum(stats->stadistinct);
	for (k = 0; k < STATISTIC_NUM_SLOTS; k++)
	{
		int			numbers = Anum_pg_statistic_stanumbers1 - 1 + k;
		int			valuesColumn = Anum_pg_statistic_stavalues1 - 1 + k;

		values[Anum_pg_statistic_stakind1 - 1 + k] = Int16GetDatum(stats->stakind[k]);
		values[Anum_pg_statistic_staop1 - 1 + k] = ObjectIdGetDatum(stats->staop[k]);
		values[Anum_pg_statistic_stacoll1 - 1 + k] = ObjectIdGetDatum(stats->stacoll[k]);
		if (stats->numnumbers[k] > 0)
		{
			Datum	   *items = palloc(sizeof(Datum) * stats->numnumbers[k]);
			int			n;

			for (n = 0; n < stats->numnumbers[k]; n++)
				items[n] = Float4GetDatum(stats->stanumbers[k][n]);
			values[numbers] = PointerGetDatum(construct_array(items, stats->numnumbers[k],
															  FLOAT4OID, sizeof(float4),
															  true,
															  TYPALIGN_INT));
		}
		else
			nulls[numbers] = true;
		if (stats->numvalues[k] > 0)
			values[valuesColumn] =
				PointerGetDatum(construct_array(stats->stavalues[k], stats->numvalues[k],
												stats->statypid[k], stats->statyplen[k],
												stats->statypbyval[k],
												stats->statypalign[k]));
		else
			nulls[valuesColumn] = true;
	}

	oldTuple = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
							   Int16GetDatum(attnum), BoolGetDatum(false));
	if (HeapTupleIsValid(oldTuple))
	{
		newTuple = heap_modify_tuple(oldTuple, RelationGetDescr(statistics),
									 values, nulls, replaces);
		CatalogTupleUpdate(statistics, &newTuple->t_self, newTuple);
		ReleaseSysCache(oldTuple);
	}
	else
	{
		newTuple = heap_form_tuple(RelationGetDescr(statistics), values, nulls);
		CatalogTupleInsert(statistics, newTuple);
	}
	table_close(statistics, RowExclusiveLock);
}
