/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the QDA kselftests: finding accel nodes by DSP name,
 * driving the mock DSP's control file, reading its status and iommu files
 * and (un)loading modules; the clock check of tests that time things is in
 * qda_clock.h.
 *
 * The tests run inside the QEMU guest of tools/qda-vm with the modules in
 * $QDA_MODDIR (default: the current directory) and expect the mock DSP and
 * qda.ko to be loaded when they start; every test leaves them loaded.
 */
#ifndef QDA_COMMON_H
#define QDA_COMMON_H

#include <dirent.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm/drm.h>
#include "qda_accel.h"
#include "qda_clock.h"

#define MOCK_CONTROL "/sys/kernel/debug/qda_mock_dsp/control"
#define MOCK_STATUS "/sys/kernel/debug/qda_mock_dsp/status"
#define MOCK_IOMMU "/sys/kernel/debug/qda_mock_dsp/iommu"
#define CB_BUS_DIR "/sys/bus/qda-cb/devices"
/*
 * The mock's DSP status codes as INVOKE returns them, DSP_AEE_EOFFSET
 * (0x80000400) + AEE code.
 */
#define MOCK_AEE(code)		((int)(0x80000400u + (code)))
#define AEE_EBADSTATE		MOCK_AEE(0x0d)
#define AEE_EBADPARM		MOCK_AEE(0x0e)
#define AEE_EUNSUPPORTED	MOCK_AEE(0x14)
#define AEE_EALREADY		MOCK_AEE(0x1a)
#define AEE_ENOSUCH		MOCK_AEE(0x27)
#define AEE_EINVHANDLE		MOCK_AEE(0x2c)
/* Last entry of the mock's capability table (GET_PARAM attribute 255). */
#define MOCK_CAP_MAGIC		0x4d4f434bu
/* The mock DSP's device-tree nodes (fastrpc-<label>/...). */
#define MOCK_DT		"/sys/firmware/devicetree/base/qda-mock"

static inline const char *qda_moddir(void)
{
	const char *d = getenv("QDA_MODDIR");

	return d ? d : ".";
}

/* Runs a shell command quietly; returns its exit status or -1. */
static inline int qda_sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline int qda_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static inline int qda_insmod(const char *mod)
{
	return qda_sh("insmod %s/%s.ko 2>/dev/null", qda_moddir(), mod);
}

static inline int qda_rmmod(const char *mod)
{
	return qda_sh("rmmod %s 2>/dev/null", mod);
}

static inline int qda_module_loaded(const char *mod)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	return access(path, F_OK) == 0;
}

/* Writes @s to the file at @path in one write; returns 0 or -errno. */
static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Writes a command ("stop cdsp", ...) to the mock DSP; returns 0 or -errno. */
static inline int mock_control(const char *cmd)
{
	return write_str(MOCK_CONTROL, cmd);
}

/* ---- the mock DSP's status line ---- */

struct mock_st {
	int up;
	long long received, answered, dropped, violations;
	long long processes, mappings, handles;
	long long translations, faults;
};

/* Value of " @key=N" in a status @line, or -1. */
static inline long long status_field(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* The status line of channel @label; 0 or -errno. */
static inline int mock_status(const char *label, struct mock_st *s)
{
	size_t llen = strlen(label);
	char line[512];
	FILE *f;
	int ret = -ENOENT;

	memset(s, 0, sizeof(*s));
	f = fopen(MOCK_STATUS, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, label, llen) || line[llen] != ' ')
			continue;
		s->up = !strncmp(line + llen + 1, "up", 2);
		s->received = status_field(line, "received");
		s->answered = status_field(line, "answered");
		s->dropped = status_field(line, "dropped");
		s->violations = status_field(line, "violations");
		s->processes = status_field(line, "processes");
		s->mappings = status_field(line, "mappings");
		s->handles = status_field(line, "handles");
		s->translations = status_field(line, "translations");
		s->faults = status_field(line, "faults");
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* ---- the mock DSP's iommu file (CBs behind an IOMMU only) ---- */

/* One line: a CB of an up channel, its stream ID and its mapped pages. */
struct mock_iommu_cb {
	char label[16];
	unsigned int reg, stream;
	long mapped;
};

/* More than the mock has CBs on all its channels. */
#define MOCK_IOMMU_MAX_CBS	32

/* Reads up to @max lines of the iommu file into @v; their number or -errno. */
static inline int mock_iommu_read(struct mock_iommu_cb *v, int max)
{
	char line[256];
	FILE *f;
	int n = 0;

	f = fopen(MOCK_IOMMU, "r");
	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s cb%u sid %x mapped=%ld", v[n].label,
			   &v[n].reg, &v[n].stream, &v[n].mapped) == 4)
			n++;
	}
	fclose(f);
	return n;
}

/* Pages mapped by every CB the iommu file lists; 0 if it lists none. */
static inline long long mock_iommu_mapped_total(void)
{
	struct mock_iommu_cb v[MOCK_IOMMU_MAX_CBS];
	int i, n = mock_iommu_read(v, MOCK_IOMMU_MAX_CBS);
	long long sum = 0;

	for (i = 0; i < n; i++)
		sum += v[i].mapped;
	return sum;
}

/* QUERY on an open accel fd; returns 0 or -errno. */
static inline int qda_query(int fd, struct drm_qda_query *q)
{
	memset(q, 0xa5, sizeof(*q));
	return ioctl(fd, DRM_IOCTL_QDA_QUERY, q) ? -errno : 0;
}

/*
 * Finds the accel node whose QUERY names @dsp; stores its path (if @path)
 * and returns how many nodes name it.
 */
static inline int qda_find_node(const char *dsp, char *path, size_t len)
{
	struct drm_qda_query q;
	struct dirent *de;
	int found = 0;
	DIR *d;

	d = opendir("/dev/accel");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char p[300];
		int fd;

		if (strncmp(de->d_name, "accel", 5))
			continue;
		snprintf(p, sizeof(p), "/dev/accel/%s", de->d_name);
		fd = open(p, O_RDWR);
		if (fd < 0)
			continue;
		if (!qda_query(fd, &q) && !strcmp((char *)q.dsp_name, dsp)) {
			found++;
			if (path)
				snprintf(path, len, "%s", p);
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/* Opens the node of @dsp; returns the fd or -1. */
static inline int qda_open_dsp(const char *dsp)
{
	char path[300];

	if (qda_find_node(dsp, path, sizeof(path)) != 1)
		return -1;
	return open(path, O_RDWR);
}

/* Reads a small sysfs file into @buf without its newline; 0 or -errno. */
static inline int read_sysfs(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

/*
 * Copies the value of "@key:\t<value>" in /proc/<pid>/fdinfo/<fd> (pid 0:
 * this process) into @val; 0, -ENOENT if there is no such line, or -errno.
 */
static inline int fdinfo_get(pid_t pid, int fd, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key), got = 0;
	char path[64], buf[8192], *line, *next;
	ssize_t n;
	int f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -errno;
	while (got < sizeof(buf) - 1) {
		n = read(f, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	close(f);
	buf[got] = 0;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    line[klen + 1] == '\t') {
			snprintf(val, len, "%s", line + klen + 2);
			return 0;
		}
	}
	return -ENOENT;
}

#endif
