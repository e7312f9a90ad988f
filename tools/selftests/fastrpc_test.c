// SPDX-License-Identifier: GPL-2.0
/*
 * The mock DSP is faithful: the upstream C driver (fastrpc.ko) binds to it.
 * Node discovery and restart, with fastrpc.ko loaded instead of qda.ko.
 * Each test swaps qda.ko for fastrpc.ko and back.
 */
#include "qda_common.h"
#include "kselftest_harness.h"

FIXTURE(fastrpc) {
	int dummy;
};

FIXTURE_SETUP(fastrpc)
{
	ASSERT_EQ(0, qda_rmmod("qda"));
	ASSERT_EQ(0, qda_insmod("fastrpc"));
}

FIXTURE_TEARDOWN(fastrpc)
{
	qda_rmmod("fastrpc");
	if (!qda_module_loaded("qda"))
		EXPECT_EQ(0, qda_insmod("qda"));
}

TEST_F(fastrpc, nodes_for_both_channels)
{
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp-secure", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-adsp", F_OK));
	/* And no accel node: qda.ko is not loaded. */
	EXPECT_EQ(0, qda_find_node("cdsp", NULL, 0));
}

TEST_F(fastrpc, restart_removes_and_restores_nodes)
{
	int fd = open("/dev/fastrpc-cdsp", O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mock_control("stop cdsp"));
	EXPECT_NE(0, access("/dev/fastrpc-cdsp", F_OK));
	EXPECT_EQ(0, access("/dev/fastrpc-adsp", F_OK));
	ASSERT_EQ(0, mock_control("start cdsp"));
	EXPECT_EQ(0, access("/dev/fastrpc-cdsp", F_OK));
	close(fd);
}

TEST_HARNESS_MAIN
