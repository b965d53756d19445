# ShardextTestCluster: the cluster most TAP tests start — a coordinator that
# preloads shardext and stock PostgreSQL workers, the extension created in
# database postgres and every worker added as a node.
package ShardextTestCluster;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(start_shardext_cluster);

# start_shardext_cluster(%options) returns ($coordinator, @workers), started.
# Options: workers (how many, default 2), worker_conf and coordinator_conf
# (postgresql.conf lines added to the defaults; workers get
# max_prepared_transactions = 10 for two-phase commit).
sub start_shardext_cluster
{
	my (%options) = @_;
	my $count = $options{workers} // 2;

	my $coordinator = PostgreSQL::Test::Cluster->new('coordinator');
	$coordinator->init;
	$coordinator->append_conf('postgresql.conf',
		"shared_preload_libraries = 'shardext'\n" . ($options{coordinator_conf} // ''));
	$coordinator->start;

	my @workers;
	for my $i (1 .. $count)
	{
		my $worker = PostgreSQL::Test::Cluster->new("worker$i");
		$worker->init;
		$worker->append_conf('postgresql.conf',
			"max_prepared_transactions = 10\n" . ($options{worker_conf} // ''));
		$worker->start;
		push @workers, $worker;
	}
	$coordinator->safe_psql('postgres', 'CREATE EXTENSION shardext CASCADE');
	for my $worker (@workers)
	{
		my ($host, $port) = ($worker->host, $worker->port);
		$coordinator->safe_psql('postgres',
			"SELECT shardext_add_node('$host', $port, 'postgres')");
	}
	return ($coordinator, @workers);
}

1;
