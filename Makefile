# loong: build the runtime (once per CPython 3.8+ found), the toolkits (once
# for all), the loong command, and run the tests.
#
#   make                 build everything into build/ (a relocatable prefix)
#   make test            C unit tests + end-to-end tests on every CPython found
#   make SANITIZE=1 test the same, built with ASan + UBSan (into build-san/)
#   make install PREFIX=/usr/local DESTDIR=
#   make bench           overhead benchmarks (see bench/RESULTS.md)
#   make stress          attach stress: 500 cycles and 200 kills of loong
#                        per CPython (STRESS_PYTHON=python3.12 for one)
#   make cross-check-aarch64  compile for aarch64 all that needs no Python
#                        headers, with -Werror, and link its loong
#   make test-aarch64-stub    run the aarch64 attach stub under qemu-aarch64

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?= 0
PYTEST_ARGS ?=
# Debian's own python3 drives the end-to-end tests (pytest comes from Debian).
TEST_PYTHON ?= /usr/bin/python3

ifeq ($(SANITIZE),1)
B ?= build-san
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
else
B ?= build
SAN_FLAGS =
endif

CSTD = -std=c11 -D_GNU_SOURCE
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
OPT ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SAN_FLAGS) -fPIC -fvisibility=hidden \
             -pthread -Iinclude -Isrc $(CFLAGS)
LDFLAGS_ALL = $(SAN_FLAGS) -pthread $(LDFLAGS)

.SECONDEXPANSION:

LIBDIR = $(B)/lib/loong
PYPKG = $(LIBDIR)/python

# "X.Y:/path/python" words; override with LOONG_PYTHONS="python3.12 ..."
PY_LINES := $(shell tools/find-pythons | tr ' ' :)
PY_VERSIONS := $(foreach l,$(PY_LINES),$(word 1,$(subst :, ,$(l))))

COMMON_SRCS := $(wildcard src/common/*.c)
COMMON_OBJS := $(COMMON_SRCS:src/%.c=$(B)/obj/%.o)
CLI_SRCS := $(wildcard src/cli/*.c)
CLI_OBJS := $(CLI_SRCS:src/%.c=$(B)/obj/%.o)
RUNTIME_SRCS := $(wildcard src/runtime/*.c)
TOOLKITS := $(filter-out shared,$(notdir $(wildcard src/toolkits/*)))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
PY_FILES := $(wildcard python/loong/*.py) python/sitecustomize.py
PY_OUT := $(PY_FILES:python/%=$(PYPKG)/%)
HEADERS := $(wildcard include/loong/*.h)

.PHONY: all runtimes toolkits cli python headers unit e2e test check agent \
        install clean bench demo valgrind stress cross-check-aarch64 \
        test-aarch64-stub

all: cli toolkits runtimes python headers agent

# ---- common + CLI --------------------------------------------------------

$(B)/obj/%.o: src/%.c $(HEADERS) $(wildcard src/common/*.h src/cli/*.h src/agent/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# ---- the report template (report/), built into loong ---------------------

# tools/embed writes the files as C arrays (report_html, report_css,
# report_js and their _len), so `loong report` needs nothing installed.
REPORT_ASSETS := report/report.html report/report.css report/report.js
REPORT_ASSETS_C := $(B)/gen/report_assets.c
REPORT_ASSETS_OBJ := $(B)/obj/gen/report_assets.o

$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $<

$(REPORT_ASSETS_C): $(REPORT_ASSETS) $(B)/tools/embed
	@mkdir -p $(dir $@)
	$(B)/tools/embed $@ report_html=report/report.html \
	    report_css=report/report.css report_js=report/report.js

$(REPORT_ASSETS_OBJ): $(REPORT_ASSETS_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

cli: $(B)/bin/loong
$(B)/bin/loong: $(CLI_OBJS) $(COMMON_OBJS) $(REPORT_ASSETS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ldl -lm

# ---- loongd, the host agent (src/agent; libcurl and zlib) ---------------

AGENT_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(wildcard src/agent/*.c))
agent: $(B)/bin/loongd
$(B)/bin/loongd: $(AGENT_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lcurl -lz -lm
TEST_OBJS_test_agent_validate = $(B)/obj/agent/validate.o
TEST_OBJS_test_agent_queue = $(B)/obj/agent/queue.o $(B)/obj/agent/spool.o

# ---- toolkits: compiled WITHOUT Python's include path -------------------

# libraries a toolkit links with (Debian -dev packages)
TOOLKIT_LIBS_function = -lz
TOOLKIT_LIBS_mem = -ldl

toolkits: $(TOOLKITS:%=$(LIBDIR)/toolkits/%.so)
# src/toolkits/shared: text output helpers linked into each bundled one
TOOLKIT_SHARED := $(wildcard src/toolkits/shared/*.c src/toolkits/shared/*.h)
$(LIBDIR)/toolkits/%.so: $(HEADERS) $(TOOLKIT_SHARED) \
                         $$(wildcard src/toolkits/$$*/*.c src/toolkits/$$*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SAN_FLAGS) -fPIC -fvisibility=hidden \
	    -pthread -Iinclude -Isrc/toolkits $(CFLAGS) -shared -o $@ \
	    $(filter %.c,$^) $(LDFLAGS_ALL) $(TOOLKIT_LIBS_$*)

