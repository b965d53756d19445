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
 *    run on every placement of its shards: one statement per node, the
 *    nodes in parallel;
 * 2. has each shard's row count and size read from its node's pg_class
 *    into shardext.shard_statistics, from which the metadata cache gives the
 *    planner the table's row count (multi_shard.c);
 * 3. for ANALYZE, has a random sample of its rows fetched from the nodes
 *    (every shard in proportion to its rows, about as many rows in all as
 *    ANALYZE samples from a table), stored in a temporary table, analyzed
 *    there by PostgreSQL's own ANALYZE, and the column statistics copied
 *    into pg_statistic as the distributed table's.  The number of distinct
 *    values is then estimated again for the whole table, as ANALYZE does
 *    for a sample (Haas and Stokes), since the temporary table is all
 *    ANALYZE saw.
 *
 * The nodes sample with TABLESAMPLE: BERNOULLI while the table has no more
 * pages than rows are sampled (ANALYZE would read every page too), SYSTEM
 * with a per-row filter beyond, so that about as many pages are read as
 * ANALYZE reads.
 *
 * The temporary table, its ANALYZE and the conversion of the sample's text
 * run as the table's owner, as ANALYZE runs a table's functions.
 *
 * IDENTIFICATION
 *	  src/statistics.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_statistic.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "shardext/catalog.h"
#include "shardext/connection.h"
#include "shardext/remote_exec.h"
#include "shardext/statistics.h"
#include "shardext/transaction.h"

/* a column ANALYZE gathers statistics on */
typedef struct AnalyzedColumn
{
	AttrNumber	attnum;			/* in the distributed table */
	AttrNumber	sampleAttnum;	/* in the temporary table */
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
static ShardSizes *ReadShardSizes(ShardextTable *table);
static void SaveShardSizes(ShardextTable *table, ShardSizes *sizes);
static List *AnalyzedColumns(Relation rel, List *names);
static List *FetchSample(ShardextTable *table, ShardSizes *sizes, List *columns,
						 int targetRows);
static void AnalyzeSample(Relation rel, List *columns, List *results,
						  double totalRows, bool verbose, int shardCount);
static double SampleDistinct(const char *sampleName, AnalyzedColumn *column,
							 double sampleRows, double totalRows, bool *known);
static void CopyColumnStatistics(Oid sampleRelid, Oid relid,
								 AnalyzedColumn *column, bool distinctKnown,
								 double distinct);
static void RunSampleSql(const char *sql, int expected);
static double StoreSample(Relation sampleRel, List *columns, List *results);

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
			NodeShards *node = NULL;

			/*
			 * The coordinator's copy of a reference table is one of its own
			 * tables, vacuumed and analyzed as such (by autovacuum, or a
			 * VACUUM naming it or none): through a connection to itself it
			 * would wait for the locks this statement holds.
			 */
			if (nodeId == COORDINATOR_NODE_ID)
				continue;

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
		NodeShards *node = NULL;
		ListCell   *lc;

		foreach(lc, shard->placementNodeIds)
			if (lfirst_int(lc) != COORDINATOR_NODE_ID)
			{
				nodeId = lfirst_int(lc);
				break;
			}
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
							get_rel_name(table->relid), node->nc->label)));
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

/*
 * AnalyzeSample stores the sample in a temporary table like the
 * distributed one, analyzes it and copies its column statistics to the
 * distributed table, as the table's owner.  It frees the results.
 */
