# A pg_dump of the coordinator restored in place of its database (the
# workers keep their shards): pg_restore (one job) and psql of a plain dump
# finish without errors, the tables read as before, indexes, constraints,
# comments and privileges are back on the coordinator, the shards' rows are
# not stored a second time anywhere, and writes work.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ShardextTestCluster;

my ($coordinator, @workers) = start_shardext_cluster();
$_->safe_psql('postgres', 'CREATE DATABASE app') for ($coordinator, @workers);
$coordinator->safe_psql('app', 'CREATE EXTENSION shardext CASCADE');
for my $worker (@workers)
{
	my ($host, $port) = ($worker->host, $worker->port);
	$coordinator->safe_psql('app', "SELECT shardext_add_node('$host', $port, 'app')");
}

# tables in schemas sorted before shardext's and after it (their rows come
# before and after the shard map in the dump), and one named unqualified
# (under an OS user called shardext, as in CI, it lands in shardext's own
# schema, whose rows come amid the shard map's)
$coordinator->safe_psql(
	'app', q{
	SET client_min_messages = warning;
	CREATE TABLE public.items (id int PRIMARY KEY, k int, v text);
	CREATE INDEX items_k ON items (k);
	INSERT INTO items SELECT g, g % 10, 'v' || g FROM generate_series(1, 1000) g;
	SELECT create_distributed_table('items', 'id', shard_count => 4);
	CREATE TABLE public.kinds (k int PRIMARY KEY, name text);
	INSERT INTO kinds SELECT g, 'kind ' || g FROM generate_series(0, 9) g;
	SELECT create_reference_table('kinds');
	CREATE SCHEMA zz;
	CREATE TABLE zz.events (id int, item int, k int, note text, PRIMARY KEY (item, id));
	SELECT create_distributed_table('zz.events', 'item', shard_count => 4);
	ALTER TABLE zz.events ADD FOREIGN KEY (k) REFERENCES kinds (k);
	INSERT INTO zz.events SELECT g, g % 100, g % 10, 'e' || g FROM generate_series(1, 300) g;
	CREATE TABLE notes (id int PRIMARY KEY, v text);
	INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 50) g;
	SELECT create_distributed_table('notes', 'id', shard_count => 2);
	ALTER TABLE public.items ADD CONSTRAINT items_v_set CHECK (v <> '') NOT VALID;
	CREATE TABLE public.local_fed (id int PRIMARY KEY, s text);
	INSERT INTO public.local_fed SELECT g, 's' || g FROM generate_series(1, 20) g;
	SELECT create_federated_table('public.local_fed', 0);
	CREATE INDEX local_fed_s ON public.local_fed (s);
	CREATE TABLE public.tags (t text);
	INSERT INTO public.tags SELECT 't' || g FROM generate_series(1, 5) g;
	SELECT create_reference_table('public.tags');
	COMMENT ON TABLE items IS 'the items';
	CREATE ROLE restore_reader;
	GRANT SELECT ON items TO restore_reader;
});

my @checks = (
	'SELECT count(*), sum(id), string_agg(v, \',\' ORDER BY id) FROM items',
	'SELECT k, count(*) FROM zz.events GROUP BY k ORDER BY k',
	'SELECT count(*), max(v) FROM notes',
	'SELECT count(*), max(s) FROM local_fed',
	'SELECT count(*) FROM tags',
	"SELECT conname, convalidated FROM pg_constraint WHERE conname IN ('items_v_set') ORDER BY 1",
	"SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'local_fed%' OR tablename LIKE 'tags%'",
	'SELECT i.k, count(*) FROM items i JOIN kinds USING (k) GROUP BY 1 ORDER BY 1',
	"SELECT count(*) FROM pg_indexes WHERE tablename IN ('items', 'events', 'kinds')",
	"SELECT obj_description('items'::regclass), has_table_privilege('restore_reader', 'items', 'SELECT')",
	'SELECT count(*) FROM shardext.shards');
my %before = map { $_ => $coordinator->safe_psql('app', $_) } @checks;

my $tempdir = PostgreSQL::Test::Utils::tempdir();
my @conn = ('-h', $coordinator->host, '-p', $coordinator->port);

