# Atomic commit across nodes: two-phase commit with the decision recorded on
# the coordinator, and shardext_recover_transactions() finishing what a crash
# of a worker or of the coordinator left prepared.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;
use Time::HiRes qw(time);

# (the maintenance worker's recovery is off until its own test below)
my ($coordinator, @workers) =
  start_shardext_cluster(coordinator_conf => "shardext.recovery_interval = 0\n");
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 100) g;
	SELECT create_distributed_table('t', 'id', shard_count => 4);
});

my $k1 = $coordinator->safe_psql('postgres',
	"SELECT min(g) FROM generate_series(1, 100) g WHERE shardext_node_for_value('t', g) = 1");
my $k2 = $coordinator->safe_psql('postgres',
	"SELECT min(g) FROM generate_series(1, 100) g WHERE shardext_node_for_value('t', g) = 2");

sub values_of
{
	return $coordinator->safe_psql('postgres',
		"SELECT string_agg(v::text, ',' ORDER BY id) FROM t WHERE id IN ($k1, $k2)");
}

sub prepared_left
{
	my $total = 0;
	$total += $_->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts')
	  for @workers;
	return $total;
}

# crash_in_commit($setting, $value): a transaction sets v = $value on both
# nodes and commits with a debug pause (shardext.debug_commit_delay: after
# PREPARE, before the coordinator's own commit; debug_commit_prepared_delay:
# after it, before COMMIT PREPARED), during which the coordinator dies; it is
# started again
sub crash_in_commit
{
	my ($setting, $value) = @_;
	my $s = $coordinator->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("SET shardext.$setting = 5000");
	$s->query_safe("BEGIN");
	$s->query_safe("UPDATE t SET v = $value WHERE id = $k1");
	$s->query_safe("UPDATE t SET v = $value WHERE id = $k2");
	$s->{stdin} .= "COMMIT;\n";
	$s->{run}->pump_nb();
	sleep 2;
	$coordinator->stop('immediate');
	eval { $s->quit; };
	$coordinator->start;
}

my ($ret, $stdout, $stderr);

# a normal commit on both nodes
$coordinator->safe_psql('postgres',
	"BEGIN; UPDATE t SET v = 1 WHERE id = $k1; UPDATE t SET v = 1 WHERE id = $k2; COMMIT;");
is(values_of(), '1,1', 'a transaction writing on two nodes commits on both');
is(prepared_left(), 0, 'nothing is left prepared');

# 1. a worker dies before PREPARE: nothing commits anywhere
my $session = $coordinator->background_psql('postgres', on_error_stop => 0);
$session->query_safe("BEGIN");
$session->query_safe("UPDATE t SET v = 2 WHERE id = $k1");
$session->query_safe("UPDATE t SET v = 2 WHERE id = $k2");
$workers[1]->stop('immediate');
$session->{stderr} = '';
my ($out, $failed) = $session->query('COMMIT');
ok($failed, 'the commit fails when a node died before preparing');
$workers[1]->start;
is(values_of(), '1,1', 'neither node has the change');
is(prepared_left(), 0, 'and nothing is left prepared');
$session->quit;

# 2. a worker dies between PREPARE and COMMIT PREPARED: the commit stands,
# recovery finishes it on the worker once it is back
$session = $coordinator->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SET shardext.debug_commit_delay = 3000');
$session->query_safe("BEGIN");
$session->query_safe("UPDATE t SET v = 3 WHERE id = $k1");
$session->query_safe("UPDATE t SET v = 3 WHERE id = $k2");
$session->{stdin} .= "COMMIT;\n";
$session->{run}->pump_nb();
sleep 1;
$workers[1]->stop('immediate');
$session->{stderr} = '';
$session->query('SELECT 1');
like($session->{stderr}, qr/prepared transaction \S+ on node 2 .* may be left to commit/,
	'the commit warns that a node kept a prepared transaction');
$workers[1]->start;
is($workers[1]->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'),
	'1', 'the worker still has it prepared after its restart');
is($coordinator->safe_psql('postgres', 'SELECT shardext_recover_transactions()'),
	'1', 'recovery finishes one transaction');
is(values_of(), '3,3', 'the change is committed on both nodes');
is(prepared_left(), 0, 'nothing is left prepared');
$session->quit;

# 3. the coordinator dies after PREPARE, before its own commit: recovery
# rolls the prepared transactions back
crash_in_commit('debug_commit_delay', 4);
is(prepared_left(), 2, 'both workers hold a prepared transaction');
is($coordinator->safe_psql('postgres', 'SELECT shardext_recover_transactions()'),
	'2', 'recovery finishes both');
is(values_of(), '3,3', 'the change is rolled back on both nodes');
is(prepared_left(), 0, 'nothing is left prepared');

