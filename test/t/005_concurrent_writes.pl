# Writers that wait for each other on the workers: a multi-shard UPDATE
# waits for another transaction's row locks (longer than deadlock_timeout,
# without being taken for a deadlock) and applies after its commit; a
# deadlock across two nodes (which no node can see) is found by the
# coordinator after deadlock_timeout, one transaction gives way and the
# other commits; with detection put off (a long deadlock_timeout), the
# coordinator's statement_timeout cancels the waiting remote statement,
# and the session's lock_timeout, which the nodes apply, ends the wait.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;
use Time::HiRes qw(time);

my ($coordinator, @workers) = start_shardext_cluster();
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 40) g;
	SELECT create_distributed_table('t', 'id', shard_count => 4);
});
my $k1 = $coordinator->safe_psql('postgres',
	"SELECT min(g) FROM generate_series(1, 40) g WHERE shardext_node_for_value('t', g) = 1");
my $k2 = $coordinator->safe_psql('postgres',
	"SELECT min(g) FROM generate_series(1, 40) g WHERE shardext_node_for_value('t', g) = 2");

# a multi-shard UPDATE waits for another transaction, then applies
my $s1 = $coordinator->background_psql('postgres', on_error_stop => 0);
my $s2 = $coordinator->background_psql('postgres', on_error_stop => 0);
$s1->query_safe('BEGIN');
$s1->query_safe('UPDATE t SET v = v + 1');
$s2->{stdin} .= "UPDATE t SET v = v + 10;\n\\echo s2_done\n";
$s2->{run}->pump_nb();
sleep 3;
$s2->{run}->pump_nb();
unlike($s2->{stdout}, qr/s2_done/, 'the second UPDATE waits for the first');
unlike($s2->{stderr}, qr/deadlock/, 'a wait longer than deadlock_timeout is no deadlock');
$s1->query_safe('COMMIT');
$s2->{run}->pump() until $s2->{stdout} =~ /s2_done/;
pass('the second UPDATE finishes after the first commits');
is($coordinator->safe_psql('postgres', 'SELECT sum(v) FROM t'), '440',
	'both updates applied to every row');

# Concurrent UPDATEs and DELETEs of several nodes change one node's rows
# after the other's (shardext.ordered_multi_node_writes): those changing
# the same rows meet on the first node and wait there, as PostgreSQL's
# scans meet on a table's first row, instead of deadlocking across nodes.
# Each workload runs 4 pgbench clients; PostgreSQL itself deadlocks now and
# then in some of them (rows move as they are updated), so at most 5% of
# the transactions may fail (sent to every node at once, 20-65% did).
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE t2 (id int PRIMARY KEY, v int);
	INSERT INTO t2 SELECT g, 0 FROM generate_series(1, 40) g;
	SELECT create_distributed_table('t2', 'id', shard_count => 4);
});
my $scriptCount = 0;

