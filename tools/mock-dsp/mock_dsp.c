// SPDX-License-Identifier: GPL-2.0
/*
 * qda_mock_dsp - a fake Hexagon DSP behind fake rpmsg channels, for tests only
 *
 * Never load this on real hardware: it exists so that the FastRPC drivers
 * (the upstream drivers/misc/fastrpc.c and QDA) can be probed, driven and torn
 * down in a QEMU guest that has no DSP.
 *
 * Contract
 * --------
 * Device tree.  On load the module applies an of_changeset under of_root:
 *
 *	/qda-mock {
 *		fastrpc-cdsp {
 *			compatible = "qcom,fastrpc";
 *			label = "cdsp";
 *			qcom,non-secure-domain;
 *			#address-cells = <1>;
 *			#size-cells = <0>;
 *			compute-cb@1 { compatible = "qcom,fastrpc-compute-cb"; reg = <1>; };
 *			compute-cb@2 { ... reg = <2>; };
 *			compute-cb@3 { ... reg = <3>; qcom,nsessions = <2>; };
 *			compute-cb@4 { ... reg = <4>; };
 *		};
 *		fastrpc-adsp {
 *			(same properties, label = "adsp", compute-cb@1 and @2,
 *			 memory-region = <&remote heap> where there is one)
 *		};
 *		fastrpc-xdsp { (label = "xdsp", not a DSP name; compute-cb@1) };
 *		fastrpc-mdsp { (compute-cb@1 with qcom,nsessions = <15>) };
 *		fastrpc-gdsp0 { (compute-cb@1; behind an SMMU its iommus names
 *				 the interrupt controller, which is no IOMMU) };
 *		fastrpc-cdsp1 { (label = "cdsp1", no qcom,non-secure-domain:
 *				 secure; compute-cb@1, @2 with 2 sessions) };
 *		fastrpc-sdsp { (label = "sdsp", secure; compute-cb@1) };
 *	};
 *
 * and reverts it on unload.  The remote heap is the boot device tree's
 * /reserved-memory/adsp-rpc-remote-heap@..., which tools/qda-vm adds on
 * arm64; x86_64 has none (nothing reserves memory from a device tree
 * there), so its adsp node has no memory-region.  The xdsp and mdsp
 * channels are malformed on purpose (for the drivers' probe error paths)
 * and stay down until started.
 * The CB nodes are not turned into devices by this module; the bound driver
 * does that (fastrpc.c calls of_platform_populate()).  /qda-mock is marked
 * OF_POPULATED before the changeset is applied, so the OF reconfig notifier
 * makes no platform device for it.
 *
 * IOMMU.  When the platform has an "arm,smmu-v3" node (QEMU's
 * virt,iommu=smmuv3 on arm64) every CB node also gets
 *
 *	iommus = <&smmu STREAM-ID>;
 *
 * with STREAM-ID = 0x100 * (channel index + 1) + reg, which differs from
 * the reg (the SID the drivers put in DSP addresses) as on real boards and
 * is unique across channels: cdsp 0x101-0x104, adsp 0x201-0x202, xdsp 0x301,
 * mdsp 0x401.  Without one (x86_64) the nodes are exactly as above.
 *
 * Channels.  Each fastrpc-<label> node gets its own faux device
 * ("qda-mock-<label>", standing for the glink edge of that DSP) as parent of
 * one rpmsg device named "fastrpcglink-apps-dsp" with src = dst =
 * RPMSG_ADDR_ANY and of_node = the fastrpc-<label> node, so any rpmsg driver
 * matching "qcom,fastrpc" binds to it.  One parent per channel keeps the rpmsg
 * device names ("<parent>.<name>.<src>.<dst>") unique, as real edges do.
 *
 * Sending.  send()/sendto()/trysend()/trysendto() copy the message, queue it to
 * the channel's DSP worker and return 0 without waiting for the DSP.  By
 * default a channel has one worker, on its ordered workqueue: requests are
 * served one at a time, in the order they were sent.  "workers <label> <n>"
 * (or the workers module parameter, for every channel at load) lets up to
 * n requests be served at once, each by the next idle worker; the DSP's
 * methods still run one at a time (chan->dsp.lock), but decoding and the
 * copies in and out do not.
 * send() and sendto() may sleep (might_sleep(): the real glink send can), the
 * try variants never do.  Errors: -EINVAL for a negative length,
 * -EMSGSIZE above MOCK_MTU bytes, -ENOMEM, and -EPIPE while the channel is
 * stopped or being stopped.
 *
 * The DSP (mock_dsp_rpc.c).  Every message of at least 40 bytes is a FastRPC
 * request (struct mock_invoke_req); shorter ones are counted and dropped.  The
 * DSP reads the payload at the request's address (SID in bits 63:32, device
 * address below), checks every metadata field, counting each protocol
 * violation, runs the method (init handle with the sensors and static PDs,
 * capability query, remotectl, the daemons' listener services, test skel,
 * calculator; see Documentation/accel/qda/mock-dsp.rst),
 * writes the output buffers back and answers {u64 ctx; s32 retval; u32 pad}.
 *
 * DSP memory (mock_dsp_mem.c).  Every address the DSP dereferences (payload,
 * argument pages, mmap/mem_map page lists, create's init memory) is resolved
 * as a DSP would: without an IOMMU the device address is physical and must
 * be RAM (dma-direct); behind one it is an IOVA of the DMA domain of the CB
 * device the bound driver made below the rpmsg device for the CB node whose
 * reg is the SID, translated page by page with iommu_iova_to_phys().  An
 * address that does not translate is a DSP fault: a violation, counted in
 * faults too, and the call fails with AEE_EBADPARM.
 * The delay_ms module parameter (writable at run time in
 * /sys/module/qda_mock_dsp/parameters/) makes the DSP sleep that long before
 * handling each message, so tests can keep requests in flight across a stop;
 * a stop then waits at most delay_ms for the message being handled.
 *
 * Receiving.  Responses reach ept->cb(rpdev, data, 16, ept->priv,
 * RPMSG_ADDR_ANY) in order.  With the hardirq_rx module parameter set (the
 * default) they are delivered from a hard-IRQ irq_work under a spinlock, which
 * is the context qcom_glink_smem gives rpmsg callbacks on real SoCs: a driver
 * whose callback sleeps or takes IRQ-unsafe locks is caught by
 * DEBUG_ATOMIC_SLEEP/lockdep here.  With hardirq_rx=0 they are delivered from
 * the channel's workqueue under ept->cb_lock (process context, like
 * virtio_rpmsg_bus).  Either way destroy_ept clears ept->cb under every lock
 * the delivery path takes, so no callback runs once destroy_ept has returned.
 *
 * Service time.  Each message is stamped (ktime_get()) when a send op gets
 * it and when its response goes to the endpoint's callback; the difference
 * is the DSP's service time for the request: queueing, the worker, the
 * method, the copies and the delivery, everything but the driver.  The
 * latest MOCK_SVC_RING of them, with count, sum and maximum since the last
 * reset, are read from /sys/kernel/debug/qda_mock_dsp/service/<label>; any
 * write to that file resets them.
 *
 * Counters.  Per channel, cumulative over restarts: received (every message
 * accepted by a send op), answered (responses handed to a callback), dropped
 * (too short, discarded by a stop or a "drop" fault, or the endpoint was
 * destroyed), violations (protocol violations seen by the DSP side),
 * translations (pages the DSP side looked up through an IOMMU domain) and
 * faults (DSP addresses that did not translate; both stay 0 without an
 * IOMMU); and the DSP's live processes, mappings and opened handles, reset
 * by a restart.
 *
 * Control.  /sys/kernel/debug/qda_mock_dsp/control accepts one command per
 * write:
 *	stop <label>	quiesce the DSP side and device_unregister() the rpmsg
 *			device: the bound driver's remove runs, which is how a
 *			DSP subsystem restart (SSR) looks to it.  Requests and
 *			responses still queued are dropped.
 *	start <label>	register a fresh rpmsg device for the channel.
 *	restart <label>	stop (if up) then start.
 *	resolve <label> <hexaddr>
 *			succeeds if the DSP address (SID in bits 63:32)
 *			resolves to RAM on that up channel, else -EFAULT;
 *			counts no violation, translation or fault.
 *	delay <label> <ms>, drop|dup|corrupt|short <label> [n],
 *	restart-mid-call <label>, clear <label>
 *			fault controls, see mock-dsp.rst.
 *	workers <label> <n>
 *			serve up to n (1-8) requests at once; 1 restores the
 *			default order.  "clear" does not reset it.
 * Errors: -EINVAL for an unknown command, missing label or bad number,
 * -ENODEV for an unknown label, -EALREADY for stop of a stopped or start of
 * a started channel.  Reading control (or status) prints one line per
 * channel:
 *	<label> up|down received=N answered=N dropped=N violations=N
 *		processes=N mappings=N handles=N translations=N faults=N
 *
 * IOMMU page tables.  /sys/kernel/debug/qda_mock_dsp/iommu prints, for each
 * CB of every up channel whose device (below the rpmsg device) is in an
 * IOMMU group:
 *	<label> cb<reg> sid <stream ID> mapped=<pages>
 * where pages counts the pages of the IOVA window [0xf0000000, 0x100000000)
 * that the CB's DMA domain maps (iommu_iova_to_phys() != 0).  iommu-dma
 * allocates a 32-bit device's IOVAs top-down, so every test allocation
 * lands in that window.
 *
 * Unloading stops every channel, waits for the rpmsg devices to be released,
 * then destroys the faux devices and reverts the device tree.
 *
 * Usage (see tools/qda-vm): build with
 *	make -C $QDA_KSRC O=$QDA_KDIR M=$PWD/tools/mock-dsp
 * and insmod qda_mock_dsp.ko before or after the driver under test.  The
 * upstream fastrpc.ko needs qcom_pas.ko, qcom_tzmem.ko and qcom-scm.ko (in
 * that order) loaded first.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device/faux.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_reserved_mem.h>
#include <linux/overflow.h>
#include <linux/rpmsg.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "rpmsg_internal.h"
#include "mock_dsp.h"

#define MOCK_CHANNEL_NAME	"fastrpcglink-apps-dsp"
/* Child of /reserved-memory in the boot device tree (tools/qda-vm, arm64). */
#define MOCK_HEAP_NODE		"adsp-rpc-remote-heap"
/* Largest message the send ops accept. */
#define MOCK_MTU		4096

