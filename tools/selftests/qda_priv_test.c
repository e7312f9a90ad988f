// SPDX-License-Identifier: GPL-2.0
/*
 * QDA kselftests for the privilege model (Documentation/accel/qda/
 * privilege.rst): every rule as a trusted opener (root), an untrusted one
 * (a child that dropped to uid and gid 65534 with no capabilities) and a
 * member of the trusted_gid group, on the mock's secure channels (cdsp1 with
 * unsigned PDs, sdsp without) and its non-secure ones (cdsp, adsp). Refusals must reach
 * nothing on the DSP (the mock's received counter). Prints the permission
 * matrix it checked as "# matrix:" lines.
 */
#include <grp.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "qda_common.h"
#include "qda_gem.h"
#include "qda_rpc.h"

#define PG		4096
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define NOBODY		65534
#define TRUSTED_GID	4242

enum who { ROOT, NOBODY_USER, GROUP_MEMBER };

static const char *const who_name[] = { "trusted(root)", "untrusted", "trusted(group)" };

/* Makes every accel node openable by anyone, as a udev MODE="0666" would. */
static void open_up_nodes(void)
{
	qda_sh("chmod 0666 /dev/accel/accel* 2>/dev/null");
}

/*
 * Drops to uid/gid 65534 (with @group as the only supplementary group, if
 * >= 0); 0 or -1.
 */
static int drop_privileges(int group)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	gid_t g = group;

	if (setgroups(group >= 0 ? 1 : 0, &g) || setgid(NOBODY) ||
	    setuid(NOBODY))
		return -1;
	if (syscall(SYS_capget, &h, d))
		return -1;
	/* No capability left, effective or permitted. */
	if (d[0].effective || d[1].effective || d[0].permitted ||
	    d[1].permitted)
		return -1;
	return 0;
}

typedef int (*op_fn)(int fd, const void *arg);

#define HARNESS_ERR	-10000

/*
 * Opens @dsp's node in a child running as @who and returns what @op
 * returned there (0, a DSP value or -errno), or HARNESS_ERR.
 */
static int as_who(enum who who, const char *dsp, op_fn op, const void *arg)
{
	int p[2], ret = HARNESS_ERR, st;
	pid_t pid;

	if (pipe(p))
		return HARNESS_ERR;
	pid = fork();
	if (pid < 0)
		return HARNESS_ERR;
	if (!pid) {
		int r = HARNESS_ERR, fd;

		close(p[0]);
		if (who == NOBODY_USER && drop_privileges(-1))
			goto out;
		if (who == GROUP_MEMBER && drop_privileges(TRUSTED_GID))
			goto out;
		fd = qda_open_dsp(dsp);
		if (fd >= 0)
			r = op(fd, arg);
out:
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &ret, sizeof(ret)) != sizeof(ret))
		ret = HARNESS_ERR;
	close(p[0]);
	waitpid(pid, &st, 0);
	return ret;
}

static int op_trusted(int fd, const void *arg __attribute__((unused)))
{
	struct drm_qda_query q;

	if (qda_query(fd, &q))
		return -errno;
	return !!(q.capabilities & QDA_CAP_TRUSTED);
}

static int op_attach(int fd, const void *arg __attribute__((unused)))
{
	return qda_attach(fd);
}

static int op_attach_sns(int fd, const void *arg __attribute__((unused)))
{
	int ret = ioctl(fd, DRM_IOCTL_QDA_INIT_ATTACH_SNS, 0);

	return ret == -1 ? -errno : ret;
}

static int op_create(int fd, const void *arg)
{
	return qda_create(fd, 0, -1, NULL, *(const uint32_t *)arg);
}

static int op_create_static(int fd, const void *arg)
{
	struct drm_qda_init_create_static c = { 0 };
	const char *name = arg;
	int ret;

	c.namelen = strlen(name) + 1;
	c.name = (uintptr_t)name;
	ret = ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE_STATIC, &c);
	return ret == -1 ? -errno : ret;
}