# 4. the coordinator dies after its own commit, before COMMIT PREPARED:
# recovery commits on both nodes
crash_in_commit('debug_commit_prepared_delay', 5);
is(prepared_left(), 2, 'both workers hold a prepared transaction');
is($coordinator->safe_psql('postgres', 'SELECT shardext_recover_transactions()'),
	'2', 'recovery finishes both');
is(values_of(), '5,5', 'the change is committed on both nodes');
is(prepared_left(), 0, 'nothing is left prepared');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM shardext.transactions'),
	'0', 'and no decision is kept once done');

# a cancel (statement_timeout) that comes while a node runs PREPARE
# TRANSACTION (made slow by a deferred trigger that sleeps through the first
# cancel) leaves nothing prepared once the node has answered
my $shard2 = $coordinator->safe_psql('postgres',
	"SELECT shard_relation FROM shardext.shards WHERE shard_id = shardext_shard_for_value('t', $k2)");
$workers[1]->safe_psql(
	'postgres', qq{
	CREATE FUNCTION slow_check() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN
		BEGIN
			PERFORM pg_sleep(5);
		EXCEPTION WHEN query_canceled THEN
			-- the postmaster signals a cancel to the backend and to its
			-- process group: one request may interrupt twice
			BEGIN
				PERFORM pg_sleep(0.3);
			EXCEPTION WHEN query_canceled THEN
				NULL;
			END;
		END;
		RETURN NULL;
	END \$\$;
	CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON $shard2
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_check();
});
$session = $coordinator->background_psql('postgres', on_error_stop => 0);
$session->query_safe("BEGIN");
$session->query_safe("UPDATE t SET v = v + 1 WHERE id IN ($k1, $k2)");
my $pid = $session->query_safe('SELECT pg_backend_pid()');
$session->{stderr} = '';
$session->{stdin} .= "COMMIT;\n";
$session->{run}->pump_nb();
sleep 1;
$coordinator->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$session->query('SELECT 1');
like($session->{stderr}, qr/canceling statement due to user request/,
	'the commit is cancelled while a node prepares');
$session->quit;
is(prepared_left(), 0, 'the transaction the node prepared is rolled back');
# (had it been left, recovery rolls it back: its locks would keep the
# trigger from being dropped)
$coordinator->safe_psql('postgres', 'SELECT shardext_recover_transactions()');
is(values_of(), '5,5', 'neither node has the change');
$workers[1]->safe_psql('postgres', "DROP TRIGGER slow ON $shard2");

# a statement_timeout that comes while a single-row write runs alone on its
# node, which finishes it anyway (the trigger sleeps through the cancel):
# the write is committed there, and is reported done, as PostgreSQL does
$workers[1]->safe_psql('postgres',
	"CREATE TRIGGER slow_row AFTER INSERT OR UPDATE ON $shard2 FOR EACH ROW EXECUTE FUNCTION slow_check()");
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET statement_timeout = '1s'; UPDATE t SET v = 77 WHERE id = $k2");
is($ret, 0, 'a write the node finished despite the cancel is reported done');
unlike($stderr, qr/canceling statement/, 'with no cancel error');
is($coordinator->safe_psql('postgres', "SELECT v FROM t WHERE id = $k2"), '77',
	'and it is committed');
# ... also one that takes two cancels to finish (two rows, each trigger
# sleeps through one), and a SELECT whose WITH writes
my ($n1, $n2) = split /\n/, $coordinator->safe_psql('postgres',
	"SELECT g FROM generate_series(1000, 2000) g
	  WHERE shardext_shard_for_value('t', g) = shardext_shard_for_value('t', $k2)
	  ORDER BY g LIMIT 2");
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET statement_timeout = '1s'; INSERT INTO t VALUES ($n1, 1), ($n2, 1)");
is($ret, 0, 'a write that finished after two cancels is reported done');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM t WHERE id IN ($n1, $n2)"), '2',
	'and it is committed');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET statement_timeout = '1s'; WITH w AS (UPDATE t SET v = 79 WHERE id = $k2 RETURNING v) SELECT v FROM w");
is($ret, 0, 'so is a SELECT whose WITH writes');
is($coordinator->safe_psql('postgres', "SELECT v FROM t WHERE id = $k2"), '79',
	'and it is committed');
$coordinator->safe_psql('postgres', "UPDATE t SET v = 77 WHERE id = $k2");
# one that the cancel stops is reported cancelled
$workers[1]->safe_psql('postgres', qq{
	CREATE OR REPLACE FUNCTION slow_check() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN
		PERFORM pg_sleep(5);
		RETURN NULL;
	END \$\$;
});
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET statement_timeout = '1s'; UPDATE t SET v = 78 WHERE id = $k2");
like($stderr, qr/canceling statement due to statement timeout/,
	'a write the cancel stopped is reported cancelled');