static bool hardirq_rx = true;
module_param(hardirq_rx, bool, 0444);
MODULE_PARM_DESC(hardirq_rx,
		 "Deliver responses in hard-IRQ context like qcom_glink_smem (default: Y)");

static unsigned int delay_ms;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "Time the DSP takes to answer each message, in ms (default: 0)");

static unsigned int workers = 1;
module_param(workers, uint, 0444);
MODULE_PARM_DESC(workers,
		 "DSP worker threads per channel at load, 1-8; 1 serves requests one at a time, in order (default: 1)");

struct mock_cb_desc {
	u32 reg;
	u32 nsessions;		/* 0: no qcom,nsessions property */
};

struct mock_chan_desc {
	const char *label;
	const struct mock_cb_desc *cbs;
	unsigned int ncbs;
	/* Not registered at load; only "start <label>" brings it up. */
	bool down;
	/*
	 * Behind an SMMU, the CBs' iommus name a node that is no IOMMU (the
	 * interrupt controller): the drivers must fail the probe cleanly.
	 */
	bool bad_iommu;
	/* No qcom,non-secure-domain: a secure channel. */
	bool secure;
	/*
	 * The node's memory-region names the boot device tree's
	 * /reserved-memory/adsp-rpc-remote-heap, where there is one.
	 */
	bool remote_heap;
	/* The DSP has a sensors PD (attach with ctx PD 2). */
	bool sensors_pd;
};

static const struct mock_cb_desc mock_cdsp_cbs[] = {
	{ .reg = 1 }, { .reg = 2 }, { .reg = 3, .nsessions = 2 }, { .reg = 4 },
};

static const struct mock_cb_desc mock_adsp_cbs[] = {
	{ .reg = 1 }, { .reg = 2 },
};

/*
 * Stream ID of CB @reg of channel @idx behind the SMMU: unlike the reg (the
 * SID the drivers put in DSP addresses), unique across the channels, as on
 * real boards.
 */
#define MOCK_STREAM_ID(idx, reg)	(0x100 * ((idx) + 1) + (reg))

/* The secure channels: a compute DSP (unsigned PDs) and a sensors DSP. */
static const struct mock_cb_desc mock_cdsp1_cbs[] = {
	{ .reg = 1 }, { .reg = 2, .nsessions = 2 },
};

static const struct mock_cb_desc mock_sdsp_cbs[] = {
	{ .reg = 1 },
};

/* More sessions than a channel may have (FASTRPC_MAX_SESSIONS is 14). */
static const struct mock_cb_desc mock_mdsp_cbs[] = {
	{ .reg = 1, .nsessions = 15 },
};

/*
 * Three malformed channels for the drivers' probe error paths, down until
 * started: "xdsp" is not a DSP name, "mdsp" has too many sessions, and the
 * CB of "gdsp0" names a non-IOMMU node in its iommus (only behind an SMMU;
 * without one it is a well-formed channel).
 */