/* What everyone may do: buffers, PRIME, a user PD's own calls and maps. */
static int op_user_flow(int fd, const void *arg)
{
	uint32_t attrs = *(const uint32_t *)arg, h, sk, h2;
	struct drm_qda_munmap u = { .request = QDA_MAP_REQUEST_ATTR };
	struct drm_qda_map m = { .request = QDA_MAP_REQUEST_ATTR };
	char dlerr[256], out[8];
	struct drm_qda_query q;
	int ret, dmabuf;
	void *p;

	if (qda_query(fd, &q))
		return -errno;
	ret = gem_create(fd, 4 * PG, &h);
	if (ret)
		return ret;
	p = gem_mmap(fd, h, 4 * PG);
	if (p == MAP_FAILED)
		return -errno;
	ret = prime_export(fd, h, &dmabuf);
	if (ret)
		return ret;
	ret = prime_import(fd, dmabuf, &h2);
	if (ret || h2 != h)
		return ret ? ret : -EBADF;
	close(dmabuf);
	ret = qda_create(fd, 0, -1, NULL, attrs);
	if (ret)
		return ret;
	ret = skel_open(fd, TEST_SKEL_URI, &sk, dlerr, sizeof(dlerr));
	if (ret)
		return ret;
	ret = skel_echo(fd, sk, "12345678", 8, out, sizeof(out));
	if (ret || memcmp(out, "12345678", 8))
		return ret ? ret : -EIO;
	m.fd = h;
	m.vaddrin = (uintptr_t)p;
	ret = qda_map(fd, &m);
	if (ret)
		return ret;
	u.fd = h;
	u.vaddr = m.vaddrout;
	ret = qda_munmap(fd, &u);
	if (ret)
		return ret;
	return skel_close(fd, sk);
}

static long long received(const char *label)
{
	struct mock_st s;

	return mock_status(label, &s) ? -1 : s.received;
}

/*
 * Runs @op on @dsp as @who, expects @want, and checks that a refusal sent
 * nothing to the DSP. Prints the matrix line.
 */
#define CHECK_RULE(who, dsp, opname, op, arg, want) do {		\
		long long rx0 = received(dsp);				\
		int got = as_who(who, dsp, op, arg);			\
									\
		printf("# matrix: %-22s %-15s %-6s -> %s (%d)\n",	\
		       opname, who_name[who], dsp,			\
		       got == 0 ? "allowed" :				\
		       got == -EPERM ? "EPERM" :			\
		       got == -EINVAL ? "EINVAL" :			\
		       got == -EOPNOTSUPP ? "EOPNOTSUPP" : "other",	\
		       got);						\
		EXPECT_EQ(want, got) TH_LOG("%s as %s on %s", opname,	\
					    who_name[who], dsp);	\
		if ((want) < 0)						\
			EXPECT_EQ(rx0, received(dsp));			\
	} while (0)

/* No attribute: a signed PD (a static, so zero). */
static const uint32_t signed_pd;
static const uint32_t unsigned_pd = QDA_PROC_MODE_UNSIGNED;
static const uint32_t debug_pd = QDA_PROC_MODE_UNSIGNED | QDA_PROC_MODE_DEBUG;
static const uint32_t ptrace_pd = QDA_PROC_MODE_UNSIGNED | QDA_PROC_MODE_PTRACE;
static const uint32_t system_pd = QDA_PROC_MODE_UNSIGNED |
				  QDA_PROC_MODE_SYSTEM_PROCESS;
static const uint32_t privileged_pd = QDA_PROC_MODE_UNSIGNED |
				      QDA_PROC_MODE_PRIVILEGED;
static const uint32_t crc_qos_pd = QDA_PROC_MODE_UNSIGNED | QDA_PROC_MODE_CRC |
				   QDA_PROC_MODE_ADAPTIVE_QOS;
static const uint32_t unknown_pd = QDA_PROC_MODE_UNSIGNED | (1u << 7);
static const uint32_t high_bit_pd = 1u << 31;

FIXTURE(priv) {
	int unused;
};

FIXTURE_SETUP(priv)
{
	open_up_nodes();
}

FIXTURE_TEARDOWN(priv)
{
}

TEST_F(priv, trust_follows_the_opener)
{
	EXPECT_EQ(1, as_who(ROOT, "cdsp", op_trusted, NULL));
	EXPECT_EQ(0, as_who(NOBODY_USER, "cdsp", op_trusted, NULL));
	/* Not a member of any trusted group: trusted_gid is -1 by default. */
	EXPECT_EQ(0, as_who(GROUP_MEMBER, "cdsp", op_trusted, NULL));
}

TEST_F(priv, root_and_sensors_attach_need_trust)
{
	CHECK_RULE(ROOT, "cdsp1", "INIT_ATTACH", op_attach, NULL, 0);
	CHECK_RULE(NOBODY_USER, "cdsp1", "INIT_ATTACH", op_attach, NULL, -EPERM);
	CHECK_RULE(ROOT, "cdsp", "INIT_ATTACH", op_attach, NULL, 0);
	CHECK_RULE(NOBODY_USER, "cdsp", "INIT_ATTACH", op_attach, NULL, -EPERM);
	CHECK_RULE(ROOT, "sdsp", "INIT_ATTACH_SNS", op_attach_sns, NULL, 0);
	CHECK_RULE(NOBODY_USER, "sdsp", "INIT_ATTACH_SNS", op_attach_sns, NULL,
		   -EPERM);
	CHECK_RULE(ROOT, "adsp", "INIT_ATTACH_SNS", op_attach_sns, NULL, 0);
	CHECK_RULE(NOBODY_USER, "adsp", "INIT_ATTACH_SNS", op_attach_sns, NULL,
		   -EPERM);
}

