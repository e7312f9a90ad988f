/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's clock, as seen by every QDA program that measures time
 * (qda-bench, qda-demo, qda-clock and the kselftests): the clocksource the
 * kernel reads and how finely CLOCK_MONOTONIC moves.
 *
 * An x86_64 guest under TCG whose TSC fails to calibrate and that has no
 * HPET or ACPI PM timer ends up on a jiffies clocksource ("jiffies",
 * "refined-jiffies"): time then moves in steps of the tick (4 ms at
 * HZ=250), and the clock runs slow when ticks are lost on a busy host, so
 * neither a figure nor an assertion on an elapsed time means anything.
 * qda_clock_probe() says so; a benchmark refuses to report, a test skips
 * (QDA_SKIP_WITHOUT_CLOCK()).
 *
 * The resolution that counts is measured: the smallest non-zero difference
 * between back-to-back clock_gettime(CLOCK_MONOTONIC) reads over
 * QDA_CLOCK_SAMPLES tries (the "step"; on a fine clock it is the cost of one
 * read). A time below it cannot be told from zero, so qda_clock_fmt() shows
 * it as "-". clock_getres() is printed but not trusted: without
 * CONFIG_HIGH_RES_TIMERS (the test kernels have none) it reports the tick
 * whatever the clocksource, being the resolution of timers.
 */
#ifndef QDA_CLOCK_H
#define QDA_CLOCK_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QDA_CLOCKSOURCE_DIR	"/sys/devices/system/clocksource/clocksource0"
#define QDA_CLOCK_SAMPLES	64
/* Reads that may return the same time before a try counts as stuck. */
#define QDA_CLOCK_SPINS		(1L << 22)
/* A step this coarse is a tick, whatever the clocksource is called. */
#define QDA_CLOCK_MAX_STEP_NS	1000000LL

struct qda_clock {
	char source[64];	/* current_clocksource, "?" if unreadable */
	char available[256];	/* available_clocksource */
	long long res_ns;	/* clock_getres(CLOCK_MONOTONIC), -1 on error */
	long long step_ns;	/* smallest step seen, -1 if the clock never moved */
	char why[256];		/* empty when the clock can time things */
};

/* Reads QDA_CLOCKSOURCE_DIR/@name without its newline; 0 or -1. */
static inline int qda_clock_read(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", QDA_CLOCKSOURCE_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static inline long long qda_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Smallest non-zero step of CLOCK_MONOTONIC in ns, or -1 if it never moved. */
static inline long long qda_clock_step_ns(void)
{
	long long best = -1, t0, t;
	long spins;
	int i;

	for (i = 0; i < QDA_CLOCK_SAMPLES; i++) {
		t0 = qda_clock_ns();
		spins = 0;
		do
			t = qda_clock_ns();
		while (t == t0 && ++spins < QDA_CLOCK_SPINS);
		if (t > t0 && (best < 0 || t - t0 < best))
			best = t - t0;
		/* A tick does not get finer: spare the other waits. */
		if (best >= QDA_CLOCK_MAX_STEP_NS && i >= 3)
			break;
	}
	return best;
}

/* Whether clocksource @name counts timer ticks. */
static inline int qda_clocksource_is_jiffies(const char *name)
{
	return !strcmp(name, "jiffies") || !strcmp(name, "refined-jiffies");
}

/* Fills @c; returns 0 if the clock can time things, else -1 (@c->why says why). */
static inline int qda_clock_probe(struct qda_clock *c)
{
	struct timespec res;

	memset(c, 0, sizeof(*c));
	if (qda_clock_read("current_clocksource", c->source, sizeof(c->source)))
		snprintf(c->source, sizeof(c->source), "?");
	if (qda_clock_read("available_clocksource", c->available,
			   sizeof(c->available)))
		snprintf(c->available, sizeof(c->available), "?");
	c->res_ns = -1;
	if (!clock_getres(CLOCK_MONOTONIC, &res))
		c->res_ns = res.tv_sec * 1000000000LL + res.tv_nsec;
	c->step_ns = qda_clock_step_ns();
	if (qda_clocksource_is_jiffies(c->source))
		snprintf(c->why, sizeof(c->why),
			 "clocksource %s counts timer ticks: time moves in steps of %lld us and runs slow when ticks are lost",
			 c->source, c->step_ns / 1000);
	else if (c->step_ns < 0)
		snprintf(c->why, sizeof(c->why),
			 "CLOCK_MONOTONIC did not move (clocksource %s)",
			 c->source);
	else if (c->step_ns >= QDA_CLOCK_MAX_STEP_NS)
		snprintf(c->why, sizeof(c->why),
			 "CLOCK_MONOTONIC moves in steps of %lld us (clocksource %s)",
			 c->step_ns / 1000, c->source);
	return c->why[0] ? -1 : 0;
}

/*
 * One line, "clocksource: tsc (available: ...); step 150 ns; clock_getres
 * 4000000 ns", and a second one with the reason when the clock cannot time
 * things.
 */
static inline void qda_clock_print(FILE *f, const struct qda_clock *c)
{
	fprintf(f, "clocksource: %s (available: %s); clock_gettime step %lld ns; clock_getres %lld ns\n",
		c->source, c->available, c->step_ns, c->res_ns);
	if (c->why[0])
		fprintf(f, "clocksource: no timing possible: %s\n", c->why);
}

/*
 * Run between measurements: 0 if the clocksource is the one @c was probed
 * on; else @c is probed again and 1 (still fine) or -1 (not) is returned.
 */
static inline int qda_clock_recheck(struct qda_clock *c)
{
	char now[sizeof(c->source)];

	if (qda_clock_read("current_clocksource", now, sizeof(now)) ||
	    !strcmp(now, c->source))
		return 0;
	return qda_clock_probe(c) ? -1 : 1;
}

/*
 * Prints @us microseconds with @prec decimals into @buf, or "-" when the
 * figure is below the clock's step or would print as zero: returns 1 then.
 */
static inline int qda_clock_fmt(char *buf, size_t len, double us, int prec,
				const struct qda_clock *c)
{
	double half = 0.5;
	int i;

	for (i = 0; i < prec; i++)
		half /= 10;
	if (c->step_ns <= 0 || us * 1000 < c->step_ns || us < half) {
		snprintf(buf, len, "-");
		return 1;
	}
	snprintf(buf, len, "%.*f", prec, us);
	return 0;
}

/* NULL if the clock can time things, else why not; probed once a process. */
static inline const char *qda_clock_unusable(void)
{
	static struct qda_clock c;
	static int probed;

	if (!probed) {
		qda_clock_probe(&c);
		probed = 1;
	}
	return c.why[0] ? c.why : NULL;
}

/*
 * In a kselftest that asserts on elapsed times: skips it with the reason
 * (then runs @statement, as SKIP() does) unless the clock can time things.
 */
#define QDA_SKIP_WITHOUT_CLOCK(statement) do { \
	const char *_why = qda_clock_unusable(); \
	if (_why) \
		SKIP(statement, "no usable clock: %s", _why); \
} while (0)

#endif
