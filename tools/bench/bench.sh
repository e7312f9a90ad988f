#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench`:
#
#   sh bench.sh [--rounds R] [qda-bench arguments]
#
# Runs qda-bench against qda.ko and against the upstream fastrpc.ko bound to
# the same mock DSP in the same boot, in R alternating rounds (default 5):
# each round loads one driver, measures, unloads it, then the other; qda
# goes first in odd rounds, fastrpc in even ones, so that a drift of the
# host or the guest over the boot weighs on both drivers alike. Round 1
# measures everything: buffer allocation and memory figures, remote calls
# on the test skel (round trip, the mock DSP's share and the driver's
# overhead; qda-bench checks every result) and calls/s from several
# threads and processes; rounds 2..R the remote calls and the calls/s only
# (qda-bench --calls). Each half is judged on its own: protocol violations
# counted by the mock and kernel problems in dmesg fail the run. The other
# arguments are passed on to qda-bench: the iteration count, or
# "--alloc-only" (one round of allocations per call only, on a kernel with
# fail-nth: the short debug-kernel boot that follows a prod one).
#
# The output of half d of round r is printed as it is and kept in
# /tmp/<d>.<r>.out; the table at the end has, per figure, the median of
# each driver over the rounds that have it, their ratio (qda / fastrpc)
# and the smallest and largest ratio of one round's own figures (qda of
# round i / fastrpc of round i), the spread that the medians hide.
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
# and the flood would push everything else out of the kernel log; so each
# half is judged on its own, its log then cleared, and those warnings are
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
		echo "FAIL: mock DSP protocol violations during the $1: ${v0:-?} -> ${v:-?}"
		st=1
	fi
}
# The half of round $1 with driver $2: load it, qda-bench $2 with the other
# arguments, unload it, judge it. Non-zero when the rounds cannot go on (a
# driver that does not load or unload, or a kernel problem: then its log is
# left in dmesg, for qda-vm to report).
half() {
	r=$1
	drv=$2
	shift 2
	echo "== round $r/$rounds: $drv"
	if ! insmod $drv.ko; then
		echo "FATAL: $drv.ko failed to load"
		st=1
		return 1
	fi
	v0=$(violations)
	./qda-bench $drv "$@" > /tmp/$drv.$r.out 2>&1 || st=1
	cat /tmp/$drv.$r.out
	check_violations "$drv half of round $r"
	if ! rmmod $drv; then
		echo "FATAL: $drv.ko failed to unload"
		st=1
		return 1
	fi
	if problems; then
		echo "FAIL: kernel problems during the $drv half of round $r (above); no more rounds"
		st=1
		return 1
	fi
	dmesg | grep -Eq "$known_mmap" && dropped_mmap=1
	dmesg | grep -q 'DMA-API: qcom,fastrpc-cb' && dropped_seg=1
	dmesg -c > /dev/null
	return 0
}

rounds=5
if [ "$1" = --rounds ]; then
	rounds=$2
	shift 2
fi
case "$rounds" in
'' | *[!0-9]* | 0*)
	echo "FATAL: bad round count '$rounds'"
	exit 2
	;;
esac
for a in "$@"; do
	[ "$a" = --alloc-only ] && rounds=1
done

# Under TCG every console line costs time: keep kernel messages in the log
# only, so that warnings printed by one driver do not skew its timings.
echo 1 > /proc/sys/kernel/printk
insmod qda_mock_dsp.ko || { echo "FATAL: mock DSP failed to load"; exit 1; }
# fastrpc.ko needs qcom-scm.
for m in qcom_tzmem qcom_pas qcom-scm; do
	insmod $m.ko || { echo "FATAL: $m failed to load"; exit 1; }
done

t0=$(date +%s)
r=1
while [ $r -le $rounds ]; do
	calls=
	[ $r -gt 1 ] && calls=--calls
	order="qda fastrpc"
	[ $((r % 2)) = 0 ] && order="fastrpc qda"
	for d in $order; do
		half $r $d $calls "$@" || break 2
	done
	echo "== round $r/$rounds done: $(($(date +%s) - t0)) s"
	r=$((r + 1))