/* Secure channels: cdsp1 (compute, unsigned PDs) and sdsp (no unsigned). */
TEST_F(priv, create_on_secure_channels)
{
	CHECK_RULE(ROOT, "cdsp1", "INIT_CREATE signed", op_create, &signed_pd, 0);
	CHECK_RULE(ROOT, "cdsp1", "INIT_CREATE unsigned", op_create,
		   &unsigned_pd, 0);
	CHECK_RULE(NOBODY_USER, "cdsp1", "INIT_CREATE signed", op_create,
		   &signed_pd, -EPERM);
	CHECK_RULE(NOBODY_USER, "cdsp1", "INIT_CREATE unsigned", op_create,
		   &unsigned_pd, 0);
	CHECK_RULE(NOBODY_USER, "cdsp1", "INIT_CREATE crc+qos", op_create,
		   &crc_qos_pd, 0);
	CHECK_RULE(ROOT, "sdsp", "INIT_CREATE signed", op_create, &signed_pd, 0);
	CHECK_RULE(NOBODY_USER, "sdsp", "INIT_CREATE signed", op_create,
		   &signed_pd, -EPERM);
	CHECK_RULE(NOBODY_USER, "sdsp", "INIT_CREATE unsigned", op_create,
		   &unsigned_pd, -EPERM);
}

/* Non-secure channels: cdsp and adsp carry qcom,non-secure-domain. */
TEST_F(priv, create_on_non_secure_channels)
{
	static const char *const dsps[] = { "cdsp", "adsp" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dsps); i++) {
		const char *dsp = dsps[i];

		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE signed", op_create,
			   &signed_pd, 0);
		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE unsigned", op_create,
			   &unsigned_pd, 0);
		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE debug", op_create,
			   &debug_pd, -EPERM);
		CHECK_RULE(NOBODY_USER, dsp, "INIT_ATTACH", op_attach, NULL,
			   -EPERM);
		CHECK_RULE(ROOT, dsp, "INIT_CREATE signed", op_create,
			   &signed_pd, 0);
	}
	CHECK_RULE(NOBODY_USER, "cdsp", "user flow (signed)", op_user_flow,
		   &signed_pd, 0);
}

TEST_F(priv, trusted_only_attributes)
{
	static const char *const dsps[] = { "cdsp1", "cdsp" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dsps); i++) {
		const char *dsp = dsps[i];

		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE debug", op_create,
			   &debug_pd, -EPERM);
		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE ptrace", op_create,
			   &ptrace_pd, -EPERM);
		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE system", op_create,
			   &system_pd, -EPERM);
		CHECK_RULE(NOBODY_USER, dsp, "INIT_CREATE privileged", op_create,
			   &privileged_pd, -EPERM);
		CHECK_RULE(ROOT, dsp, "INIT_CREATE debug", op_create,
			   &debug_pd, 0);
		CHECK_RULE(ROOT, dsp, "INIT_CREATE privileged", op_create,
			   &privileged_pd, 0);
	}
}

TEST_F(priv, unknown_attribute_bits_refused)
{
	CHECK_RULE(ROOT, "cdsp", "INIT_CREATE bit 7", op_create, &unknown_pd,
		   -EINVAL);
	CHECK_RULE(ROOT, "cdsp", "INIT_CREATE bit 31", op_create, &high_bit_pd,
		   -EINVAL);
	CHECK_RULE(NOBODY_USER, "cdsp", "INIT_CREATE bit 7", op_create,
		   &unknown_pd, -EINVAL);
}

TEST_F(priv, static_pd_needs_trust)
{
	CHECK_RULE(NOBODY_USER, "adsp", "INIT_CREATE_STATIC", op_create_static,
		   "audiopd", -EPERM);
	CHECK_RULE(NOBODY_USER, "cdsp1", "INIT_CREATE_STATIC", op_create_static,
		   "audiopd", -EPERM);
}

static int op_create_static_raw(int fd, const void *arg)
{
	struct drm_qda_init_create_static c = *(const struct drm_qda_init_create_static *)arg;
	int ret = ioctl(fd, DRM_IOCTL_QDA_INIT_CREATE_STATIC, &c);

	return ret == -1 ? -errno : ret;
}

