// SPDX-License-Identifier: GPL-2.0
/*
 * QDA kselftests: accel nodes, QUERY, unknown ioctls, CB devices, DSP
 * restart and module load/unload, against the mock DSP.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "qda_common.h"
#include "kselftest_harness.h"

static const char *const dsps[] = { "cdsp", "adsp" };

TEST(nodes_exist_for_both_channels)
{
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(1, qda_find_node(dsps[i], NULL, 0)) TH_LOG("dsp %d", i);
}

TEST(driver_name_is_qda)
{
	char name[32] = { 0 };
	struct drm_version v = {
		.name = name,
		.name_len = sizeof(name) - 1,
	};
	int fd = qda_open_dsp("cdsp");

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, DRM_IOCTL_VERSION, &v));
	EXPECT_STREQ("qda", name);
	close(fd);
}

TEST(query_returns_name_capabilities_and_zeroes)
{
	struct drm_qda_query q;
	size_t i;
	int d;

	for (d = 0; d < 2; d++) {
		int fd = qda_open_dsp(dsps[d]);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, qda_query(fd, &q));
		EXPECT_STREQ(dsps[d], (char *)q.dsp_name);
		for (i = strlen(dsps[d]); i < sizeof(q.dsp_name); i++)
			EXPECT_EQ(0, q.dsp_name[i]);
		/*
		 * Both channels carry qcom,non-secure-domain (the secure ones
		 * are cdsp1 and sdsp); the tests run as root (trusted).
		 */
		EXPECT_EQ(0U, q.capabilities & QDA_CAP_SECURE_CHANNEL);
		EXPECT_NE(0U, q.capabilities & QDA_CAP_TRUSTED);
		/* Unsigned PDs on the compute DSP only. */
		EXPECT_EQ(!strcmp(dsps[d], "cdsp"),
			  (int)!!(q.capabilities & QDA_CAP_UNSIGNED_PD));
		/* No undefined flags. */
		EXPECT_EQ(0U, q.capabilities & ~0xfU);
		close(fd);
	}
}

TEST(query_works_on_read_only_fd)
{
	struct drm_qda_query q;
	char path[300];
	int fd;

	ASSERT_EQ(1, qda_find_node("cdsp", path, sizeof(path)));
	fd = open(path, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, qda_query(fd, &q));
	EXPECT_STREQ("cdsp", (char *)q.dsp_name);
	close(fd);
}

TEST(query_bad_pointers_fault)
{
	int fd = qda_open_dsp("cdsp");

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_QUERY, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_QUERY, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_QDA_QUERY, (void *)-4096L));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

TEST(query_short_size_copies_only_prefix)
{
	/* A caller with an older, smaller struct gets just what fits. */
	uint8_t buf[8];
	unsigned long cmd = DRM_IOR(DRM_COMMAND_BASE + DRM_QDA_QUERY, uint8_t[4]);
	int fd = qda_open_dsp("cdsp");

	ASSERT_LE(0, fd);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, ioctl(fd, cmd, buf));
	EXPECT_EQ(0, memcmp(buf, "cdsp", 4));
	EXPECT_EQ(0xa5, buf[4]);
	close(fd);
}

TEST(unknown_ioctls_fail_cleanly)
{
	unsigned int nr;
	int fd = qda_open_dsp("cdsp");
	uint64_t arg[8] = { 0 };

	ASSERT_LE(0, fd);
	/* Beyond the table. */
	for (nr = DRM_QDA_INIT_CREATE_STATIC + 1; nr < 0x60; nr++) {
		EXPECT_EQ(-1, ioctl(fd, DRM_IOWR(DRM_COMMAND_BASE + nr, uint64_t[8]), arg));
		EXPECT_EQ(EINVAL, errno) TH_LOG("nr 0x%x", nr);
	}
	/* Not a DRM ioctl at all. */
	EXPECT_EQ(-1, ioctl(fd, _IOWR('x', 1, uint64_t), arg));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

/*
 * An accel file has no DRM master: the legacy core ioctls that use one
 * (GET_UNIQUE and GET_MAGIC dereferenced it) are refused as on a render
 * node; the ones render nodes have still work. Found by qda_fuzz.
 */
TEST(legacy_core_ioctls_refused)
{
	static const unsigned long refused[] = {
		DRM_IOCTL_GET_UNIQUE, DRM_IOCTL_GET_MAGIC, DRM_IOCTL_GET_CLIENT,
		DRM_IOCTL_SET_CLIENT_CAP, DRM_IOCTL_SET_MASTER,
		DRM_IOCTL_DROP_MASTER, DRM_IOCTL_GEM_FLINK,
	};
	uint64_t arg[16] = { 0 };
	struct drm_get_cap cap = { .capability = DRM_CAP_PRIME };
	size_t i;
	int fd = qda_open_dsp("cdsp");

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		memset(arg, 0, sizeof(arg));
		EXPECT_EQ(-1, ioctl(fd, refused[i], arg)) TH_LOG("ioctl 0x%lx", refused[i]);
		EXPECT_EQ(EACCES, errno) TH_LOG("ioctl 0x%lx", refused[i]);
	}
	EXPECT_EQ(0, ioctl(fd, DRM_IOCTL_GET_CAP, &cap));
	close(fd);
}

