/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Allocation failures for the QDA kselftests: the calling thread's
 * fail-nth, and the debugfs knobs of fail_page_alloc and failslab that let
 * it fail any allocation it counts, saved before they are set and restored
 * after.
 */
#ifndef QDA_FAILNTH_H
#define QDA_FAILNTH_H

#include "qda_common.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAIL_PAGE_ALLOC	"/sys/kernel/debug/fail_page_alloc"
#define FAILSLAB	"/sys/kernel/debug/failslab"

/* The debugfs fault-injection knobs a test sets, and to what. */
static const struct {
	const char *path;
	const char *value;
} knobs[] = {
	/* Sleeping, highmem and order-0 allocations may fail too. */
	{ FAIL_PAGE_ALLOC "/ignore-gfp-wait", "N" },
	{ FAIL_PAGE_ALLOC "/ignore-gfp-highmem", "N" },
	{ FAIL_PAGE_ALLOC "/min-order", "0" },
	/* Only through fail-nth: no random failures for anyone. */
	{ FAIL_PAGE_ALLOC "/probability", "0" },
	/* No "FAULT_INJECTION: forcing a failure" stack dumps. */
	{ FAIL_PAGE_ALLOC "/verbose", "0" },
	/* The same for the slab allocator. */
	{ FAILSLAB "/ignore-gfp-wait", "N" },
	{ FAILSLAB "/probability", "0" },
	{ FAILSLAB "/verbose", "0" },
};

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define NKNOBS			ARRAY_SIZE(knobs)
/* The first KNOBS_PAGE_ALLOC knobs are fail_page_alloc's. */
#define KNOBS_PAGE_ALLOC	5

/*
 * The knobs' values before a test set them. A test that may fail keeps
 * it in its fixture, which the harness shares with the parent that tears
 * down (FIXTURE_TEARDOWN_PARENT): the knobs are restored whatever the
 * test did.
 */
struct knob_state {
	char saved[NKNOBS][32];
	int set[NKNOBS];
};

/*
 * The value for knob @i; QDA_FAULT_VERBOSE overrides the verbose ones (2
 * logs a stack trace at every injected failure: which call sites fail).
 */
static inline const char *knob_value(size_t i)
{
	const char *v = getenv("QDA_FAULT_VERBOSE");

	return v && strstr(knobs[i].path, "/verbose") ? v : knobs[i].value;
}

/* Sets the first @n knobs, saving their values in @ks; 0 or -errno. */
static inline int knobs_set(struct knob_state *ks, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if (!ks->set[i]) {
			ret = read_sysfs(knobs[i].path, ks->saved[i],
					 sizeof(ks->saved[i]));
			if (ret)
				return ret;
			ks->set[i] = 1;
		}
		ret = write_str(knobs[i].path, knob_value(i));
		if (ret)
			return ret;
	}
	return 0;
}

/* Gives every knob set through @ks its saved value back. */
static inline void knobs_restore(struct knob_state *ks)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++) {
		if (ks->set[i])
			write_str(knobs[i].path, ks->saved[i]);
		ks->set[i] = 0;
	}
}

/* Sets this thread's fail-nth (@fd) to @n (0 disarms); 0 or -errno. */
static inline int fail_nth_set(int fd, int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%d", n);

	return pwrite(fd, s, len, 0) == len ? 0 : -errno;
}

/* What is left of it: 0 once the fault was injected, -1 on error. */
static inline int fail_nth_get(int fd)
{
	char s[16];
	ssize_t n = pread(fd, s, sizeof(s) - 1, 0);

	if (n <= 0)
		return -1;
	s[n] = 0;
	return atoi(s);
}

#endif