static int adsp_caps(void)
{
	struct drm_qda_query q;
	int fd = qda_open_dsp("adsp"), caps = -1;

	if (fd >= 0 && !qda_query(fd, &q))
		caps = q.capabilities;
	if (fd >= 0)
		close(fd);
	return caps;
}

/* Bad names get EINVAL/EFAULT before anything else, also from root. */
TEST_F(priv, static_pd_bad_names)
{
	static char long_name[QDA_INIT_NAME_MAX + 1];
	static const char no_nul[8] = "audiopdX";
	static const char early_nul[8] = "aud\0iopd";
	struct drm_qda_init_create_static c;

	memset(long_name, 'a', sizeof(long_name) - 1);
	memset(&c, 0, sizeof(c));
	c.name = (uintptr_t)"audiopd";
	c.namelen = 0;
	CHECK_RULE(ROOT, "adsp", "STATIC namelen 0", op_create_static_raw, &c,
		   -EINVAL);
	c.name = (uintptr_t)long_name;
	c.namelen = sizeof(long_name);
	CHECK_RULE(ROOT, "adsp", "STATIC namelen 129", op_create_static_raw, &c,
		   -EINVAL);
	c.name = (uintptr_t)no_nul;
	c.namelen = sizeof(no_nul);
	CHECK_RULE(ROOT, "adsp", "STATIC no NUL", op_create_static_raw, &c,
		   -EINVAL);
	c.name = (uintptr_t)early_nul;
	c.namelen = sizeof(early_nul);
	CHECK_RULE(ROOT, "adsp", "STATIC early NUL", op_create_static_raw, &c,
		   -EINVAL);
	if (adsp_caps() & QDA_CAP_REMOTE_HEAP) {
		c.name = 0;
		c.namelen = 8;
		CHECK_RULE(ROOT, "adsp", "STATIC NULL name", op_create_static_raw,
			   &c, -EFAULT);
	}
}

/*
 * The audio PD: EOPNOTSUPP on a channel without a remote heap (cdsp, and
 * adsp where the guest has no reserved memory for it); with one, a trusted
 * opener creates it.
 */
TEST_F(priv, static_pd_needs_remote_heap)
{
	CHECK_RULE(ROOT, "cdsp", "INIT_CREATE_STATIC", op_create_static,
		   "audiopd", -EOPNOTSUPP);
	if (adsp_caps() & QDA_CAP_REMOTE_HEAP)
		CHECK_RULE(ROOT, "adsp", "INIT_CREATE_STATIC", op_create_static,
			   "audiopd", 0);
	else
		CHECK_RULE(ROOT, "adsp", "INIT_CREATE_STATIC", op_create_static,
			   "audiopd", -EOPNOTSUPP);
}

/* Everything that is not a privileged PD is open to untrusted openers. */
TEST_F(priv, user_flow_open_to_untrusted)
{
	CHECK_RULE(NOBODY_USER, "cdsp1", "user flow (unsigned)", op_user_flow,
		   &unsigned_pd, 0);
	CHECK_RULE(ROOT, "cdsp1", "user flow (signed)", op_user_flow,
		   &signed_pd, 0);
}

/* Reloads qda.ko with trusted_gid set: group members become trusted. */
TEST(trusted_gid_makes_members_trusted)
{
	char cmd[300];

	ASSERT_EQ(0, qda_rmmod("qda"));
	snprintf(cmd, sizeof(cmd), "insmod %s/qda.ko trusted_gid=%d",
		 qda_moddir(), TRUSTED_GID);
	ASSERT_EQ(0, qda_sh("%s", cmd));
	ASSERT_EQ(0, wait_cdsp_node(1, 5000));
	open_up_nodes();
	EXPECT_EQ(1, as_who(GROUP_MEMBER, "cdsp", op_trusted, NULL));
	EXPECT_EQ(0, as_who(NOBODY_USER, "cdsp", op_trusted, NULL));
	CHECK_RULE(GROUP_MEMBER, "cdsp1", "INIT_ATTACH", op_attach, NULL, 0);
	CHECK_RULE(GROUP_MEMBER, "cdsp1", "INIT_CREATE signed", op_create,
		   &signed_pd, 0);
	CHECK_RULE(GROUP_MEMBER, "sdsp", "INIT_ATTACH_SNS", op_attach_sns, NULL, 0);
	CHECK_RULE(NOBODY_USER, "cdsp1", "INIT_ATTACH", op_attach, NULL, -EPERM);
	/* Back to the default load. */
	ASSERT_EQ(0, qda_rmmod("qda"));
	ASSERT_EQ(0, qda_insmod("qda"));
	ASSERT_EQ(0, wait_cdsp_node(1, 5000));
}

TEST_HARNESS_MAIN