TEST(mmap_without_buffer_fails)
{
	int fd = qda_open_dsp("cdsp");
	void *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 1ULL << 32);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(cb_devices_on_bus)
{
	static const struct {
		const char *name, *dsp;
		int sid, nsessions;
	} cbs[] = {
		{ "qda-cdsp-cb1", "cdsp", 1, 1 }, { "qda-cdsp-cb2", "cdsp", 2, 1 },
		{ "qda-cdsp-cb3", "cdsp", 3, 2 }, { "qda-cdsp-cb4", "cdsp", 4, 1 },
		{ "qda-adsp-cb1", "adsp", 1, 1 }, { "qda-adsp-cb2", "adsp", 2, 1 },
		{ "qda-cdsp1-cb1", "cdsp1", 1, 1 }, { "qda-cdsp1-cb2", "cdsp1", 2, 2 },
		{ "qda-sdsp-cb1", "sdsp", 1, 1 },
	};
	char path[512], buf[64], node[300];
	struct dirent *de;
	size_t i;
	int n = 0;
	DIR *d;

	d = opendir(CB_BUS_DIR);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	EXPECT_EQ((int)ARRAY_SIZE(cbs), n);

	for (i = 0; i < ARRAY_SIZE(cbs); i++) {
		snprintf(path, sizeof(path), CB_BUS_DIR "/%s/sid", cbs[i].name);
		ASSERT_EQ(0, read_sysfs(path, buf, sizeof(buf))) TH_LOG("%s", path);
		EXPECT_EQ(cbs[i].sid, atoi(buf));
		snprintf(path, sizeof(path), CB_BUS_DIR "/%s/nsessions", cbs[i].name);
		ASSERT_EQ(0, read_sysfs(path, buf, sizeof(buf)));
		EXPECT_EQ(cbs[i].nsessions, atoi(buf));
		snprintf(path, sizeof(path), CB_BUS_DIR "/%s/dsp", cbs[i].name);
		ASSERT_EQ(0, read_sysfs(path, buf, sizeof(buf)));
		EXPECT_STREQ(cbs[i].dsp, buf);

		/* The CB is a child of the channel behind the accel node. */
		ASSERT_EQ(1, qda_find_node(cbs[i].dsp, node, sizeof(node)));
		snprintf(path, sizeof(path), "/sys/class/accel/%s/device/%s",
			 strrchr(node, '/') + 1, cbs[i].name);
		EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s", path);
	}
}

TEST(restart_removes_and_restores_node)
{
	struct drm_qda_query q;
	int fd, fd2;

	fd = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mock_control("stop cdsp"));
	EXPECT_EQ(0, qda_find_node("cdsp", NULL, 0));
	EXPECT_EQ(1, qda_find_node("adsp", NULL, 0));
	EXPECT_NE(0, access(CB_BUS_DIR "/qda-cdsp-cb1", F_OK));
	/* The held fd fails cleanly. */
	EXPECT_EQ(-ENODEV, qda_query(fd, &q));
	/* Stopping twice is refused by the mock, not a crash. */
	EXPECT_GT(0, mock_control("stop cdsp"));

	ASSERT_EQ(0, mock_control("start cdsp"));
	EXPECT_EQ(1, qda_find_node("cdsp", NULL, 0));
	EXPECT_EQ(0, access(CB_BUS_DIR "/qda-cdsp-cb1", F_OK));
	EXPECT_EQ(-ENODEV, qda_query(fd, &q));
	fd2 = qda_open_dsp("cdsp");
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, qda_query(fd2, &q));
	close(fd2);
	close(fd);
}

TEST(restart_loop_with_open_files)
{
	int i, fds[10];

	for (i = 0; i < 10; i++) {
		fds[i] = qda_open_dsp("adsp");
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, mock_control("restart adsp"));
		ASSERT_EQ(1, qda_find_node("adsp", NULL, 0));
	}
	for (i = 0; i < 10; i++)
		close(fds[i]);
}

