# relaybl -- an open-relay DNS blocklist
#
# One plain Makefile.  Objects go to build/rel (the programs users run) and
# build/asan (AddressSanitizer + UBSan, which `make test` runs the unit tests
# and the integration tests under).  CI=1 adds -Werror.

PKGS	 = ldns lmdb libevent libevent_pthreads jansson inih libcrypto
CC	?= cc
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-format-nonliteral
CPPFLAGS = -D_GNU_SOURCE -Idnsbl -Iprober
CFLAGS	 = -std=c11 -g -O2 $(WARN) $(shell pkg-config --cflags $(PKGS))
ifdef CI
CFLAGS	+= -Werror
endif
LDLIBS	 = $(shell pkg-config --libs $(PKGS))
ASANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	   -fno-omit-frame-pointer -O1
# The sanitizer build is a test build: the store honours its fault
# injection variables there (store.h), never in build/rel.
ASANCPP	 = -DSTORE_FAULTS

# Code shared by the programs (the store is the only part that knows LMDB).
LIB	 = dnsbl/log.c dnsbl/addr.c dnsbl/store.c dnsbl/config.c \
	   dnsbl/import.c dnsbl/store_bulk.c dnsbl/store_table.c \
	   dnsbl/store_read.c dnsbl/store_write.c dnsbl/dns_query.c \
	   dnsbl/zone.c dnsbl/answer.c dnsbl/probe_policy.c \
	   prober/smtp_client.c prober/cookie.c prober/battery.c prober/sink.c \
	   prober/probe.c
PROGS	 = dnsbl/dnsblctl dnsbl/dnsbld prober/proberd
UNIT	 = test_addr test_store test_import test_config test_answer \
	   test_probe_policy test_smtp_client test_cookie test_battery test_sink
BENCH	 = store_bench

LIB_REL	 = $(LIB:%.c=build/rel/%.o)
LIB_ASAN = $(LIB:%.c=build/asan/%.o)
UNIT_REL = $(UNIT:%=build/rel/tests/unit/%)
UNIT_ASAN = $(UNIT:%=build/asan/tests/unit/%)

BUILD_DEPS = gcc make pkg-config libldns-dev liblmdb-dev libevent-dev \
	   libjansson-dev libinih-dev libssl-dev
TEST_DEPS = perl bc util-linux lmdb-utils dnsutils knot-dnsutils clang \
	   libclang-rt-14-dev postfix python3 iproute2
BENCH_DEPS = dnsperf rbldnsd nmap

.SECONDARY:
.PHONY: all deps run test unit integration bench bench-dns bench-prober \
	bench-hostile bench-hostile-dns bench-hostile-sink fuzz clean asan \
	format regress

all: $(PROGS) $(UNIT_REL)

asan: build/asan/dnsbl/dnsblctl build/asan/dnsbl/dnsbld \
	    build/asan/prober/proberd $(UNIT_ASAN)

# Installs the Debian packages that are missing (as root), or prints the
# apt-get line that would (otherwise).
deps:
	@missing=""; for p in $(BUILD_DEPS) $(TEST_DEPS) $(BENCH_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			    apt-get install -y -qq $$missing; \
		else \
			echo "missing packages; run as root:"; \
			echo "  apt-get install -y$$missing"; exit 1; \
		fi; \
	fi

build/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ASANCPP) $(CFLAGS) $(ASANFLAGS) -MMD -MP -c -o $@ $<

dnsbl/dnsblctl: build/rel/dnsbl/dnsblctl.o build/rel/dnsbl/ctl_probe.o $(LIB_REL)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/dnsbl/dnsblctl: build/asan/dnsbl/dnsblctl.o \
	    build/asan/dnsbl/ctl_probe.o $(LIB_ASAN)
	$(CC) $(CFLAGS) $(ASANFLAGS) -o $@ $^ $(LDLIBS)

dnsbl/dnsbld: build/rel/dnsbl/dnsbld.o $(LIB_REL)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lpthread

prober/proberd: build/rel/prober/proberd.o $(LIB_REL)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/prober/proberd: build/asan/prober/proberd.o $(LIB_ASAN)
	$(CC) $(CFLAGS) $(ASANFLAGS) -o $@ $^ $(LDLIBS)

build/asan/dnsbl/dnsbld: build/asan/dnsbl/dnsbld.o $(LIB_ASAN)
	$(CC) $(CFLAGS) $(ASANFLAGS) -o $@ $^ $(LDLIBS) -lpthread

