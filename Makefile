# imgd: top-level Makefile.
#
#   make          build every program into $(BUILD)/bin
#   make deps     install the Debian packages the build and the tests need
#   make run      deps + build + start imgd in the foreground on ./state
#   make check    the whole test suite (unit, sandbox, integration, interop,
#                 fuzz replay); ends with "N passed, N failed"
#   make fuzz     run every libFuzzer target for FUZZ_SECONDS each
#   make chaos    kill -9 rounds against a working imgd (CHAOS_ROUNDS, 200)
#
# Each folder adds its sources, programs and tests in its own module.mk.

.DEFAULT_GOAL := all
.SUFFIXES:

BUILD	?= build
CC	?= cc
CLANG	?= clang
STATE	?= ./state
FUZZ_SECONDS ?= 60

WARN	:= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wvla -Wno-unused-parameter \
	   -Wno-format-truncation
HARDEN	:= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE \
	   -fstack-clash-protection -fcf-protection
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(EXTRA_CFLAGS) \
	     -I. -MMD -MP
LDHARDEN := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
ALL_LDFLAGS = $(LDHARDEN) $(LDFLAGS) $(EXTRA_LDFLAGS)

# Libraries, one line each so that a folder links only what it needs.
LIB_EVENT	:= -levent_core
LIB_CRYPTO	:= -lcrypto
LIB_SSL		:= -lssl -lcrypto
LIB_SECCOMP	:= -lseccomp
LIB_CAP		:= -lcap
LIB_ARCHIVE	:= -larchive
LIB_YAML	:= -lyaml
LIB_JANSSON	:= -ljansson
LIB_SQLITE	:= -lsqlite3
LIB_SQUASHFS	:= -lsquashfs

BINS		:=
TEST_BINS	:=
FUZZ_TARGETS	:=

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

include ipc/module.mk
include policy/module.mk
include unpacker/module.mk
include http/module.mk
include frontend/module.mk
include fetcher/module.mk
include store/module.mk
include imgctl/module.mk
include tests/module.mk

all: $(BINS)

tests: $(TEST_BINS)

# Debian packages: build libraries, the reference client and daemon used by
# the interop tests, and the tools the tests drive.
DEB_BUILD := gcc make pkg-config libevent-dev libssl-dev libseccomp-dev \
	     libarchive-dev libyaml-dev libjansson-dev libsqlite3-dev libcap-dev \
	     libsquashfs-dev libcurl4-openssl-dev libc-ares-dev
DEB_TEST  := clang lxd-client lxd curl python3 xz-utils bzip2 zstd lzma \
	     tar passwd procps sqlite3 libarchive-tools acl attr e2fsprogs \
	     openssl groff-base systemd squashfs-tools nginx minisign \
	     signify-openbsd prometheus strace
deps:
	@sh .ci/deps.sh $(DEB_BUILD) $(DEB_TEST)

deps-build:
	@sh .ci/deps.sh $(DEB_BUILD)

run: deps-build all
	@sh store/run.sh $(BUILD)/bin $(STATE)

check: all tests
	@bash tests/run $(BUILD)

CHAOS_ROUNDS ?= 200
chaos: all
	@IMGD_BUILD=$(abspath $(BUILD)) CHAOS_ROUNDS=$(CHAOS_ROUNDS) \
	    bash tests/chaos/run.sh

fuzz: fuzz-build
	@bash tests/fuzz/run $(BUILD)/fuzz $(FUZZ_SECONDS)

fuzz-build: $(FUZZ_TARGETS)

# make install [PREFIX=/usr/local] [DESTDIR=]: the four programs in one
# root-owned directory (imgd finds its children next to itself), imgd in
# sbin, imgctl in bin, the systemd unit, sysusers.d, a commented config
# and the man pages.
PREFIX		?= /usr/local
LIBEXECDIR	:= $(PREFIX)/lib/imgd
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc

install: all
	install -d -m 0755 $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/imgd
	install -m 0755 $(BUILD)/bin/imgd $(BUILD)/bin/imgd-frontend \
	    $(BUILD)/bin/imgd-fetcher $(BUILD)/bin/imgd-unpacker \
	    $(DESTDIR)$(LIBEXECDIR)/
	ln -sf ../lib/imgd/imgd $(DESTDIR)$(PREFIX)/sbin/imgd
	install -m 0755 $(BUILD)/bin/imgctl $(DESTDIR)$(PREFIX)/bin/
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' store/imgd.service.in \
	    >$(DESTDIR)$(UNITDIR)/imgd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/imgd.service
	install -m 0644 store/imgd.sysusers $(DESTDIR)$(SYSUSERSDIR)/imgd.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/imgd/imgd.yaml ] || \
	    install -m 0644 store/imgd.yaml $(DESTDIR)$(SYSCONFDIR)/imgd/imgd.yaml
	install -m 0644 docs/imgctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/imgd.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/imgd $(DESTDIR)$(PREFIX)/bin/imgctl \
	    $(DESTDIR)$(UNITDIR)/imgd.service \
	    $(DESTDIR)$(SYSUSERSDIR)/imgd.conf \
	    $(DESTDIR)$(MANDIR)/man1/imgctl.1 $(DESTDIR)$(MANDIR)/man8/imgd.8
	rm -rf $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

.PHONY: all tests deps deps-build run check chaos fuzz fuzz-build clean format \
	install uninstall

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
