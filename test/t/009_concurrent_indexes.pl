# CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY and REINDEX on a
# distributed table reach every shard.  The concurrent forms wait for a
# transaction that writes to the table, as on PostgreSQL, while other
# sessions go on writing; a build that fails on a shard leaves the index
# invalid (as PostgreSQL leaves a failed build), and DROP INDEX removes it
# from the coordinator and every shard.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;

my ($coordinator, @workers) = start_shardext_cluster();
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v int, d int);
	INSERT INTO t SELECT g, g % 7, g FROM generate_series(1, 200) g;
	SELECT create_distributed_table('t', 'id', shard_count => 4);
});

# shard_indexes returns "name:valid" of the shards' indexes whose names
# start with prefix, on every worker, sorted
sub shard_indexes
{
	my ($prefix) = @_;
	my @found;
	for my $worker (@workers)
	{
		my $rows = $worker->safe_psql('postgres',
			"SELECT c.relname || ':' || i.indisvalid FROM pg_index i "
			  . "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE '${prefix}\\_%'"
		);
		push @found, split(/\n/, $rows);
	}
	return join(',', sort @found);
}

# coordinator_index returns whether the coordinator's index is valid, or ''
sub coordinator_index
{
	my ($name) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('$name')");
}

my $shardIds = $coordinator->safe_psql('postgres',
	"SELECT string_agg(shard_id::text, ',' ORDER BY shard_id) FROM shardext.shards WHERE table_name = 't'::regclass"
);
my @shardIds = split(/,/, $shardIds);

# CREATE INDEX CONCURRENTLY waits for a writing transaction; others write on
my $holder = $coordinator->background_psql('postgres', on_error_stop => 0);
my $builder = $coordinator->background_psql('postgres', on_error_stop => 0);
$holder->query_safe('BEGIN');
$holder->query_safe('INSERT INTO t VALUES (1001, 1, 1)');
$builder->{stdin} .= "CREATE INDEX CONCURRENTLY t_v ON t (v);\n\\echo built\n";
$builder->{run}->pump_nb();
sleep 2;
$coordinator->safe_psql('postgres',
	'INSERT INTO t SELECT g, g % 7, g FROM generate_series(1002, 1010) g; UPDATE t SET d = d + 1 WHERE id <= 10'
);
pass('other sessions write while the index is built');
$builder->{run}->pump_nb();
unlike($builder->{stdout}, qr/built/,
	'CREATE INDEX CONCURRENTLY waits for the writing transaction');
$holder->query_safe('COMMIT');
$builder->{run}->pump() until $builder->{stdout} =~ /built/;
is($builder->{stderr}, '', 'and finishes after it commits');
is(coordinator_index('t_v'), 't', 'the index is valid');
is(shard_indexes('t_v'), join(',', sort map { "t_v_$_:true" } @shardIds),
	'every shard has a valid index');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM t WHERE v = 3'),
	$coordinator->safe_psql('postgres', 'SELECT count(*) FROM (SELECT * FROM t OFFSET 0) x WHERE v + 0 = 3'),
	'the rows written meanwhile are found');

# a build that fails on a shard leaves the index invalid; DROP INDEX cleans up
my ($ret, $out, $err) = $coordinator->psql('postgres',
	'CREATE INDEX CONCURRENTLY t_v_bad ON t ((100 / (v - 3)))');
like($err, qr/division by zero.*left invalid/s,
	'an index whose expression fails on some rows fails, saying the index is left invalid');
is(coordinator_index('t_v_bad'), 'f', 'the coordinator index is invalid');
like($coordinator->safe_psql('postgres', 'SELECT pg_get_indexdef(\'t_v_bad\'::regclass)'),
	qr/100/, 'and still in the catalog');
$coordinator->safe_psql('postgres', 'DROP INDEX t_v_bad');
is(coordinator_index('t_v_bad'), '', 'DROP INDEX drops it');
is(shard_indexes('t_v_bad'), '', 'and whatever the shards had of it');
$coordinator->safe_psql('postgres',
	'CREATE UNIQUE INDEX CONCURRENTLY t_id_v_unique ON t (id, v)');
is(coordinator_index('t_id_v_unique'), 't', 'a unique index over distinct values builds');

# an index the shards cannot have (a unique key without the distribution
# column) is refused after PostgreSQL's build, and left invalid; it binds
# nothing then (other DDL goes on), REINDEX refuses it, DROP INDEX drops it
($ret, $out, $err) = $coordinator->psql('postgres',
	'CREATE UNIQUE INDEX CONCURRENTLY t_d_unique ON t (d)');
like($err, qr/does not include distribution column.*left invalid/s,
	'a unique index without the distribution column is refused');
is(coordinator_index('t_d_unique'), 'f', 'and left invalid');
is(shard_indexes('t_d_unique'), '', 'with no shard having it');
$coordinator->safe_psql('postgres', 'ALTER TABLE t ADD COLUMN e int; ALTER TABLE t DROP COLUMN e');
pass('other schema changes go on');
($ret, $out, $err) = $coordinator->psql('postgres', 'REINDEX TABLE t');
like($err, qr/cannot reindex invalid index "t_d_unique"/, 'REINDEX refuses the invalid index');
$coordinator->safe_psql('postgres', 'DROP INDEX t_d_unique');
is(coordinator_index('t_d_unique'), '', 'DROP INDEX drops it');

