# Reference tables across node changes: a node added later receives a copy
# of every reference table before it takes shards; removing a node drops it
# from the copies and drops its copies (a node that cannot be reached keeps
# them, with a warning); the copies stay identical under writes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $coordinator = PostgreSQL::Test::Cluster->new('coordinator');
$coordinator->init;
$coordinator->append_conf('postgresql.conf',
	"shared_preload_libraries = 'shardext'\nmax_prepared_transactions = 10\n");
$coordinator->start;

my @workers;
for my $i (1 .. 2)
{
	my $worker = PostgreSQL::Test::Cluster->new("worker$i");
	$worker->init;
	$worker->append_conf('postgresql.conf', "max_prepared_transactions = 10\n");
	$worker->start;
	push @workers, $worker;
}

sub add_node
{
	my ($worker) = @_;
	my ($host, $port) = ($worker->host, $worker->port);
	return $coordinator->safe_psql('postgres',
		"SELECT shardext_add_node('$host', $port, 'postgres')");
}

# the rows of a copy, as text, read on the node that holds it
sub copy_on
{
	my ($node) = @_;
	my $shard = $coordinator->safe_psql('postgres',
		"SELECT shard_relation FROM shardext.shards WHERE table_name = 'products'::regclass");
	return $node->safe_psql('postgres',
		"SELECT count(*) || ':' || md5(string_agg(p::text, ',' ORDER BY p::text)) FROM $shard p");
}

$coordinator->safe_psql('postgres', 'CREATE EXTENSION shardext CASCADE');
add_node($workers[0]);
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE products (id int PRIMARY KEY, name text, price numeric);
	INSERT INTO products SELECT g, 'p' || g, g * 0.5 FROM generate_series(1, 50) g;
	SELECT create_reference_table('products');
	CREATE TABLE orders (customer int, id int, product int, PRIMARY KEY (customer, id));
	INSERT INTO orders SELECT g % 20, g, g % 50 + 1 FROM generate_series(1, 400) g;
	SELECT create_distributed_table('orders', 'customer', shard_count => 4);
	CREATE TABLE kinds (id int PRIMARY KEY);
	CREATE TABLE things (id int PRIMARY KEY, kind int);
	INSERT INTO kinds SELECT generate_series(1, 5);
	INSERT INTO things SELECT g, g % 5 + 1 FROM generate_series(1, 100) g;
	SELECT create_reference_table('kinds');
	SELECT create_reference_table('things');
	ALTER TABLE things ADD FOREIGN KEY (kind) REFERENCES kinds (id) ON DELETE CASCADE;
});
my $expected = $coordinator->safe_psql('postgres',
	"SELECT count(*) || ':' || md5(string_agg(p::text, ',' ORDER BY p::text)) FROM products p");
is(copy_on($workers[0]), $expected, 'the first worker has a copy');

# a second worker joins: it gets the copy in the same transaction
my ($stdout, $stderr);
my ($host2, $port2) = ($workers[1]->host, $workers[1]->port);
$coordinator->psql('postgres', "SELECT shardext_add_node('$host2', $port2, 'postgres')",
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/copied reference table "products" to node 2: 50 rows/,
	'adding a node copies the reference tables');
is(copy_on($workers[1]), $expected, 'the new worker holds the same rows');
is($coordinator->safe_psql('postgres',
		"SELECT string_agg(node_id::text, ',' ORDER BY node_id) FROM shardext.placements "
		  . "JOIN shardext.shards USING (shard_id) WHERE table_name = 'products'::regclass"),
	'0,1,2', 'the placements list every node');

# the new node's copies have the foreign keys between reference tables
my $things = $coordinator->safe_psql('postgres',
	"SELECT shard_relation FROM shardext.shards WHERE table_name = 'things'::regclass");
is($workers[1]->safe_psql('postgres',
		"SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = '$things'::regclass"),
	'1', 'the new copy of a referencing reference table has its foreign key');
$coordinator->safe_psql('postgres', 'DELETE FROM kinds WHERE id = 2');
is($workers[1]->safe_psql('postgres', "SELECT count(*) FROM $things"),
	'80', 'a delete cascades on the new node');
my ($ret) = $coordinator->psql('postgres', 'INSERT INTO things VALUES (500, 2)');
isnt($ret, 0, 'a row referencing nothing is refused');
$coordinator->safe_psql('postgres', 'DROP TABLE things, kinds');

# shards created now on the new worker join with its copy
$coordinator->safe_psql(
	'postgres', q{
	CREATE TABLE reviews (product int, id int, stars int, PRIMARY KEY (product, id));
	INSERT INTO reviews SELECT g % 50 + 1, g, g % 5 + 1 FROM generate_series(1, 300) g;
	SELECT create_distributed_table('reviews', 'product', colocate_with => 'none', shard_count => 2);
});
is($coordinator->safe_psql('postgres',
		'SELECT count(DISTINCT node_id) FROM shardext.placements JOIN shardext.shards USING (shard_id) '
		  . "WHERE table_name = 'reviews'::regclass"),
	'2', 'the new table uses both workers');