for my $format ('custom', 'plain')
{
	my $file = "$tempdir/app.$format";
	my ($out, $err);
	ok( IPC::Run::run(
			[ 'pg_dump', @conn, '-F', substr($format, 0, 1), '-f', $file, 'app' ],
			'>', \$out, '2>', \$err),
		"pg_dump ($format)");
	unlike($err, qr/circular/, "without a warning about the catalog ($format)");

	$coordinator->safe_psql('postgres', 'DROP DATABASE app WITH (FORCE)');
	$coordinator->safe_psql('postgres', 'CREATE DATABASE app');
	my @restore =
	  $format eq 'custom'
	  ? ('pg_restore', @conn, '-d', 'app', $file)
	  : ('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', @conn, '-d', 'app', '-f', $file);
	$err = '';
	my $ok = IPC::Run::run(\@restore, '>', \$out, '2>', \$err);
	ok($ok, "the $format dump restores in place");
	unlike($err, qr/ERROR/, "without errors ($format)") or diag($err);

	for my $check (@checks)
	{
		is($coordinator->safe_psql('app', $check),
			$before{$check}, "after the $format restore: $check");
	}
	my ($rc, $stdout, $stderr) = $coordinator->psql(
		'app', q{
		BEGIN;
		SELECT undistribute_table('items');
		SELECT undistribute_table('notes');
		SELECT count(*), count(DISTINCT id) FROM items;
		SELECT count(*) FROM notes;
		ROLLBACK;
	});
	is($stdout, "\n\n1000|1000\n50",
		"undistributed, the tables have their rows once ($format)");
	unlike($stderr, qr/discarded/,
		"the coordinator's own tables held no rows ($format)");
	is( $coordinator->safe_psql(
			'app', q{
		INSERT INTO items VALUES (5000, 1, 'new');
		INSERT INTO zz.events VALUES (5000, 7, 1, 'new');
		SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM zz.events);
		DELETE FROM items WHERE id = 5000;
		DELETE FROM zz.events WHERE id = 5000;
	}),
		'1001|301',
		"writes reach the shards ($format)");
	($rc, $stdout, $stderr) = $coordinator->psql('app',
		"INSERT INTO zz.events VALUES (5001, 7, 99, 'no such kind')");
	like($stderr, qr/foreign key/, "the foreign key holds ($format)");
}

# the sections restored one by one, each in a session of its own: the
# post-data finds the indexes and constraints on the shards
{
	my $file = "$tempdir/app.custom";
	$coordinator->safe_psql('postgres', 'DROP DATABASE app WITH (FORCE)');
	$coordinator->safe_psql('postgres', 'CREATE DATABASE app');
	my $errors = '';
	for my $section ('pre-data', 'data', 'post-data')
	{
		my ($out, $err);
		IPC::Run::run([ 'pg_restore', @conn, "--section=$section", '-d', 'app', $file ],
			'>', \$out, '2>', \$err);
		$errors .= $err;
	}
	unlike($errors, qr/ERROR/, 'sections restored one by one, without errors')
	  or diag($errors);
	for my $check (@checks)
	{
		is($coordinator->safe_psql('app', $check),
			$before{$check}, "after the sections: $check");
	}
}

# pg_restore --clean into the existing database would drop the shards: it
# is refused, and the database stays as it was
{
	my ($out, $err);
	IPC::Run::run(
		[ 'pg_restore', @conn, '--clean', '--if-exists', '-d', 'app', "$tempdir/app.custom" ],
		'>', \$out, '2>', \$err);
	like($err, qr/cannot drop distributed table/, '--clean is refused');
	IPC::Run::run(
		[ 'pg_restore', @conn, '--data-only', '-d', 'app', "$tempdir/app.custom" ],
		'>', \$out, '2>', \$err);
	like($err, qr/cannot copy into reference table "tags"/,
		'so is --data-only into the existing database');
	for my $check (@checks)
	{
		is($coordinator->safe_psql('app', $check),
			$before{$check}, "after the refused --clean: $check");
	}
}

# a session that restored a plain dump and goes on: a second COPY into a
# distributed table is refused (not dropped), other DDL reaches the shards
{
	my $after = "$tempdir/after.sql";
	PostgreSQL::Test::Utils::append_to_file($after,
		"ALTER TABLE public.items ADD COLUMN w int DEFAULT 7;\n"
		  . "SELECT count(*), min(w) FROM public.items;\n"
		  . "COPY public.items (id, k, v) FROM stdin;\n5001\t1\tlate\n\\.\n");
	$coordinator->safe_psql('postgres', 'DROP DATABASE app WITH (FORCE)');
	$coordinator->safe_psql('postgres', 'CREATE DATABASE app');
	my ($out, $err);
	IPC::Run::run(
		[
			'psql', '-X', '-q', @conn, '-d', 'app', '-f', "$tempdir/app.plain",
			'-f', $after
		],
		'>', \$out, '2>', \$err);
	like($out, qr/1000\s*\|\s*7/, 'DDL after the restore in its session reaches the shards');
	like($err, qr/cannot copy into distributed table "items" while restoring a dump/,
		'a later COPY in that session is refused');
	$coordinator->safe_psql('app', 'ALTER TABLE items DROP COLUMN w');
}

# DDL after the restore (another session: a dump turns check_function_bodies
# off for its own) reaches the shards again
$coordinator->safe_psql('app', 'CREATE INDEX items_v ON items (v)');
my $shard_indexes = 0;
for my $worker (@workers)
{
	$shard_indexes += $worker->safe_psql('app',
		"SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'items_v_%'");
}
is($shard_indexes, 4, 'DDL after the restore reaches every shard');

$coordinator->stop;
$_->stop for @workers;
done_testing();
