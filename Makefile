# relaybl -- an open-relay DNS blocklist
#
# One plain Makefile.  Objects go to build/rel (the programs users run) and
# build/asan (AddressSanitizer + UBSan, which `make test` runs the unit tests
# and the integration tests under).  CI=1 adds -Werror.

# relaybl's version: every program's --version and the daemons' start-up
# line (dnsbl/lib/version.h).
VERSION	 = 0.9.0

PKGS	 = ldns lmdb libevent libevent_pthreads libevent_openssl jansson inih \
	   libssl libcrypto
CC	?= cc
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-format-nonliteral
# One folder a concern (README "Layout"); a header is found by its name.
MODULES	 = lib store list queue dns http
CPPFLAGS = -D_GNU_SOURCE $(MODULES:%=-Idnsbl/%) -Idnsbl/ctl -Idnsbl/web \
	   -Iprober -DRELAYBL_VERSION='"$(VERSION)"'
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

# One archive per folder; each program links only the folders it uses,
# highest layer first (lib at the bottom: everything may use it).
SRC_lib	 = dnsbl/lib/log.c dnsbl/lib/addr.c dnsbl/lib/config.c \
	   dnsbl/lib/listen.c dnsbl/lib/privs.c dnsbl/lib/textfile.c \
	   dnsbl/lib/version.c
SRC_store = dnsbl/store/store.c dnsbl/store/store_bulk.c \
	   dnsbl/store/store_table.c dnsbl/store/store_read.c \
	   dnsbl/store/store_write.c dnsbl/store/store_journal.c
SRC_list = dnsbl/list/import.c
SRC_queue = dnsbl/queue/probe_policy.c dnsbl/queue/queue.c
SRC_dns	 = dnsbl/dns/dns_query.c dnsbl/dns/zone.c dnsbl/dns/answer.c \
	   dnsbl/dns/answer_conf.c \
	   dnsbl/dns/tsig.c dnsbl/dns/tsig_keys.c dnsbl/dns/zone_walk.c \
	   dnsbl/dns/xfr.c dnsbl/dns/ixfr.c dnsbl/dns/access.c \
	   dnsbl/dns/keys.c dnsbl/dns/rrl.c
SRC_http = dnsbl/http/http_parse.c dnsbl/http/http_server.c
SRC_prober = prober/smtp_client.c prober/cookie.c prober/battery.c \
	   prober/sink.c prober/probe.c \
	   prober/verdict.c
SRC_ctl	 = dnsbl/ctl/dnsblctl.c dnsbl/ctl/ctl_list.c dnsbl/ctl/ctl_probe.c \
	   dnsbl/ctl/ctl_store.c dnsbl/ctl/ctl_export.c
SRC_server = dnsbl/server/dnsbld.c dnsbl/server/udp.c dnsbl/server/tcp.c \
	   dnsbl/server/metrics.c dnsbl/server/transfer.c dnsbl/server/notify.c
SRC_web	 = dnsbl/web/dnsblweb.c dnsbl/web/web_route.c dnsbl/web/web_api.c \
	   dnsbl/web/web_page.c dnsbl/web/web_data.c dnsbl/web/web_util.c
SRC_proberd = prober/proberd.c prober/scheduler.c prober/outcome.c \
	   prober/delivery.c prober/sink_server.c

LIBS_dnsblctl = dns queue list store lib
LIBS_dnsbld = http dns store lib
LIBS_dnsblweb = http queue list store lib
LIBS_proberd = prober queue store lib
LIBS_all = prober dns http list queue store lib	# tests, fuzzers, benches

LIB	 = $(foreach m,$(LIBS_all),$(SRC_$(m)))
PROGS	 = dnsbl/dnsblctl dnsbl/dnsbld dnsbl/dnsblweb prober/proberd
UNIT	 = test_addr test_listen test_store test_import test_config \
	   test_answer test_probe_policy test_queue test_smtp_client test_cookie \
	   test_battery test_sink test_verdict test_http_parse \
	   test_http_server test_tsig test_zone_walk test_access test_keys \
	   test_rrl test_xfr test_ixfr
BENCH	 = store_bench

