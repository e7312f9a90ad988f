# SPDX-License-Identifier: GPL-2.0
#
# Developer entry points. Kbuild (the file next to this one) describes the
# module itself; this Makefile drives the kernel's build system for it.
#
#   make run     set up, build, boot a VM with the mock DSP and show the driver
#   make check   set up, build and run every test; ends with "N passed, N failed"
#   make bench   QDA against fastrpc.ko on the prod kernel (BENCH_KERNEL=debug:
#                on the test kernel); tables, then SVG charts under build/bench/
#
#   make fuzz    the seeded ioctl fuzzer in a VM (FUZZ_ITERS, FUZZ_SEED)
#
# Other targets: setup, modules, guest, clippy, fmt, clean.

# x86_64 or arm64 (QEMU virt with an SMMUv3 behind the context banks).
ARCH ?= x86_64
QDA_CACHE ?= $(HOME)/.cache/qda
export QDA_CACHE

# Which cached kernel the modules are built against: debug (the test
# kernel, modules built in place, as make check uses them) or prod (the
# benchmark kernel of tools/kernel/qda-prod.config; the module sources are
# copied to build/prod-<arch>/src and built there, so the two builds, their
# generated bindings and their vermagic never mix).
QDA_KERNEL ?= debug
BUILD := $(CURDIR)/build
ifeq ($(QDA_KERNEL),prod)
ENV_FILE := $(QDA_CACHE)/env-$(ARCH)-prod
MODSRC := $(BUILD)/prod-$(ARCH)/src
else
ENV_FILE := $(QDA_CACHE)/env-$(ARCH)
MODSRC := $(CURDIR)
endif
GUEST := $(BUILD)/guest-$(ARCH)

# Paths of the cached kernel tree, written by tools/setup.
-include $(ENV_FILE)

# Both kernels are built by LLVM (tools/setup); modules must be too.
KMAKE = $(MAKE) -C $(QDA_KSRC) O=$(QDA_KDIR) ARCH=$(ARCH) LLVM=-19 \
	RUST_LIB_SRC=$(QDA_RUST_LIB_SRC) LIBCLANG_PATH=/usr/lib/llvm-19/lib

# Compiler for the static guest programs.
ifeq ($(ARCH),arm64)
GUEST_CC := aarch64-linux-gnu-gcc
else
GUEST_CC := $(CC)
endif

.PHONY: run check fuzz bench bench-vm setup modules guest clippy fmt fmt-check clean

run: setup
	@$(MAKE) --no-print-directory modules guest
	tools/qda-vm run --arch $(ARCH) \
		--add qda.ko --add tools/mock-dsp/qda_mock_dsp.ko \
		--add $(GUEST)/qda-info --add $(GUEST)/qda-demo --add $(GUEST)/qda-clock \
		--add tools/demo.sh -- sh demo.sh

check: setup
	@tools/run-tests --arch $(ARCH)

# The fuzzer (tools/selftests/qda_fuzz.c) for a long run: FUZZ_ITERS ioctls
# from FUZZ_SEED (default: the time); FUZZ_ARGS go to qda_fuzz as they are
# (default 4 processes of 4 threads, the long run of record).
FUZZ_ITERS ?= 1000000
FUZZ_SEED ?= $(shell date +%s)
FUZZ_ARGS ?= -p 4 -j 4
fuzz: setup
	@$(MAKE) --no-print-directory modules guest
	@tools/run-fuzz --arch $(ARCH) --iters $(FUZZ_ITERS) --seed $(FUZZ_SEED) -- $(FUZZ_ARGS)

