# bambu-bridge: a plain Makefile.  `make` builds build/bambu-bridge; `make test` runs every
# test; `make asan` runs the suite under AddressSanitizer and UBSan; `make demo` shows it work.

# `make install` puts the binary into PREFIX/sbin, the unit into PREFIX/lib/systemd/system
# (systemd reads /usr/local/lib/systemd/system too) with its paths rewritten to PREFIX, the
# system user into PREFIX/lib/sysusers.d, the man pages into PREFIX/share/man, and examples
# into /etc/bambu-bridge/ as *.example (never over a real bridge.conf or drop-in).
PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	= $(PREFIX)/sbin
MANDIR	= $(PREFIX)/share/man
UNITDIR	= $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
CONFDIR	= /etc/bambu-bridge
BUILD	?= build

CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wcast-qual \
	  -Wwrite-strings -Werror=implicit-function-declaration
CPPFLAGS += -Iinclude
LDLIBS	= -lpaho-mqtt3as -lcurl -lcjson -lssl -lcrypto -lpthread

ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
BUILD	:= build/asan
endif

SRCS	:= $(sort $(wildcard bridge/*.c))
OBJS	:= $(SRCS:bridge/%.c=$(BUILD)/obj/%.o)
LIBOBJS	:= $(filter-out $(BUILD)/obj/main.o,$(OBJS))
UNITS	:= $(sort $(wildcard tests/unit/test_*.c))
UNITBINS := $(UNITS:tests/unit/%.c=$(BUILD)/tests/%)

all: deps-check $(BUILD)/bambu-bridge

# Fail early with the fix when a library is missing (`make deps` installs them).
deps-check:
	@test -f /usr/include/MQTTAsync.h -a -f /usr/include/cjson/cJSON.h \
	   -a -f /usr/include/openssl/hmac.h && pkg-config --exists libcurl || \
	   { echo "missing build dependencies: run 'make deps' (apt-get, as root)"; exit 1; }

deps:
	./scripts/install-deps.sh

$(BUILD)/bambu-bridge: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/obj/%.o: bridge/%.c $(wildcard include/*.h) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIBOBJS) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

units: $(BUILD)/bambu-bridge $(UNITBINS)

# The whole suite: unit tests, configuration golden files, integration tests against real
# mosquitto brokers and a real HTTPS server.  The last line is "N passed, N failed".
test: deps units
	BUILD=$(BUILD) ./tests/run.sh

asan:
	$(MAKE) SANITIZE=1 test

valgrind: deps units
	BUILD=$(BUILD) VALGRIND=1 ./tests/run.sh

demo: deps all
	./scripts/demo.sh

BENCHES	:= $(BUILD)/tests/bench_report $(BUILD)/tests/bench_outbox $(BUILD)/tests/farm_pub

$(BUILD)/tests/bench_%: tests/bench/bench_%.c $(LIBOBJS) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS)

$(BUILD)/tests/farm_pub: tests/bench/farm_pub.c | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# Figures, not tests: the report hot path, and events through the outbox to a receiver.
bench: deps all $(BENCHES)
	BUILD=$(BUILD) ./scripts/bench.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(CONFDIR)/printers.d
	install -m 0755 $(BUILD)/bambu-bridge $(DESTDIR)$(SBINDIR)/bambu-bridge
	sed 's|/usr/local/sbin/|$(SBINDIR)/|g' scripts/bambu-bridge.service \
	    >$(DESTDIR)$(UNITDIR)/bambu-bridge.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bambu-bridge.service
	install -m 0644 scripts/bambu-bridge.sysusers $(DESTDIR)$(SYSUSERSDIR)/bambu-bridge.conf
	install -m 0644 scripts/bambu-bridge.8 $(DESTDIR)$(MANDIR)/man8/bambu-bridge.8
	install -m 0644 scripts/bambu-bridge.conf.5 $(DESTDIR)$(MANDIR)/man5/bambu-bridge.conf.5
	install -m 0644 scripts/bridge.conf.example $(DESTDIR)$(CONFDIR)/bridge.conf.example
	for f in printers.d/*.conf; do \
		install -m 0644 $$f $(DESTDIR)$(CONFDIR)/printers.d/$${f##*/}.example || exit 1; \
	done

clean:
	rm -rf build

.PHONY: all deps deps-check units test asan valgrind demo bench install clean