# build/rel/libstore.a and the like, in link order.
archives = $(foreach m,$(2),build/$(1)/lib$(m).a)
LIB_REL	 = $(call archives,rel,$(LIBS_all))
LIB_ASAN = $(call archives,asan,$(LIBS_all))
UNIT_REL = $(UNIT:%=build/rel/tests/unit/%)
UNIT_ASAN = $(UNIT:%=build/asan/tests/unit/%)

BUILD_DEPS = gcc make pkg-config libldns-dev liblmdb-dev libevent-dev \
	   libjansson-dev libinih-dev libssl-dev
TEST_DEPS = perl bc util-linux lmdb-utils dnsutils knot-dnsutils clang \
	   python3-dnspython mandoc \
	   libclang-rt-14-dev postfix swaks python3 iproute2 \
	   chromium chromium-driver python3-selenium rbldnsd nsd knot ldnsutils \
	   systemd curl rspamd spamassassin
BENCH_DEPS = dnsperf rbldnsd nmap knot knot-dnsutils dnsutils

.SECONDARY:
.PHONY: all deps run test unit integration bench bench-dns bench-axfr \
	bench-prober bench-prober-mem \
	bench-hostile bench-hostile-dns bench-hostile-sink fuzz clean asan \
	regress export-loop install uninstall exim FORCE

all: $(PROGS) $(UNIT_REL)

asan: build/asan/dnsbl/dnsblctl build/asan/dnsbl/dnsbld build/asan/dnsbl/dnsblweb \
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
			    apt-get install -y -qq $$missing || exit 1; \
			for s in knot nsd rbldnsd rspamd redis-server spamd; do \
				systemctl disable --now $$s >/dev/null 2>&1 || :; \
			done; \
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

# A new VERSION is compiled in.
build/rel/dnsbl/lib/version.o build/asan/dnsbl/lib/version.o: Makefile

define module_archive
build/rel/lib$(1).a: $$(SRC_$(1):%.c=build/rel/%.o)
	$$(AR) rcs $$@ $$^
build/asan/lib$(1).a: $$(SRC_$(1):%.c=build/asan/%.o)
	$$(AR) rcs $$@ $$^
endef
$(foreach m,$(LIBS_all),$(eval $(call module_archive,$(m))))

# prog_rules NAME PATH: the plain and sanitized programs.
define prog_rules
$(2): $$(SRC_$(1):%.c=build/rel/%.o) $$(call archives,rel,$$(LIBS_$(3)))
	$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS) -lpthread
build/asan/$(2): $$(SRC_$(1):%.c=build/asan/%.o) \
	    $$(call archives,asan,$$(LIBS_$(3)))
	$$(CC) $$(CFLAGS) $$(ASANFLAGS) -o $$@ $$^ $$(LDLIBS) -lpthread
endef
$(eval $(call prog_rules,ctl,dnsbl/dnsblctl,dnsblctl))
$(eval $(call prog_rules,server,dnsbl/dnsbld,dnsbld))
$(eval $(call prog_rules,web,dnsbl/dnsblweb,dnsblweb))
$(eval $(call prog_rules,proberd,prober/proberd,proberd))

# Every unit test links the shared fixture (tests/unit/fixture.h).
build/rel/tests/unit/%: build/rel/tests/unit/%.o \
	    build/rel/tests/unit/fixture.o $(LIB_REL)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/tests/unit/%: build/asan/tests/unit/%.o \
	    build/asan/tests/unit/fixture.o $(LIB_ASAN)
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

# A 1M-listing zone from dnsbld into Knot as a secondary: AXFR time and
# size, dnsbld's RSS, 1,000 changes followed, Knot's answer rate next to
# dnsbld's (tests/bench/axfr.sh).
bench-axfr: deps all build/rel/tests/bench/store_bench
	sh tests/bench/axfr.sh

# proberd and nmap against 2,000 fake SMTP hosts, then proberd's memory
# with 1,000 probes in flight (tests/bench/prober.sh); bench-prober-mem is
# the memory phase alone.
bench-prober: deps all
	sh tests/bench/prober.sh

bench-prober-mem: deps all
	MEMONLY=1 sh tests/bench/prober.sh

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

# Keeps MIRROR (default state/mirror) fresh with the exports of ZONE
# every INTERVAL seconds (etc/export-loop.sh; README "Mirror files").
MIRROR	?= state/mirror
ZONE	?= bl.relaybl.example
export-loop: all
	sh etc/export-loop.sh $(MIRROR) $(ZONE)