my $router = $coordinator->safe_psql('postgres',
	'SELECT p.name, count(*) FROM reviews r JOIN products p ON p.id = r.product '
	  . 'WHERE r.product = 7 GROUP BY p.name');
is($router, 'p7|6', 'a router join with the reference table works on each worker');
my $all = $coordinator->safe_psql('postgres',
	'SELECT sum(r.stars * p.price) FROM reviews r JOIN products p ON p.id = r.product');
my $oracle = $coordinator->safe_psql('postgres',
	'SELECT sum((g % 5 + 1) * (g % 50 + 1) * 0.5) FROM generate_series(1, 300) g');
is($all, $oracle, 'a join over every shard group matches');

# writes reach all three copies, also from concurrent sessions
$coordinator->safe_psql('postgres',
	"UPDATE products SET price = price + 1 WHERE id <= 10; DELETE FROM products WHERE id = 50; "
	  . "INSERT INTO products VALUES (51, 'p51', 1)");
my @sessions = map { $coordinator->background_psql('postgres') } 1 .. 2;
for my $round (1 .. 20)
{
	for my $s (0 .. 1)
	{
		$sessions[$s]->query_safe(
			"UPDATE products SET price = price + 1 WHERE id = " . ($round % 5 + 1));
	}
}
$_->quit for @sessions;
$expected = $coordinator->safe_psql('postgres',
	"SELECT count(*) || ':' || md5(string_agg(p::text, ',' ORDER BY p::text)) FROM products p");
is(copy_on($workers[0]), $expected, 'worker 1 has every write');
is(copy_on($workers[1]), $expected, 'worker 2 has every write');
is($coordinator->safe_psql('postgres', 'SELECT sum(price) FROM products'),
	$coordinator->safe_psql('postgres', 'SELECT 25 * 51 * 0.5 - 25 + 1 + 10 + 40 + 0'),
	'the sum is what the writes make');

# removing a node: refused while it holds shards of distributed tables,
# accepted once only reference copies are left
$coordinator->psql('postgres', "SELECT shardext_remove_node('$host2', $port2)",
	stderr => \$stderr);
like($stderr, qr/still holds 1 shard placement/,
	'a node with a distributed shard is not removed (reference copies are not counted)');
$coordinator->safe_psql('postgres', "SELECT undistribute_table('reviews')");
$coordinator->safe_psql('postgres', "SELECT shardext_remove_node('$host2', $port2)");
is($coordinator->safe_psql('postgres',
		"SELECT string_agg(node_id::text, ',' ORDER BY node_id) FROM shardext.placements "
		  . "JOIN shardext.shards USING (shard_id) WHERE table_name = 'products'::regclass"),
	'0,1', 'the removed node is no longer a copy');
$coordinator->safe_psql('postgres', "UPDATE products SET name = 'renamed' WHERE id = 1");
is($coordinator->safe_psql('postgres', 'SELECT name FROM products WHERE id = 1'),
	'renamed', 'writes go on without the removed node');

my $shard = $coordinator->safe_psql('postgres',
	"SELECT shard_relation FROM shardext.shards WHERE table_name = 'products'::regclass");
is($workers[1]->safe_psql('postgres', "SELECT to_regclass('$shard') IS NULL"),
	't', 'the removed node no longer has its copy');

# the removed node can join again, and gets a fresh copy
add_node($workers[1]);
$expected = $coordinator->safe_psql('postgres',
	"SELECT count(*) || ':' || md5(string_agg(p::text, ',' ORDER BY p::text)) FROM products p");
is(copy_on($workers[1]), $expected, 'a node added again gets the current copy');

# a node removed while it is down keeps its copy: a warning says so, and
# adding it again says what to drop
$workers[1]->stop;
$coordinator->psql('postgres', "SELECT shardext_remove_node('$host2', $port2)",
	stderr => \$stderr);
like($stderr, qr/WARNING:  could not drop the copies of reference tables on node .*HINT:  Drop \Q$shard\E on that node/s,
	'removing an unreachable node warns about the copy left there');
$workers[1]->start;
$coordinator->psql('postgres', "SELECT shardext_add_node('$host2', $port2, 'postgres')",
	stderr => \$stderr);
like($stderr, qr/already has a table \Q$shard\E for the copy of reference table "products".*HINT:  Drop/s,
	'adding it again names the table left there');
$workers[1]->safe_psql('postgres', "DROP TABLE $shard");
add_node($workers[1]);
is(copy_on($workers[1]), $expected, 'once it is dropped, the node is added again');

$coordinator->stop;
$_->stop for @workers;
done_testing();
