# The shard map cached in each backend follows changes made by other
# sessions: the next query sees them, and plans cached before are made again.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $coordinator = PostgreSQL::Test::Cluster->new('coordinator');
$coordinator->init;
$coordinator->append_conf('postgresql.conf',
	"shared_preload_libraries = 'shardext'\n");
$coordinator->start;
my $worker = PostgreSQL::Test::Cluster->new('worker');
$worker->init;
$worker->append_conf('postgresql.conf', "max_prepared_transactions = 10\n");
$worker->start;

my ($host, $port) = ($worker->host, $worker->port);
$coordinator->safe_psql(
	'postgres', qq{
	CREATE EXTENSION shardext CASCADE;
	SELECT shardext_add_node('$host', $port, 'postgres');
	CREATE TABLE t (id int PRIMARY KEY, v text);
	INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20) g;
});

my $reader = $coordinator->background_psql('postgres', on_error_stop => 0);
$reader->query_safe('PREPARE get(int) AS SELECT v FROM t WHERE id = $1');
is($reader->query_safe('EXECUTE get(3)'), 'v3', 'the local table is read');
is($reader->query_safe('SELECT count(*) FROM shardext.shards'), '0',
	'no shards yet');

# another session distributes the table
$coordinator->safe_psql('postgres',
	"SELECT create_distributed_table('t', 'id', shard_count => 4)");
is($reader->query_safe('EXPLAIN (COSTS OFF) EXECUTE get(3)') =~ /ShardextQuery/ ? 1 : 0,
	1, 'the cached plan is made again as a router plan');
is($reader->query_safe('EXECUTE get(3)'), 'v3', 'and reads the shard');
is($reader->query_safe('SELECT count(*) FROM t'), '20',
	'a new query sees the distributed table');

# another session writes through its own cache; this one sees the rows
$coordinator->safe_psql('postgres', "INSERT INTO t VALUES (21, 'v21')");
is($reader->query_safe('EXECUTE get(21)'), 'v21', 'rows written elsewhere are seen');

# another session renames the table: shard names change in the map
$coordinator->safe_psql('postgres', 'ALTER TABLE t RENAME TO t2');
is($reader->query_safe('SELECT v FROM t2 WHERE id = 5'), 'v5',
	'the renamed shards are found');

# another session undistributes the table
$coordinator->safe_psql('postgres', "SELECT undistribute_table('t2')");
is($reader->query_safe('SELECT count(*) FROM ONLY t2'), '21',
	'the rows are local again');
is($reader->query_safe('SELECT v FROM t2 WHERE id = 21'), 'v21',
	'a query plans the table as local');
is($reader->query_safe('EXPLAIN (COSTS OFF) SELECT v FROM t2 WHERE id = 21') =~ /Shardext/ ? 1 : 0,
	0, 'with a plain PostgreSQL plan');

# a catalog change that is rolled back is never seen
$coordinator->safe_psql('postgres',
	"BEGIN; SELECT create_distributed_table('t2', 'id'); ROLLBACK;");
is($reader->query_safe('SELECT count(*) FROM shardext.tables'), '0',
	'a rolled-back distribution leaves no trace');
is($reader->query_safe('SELECT count(*) FROM t2'), '21', 'and the rows stay local');

$reader->quit;
$coordinator->stop;
$worker->stop;
done_testing();
