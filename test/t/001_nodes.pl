# Nodes that are down, a library that is not preloaded, and the catalog
# surviving pg_dump.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time);

my $coordinator = PostgreSQL::Test::Cluster->new('coordinator');
$coordinator->init;
$coordinator->append_conf('postgresql.conf',
	"shared_preload_libraries = 'shardext'\n");
$coordinator->start;

my $worker = PostgreSQL::Test::Cluster->new('worker');
$worker->init;
$worker->start;

$coordinator->safe_psql('postgres', 'CREATE EXTENSION shardext CASCADE');
my $worker_host = $worker->host;
my $worker_port = $worker->port;
my $node_id = $coordinator->safe_psql('postgres',
	"SELECT shardext_add_node('$worker_host', $worker_port, 'postgres')");
is($node_id, '1', 'a running worker is added');

# A server that takes the TCP connection but never answers: connecting must
# give up after shardext.connect_timeout, naming the node.
my $silent = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Proto => 'tcp',
	Listen => 5,
	ReuseAddr => 1) or die "could not listen: $!";
my $silent_port = $silent->sockport;

my $start = time;
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET shardext.connect_timeout = 2; "
	  . "SELECT shardext_add_node('127.0.0.1', $silent_port, 'postgres')");
my $elapsed = time - $start;
isnt($ret, 0, 'adding a node that does not answer fails');
like($stderr, qr/could not connect to node 127\.0\.0\.1:$silent_port/,
	'the error names the silent node');
like($stderr, qr/shardext\.connect_timeout \(2 s\)/,
	'the error says the timeout ran out');
cmp_ok($elapsed, '>=', 1.9, 'the coordinator waited for the timeout');
cmp_ok($elapsed, '<', 6, 'the coordinator gave up within the timeout');
close($silent);

# A worker that was stopped (killed) is reported at once.
my $stopped = PostgreSQL::Test::Cluster->new('stopped');
$stopped->init;
$stopped->start;
$stopped->stop('immediate');
my $stopped_host = $stopped->host;
my $stopped_port = $stopped->port;
$start = time;
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT shardext_add_node('$stopped_host', $stopped_port, 'postgres')");
$elapsed = time - $start;
isnt($ret, 0, 'adding a stopped node fails');
like($stderr, qr/could not connect to node \Q$stopped_host\E:$stopped_port/,
	'the error names the stopped node');
cmp_ok($elapsed, '<', 5, 'a refused connection is reported at once');
is( $coordinator->safe_psql('postgres',
		"SELECT count(*) FROM shardext.nodes WHERE role = 'worker'"),
	'1',
	'failed additions left no row behind');

# The catalog survives pg_dump and restore.
my $dump = $coordinator->basedir . '/shardext.dump';
$coordinator->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $coordinator->connstr('postgres') ],
	'pg_dump of the coordinator');
$coordinator->safe_psql('postgres', 'CREATE DATABASE restored');
$coordinator->command_ok(
	[ 'pg_restore', '-d', $coordinator->connstr('restored'), $dump ],
	'pg_restore into a new database');
is( $coordinator->safe_psql('restored',
		"SELECT node_id, role, port, dbname FROM shardext.nodes ORDER BY node_id"),
	"0|coordinator|" . $coordinator->port . "|restored\n1|worker|$worker_port|postgres",
	'the nodes are restored, the coordinator registered anew');
is( $coordinator->safe_psql('restored',
		"SELECT count(*) FROM pg_foreign_server WHERE srvname = 'shardext_node_1'"),
	'1',
	'the worker\'s foreign server is restored');
is( $coordinator->safe_psql('restored',
		"SELECT nextval('shardext.nodes_node_id_seq')"),
	'2',
	'the node id sequence is restored');

# Without shared_preload_libraries, CREATE EXTENSION says what to do.
($ret, $stdout, $stderr) =
  $worker->psql('postgres', 'CREATE EXTENSION shardext CASCADE');
isnt($ret, 0, 'CREATE EXTENSION fails when the library is not preloaded');
like($stderr,
	qr/shardext must be loaded via shared_preload_libraries/,
	'the error says why');
like($stderr, qr/HINT:  Add shardext to shared_preload_libraries/,
	'the hint says what to set');

$coordinator->stop;
$worker->stop;
done_testing();
