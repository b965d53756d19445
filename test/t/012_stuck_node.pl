# A node that stops answering while a transaction uses it (its session is
# frozen): ending the transaction does not hang, and a COMMIT interrupted
# while the node has not answered says that its outcome there is unknown.
use strict;
use warnings;

use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;
use Time::HiRes qw(time);

my ($coordinator, @workers) = start_shardext_cluster();
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 100) g;
	SELECT create_distributed_table('t', 'id', shard_count => 4);
});
my $on_first = $coordinator->safe_psql('postgres',
	"SELECT min(g) FROM generate_series(1, 100) g WHERE shardext_node_for_value('t', g) = 1");
my $on_second = $coordinator->safe_psql('postgres',
	"SELECT min(g) FROM generate_series(1, 100) g WHERE shardext_node_for_value('t', g) = 2");

# the pid of the session on the second worker that has written in a
# transaction of the coordinator
sub writing_session
{
	return $workers[1]->safe_psql('postgres', q{
		SELECT pid FROM pg_stat_activity
		 WHERE application_name LIKE 'shardext %' AND backend_xid IS NOT NULL});
}

# cancels a backend of the coordinator after some seconds, from a child
# process (which leaves without running the test's END blocks)
sub cancel_later
{
	my ($pid, $seconds) = @_;
	my $child = fork();
	if ($child == 0)
	{
		sleep $seconds;
		$coordinator->psql('postgres', "SELECT pg_cancel_backend($pid)");
		POSIX::_exit(0);
	}
	return $child;
}

# freezes a session on a worker, and lets it run again after 15 seconds
# whatever happens (a hang then fails the timing tests instead of the run)
sub freeze
{
	my ($pid) = @_;
	kill 'STOP', $pid;
	my $child = fork();
	if ($child == 0)
	{
		sleep 15;
		kill 'CONT', $pid;
		POSIX::_exit(0);
	}
	return $child;
}

my $session = $coordinator->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SET shardext.connect_timeout = 2');

# ROLLBACK of a transaction that wrote on both workers, the second one frozen
$session->query_safe('BEGIN');
$session->query_safe("UPDATE t SET v = 1 WHERE id = $on_first");
$session->query_safe("UPDATE t SET v = 1 WHERE id = $on_second");
my $frozen = writing_session();
ok($frozen =~ /^\d+$/, 'the second worker has the transaction\'s session');
freeze($frozen);
my $start = time;
$session->query('ROLLBACK');
my $elapsed = time - $start;
kill 'CONT', $frozen;
cmp_ok($elapsed, '<', 8, 'ROLLBACK ends although a node does not answer');
$session->{stderr} = '';
is($session->query_safe("SELECT v FROM t WHERE id = $on_first"),
	'0', 'the first worker rolled back');
ok( $workers[1]->poll_query_until(
		'postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $frozen"),
	'the frozen session ends once it runs again (its connection was closed)');
is($session->query_safe("SELECT v FROM t WHERE id = $on_second"),
	'0', 'the second worker rolled back, and the session works again');

# an error in such a transaction does not hang either
$session->query_safe('BEGIN');
$session->query_safe("UPDATE t SET v = 2 WHERE id = $on_second");
$frozen = writing_session();
freeze($frozen);
$start = time;
$session->{stderr} = '';
$session->query('SELECT 1 / 0');
$session->query('ROLLBACK');
$elapsed = time - $start;
kill 'CONT', $frozen;
like($session->{stderr}, qr/division by zero/, 'the error is reported');
cmp_ok($elapsed, '<', 8, 'and the transaction ends');

# a COMMIT (one phase: one node written) interrupted while the node is frozen
$session->{stderr} = '';
my $pid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_safe('BEGIN');
$session->query_safe("UPDATE t SET v = 3 WHERE id = $on_second");
$frozen = writing_session();
freeze($frozen);
my $canceller = cancel_later($pid, 2);
$session->{stderr} = '';
my ($output, $failed) = $session->query('COMMIT');
waitpid($canceller, 0);
kill 'CONT', $frozen;
like(
	$session->{stderr},
	qr/whether the transaction committed on node 2 .* is unknown/,
	'a cancelled COMMIT says its outcome on the node is unknown');
$session->{stderr} = '';
like($session->query_safe("SELECT v FROM t WHERE id = $on_second"),
	qr/^[03]$/, 'the session works again');

$session->quit;
$coordinator->stop;
$_->stop for @workers;
done_testing();