static const struct mock_chan_desc mock_chan_descs[] = {
	{ "cdsp", mock_cdsp_cbs, ARRAY_SIZE(mock_cdsp_cbs) },
	{ "adsp", mock_adsp_cbs, ARRAY_SIZE(mock_adsp_cbs),
	  .remote_heap = true, .sensors_pd = true },
	{ "xdsp", mock_adsp_cbs, 1, .down = true },
	{ "mdsp", mock_mdsp_cbs, ARRAY_SIZE(mock_mdsp_cbs), .down = true },
	{ "gdsp0", mock_adsp_cbs, 1, .down = true, .bad_iommu = true },
	/*
	 * Secure channels (after the others, so that their accel numbers stay
	 * as they were): untrusted openers may only create unsigned PDs, and
	 * only on cdsp1.
	 */
	{ "cdsp1", mock_cdsp1_cbs, ARRAY_SIZE(mock_cdsp1_cbs), .secure = true },
	{ "sdsp", mock_sdsp_cbs, ARRAY_SIZE(mock_sdsp_cbs), .secure = true,
	  .sensors_pd = true },
};

struct mock_channel;

struct mock_ept {
	struct rpmsg_endpoint ept;
	struct mock_channel *chan;
	/* Guards ept.cb against the hard-IRQ delivery path. */
	spinlock_t rx_lock;
};

struct mock_rpdev {
	struct rpmsg_device rpdev;
	struct mock_channel *chan;
};

/* Serialises start/stop and the readers of mrpdev. */
static DEFINE_MUTEX(mock_lock);
/* Set under mock_lock once unloading has begun: no more restarts. */
static bool mock_exiting;
static struct mock_channel mock_channels[ARRAY_SIZE(mock_chan_descs)];
static struct of_changeset mock_ocs;
/* The remote heap found at load (mock_find_remote_heap()). */
static struct {
	phys_addr_t base;
	phys_addr_t size;
} mock_heap;
static struct dentry *mock_debugfs;
/* rpmsg devices not yet released; module exit waits for zero. */
static atomic_t mock_live_rpdevs = ATOMIC_INIT(0);

static struct mock_ept *to_mock_ept(struct rpmsg_endpoint *ept)
{
	return container_of(ept, struct mock_ept, ept);
}

static void mock_ept_release(struct kref *kref)
{
	struct rpmsg_endpoint *ept = container_of(kref, struct rpmsg_endpoint,
						  refcount);

	mutex_destroy(&ept->cb_lock);
	kfree(to_mock_ept(ept));
}

/*
 * The response in @msg goes to the callback now: note its service time.
 * Before the callback runs, so that a caller the callback wakes finds it
 * counted.  Any context.
 */
static void mock_svc_record(struct mock_channel *chan, struct mock_msg *msg)
{
	unsigned long flags;
	u32 v;

	msg->t_tx = ktime_get();
	v = clamp_t(s64, ktime_to_ns(ktime_sub(msg->t_tx, msg->t_rx)), 0,
		    U32_MAX);

	spin_lock_irqsave(&chan->lock, flags);
	if (chan->svc_ring) {
		chan->svc_ring[chan->svc_head].rx_ns = ktime_to_ns(msg->t_rx);
		chan->svc_ring[chan->svc_head].tx_ns = ktime_to_ns(msg->t_tx);
		chan->svc_head = (chan->svc_head + 1) % MOCK_SVC_RING;
	}
	chan->svc_count++;
	chan->svc_sum += v;
	chan->svc_max = max(chan->svc_max, v);
	spin_unlock_irqrestore(&chan->lock, flags);
}

/* Account for a finished message and free it.  Any context. */
void mock_msg_done(struct mock_channel *chan, struct mock_msg *msg,
		   bool answered)
{
	unsigned long flags;

	spin_lock_irqsave(&chan->lock, flags);
	if (answered)
		chan->answered++;
	else
		chan->dropped++;
	spin_unlock_irqrestore(&chan->lock, flags);

	kref_put(&msg->mept->ept.refcount, mock_ept_release);
	kfree(msg);
}

/* Hand one response to the endpoint's callback.  Process context. */
static void mock_deliver_locked_cb(struct mock_channel *chan,
				   struct mock_msg *msg)
{
	struct rpmsg_endpoint *ept = &msg->mept->ept;
	bool answered = false;

	mutex_lock(&ept->cb_lock);
	if (ept->cb) {
		mock_svc_record(chan, msg);
		ept->cb(ept->rpdev, msg->data, msg->len, ept->priv,
			RPMSG_ADDR_ANY);
		answered = true;
	}
	mutex_unlock(&ept->cb_lock);

	mock_msg_done(chan, msg, answered);
}

/*
 * Hard-IRQ delivery, the way qcom_glink_native calls callbacks from the
 * glink_smem interrupt handler.
 */
static void mock_rx_work(struct irq_work *work)
{
	struct mock_channel *chan = container_of(work, struct mock_channel,
						 rx_work);
	struct mock_msg *msg, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	spin_lock_irqsave(&chan->lock, flags);
	list_splice_init(&chan->responses, &list);
	spin_unlock_irqrestore(&chan->lock, flags);

	list_for_each_entry_safe(msg, tmp, &list, node) {
		struct rpmsg_endpoint *ept = &msg->mept->ept;
		bool answered = false;

		list_del(&msg->node);
		spin_lock_irqsave(&msg->mept->rx_lock, flags);
		if (ept->cb) {
			mock_svc_record(chan, msg);
			ept->cb(ept->rpdev, msg->data, msg->len, ept->priv,
				RPMSG_ADDR_ANY);
			answered = true;
		}
		spin_unlock_irqrestore(&msg->mept->rx_lock, flags);
		mock_msg_done(chan, msg, answered);
	}
}

const char *mock_chan_label(const struct mock_channel *chan)
{
	return chan->desc->label;
}

struct device *mock_msg_rpdev(struct mock_msg *msg)
{
	return &msg->mept->ept.rpdev->dev;
}

/* Hand a response to the endpoint, from hard IRQ or the workqueue. */
static void mock_deliver(struct mock_channel *chan, struct mock_msg *msg)
{
	unsigned long flags;
	bool up;

	spin_lock_irqsave(&chan->lock, flags);
	up = chan->up;
	if (up && hardirq_rx) {
		list_add_tail(&msg->node, &chan->responses);
		irq_work_queue(&chan->rx_work);
	}
	spin_unlock_irqrestore(&chan->lock, flags);

	if (!up)
		mock_msg_done(chan, msg, false);
	else if (!hardirq_rx)
		mock_deliver_locked_cb(chan, msg);
}

/*
 * Answer the request in @msg with @retval, applying the channel's fault
 * controls.  Consumes @msg.  Process context.
 */
