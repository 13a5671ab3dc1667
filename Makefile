# SPDX-License-Identifier: GPL-2.0
#
# aio-suite: a benchmarking and conformance suite for Linux native AIO.
#
#   make            build everything under build/
#   make deps       install missing Debian packages (root) or print the line
#   make check      deps, build, then every test: C unit tests, aio-conform,
#                   the old-distro build, bats; ends with "N passed, N
#                   failed, N skipped"
#   make check-old-distro
#                   build and test in a cached Debian 11 chroot (root)
#   make bench      deps, build, then the main job: conformance, the engines,
#                   the scenario studies and the report [QUICK=1] [REPEAT=N]
#                   [REPEAT=auto [TARGET_PCT=5] [BUDGET_S=3600]: rounds until
#                   every point's detectable change is within TARGET_PCT]
#                   [FIO_CLIENTS=FILE: the studies' fio parts on those hosts]
#   make bench-overhead
#                   aio-stress against fio and a bare io_submit loop on
#                   /dev/null, side by side, with the ratios
#   make study S=NAME [QUICK=1] [REPEAT=N|auto] [FIO_CLIENTS=FILE]
#                   one scenario study, or all
#   make report     compare the runs in results/ (Markdown, HTML, charts)
#   make kernels    run the suite in qemu on Debian's kernels or KERNEL=
#   make mutants    the mutation score: kernel bugs (ci/mutants/*.patch to
#                   Debian's linux-source-6.1) the suite catches in qemu;
#                   about an hour on 2 cores [MUTANTS="001 017"]; not in check
#   make calibrate [QUICK=1] [HISTORY=1]
#                   what this machine can detect: A/A pairs and slowdowns the
#                   kernel imposes (a cpu cgroup quota, block throttling of a
#                   loop device), as the report judges them; about 11 minutes
#                   (root; results/calibrate/<run id>/)
#   make install    PREFIX=/usr/local DESTDIR=: the binaries and the commands
#                   aio-study, aio-report, aio-bench (the Python package in
#                   $(DATADIR)/python), job files, gnuplot templates, man pages
#   make fleet      INVENTORY=FILE [JOB=check|bench|conform]: the suite on
#                   the hosts of an Ansible inventory (ci/fleet/), their
#                   runs into results/<host>/<release>/<run id>/
#                   [QUICK=1] [REPEAT=N] [CONFORM_TESTS="PATTERN ..."]
#                   [FLEET_ARGS="ansible-playbook options"]
#   make deb        a Debian package (debian/, dpkg-buildpackage) in build/deb/
#   make dist       the release tarball build/dist/aio-suite-VERSION.tar.gz
#   make format | format-check | lint | clean
#
# V=1 shows the commands.  CC=clang builds with clang.

CC ?= gcc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/aio-suite
MANDIR ?= $(PREFIX)/share/man
PYDIR ?= $(DATADIR)/python
# The interpreter of the installed commands (debian/rules: /usr/bin/python3).
PYTHON_SHEBANG ?= /usr/bin/env python3
# Byte-compile the installed package (debian/rules: 0, py3compile does it).
PYCOMPILE ?= 1
BUILD ?= build

ifeq ($(V),1)
Q :=
msg_ = @true
else
Q := @
msg_ = @printf '  %-7s %s\n'
endif

CSTD := -std=gnu11
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
OPT ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Isrc/lib
CFLAGS += $(CSTD) $(OPT) $(WARN) -MMD -MP
LDLIBS += -lpthread -lm

# Optional libraries: a whole engine file is compiled in or out.
probe_lib = $(shell echo 'int main(void){return 0;}' | \
	$(CC) -x c -include $(1) - -o /dev/null $(2) >/dev/null 2>&1 && echo 1)
HAVE_LIBURING := $(call probe_lib,liburing.h,-luring)
HAVE_BLKID := $(call probe_lib,blkid/blkid.h,-lblkid)