static void
AnalyzeSample(Relation rel, List *columns, List *results, double totalRows,
			  bool verbose, int shardCount)
{
	Oid			savedUserId;
	int			savedSecContext;
	int			gucNestLevel;
	char	   *sampleName = psprintf("shardext_sample_%u", RelationGetRelid(rel));
	StringInfoData sql;
	StringInfoData targets;
	Oid			sampleRelid;
	Relation	sampleRel;
	double		sampleRows = 0;
	ListCell   *lc;

	GetUserIdAndSecContext(&savedUserId, &savedSecContext);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   savedSecContext | SECURITY_LOCAL_USERID_CHANGE);
	gucNestLevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	RunSampleSql(psprintf("CREATE TEMPORARY TABLE pg_temp.%s (LIKE %s)",
						  quote_identifier(sampleName),
						  quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													 RelationGetRelationName(rel))),
				 SPI_OK_UTILITY);
	sampleRelid = get_relname_relid(sampleName, LookupExplicitNamespace("pg_temp", false));

	/* the sample's rows, read by the coordinator's input functions */
	sampleRel = table_open(sampleRelid, RowExclusiveLock);
	foreach(lc, columns)
	{
		AnalyzedColumn *column = lfirst(lc);

		column->sampleAttnum = get_attnum(sampleRelid, column->name);
	}
	PG_TRY();
	{
		sampleRows = StoreSample(sampleRel, columns, results);
	}
	PG_FINALLY();
	{
		foreach(lc, results)
			PQclear(lfirst(lc));
	}
	PG_END_TRY();
	table_close(sampleRel, NoLock);
	CommandCounterIncrement();

	/* the columns' statistics targets, then ANALYZE of the sample */
	initStringInfo(&targets);
	initStringInfo(&sql);
	foreach(lc, columns)
	{
		AnalyzedColumn *column = lfirst(lc);

		if (column->statTarget > 0)
			appendStringInfo(&targets, "%sALTER COLUMN %s SET STATISTICS %d",
							 targets.len > 0 ? ", " : "",
							 quote_identifier(column->name), column->statTarget);
		appendStringInfo(&sql, "%s%s", sql.len > 0 ? ", " : "",
						 quote_identifier(column->name));
	}
	if (targets.len > 0)
		RunSampleSql(psprintf("ALTER TABLE pg_temp.%s %s",
							  quote_identifier(sampleName), targets.data),
					 SPI_OK_UTILITY);
	RunSampleSql(psprintf("ANALYZE pg_temp.%s (%s)", quote_identifier(sampleName),
						  sql.data),
				 SPI_OK_UTILITY);
	CommandCounterIncrement();

	foreach(lc, columns)
	{
		AnalyzedColumn *column = lfirst(lc);
		bool		known;
		double		distinct = SampleDistinct(sampleName, column, sampleRows,
											  totalRows, &known);

		CopyColumnStatistics(sampleRelid, RelationGetRelid(rel), column,
							 known, distinct);
	}
	CommandCounterIncrement();

	RunSampleSql(psprintf("DROP TABLE pg_temp.%s", quote_identifier(sampleName)),
				 SPI_OK_UTILITY);
	SPI_finish();
	AtEOXact_GUC(true, gucNestLevel);
	SetUserIdAndSecContext(savedUserId, savedSecContext);

	ereport(verbose ? INFO : DEBUG1,
			(errmsg("\"%s\": %d shards, %.0f rows in all, %.0f rows sampled",
					RelationGetRelationName(rel), shardCount, totalRows,
					sampleRows)));
}

/*
 * StoreSample inserts the rows of the sample's results (text, the columns
 * in order) into the temporary table, and returns how many there were.
 */
static double
StoreSample(Relation sampleRel, List *columns, List *results)
{
	TupleDesc	desc = RelationGetDescr(sampleRel);
	FmgrInfo   *inputs = palloc(sizeof(FmgrInfo) * list_length(columns));
	Oid		   *ioparams = palloc(sizeof(Oid) * list_length(columns));
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	MemoryContext rowContext;
	MemoryContext oldContext;
	double		rows = 0;
	ListCell   *lc;

	memset(nulls, true, sizeof(bool) * desc->natts);
	foreach(lc, columns)
	{
		AnalyzedColumn *column = lfirst(lc);
		Oid			input;

		getTypeInputInfo(column->typid, &input, &ioparams[foreach_current_index(lc)]);
		fmgr_info(input, &inputs[foreach_current_index(lc)]);
	}
	rowContext = AllocSetContextCreate(CurrentMemoryContext, "shardext sample row",
									   ALLOCSET_DEFAULT_SIZES);
	foreach(lc, results)
	{
		PGresult   *res = lfirst(lc);
		int			row;

		for (row = 0; row < PQntuples(res); row++)
		{
			ListCell   *columnCell;

			MemoryContextReset(rowContext);
			oldContext = MemoryContextSwitchTo(rowContext);
			foreach(columnCell, columns)
			{
				AnalyzedColumn *column = lfirst(columnCell);
				int			field = foreach_current_index(columnCell);
				int			index = column->sampleAttnum - 1;

				nulls[index] = PQgetisnull(res, row, field);
				values[index] = InputFunctionCall(&inputs[field],
												  nulls[index] ? NULL : PQgetvalue(res, row, field),
												  ioparams[field], column->typmod);
			}
			simple_heap_insert(sampleRel, heap_form_tuple(desc, values, nulls));
			MemoryContextSwitchTo(oldContext);
			rows++;
		}
	}
	MemoryContextDelete(rowContext);
	return rows;
}

