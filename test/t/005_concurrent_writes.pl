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

# clients changing the same rows of every shard at the same time (in
# autocommit and in transactions) wait for each other on the coordinator,
# as on PostgreSQL: no deadlock across nodes, every change applied
# (shardext.serialize_multi_node_writes; with it off, these clients
# deadlock across nodes, found after deadlock_timeout)
$coordinator->safe_psql('postgres',
	'CREATE TABLE hot AS SELECT g AS i FROM generate_series(1, 40) g');
my $script = $PostgreSQL::Test::Utils::tmp_check . '/every_row.pgb';
open(my $fh, '>', $script) or die "cannot write $script: $!";
# (prepared: after five runs the UPDATE with :z is sent shard by shard, with
# parameters; the UPDATE ... FROM a local table finds its rows first)
print $fh <<'EOS';
\set z 0
UPDATE t SET v = v + 1;
BEGIN;
UPDATE t SET v = v + 1 WHERE id % 3 = :z;
DELETE FROM t WHERE id > 1000;
COMMIT;
UPDATE t SET v = t.v + 1 FROM hot WHERE t.id = hot.i AND hot.i % 2 = 0;
EOS
close($fh);
my $sum = $coordinator->safe_psql('postgres', 'SELECT sum(v) FROM t');
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[
		'pgbench', '-n', '-M', 'prepared', '-c', '4', '-t', '40', '-f', $script,
		'-h', $coordinator->host, '-p', $coordinator->port, 'postgres'
	],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'four clients changing every row at the same time run') or diag($stderr);
# (pgbench counts a transaction that failed with a deadlock, and goes on)
like($stdout, qr/number of failed transactions: 0 /,
	'no transaction failed (no deadlock across nodes)');
is($coordinator->safe_psql('postgres', 'SELECT sum(v) FROM t'),
	$sum + 4 * 40 * (40 + 13 + 20), 'every change applied');

# transactions that change two tables on every node, some in one order and
# some in the other, with other rows than the other order's: they wait for
# each other only for rows, as on PostgreSQL (a transaction that already
# changed rows on a node does not wait for the coordinator's lock)
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE t2 (id int PRIMARY KEY, v int);
	INSERT INTO t2 SELECT g, 0 FROM generate_series(1, 40) g;
	SELECT create_distributed_table('t2', 'id', shard_count => 4);
});
my @scripts;
for my $order (['t', 't2', 0], ['t2', 't', 1])
{
	my $file = $PostgreSQL::Test::Utils::tmp_check . "/order_$order->[2].pgb";
	open(my $out, '>', $file) or die "cannot write $file: $!";
	print $out "BEGIN;\n"
	  . "UPDATE $order->[0] SET v = v + 1 WHERE id % 2 = $order->[2];\n"
	  . "UPDATE $order->[1] SET v = v + 1 WHERE id % 2 = $order->[2];\n"
	  . "COMMIT;\n";
	close($out);
	push @scripts, '-f', $file;
}
$ok = IPC::Run::run(
	[
		'pgbench', '-n', '-c', '4', '-t', '25', @scripts,
		'-h', $coordinator->host, '-p', $coordinator->port, 'postgres'
	],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'clients changing two tables in either order run') or diag($stderr);
like($stdout, qr/number of failed transactions: 0 /,
	'no transaction failed (no deadlock through the coordinator)');
is($coordinator->safe_psql('postgres', 'SELECT sum(v) FROM t2'), 4 * 25 * 20,
	'every change applied');
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