# ---- runtime: one build per CPython minor -------------------------------

define RUNTIME_RULES
RT_INC_$(1) := $$(shell $(2) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
RT_EXT_$(1) := $$(shell $(2) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
RT_OBJS_$(1) := $$(RUNTIME_SRCS:src/runtime/%.c=$(B)/obj/runtime-$(1)/%.o) \
                $(COMMON_OBJS)
RT_SO_$(1) := $(PYPKG)/loong/_runtime$$(RT_EXT_$(1))
RUNTIME_SOS += $$(RT_SO_$(1))
$(B)/obj/runtime-$(1)/%.o: src/runtime/%.c $$(wildcard src/runtime/*.h src/common/*.h) $(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_ALL) -I$$(RT_INC_$(1)) -c $$< -o $$@
$$(RT_SO_$(1)): $$(RT_OBJS_$(1))
	@mkdir -p $$(dir $$@)
	$$(CC) -shared $$(LDFLAGS_ALL) -o $$@ $$^ -ldl
endef

$(foreach l,$(PY_LINES),$(eval $(call RUNTIME_RULES,$(word 1,$(subst :, ,$(l))),$(word 2,$(subst :, ,$(l))))))

runtimes: $(RUNTIME_SOS)
	@if [ -z "$(PY_VERSIONS)" ]; then \
	    echo "loong: no CPython 3.8+ with headers found; no runtime built"; fi

# ---- python package and bootstrap ---------------------------------------

python: $(PY_OUT)
$(PYPKG)/%: python/%
	@mkdir -p $(dir $@)
	cp $< $@

headers: $(HEADERS:%=$(B)/%)
$(B)/include/%: include/%
	@mkdir -p $(dir $@)
	cp $< $@

# ---- tests ---------------------------------------------------------------

# objects a unit test links besides the common ones
TEST_OBJS_test_report = $(B)/obj/cli/report_data.o $(B)/obj/cli/report_json.o \
                        $(B)/obj/cli/report_page.o $(REPORT_ASSETS_OBJ)
TEST_OBJS_test_report_mem = $(B)/obj/cli/report_mem.o $(B)/obj/cli/report_json.o
TEST_OBJS_test_alloc_thread = $(B)/obj/runtime/alloc_thread.o

$(B)/tests/%: tests/unit/%.c $(COMMON_OBJS) $$(TEST_OBJS_$$*) $(HEADERS) \
              $(wildcard tests/unit/*.h src/cli/report.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(TEST_OBJS_$*) $(COMMON_OBJS) \
	    $(LDFLAGS_ALL) -ldl -lm

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

e2e: all
	LOONG_BUILD=$(abspath $(B)) LOONG_SANITIZE=$(SANITIZE) \
	    $(TEST_PYTHON) -m pytest -q tests/e2e $(PYTEST_ARGS)

test: unit e2e
check: test

# Attach/load/unload/detach cycles and SIGKILLs of loong mid-attach on one
# process per CPython (tests/stress/attach_stress.py; a short version runs
# in `make test`).
STRESS_CYCLES ?= 500
STRESS_KILLS ?= 200
STRESS_PYTHON ?=
stress: all
	LOONG_BUILD=$(abspath $(B)) $(TEST_PYTHON) tests/stress/attach_stress.py \
	    --cycles $(STRESS_CYCLES) --kills $(STRESS_KILLS) \
	    $(if $(STRESS_PYTHON),--python $(STRESS_PYTHON))

# Unit tests and profiled programs on every CPython under valgrind memcheck.
valgrind: all $(UNIT_BINS)
	tests/valgrind.sh $(B)

# ---- install -------------------------------------------------------------

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/loong \
	    $(DESTDIR)$(PREFIX)/include/loong
	cp $(B)/bin/loong $(DESTDIR)$(PREFIX)/bin/loong
	cp $(B)/bin/loongd $(DESTDIR)$(PREFIX)/bin/loongd
	cp -R $(LIBDIR)/. $(DESTDIR)$(PREFIX)/lib/loong/
	cp include/loong/*.h $(DESTDIR)$(PREFIX)/include/loong/

# Profile a demo program with the function and example toolkits, into
# ./loong-out, and show what was written.
LOONG ?= $(B)/bin/loong
DEMO_PYTHON ?= $(word 2,$(subst :, ,$(lastword $(PY_LINES))))
demo: all
	@if [ -z "$(DEMO_PYTHON)" ]; then echo "no CPython 3.8+ found"; exit 1; fi
	rm -rf loong-out/threads-*
	$(LOONG) run -t function -t example -- $(DEMO_PYTHON) \
	    tests/programs/threads.py 4 20000
	@d=$$(ls -d loong-out/threads-* | tail -1); \
	  echo; echo "== $$d"; ls $$d; \
	  echo; echo "== $$d/function.tsv (where the time went, most self time first)"; \
	  head -8 $$d/function.tsv | cut -f1-6; \
	  echo; echo "== $$d/metrics.lp (InfluxDB line protocol)"; head -5 $$d/metrics.lp; \
	  echo; echo "== $$d/meta.json"; cat $$d/meta.json; \
	  echo; echo "== the report: open it in a browser"; $(LOONG) report $$d

bench: all
	$(TEST_PYTHON) bench/run.py

clean:
	rm -rf build build-san

# ---- fuzzing: libFuzzer on the line protocol encoder (needs clang) -------

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60

$(B)/fuzz/fuzz_lp: tests/fuzz/fuzz_lp.c src/common/lp.c src/common/lp.h \
                   tests/unit/lp_ref.h $(HEADERS)
	@mkdir -p $(dir $@) $(B)/fuzz/corpus-lp
	$(FUZZ_CC) $(CSTD) $(WARN) -O1 -g \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -Iinclude -Isrc -Itests/unit -o $@ tests/fuzz/fuzz_lp.c \
	    src/common/lp.c -lm

fuzz: $(B)/fuzz/fuzz_lp
	$(B)/fuzz/fuzz_lp -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus-lp

# ---- aarch64: attach compiled for it, its stub run under emulation -------

# Needs Debian's gcc-aarch64-linux-gnu; the stub test also qemu-user. No
# aarch64 machine here: `loong attach` itself is not run on aarch64
# (docs/attach.md). Into $(B)/aarch64/.
AARCH64_CC ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64
A64 = $(B)/aarch64
A64_CFLAGS = $(CSTD) $(WARN) -Werror -O2 -g -fPIC -fvisibility=hidden \
             -pthread -Iinclude
A64_CLI_OBJS := $(CLI_SRCS:src/%.c=$(A64)/obj/%.o) \
                $(COMMON_SRCS:src/%.c=$(A64)/obj/%.o) \
                $(A64)/obj/gen/report_assets.o
A64_TK_OBJS := $(patsubst src/toolkits/%.c,$(A64)/toolkits/%.o,\
                 $(wildcard src/toolkits/*/*.c))

$(A64)/obj/%.o: src/%.c $(HEADERS) $(wildcard src/common/*.h src/cli/*.h)
	@mkdir -p $(dir $@)
	$(AARCH64_CC) $(A64_CFLAGS) -Isrc -c $< -o $@
$(A64)/obj/gen/report_assets.o: $(REPORT_ASSETS_C)
	@mkdir -p $(dir $@)
	$(AARCH64_CC) $(A64_CFLAGS) -c $< -o $@
$(A64)/bin/loong: $(A64_CLI_OBJS)
	@mkdir -p $(dir $@)
	$(AARCH64_CC) -pthread -o $@ $^ -ldl -lm
# Toolkits as they are built: without Python's (or loong's src/) include
# path, with src/toolkits for their shared helpers. zlib.h is taken from
# the build machine's /usr/include (Debian's is the same for every
# architecture) when the cross sysroot has none.
$(A64)/toolkits/%.o: src/toolkits/%.c $(HEADERS) $(TOOLKIT_SHARED) \
                     $$(wildcard $$(dir $$<)*.h)
	@mkdir -p $(dir $@)
	$(AARCH64_CC) $(A64_CFLAGS) -Isrc/toolkits -idirafter /usr/include \
	    -c $< -o $@

cross-check-aarch64: $(A64)/bin/loong $(A64_TK_OBJS)
	@echo "aarch64: loong linked ($(A64)/bin/loong), toolkits compiled;" \
	    "runtime and loongd not built (Python and libcurl headers for" \
	    "aarch64 are not installed)"

$(A64)/tests/stub_test: tests/aarch64/stub_test.c src/cli/inject_stub.c \
                        src/cli/inject_aarch64_frame.c \
                        $(wildcard src/cli/*.h)
	@mkdir -p $(dir $@)
	$(AARCH64_CC) $(A64_CFLAGS) -Isrc -static -o $@ \
	    $(filter %.c,$^)

# Without SVE; with SVE at 128-, 512- and 2048-bit vectors.
test-aarch64-stub: $(A64)/tests/stub_test
	@set -e; for cpu in cortex-a57 max,sve-default-vector-length=16 \
	    max,sve-default-vector-length=64 max,sve-default-vector-length=256; do \
	    echo "== $(QEMU_AARCH64) -cpu $$cpu"; $(QEMU_AARCH64) -cpu $$cpu $<; done