void mock_respond(struct mock_channel *chan, struct mock_msg *msg, s32 retval)
{
	struct mock_invoke_rsp rsp = { .retval = retval };
	struct mock_msg *dup = NULL;
	bool drop = false;
	unsigned long flags;

	memcpy(&rsp.ctx, msg->data + offsetof(struct mock_invoke_req, ctx),
	       sizeof(rsp.ctx));
	if (READ_ONCE(chan->faults.dup))
		dup = kmalloc(struct_size(dup, data, sizeof(rsp)), GFP_KERNEL);

	spin_lock_irqsave(&chan->lock, flags);
	if (chan->faults.drop) {
		chan->faults.drop--;
		drop = true;
	}
	if (chan->faults.corrupt) {
		chan->faults.corrupt--;
		/* The lowest bit of the sequence number: a stale context. */
		rsp.ctx ^= BIT_ULL(16);
	}
	/* The response is shorter than the request: reuse the buffer. */
	msg->len = sizeof(rsp);
	if (chan->faults.shortrsp) {
		chan->faults.shortrsp--;
		msg->len = sizeof(rsp.ctx);
	}
	memcpy(msg->data, &rsp, msg->len);
	if (dup && chan->faults.dup && !drop) {
		chan->faults.dup--;
		dup->len = msg->len;
		memcpy(dup->data, msg->data, msg->len);
		dup->mept = msg->mept;
		dup->t_rx = msg->t_rx;
		kref_get(&msg->mept->ept.refcount);
	} else {
		kfree(dup);
		dup = NULL;
	}
	spin_unlock_irqrestore(&chan->lock, flags);

	if (drop) {
		mock_msg_done(chan, msg, false);
		return;
	}
	mock_deliver(chan, msg);
	if (dup)
		mock_deliver(chan, dup);
}

/* Answer @msg with @retval in @ms milliseconds, without blocking the worker. */
void mock_respond_later(struct mock_channel *chan, struct mock_msg *msg,
			s32 retval, unsigned int ms)
{
	struct mock_msg *pos, *first;
	unsigned long flags;

	msg->retval = retval;
	msg->deadline = jiffies + msecs_to_jiffies(ms);

	spin_lock_irqsave(&chan->lock, flags);
	if (!chan->up) {
		spin_unlock_irqrestore(&chan->lock, flags);
		mock_msg_done(chan, msg, false);
		return;
	}
	list_for_each_entry(pos, &chan->deferred, node)
		if (time_before(msg->deadline, pos->deadline))
			break;
	list_add_tail(&msg->node, &pos->node);
	first = list_first_entry(&chan->deferred, struct mock_msg, node);
	mod_delayed_work(chan->wq, &chan->deferred_work,
			 time_after(first->deadline, jiffies) ?
			 first->deadline - jiffies : 0);
	spin_unlock_irqrestore(&chan->lock, flags);
}

static void mock_deferred_work(struct work_struct *work)
{
	struct mock_channel *chan = container_of(to_delayed_work(work),
						 struct mock_channel,
						 deferred_work);
	struct mock_msg *msg, *tmp;
	unsigned long flags;
	LIST_HEAD(due);

	spin_lock_irqsave(&chan->lock, flags);
	list_for_each_entry_safe(msg, tmp, &chan->deferred, node) {
		if (time_before(jiffies, msg->deadline)) {
			mod_delayed_work(chan->wq, &chan->deferred_work,
					 msg->deadline - jiffies);
			break;
		}
		list_move_tail(&msg->node, &due);
	}
	spin_unlock_irqrestore(&chan->lock, flags);

	list_for_each_entry_safe(msg, tmp, &due, node) {
		list_del(&msg->node);
		mock_respond(chan, msg, msg->retval);
	}
}

/*
 * Queue an idle worker, if one of the first nworkers is; a busy one takes
 * the next request itself before it goes idle.  Under chan->lock.
 */
static void mock_kick_locked(struct mock_channel *chan)
{
	unsigned int i;

	for (i = 0; i < chan->nworkers; i++) {
		struct mock_worker *w = &chan->workers[i];

		if (!w->busy) {
			w->busy = true;
			queue_work(i ? chan->pool_wq : chan->wq, &w->work);
			return;
		}
	}
}

static void mock_dsp_work(struct work_struct *work)
{
	struct mock_worker *w = container_of(work, struct mock_worker, work);
	struct mock_channel *chan = w->chan;
	unsigned int delay;
	struct mock_msg *msg;
	unsigned long flags;
	bool restart;

	for (;;) {
		spin_lock_irqsave(&chan->lock, flags);
		msg = NULL;
		if (chan->up && w->idx < chan->nworkers)
			msg = list_first_entry_or_null(&chan->requests,
						       struct mock_msg, node);
		if (msg) {
			list_del(&msg->node);
		} else {
			w->busy = false;
			/* Left over when "workers" was lowered. */
			if (chan->up && !list_empty(&chan->requests))
				mock_kick_locked(chan);
		}
		restart = msg && chan->faults.restart_mid_call;
		if (restart)
			chan->faults.restart_mid_call = false;
		delay = max(READ_ONCE(delay_ms), chan->faults.delay_ms);
		spin_unlock_irqrestore(&chan->lock, flags);
		if (!msg)
			return;
		if (restart) {
			/* Never answered: the restart finds the call pending. */
			mock_msg_done(chan, msg, false);
			queue_work(system_unbound_wq, &chan->restart_work);
			continue;
		}
		if (delay)
			msleep(delay);
		if (msg->len < sizeof(struct mock_invoke_req)) {
			mock_msg_done(chan, msg, false);
			continue;
		}
		mock_rpc_handle(chan, msg);
	}
}

static int mock_queue(struct rpmsg_endpoint *ept, const void *data, int len,
		      gfp_t gfp)
{
	struct mock_ept *mept = to_mock_ept(ept);
	struct mock_channel *chan = mept->chan;
	ktime_t t_rx = ktime_get();
	struct mock_msg *msg;
	unsigned long flags;

	if (len < 0)
		return -EINVAL;
	if (len > MOCK_MTU)
		return -EMSGSIZE;

	msg = kmalloc(struct_size(msg, data, len), gfp);
	if (!msg)
		return -ENOMEM;
	msg->len = len;
	memcpy(msg->data, data, len);
	msg->mept = mept;
	msg->t_rx = t_rx;

	spin_lock_irqsave(&chan->lock, flags);
	if (!chan->up) {
		spin_unlock_irqrestore(&chan->lock, flags);
		kfree(msg);
		return -EPIPE;
	}
	kref_get(&ept->refcount);
	chan->received++;
	list_add_tail(&msg->node, &chan->requests);
	mock_kick_locked(chan);
	spin_unlock_irqrestore(&chan->lock, flags);

	return 0;
}

/*
 * A sleeping send does not fail for lack of memory: real transports write
 * into a preallocated FIFO or ring (glink, virtio), and a driver's cleanup
 * path (a DSP release at close) must be able to count on that, also under
 * fault injection. Messages are at most MOCK_MTU bytes.
 */
#define MOCK_SEND_GFP (GFP_KERNEL | __GFP_NOFAIL)

static int mock_send(struct rpmsg_endpoint *ept, const void *data, int len)
{
	might_sleep();
	return mock_queue(ept, data, len, MOCK_SEND_GFP);
}