/* Is the mock's rpmsg device for @label bound to a driver? */
static int channel_bound(const char *label)
{
	char path[256];

	snprintf(path, sizeof(path),
		 "/sys/bus/rpmsg/devices/qda-mock-%s.fastrpcglink-apps-dsp.-1.-1/driver",
		 label);
	return access(path, F_OK) == 0;
}

TEST(malformed_channels_fail_probe_cleanly)
{
	static const char *const bad[] = { "xdsp", "mdsp" };
	char path[256];
	int i;

	EXPECT_TRUE(channel_bound("cdsp"));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, mock_control(i ? "start mdsp" : "start xdsp"));
		snprintf(path, sizeof(path),
			 "/sys/bus/rpmsg/devices/qda-mock-%s.fastrpcglink-apps-dsp.-1.-1",
			 bad[i]);
		EXPECT_EQ(0, access(path, F_OK)) TH_LOG("bad channel %d", i);
		EXPECT_FALSE(channel_bound(bad[i]));
		EXPECT_EQ(0, qda_find_node(bad[i], NULL, 0));
		/* No CB device of the failed probe is left behind. */
		snprintf(path, sizeof(path), CB_BUS_DIR "/qda-%s-cb1", bad[i]);
		EXPECT_NE(0, access(path, F_OK));
		ASSERT_EQ(0, mock_control(i ? "stop mdsp" : "stop xdsp"));
	}
	EXPECT_EQ(1, qda_find_node("cdsp", NULL, 0));
	EXPECT_EQ(1, qda_find_node("adsp", NULL, 0));
}

/*
 * Behind an SMMU, a CB whose iommus names a node that is no IOMMU fails the
 * channel's probe with a message, leaving no device behind (the mock's
 * gdsp0 channel; without an SMMU it is well-formed, so the test skips).
 */
TEST(cb_with_bogus_iommus_fails_probe_cleanly)
{
	char path[256];

	if (access(CB_BUS_DIR "/qda-cdsp-cb1/iommu_group", F_OK))
		SKIP(return, "context banks have no IOMMU here");
	ASSERT_EQ(0, mock_control("start gdsp0"));
	EXPECT_FALSE(channel_bound("gdsp0"));
	EXPECT_EQ(0, qda_find_node("gdsp0", NULL, 0));
	snprintf(path, sizeof(path), CB_BUS_DIR "/qda-gdsp0-cb1");
	EXPECT_NE(0, access(path, F_OK));
	ASSERT_EQ(0, mock_control("stop gdsp0"));
	/* The good channels are untouched, and a second try fails the same. */
	EXPECT_EQ(1, qda_find_node("cdsp", NULL, 0));
	ASSERT_EQ(0, mock_control("start gdsp0"));
	EXPECT_FALSE(channel_bound("gdsp0"));
	ASSERT_EQ(0, mock_control("stop gdsp0"));
}

TEST(unload_refused_while_open_then_reload)
{
	int fd = qda_open_dsp("cdsp");

	ASSERT_LE(0, fd);
	EXPECT_NE(0, qda_rmmod("qda"));
	EXPECT_TRUE(qda_module_loaded("qda"));
	close(fd);
	ASSERT_EQ(0, qda_rmmod("qda"));
	EXPECT_FALSE(qda_module_loaded("qda"));
	EXPECT_EQ(0, qda_find_node("cdsp", NULL, 0));
	EXPECT_NE(0, access("/sys/bus/qda-cb", F_OK));
	ASSERT_EQ(0, qda_insmod("qda"));
	EXPECT_EQ(1, qda_find_node("cdsp", NULL, 0));
	EXPECT_EQ(1, qda_find_node("adsp", NULL, 0));
}

/* For the module load loops: a Rust module with KASAN under TCG is slow. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, load_unload_loop, 180)
{
	int i;

	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, qda_rmmod("qda"));
		ASSERT_EQ(0, qda_insmod("qda"));
		ASSERT_EQ(1, qda_find_node("cdsp", NULL, 0));
		ASSERT_EQ(1, qda_find_node("adsp", NULL, 0));
	}
}

TEST(unload_with_dsp_down_then_up)
{
	/* Unload while a channel is stopped, reload, restart it. */
	ASSERT_EQ(0, mock_control("stop adsp"));
	ASSERT_EQ(0, qda_rmmod("qda"));
	ASSERT_EQ(0, qda_insmod("qda"));
	EXPECT_EQ(0, qda_find_node("adsp", NULL, 0));
	ASSERT_EQ(0, mock_control("start adsp"));
	EXPECT_EQ(1, qda_find_node("adsp", NULL, 0));
	EXPECT_EQ(1, qda_find_node("cdsp", NULL, 0));
}

TEST_HARNESS_MAIN
