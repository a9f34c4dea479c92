# bambu-bridge: a plain Makefile.  `make` builds build/bambu-bridge; `make test` runs every
# test; `make asan` runs the suite under AddressSanitizer and UBSan; `make demo` shows it work.

PREFIX	?= /usr/local
DESTDIR	?=
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

bench: deps all
	./scripts/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/bambu-bridge $(DESTDIR)$(PREFIX)/bin/bambu-bridge

clean:
	rm -rf build

.PHONY: all deps deps-check units test asan valgrind demo bench install clean