static int mock_sendto(struct rpmsg_endpoint *ept, const void *data, int len,
		       u32 dst)
{
	might_sleep();
	return mock_queue(ept, data, len, MOCK_SEND_GFP);
}

static int mock_trysend(struct rpmsg_endpoint *ept, const void *data, int len)
{
	return mock_queue(ept, data, len, GFP_ATOMIC);
}

static int mock_trysendto(struct rpmsg_endpoint *ept, const void *data,
			  int len, u32 dst)
{
	return mock_queue(ept, data, len, GFP_ATOMIC);
}

static void mock_destroy_ept(struct rpmsg_endpoint *ept)
{
	struct mock_ept *mept = to_mock_ept(ept);
	unsigned long flags;

	/* Once cb is NULL under both locks no delivery path can call it. */
	mutex_lock(&ept->cb_lock);
	spin_lock_irqsave(&mept->rx_lock, flags);
	ept->cb = NULL;
	spin_unlock_irqrestore(&mept->rx_lock, flags);
	mutex_unlock(&ept->cb_lock);

	kref_put(&ept->refcount, mock_ept_release);
}

static const struct rpmsg_endpoint_ops mock_ept_ops = {
	.destroy_ept = mock_destroy_ept,
	.send = mock_send,
	.sendto = mock_sendto,
	.trysend = mock_trysend,
	.trysendto = mock_trysendto,
};

static struct rpmsg_endpoint *mock_create_ept(struct rpmsg_device *rpdev,
					      rpmsg_rx_cb_t cb, void *priv,
					      struct rpmsg_channel_info chinfo)
{
	struct mock_rpdev *mrpdev = container_of(rpdev, struct mock_rpdev,
						 rpdev);
	struct mock_ept *mept;

	mept = kzalloc_obj(*mept);
	if (!mept)
		return NULL;

	kref_init(&mept->ept.refcount);
	mutex_init(&mept->ept.cb_lock);
	spin_lock_init(&mept->rx_lock);
	mept->ept.rpdev = rpdev;
	mept->ept.cb = cb;
	mept->ept.priv = priv;
	mept->ept.addr = chinfo.src;
	mept->ept.ops = &mock_ept_ops;
	mept->chan = mrpdev->chan;

	return &mept->ept;
}

static const struct rpmsg_device_ops mock_rpdev_ops = {
	.create_ept = mock_create_ept,
};

static void mock_rpdev_release(struct device *dev)
{
	struct rpmsg_device *rpdev = container_of(dev, struct rpmsg_device,
						  dev);

	of_node_put(dev->of_node);
	kfree(container_of(rpdev, struct mock_rpdev, rpdev));
	if (atomic_dec_and_test(&mock_live_rpdevs))
		wake_up_var(&mock_live_rpdevs);
}

/*
 * Stop the DSP side: refuse new messages, wait for the worker and the IRQ
 * delivery, and drop whatever is still queued.
 */
static void mock_channel_quiesce(struct mock_channel *chan)
{
	struct mock_msg *msg, *tmp;
	unsigned long flags;
	unsigned int i;
	LIST_HEAD(list);

	spin_lock_irqsave(&chan->lock, flags);
	chan->up = false;
	spin_unlock_irqrestore(&chan->lock, flags);

	for (i = 0; i < MOCK_MAX_WORKERS; i++)
		cancel_work_sync(&chan->workers[i].work);
	/* A cancelled worker never ran to clear its flag. */
	spin_lock_irqsave(&chan->lock, flags);
	for (i = 0; i < MOCK_MAX_WORKERS; i++)
		chan->workers[i].busy = false;
	spin_unlock_irqrestore(&chan->lock, flags);
	cancel_delayed_work_sync(&chan->deferred_work);
	/* A restart of the DSP forgets every process and mapping. */
	mock_rpc_reset(chan);
	irq_work_sync(&chan->rx_work);

	spin_lock_irqsave(&chan->lock, flags);
	list_splice_init(&chan->requests, &list);
	list_splice_tail_init(&chan->responses, &list);
	list_splice_tail_init(&chan->deferred, &list);
	spin_unlock_irqrestore(&chan->lock, flags);

	list_for_each_entry_safe(msg, tmp, &list, node) {
		list_del(&msg->node);
		mock_msg_done(chan, msg, false);
	}
}

static int mock_channel_start(struct mock_channel *chan)
{
	struct mock_rpdev *mrpdev;
	struct rpmsg_device *rpdev;
	unsigned long flags;
	int ret;

	lockdep_assert_held(&mock_lock);
	if (chan->mrpdev)
		return -EALREADY;

	mrpdev = kzalloc_obj(*mrpdev);
	if (!mrpdev)
		return -ENOMEM;
	mrpdev->chan = chan;
	rpdev = &mrpdev->rpdev;
	strscpy(rpdev->id.name, MOCK_CHANNEL_NAME, sizeof(rpdev->id.name));
	rpdev->src = RPMSG_ADDR_ANY;
	rpdev->dst = RPMSG_ADDR_ANY;
	rpdev->ops = &mock_rpdev_ops;
	rpdev->dev.parent = &chan->parent->dev;
	rpdev->dev.of_node = of_node_get(chan->np);
	rpdev->dev.release = mock_rpdev_release;
	atomic_inc(&mock_live_rpdevs);

	/* Up before registering: the driver's probe may already send. */
	spin_lock_irqsave(&chan->lock, flags);
	chan->up = true;
	spin_unlock_irqrestore(&chan->lock, flags);

	/* On failure this has dropped the device, and with it mrpdev. */
	ret = rpmsg_register_device(rpdev);
	if (ret) {
		pr_err("%s: rpmsg_register_device failed: %d\n",
		       chan->desc->label, ret);
		mock_channel_quiesce(chan);
		return ret;
	}
	chan->mrpdev = mrpdev;

	return 0;
}

static int mock_channel_stop(struct mock_channel *chan)
{
	struct mock_rpdev *mrpdev = chan->mrpdev;

	lockdep_assert_held(&mock_lock);
	if (!mrpdev)
		return -EALREADY;

	mock_channel_quiesce(chan);
	chan->mrpdev = NULL;
	device_unregister(&mrpdev->rpdev.dev);

	return 0;
}

static void mock_restart_work(struct work_struct *work)
{
	struct mock_channel *chan = container_of(work, struct mock_channel,
						 restart_work);

	mutex_lock(&mock_lock);
	if (!mock_exiting && chan->mrpdev) {
		mock_channel_stop(chan);
		mock_channel_start(chan);
	}
	mutex_unlock(&mock_lock);
}

static struct mock_channel *mock_channel_find(const char *label)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mock_channels); i++)
		if (!strcmp(mock_channels[i].desc->label, label))
			return &mock_channels[i];

	return NULL;
}

