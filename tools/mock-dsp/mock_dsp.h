/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qda_mock_dsp - shared definitions of the transport (mock_dsp.c) and the
 * fake DSP behind it (mock_dsp_rpc.c).  See mock_dsp.c for the contract and
 * Documentation/accel/qda/mock-dsp.rst for the full description.
 */
#ifndef QDA_MOCK_DSP_H
#define QDA_MOCK_DSP_H

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rpmsg.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* A FastRPC request as drivers/misc/fastrpc.c sends it. */
struct mock_invoke_req {
	s32 client_id;
	s32 tid;
	u64 ctx;
	u32 handle;
	u32 sc;
	u64 addr;
	u64 size;
};

static_assert(sizeof(struct mock_invoke_req) == 40);

/* The DSP's answer; fastrpc.c reads {u64 ctx; int retval}. */
struct mock_invoke_rsp {
	u64 ctx;
	s32 retval;
	u32 pad;
};

static_assert(sizeof(struct mock_invoke_rsp) == 16);

struct device_node;
struct faux_device;
struct mock_channel;
struct mock_ept;
struct mock_rpdev;

/*
 * A message in flight; holds a reference on the endpoint it belongs to.
 * @deadline and @retval are used while the message waits on the channel's
 * deferred list.
 */
struct mock_msg {
	struct list_head node;
	struct mock_ept *mept;
	unsigned long deadline;
	s32 retval;
	int len;
	u8 data[] __counted_by(len);
};

struct mock_chan_desc;

/* One-shot or counted fault injections, set through the control file. */
struct mock_faults {
	unsigned int drop;
	unsigned int dup;
	unsigned int corrupt;
	unsigned int shortrsp;
	bool restart_mid_call;
	unsigned int delay_ms;
};

/* The fake DSP's per-channel state; protected by mock_dsp_state.lock. */
struct mock_dsp_state {
	/* Serialises the DSP side (worker, deferred work, reset). */
	struct mutex lock;
	struct list_head procs;
	u64 next_vaddr;
	u32 next_handle;
	/* Mirrors for the status line, read without the lock. */
	unsigned int nprocs;
	unsigned int nmaps;
	unsigned int nhandles;
};

struct mock_channel {
	const struct mock_chan_desc *desc;
	/* fastrpc-<label>; valid while mock_ocs is applied. */
	struct device_node *np;
	struct faux_device *parent;
	/* Registered rpmsg device, NULL while stopped.  Protected by mock_lock. */
	struct mock_rpdev *mrpdev;
	struct workqueue_struct *wq;
	struct work_struct work;
	/* Answers the deferred (sleeping) calls when they are due. */
	struct delayed_work deferred_work;
	/* Runs "restart-mid-call" outside the channel's workqueue. */
	struct work_struct restart_work;
	struct irq_work rx_work;
	/* Protects everything below; taken from hard IRQ, so always irqsave. */
	spinlock_t lock;
	bool up;
	struct list_head requests;
	struct list_head responses;
	struct list_head deferred;
	struct mock_faults faults;
	u64 received;
	u64 answered;
	u64 dropped;
	atomic64_t violations;
	struct mock_dsp_state dsp;
};

const char *mock_chan_label(const struct mock_channel *chan);

/* Transport services for the DSP side (mock_dsp.c). */
void mock_msg_done(struct mock_channel *chan, struct mock_msg *msg,
		   bool answered);
void mock_respond(struct mock_channel *chan, struct mock_msg *msg, s32 retval);
void mock_respond_later(struct mock_channel *chan, struct mock_msg *msg,
			s32 retval, unsigned int ms);

/* The DSP side (mock_dsp_rpc.c). */
void mock_rpc_init(struct mock_channel *chan);
void mock_rpc_handle(struct mock_channel *chan, struct mock_msg *msg);
void mock_rpc_reset(struct mock_channel *chan);

#endif /* QDA_MOCK_DSP_H */
