// SPDX-License-Identifier: GPL-2.0
/*
 * The mock DSP is faithful: the upstream C driver (fastrpc.ko) binds to it.
 * Node discovery and restart, with fastrpc.ko loaded instead of qda.ko.
 * Each test swaps qda.ko for fastrpc.ko and back; checks use EXPECT so that
 * the swap back always runs.
 */
#include <misc/fastrpc.h>

#include "qda_common.h"
#include "kselftest_harness.h"

/* Replaces qda.ko by fastrpc.ko; 0 on success. */
static int use_fastrpc(void)
{
	if (qda_rmmod("qda"))
		return -1;
	return qda_insmod("fastrpc");
}

/* Puts qda.ko back; 0 on success. */
static int use_qda(void)
{
	qda_rmmod("fastrpc");
	return qda_module_loaded("qda") ? 0 : qda_insmod("qda");
}

TEST(fastrpc_nodes_for_both_channels)
{
	EXPECT_EQ(0, use_fastrpc());
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp-secure", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-adsp", F_OK));
	/* And no accel node: qda.ko is not loaded. */
	EXPECT_EQ(0, qda_find_node("cdsp", NULL, 0));
	EXPECT_EQ(0, use_qda());
	EXPECT_NE(0, access("/dev/fastrpc-cdsp", F_OK));
	EXPECT_EQ(1, qda_find_node("cdsp", NULL, 0));
}

/*
 * fastrpc.c's nodes for the mock's secure and non-secure channels: a
 * compute DSP gets a trusted (-secure) and an untrusted node either way,
 * another DSP one node, -secure on a secure channel.  On a secure channel
 * the untrusted node creates unsigned PDs only (ECONNREFUSED otherwise).
 */
TEST(fastrpc_secure_and_non_secure_nodes)
{
	struct fastrpc_init_create c = { .filefd = -1 };
	int fd;

	EXPECT_EQ(0, use_fastrpc());
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp1-secure", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp1", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-sdsp-secure", F_OK));
	EXPECT_NE(0, access("/dev/fastrpc-sdsp", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-adsp", F_OK));
	EXPECT_NE(0, access("/dev/fastrpc-adsp-secure", F_OK));
	fd = open("/dev/fastrpc-cdsp1", O_RDWR);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		EXPECT_EQ(-1, ioctl(fd, FASTRPC_IOCTL_INIT_CREATE, &c));
		EXPECT_EQ(ECONNREFUSED, errno);
		c.attrs = FASTRPC_MODE_UNSIGNED_MODULE;
		EXPECT_EQ(0, ioctl(fd, FASTRPC_IOCTL_INIT_CREATE, &c));
		close(fd);
	}
	EXPECT_EQ(0, use_qda());
}

TEST(fastrpc_restart_removes_and_restores_nodes)
{
	int fd;

	EXPECT_EQ(0, use_fastrpc());
	fd = open("/dev/fastrpc-cdsp", O_RDWR);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, mock_control("stop cdsp"));
	EXPECT_NE(0, access("/dev/fastrpc-cdsp", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-adsp", F_OK));
	EXPECT_EQ(0, mock_control("start cdsp"));
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp", F_OK));
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, use_qda());
}

TEST_HARNESS_MAIN