# Exim for tests/integration/mta_snippets.t, which runs it from here when
# present (and makes this target when not).  Debian's exim4 conflicts with
# postfix, so it is never installed: its packages, and the libraries it
# needs that are not installed, are fetched with apt-get download and
# unpacked into build/exim once.
EXIM	 = build/exim/usr/sbin/exim4
exim: $(EXIM)
$(EXIM):
	@rm -rf build/exim && mkdir -p build/exim/debs
	cd build/exim/debs && apt-get download -q exim4-base \
	    exim4-daemon-light $$(apt-cache depends exim4-daemon-light | \
	    awk '$$1 == "Depends:" && $$2 ~ /^lib/ { print $$2 }' | \
	    while read p; do dpkg-query -W -f='$${Status}\n' $$p \
	    2>/dev/null | grep -q '^install ok installed' || echo $$p; done)
	for d in build/exim/debs/*.deb; do dpkg -x $$d build/exim || exit 1; done
	@test -x $@ && touch $@

# libFuzzer harnesses for every parser; FUZZ_SECONDS each (default 60).
# A crashing input is written to build/fuzz/<harness>-crash-*; once fixed,
# move it to tests/fuzz/regress/<harness>/ so that make test replays it.
FUZZ_SECONDS ?= 60
FUZZERS	 = fuzz_addr fuzz_import fuzz_config fuzz_answer fuzz_access fuzz_keys \
	   fuzz_smtp_client fuzz_sink fuzz_http_parse fuzz_tsig fuzz_xfr
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

# --- make install, make uninstall (README "Install") -------------------
# PREFIX=/usr installs as Debian's packages do: configuration in /etc and
# units in /lib/systemd/system; any other PREFIX keeps everything under
# it (/usr/local/etc, /usr/local/lib/systemd/system, which systemd reads
# too).  The state is /var/lib/relaybl either way.  DESTDIR is honoured.
PREFIX	?= /usr/local
ifeq ($(PREFIX),/usr)
SYSCONFDIR ?= /etc
UNITDIR	?= /lib/systemd/system
else
SYSCONFDIR ?= $(PREFIX)/etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
endif
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
STATEDIR ?= /var/lib/relaybl
CONFDIR	 = $(SYSCONFDIR)/relaybl
UNITS	 = dnsbld.service proberd.service dnsblweb.service
MAN8	 = $(wildcard man/*.8)
MAN5	 = $(wildcard man/*.5)
INST_PROGS = $(notdir $(PROGS))

# The installed programs read $(CONFDIR)/relaybl.conf when given no -c;
# those of the tree keep reading etc/relaybl.conf, for make run and the
# tests.  Only config.o differs: it is compiled again with the path, and
# the programs are linked again with it.  build/inst/paths holds the
# paths used, so that another PREFIX builds afresh.
INST_SUBST = -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CONFDIR@|$(CONFDIR)|g' \
	   -e 's|@STATEDIR@|$(STATEDIR)|g'

FORCE:
build/inst/paths: FORCE
	@mkdir -p $(@D)
	@echo '$(SBINDIR) $(CONFDIR) $(STATEDIR)' | cmp -s - $@ || \
	    echo '$(SBINDIR) $(CONFDIR) $(STATEDIR)' > $@

build/inst/dnsbl/lib/config.o: dnsbl/lib/config.c build/inst/paths
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DCONFIG_DEFAULT_PATH='"$(CONFDIR)/relaybl.conf"' \
	    $(CFLAGS) -MMD -MP -c -o $@ $<

build/inst/liblib.a: $(filter-out build/rel/dnsbl/lib/config.o, \
	    $(SRC_lib:%.c=build/rel/%.o)) build/inst/dnsbl/lib/config.o
	rm -f $@
	$(AR) rcs $@ $^

# inst_prog NAME SRC LIBS: an installed program.
define inst_prog
build/inst/$(1): $$(SRC_$(2):%.c=build/rel/%.o) \
	    $$(call archives,rel,$$(filter-out lib,$$(LIBS_$(3)))) \
	    build/inst/liblib.a
	$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS) -lpthread
endef
$(eval $(call inst_prog,dnsblctl,ctl,dnsblctl))
$(eval $(call inst_prog,dnsbld,server,dnsbld))
$(eval $(call inst_prog,dnsblweb,web,dnsblweb))
$(eval $(call inst_prog,proberd,proberd,proberd))

# The configuration with the installed paths (etc/relaybl.conf.sed); a
# path left relative is an error, not a daemon that cannot find its files.
build/inst/relaybl.conf: etc/relaybl.conf etc/relaybl.conf.sed \
	    build/inst/paths
	sed $(INST_SUBST) etc/relaybl.conf.sed > $@.sed
	sed -f $@.sed etc/relaybl.conf > $@.tmp
	@if grep -nE '^;?[a-z_]*(dir|zones|file)[ 	]*=[ 	]*[^/ 	]' \
	    $@.tmp; then echo "$@: a relative path is left (add it to" \
	    "etc/relaybl.conf.sed)" >&2; rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

build/inst/%: etc/systemd/%.in build/inst/paths
	sed $(INST_SUBST) $< > $@

# inst_keep SRC DEST: the operator's DEST is never overwritten; a new
# SRC goes beside it as DEST.dist, and make says so.
inst_keep = if [ ! -e "$(2)" ]; then install -m 644 "$(1)" "$(2)"; \
	elif cmp -s "$(1)" "$(2)"; then :; \
	else install -m 644 "$(1)" "$(2).dist"; \
	echo "kept $(2) as it is; the new one is $(2).dist"; fi

install: $(INST_PROGS:%=build/inst/%) build/inst/relaybl.conf \
	    $(UNITS:%=build/inst/%) build/inst/relaybl.sysusers \
	    build/inst/relaybl.tmpfiles
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(CONFDIR)/zones \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(INST_PROGS:%=build/inst/%) $(DESTDIR)$(SBINDIR)
	@$(call inst_keep,build/inst/relaybl.conf,$(DESTDIR)$(CONFDIR)/relaybl.conf)
	@for z in zones/*.zone; do \
		$(call inst_keep,$$z,$(DESTDIR)$(CONFDIR)/$$z); \
	done
	install -m 644 $(UNITS:%=build/inst/%) $(DESTDIR)$(UNITDIR)
	install -m 644 build/inst/relaybl.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/relaybl.conf
	install -m 644 build/inst/relaybl.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/relaybl.conf
ifneq ($(MAN8)$(MAN5),)
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	$(if $(MAN8),install -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5)
endif
	@# Into the running system: the users, /var/lib/relaybl, the units.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		if command -v systemd-sysusers >/dev/null; then \
			echo "systemd-sysusers: users relaybl-dns," \
			    "relaybl-prober, relaybl-web, group relaybl"; \
			systemd-sysusers $(SYSUSERSDIR)/relaybl.conf; fi; \
		if command -v systemd-tmpfiles >/dev/null; then \
			echo "systemd-tmpfiles: $(STATEDIR)"; \
			systemd-tmpfiles --create \
			    $(TMPFILESDIR)/relaybl.conf; fi; \
		if [ -d /run/systemd/system ]; then \
			systemctl daemon-reload; fi; \
	fi

# What install put there, but never the configuration (the operator's),
# the store in $(STATEDIR), nor the users (Debian's packages leave them
# too).
uninstall:
	rm -f $(INST_PROGS:%=$(DESTDIR)$(SBINDIR)/%) \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) \
	    $(DESTDIR)$(SYSUSERSDIR)/relaybl.conf \
	    $(DESTDIR)$(TMPFILESDIR)/relaybl.conf \
	    $(DESTDIR)$(CONFDIR)/relaybl.conf.dist \
	    $(DESTDIR)$(CONFDIR)/zones/*.zone.dist \
	    $(MAN8:man/%=$(DESTDIR)$(MANDIR)/man8/%) \
	    $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%)
	@echo "left as they are: $(DESTDIR)$(CONFDIR) (your configuration)" \
	    "and $(STATEDIR) (the store)"

# No format target: .clang-format says why (it cannot align declarations
# to tab stops, and would rewrite a sixth of the tree).

clean:
	rm -rf build $(PROGS)

-include $(shell find build -name '*.d' -type f 2>/dev/null)
