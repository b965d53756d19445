# Enum types and domains reach the nodes that need them: made with the first
# shard there, kept when the node's type is the same, made anew when the
# node's type differs and nothing there uses it, refused when something
# does; a node added later gets them with its reference table copies; their
# changes reach every node that has them.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use ShardextTestCluster;
use Test::More;

my ($coordinator, $worker1, $worker2) = start_shardext_cluster(workers => 2);
# (the OS user's role would otherwise create in schema shardext, "$user")
$coordinator->safe_psql('postgres', 'ALTER DATABASE postgres SET search_path = public');

# the labels of an enum on a server, in their order
sub labels
{
	my ($server, $type) = @_;
	return $server->safe_psql('postgres',
		"SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
		  . "WHERE enumtypid = to_regtype('$type')");
}

# worker 1 has a leftover "mood" with other labels that nothing uses, and a
# "size" that a table of its own uses
$worker1->safe_psql('postgres', q{
	CREATE TYPE mood AS ENUM ('old');
	CREATE TYPE size AS ENUM ('xl');
	CREATE TABLE own (s size);
});

$coordinator->safe_psql('postgres', q{
	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
	CREATE DOMAIN posint AS int CHECK (VALUE > 0);
	CREATE TABLE t (id int PRIMARY KEY, m mood, p posint);
	SELECT create_distributed_table('t', 'id', shard_count => 4);
	INSERT INTO t VALUES (1, 'happy', 1), (2, 'ok', 2), (3, 'sad', 3), (4, 'ok', 4);
});
is(labels($worker1, 'mood'), 'sad,ok,happy', 'the unused leftover type is made anew');
is(labels($worker2, 'mood'), 'sad,ok,happy', 'the other node gets the type');
is($worker2->safe_psql('postgres',
		"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = 'posint'::regtype"),
	'CHECK ((VALUE > 0))', 'the domain comes with its constraint');

$coordinator->safe_psql('postgres', q{
	CREATE TYPE size AS ENUM ('s', 'm', 'l');
	CREATE TABLE u (id int PRIMARY KEY, s size);
});
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT create_distributed_table('u', 'id', shard_count => 4)");
like($stderr, qr/type size on this node differs from the coordinator's/,
	'a differing type in use on a node is refused, naming it');
is($coordinator->safe_psql('postgres',
		"SELECT count(*) FROM shardext.tables WHERE table_name = 'u'::regclass"),
	'0', 'and the table stays local');
is(labels($worker1, 'size'), 'xl', 'the node keeps its own type');

# changes reach the nodes, in the statement's transaction
$coordinator->safe_psql('postgres', q{
	BEGIN;
	ALTER TYPE mood ADD VALUE 'meh' AFTER 'sad';
	ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 10);
	COMMIT;
});
is(labels($worker1, 'mood'), 'sad,meh,ok,happy', 'a new label reaches node 1');
is(labels($worker2, 'mood'), 'sad,meh,ok,happy', 'and node 2');
($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{
	BEGIN;
	ALTER TYPE mood ADD VALUE 'glad';
	ALTER DOMAIN posint ADD CONSTRAINT tiny CHECK (VALUE < 3);
	COMMIT;
});
like($stderr, qr/violate the new constraint/, 'a constraint the shards break fails');
is(labels($worker2, 'mood'), 'sad,meh,ok,happy', 'and what came with it is rolled back on the nodes');
is(labels($coordinator, 'mood'), 'sad,meh,ok,happy', 'as on the coordinator');

# a node added later gets the types with its reference table copies
$coordinator->safe_psql('postgres', q{
	CREATE TABLE r (k mood PRIMARY KEY, label text);
	SELECT create_reference_table('r');
	INSERT INTO r VALUES ('meh', 'so so');
});
my $worker3 = PostgreSQL::Test::Cluster->new('worker3');
$worker3->init;
$worker3->append_conf('postgresql.conf', "max_prepared_transactions = 10\n");
$worker3->start;
my ($host, $port) = ($worker3->host, $worker3->port);
$coordinator->safe_psql('postgres', "SELECT shardext_add_node('$host', $port, 'postgres')");
is(labels($worker3, 'mood'), 'sad,meh,ok,happy', 'the new node has the enum');
is($worker3->safe_psql('postgres', 'SELECT k || label FROM r_' .
		$coordinator->safe_psql('postgres',
			"SELECT shard_id FROM shardext.shards WHERE table_name = 'r'::regclass")),
	'mehso so', 'and the copy of the reference table');

# DROP TYPE ... CASCADE drops the columns on the shards, then the types
$coordinator->safe_psql('postgres', 'DROP TYPE mood CASCADE');
is($worker1->safe_psql('postgres', "SELECT to_regtype('mood') IS NULL"), 't',
	'the type is gone from node 1');
is($worker3->safe_psql('postgres', "SELECT to_regtype('mood') IS NULL"), 't',
	'and from the new node');
is($coordinator->safe_psql('postgres', q{SELECT string_agg(id || ':' || p, ',' ORDER BY id) FROM t}),
	'1:1,2:2,3:3,4:4', 'the table is read without the column');

$coordinator->stop;
$worker1->stop;
$worker2->stop;
$worker3->stop;
done_testing();
