# Makefile for shardext (PGXS)

MODULE_big = shardext
OBJS = \
	src/shardext.o \
	src/guc.o \
	src/catalog.o \
	src/metadata_cache.o \
	src/connection.o \
	src/self_connection.o \
	src/remote_exec.o \
	src/transaction.o \
	src/node.o \
	src/routing.o \
	src/copy.o \
	src/distribute.o \
	src/shard_ddl.o \
	src/node_types.o \
	src/foreign_keys.o \
	src/deparse.o \
	src/router.o \
	src/remote_scan.o \
	src/multi_shard.o \
	src/ddl.o \
	src/index_commands.o \
	src/pushdown.o \
	src/pullup.o \
	src/join_keys.o \
	src/modify.o \
	src/planner.o \
	src/statistics.o \
	src/deadlock.o \
	src/maintenance.o \
	src/utility.o

EXTENSION = shardext
DATA = shardext--0.1.sql shardext--0.1--0.2.sql shardext--0.2--0.3.sql \
	shardext--0.3--0.4.sql

REGRESS = create_extension gucs catalog_privileges nodes dist_create dist_queries dist_dml dist_transactions dist_prepared router_fast_path dist_ddl router_constants pushdown reference_tables directory_tables corpus unique_ids ddl_conversions node_types query_edges statistics foreign_keys security views join_keys
REGRESS_OPTS = --inputdir=.
ISOLATION = concurrent_multi_shard_updates directory_move_key ddl_other_sessions directory_auto_assign

PG_CPPFLAGS = -I$(srcdir)/src/include -I$(libpq_srcdir)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK_INTERNAL = $(libpq)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# "make print-REGRESS" prints a variable; the test runner reads lists this way.
print-%:
	@echo $($*)

# every object depends on our headers (PGXS tracks no header dependencies)
$(OBJS): $(wildcard $(srcdir)/src/include/shardext/*.h)
