# Single-node mode: with no worker, the coordinator holds the shards and
# every query takes the same path through a connection to itself; this
# works on a server left with the default max_prepared_transactions = 0.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('laptop');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'shardext'\nmax_prepared_transactions = 0\n");
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION shardext CASCADE;
	CREATE TABLE t (id int PRIMARY KEY, v text);
	INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;
	SELECT create_distributed_table('t', 'id', shard_count => 4);
});
is($node->safe_psql('postgres', 'SELECT DISTINCT node_id FROM shardext.placements'),
	'0', 'every shard is on the coordinator');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t_100000') > 0 ? 1 : 0,
	1, 'the shards are tables of the coordinator');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '100',
	'the rows are read through the shards');
is($node->safe_psql('postgres', "SELECT v FROM t WHERE id = 42"), 'v42',
	'a router query works');
like($node->safe_psql('postgres', 'EXPLAIN (COSTS OFF) SELECT v FROM t WHERE id = 42'),
	qr/Node: 0/, 'and goes to node 0');

$node->safe_psql('postgres',
	"INSERT INTO t VALUES (101, 'a'), (102, 'b'); UPDATE t SET v = 'u' WHERE id % 10 = 0");
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE v = 'u'"), '10',
	'writes over several shards commit without prepared transactions');
$node->safe_psql('postgres',
	"BEGIN; DELETE FROM t WHERE id > 50; ROLLBACK;");
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '102',
	'a rolled-back transaction leaves the shards as they were');
$node->safe_psql('postgres', "ALTER TABLE t ADD COLUMN w int DEFAULT 7");
is($node->safe_psql('postgres', 'SELECT sum(w) FROM t'), '714',
	'DDL reaches the shards');

# CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY build the shards'
# indexes through the connection to itself (which waits for older snapshots:
# this session holds none meanwhile)
my $validIndexes = q{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE c.relname LIKE 't\_w%' AND i.indisvalid};
$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY t_w ON t (w)');
is($node->safe_psql('postgres', $validIndexes), '5',
	'CREATE INDEX CONCURRENTLY: the table and its 4 shards have the index');
$node->safe_psql('postgres', 'REINDEX TABLE CONCURRENTLY t');
is($node->safe_psql('postgres', $validIndexes), '5', 'REINDEX TABLE CONCURRENTLY');
$node->safe_psql('postgres', 'DROP INDEX CONCURRENTLY t_w');
is($node->safe_psql('postgres', $validIndexes), '0',
	'DROP INDEX CONCURRENTLY drops them all');
$node->safe_psql('postgres', "SELECT undistribute_table('t')");
is($node->safe_psql('postgres', 'SELECT count(*) FROM ONLY t'), '102',
	'undistribute_table brings every row back');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\\_1%'"),
	'0', 'and drops the shards');

# DROP SCHEMA ... CASCADE drops the shards with the table; the shards, in the
# same schema, are already gone when the statement ends
$node->safe_psql(
	'postgres', q{
	CREATE SCHEMA s;
	CREATE TABLE s.d (id int PRIMARY KEY);
	SELECT create_distributed_table('s.d', 'id', shard_count => 2);
	INSERT INTO s.d SELECT generate_series(1, 10);
});
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP SCHEMA s CASCADE',
	timeout => 60);
is($ret, 0, 'DROP SCHEMA CASCADE of a schema with shards on the coordinator works')
  or diag($stderr);
is($node->safe_psql('postgres',
		'SELECT count(*) FROM shardext.tables'),
	'0', 'and forgets the table');

# foreign keys between shards on the coordinator, added and dropped through
# its connection to itself
$node->safe_psql(
	'postgres', q{
	CREATE TABLE kind (id int PRIMARY KEY);
	SELECT create_reference_table('kind');
	INSERT INTO kind VALUES (1), (2);
	CREATE TABLE p (id int PRIMARY KEY, kind int);
	CREATE TABLE c (pid int, n int, PRIMARY KEY (pid, n));
	SELECT create_distributed_table('p', 'id', shard_count => 2);
	SELECT create_distributed_table('c', 'pid', colocate_with => 'p', shard_count => 2);
	ALTER TABLE p ADD FOREIGN KEY (kind) REFERENCES kind (id);
	ALTER TABLE c ADD FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE;
	INSERT INTO p SELECT g, g % 2 + 1 FROM generate_series(1, 10) g;
	INSERT INTO c SELECT g % 10 + 1, g FROM generate_series(1, 50) g;
	DELETE FROM p WHERE id <= 5;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM c'), '25',
	'a delete cascades between co-located shards on the coordinator');
($ret, $stdout, $stderr) = $node->psql('postgres', 'INSERT INTO c VALUES (1, 1000)');
like($stderr, qr/violates foreign key constraint "c_pid_fkey"/,
	'a row referencing nothing is refused');
($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP TABLE kind CASCADE; DROP TABLE p CASCADE',
	timeout => 60);
is($ret, 0, 'dropping referenced tables takes the keys off the shards') or diag($stderr);
is($node->safe_psql('postgres',
		"SELECT string_agg(conrelid::regclass || ' ' || conname, ', ') FROM pg_constraint "
		  . "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
	'', 'no key is left on the coordinator or its shards');

$node->stop;
done_testing();
