// SPDX-License-Identifier: GPL-2.0
/*
 * qda-clock - the guest's clocksource and the step of CLOCK_MONOTONIC, as
 * every QDA program that measures time sees them (tools/selftests/qda_clock.h):
 *
 *   clocksource: tsc (available: tsc hpet acpi_pm); clock_gettime step 150 ns; ...
 *
 * Exit status 1, with a second line giving the reason, when the clock
 * cannot time anything (a jiffies clocksource); make run, make bench and
 * make check print it.
 */
#include <stdio.h>

#include "qda_clock.h"

int main(void)
{
	struct qda_clock c;
	int ret;

	ret = qda_clock_probe(&c);
	qda_clock_print(stdout, &c);
	return ret ? 1 : 0;
}
