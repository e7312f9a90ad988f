#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make run`: load the mock DSP and qda.ko, show the driver.
set -e
echo "== the guest's clock (a jiffies one cannot time the calls below)"
./qda-clock || true
echo "== loading the mock DSP (two channels: cdsp with 4 CBs, adsp with 2)"
insmod qda_mock_dsp.ko
echo "== loading qda.ko"
insmod qda.ko
echo "== qda-info"
./qda-info
echo "== stopping the cdsp channel (what a DSP restart looks like)"
echo "stop cdsp" > /sys/kernel/debug/qda_mock_dsp/control
./qda-info
echo "== starting it again"
echo "start cdsp" > /sys/kernel/debug/qda_mock_dsp/control
./qda-info
echo "== a remote call: user PD on the cdsp, test skel, sum and checksum"
./qda-demo cdsp
rmmod qda
rmmod qda_mock_dsp
