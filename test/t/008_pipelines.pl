# Statements a client pipelines in the extended query protocol before one
# Sync (libpq pipeline mode, a JDBC batch in autocommit mode) are one
# implicit transaction: PostgreSQL commits all of them at the Sync or none.
# Each pipeline runs (pgbench, pipeline mode) against a distributed table
# and against a local table with the same rows; afterwards both must hold
# the same rows.  A statement that is its transaction's whole work (its
# Sync already received) still runs on its node without BEGIN and COMMIT,
# as the workers' statement logs show.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;

my ($coordinator, @workers) =
  start_shardext_cluster(worker_conf => "log_statement = 'all'\n");
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE d (id int PRIMARY KEY, v int);
	INSERT INTO d SELECT g, 0 FROM generate_series(1, 40) g;
	SELECT create_distributed_table('d', 'id', shard_count => 4);
	CREATE TABLE l (id int PRIMARY KEY, v int);
	INSERT INTO l SELECT g, 0 FROM generate_series(1, 40) g;
	CREATE TABLE parent (id int PRIMARY KEY);
	CREATE TABLE side (id int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);
});

# a key of each node
my ($k1, $k2) = map {
	$coordinator->safe_psql('postgres',
		"SELECT min(g) FROM generate_series(1, 40) g WHERE shardext_node_for_value('d', g) = $_"
	)
} (1, 2);

my $scriptNumber = 0;

# run_pgbench runs a pgbench script once in the extended protocol, returns
# its exit status (0: every statement succeeded) and stderr
sub run_pgbench
{
	my ($script) = @_;
	my $file = $PostgreSQL::Test::Utils::tmp_check . '/pipeline' . ++$scriptNumber . '.pgb';
	my ($stdout, $stderr);

	open(my $fh, '>', $file) or die "cannot write $file: $!";
	print $fh $script;
	close($fh);
	my $ok = IPC::Run::run(
		[
			'pgbench', '-n', '-M', 'extended', '-t', '1', '-f', $file,
			'-h', $coordinator->host, '-p', $coordinator->port, 'postgres'
		],
		'>', \$stdout, '2>', \$stderr);
	return ($ok ? 0 : 1, $stderr);
}

# rows_of returns a table's rows as text
sub rows_of
{
	my ($table) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM $table");
}

# same_as_local runs a pipeline (TABLE stands for the table) against the
# distributed and the local table and compares the outcome and the rows
sub same_as_local
{
	my ($name, $pipeline, $expectFailure) = @_;
	my $script = "\\startpipeline\n$pipeline\\endpipeline\n";
	(my $onLocal = $script) =~ s/TABLE/l/g;
	(my $onDistributed = $script) =~ s/TABLE/d/g;
	my ($localFailed) = run_pgbench($onLocal);
	my ($failed, $stderr) = run_pgbench($onDistributed);

	is($localFailed, $expectFailure, "$name: the local pipeline "
		  . ($expectFailure ? 'fails' : 'succeeds'));
	is($failed, $localFailed, "$name: same outcome on the distributed table")
	  or diag($stderr);
	is(rows_of('d'), rows_of('l'), "$name: same rows as the local table");
}

same_as_local(
	'inserts on both nodes, the last fails',
	"INSERT INTO TABLE VALUES (101, 1);\n"
	  . "INSERT INTO TABLE VALUES (102, 2);\n"
	  . "INSERT INTO TABLE VALUES ($k1, 3);\n", 1);
same_as_local(
	'inserts on both nodes',
	"INSERT INTO TABLE VALUES (101, 1);\n"
	  . "INSERT INTO TABLE VALUES (102, 2);\n"
	  . "INSERT INTO TABLE VALUES (103, 3);\n", 0);
same_as_local(
	'updates on two nodes, then an error',
	"UPDATE TABLE SET v = v + 1 WHERE id = $k1;\n"
	  . "UPDATE TABLE SET v = v + 1 WHERE id = $k2;\n"
	  . "SELECT 1 / 0;\n", 1);
same_as_local(
	'one update, then an error on the same node',
	"UPDATE TABLE SET v = v + 5 WHERE id = $k1;\n"
	  . "UPDATE TABLE SET v = 1 / 0 WHERE id = $k1;\n", 1);
same_as_local(
	'a read, then a write that fails',
	"SELECT count(*) FROM TABLE;\n"
	  . "INSERT INTO TABLE VALUES ($k2, 0);\n", 1);
same_as_local(
	'a delete and an update',
	"DELETE FROM TABLE WHERE id = 103;\n"
	  . "UPDATE TABLE SET v = v + 7 WHERE id = $k2;\n", 0);

# a local write before the last statement: the commit at the Sync fails on
# a deferred foreign key, and the node's write goes with it
same_as_local(
	'a local write whose commit fails, then a write',
	"INSERT INTO side VALUES (999);\n"
	  . "UPDATE TABLE SET v = v + 100 WHERE id = $k1;\n", 1);

# the node statement logs show whether a remote transaction was opened
my @offsets;

sub mark_logs
{
	@offsets = map { -s $_->logfile } @workers;
}

sub began_since_mark
{
	my $began = 0;
	for my $i (0 .. $#workers)
	{
		my $log = slurp_file($workers[$i]->logfile, $offsets[$i]);
		$began++ if $log =~ /statement: BEGIN/;
	}
	return $began;
}

# one statement with its Sync: one round trip, no remote transaction
mark_logs();
my ($failed) = run_pgbench("UPDATE d SET v = v + 1 WHERE id = $k1;\n");
is($failed, 0, 'a single update in the extended protocol');
is(began_since_mark(), 0, 'it opens no remote transaction');

# a pipeline of writes: a remote transaction
mark_logs();
($failed) = run_pgbench("\\startpipeline\n"
	  . "UPDATE d SET v = v + 1 WHERE id = $k1;\n"
	  . "UPDATE d SET v = v + 1 WHERE id = $k1;\n"
	  . "\\endpipeline\n");
is($failed, 0, 'a pipeline of two updates');
is(began_since_mark(), 1, 'it opens a remote transaction');

# a top-level EXECUTE in the simple protocol is the whole transaction too
mark_logs();
$coordinator->safe_psql('postgres',
	"PREPARE up(int) AS UPDATE d SET v = v + 1 WHERE id = \$1; EXECUTE up($k2);"
);
is(began_since_mark(), 0, 'EXECUTE of a prepared update opens no remote transaction');

$coordinator->stop;
$_->stop for @workers;
done_testing();
