#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check` (run by tools/run-tests inside tools/qda-vm):
# loads the mock DSP and qda.ko, reports the KUnit results of the load, runs
# the kselftests (TAP) and unloads everything.
export QDA_MODDIR=$PWD
st=0
# The tests that assert on elapsed times skip on a clock that cannot time
# them (tools/selftests/qda_clock.h); tools/run-tests counts this line.
echo "== clock"
if ./qda-clock; then echo "CLOCK: ok"; else echo "CLOCK: not ok"; fi
insmod qda_mock_dsp.ko || { echo "FATAL: mock DSP failed to load"; exit 1; }
# fastrpc.ko (the upstream C driver, loaded by fastrpc_test) needs qcom-scm.
for m in qcom_tzmem qcom_pas qcom-scm; do
	insmod $m.ko || { echo "FATAL: $m failed to load"; exit 1; }
done
dmesg -c >/dev/null
insmod qda.ko || { echo "FATAL: qda.ko failed to load"; exit 1; }
echo "== kunit"
dmesg | sed -n 's/^\[[^]]*\] //p' | grep -E '^ *(# Subtest:|(not )?ok [0-9]+ )' | sed 's/^/KUNIT: /'
for t in qda_test qda_gem_test qda_rpc_test qda_iommu_test qda_priv_test fastrpc_test; do
	echo "== kselftest $t"
	./$t || st=1
done
# The same remote-call scenarios through both drivers, in this boot.
for d in fastrpc qda; do
	echo "== kselftest xval_test $d"
	./xval_test $d || st=1
done
# The fuzzer for about a minute, seed from tools/run-tests ($1); kernel-made
# calls time out after 500 ms so the answers its faults drop cost little.
# Then the usual load again. A stray fuzzer process would keep qda.ko in
# use: none may be left.
echo "== kselftest qda_fuzz"
if rmmod qda && insmod qda.ko kernel_timeout_ms=500; then
	# A new qda.ko does not know the DSP already has adsp's remote heap
	# (from the suites above) and would hand it over again, which the mock
	# counts as a violation: restart adsp, as a DSP restart would.
	echo "restart adsp" > /sys/kernel/debug/qda_mock_dsp/control
	sleep 2
	./qda_fuzz -s "${1:-0}" -t 60 -n 100000000 || st=1
	killall -9 qda_fuzz 2>/dev/null && { echo "# qda_fuzz left processes behind"; st=1; sleep 1; }
	{ rmmod qda && insmod qda.ko; } || { echo "FATAL: qda.ko reload after qda_fuzz failed"; exit 1; }
else
	echo "not ok 1 qda_fuzz # reloading qda.ko failed"; st=1
fi
# Last: its fail-nth sweep may make dma-debug turn itself off (see
# tools/qda-vm), so every other suite runs with the DMA API checks. It
# reloads qda.ko with a short kernel_timeout_ms and a small max_memory_mb
# and loads it as usual again at its end; should it not get there, the
# usual load is restored here.
echo "== kselftest qda_fault_test"
./qda_fault_test || st=1
if [ -e /tmp/qda-fault-params ]; then
	echo "# qda_fault_test left qda.ko loaded with: $(cat /tmp/qda-fault-params)"
	{ rmmod qda && insmod qda.ko; } || st=1
	rm -f /tmp/qda-fault-params
fi
# What the mock DSP saw over the whole run (translations and faults count
# IOVA resolutions through the CBs' IOMMU domains; 0 without an IOMMU).
echo "== mock DSP status"
cat /sys/kernel/debug/qda_mock_dsp/status
echo "== unload"
rmmod qda || st=1
rmmod qda_mock_dsp || st=1
exit $st