static int mock_control_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	mutex_lock(&mock_lock);
	for (i = 0; i < ARRAY_SIZE(mock_channels); i++) {
		struct mock_channel *chan = &mock_channels[i];
		u64 received, answered, dropped;
		unsigned long flags;

		spin_lock_irqsave(&chan->lock, flags);
		received = chan->received;
		answered = chan->answered;
		dropped = chan->dropped;
		spin_unlock_irqrestore(&chan->lock, flags);

		seq_printf(m, "%s %s received=%llu answered=%llu dropped=%llu violations=%lld processes=%u mappings=%u handles=%u translations=%lld faults=%lld listeners=%u heap_grants=%lld\n",
			   chan->desc->label, chan->mrpdev ? "up" : "down",
			   received, answered, dropped,
			   (long long)atomic64_read(&chan->violations),
			   READ_ONCE(chan->dsp.nprocs),
			   READ_ONCE(chan->dsp.nmaps),
			   READ_ONCE(chan->dsp.nhandles),
			   (long long)atomic64_read(&chan->translations),
			   (long long)atomic64_read(&chan->dsp_faults),
			   READ_ONCE(chan->dsp.nlisteners),
			   (long long)atomic64_read(&chan->heap_grants));
	}
	mutex_unlock(&mock_lock);

	return 0;
}

/* Fault controls taking a count: "<cmd> <label> <n>". */
static int mock_control_fault(struct mock_channel *chan, const char *cmd,
			      char *arg)
{
	struct mock_faults *f = &chan->faults;
	unsigned long flags;
	unsigned int n = 1;
	int ret = 0;

	if (arg && kstrtouint(arg, 0, &n))
		return -EINVAL;
	if (!arg && !strcmp(cmd, "delay"))
		return -EINVAL;

	spin_lock_irqsave(&chan->lock, flags);
	if (!strcmp(cmd, "drop"))
		f->drop = n;
	else if (!strcmp(cmd, "dup"))
		f->dup = n;
	else if (!strcmp(cmd, "corrupt"))
		f->corrupt = n;
	else if (!strcmp(cmd, "short"))
		f->shortrsp = n;
	else if (!strcmp(cmd, "delay"))
		f->delay_ms = n;
	else if (!strcmp(cmd, "restart-mid-call"))
		f->restart_mid_call = !!n;
	else if (!strcmp(cmd, "clear"))
		memset(f, 0, sizeof(*f));
	else
		ret = -EINVAL;
	spin_unlock_irqrestore(&chan->lock, flags);

	return ret;
}

/* "workers <label> <n>": not a fault control, so "clear" leaves it. */
static int mock_control_workers(struct mock_channel *chan, const char *arg)
{
	unsigned long flags;
	unsigned int n;

	if (!arg || kstrtouint(arg, 0, &n) || n < 1 || n > MOCK_MAX_WORKERS)
		return -EINVAL;

	spin_lock_irqsave(&chan->lock, flags);
	chan->nworkers = n;
	if (chan->up && !list_empty(&chan->requests))
		mock_kick_locked(chan);
	spin_unlock_irqrestore(&chan->lock, flags);

	return 0;
}

/* "resolve <label> <hexaddr>": 0 if the DSP address resolves to RAM. */
static int mock_control_resolve(struct mock_channel *chan, const char *arg)
{
	u64 addr;
	int ret;

	if (!arg || kstrtou64(arg, 16, &addr))
		return -EINVAL;

	mutex_lock(&mock_lock);
	ret = -EFAULT;
	if (chan->mrpdev)
		ret = mock_mem_resolve(chan, &chan->mrpdev->rpdev.dev, addr);
	mutex_unlock(&mock_lock);

	return ret;
}

static const char * const mock_commands[] = {
	"start", "stop", "restart", "resolve", "drop", "dup", "corrupt",
	"short", "delay", "restart-mid-call", "clear", "workers",
};

static ssize_t mock_control_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct mock_channel *chan;
	char buf[64], *args, *cmd, *label;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	args = strim(buf);
	cmd = strsep(&args, " \t");
	if (!args)
		return -EINVAL;
	args = skip_spaces(args);
	label = strsep(&args, " \t");
	if (args) {
		args = skip_spaces(args);
		if (!*args)
			args = NULL;
	}
	chan = mock_channel_find(label);
	if (!chan)
		return match_string(mock_commands, ARRAY_SIZE(mock_commands),
				    cmd) < 0 ? -EINVAL : -ENODEV;

	if (!strcmp(cmd, "resolve")) {
		ret = mock_control_resolve(chan, args);
		return ret ? ret : count;
	}
	if (!strcmp(cmd, "workers")) {
		ret = mock_control_workers(chan, args);
		return ret ? ret : count;
	}
	if (strcmp(cmd, "start") && strcmp(cmd, "stop") &&
	    strcmp(cmd, "restart")) {
		ret = mock_control_fault(chan, cmd, args);
		return ret ? ret : count;
	}
	if (args)
		return -EINVAL;

	mutex_lock(&mock_lock);
	if (!strcmp(cmd, "start")) {
		ret = mock_channel_start(chan);
	} else if (!strcmp(cmd, "stop")) {
		ret = mock_channel_stop(chan);
	} else {
		ret = mock_channel_stop(chan);
		if (!ret || ret == -EALREADY)
			ret = mock_channel_start(chan);
	}
	mutex_unlock(&mock_lock);

	return ret ? ret : count;
}

DEFINE_SHOW_STORE_ATTRIBUTE(mock_control);

static int mock_status_show(struct seq_file *m, void *unused)
{
	return mock_control_show(m, unused);
}

DEFINE_SHOW_ATTRIBUTE(mock_status);

/* The CB devices' IOMMU page tables, as the DSP would find them. */
static int mock_iommu_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	mutex_lock(&mock_lock);
	for (i = 0; i < ARRAY_SIZE(mock_channels); i++) {
		struct mock_channel *chan = &mock_channels[i];

		if (chan->mrpdev)
			mock_mem_show_iommu(m, chan, &chan->mrpdev->rpdev.dev);
	}
	mutex_unlock(&mock_lock);

	return 0;
}

DEFINE_SHOW_ATTRIBUTE(mock_iommu);

/*
 * service/<label>: the DSP's service times since the last reset, a header
 *	count=N sum_ns=S max_ns=M workers=W
 * then the latest min(N, MOCK_SVC_RING) of them, oldest first, one per
 * line: the service time, when the request came in and when its answer
 * went to the callback, all in ns (the last two of CLOCK_MONOTONIC, as
 * clock_gettime() reads it, so that a caller can split its own round trip
 * into the time before the DSP got the request and the time after the
 * answer).  Any write resets them.
 */
