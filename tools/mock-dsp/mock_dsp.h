/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qda_mock_dsp - shared definitions of the transport (mock_dsp.c) and the
 * fake DSP behind it (mock_dsp_rpc.c).  See mock_dsp.c for the contract and
 * Documentation/accel/qda/mock-dsp.rst for the full description.
 */
#ifndef QDA_MOCK_DSP_H
#define QDA_MOCK_DSP_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/irq_work.h>
#include <linux/ktime.h>
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

/*
 * A DSP address: the context bank's SID (its reg) in bits 63:32, as
 * fastrpc.c's default_soc_data puts it, the device address below.
 */
#define MOCK_SID_SHIFT		32
#define MOCK_ADDR_MASK		GENMASK_ULL(MOCK_SID_SHIFT - 1, 0)

/*
 * Where iommu-dma puts the IOVAs of a 32-bit device: it allocates top-down
 * from the DMA limit, so every test allocation lands in this window, which
 * the debugfs "iommu" file scans page by page.
 */
#define MOCK_IOVA_WINDOW_START	0xf0000000ull
#define MOCK_IOVA_WINDOW_END	0x100000000ull

struct device;
struct device_node;
struct faux_device;
struct iommu_domain;
struct seq_file;
struct mock_channel;
struct mock_ept;
struct mock_rpdev;

/*
 * A message in flight; holds a reference on the endpoint it belongs to.
 * @deadline and @retval are used while the message waits on the channel's
 * deferred list.  A request's buffer becomes its response: @t_rx is when
 * the send op got the request, @t_tx when the response went to the
 * endpoint's callback (the DSP's service time, see mock_msg_done()).
 */
struct mock_msg {
	struct list_head node;
	struct mock_ept *mept;
	unsigned long deadline;
	ktime_t t_rx;
	ktime_t t_tx;
	s32 retval;
	int len;
	u8 data[] __counted_by(len);
};

/* Most DSP worker threads a channel can have ("workers" control). */
#define MOCK_MAX_WORKERS	8
/* Service times kept per channel (the latest ones). */
#define MOCK_SVC_RING		16384

/* One answered request in the service-time ring (struct mock_channel). */
struct mock_svc_rec {
	u64 rx_ns;
	u64 tx_ns;
};

/*
 * One DSP worker thread of a channel.  Worker 0 runs on the channel's
 * ordered workqueue (with the deferred answers), the others on its pool
 * workqueue.  @busy (under mock_channel.lock) is set when the worker is
 * queued and cleared when it finds no request left to take.
 */
struct mock_worker {
	struct work_struct work;
	struct mock_channel *chan;
	unsigned int idx;
	bool busy;
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
	/* Serialises the DSP methods (workers, deferred work, reset). */
	struct mutex lock;
	struct list_head procs;
	u64 next_vaddr;
	u32 next_handle;
	/*
	 * The remote heap went to the DSP with a create static (method 8)
	 * since the channel started; later creates must not send it again.
	 */
	bool heap_given;
	/* Mirrors for the status line, read without the lock. */
	unsigned int nprocs;
	unsigned int nmaps;
	unsigned int nhandles;
	/* Default listeners registered (by handle, see mock-dsp.rst). */
	unsigned int nlisteners;
};

struct mock_channel {
	const struct mock_chan_desc *desc;
	/* fastrpc-<label>; valid while mock_ocs is applied. */
	struct device_node *np;
	struct faux_device *parent;
	/* Registered rpmsg device, NULL while stopped.  Protected by mock_lock. */
	struct mock_rpdev *mrpdev;
	struct workqueue_struct *wq;
	/* Runs workers 1 and up. */
	struct workqueue_struct *pool_wq;
	struct mock_worker workers[MOCK_MAX_WORKERS];
	/* Workers that take requests (1 unless set by "workers"). */
	unsigned int nworkers;
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
	/*
	 * When each answered request came in and went out (@t_rx, @t_tx of
	 * its message, ns of CLOCK_MONOTONIC), the latest MOCK_SVC_RING of
	 * them from @svc_ring[@svc_head] on; since the last reset:
	 * @svc_count answers, @svc_sum ns of service time (t_tx - t_rx) in
	 * all, @svc_max the longest.
	 */
	struct mock_svc_rec *svc_ring;
	unsigned int svc_head;
	u64 svc_count;
	u64 svc_sum;
	u32 svc_max;
	atomic64_t violations;
	/*
	 * Set at load when the CB nodes got an iommus property: the DSP then
	 * sees IOVAs of the CB devices' IOMMU domains, not physical memory.
	 */
	bool iommu;
	/* Pages the DSP side translated through a CB's domain. */
	atomic64_t translations;
	/* DSP addresses that did not translate (also violations). */
	atomic64_t dsp_faults;
	/* The DSP has a sensors PD (attach with ctx PD 2). */
	bool sensors_pd;
	/*
	 * The remote heap the node's memory-region names (physical, as the
	 * kernel reserved it at boot); size 0 when the channel has none.
	 */
	u64 heap_base;
	u64 heap_size;
	/* Creates that handed the DSP the remote heap, over restarts. */
	atomic64_t heap_grants;
	struct mock_dsp_state dsp;
};

const char *mock_chan_label(const struct mock_channel *chan);
/* The rpmsg device @msg arrived on; registered while it is handled. */
struct device *mock_msg_rpdev(struct mock_msg *msg);

/* Transport services for the DSP side (mock_dsp.c). */
void mock_msg_done(struct mock_channel *chan, struct mock_msg *msg,
		   bool answered);
void mock_respond(struct mock_channel *chan, struct mock_msg *msg, s32 retval);
void mock_respond_later(struct mock_channel *chan, struct mock_msg *msg,
			s32 retval, unsigned int ms);

/*
 * How the DSP reaches memory (mock_dsp_mem.c).  A struct mock_mem lives for
 * one request (or one control command) and caches the context bank of the
 * last address it resolved.
 */
struct mock_mem {
	struct mock_channel *chan;
	/* The channel's rpmsg device: the CB devices are its children. */
	struct device *rpdev;
	/* Count translations in chan->translations. */
	bool count;
	/* The cached CB: its reg, device (a reference) and DMA domain. */
	u32 sid;
	struct device *cb;
	struct iommu_domain *domain;
};

void mock_mem_init(struct mock_mem *mem, struct mock_channel *chan,
		   struct device *rpdev, bool count);
void mock_mem_release(struct mock_mem *mem);
int mock_mem_check(struct mock_mem *mem, u64 addr, u64 len);
int mock_mem_copy(struct mock_mem *mem, u64 addr, void *buf, u64 len,
		  bool to_dsp);
int mock_mem_resolve(struct mock_channel *chan, struct device *rpdev,
		     u64 addr);
void mock_mem_show_iommu(struct seq_file *m, struct mock_channel *chan,
			 struct device *rpdev);

/* The DSP side (mock_dsp_rpc.c). */
void mock_rpc_init(struct mock_channel *chan);
void mock_rpc_handle(struct mock_channel *chan, struct mock_msg *msg);
void mock_rpc_reset(struct mock_channel *chan);

#endif /* QDA_MOCK_DSP_H */
