# SPDX-License-Identifier: GPL-2.0
#
# Developer entry points. Kbuild (the file next to this one) describes the
# module itself; this Makefile drives the kernel's build system for it.
#
#   make run     set up, build, boot a VM with the mock DSP and show the driver
#   make check   set up, build and run every test; ends with "N passed, N failed"
#
#   make fuzz    the seeded ioctl fuzzer in a VM (FUZZ_ITERS, FUZZ_SEED)
#
# Other targets: setup, modules, guest, clippy, fmt, clean.

# x86_64 or arm64 (QEMU virt with an SMMUv3 behind the context banks).
ARCH ?= x86_64
QDA_CACHE ?= $(HOME)/.cache/qda
export QDA_CACHE

ENV_FILE := $(QDA_CACHE)/env-$(ARCH)
BUILD := $(CURDIR)/build
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

.PHONY: run check fuzz bench setup modules guest clippy fmt fmt-check clean

run: setup
	@$(MAKE) --no-print-directory modules guest
	tools/qda-vm run --arch $(ARCH) \
		--add qda.ko --add tools/mock-dsp/qda_mock_dsp.ko \
		--add $(GUEST)/qda-info --add $(GUEST)/qda-demo --add $(GUEST)/qda-clock \
		--add tools/demo.sh -- sh demo.sh

check: setup
	@tools/run-tests --arch $(ARCH)

# The fuzzer (tools/selftests/qda_fuzz.c) for a long run: FUZZ_ITERS ioctls
# from FUZZ_SEED (default: the time); FUZZ_ARGS go to qda_fuzz as they are.
FUZZ_ITERS ?= 1000000
FUZZ_SEED ?= $(shell date +%s)
FUZZ_ARGS ?=
fuzz: setup
	@$(MAKE) --no-print-directory modules guest
	@tools/run-fuzz --arch $(ARCH) --iters $(FUZZ_ITERS) --seed $(FUZZ_SEED) -- $(FUZZ_ARGS)

# Figures for QDA and the upstream fastrpc.ko on the same mock DSP, same boot.
bench: setup
	@$(MAKE) --no-print-directory modules guest
	tools/qda-vm run --arch $(ARCH) --timeout 600 \
		--add qda.ko --add tools/mock-dsp/qda_mock_dsp.ko \
		--add $(QDA_KDIR)/drivers/misc/fastrpc.ko \
		--add $(QDA_KDIR)/drivers/firmware/qcom/qcom_tzmem.ko \
		--add $(QDA_KDIR)/drivers/firmware/qcom/qcom_pas.ko \
		--add $(QDA_KDIR)/drivers/firmware/qcom/qcom-scm.ko \
		--add $(GUEST)/qda-bench --add $(GUEST)/qda-clock \
		--add tools/bench/bench.sh -- sh bench.sh

setup:
	@QDA_ARCH=$(ARCH) tools/setup

# `make modules CLIPPY=1` builds the same module through clippy (its lints
# as warnings); `make check` builds that way once instead of twice.
modules:
	@test -n "$(QDA_KDIR)" || { echo "run 'make setup' first" >&2; exit 1; }
	+$(KMAKE) M=$(CURDIR) CONFIG_DRM_ACCEL_QDA=m $(if $(CLIPPY),CLIPPY=1) modules
	+$(KMAKE) M=$(CURDIR)/tools/mock-dsp modules

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

$(GUEST)/qda-bench: tools/bench/qda-bench.c $(CLOCK_H) uapi/drm/qda_accel.h $(ENV_FILE)
	@mkdir -p $(GUEST)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $<

$(GUEST)/%: tools/selftests/%.c tools/selftests/qda_common.h $(CLOCK_H) tools/selftests/qda_gem.h \
		tools/selftests/qda_rpc.h tools/selftests/xval.h uapi/drm/qda_accel.h $(ENV_FILE)
	@mkdir -p $(GUEST)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $< -lpthread

clean:
	rm -rf $(BUILD) proto/target
	-$(KMAKE) M=$(CURDIR) clean
	-$(KMAKE) M=$(CURDIR)/tools/mock-dsp clean