done
rmmod qda_mock_dsp || st=1

[ -n "$dropped_mmap" ] &&
	echo "note: upstream fastrpc.ko warned in fastrpc_mmap (dma_resv_assert_held); dropped"
[ -n "$dropped_seg" ] &&
	echo "note: upstream fastrpc.ko mapped a 1 MiB sg segment on a context bank limited to 64 KiB (DMA-API debug, zero-copy invoke); dropped"

echo "== qda / fastrpc (kernel $(uname -r))"
echo "$rounds round(s): qda, fastrpc = median of the rounds; ratio = of the medians; per round = min-max of one round's qda / fastrpc, (k/n): k of n rounds had both"
awk '
# "<drv> <metric>: mean M us p50 P p99 Q (n=N)", "<drv> <metric>: B bytes ...",
# "<drv> <metric>: R calls/s ..." or "<drv> <metric>: A allocations/call ...";
# the rows of the DSP share and driver overhead ("... dsp", "... driver")
# without their mean. A figure "-" (below the clock step, or no figure in
# that round) counts in no median and no ratio; a negative one (memory
# the rest of the system gave back while it was measured) in no ratio.
/^(qda|fastrpc) [^:]*: / {
	drv = $1
	c = index($0, ": ")
	metric = substr($0, length(drv) + 2, c - length(drv) - 2)
	n = split(substr($0, c + 2), f, " ")
	if (f[1] == "mean" && n >= 7) {
		if (metric !~ / (dsp|driver|send|receive)$/)
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
# The round is in the file name, /tmp/<drv>.<round>.out.
function add(drv, key, v,    p, r) {
	split(FILENAME, p, ".")
	r = p[2]
	if (!(key in seen)) {
		seen[key] = 1
		order[nkeys++] = key
	}
	if (!((key, r) in inround)) {
		inround[key, r] = 1
		rnd[key, nr[key]++] = r
	}
	val[drv, key, r] = v
	if (index(v, "."))
		dec[key] = 1
}
function isnum(v) {
	return v != "" && v != "-"
}
# Median of a[1..n], sorted here (insertion sort: n is the round count).
function median(a, n,    i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	printf "%-48s %10s %10s %6s  %s\n", "metric", "qda", "fastrpc", "ratio", "per round"
	for (i = 0; i < nkeys; i++) {
		k = order[i]
		nq = np = nb = 0
		for (j = 0; j < nr[k]; j++) {
			r = rnd[k, j]
			q = val["qda", k, r]
			p = val["fastrpc", k, r]
			if (isnum(q))
				qs[++nq] = q + 0
			if (isnum(p))
				ps[++np] = p + 0
			if (isnum(q) && isnum(p) && q + 0 >= 0 && p + 0 > 0) {
				x = q / p
				if (!nb || x < lo)
					lo = x
				if (!nb || x > hi)
					hi = x
				nb++
			}
		}
		fmt = dec[k] ? "%.1f" : "%.0f"
		mq = mp = "-"
		if (nq)
			mq = sprintf(fmt, xq = median(qs, nq))
		if (np)
			mp = sprintf(fmt, xp = median(ps, np))
		ratio = "-"
		if (nq && np && xq >= 0 && xp > 0)
			ratio = sprintf("%.2f", xq / xp)
		if (!nb)
			spread = "-"
		else if (nr[k] == 1)
			spread = "1 round"
		else
			spread = sprintf("%.2f-%.2f", lo, hi)
		if (nb < nr[k])
			spread = spread sprintf(" (%d/%d)", nb, nr[k])
		printf "%-48s %10s %10s %6s  %s\n", k, mq, mp, ratio, spread
	}
}' /dev/null $(ls /tmp/qda.*.out /tmp/fastrpc.*.out 2>/dev/null)
exit $st