# Figures for QDA and the upstream fastrpc.ko on the same mock DSP, same
# boot (Documentation/accel/qda/testing.rst, "Benchmarks"). BENCH_KERNEL=prod
# (default) measures on the prod kernel, BENCH_KERNEL=debug on the test
# kernel; then a short boot of the debug kernel (fail-nth exists only
# there) with kmemleak and DMA-API debug off (their own metadata would
# count, and an injected failure disables them) counts allocations per
# call; BENCH_ALLOC=0 skips it. BENCH_ROUNDS alternating rounds of both
# drivers in the one boot (the table has the medians and the spread of the
# rounds); BENCH_ARGS go to qda-bench. The guest output is kept in
# build/bench/, and tools/bench/plot.py draws the charts from it.
BENCH_KERNEL ?= prod
BENCH_ALLOC ?= 1
BENCH_ROUNDS ?= 5
BENCH_OUT := $(BUILD)/bench
bench:
	@QDA_ARCH=$(ARCH) tools/setup
	@if [ "$(BENCH_KERNEL)" = prod ]; then QDA_KERNEL_FLAVOUR=prod QDA_ARCH=$(ARCH) tools/setup; fi
	@$(MAKE) --no-print-directory QDA_KERNEL=debug modules guest
	@if [ "$(BENCH_KERNEL)" = prod ]; then $(MAKE) --no-print-directory QDA_KERNEL=prod modules; fi
	@mkdir -p $(BENCH_OUT)
	@rm -f $(BENCH_OUT)/bench-$(ARCH)-$(BENCH_KERNEL).txt $(BENCH_OUT)/alloc-$(ARCH)-debug.txt
	@st=0; \
	$(MAKE) --no-print-directory QDA_KERNEL=$(BENCH_KERNEL) \
		BENCH_LOG=$(BENCH_OUT)/bench-$(ARCH)-$(BENCH_KERNEL).txt bench-vm || st=1; \
	if [ "$(BENCH_ALLOC)" != 0 ]; then \
		echo "== allocation counts (debug kernel, kmemleak=off dma_debug=off, fail-nth)"; \
		QDA_VM_APPEND="$$QDA_VM_APPEND kmemleak=off dma_debug=off" \
		$(MAKE) --no-print-directory QDA_KERNEL=debug BENCH_MODE=--alloc-only \
			BENCH_LOG=$(BENCH_OUT)/alloc-$(ARCH)-debug.txt bench-vm || st=1; \
	fi; \
	python3 tools/bench/plot.py --out $(BENCH_OUT) \
		--name $(ARCH)-$(BENCH_KERNEL) $(BENCH_OUT)/bench-$(ARCH)-$(BENCH_KERNEL).txt \
		$$(ls $(BENCH_OUT)/alloc-$(ARCH)-debug.txt 2>/dev/null) || st=1; \
	exit $$st

# One boot: tools/bench/bench.sh in the guest of $(QDA_KERNEL), output
# streamed (without the raw samples) and saved whole to $(BENCH_LOG). The
# guest has 1500 s, and 120 s more for every round beyond 5 (a round took
# about 50 s on the debug kernel, under load).
bench-vm:
	@test -n "$(QDA_KDIR)" || { echo "no $(ENV_FILE): run tools/setup" >&2; exit 1; }
	@{ tools/qda-vm run --arch $(ARCH) --kernel $(QDA_KERNEL) \
		--timeout $$((1500 + ($(BENCH_ROUNDS) > 5) * ($(BENCH_ROUNDS) - 5) * 120)) \
		--log $(BUILD)/vm/bench-console.log \
		--add $(MODSRC)/qda.ko --add $(MODSRC)/tools/mock-dsp/qda_mock_dsp.ko \
		--add $(QDA_KDIR)/drivers/misc/fastrpc.ko \
		--add $(QDA_KDIR)/drivers/firmware/qcom/qcom_tzmem.ko \
		--add $(QDA_KDIR)/drivers/firmware/qcom/qcom_pas.ko \
		--add $(QDA_KDIR)/drivers/firmware/qcom/qcom-scm.ko \
		--add $(GUEST)/qda-bench --add $(GUEST)/qda-clock \
		--add tools/bench/bench.sh -- sh bench.sh --rounds $(BENCH_ROUNDS) \
			$(BENCH_MODE) $(BENCH_ARGS); \
		echo $$? > $(BENCH_LOG).rc; } | tee $(BENCH_LOG) | grep -v '^raw '
	@exit $$(cat $(BENCH_LOG).rc)

