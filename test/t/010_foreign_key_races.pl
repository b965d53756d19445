# Foreign keys under concurrency, enforced by the nodes: a child inserted
# while another transaction deletes its parent waits for it on the node and
# fails once it commits, or goes in once it rolls back — for a co-located
# parent and for a reference table (whose copies are all checked); a parent
# delete waits for an uncommitted child. Several sessions racing leave no
# orphan.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;

my ($coordinator, @workers) = start_shardext_cluster();
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE kind (k int PRIMARY KEY);
	CREATE TABLE parent (id int PRIMARY KEY, k int);
	CREATE TABLE child (pid int, n int, PRIMARY KEY (pid, n));
	INSERT INTO kind SELECT generate_series(1, 11);
	INSERT INTO parent SELECT g, g % 10 + 1 FROM generate_series(1, 40) g;
	SELECT create_reference_table('kind');
	SELECT create_distributed_table('parent', 'id', shard_count => 4);
	SELECT create_distributed_table('child', 'pid', shard_count => 4, colocate_with => 'parent');
	ALTER TABLE parent ADD FOREIGN KEY (k) REFERENCES kind (k);
	ALTER TABLE child ADD FOREIGN KEY (pid) REFERENCES parent (id);
});

my $s1 = $coordinator->background_psql('postgres', on_error_stop => 0);
my $s2 = $coordinator->background_psql('postgres', on_error_stop => 0);

# run_blocked: $statement in $session, which must still wait after a while;
# then $release in the other session; returns what the waiting one printed
sub run_blocked
{
	my ($session, $statement, $other, $release, $name) = @_;

	$session->{stdout} = $session->{stderr} = '';
	$session->{stdin} .= "$statement;\n\\echo blocked_done\n";
	$session->{run}->pump_nb();
	sleep 2;
	$session->{run}->pump_nb();
	unlike($session->{stdout}, qr/blocked_done/, "$name waits");
	$other->query_safe($release);
	$session->{run}->pump() until $session->{stdout} =~ /blocked_done/;
	return $session->{stderr};
}

# a child of a parent being deleted: fails after the commit
$s1->query_safe('BEGIN');
$s1->query_safe('DELETE FROM parent WHERE id = 1');
my $err = run_blocked($s2, 'INSERT INTO child VALUES (1, 1)', $s1, 'COMMIT',
	'a child insert beside an uncommitted parent delete');
like($err, qr/violates foreign key constraint "child_pid_fkey"/,
	'and fails once the delete commits');

# ... goes in after a rollback
$s1->query_safe('BEGIN');
$s1->query_safe('DELETE FROM parent WHERE id = 2');
$err = run_blocked($s2, 'INSERT INTO child VALUES (2, 1)', $s1, 'ROLLBACK',
	'a child insert beside a parent delete');
is($err, '', 'and goes in once the delete rolls back');

# a reference table's row being deleted: the insert waits on its node's copy
$s1->query_safe('BEGIN');
$s1->query_safe('DELETE FROM kind WHERE k = 11');
$err = run_blocked($s2, 'INSERT INTO parent VALUES (100, 11)', $s1, 'ROLLBACK',
	'an insert referencing a reference row being deleted');
is($err, '', 'and goes in once the delete rolls back');

# a parent delete waits for an uncommitted child
$s2->query_safe('BEGIN');
$s2->query_safe('INSERT INTO child VALUES (3, 1)');
$err = run_blocked($s1, 'DELETE FROM parent WHERE id = 3', $s2, 'COMMIT',
	'a parent delete beside an uncommitted child');
like($err, qr/violates foreign key constraint "child_pid_fkey"/,
	'and fails once the child commits');

# racing sessions leave no orphan
my @racers = map { $coordinator->background_psql('postgres', on_error_stop => 0) } 1 .. 4;
for my $round (1 .. 30)
{
	for my $r (0 .. $#racers)
	{
		my $id = ($round * 7 + $r * 3) % 40 + 1;
		my $statement =
			  $r % 2 == 0
			? "INSERT INTO child VALUES ($id, $round) ON CONFLICT DO NOTHING"
			: "BEGIN; DELETE FROM child WHERE pid = $id; DELETE FROM parent WHERE id = $id; "
			  . "INSERT INTO parent VALUES ($id, $id % 10 + 1); COMMIT";
		$racers[$r]->{stdin} .= "$statement;\n";
		$racers[$r]->{run}->pump_nb();
	}
}
for my $r (@racers)
{
	$r->{stdin} .= "\\echo racer_done\n";
	$r->{run}->pump() until $r->{stdout} =~ /racer_done/;
	$r->quit;
}
is($coordinator->safe_psql('postgres',
		'SELECT count(*) FROM child c WHERE NOT EXISTS (SELECT 1 FROM parent p WHERE p.id = c.pid)'),
	'0', 'no child is left without its parent');
is($coordinator->safe_psql('postgres',
		'SELECT count(*) FROM parent p WHERE NOT EXISTS (SELECT 1 FROM kind k WHERE k.k = p.k)'),
	'0', 'no parent is left without its kind');

$s1->quit;
$s2->quit;
$coordinator->stop;
$_->stop for @workers;
done_testing();