# REINDEX rebuilds the shards' indexes (a new relfilenode; CONCURRENTLY: a
# new index), in the transaction when not concurrent
sub shard_index_files
{
	my $files = '';
	for my $worker (@workers)
	{
		$files .= $worker->safe_psql('postgres',
			"SELECT string_agg(c.oid || '/' || c.relfilenode, ',' ORDER BY c.relname) FROM pg_class c "
			  . "WHERE c.relname LIKE 't\\_v\\_%' AND c.relkind = 'i'");
	}
	return $files;
}
my $files = shard_index_files();
$coordinator->safe_psql('postgres', 'BEGIN; REINDEX TABLE t; ROLLBACK;');
is(shard_index_files(), $files, 'a REINDEX rolled back leaves the shards as they were');
$coordinator->safe_psql('postgres', 'REINDEX INDEX t_v');
my $reindexed = shard_index_files();
isnt($reindexed, $files, 'REINDEX INDEX rebuilds the shards\' indexes');
$coordinator->safe_psql('postgres', 'REINDEX TABLE CONCURRENTLY t');
isnt(shard_index_files(), $reindexed, 'REINDEX TABLE CONCURRENTLY too');
is(shard_indexes('t_v'), join(',', sort map { "t_v_$_:true" } @shardIds),
	'under the same names, valid');
my ($rret, $rout, $rerr) = $coordinator->psql('postgres',
	'BEGIN; REINDEX TABLE CONCURRENTLY t; COMMIT;');
like($rerr, qr/cannot run inside a transaction block/,
	'REINDEX CONCURRENTLY in a transaction block is refused');

# REINDEX SCHEMA and CLUSTER reach the shards too
$files = shard_index_files();
my $schema = $coordinator->safe_psql('postgres',
	"SELECT relnamespace::regnamespace FROM pg_class WHERE oid = 't'::regclass");
$coordinator->safe_psql('postgres', "REINDEX SCHEMA $schema");
isnt(shard_index_files(), $files, 'REINDEX SCHEMA rebuilds the shards\' indexes');
$coordinator->safe_psql('postgres', 'CLUSTER t USING t_v');
my $clustered = 0;
for my $worker (@workers)
{
	$clustered += $worker->safe_psql('postgres',
		"SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
		  . "WHERE c.relname LIKE 't\\_v\\_%' AND i.indisclustered");
}
is($clustered, scalar(@shardIds), 'CLUSTER orders every shard by its index');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM t WHERE v = 3'),
	$coordinator->safe_psql('postgres', 'SELECT count(*) FROM (SELECT * FROM t OFFSET 0) x WHERE v + 0 = 3'),
	'and keeps its rows');

# a reference table: its copy on the coordinator is built through the
# coordinator's connection to itself, which waits for older snapshots
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE r (id int PRIMARY KEY, v text);
	INSERT INTO r SELECT g, 'v' || g FROM generate_series(1, 100) g;
	SELECT create_reference_table('r');
});
for my $round (1 .. 3)
{
	$coordinator->safe_psql('postgres', "CREATE INDEX CONCURRENTLY r_v$round ON r (v)",
		timeout => 60);
	$coordinator->safe_psql('postgres', 'REINDEX TABLE CONCURRENTLY r', timeout => 60);
}
is($coordinator->safe_psql('postgres',
		"SELECT count(*) FROM pg_index WHERE indrelid = 'r'::regclass AND indisvalid"),
	'4', 'CREATE INDEX and REINDEX CONCURRENTLY of a reference table finish');

# a DROP INDEX CONCURRENTLY that cannot lock the table drops nothing
my $locker = $coordinator->background_psql('postgres', on_error_stop => 0);
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK t IN SHARE MODE');
($ret, $out, $err) = $coordinator->psql('postgres',
	"SET lock_timeout = '500ms'; DROP INDEX CONCURRENTLY t_v");
like($err, qr/lock timeout/, 'DROP INDEX CONCURRENTLY times out on the lock');
$locker->query_safe('COMMIT');
$locker->quit;
is(shard_indexes('t_v'), join(',', sort map { "t_v_$_:true" } @shardIds),
	'and every shard keeps its index');

# DROP INDEX CONCURRENTLY waits for a writing transaction too
$holder->query_safe('BEGIN');
$holder->query_safe('UPDATE t SET d = d + 1000 WHERE id = 5');
$builder->{stdout} = '';
$builder->{stdin} .= "DROP INDEX CONCURRENTLY t_v;\n\\echo dropped\n";
$builder->{run}->pump_nb();
sleep 2;
$builder->{run}->pump_nb();
unlike($builder->{stdout}, qr/dropped/,
	'DROP INDEX CONCURRENTLY waits for the writing transaction');
$holder->query_safe('COMMIT');
$builder->{run}->pump() until $builder->{stdout} =~ /dropped/;
is(coordinator_index('t_v'), '', 'then drops the index');
is(shard_indexes('t_v'), '', 'on every shard');

$holder->quit;
$builder->quit;
$coordinator->stop;
$_->stop for @workers;
done_testing();