static int mock_service_show(struct seq_file *m, void *unused)
{
	struct mock_channel *chan = m->private;
	unsigned int i, n, head, nworkers;
	u64 count, sum;
	unsigned long flags;
	struct mock_svc_rec *snap;
	u32 max;

	snap = kvmalloc_array(MOCK_SVC_RING, sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	spin_lock_irqsave(&chan->lock, flags);
	count = chan->svc_count;
	sum = chan->svc_sum;
	max = chan->svc_max;
	head = chan->svc_head;
	nworkers = chan->nworkers;
	n = min_t(u64, count, MOCK_SVC_RING);
	for (i = 0; i < n; i++)
		snap[i] = chan->svc_ring[(head + MOCK_SVC_RING - n + i) %
					 MOCK_SVC_RING];
	spin_unlock_irqrestore(&chan->lock, flags);

	seq_printf(m, "count=%llu sum_ns=%llu max_ns=%u workers=%u\n", count,
		   sum, max, nworkers);
	for (i = 0; i < n; i++)
		seq_printf(m, "%llu %llu %llu\n", snap[i].tx_ns - snap[i].rx_ns,
			   snap[i].rx_ns, snap[i].tx_ns);
	kvfree(snap);

	return 0;
}

static int mock_service_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, mock_service_show, inode->i_private,
				64 + MOCK_SVC_RING * 64);
}

static ssize_t mock_service_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct mock_channel *chan = file_inode(file)->i_private;
	unsigned long flags;

	spin_lock_irqsave(&chan->lock, flags);
	chan->svc_head = 0;
	chan->svc_count = 0;
	chan->svc_sum = 0;
	chan->svc_max = 0;
	spin_unlock_irqrestore(&chan->lock, flags);

	return count;
}

static const struct file_operations mock_service_fops = {
	.owner = THIS_MODULE,
	.open = mock_service_open,
	.read = seq_read,
	.write = mock_service_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * @smmu is the phandle of the platform's SMMU, 0 without one; @sid the
 * stream ID of the CB behind it.
 */
static int mock_add_cb_node(struct device_node *parent,
			    const struct mock_cb_desc *cb, phandle smmu,
			    u32 sid)
{
	struct device_node *np;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "compute-cb@%u", cb->reg);
	np = of_changeset_create_node(&mock_ocs, parent, name);
	if (!np)
		return -ENOMEM;

	ret = of_changeset_add_prop_string(&mock_ocs, np, "compatible",
					   "qcom,fastrpc-compute-cb");
	if (!ret)
		ret = of_changeset_add_prop_u32(&mock_ocs, np, "reg", cb->reg);
	if (!ret && cb->nsessions)
		ret = of_changeset_add_prop_u32(&mock_ocs, np,
						"qcom,nsessions",
						cb->nsessions);
	if (!ret && smmu) {
		u32 iommus[2] = { smmu, sid };

		ret = of_changeset_add_prop_u32_array(&mock_ocs, np, "iommus",
						      iommus,
						      ARRAY_SIZE(iommus));
	}
	/* The changeset holds its own reference. */
	of_node_put(np);

	return ret;
}

static int mock_add_channel_node(struct device_node *parent,
				 struct mock_channel *chan, phandle smmu,
				 const struct device_node *heap)
{
	const struct mock_chan_desc *desc = chan->desc;
	struct device_node *np;
	unsigned int i;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "fastrpc-%s", desc->label);
	np = of_changeset_create_node(&mock_ocs, parent, name);
	if (!np)
		return -ENOMEM;
	/* The changeset holds its own reference until it is destroyed. */
	of_node_put(np);
	chan->np = np;

	ret = of_changeset_add_prop_string(&mock_ocs, np, "compatible",
					   "qcom,fastrpc");
	if (!ret)
		ret = of_changeset_add_prop_string(&mock_ocs, np, "label",
						   desc->label);
	if (!ret && !desc->secure)
		ret = of_changeset_add_prop_bool(&mock_ocs, np,
						 "qcom,non-secure-domain");
	if (!ret && desc->remote_heap && heap)
		ret = of_changeset_add_prop_u32(&mock_ocs, np, "memory-region",
						heap->phandle);
	if (!ret)
		ret = of_changeset_add_prop_u32(&mock_ocs, np,
						"#address-cells", 1);
	if (!ret)
		ret = of_changeset_add_prop_u32(&mock_ocs, np,
						"#size-cells", 0);
	chan->iommu = smmu != 0;
	chan->sensors_pd = desc->sensors_pd;
	if (desc->remote_heap && heap) {
		chan->heap_base = mock_heap.base;
		chan->heap_size = mock_heap.size;
	}
	if (smmu && desc->bad_iommu) {
		struct device_node *intc;

		/* Any node with a phandle that is no IOMMU will do. */
		intc = of_find_node_with_property(NULL, "interrupt-controller");
		smmu = intc ? intc->phandle : 0;
		of_node_put(intc);
		chan->iommu = false;
	}
	for (i = 0; !ret && i < desc->ncbs; i++)
		ret = mock_add_cb_node(np, &desc->cbs[i], smmu,
				       MOCK_STREAM_ID(chan - mock_channels,
						      desc->cbs[i].reg));

	return ret;
}

/*
 * The phandle of the platform's SMMUv3 (QEMU virt,iommu=smmuv3), or 0 when
 * there is none (x86_64) or it cannot be referenced.
 */
static phandle mock_find_smmu(void)
{
	struct device_node *np;
	phandle ph = 0;

	np = of_find_compatible_node(NULL, NULL, "arm,smmu-v3");
	if (!np)
		return 0;
	if (np->phandle)
		ph = np->phandle;
	else
		pr_warn("%pOF has no phandle: CBs not behind it\n", np);
	of_node_put(np);
	return ph;
}

/*
 * The remote heap of the channels with .remote_heap: the boot device
 * tree's /reserved-memory/adsp-rpc-remote-heap@..., which tools/qda-vm adds
 * on arm64 (reg, no-map, a phandle).  Returns the node (a reference) and
 * fills mock_heap with the region as the kernel reserved it at boot (what
 * of_reserved_mem_lookup() gives fastrpc.c), or NULL when there is none
 * (x86_64: no boot device tree, so nothing is ever reserved from one).
 */
static struct device_node *mock_find_remote_heap(void)
{
	struct device_node *rmem_np, *np;
	struct reserved_mem *rmem;
	struct resource res;

	rmem_np = of_find_node_by_path("/reserved-memory");
	if (!rmem_np)
		return NULL;
	np = of_get_child_by_name(rmem_np, MOCK_HEAP_NODE);
	of_node_put(rmem_np);
	if (!np)
		return NULL;
	rmem = of_reserved_mem_lookup(np);
	if (!np->phandle || !of_device_is_available(np) || !rmem ||
	    of_address_to_resource(np, 0, &res) || res.start != rmem->base ||
	    resource_size(&res) != rmem->size) {
		pr_warn("%pOF: no phandle, unavailable or not reserved at boot: no remote heap\n",
			np);
		of_node_put(np);
		return NULL;
	}
	mock_heap.base = rmem->base;
	mock_heap.size = rmem->size;
	pr_info("remote heap %pOF: %pa, 0x%llx bytes\n", np, &rmem->base,
		(unsigned long long)rmem->size);
	return np;
}

