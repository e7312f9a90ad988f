#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench`: runs qda-bench against qda.ko, then against the
# upstream fastrpc.ko bound to the same mock DSP in the same boot, and prints
# a qda/fastrpc ratio table: buffer allocation and memory figures, remote
# calls on the test skel (round trip, the mock DSP's share and the driver's
# overhead; qda-bench checks every result), calls/s from several threads
# and processes, and, on a kernel with fail-nth (the debug kernel),
# allocations per call. Arguments are passed on to qda-bench
# ("--alloc-only": only the allocation counts, the short debug-kernel boot
# that follows a prod one).
#
# First the guest's clock (qda-clock, tools/selftests/qda_clock.h): on a
# jiffies clocksource no figure would mean anything, so the run stops there
# with a non-zero status; qda-bench checks it again for each half.
st=0
echo "== clock"
if ! ./qda-clock; then
	echo "FAIL: the guest's clock cannot time anything: no figures (see \"The guest's clock\" in Documentation/accel/qda/testing.rst)"
	exit 1
fi
# The kernel problems qda-vm looks for in dmesg.
bad='WARNING:|BUG:|kernel BUG at|possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage|INFO: |KFENCE:|new suspected memory leak|unreferenced object|Oops|general protection fault|Kernel panic|UBSAN:|refcount_t:|list_add corruption|list_del corruption|DMA-API:'
# fastrpc.ko of this kernel asserts the dma-buf reservation lock in its mmap
# callback, which the dma-buf core does not hold there: one lockdep WARNING
# per mmap of its buffers. That is upstream's, not something measured here,
# and the flood would push everything else out of the kernel log; so the
# qda half is judged before the fastrpc half starts, and those warnings are
# dropped when they are the only complaints (kmemleak runs after this script).
known_mmap='WARNING: drivers/misc/fastrpc.c:[0-9]* at fastrpc_mmap'
# Second one, on the zero-copy invoke: fastrpc_cb_probe() sets no DMA max
# segment size on its context banks (so 64 KiB), yet its own dma-buf exporter
# hands them a single-segment sg table (dma_get_sgtable() of coherent memory)
# that fastrpc_map_attach() maps whole: CONFIG_DMA_API_DEBUG complains once
# for the 1 MiB segment, then warns.
known_seg='DMA-API: qcom,fastrpc-cb [^ ]*: mapping sg segment longer than device claims to support|WARNING: kernel/dma/debug.c:[0-9]* at debug_dma_map_sg'
known="$known_mmap|$known_seg"
problems() {
	dmesg | grep -E "$bad" | grep -Ev "$known" |
		grep -Ev 'DMA-API: (preallocated|debugging enabled|debugging disabled on kernel command line)' | grep .
}
# Protocol violations the mock DSP has counted on the cdsp channel so far.
violations() {
	sed -n 's/^cdsp .*violations=\([0-9]*\).*/\1/p' \
		/sys/kernel/debug/qda_mock_dsp/status
}
# Fails the run when the DSP side saw violations during half $1.
check_violations() {
	v=$(violations)
	if [ "${v:-x}" != "${v0:-y}" ]; then
		echo "FAIL: mock DSP protocol violations during the $1 half: ${v0:-?} -> ${v:-?}"
		st=1
	fi
}
# Under TCG every console line costs time: keep kernel messages in the log
# only, so that warnings printed by one driver do not skew its timings.
echo 1 > /proc/sys/kernel/printk
insmod qda_mock_dsp.ko || { echo "FATAL: mock DSP failed to load"; exit 1; }
# fastrpc.ko needs qcom-scm.
for m in qcom_tzmem qcom_pas qcom-scm; do
	insmod $m.ko || { echo "FATAL: $m failed to load"; exit 1; }
done

echo "== qda"
if insmod qda.ko; then
	v0=$(violations)
	./qda-bench qda "$@" > /tmp/qda.out || st=1
	cat /tmp/qda.out
	check_violations qda
	rmmod qda || st=1
	if problems; then
		echo "FAIL: kernel problems during the qda half (above)"
		st=1
	fi
	dmesg -c > /dev/null
else
	echo "FATAL: qda.ko failed to load"
	st=1
fi

echo "== fastrpc"
if insmod fastrpc.ko; then
	v0=$(violations)
	./qda-bench fastrpc "$@" > /tmp/fastrpc.out || st=1
	cat /tmp/fastrpc.out
	check_violations fastrpc
	rmmod fastrpc || st=1
else
	echo "FATAL: fastrpc.ko failed to load"
	st=1
fi
rmmod qda_mock_dsp || st=1

if [ "$(dmesg | grep -Ec "$known")" -gt 0 ] && ! problems; then
	dmesg | grep -Eq "$known_mmap" &&
		echo "note: upstream fastrpc.ko warned in fastrpc_mmap (dma_resv_assert_held); dropped"
	dmesg | grep -q 'DMA-API: qcom,fastrpc-cb' &&
		echo "note: upstream fastrpc.ko mapped a 1 MiB sg segment on a context bank limited to 64 KiB (DMA-API debug, zero-copy invoke); dropped"
	dmesg -c > /dev/null
fi

echo "== qda / fastrpc (kernel $(uname -r))"
touch /tmp/qda.out /tmp/fastrpc.out
awk '
# "<drv> <metric>: mean M us p50 P p99 Q (n=N)", "<drv> <metric>: B bytes ...",
# "<drv> <metric>: R calls/s ..." or "<drv> <metric>: A allocations/call ...";
# the rows of the DSP share and driver overhead ("... dsp", "... driver")
# without their mean.
/^(qda|fastrpc) [^:]*: / {
	drv = $1
	c = index($0, ": ")
	metric = substr($0, length(drv) + 2, c - length(drv) - 2)
	n = split(substr($0, c + 2), f, " ")
	if (f[1] == "mean" && n >= 7) {
		if (metric !~ / (dsp|driver)$/)
			add(drv, metric " mean (us)", f[2])
		add(drv, metric " p50 (us)", f[5])
		add(drv, metric " p99 (us)", f[7])
	} else if (f[2] == "bytes") {
		add(drv, metric " (bytes)", f[1])
	} else if (f[2] == "calls/s") {
		add(drv, metric " (calls/s)", f[1])
	} else if (f[2] == "allocations/call") {
		add(drv, metric " (allocs/call)", f[1])
	}
}
function add(drv, key, v) {
	if (!(key in seen)) {
		seen[key] = 1
		order[nkeys++] = key
	}
	val[drv, key] = v
}
END {
	printf "%-48s %12s %12s %8s\n", "metric", "qda", "fastrpc", "ratio"
	for (i = 0; i < nkeys; i++) {
		k = order[i]
		q = ((("qda", k) in val) ? val["qda", k] : "-")
		r = ((("fastrpc", k) in val) ? val["fastrpc", k] : "-")
		ratio = "-"
		if (q != "-" && r != "-" && r + 0 != 0)
			ratio = sprintf("%.2f", q / r)
		printf "%-48s %12s %12s %8s\n", k, q, r, ratio
	}
}' /tmp/qda.out /tmp/fastrpc.out
exit $st
