// SPDX-License-Identifier: GPL-2.0
/*
 * qda-info - show what the QDA driver exposes: each accel node, the DSP
 * behind it (DRM_IOCTL_QDA_QUERY), its compute context banks (sysfs) and
 * the sessions of running processes with their memory (fdinfo).
 *
 * Usage: qda-info
 * Exit status: 0 if at least one QDA node was found, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm/drm.h>
#include "qda_accel.h"

static int read_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char path[600];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int is_cb(const char *dir)
{
	char link[600], target[600];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/subsystem", dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = 0;
	return !strcmp(strrchr(target, '/') ? strrchr(target, '/') + 1 : target, "qda-cb");
}

static void show_cbs(const char *node)
{
	char devdir[300], cbdir[600], sid[32], ns[32], group[600];
	struct dirent **list;
	int i, n;

	snprintf(devdir, sizeof(devdir), "/sys/class/accel/%s/device", node);
	n = scandir(devdir, &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		ssize_t len;

		snprintf(cbdir, sizeof(cbdir), "%s/%s", devdir, list[i]->d_name);
		if (list[i]->d_name[0] != '.' && is_cb(cbdir) &&
		    !read_attr(cbdir, "sid", sid, sizeof(sid)) &&
		    !read_attr(cbdir, "nsessions", ns, sizeof(ns))) {
			char link[700];

			snprintf(link, sizeof(link), "%s/iommu_group", cbdir);
			len = readlink(link, group, sizeof(group) - 1);
			if (len > 0)
				group[len] = 0;
			else
				strcpy(group, "none (dma-direct)");
			printf("    cb %-14s sid %-3s sessions %-3s iommu-group %s\n",
			       list[i]->d_name, sid, ns,
			       len > 0 ? strrchr(group, '/') + 1 : group);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* Per-process sessions and memory, from every open accel file's fdinfo. */
static void show_sessions(void)
{
	struct dirent *p, *f;
	DIR *proc, *fds;
	int header = 0;

	proc = opendir("/proc");
	if (!proc)
		return;
	while ((p = readdir(proc))) {
		char dir[300], comm[64] = "?";

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s", p->d_name);
		read_attr(dir, "comm", comm, sizeof(comm));
		snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", p->d_name);
		fds = opendir(dir);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			char path[600], line[256], dsp[16] = "", session[16] = "";
			char mem[32] = "", bufs[16];
			int nbufs = 0, qda = 0;
			FILE *in;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, f->d_name);
			in = fopen(path, "r");
			if (!in)
				continue;
			while (fgets(line, sizeof(line), in)) {
				qda |= !strcmp(line, "drm-driver:\tqda\n");
				if (sscanf(line, "qda-dsp: %15s", dsp) == 1 ||
				    sscanf(line, "qda-session: %15s", session) == 1 ||
				    sscanf(line, "qda-session-memory: %31s", mem) == 1)
					continue;
				nbufs += !strncmp(line, "qda-buffer-", 11);
			}
			fclose(in);
			if (!qda || !session[0])
				continue;
			if (!header++)
				printf("sessions:\n");
			snprintf(bufs, sizeof(bufs), "%d", nbufs);
			printf("    pid %-6s %-12s fd %-3s dsp %-5s session %-2s memory %s bytes, %s buffer(s) on this fd\n",
			       p->d_name, comm, f->d_name, dsp, session, mem, bufs);
		}
		closedir(fds);
	}
	closedir(proc);
}

int main(void)
{
	struct dirent **list;
	int i, n, found = 0;

	n = scandir("/dev/accel", &list, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "qda-info: /dev/accel: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		char path[300], name[32] = { 0 };
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
		struct drm_qda_query q;
		int fd;

		if (strncmp(list[i]->d_name, "accel", 5))
			goto next;
		snprintf(path, sizeof(path), "/dev/accel/%s", list[i]->d_name);
		fd = open(path, O_RDWR);
		if (fd < 0) {
			printf("%s: %s\n", path, strerror(errno));
			goto next;
		}
		if (ioctl(fd, DRM_IOCTL_VERSION, &v) || strcmp(name, "qda")) {
			close(fd);
			goto next;
		}
		memset(&q, 0, sizeof(q));
		if (ioctl(fd, DRM_IOCTL_QDA_QUERY, &q)) {
			printf("%s: QUERY: %s\n", path, strerror(errno));
		} else {
			printf("%s: driver %s %d.%d, dsp %s, capabilities 0x%x\n",
			       path, name, v.version_major, v.version_minor,
			       (char *)q.dsp_name, q.capabilities);
			printf("    channel %s, %s PDs%s; this opener %s\n",
			       q.capabilities & QDA_CAP_SECURE_CHANNEL ?
			       "secure" : "non-secure",
			       q.capabilities & QDA_CAP_UNSIGNED_PD ?
			       "signed and unsigned" : "signed",
			       q.capabilities & QDA_CAP_REMOTE_HEAP ?
			       ", remote heap (audio PD)" : "",
			       q.capabilities & QDA_CAP_TRUSTED ?
			       "trusted" : "untrusted");
			show_cbs(list[i]->d_name);
			found++;
		}
		close(fd);
next:
		free(list[i]);
	}
	free(list);
	if (!found)
		printf("no QDA accel nodes\n");
	show_sessions();
	return found ? 0 : 1;
}