static int mock_of_create(void)
{
	struct device_node *root, *heap;
	unsigned int i;
	phandle smmu;
	int ret = 0;

	if (!of_root) {
		pr_err("no device tree root (CONFIG_OF without of_root?)\n");
		return -ENODEV;
	}

	of_changeset_init(&mock_ocs);
	root = of_changeset_create_node(&mock_ocs, of_root, "qda-mock");
	if (!root) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	of_node_put(root);
	/*
	 * Not a device: without this the OF reconfig notifier makes a
	 * platform device for a new child of the root (on arm64), and nothing
	 * but the FastRPC drivers may populate what lies below.
	 */
	of_node_set_flag(root, OF_POPULATED);

	smmu = mock_find_smmu();
	heap = mock_find_remote_heap();
	for (i = 0; !ret && i < ARRAY_SIZE(mock_channels); i++)
		ret = mock_add_channel_node(root, &mock_channels[i], smmu, heap);
	of_node_put(heap);
	if (!ret)
		ret = of_changeset_apply(&mock_ocs);
	if (ret)
		goto err_destroy;

	return 0;

err_destroy:
	pr_err("cannot create the device tree nodes: %d\n", ret);
	of_changeset_destroy(&mock_ocs);
	return ret;
}

static void mock_of_destroy(void)
{
	int ret;

	ret = of_changeset_revert(&mock_ocs);
	if (ret)
		pr_err("of_changeset_revert failed: %d\n", ret);
	of_changeset_destroy(&mock_ocs);
}

static void mock_channels_destroy(void)
{
	unsigned int i;

	mutex_lock(&mock_lock);
	mock_exiting = true;
	for (i = 0; i < ARRAY_SIZE(mock_channels); i++)
		mock_channel_stop(&mock_channels[i]);
	mutex_unlock(&mock_lock);
	for (i = 0; i < ARRAY_SIZE(mock_channels); i++)
		cancel_work_sync(&mock_channels[i].restart_work);

	/* The rpmsg devices hold references on the faux parents. */
	wait_var_event(&mock_live_rpdevs, !atomic_read(&mock_live_rpdevs));

	for (i = 0; i < ARRAY_SIZE(mock_channels); i++) {
		struct mock_channel *chan = &mock_channels[i];

		if (chan->wq)
			destroy_workqueue(chan->wq);
		chan->wq = NULL;
		if (chan->pool_wq)
			destroy_workqueue(chan->pool_wq);
		chan->pool_wq = NULL;
		kvfree(chan->svc_ring);
		chan->svc_ring = NULL;
		faux_device_destroy(chan->parent);
		chan->parent = NULL;
	}
}

static int mock_channels_create(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(mock_channels); i++) {
		struct mock_channel *chan = &mock_channels[i];
		const char *label = chan->desc->label;
		char name[32];

		snprintf(name, sizeof(name), "qda-mock-%s", label);
		chan->parent = faux_device_create(name, NULL, NULL);
		if (!chan->parent)
			return -ENOMEM;
		chan->wq = alloc_ordered_workqueue("qda-mock-%s", 0, label);
		if (!chan->wq)
			return -ENOMEM;
		chan->pool_wq = alloc_workqueue("qda-mock-%s-pool", WQ_UNBOUND,
						MOCK_MAX_WORKERS - 1, label);
		if (!chan->pool_wq)
			return -ENOMEM;
		chan->svc_ring = kvcalloc(MOCK_SVC_RING,
					  sizeof(*chan->svc_ring), GFP_KERNEL);
		if (!chan->svc_ring)
			return -ENOMEM;
	}

	mutex_lock(&mock_lock);
	for (i = 0, ret = 0; !ret && i < ARRAY_SIZE(mock_channels); i++)
		if (!mock_channels[i].desc->down)
			ret = mock_channel_start(&mock_channels[i]);
	mutex_unlock(&mock_lock);

	return ret;
}

static int __init mock_dsp_init(void)
{
	struct dentry *svc;
	unsigned int i, j;
	int ret;

	for (i = 0; i < ARRAY_SIZE(mock_channels); i++) {
		struct mock_channel *chan = &mock_channels[i];

		chan->desc = &mock_chan_descs[i];
		spin_lock_init(&chan->lock);
		INIT_LIST_HEAD(&chan->requests);
		INIT_LIST_HEAD(&chan->responses);
		INIT_LIST_HEAD(&chan->deferred);
		for (j = 0; j < MOCK_MAX_WORKERS; j++) {
			struct mock_worker *w = &chan->workers[j];

			INIT_WORK(&w->work, mock_dsp_work);
			w->chan = chan;
			w->idx = j;
		}
		chan->nworkers = clamp(workers, 1u, MOCK_MAX_WORKERS);
		INIT_DELAYED_WORK(&chan->deferred_work, mock_deferred_work);
		INIT_WORK(&chan->restart_work, mock_restart_work);
		atomic64_set(&chan->violations, 0);
		atomic64_set(&chan->translations, 0);
		atomic64_set(&chan->dsp_faults, 0);
		atomic64_set(&chan->heap_grants, 0);
		mock_rpc_init(chan);
		/*
		 * Not IRQ_WORK_INIT_HARD: a plain irq_work runs in hard-IRQ
		 * context on !PREEMPT_RT but is threaded on PREEMPT_RT, exactly
		 * like a request_irq() handler, so lockdep allows spinlock_t
		 * in the callback as it does for glink's interrupt.
		 */
		init_irq_work(&chan->rx_work, mock_rx_work);
	}

	ret = mock_of_create();
	if (ret)
		return ret;

	ret = mock_channels_create();
	if (ret) {
		mock_channels_destroy();
		mock_of_destroy();
		return ret;
	}

	mock_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("control", 0600, mock_debugfs, NULL,
			    &mock_control_fops);
	debugfs_create_file("status", 0400, mock_debugfs, NULL,
			    &mock_status_fops);
	debugfs_create_file("iommu", 0400, mock_debugfs, NULL,
			    &mock_iommu_fops);
	svc = debugfs_create_dir("service", mock_debugfs);
	for (i = 0; i < ARRAY_SIZE(mock_channels); i++)
		debugfs_create_file(mock_channels[i].desc->label, 0600, svc,
				    &mock_channels[i], &mock_service_fops);

	pr_info("mock DSP channels up (hardirq_rx=%d)\n", hardirq_rx);
	return 0;
}

static void __exit mock_dsp_exit(void)
{
	/* Waits for control writers still running. */
	debugfs_remove(mock_debugfs);
	mock_channels_destroy();
	mock_of_destroy();
}

module_init(mock_dsp_init);
module_exit(mock_dsp_exit);

MODULE_DESCRIPTION("Mock Hexagon DSP rpmsg channels for testing FastRPC drivers");
MODULE_LICENSE("GPL");
