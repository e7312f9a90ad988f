#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make fuzz` (run by tools/run-fuzz inside tools/qda-vm):
# loads the mock DSP and qda.ko with short kernel-call timeouts, runs
# qda_fuzz with the arguments given and shows what the mock DSP saw.
export QDA_MODDIR=$PWD
echo "== clock"
./qda-clock
insmod qda_mock_dsp.ko || { echo "FATAL: mock DSP failed to load"; exit 1; }
# Every lost answer to a kernel-made call costs kernel_timeout_ms.
insmod qda.ko kernel_timeout_ms=500 || { echo "FATAL: qda.ko failed to load"; exit 1; }
echo "== qda_fuzz $*"
./qda_fuzz "$@"
st=$?
echo "== mock DSP status"
cat /sys/kernel/debug/qda_mock_dsp/status
# A stray fuzzer process would keep qda.ko in use (and rmmod of the mock
# would then wait for it forever): none may be left.
killall -9 qda_fuzz 2>/dev/null && { echo "# qda_fuzz left processes behind"; st=1; sleep 1; }
echo "== unload"
if ! rmmod qda; then
	echo "FAIL: qda.ko still in use after the fuzzer"
	ps
	exit 1
fi
rmmod qda_mock_dsp || st=1
exit $st
