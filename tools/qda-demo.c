// SPDX-License-Identifier: GPL-2.0
/*
 * qda-demo - a real remote call through QDA: create a user PD on the cdsp,
 * open the test skel through remotectl, run sum and checksum on inline data
 * and on a GEM buffer, and print results and per-call latency.
 *
 * The latency is only measured on a clock that can time it
 * (tools/selftests/qda_clock.h): on a jiffies clocksource it reads "not
 * measured" with the reason, and a percentile below the clock's step reads
 * "-".
 *
 * Usage: qda-demo [dsp]   (default cdsp)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include "qda_accel.h"
#include "qda_clock.h"

#define SKEL_URI "file:///libqda_test_skel.so?qda_test_skel_handle_invoke&_modver=1.0"
#define N 1000

static int open_dsp(const char *dsp)
{
	struct drm_qda_query q;
	struct dirent *de;
	DIR *d = opendir("/dev/accel");
	int fd = -1;

	while (d && (de = readdir(d))) {
		char p[300];
		int f;

		if (strncmp(de->d_name, "accel", 5))
			continue;
		snprintf(p, sizeof(p), "/dev/accel/%s", de->d_name);
		f = open(p, O_RDWR | O_CLOEXEC);
		if (f < 0)
			continue;
		memset(&q, 0, sizeof(q));
		if (!ioctl(f, DRM_IOCTL_QDA_QUERY, &q) && !strcmp((char *)q.dsp_name, dsp)) {
			fd = f;
			printf("%s: %s\n", p, dsp);
			break;
		}
		close(f);
	}
	if (d)
		closedir(d);
	return fd;
}

static int invoke(int fd, uint32_t handle, uint32_t sc, struct drm_qda_invoke_args *a)
{
	struct drm_qda_invoke inv = { .handle = handle, .sc = sc, .args = (uintptr_t)a };

	return ioctl(fd, DRM_IOCTL_QDA_INVOKE, &inv);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dsp = argc > 1 ? argv[1] : "cdsp";
	struct drm_qda_init_create ic = { .filefd = -1 };
	uint32_t in0[2], out0[2] = { 0 }, vec[N + 1], crc = 0, h, i;
	struct drm_qda_gem_mmap_offset mo = { 0 };
	struct drm_qda_gem_create gc = { .size = sizeof(vec) };
	struct drm_qda_invoke_args a[4];
	static double lat[200];
	char dlerr[128] = "", p50[32], p99[32];
	struct qda_clock clk;
	uint64_t sum = 0;
	uint32_t *g;
	int fd, r;

	fd = open_dsp(dsp);
	if (fd < 0) {
		fprintf(stderr, "qda-demo: no accel node for %s\n", dsp);
		return 1;
	}
	r = ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE, &ic);
	printf("INIT_CREATE (user PD, no shell file): %d\n", r);
	if (r)
		return 1;

	in0[0] = strlen(SKEL_URI) + 1;
	in0[1] = sizeof(dlerr);
	a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)in0, .length = 8 };
	a[1] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)SKEL_URI, .length = in0[0] };
	a[2] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)out0, .length = 8 };
	a[3] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)dlerr, .length = sizeof(dlerr) };
	r = invoke(fd, 0, QDA_SCALARS(0, 2, 2), a);
	printf("remotectl open %s: %d, handle 0x%x, err %u %s\n", SKEL_URI, r, out0[0], out0[1], dlerr);
	if (r || !out0[0])
		return 1;
	h = out0[0];

	/* sum over 0..999, inline */
	vec[0] = N;
	for (i = 0; i < N; i++)
		vec[i + 1] = i;
	a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)&vec[1], .length = N * 4 };
	a[1] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)&sum, .length = 8 };
	r = invoke(fd, h, QDA_SCALARS(1, 1, 1), a);
	printf("sum(0..999) inline:      %d -> %llu (expect 499500)\n", r, (unsigned long long)sum);

	/* the same from a GEM buffer, zero-copy */
	if (ioctl(fd, DRM_IOCTL_QDA_GEM_CREATE, &gc))
		return 1;
	mo.handle = gc.handle;
	if (ioctl(fd, DRM_IOCTL_QDA_GEM_MMAP_OFFSET, &mo))
		return 1;
	g = mmap(NULL, gc.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, mo.offset);
	if (g == MAP_FAILED)
		return 1;
	memcpy(g, &vec[1], N * 4);
	sum = 0;
	a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)g, .length = N * 4, .fd = gc.handle };
	r = invoke(fd, h, QDA_SCALARS(1, 1, 1), a);
	printf("sum(0..999) GEM buffer:  %d -> %llu (expect 499500)\n", r, (unsigned long long)sum);

	/* checksum of "123456789", inline and from the GEM buffer */
	a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)"123456789", .length = 9 };
	a[1] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)&crc, .length = 4 };
	r = invoke(fd, h, QDA_SCALARS(2, 1, 1), a);
	printf("crc32(\"123456789\") inline: %d -> 0x%08x (expect 0xcbf43926)\n", r, crc);
	memcpy(g, "123456789", 9);
	crc = 0;
	a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)g, .length = 9, .fd = gc.handle };
	r = invoke(fd, h, QDA_SCALARS(2, 1, 1), a);
	printf("crc32(\"123456789\") GEM:    %d -> 0x%08x (expect 0xcbf43926)\n", r, crc);

	/* latency: echo of 4 bytes, on a clock that can time it */
	if (qda_clock_probe(&clk)) {
		printf("echo(4 bytes) round trip: not measured: %s\n", clk.why);
		goto done;
	}
	for (i = 0; i < 200; i++) {
		uint32_t x = i, y = 0;
		double t0 = now_us();

		a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)&x, .length = 4 };
		a[1] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)&y, .length = 4 };
		if (invoke(fd, h, QDA_SCALARS(0, 1, 1), a) || y != x)
			return 1;
		lat[i] = now_us() - t0;
	}
	qsort(lat, 200, sizeof(lat[0]), cmp);
	r = qda_clock_fmt(p50, sizeof(p50), lat[100], 0, &clk);
	r |= qda_clock_fmt(p99, sizeof(p99), lat[197], 0, &clk);
	printf("echo(4 bytes) round trip over 200 calls: p50 %s us, p99 %s us (clocksource %s, step %lld ns)\n",
	       p50, p99, clk.source, clk.step_ns);
	if (r)
		printf("note: \"-\" is a time below the clock's step\n");

done:
	fflush(stdout);
	if (!access("./qda-info", X_OK))
		r = system("./qda-info | sed -n '/^sessions/,$p'");

	a[0] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)in0, .length = 8 };
	a[1] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)out0, .length = 4 };
	a[2] = (struct drm_qda_invoke_args){ .ptr = (uintptr_t)dlerr, .length = sizeof(dlerr) };
	in0[0] = h;
	r = invoke(fd, 0, QDA_SCALARS(1, 1, 2), a);
	printf("remotectl close: %d\n", r);
	munmap(g, gc.size);
	close(fd);
	return 0;
}