setup:
	@QDA_KERNEL_FLAVOUR=$(QDA_KERNEL) QDA_ARCH=$(ARCH) tools/setup

# `make modules CLIPPY=1` builds the same module through clippy (its lints
# as warnings); `make check` builds that way once instead of twice.
modules:
	@test -n "$(QDA_KDIR)" || { echo "run 'make setup' first" >&2; exit 1; }
ifneq ($(MODSRC),$(CURDIR))
	@mkdir -p $(MODSRC)
	@git ls-files -z -co --exclude-standard | rsync -a --from0 --files-from=- ./ $(MODSRC)/
endif
	+$(KMAKE) M=$(MODSRC) CONFIG_DRM_ACCEL_QDA=m $(if $(CLIPPY),CLIPPY=1) modules
	+$(KMAKE) M=$(MODSRC)/tools/mock-dsp modules

clippy:
	+$(KMAKE) M=$(CURDIR) CONFIG_DRM_ACCEL_QDA=m CLIPPY=1 modules

RUST_SOURCES = $(wildcard qda_*.rs) $(filter-out sys/qda_sys_generated.rs,$(wildcard sys/*.rs))

fmt:
	rustfmt --edition 2021 --config-path $(QDA_KSRC)/.rustfmt.toml $(RUST_SOURCES)

fmt-check:
	rustfmt --check --edition 2021 --config-path $(QDA_KSRC)/.rustfmt.toml $(RUST_SOURCES)

# Static test programs for the guest, built against the kernel's UAPI
# (installed once into the cached tree by tools/setup). tools/selftests is
# on the include path of every one of them for qda_clock.h, the one clock
# check of everything that measures time.
GUEST_CFLAGS := -static -O2 -Wall -Wextra -Werror -Wno-format-truncation -I$(QDA_HDR) \
	-I$(QDA_HDR)/drm \
	-I$(CURDIR)/uapi -I$(CURDIR)/uapi/drm -I$(QDA_KSRC)/tools/testing/selftests \
	-I$(CURDIR)/tools/selftests
CLOCK_H := tools/selftests/qda_clock.h
GUEST_BINS := $(GUEST)/qda-info $(GUEST)/qda-demo $(GUEST)/qda-clock $(GUEST)/qda_test \
	$(GUEST)/fastrpc_test $(GUEST)/qda_gem_test $(GUEST)/qda_rpc_test $(GUEST)/qda_iommu_test \
	$(GUEST)/qda_priv_test $(GUEST)/qda_fault_test $(GUEST)/qda_fuzz \
	$(GUEST)/xval_test $(GUEST)/qda-bench

guest: $(GUEST_BINS)

$(GUEST)/qda-%: tools/qda-%.c $(CLOCK_H) uapi/drm/qda_accel.h $(ENV_FILE)
	@mkdir -p $(GUEST)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $<

$(GUEST)/qda-bench: tools/bench/qda-bench.c $(CLOCK_H) tools/selftests/qda_common.h \
		tools/selftests/qda_failnth.h uapi/drm/qda_accel.h $(ENV_FILE)
	@mkdir -p $(GUEST)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $< -lpthread

$(GUEST)/%: tools/selftests/%.c tools/selftests/qda_common.h $(CLOCK_H) tools/selftests/qda_gem.h \
		tools/selftests/qda_rpc.h tools/selftests/xval.h tools/selftests/qda_failnth.h \
		uapi/drm/qda_accel.h $(ENV_FILE)
	@mkdir -p $(GUEST)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $< -lpthread

clean:
	rm -rf $(BUILD) proto/target
	-$(KMAKE) M=$(CURDIR) clean
	-$(KMAKE) M=$(CURDIR)/tools/mock-dsp clean