LIB_SRC := $(sort $(wildcard src/lib/*.c))
ifeq ($(HAVE_LIBURING),1)
CPPFLAGS += -DHAVE_LIBURING=1
LDLIBS += -luring
LIB_SRC := $(filter-out src/lib/io_uring_stub.c,$(LIB_SRC))
else
LIB_SRC := $(filter-out src/lib/io_uring.c,$(LIB_SRC))
endif
ifeq ($(HAVE_BLKID),1)
CPPFLAGS += -DHAVE_BLKID=1
LDLIBS += -lblkid
LIB_SRC := $(filter-out src/lib/blkid_stub.c,$(LIB_SRC))
else
LIB_SRC := $(filter-out src/lib/blkid.c,$(LIB_SRC))
endif

# The config step: $(BUILD)/config.h says which liburing calls compile
# (src/lib/config.sh probes; uring_compat.h fills in the rest).  It runs
# on every build and rewrites the file only when an answer changes.
# CONFIG_WITHOUT="IO_URING_ENTER ..." builds the fallbacks of an old liburing.
CPPFLAGS += -I$(BUILD)
CONFIG_H := $(BUILD)/config.h

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libaiosuite.a

STRESS_SRC := $(sort $(wildcard src/aio-stress/*.c))
STRESS_OBJ := $(STRESS_SRC:%.c=$(BUILD)/%.o)
CONFORM_SRC := $(sort $(wildcard src/conformance/*.c))
CONFORM_OBJ := $(CONFORM_SRC:%.c=$(BUILD)/%.o)
TOOLS_SRC := $(sort $(wildcard src/tools/*.c))
TOOLS_BIN := $(TOOLS_SRC:src/tools/%.c=$(BUILD)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers of the tests (not installed): tests/tools/NAME.c -> build/tests/NAME
TTOOLS_SRC := $(sort $(wildcard tests/tools/*.c))
TTOOLS_BIN := $(TTOOLS_SRC:tests/tools/%.c=$(BUILD)/tests/%)

BINS := $(BUILD)/aio-stress $(BUILD)/aio-conform $(TOOLS_BIN)

.SECONDARY:

.PHONY: FORCE all deps check bench bench-overhead install uninstall format \
	format-check lint clean unit study report kernels check-old-distro deb dist \
	mutants calibrate fleet

all: $(BINS) $(UNIT_BIN) $(TTOOLS_BIN)

$(BUILD)/%.o: %.c | $(CONFIG_H)
	$(msg_) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(CONFIG_H): FORCE
	@mkdir -p $(@D)
	$(Q)CC="$(CC)" CPPFLAGS="$(CPPFLAGS)" LDFLAGS="$(LDFLAGS)" \
		HAVE_LIBURING="$(HAVE_LIBURING)" CONFIG_WITHOUT="$(CONFIG_WITHOUT)" \
		sh src/lib/config.sh $@

FORCE:

$(LIB): $(LIB_OBJ)
	$(msg_) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/aio-stress: $(STRESS_OBJ) $(LIB)
	$(msg_) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/aio-conform: $(CONFORM_OBJ) $(LIB)
	$(msg_) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%: $(BUILD)/src/tools/%.o $(LIB)
	$(msg_) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIB)
	$(msg_) LD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o
	$(msg_) LD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	$(Q)./ci/deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/run-all.sh

unit: all
	$(Q)./tests/run-all.sh unit

# make check-old-distro: the tree in a Debian 11 chroot (ci/old-distro.sh)
check-old-distro:
	$(Q)./tests/run-all.sh old-distro

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 -m aiosuite.bench $(if $(QUICK),--quick) $(if $(REPEAT),--repeat $(REPEAT)) \
		$(if $(TARGET_PCT),--target-pct $(TARGET_PCT)) $(if $(BUDGET_S),--budget-s $(BUDGET_S)) \
		$(if $(FIO_CLIENTS),--fio-clients '$(FIO_CLIENTS)')

bench-overhead: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 -m aiosuite.bench.overhead

# make study S=blocking [QUICK=1] [REPEAT=N|auto [TARGET_PCT=5] [BUDGET_S=3600]]:
# one scenario study (or S=all)
study: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 -m aiosuite.study $(if $(QUICK),--quick) $(if $(REPEAT),--repeat $(REPEAT)) \
		$(if $(TARGET_PCT),--target-pct $(TARGET_PCT)) $(if $(BUDGET_S),--budget-s $(BUDGET_S)) \
		$(if $(FIO_CLIENTS),--fio-clients '$(FIO_CLIENTS)') $(or $(S),all)

# make report [BASELINE=release]: compare every run in results/
report:
	$(Q)python3 -m aiosuite.report $(if $(BASELINE),--baseline $(BASELINE))

# make calibrate [QUICK=1]: the detection rates and false alarms on this
# machine (aiosuite/calibrate; TRIALS=N ROUNDS=N change the defaults;
# HISTORY=1 judges each run with the earlier trials as its history)
calibrate: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 -m aiosuite.calibrate $(if $(QUICK),--quick) $(if $(TRIALS),--trials $(TRIALS)) \
		$(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(HISTORY),--history)

# make kernels [KERNELS="6.1 6.12"] [KERNEL=bzImage MODULES=dir]
kernels: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 ci/kernels.py $(if $(KERNELS),--releases "$(KERNELS)") \
		$(if $(KERNEL),--kernel $(KERNEL)) $(if $(MODULES),--modules $(MODULES))

# make mutants [MUTANTS="001 017"]: build the mutants' kernel in the cache,
# run each mutant in qemu, write results/mutants/<release>/summary.json
mutants: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)python3 ci/mutants.py $(if $(MUTANTS),--only "$(MUTANTS)")
	$(Q)python3 tools/mutants_table.py

# make fleet INVENTORY=FILE [JOB=check|bench|conform]: ci/fleet/fleet.yml
# (Ansible) on the inventory's hosts; docs/FLEET.md
fleet:
	$(Q)QUICK='$(QUICK)' REPEAT='$(REPEAT)' CONFORM_TESTS='$(CONFORM_TESTS)' \
		./ci/fleet/run.sh '$(INVENTORY)' '$(or $(JOB),check)' $(FLEET_ARGS)

# Man pages, written in roff (man(7)): man/NAME.1 and man/aio-suite.7.
MAN1 := $(sort $(wildcard man/*.1))
MAN7 := $(sort $(wildcard man/*.7))

# The Python commands: aio-NAME runs python3 -m aiosuite.NAME from $(PYDIR),
# where aiosuite/installed.json tells the package where the binaries, job
# files and templates are (aiosuite/store.py); results go to the user's
# data directory, never here.
PY_COMMANDS := aio-study aio-report aio-bench aio-calibrate
PY_PKG := $(sort $(shell find aiosuite -name '*.py'))
PLOTS := $(sort $(wildcard plots/*.gp))

install: $(BINS)
	$(msg_) INSTALL $(DESTDIR)$(BINDIR)
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/jobs $(DESTDIR)$(DATADIR)/plots
	$(Q)install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	$(Q)if ls jobs/*.fio >/dev/null 2>&1; then \
		install -m 0644 jobs/*.fio $(DESTDIR)$(DATADIR)/jobs/; fi
	$(Q)install -m 0644 $(PLOTS) $(DESTDIR)$(DATADIR)/plots/
	$(Q)for f in $(PY_PKG); do \
		install -D -m 0644 $$f $(DESTDIR)$(PYDIR)/$$f || exit 1; done
	$(Q)printf '{"bin": "%s", "data": "%s", "commands": "%s"}\n' \
		'$(BINDIR)' '$(DATADIR)' '$(BINDIR)' >$(DESTDIR)$(PYDIR)/aiosuite/installed.json
	$(Q)if [ "$(PYCOMPILE)" = 1 ] && command -v python3 >/dev/null; then \
		python3 -m compileall -q -d '$(PYDIR)' $(DESTDIR)$(PYDIR) >/dev/null; fi
	$(Q)for c in $(PY_COMMANDS); do \
		sed -e 's|@PYTHON@|$(PYTHON_SHEBANG)|' -e 's|@PYDIR@|$(PYDIR)|' \
			-e "s|@NAME@|$$c|" -e "s|@MODULE@|aiosuite.$${c#aio-}|" \
			tools/aio-command.in >$(DESTDIR)$(BINDIR)/$$c && \
		chmod 0755 $(DESTDIR)$(BINDIR)/$$c || exit 1; done
	$(Q)install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	$(Q)install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(Q)install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	$(Q)rm -f $(BINS:$(BUILD)/%=$(DESTDIR)$(BINDIR)/%) \
		$(PY_COMMANDS:%=$(DESTDIR)$(BINDIR)/%)
	$(Q)rm -rf $(DESTDIR)$(DATADIR)
	$(Q)rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) \
		$(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)

# make deb: build/deb/aio-suite_VERSION_ARCH.deb (debian/, dpkg-buildpackage,
# then lintian); make dist: build/dist/aio-suite-VERSION.tar.gz (git archive
# of HEAD).  ci/package.sh does both.
deb:
	$(Q)./ci/package.sh deb $(BUILD)/deb

dist:
	$(Q)./ci/package.sh dist $(BUILD)/dist

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find src tests -name '*.[ch]')

format:
	$(Q)clang-format -i $(C_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(C_FILES)

PY_FILES = $(shell git ls-files '*.py' 2>/dev/null)
SH_FILES = $(shell git ls-files '*.sh' '*.bash' .ci/run 2>/dev/null)

lint: format-check
	$(Q)for f in $(PY_FILES); do python3 -c 'import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' $$f || exit 1; done
	$(Q)for f in $(SH_FILES); do bash -n $$f || exit 1; done
	$(Q)if command -v mypy >/dev/null; then \
		mypy --strict --ignore-missing-imports --no-error-summary aiosuite tools/*.py ci/*.py ci/fleet/*.py; \
	else echo "lint: mypy is not installed (apt-get install mypy): types not checked"; fi
	$(Q)echo "lint: $(words $(C_FILES)) C, $(words $(PY_FILES)) Python, $(words $(SH_FILES)) shell files clean"

clean:
	$(Q)rm -rf $(BUILD)