# run_clients runs pgbench scripts (texts) with 4 clients, 25 transactions
# each (prepared: generic plans send shard by shard, with parameters), and
# returns the numbers of transactions that succeeded and failed
sub run_clients
{
	my (@texts) = @_;
	my @args;
	my ($stdout, $stderr);

	for my $text (@texts)
	{
		my $file = $PostgreSQL::Test::Utils::tmp_check . '/clients' . ++$scriptCount . '.pgb';
		open(my $out, '>', $file) or die "cannot write $file: $!";
		print $out $text;
		close($out);
		push @args, '-f', $file;
	}
	IPC::Run::run(
		[
			'pgbench', '-n', '-M', 'prepared', '-c', '4', '-t', '25', @args,
			'-h', $coordinator->host, '-p', $coordinator->port, 'postgres'
		],
		'>', \$stdout, '2>', \$stderr) or diag($stderr);
	my ($done) = $stdout =~ /number of transactions actually processed: (\d+)/;
	my ($failed) = $stdout =~ /number of failed transactions: (\d+)/;
	return ($done // 0, $failed // 100);
}

my $node2Ids = $coordinator->safe_psql('postgres',
	"SELECT string_agg(g::text, ',') FROM generate_series(1, 40) g WHERE shardext_node_for_value('t', g) = 2");
my %workloads = (
	'one node\'s rows by a list, and every row' =>
	  ["UPDATE t SET v = v + 1 WHERE id IN ($node2Ids);\n", "UPDATE t SET v = v + 1;\n"],
	'every row, in autocommit' =>
	  ["\\set z 0\nUPDATE t SET v = v + 1 WHERE id % 3 >= :z;\n", "UPDATE t SET v = v + 1;\n"],
	'two tables, in either order' => [
		"BEGIN;\nUPDATE t SET v = v + 1 WHERE id % 2 = 0;\n"
		  . "UPDATE t2 SET v = v + 1 WHERE id % 2 = 0;\nCOMMIT;\n",
		"BEGIN;\nUPDATE t2 SET v = v + 1 WHERE id % 2 = 1;\n"
		  . "UPDATE t SET v = v + 1 WHERE id % 2 = 1;\nCOMMIT;\n"
	],
	'single rows, then every row' => [
		"BEGIN;\nUPDATE t SET v = v + 1 WHERE id = $k1;\n"
		  . "UPDATE t SET v = v + 1 WHERE id = $k2;\nCOMMIT;\n",
		"UPDATE t SET v = v + 1;\n"
	],
	'rows locked FOR UPDATE, then others' => [
		"\\set k random(1, 8)\nBEGIN;\nSELECT v FROM t WHERE id = :k * 5 FOR UPDATE;\n"
		  . "UPDATE t SET v = v + 1 WHERE id % 5 = 1;\nCOMMIT;\n",
		"UPDATE t SET v = v + 1 WHERE id % 5 = 0;\nDELETE FROM t WHERE id > 1000;\n"
	],
	'found on the coordinator first' => [
		"UPDATE t SET v = t.v + 1 FROM generate_series(1, 40, 2) g WHERE t.id = g;\n",
		"UPDATE t SET v = v + 1 WHERE id % 2 = 1;\n"
	]);
for my $name (sort keys %workloads)
{
	my ($done, $failed) = run_clients(@{ $workloads{$name} });
	cmp_ok($failed, '<=', ($done + $failed) * 0.05,
		"$name: at most 5% of the transactions fail ($failed of " . ($done + $failed) . ")");
}
$coordinator->safe_psql('postgres', 'UPDATE t SET v = 0');

my ($start, $elapsed);

# a deadlock across nodes is detected: one transaction gives way
# (PostgreSQL's error, SQLSTATE 40P01), the other goes on and commits; the
# same sessions deadlock again in later rounds, each with one victim
for my $round (1 .. 3)
{
	$_->{stdout} = $_->{stderr} = '' for ($s1, $s2);
	my ($v1, $v2) = (10 * $round + 5, 10 * $round + 6);
	$s1->query_safe('BEGIN');
	$s1->query_safe("UPDATE t SET v = $v1 WHERE id = $k1");
	$s2->query_safe('BEGIN');
	$s2->query_safe("UPDATE t SET v = $v2 WHERE id = $k2");
	$s1->{stdin} .= "\\set VERBOSITY verbose\nUPDATE t SET v = $v1 WHERE id = $k2;\n\\echo s1_done\n";
	$s2->{stdin} .= "\\set VERBOSITY verbose\nUPDATE t SET v = $v2 WHERE id = $k1;\n\\echo s2_done\n";
	$start = time;
	$s1->{run}->pump_nb();
	$s2->{run}->pump_nb();
	until (($s1->{stdout} =~ /s1_done/ && $s2->{stdout} =~ /s2_done/) || time - $start > 60)
	{
		$s1->{run}->pump_nb();
		$s2->{run}->pump_nb();
		Time::HiRes::sleep(0.1);
		last if $s1->{stderr} =~ /deadlock/ && $s2->{stdout} =~ /s2_done/;
		last if $s2->{stderr} =~ /deadlock/ && $s1->{stdout} =~ /s1_done/;
	}
	$elapsed = time - $start;
	# a second victim would have reported by now
	Time::HiRes::sleep(1.5);
	$s1->{run}->pump_nb();
	$s2->{run}->pump_nb();
	my $victims = ($s1->{stderr} =~ /deadlock detected/ ? 1 : 0) +
	  ($s2->{stderr} =~ /deadlock detected/ ? 1 : 0);
	is($victims, 1, "round $round: one transaction of the cycle is told of the deadlock");
	like($s1->{stderr} . $s2->{stderr}, qr/40P01/, "round $round: with SQLSTATE 40P01");
	like($s1->{stderr} . $s2->{stderr}, qr/waits on node \d+ .* for process \d+/,
		"round $round: the detail names the waits");
	cmp_ok($elapsed, '<', 20, "round $round: soon after deadlock_timeout");
	my ($winner, $loser, $value) =
	  $s1->{stderr} =~ /deadlock detected/ ? ($s2, $s1, $v2) : ($s1, $s2, $v1);
	$winner->{run}->pump() until $winner->{stdout} =~ /_done/;
	$_->{stdout} = $_->{stderr} = '' for ($s1, $s2);
	$loser->query('ROLLBACK');
	$winner->query_safe('COMMIT');
	is($coordinator->safe_psql('postgres', "SELECT v FROM t WHERE id IN ($k1, $k2) ORDER BY id"),
		"$value\n$value", "round $round: the other transaction committed on both nodes");
}

# a cycle through a lock on the coordinator itself: one session holds a
# local table's lock and waits on a node for the other, which waits here for
# that lock (PostgreSQL's own detector sees only this half)
$coordinator->safe_psql('postgres', 'CREATE TABLE local_lock (i int)');
$_->{stdout} = $_->{stderr} = '' for ($s1, $s2);
$s2->query_safe('BEGIN');
$s2->query_safe("UPDATE t SET v = 40 WHERE id = $k2");
$s1->query_safe('BEGIN');
$s1->query_safe('LOCK TABLE local_lock IN EXCLUSIVE MODE');
$s1->{stdin} .= "UPDATE t SET v = 41 WHERE id = $k2;\n\\echo s1_done\n";
$s1->{run}->pump_nb();
sleep 0.3;
$s2->{stdin} .= "LOCK TABLE local_lock IN EXCLUSIVE MODE;\n\\echo s2_done\n";
$start = time;
$s2->{run}->pump_nb();
until (($s1->{stdout} =~ /s1_done/ && $s2->{stdout} =~ /s2_done/) || time - $start > 60)
{
	$s1->{run}->pump_nb();
	$s2->{run}->pump_nb();
	Time::HiRes::sleep(0.1);
}
$elapsed = time - $start;
like($s1->{stderr} . $s2->{stderr}, qr/deadlock detected/,
	'a cycle through a coordinator lock is detected');
like($s1->{stderr} . $s2->{stderr}, qr/waits on the coordinator for process/,
	'the detail names the wait on the coordinator');
cmp_ok($elapsed, '<', 20, 'soon after deadlock_timeout');
$_->{stdout} = $_->{stderr} = '' for ($s1, $s2);
$s1->query('ROLLBACK');
$s2->query('ROLLBACK');

# a deadlock across nodes ends with statement_timeout when detection is
# put off
$s1->{stdout} = '';
$s2->{stdout} = '';
$s2->{stderr} = '';
$s1->query_safe("SET deadlock_timeout = '10min'");
$s2->query_safe("SET deadlock_timeout = '10min'");
$s1->query_safe('BEGIN');
$s1->query_safe("UPDATE t SET v = 1 WHERE id = $k1");
$s2->query_safe('BEGIN');
$s2->query_safe("SET LOCAL statement_timeout = '2s'");
$s2->query_safe("UPDATE t SET v = 2 WHERE id = $k2");
$s1->{stdin} .= "UPDATE t SET v = 1 WHERE id = $k2;\n\\echo s1_done\n";
$s1->{run}->pump_nb();
$start = time;
my ($out, $failed) = $s2->query("UPDATE t SET v = 2 WHERE id = $k1");
$elapsed = time - $start;
ok($failed, 'the statement closing the cycle fails');
like($s2->{stderr}, qr/canceling statement due to statement timeout/,
	'because of statement_timeout');
cmp_ok($elapsed, '<', 10, 'within the timeout');
$s2->query('ROLLBACK');
$s1->{run}->pump() until $s1->{stdout} =~ /s1_done/;
pass('the other transaction goes on once the first is rolled back');
$s1->query_safe('COMMIT');
is($coordinator->safe_psql('postgres', "SELECT v FROM t WHERE id IN ($k1, $k2) ORDER BY id"),
	"1\n1", 'the surviving transaction committed on both nodes');
is($workers[0]->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"),
	'0', 'nothing is left waiting on the workers');

# the same deadlock ends with the session's lock_timeout, which the nodes
# get with the other session settings
$s1->{stdout} = '';
$s2->{stdout} = '';
$s2->{stderr} = '';
$s1->query_safe('BEGIN');
$s1->query_safe("UPDATE t SET v = 3 WHERE id = $k1");
$s2->query_safe('BEGIN');
$s2->query_safe("SET LOCAL lock_timeout = '500ms'");
$s2->query_safe("UPDATE t SET v = 4 WHERE id = $k2");
$s1->{stdin} .= "UPDATE t SET v = 3 WHERE id = $k2;\n\\echo s1_done\n";
$s1->{run}->pump_nb();
$start = time;
($out, $failed) = $s2->query("UPDATE t SET v = 4 WHERE id = $k1");
$elapsed = time - $start;
ok($failed, 'with lock_timeout, the statement closing the cycle fails');
like($s2->{stderr}, qr/canceling statement due to lock timeout/,
	'because of lock_timeout');
cmp_ok($elapsed, '<', 10, 'soon');
$s2->query('ROLLBACK');
$s1->{run}->pump() until $s1->{stdout} =~ /s1_done/;
$s1->query_safe('COMMIT');
is($coordinator->safe_psql('postgres', "SELECT v FROM t WHERE id IN ($k1, $k2) ORDER BY id"),
	"3\n3", 'the other transaction committed on both nodes');

# an UPDATE that finds its rows on the coordinator (a subquery over a local
# table) and computes the new value from the row (v = v + 1): the node
# computes it from the row as it is after the concurrent change it waited
# for, so neither increment is lost
$coordinator->safe_psql('postgres', q{
	CREATE TABLE counters (id int PRIMARY KEY, v int NOT NULL);
	SELECT create_distributed_table('counters', 'id', shard_count => 4);
	INSERT INTO counters VALUES (1, 0), (2, 0);
	CREATE TABLE wanted (id int);
	INSERT INTO wanted VALUES (2);
});
$s1->{stdout} = '';
$s1->{stderr} = '';
$s2->{stdout} = '';
$s2->{stderr} = '';
$s1->query_safe('BEGIN');
$s1->query_safe('UPDATE counters SET v = v + 1 WHERE id = 2');
$s2->{stdin} .= "UPDATE counters SET v = v + 1 WHERE id IN (SELECT id FROM wanted);\n\\echo s2_done\n";
$s2->{run}->pump_nb();
sleep 1;
$s1->query_safe('COMMIT');
$s2->{run}->pump() until $s2->{stdout} =~ /s2_done/;
is($coordinator->safe_psql('postgres', 'SELECT v FROM counters WHERE id = 2'),
	'2', 'a two-step UPDATE does not lose a concurrent increment');

$s1->quit;
$s2->quit;
$coordinator->stop;
$_->stop for @workers;
done_testing();