/* RunSampleSql runs one statement through SPI, expecting a result code. */
static void
RunSampleSql(const char *sql, int expected)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != expected)
		elog(ERROR, "statement on the statistics sample failed (%s): %s",
			 SPI_result_code_string(rc), sql);
}

/*
 * SampleDistinct estimates the number of distinct values of a column in
 * the whole table from the sample, as ANALYZE's compute_scalar_stats does
 * from its sample (a negative value is a fraction of the rows).  *known is
 * false when the column's type cannot be grouped.
 */
static double
SampleDistinct(const char *sampleName, AnalyzedColumn *column, double sampleRows,
			   double totalRows, bool *known)
{
	TypeCacheEntry *type = lookup_type_cache(column->typid,
											 TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR |
											 TYPECACHE_HASH_PROC);
	double		d;
	double		f1;
	double		nonNull;
	double		nullFraction;
	double		nMultiple;
	double		distinct;

	*known = false;
	if (!OidIsValid(type->eq_opr) ||
		(!OidIsValid(type->lt_opr) && !OidIsValid(type->hash_proc)) ||
		sampleRows <= 0)
		return 0;

	RunSampleSql(psprintf("SELECT count(*)::float8, (count(*) FILTER (WHERE n = 1))::float8, "
						  "coalesce(sum(n), 0)::float8 FROM (SELECT count(*) AS n "
						  "FROM pg_temp.%s WHERE %s IS NOT NULL GROUP BY %s) AS g",
						  quote_identifier(sampleName), quote_identifier(column->name),
						  quote_identifier(column->name)),
				 SPI_OK_SELECT);
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;

		d = DatumGetFloat8(SPI_getbinval(tuple, tupdesc, 1, &isnull));
		f1 = DatumGetFloat8(SPI_getbinval(tuple, tupdesc, 2, &isnull));
		nonNull = DatumGetFloat8(SPI_getbinval(tuple, tupdesc, 3, &isnull));
	}

	*known = true;
	nullFraction = 1.0 - nonNull / sampleRows;
	nMultiple = d - f1;
	if (nonNull == 0)
		distinct = 0;
	else if (nMultiple == 0)
		distinct = -1.0 * (1.0 - nullFraction);	/* all different: unique */
	else if (nMultiple == d)
		distinct = d;			/* every value seen twice: all seen */
	else
	{
		double		n = nonNull;
		double		N = totalRows * (1.0 - nullFraction);

		distinct = N > 0 ? (n * d) / ((n - f1) + f1 * n / N) : 0;
		distinct = Min(Max(distinct, d), N);
		distinct = floor(distinct + 0.5);
	}
	if (distinct > 0.1 * totalRows)
		distinct = -(distinct / totalRows);
	return distinct;
}

/*
 * CopyColumnStatistics makes the sample column's pg_statistic row the
 * distributed table's column's (with the whole table's number of distinct
 * values when known), replacing the row it had.
 */
static void
CopyColumnStatistics(Oid sampleRelid, Oid relid, AnalyzedColumn *column,
					 bool distinctKnown, double distinct)
{
	Relation	statistics = table_open(StatisticRelationId, RowExclusiveLock);
	HeapTuple	sampleTuple;
	HeapTuple	oldTuple;
	HeapTuple	newTuple;
	Datum		values[Natts_pg_statistic];
	bool		nulls[Natts_pg_statistic];

	sampleTuple = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(sampleRelid),
								  Int16GetDatum(column->sampleAttnum),
								  BoolGetDatum(false));
	oldTuple = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
							   Int16GetDatum(column->attnum), BoolGetDatum(false));
	if (HeapTupleIsValid(sampleTuple))
	{
		heap_deform_tuple(sampleTuple, RelationGetDescr(statistics), values, nulls);
		values[Anum_pg_statistic_starelid - 1] = ObjectIdGetDatum(relid);
		values[Anum_pg_statistic_staattnum - 1] = Int16GetDatum(column->attnum);
		if (distinctKnown)
			values[Anum_pg_statistic_stadistinct - 1] = Float4GetDatum((float4) distinct);
		newTuple = heap_form_tuple(RelationGetDescr(statistics), values, nulls);
		if (HeapTupleIsValid(oldTuple))
			CatalogTupleUpdate(statistics, &oldTuple->t_self, newTuple);
		else
			CatalogTupleInsert(statistics, newTuple);
		ReleaseSysCache(sampleTuple);
	}
	else if (HeapTupleIsValid(oldTuple))
		CatalogTupleDelete(statistics, &oldTuple->t_self);
	if (HeapTupleIsValid(oldTuple))
		ReleaseSysCache(oldTuple);
	table_close(statistics, RowExclusiveLock);
}