build/rel/tests/unit/%: build/rel/tests/unit/%.o $(LIB_REL)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/tests/unit/%: build/asan/tests/unit/%.o $(LIB_ASAN)
	$(CC) $(CFLAGS) $(ASANFLAGS) -o $@ $^ $(LDLIBS)

build/rel/tests/bench/%: build/rel/tests/bench/%.o $(LIB_REL)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The demo: a store built from the example list, and a few lookups.
run: deps all
	@sh tests/demo.sh

# Unit tests (plain and sanitized), then the integration tests that drive
# the programs as a user would (plain and sanitized).
test: deps all asan regress
	prove --exec '' $(UNIT_REL) $(UNIT_ASAN)
	prove --exec '' tests/integration/*.t
	RELAYBL_BIN=build/asan prove --exec '' tests/integration/*.t

unit: all asan
	prove --exec '' $(UNIT_REL) $(UNIT_ASAN)

integration: all
	prove --exec '' tests/integration/*.t

bench: deps all build/rel/tests/bench/store_bench
	sh tests/bench/store.sh

# dnsbld against rbldnsd on the same 1M addresses (tests/bench/dns.sh).
bench-dns: deps all build/rel/tests/bench/store_bench \
	    build/rel/tests/bench/null_responder
	sh tests/bench/dns.sh

# proberd and nmap against 2,000 fake SMTP hosts (tests/bench/prober.sh).
bench-prober: deps all
	sh tests/bench/prober.sh

# The hostile-load benchmarks, side by side with no attack; not part of
# `make test`.  dnsbld's TCP under 2,000 hostile connections (idle,
# trickling, pipelining without reading, half-closed) with honest UDP and
# TCP queries measured before, during and after (tests/bench/hostile.sh;
# HOSTILE_* variables set durations and sizes); proberd's CPU and memory
# while 2,000 idle and trickling connections flood its sink
# (tests/bench/hostile_sink.sh).
bench-hostile: deps all
	sh tests/bench/hostile.sh; dns=$$?; sh tests/bench/hostile_sink.sh; \
	    sink=$$?; [ $$dns = 0 ] && [ $$sink = 0 ]

bench-hostile-dns: deps all
	sh tests/bench/hostile.sh

bench-hostile-sink: deps all
	sh tests/bench/hostile_sink.sh

build/rel/tests/bench/null_responder: tests/bench/null_responder.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

# libFuzzer harnesses for every parser; FUZZ_SECONDS each (default 60).
# A crashing input is written to build/fuzz/<harness>-crash-*; once fixed,
# move it to tests/fuzz/regress/<harness>/ so that make test replays it.
FUZZ_SECONDS ?= 60
FUZZERS	 = fuzz_addr fuzz_import fuzz_config fuzz_answer fuzz_smtp_client fuzz_sink
fuzz: deps
	@mkdir -p build/fuzz
	for f in $(FUZZERS); do \
		clang $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		    $$(pkg-config --cflags $(PKGS)) -o build/fuzz/$$f \
		    tests/fuzz/$$f.c $(LIB) $(LDLIBS) || exit 1; \
		mkdir -p build/fuzz/corpus-$$f; \
		build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
		    -artifact_prefix=build/fuzz/$$f- \
		    build/fuzz/corpus-$$f tests/fuzz/seeds-$$f \
		    $$(ls -d tests/fuzz/regress/$$f 2>/dev/null) || exit 1; \
	done

# Inputs that once crashed a harness, kept in tests/fuzz/regress/<harness>/
# and replayed by make test: each harness linked with replay.c (a main()
# that feeds it files) and built with gcc and the sanitizers, so no clang
# fuzzer runtime is needed.
REGRESS	 = $(notdir $(wildcard tests/fuzz/regress/*))

build/asan/tests/fuzz/replay_%: build/asan/tests/fuzz/replay.o \
	    build/asan/tests/fuzz/%.o $(LIB_ASAN)
	$(CC) $(CFLAGS) $(ASANFLAGS) -o $@ $^ $(LDLIBS)

regress: $(REGRESS:%=build/asan/tests/fuzz/replay_%)
	@for f in $(REGRESS); do \
		echo "# replaying tests/fuzz/regress/$$f through $$f"; \
		build/asan/tests/fuzz/replay_$$f tests/fuzz/regress/$$f/* || \
		    exit 1; \
	done

format:
	clang-format -i dnsbl/*.[ch] prober/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build $(PROGS)

-include $(shell find build -name '*.d' 2>/dev/null)