is($coordinator->safe_psql('postgres', "SELECT v FROM t WHERE id = $k2"), '77',
	'and is not applied');
$workers[1]->safe_psql('postgres', "DROP TRIGGER slow_row ON $shard2");

# the maintenance worker finishes what a failure left prepared, unasked: the
# coordinator dies after its own commit, before COMMIT PREPARED
$coordinator->safe_psql('postgres', "ALTER SYSTEM SET shardext.recovery_interval = '1s'");
crash_in_commit('debug_commit_prepared_delay', 6);
is(prepared_left(), 2, 'both workers hold a prepared transaction');
# the first session that uses the extension starts the worker
$coordinator->safe_psql('postgres', 'SELECT count(*) FROM shardext.nodes');
ok( $coordinator->poll_query_until(
		'postgres', q{SELECT count(*) > 0 FROM pg_stat_activity
		  WHERE backend_type = 'shardext maintenance'}),
	'the maintenance worker runs');
ok($workers[0]->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts')
	  && $workers[1]->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts'),
	'the worker finishes the prepared transactions');
is(values_of(), '6,6', 'the change is committed on both nodes');
ok( $coordinator->poll_query_until(
		'postgres', 'SELECT count(*) = 0 FROM shardext.transactions'),
	'and forgets the decision');
# it leaves the database that is dropped
$coordinator->safe_psql('postgres', 'CREATE DATABASE other');
$coordinator->safe_psql('other', 'CREATE EXTENSION shardext CASCADE');
$coordinator->safe_psql('other', 'SELECT count(*) FROM shardext.nodes');
ok( $coordinator->poll_query_until(
		'postgres', q{SELECT count(*) = 2 FROM pg_stat_activity
		  WHERE backend_type = 'shardext maintenance'}),
	'a second database gets its own worker');
# ... also while it waits for a node that does not answer
my $worker1_pid = (split /\n/, slurp_file($workers[0]->data_dir . '/postmaster.pid'))[0];
kill 'STOP', $worker1_pid;
sleep 3;
my $drop_start = time;
$coordinator->safe_psql('postgres', 'DROP DATABASE other');
my $drop_time = time - $drop_start;
kill 'CONT', $worker1_pid;
cmp_ok($drop_time, '<', 5, 'DROP DATABASE stops the worker of that database at once');

# a worker that stopped (interval 0) comes back for a session that stays
$coordinator->safe_psql('postgres', "ALTER SYSTEM SET shardext.recovery_interval = 0");
$coordinator->reload;
ok( $coordinator->poll_query_until(
		'postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
		  WHERE backend_type = 'shardext maintenance'}),
	'the worker exits when the interval is 0');
$session = $coordinator->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SELECT count(*) FROM t');
$coordinator->safe_psql('postgres', "ALTER SYSTEM SET shardext.recovery_interval = '1s'");
$coordinator->reload;
my $back = 0;
for (1 .. 60)
{
	$session->query_safe('SELECT count(*) FROM t');
	$back = $coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
		  WHERE backend_type = 'shardext maintenance'});
	last if $back > 0;
	sleep 1;
}
is($back, 1, 'and comes back for a session that was open meanwhile');
$session->quit;
$coordinator->safe_psql('postgres', "ALTER SYSTEM SET shardext.recovery_interval = 0");
$coordinator->reload;

# a node without prepared transactions gets a clear error; off means best effort
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
my ($phost, $pport) = ($plain->host, $plain->port);
$coordinator->safe_psql('postgres',
	"SELECT shardext_add_node('$phost', $pport, 'postgres')");
$coordinator->safe_psql('postgres', q{
	SET shardext.two_phase_commit = off;
	CREATE TABLE u (id int PRIMARY KEY, v int);
	SELECT create_distributed_table('u', 'id', shard_count => 3, colocate_with => 'none');
	INSERT INTO u SELECT g, 0 FROM generate_series(1, 30) g;
});
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	'UPDATE u SET v = 1');
isnt($ret, 0, 'a write across nodes fails when a node cannot prepare');
like($stderr, qr/prepared transactions are disabled/, 'the node says why');
like($stderr, qr/max_prepared_transactions/, 'and what to set');
unlike($stderr, qr/WARNING/, 'no prepared transaction was left to clean up');
is($coordinator->safe_psql('postgres', 'SELECT sum(v) FROM u'), '0',
	'nothing was written');
is($coordinator->safe_psql('postgres',
		'SET shardext.two_phase_commit = off; UPDATE u SET v = 1; SELECT sum(v) FROM u'),
	'30', 'with shardext.two_phase_commit off the write is committed');

$coordinator->stop;
$_->stop for @workers;
$plain->stop;
done_testing();
