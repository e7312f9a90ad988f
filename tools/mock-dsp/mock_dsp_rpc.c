// SPDX-License-Identifier: GPL-2.0
/*
 * qda_mock_dsp - the DSP side: decodes each FastRPC request the way the DSP
 * firmware reads it, checks every metadata field, keeps per-channel books of
 * processes, mappings and opened handles, and runs the init, utility,
 * remotectl, listener and test-skel methods.
 *
 * Written from the wire format as drivers/misc/fastrpc.c lays it out
 * (fastrpc_get_args(), fastrpc_put_args(), fastrpc_init_*()), not from any
 * other encoder; Documentation/accel/qda/mock-dsp.rst is the contract.
 *
 * All DSP state of a channel is protected by chan->dsp.lock and only touched
 * from the channel's DSP workers (requests; one by default, see "workers" in
 * mock-dsp.rst), its ordered workqueue (deferred answers) and from
 * mock_channel_quiesce() once those have been flushed.  Decoding a request
 * and writing its outputs back touch only the request itself, so several
 * workers do that in parallel; the lock is held around the method alone.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/align.h>
#include <linux/crc32.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mock_dsp.h"

/* DSP error codes: DSP_AEE_EOFFSET (0x80000400) + the AEEStdErr.h code. */
#define MOCK_AEE(code)		((s32)(0x80000400u + (code)))
#define MOCK_EFAILED		MOCK_AEE(0x01)
#define MOCK_ENOMEMORY		MOCK_AEE(0x02)
#define MOCK_EBADSTATE		MOCK_AEE(0x0d)
#define MOCK_EBADPARM		MOCK_AEE(0x0e)
#define MOCK_EUNSUPPORTED	MOCK_AEE(0x14)
#define MOCK_EALREADY		MOCK_AEE(0x1a)
#define MOCK_ENOSUCH		MOCK_AEE(0x27)
#define MOCK_EINVHANDLE		MOCK_AEE(0x2c)

#define SC_METHOD(sc)		(((sc) >> 24) & 0x1f)
#define SC_INBUFS(sc)		(((sc) >> 16) & 0xff)
#define SC_OUTBUFS(sc)		(((sc) >> 8) & 0xff)
#define SC_INHANDLES(sc)	(((sc) >> 4) & 0x0f)
#define SC_OUTHANDLES(sc)	((sc) & 0x0f)
#define SC(method, in, out)	(((method) << 24) | ((in) << 16) | ((out) << 8))
/* Bits 31:29 are attributes the DSP ignores here. */
#define SC_MASK			GENMASK(28, 0)

#define MOCK_ALIGN		128
#define MOCK_MAX_FDLIST		16
#define MOCK_MAX_CRCLIST	64
#define MOCK_MAX_PAYLOAD	SZ_64M
/* Largest buffer a method copies. */
#define MOCK_MAX_BUF		SZ_16M
#define MOCK_VADDR_BASE		0xa0000000ull
#define MOCK_HANDLE_BASE	0x300
#define MOCK_MAX_HANDLES	64
#define MOCK_MAX_SLEEP_MS	60000
#define MOCK_MAX_NAME		128

/* Static handles (the library's _const_*_handle values). */
#define MOCK_H_REMOTECTL	0
#define MOCK_H_INIT		1
#define MOCK_H_UTIL		2
#define MOCK_H_LISTENER0	3	/* adsp_listener */
#define MOCK_H_PROCESS		4	/* adsp_current_process1 */
#define MOCK_H_MSGD		5	/* adspmsgd_adsp1 */
#define MOCK_H_LISTENER		7	/* adsp_listener1 */
#define MOCK_H_REMOTECTL1	8
/* Handles at or below this are static (the library's rule). */
#define MOCK_H_MAX_STATIC	0x200

/* PD types, carried in the low 4 bits of ctx. */
#define MOCK_ROOT_PD		0
#define MOCK_USER_PD		1
#define MOCK_SENSORS_PD		2
#define MOCK_PD_MASK		GENMASK_ULL(3, 0)

#define MOCK_TEST_SKEL_URI \
	"file:///libqda_test_skel.so?qda_test_skel_handle_invoke&_modver=1.0"
#define MOCK_CALC_URI \
	"file:///libcalculator_skel.so?calculator_skel_handle_invoke&_modver=1.0"
/* The daemons' default listener: by name (non-domain) and by domains URI. */
#define MOCK_DEFLISTENER_NAME	"adsp_default_listener"
#define MOCK_DEFLISTENER1_URI \
	"file:///libadsp_default_listener1_skel.so?adsp_default_listener1_skel_handle_invoke&_modver=1.0"

/* The one static PD the mock's DSPs have (method 8). */
#define MOCK_AUDIO_PD		"audiopd"

/* Value of the last capability attribute, so tests can tell the mock. */
#define MOCK_CAP_MAGIC		0x4d4f434b	/* "MOCK" */

struct mock_remote_buf {
	u64 pv;
	u64 len;
};

struct mock_invoke_buf {
	u32 num;
	u32 pgidx;
};

struct mock_phy_page {
	u64 addr;
	u64 size;
};

/* Init-handle input structures, as fastrpc.c lays them out. */
struct mock_create_in {
	s32 client_id;
	u32 namelen;
	u32 filelen;
	u32 pageslen;
	u32 attrs;
	u32 siglen;
};

struct mock_create_static_in {
	s32 client_id;
	u32 namelen;
	u32 pageslen;
};

struct mock_mmap_in {
	s32 client_id;
	u32 flags;
	u64 vaddr;
	s32 num;
};

struct mock_munmap_in {
	s32 client_id;
	u64 vaddr;
	u64 size;
};

struct mock_mem_map_in {
	s32 client_id;
	s32 fd;
	s32 offset;
	u32 flags;
	u64 vaddrin;
	s32 num;
	s32 data_len;
};

struct mock_mem_unmap_in {
	s32 client_id;
	s32 fd;
	u64 vaddrin;
	u64 len;
};

static_assert(sizeof(struct mock_create_in) == 24);
static_assert(sizeof(struct mock_create_static_in) == 12);
static_assert(sizeof(struct mock_mmap_in) == 24);
static_assert(sizeof(struct mock_munmap_in) == 24);
static_assert(sizeof(struct mock_mem_map_in) == 32);
static_assert(sizeof(struct mock_mem_unmap_in) == 24);

enum mock_skel {
	MOCK_SKEL_TEST,
	MOCK_SKEL_CALC,
	/* adsp_default_listener: register is method 0. */
	MOCK_SKEL_DEFLISTENER,
	/* adsp_default_listener1: register is method 2. */
	MOCK_SKEL_DEFLISTENER1,
};

struct mock_map {
	struct list_head node;
	u64 vaddr;
	u64 phys;
	u64 size;
	s32 fd;
	u32 flags;
	/* Made by method 4 (mmap), else by method 10 (mem_map). */
	bool legacy;
};

struct mock_handle {
	struct list_head node;
	u32 handle;
	enum mock_skel skel;
	/* A default listener whose register method was called. */
	bool registered;
};

/* adsp_listener(1) next2 in0 and out0. */
struct mock_next2_in {
	u32 prev_ctx;
	s32 prev_result;
	u32 prev_bufs_len;
	u32 bufs_len;
};

struct mock_next2_out {
	u32 ctx;
	u32 handle;
	u32 sc;
	u32 bufs_len_req;
};

static_assert(sizeof(struct mock_next2_in) == 16);
static_assert(sizeof(struct mock_next2_out) == 16);

struct mock_proc {
	struct list_head node;
	s32 client_id;
	u8 pd;
	/* Handle 4 "exit" seen: listener calls now fail. */
	bool exiting;
	/* Made by create static (method 8): @name is the static PD's. */
	bool static_pd;
	char name[32];
	struct list_head maps;
	struct list_head handles;
	/* Listener next2 calls waiting for the process to exit. */
	struct list_head parked;
};

struct mock_arg {
	u64 pv;
	u64 len;
	u32 num;
	u32 pgidx;
	/* Inline: the buffer lies in the payload, at payload offset @off. */
	bool inl;
	u64 off;
	/* Kernel copy of the buffer (NULL when @len is 0). */
	u8 *buf;
};

struct mock_call {
	struct mock_channel *chan;
	struct mock_msg *msg;
	struct mock_invoke_req req;
	u32 sc;
	u32 sid;
	u64 base;
	u64 size;
	unsigned int nin;
	unsigned int nout;
	unsigned int nbufs;
	unsigned int n;
	u64 metalen;
	void *meta;
	struct mock_phy_page *pages;
	struct mock_arg *args;
	/* How this request's addresses reach memory. */
	struct mock_mem mem;
	/* Answer after this many ms (method "sleep"). */
	unsigned int defer_ms;
	/* The message now waits on a process's parked list. */
	bool parked;
	/* Parked calls to fail with MOCK_EBADSTATE once the lock is dropped. */
	struct list_head release;
};

static void mock_vviolation(struct mock_call *c, const char *what,
			    const char *fmt, va_list args)
{
	struct va_format vaf;
	va_list aq;

	atomic64_inc(&c->chan->violations);
	/* A va_list parameter may be an array: format a copy. */
	va_copy(aq, args);
	vaf.fmt = fmt;
	vaf.va = &aq;
	pr_info_ratelimited("%s: %s: handle 0x%x sc 0x%08x ctx 0x%llx: %pV\n",
			    mock_chan_label(c->chan), what, c->req.handle,
			    c->req.sc, c->req.ctx, &vaf);
	va_end(aq);
}

static __printf(2, 3) void mock_violation(struct mock_call *c,
					  const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	mock_vviolation(c, "violation", fmt, args);
	va_end(args);
}

/*
 * The DSP cannot reach an address it was given (mock_mem_check() or
 * mock_mem_copy() failed): a violation, and behind an IOMMU a DSP fault.
 */
static __printf(2, 3) void mock_unreachable(struct mock_call *c,
					    const char *fmt, ...)
{
	bool fault = c->chan->iommu;
	va_list args;

	if (fault)
		atomic64_inc(&c->chan->dsp_faults);
	va_start(args, fmt);
	mock_vviolation(c, fault ? "violation: DSP fault" : "violation", fmt,
			args);
	va_end(args);
}

/* What an unreachable address is, for the log. */
static const char *mock_unreachable_what(struct mock_call *c)
{
	return c->chan->iommu ? "is not mapped for this DSP" : "is not RAM";
}

/*
 * Copy argument @i between its DSP-side pages and its kernel copy; 0 or a
 * DSP error code (a DSP fault).
 */
static s32 mock_arg_copy(struct mock_call *c, unsigned int i, bool to_dsp)
{
	struct mock_arg *a = &c->args[i];
	u64 skip = a->pv & ~PAGE_MASK;
	u64 left = a->len;
	u8 *buf = a->buf;
	unsigned int j;

	for (j = 0; j < a->num && left; j++) {
		struct mock_phy_page *pg = &c->pages[a->pgidx + j];
		u64 chunk;

		if (skip >= pg->size) {
			skip -= pg->size;
			continue;
		}
		chunk = min(pg->size - skip, left);
		if (mock_mem_copy(&c->mem, pg->addr + skip, buf, chunk,
				  to_dsp)) {
			mock_unreachable(c, "arg %u: page 0x%llx size 0x%llx %s",
					 i, pg->addr, pg->size,
					 mock_unreachable_what(c));
			return MOCK_EBADPARM;
		}
		buf += chunk;
		left -= chunk;
		skip = 0;
	}
	return 0;
}

/* Check the pages of argument @i; 0 or a DSP error code. */
static s32 mock_check_buf(struct mock_call *c, unsigned int i)
{
	struct mock_arg *a = &c->args[i];
	u64 total = 0, skip = a->pv & ~PAGE_MASK;
	u64 end = c->base + c->size;
	unsigned int j, ninl = 0;

	if (a->num == 0 || a->pgidx >= c->n || a->num > c->n - a->pgidx) {
		mock_violation(c, "arg %u: len %llu but num %u pgidx %u (n %u)",
			       i, a->len, a->num, a->pgidx, c->n);
		return MOCK_EBADPARM;
	}
	if (a->num != 1 || a->pgidx != i)
		mock_violation(c, "arg %u: num %u pgidx %u, fastrpc.c sends num 1 pgidx %u",
			       i, a->num, a->pgidx, i);

	for (j = 0; j < a->num; j++) {
		struct mock_phy_page *pg = &c->pages[a->pgidx + j];
		u64 addr = pg->addr & MOCK_ADDR_MASK;
		u32 sid = pg->addr >> MOCK_SID_SHIFT;
		/* Behind an IOMMU each SID has its own address space. */
		bool in_payload_space = !c->chan->iommu || sid == c->sid;

		if (sid && sid != c->sid)
			mock_violation(c, "arg %u: page SID %u, payload SID %u",
				       i, sid, c->sid);
		if (!PAGE_ALIGNED(addr) || !pg->size || !PAGE_ALIGNED(pg->size) ||
		    addr + pg->size < addr) {
			mock_violation(c, "arg %u: page 0x%llx size 0x%llx not page-aligned",
				       i, pg->addr, pg->size);
			return MOCK_EBADPARM;
		}
		if (in_payload_space && addr >= c->base && addr + pg->size <= end) {
			ninl++;
		} else if (in_payload_space && addr < end &&
			   addr + pg->size > c->base) {
			mock_violation(c, "arg %u: page 0x%llx size 0x%llx straddles the payload",
				       i, pg->addr, pg->size);
			return MOCK_EBADPARM;
		} else if (mock_mem_check(&c->mem, pg->addr, pg->size)) {
			mock_unreachable(c, "arg %u: page 0x%llx size 0x%llx %s",
					 i, pg->addr, pg->size,
					 mock_unreachable_what(c));
			return MOCK_EBADPARM;
		}
		total += pg->size;
	}
	if (skip + a->len > total) {
		mock_violation(c, "arg %u: offset %llu + len %llu beyond its pages (%llu bytes)",
			       i, skip, a->len, total);
		return MOCK_EBADPARM;
	}
	if (ninl && ninl != a->num) {
		mock_violation(c, "arg %u: mixes inline and mapped pages", i);
		return MOCK_EBADPARM;
	}
	if (ninl) {
		a->inl = true;
		a->off = (c->pages[a->pgidx].addr & MOCK_ADDR_MASK) - c->base +
			 skip;
		if (a->off < ALIGN(c->metalen, MOCK_ALIGN)) {
			mock_violation(c, "arg %u: inline at %llu overlaps the metadata (%llu)",
				       i, a->off, c->metalen);
			return MOCK_EBADPARM;
		}
	}
	return 0;
}

/*
 * An inline buffer starts 128-aligned unless it starts inside another inline
 * buffer (fastrpc.c shares the bytes of overlapping arguments).
 */
static void mock_check_inline_align(struct mock_call *c)
{
	unsigned int i, j;

	for (i = 0; i < c->nbufs; i++) {
		struct mock_arg *a = &c->args[i];
		bool inside = false;

		if (!a->inl || IS_ALIGNED(a->off, MOCK_ALIGN))
			continue;
		for (j = 0; j < c->nbufs && !inside; j++) {
			struct mock_arg *b = &c->args[j];

			inside = j != i && b->inl && b->off < a->off &&
				 a->off < b->off + b->len;
		}
		if (!inside)
			mock_violation(c, "arg %u: inline at payload offset %llu not %u-aligned",
				       i, a->off, MOCK_ALIGN);
	}
}

/* Read and check the payload; 0 or a DSP error code. */
static s32 mock_decode(struct mock_call *c)
{
	struct mock_remote_buf *ra;
	struct mock_invoke_buf *ib;
	u64 *fdlist, total = 0;
	unsigned int i;
	s32 ret;

	c->sc = c->req.sc;
	c->nin = SC_INBUFS(c->sc);
	c->nout = SC_OUTBUFS(c->sc);
	c->nbufs = c->nin + c->nout;
	c->n = c->nbufs + SC_INHANDLES(c->sc) + SC_OUTHANDLES(c->sc);
	c->sid = c->req.addr >> MOCK_SID_SHIFT;
	c->base = c->req.addr & MOCK_ADDR_MASK;
	c->size = c->req.size;
	c->metalen = (sizeof(*ra) + sizeof(*ib) + sizeof(*c->pages)) * c->n +
		     sizeof(u64) * MOCK_MAX_FDLIST +
		     sizeof(u32) * MOCK_MAX_CRCLIST + sizeof(u32);

	if (!PAGE_ALIGNED(c->base) || !PAGE_ALIGNED(c->size) ||
	    c->size < c->metalen || c->size > MOCK_MAX_PAYLOAD) {
		mock_violation(c, "payload 0x%llx size 0x%llx (metadata %llu bytes)",
			       c->req.addr, c->size, c->metalen);
		return MOCK_EBADPARM;
	}
	if (mock_mem_check(&c->mem, c->req.addr, c->size)) {
		mock_unreachable(c, "payload 0x%llx size 0x%llx %s",
				 c->req.addr, c->size, mock_unreachable_what(c));
		return MOCK_EBADPARM;
	}

	c->meta = kvmalloc(c->metalen, GFP_KERNEL);
	c->args = kvcalloc(max(c->n, 1u), sizeof(*c->args), GFP_KERNEL);
	if (!c->meta || !c->args)
		return MOCK_ENOMEMORY;
	if (mock_mem_copy(&c->mem, c->req.addr, c->meta, c->metalen, false)) {
		mock_unreachable(c, "payload 0x%llx metadata %s", c->req.addr,
				 mock_unreachable_what(c));
		return MOCK_EBADPARM;
	}
	ra = c->meta;
	ib = (void *)(ra + c->n);
	c->pages = (void *)(ib + c->n);
	fdlist = (void *)(c->pages + c->n);
	for (i = 0; i < MOCK_MAX_FDLIST; i++)
		if (fdlist[i]) {
			mock_violation(c, "fdlist[%u] = 0x%llx, not zeroed", i,
				       fdlist[i]);
			break;
		}

	for (i = 0; i < c->n; i++) {
		struct mock_arg *a = &c->args[i];

		a->num = ib[i].num;
		a->pgidx = ib[i].pgidx;
		if (i >= c->nbufs) {
			/* A handle: {s32 fd; u32 offset; u32 len}, optional pages. */
			if (a->num && (a->pgidx >= c->n ||
				       a->num > c->n - a->pgidx))
				mock_violation(c, "handle arg %u: num %u pgidx %u (n %u)",
					       i, a->num, a->pgidx, c->n);
			continue;
		}
		a->pv = ra[i].pv;
		a->len = ra[i].len;
		if (!a->len)
			continue;
		ret = mock_check_buf(c, i);
		if (ret)
			return ret;
		if (a->len > MOCK_MAX_BUF || total + a->len > MOCK_MAX_PAYLOAD)
			return MOCK_ENOMEMORY;
		total += a->len;
	}
	mock_check_inline_align(c);

	/* Output buffers keep what the DSP does not overwrite. */
	for (i = 0; i < c->nbufs; i++) {
		struct mock_arg *a = &c->args[i];

		if (!a->len)
			continue;
		a->buf = kvmalloc(a->len, GFP_KERNEL);
		if (!a->buf)
			return MOCK_ENOMEMORY;
		ret = mock_arg_copy(c, i, false);
		if (ret)
			return ret;
	}
	return 0;
}

/* Write the output buffers back; 0 or a DSP error code (a DSP fault). */
static s32 mock_writeback(struct mock_call *c)
{
	unsigned int i;
	s32 ret;

	for (i = c->nin; i < c->nbufs; i++) {
		if (!c->args[i].buf)
			continue;
		ret = mock_arg_copy(c, i, true);
		if (ret)
			return ret;
	}
	return 0;
}

static void mock_call_free(struct mock_call *c)
{
	unsigned int i;

	if (c->args)
		for (i = 0; i < c->nbufs; i++)
			kvfree(c->args[i].buf);
	kvfree(c->args);
	kvfree(c->meta);
	mock_mem_release(&c->mem);
}

/* Argument @i if it is exactly @len bytes long, else NULL. */
static void *mock_in(struct mock_call *c, unsigned int i, u64 len)
{
	if (i >= c->nbufs || c->args[i].len != len)
		return NULL;
	return len ? c->args[i].buf : ZERO_SIZE_PTR;
}

/* Argument @i if it is at least @len bytes long, else NULL. */
static void *mock_in_min(struct mock_call *c, unsigned int i, u64 len)
{
	if (i >= c->nbufs || c->args[i].len < len || !c->args[i].len)
		return NULL;
	return c->args[i].buf;
}

/*
 * Argument 0, the message of @len bytes of an init method: NULL, a
 * violation counted under @what, if it has another length.
 */
static void *mock_in_msg(struct mock_call *c, u64 len, const char *what)
{
	void *in = mock_in(c, 0, len);

	if (!in)
		mock_violation(c, "%s in[0] of %llu bytes", what, c->args[0].len);
	return in;
}

/*
 * Argument @i, a process name of @namelen bytes with its NUL (at most
 * MOCK_MAX_NAME): NULL, a violation counted under @what, if it is not.
 */
static char *mock_in_name(struct mock_call *c, unsigned int i, u32 namelen,
			  const char *what)
{
	char *name = mock_in(c, i, namelen);

	if (!name || !namelen || namelen > MOCK_MAX_NAME ||
	    strnlen(name, namelen) != namelen - 1) {
		mock_violation(c, "%s name of %llu bytes, namelen %u, no NUL",
			       what, c->args[i].len, namelen);
		return NULL;
	}
	return name;
}

static struct mock_proc *mock_proc_find(struct mock_dsp_state *d,
					s32 client_id)
{
	struct mock_proc *p;

	list_for_each_entry(p, &d->procs, node)
		if (p->client_id == client_id)
			return p;
	return NULL;
}

/* Fail every parked listener call of @p (after the lock is dropped). */
static void mock_proc_unpark(struct mock_call *c, struct mock_proc *p)
{
	list_splice_tail_init(&p->parked, &c->release);
}

static void mock_handle_free(struct mock_dsp_state *d, struct mock_handle *h)
{
	if (h->registered)
		WRITE_ONCE(d->nlisteners, d->nlisteners - 1);
	list_del(&h->node);
	kfree(h);
	WRITE_ONCE(d->nhandles, d->nhandles - 1);
}

static void mock_proc_free(struct mock_channel *chan, struct mock_proc *p)
{
	struct mock_dsp_state *d = &chan->dsp;
	struct mock_handle *h, *th;
	struct mock_map *m, *tm;

	list_for_each_entry_safe(m, tm, &p->maps, node) {
		list_del(&m->node);
		kfree(m);
		WRITE_ONCE(d->nmaps, d->nmaps - 1);
	}
	list_for_each_entry_safe(h, th, &p->handles, node)
		mock_handle_free(d, h);
	list_del(&p->node);
	kfree(p);
	WRITE_ONCE(d->nprocs, d->nprocs - 1);
}

static s32 mock_proc_new(struct mock_call *c, s32 client_id, u8 pd,
			 const char *name)
{
	struct mock_dsp_state *d = &c->chan->dsp;
	struct mock_proc *p;

	if (mock_proc_find(d, client_id))
		return MOCK_EALREADY;
	p = kzalloc_obj(*p);
	if (!p)
		return MOCK_ENOMEMORY;
	p->client_id = client_id;
	p->pd = pd;
	strscpy(p->name, name);
	INIT_LIST_HEAD(&p->maps);
	INIT_LIST_HEAD(&p->handles);
	INIT_LIST_HEAD(&p->parked);
	list_add_tail(&p->node, &d->procs);
	WRITE_ONCE(d->nprocs, d->nprocs + 1);
	return 0;
}

/* A kernel-built request must have exactly this shape. */
static bool mock_expect_sc(struct mock_call *c, u32 sc)
{
	if ((c->sc & SC_MASK) == sc)
		return true;
	mock_violation(c, "expected scalars 0x%08x", sc);
	return false;
}

static bool mock_expect_pd(struct mock_call *c, u8 pd1, u8 pd2)
{
	u8 pd = c->req.ctx & MOCK_PD_MASK;

	if (pd == pd1 || pd == pd2)
		return true;
	mock_violation(c, "PD %u in ctx, expected %u", pd, pd1);
	return false;
}

/* Check a list of phy_page entries passed as a buffer (mmap, create). */
static bool mock_check_page_list(struct mock_call *c, unsigned int i,
				 u64 *phys, u64 *size)
{
	struct mock_phy_page *pg = (void *)c->args[i].buf;
	unsigned int j, npages = c->args[i].len / sizeof(*pg);

	if (!npages || c->args[i].len % sizeof(*pg)) {
		mock_violation(c, "arg %u: page list of %llu bytes", i,
			       c->args[i].len);
		return false;
	}
	for (j = 0; j < npages; j++) {
		u64 addr = pg[j].addr & MOCK_ADDR_MASK;

		if (!PAGE_ALIGNED(addr) || !PAGE_ALIGNED(pg[j].size)) {
			mock_violation(c, "arg %u: page 0x%llx size 0x%llx is not page-aligned",
				       i, pg[j].addr, pg[j].size);
			return false;
		}
		if (mock_mem_check(&c->mem, pg[j].addr, pg[j].size)) {
			mock_unreachable(c, "arg %u: page 0x%llx size 0x%llx %s",
					 i, pg[j].addr, pg[j].size,
					 mock_unreachable_what(c));
			return false;
		}
	}
	*phys = pg[0].addr & MOCK_ADDR_MASK;
	*size = pg[0].size;
	return true;
}

static struct mock_map *mock_map_new(struct mock_call *c, struct mock_proc *p,
				     u64 phys, u64 size)
{
	struct mock_dsp_state *d = &c->chan->dsp;
	struct mock_map *m;

	m = kzalloc_obj(*m);
	if (!m)
		return NULL;
	m->vaddr = d->next_vaddr;
	m->phys = phys;
	m->size = size;
	d->next_vaddr += ALIGN(size, SZ_64K) + SZ_64K;
	list_add_tail(&m->node, &p->maps);
	WRITE_ONCE(d->nmaps, d->nmaps + 1);
	return m;
}

static void mock_map_free(struct mock_call *c, struct mock_map *m)
{
	list_del(&m->node);
	kfree(m);
	WRITE_ONCE(c->chan->dsp.nmaps, c->chan->dsp.nmaps - 1);
}

/*
 * Unmaps the mapping of @client_id at DSP address @vaddr: a legacy mmap, or a
 * mem_map of @fd. ENOSUCH for an unknown process or mapping, EBADPARM when
 * @size is not the mapped size.
 */
static s32 mock_unmap(struct mock_call *c, s32 client_id, bool legacy, s32 fd,
		      u64 vaddr, u64 size)
{
	struct mock_proc *p = mock_proc_find(&c->chan->dsp, client_id);
	struct mock_map *m;

	if (!p)
		return MOCK_ENOSUCH;
	list_for_each_entry(m, &p->maps, node) {
		if (m->legacy != legacy || m->vaddr != vaddr ||
		    (!legacy && m->fd != fd))
			continue;
		if (m->size != size)
			return MOCK_EBADPARM;
		mock_map_free(c, m);
		return 0;
	}
	return MOCK_ENOSUCH;
}

static struct mock_proc *mock_static_find(struct mock_dsp_state *d,
					  const char *name)
{
	struct mock_proc *p;

	list_for_each_entry(p, &d->procs, node)
		if (p->static_pd && !strcmp(p->name, name))
			return p;
	return NULL;
}

/*
 * The remote heap in a create static: the first create after the channel
 * started hands it over (pageslen 1, the reserved region's exact base and
 * size), every later one sends pageslen 0 and a zero page (fastrpc.c's
 * audio_init_mem).  0 or a DSP error code; anything else is a violation.
 */
static s32 mock_check_heap(struct mock_call *c, u32 pageslen,
			   const struct mock_phy_page *pg)
{
	struct mock_channel *chan = c->chan;
	bool first = !chan->dsp.heap_given;
	u64 base = first ? chan->heap_base : 0;
	u64 size = first ? chan->heap_size : 0;

	if (!chan->heap_size) {
		mock_violation(c, "create static without remote heap (refused by the driver)");
		return MOCK_EBADPARM;
	}
	if (pageslen != first || pg->addr != base || pg->size != size) {
		mock_violation(c, "static PD: pageslen %u 0x%llx/0x%llx, not %u 0x%llx/0x%llx%s",
			       pageslen, pg->addr, pg->size, first, base, size,
			       first ? " (the heap)" : " (heap already given)");
		return MOCK_EBADPARM;
	}
	return 0;
}

/*
 * Method 8, create static: in0 {s32 client_id; u32 namelen; u32 pageslen},
 * in1 the name, in2 one phy_page (the remote heap, or zero).  ctx PD 1.
 */
static s32 mock_create_static(struct mock_call *c)
{
	struct mock_dsp_state *d = &c->chan->dsp;
	struct mock_create_static_in *in;
	struct mock_phy_page *pg;
	struct mock_proc *p;
	char *name;
	s32 ret;

	if (!mock_expect_sc(c, SC(8, 3, 0)))
		return MOCK_EBADPARM;
	in = mock_in_msg(c, sizeof(*in), "create static");
	if (!in)
		return MOCK_EBADPARM;
	name = mock_in_name(c, 1, in->namelen, "create static");
	if (!name)
		return MOCK_EBADPARM;
	pg = mock_in(c, 2, sizeof(*pg));
	if (!pg || in->pageslen > 1) {
		mock_violation(c, "create static pageslen %u, page list %llu bytes (one phy_page)",
			       in->pageslen, c->args[2].len);
		return MOCK_EBADPARM;
	}
	if (!mock_expect_pd(c, MOCK_USER_PD, MOCK_USER_PD))
		return MOCK_EBADPARM;
	ret = mock_check_heap(c, in->pageslen, pg);
	if (ret)
		return ret;
	if (strcmp(name, MOCK_AUDIO_PD))
		return MOCK_ENOSUCH;
	if (mock_static_find(d, name))
		return MOCK_EALREADY;
	ret = mock_proc_new(c, in->client_id, MOCK_USER_PD, name);
	if (ret)
		return ret;
	p = mock_proc_find(d, in->client_id);
	p->static_pd = true;
	if (in->pageslen) {
		d->heap_given = true;
		atomic64_inc(&c->chan->heap_grants);
	}
	return 0;
}

/*
 * Maps the page list of argument 1 into process @client_id for method 4
 * (@legacy) or 10, recording the buffer's @fd and the map @flags; its DSP
 * address goes to *@out.
 */
static s32 mock_map_pages(struct mock_call *c, s32 client_id, bool legacy,
			  s32 fd, u32 flags, u64 *out)
{
	struct mock_proc *p;
	struct mock_map *m;
	u64 phys, size;

	if (!mock_check_page_list(c, 1, &phys, &size))
		return MOCK_EBADPARM;
	p = mock_proc_find(&c->chan->dsp, client_id);
	if (!p)
		return MOCK_ENOSUCH;
	m = mock_map_new(c, p, phys, size);
	if (!m)
		return MOCK_ENOMEMORY;
	m->legacy = legacy;
	m->fd = fd;
	m->flags = flags;
	*out = m->vaddr;
	return 0;
}

/* Handle 1: the init methods the kernel sends (client_id 0). */
static s32 mock_init_handle(struct mock_call *c)
{
	struct mock_dsp_state *d = &c->chan->dsp;
	u32 method = SC_METHOD(c->sc);
	struct mock_proc *p;
	s32 *client_id;
	u64 phys, size;

	if (c->req.client_id)
		mock_violation(c, "init handle call with client_id %d, not 0",
			       c->req.client_id);

	switch (method) {
	case 0:		/* attach: in {s32 client_id} */
	case 1:		/* release: in {s32 client_id} */
		if (!mock_expect_sc(c, SC(method, 1, 0)))
			return MOCK_EBADPARM;
		client_id = mock_in(c, 0, sizeof(*client_id));
		if (!client_id) {
			mock_violation(c, "in[0] is %llu bytes, expected 4",
				       c->args[0].len);
			return MOCK_EBADPARM;
		}
		if (method == 0) {
			u8 pd = c->req.ctx & MOCK_PD_MASK;

			if (!mock_expect_pd(c, MOCK_ROOT_PD, MOCK_SENSORS_PD))
				return MOCK_EBADPARM;
			/* Only some DSPs run a sensors PD. */
			if (pd == MOCK_SENSORS_PD && !c->chan->sensors_pd)
				return MOCK_ENOSUCH;
			return mock_proc_new(c, *client_id, pd,
					     pd == MOCK_SENSORS_PD ? "sensors" :
					     "attach");
		}
		p = mock_proc_find(d, *client_id);
		if (!p)
			return MOCK_ENOSUCH;
		mock_proc_unpark(c, p);
		mock_proc_free(c->chan, p);
		return 0;

	case 4: {	/* mmap: in mmap_in, phy_page[], out {u64 vaddr} */
		struct mock_mmap_in *in;
		u64 *out;

		if (!mock_expect_sc(c, SC(4, 2, 1)))
			return MOCK_EBADPARM;
		in = mock_in(c, 0, sizeof(*in));
		out = mock_in(c, 2, sizeof(*out));
		if (!in || !out) {
			mock_violation(c, "mmap buffers of %llu/%llu bytes",
				       c->args[0].len, c->args[2].len);
			return MOCK_EBADPARM;
		}
		if (in->num != c->args[1].len)
			mock_violation(c, "mmap num %d, page list is %llu bytes",
				       in->num, c->args[1].len);
		return mock_map_pages(c, in->client_id, true, -1, in->flags, out);
	}

	case 5: {	/* munmap: in munmap_in */
		struct mock_munmap_in *in;

		if (!mock_expect_sc(c, SC(5, 1, 0)))
			return MOCK_EBADPARM;
		in = mock_in_msg(c, sizeof(*in), "munmap");
		if (!in)
			return MOCK_EBADPARM;
		return mock_unmap(c, in->client_id, true, -1, in->vaddr,
				  in->size);
	}

	case 6:		/* create */
	case 7: {	/* create with attributes */
		struct mock_create_in *in;
		char *name;

		if ((c->sc & SC_MASK) != SC(method, 4, 0) &&
		    (method == 6 || (c->sc & SC_MASK) < SC(method, 4, 0) ||
		     (c->sc & SC_MASK) > SC(method, 6, 0))) {
			mock_violation(c, "create with scalars other than (%u, 4, 0)",
				       method);
			return MOCK_EBADPARM;
		}
		in = mock_in_msg(c, sizeof(*in), "create");
		if (!in)
			return MOCK_EBADPARM;
		name = mock_in_name(c, 1, in->namelen, "create");
		if (!name)
			return MOCK_EBADPARM;
		if (c->args[2].len != in->filelen) {
			mock_violation(c, "create file of %llu bytes, filelen %u",
				       c->args[2].len, in->filelen);
			return MOCK_EBADPARM;
		}
		if (c->args[3].len != (u64)in->pageslen * sizeof(struct mock_phy_page) ||
		    !in->pageslen) {
			mock_violation(c, "create pages of %llu bytes, pageslen %u",
				       c->args[3].len, in->pageslen);
			return MOCK_EBADPARM;
		}
		if (!mock_check_page_list(c, 3, &phys, &size))
			return MOCK_EBADPARM;
		if (method == 6 && in->attrs)
			mock_violation(c, "create (6) with attrs 0x%x: attrs need method 7",
				       in->attrs);
		if (method == 7 && !in->attrs)
			mock_violation(c, "create with attrs (7) but attrs 0");
		if (!mock_expect_pd(c, MOCK_USER_PD, MOCK_USER_PD))
			return MOCK_EBADPARM;
		return mock_proc_new(c, in->client_id, MOCK_USER_PD, name);
	}

	case 8:		/* create static */
		return mock_create_static(c);

	case 10: {	/* mem_map: in mem_map_in, phy_page, data; out {u64 vaddr} */
		struct mock_mem_map_in *in;
		u64 *out;

		if (!mock_expect_sc(c, SC(10, 3, 1)))
			return MOCK_EBADPARM;
		in = mock_in(c, 0, sizeof(*in));
		out = mock_in(c, 3, sizeof(*out));
		if (!in || !out) {
			mock_violation(c, "mem_map buffers of %llu/%llu bytes",
				       c->args[0].len, c->args[3].len);
			return MOCK_EBADPARM;
		}
		if (in->num != c->args[1].len || in->data_len < 0 ||
		    in->data_len != c->args[2].len)
			mock_violation(c, "mem_map num %d data_len %d, buffers of %llu/%llu bytes",
				       in->num, in->data_len, c->args[1].len,
				       c->args[2].len);
		return mock_map_pages(c, in->client_id, false, in->fd, in->flags,
				      out);
	}

	case 11: {	/* mem_unmap: in mem_unmap_in */
		struct mock_mem_unmap_in *in;

		if (!mock_expect_sc(c, SC(11, 1, 0)))
			return MOCK_EBADPARM;
		in = mock_in_msg(c, sizeof(*in), "mem_unmap");
		if (!in)
			return MOCK_EBADPARM;
		return mock_unmap(c, in->client_id, false, in->fd, in->vaddrin,
				  in->len);
	}
	}
	return MOCK_EUNSUPPORTED;
}

/*
 * Capability table answered by handle 2 method 0: attribute id -> value.
 * Ids follow the library's remote_dsp_attributes.
 */
static u32 mock_capability(unsigned int id)
{
	switch (id) {
	case 0:		/* DOMAIN_SUPPORT (filled by the kernel) */
		return 1;
	case 1:		/* UNSIGNED_PD_SUPPORT */
		return 1;
	case 2:		/* HVX_SUPPORT_64B */
		return 0;
	case 3:		/* HVX_SUPPORT_128B */
		return 4;
	case 4:		/* VTCM_PAGE */
		return SZ_256K;
	case 5:		/* VTCM_COUNT */
		return 1;
	case 6:		/* ARCH_VER */
		return 0x73;
	case 255:
		return MOCK_CAP_MAGIC;
	}
	return 0;
}

/* Handle 2: in {u32 n}, out u32[n] = attributes 1..n. */
static s32 mock_util_handle(struct mock_call *c)
{
	u32 *n, *out;
	unsigned int i;

	if (SC_METHOD(c->sc) != 0)
		return MOCK_EUNSUPPORTED;
	if (!mock_expect_sc(c, SC(0, 1, 1)))
		return MOCK_EBADPARM;
	n = mock_in(c, 0, sizeof(*n));
	if (!n || !*n || *n > 255 || c->args[1].len != *n * sizeof(u32)) {
		mock_violation(c, "capability query: n %u, out %llu bytes",
			       n ? *n : 0, c->args[1].len);
		return MOCK_EBADPARM;
	}
	out = (u32 *)c->args[1].buf;
	for (i = 0; i < *n; i++)
		out[i] = mock_capability(i + 1);
	return 0;
}

static struct mock_proc *mock_user_proc(struct mock_call *c)
{
	return mock_proc_find(&c->chan->dsp, c->req.client_id);
}

/* Write a NUL-terminated message into the dlerror output buffer @i. */
static void mock_dlerror(struct mock_call *c, unsigned int i, const char *fmt,
			 const char *arg)
{
	if (c->args[i].len)
		snprintf(c->args[i].buf, c->args[i].len, fmt, arg);
}

static bool mock_uri_is(const char *name, const char *uri)
{
	size_t len = strlen(uri);

	return !strncmp(name, uri, len) && (!name[len] || name[len] == '&');
}

/*
 * remotectl open (handle 0 method 0, handle 8 method 2), scalars (m, 2, 2):
 * in {u32 namelen; u32 errlen}, name[namelen]; out {u32 handle; s32 err},
 * dlerror[errlen].
 */
static s32 mock_remotectl_open(struct mock_call *c, struct mock_proc *p)
{
	struct mock_dsp_state *d = &c->chan->dsp;
	struct mock_handle *h, *it;
	u32 *in, *out;
	char *name;
	unsigned int n = 0;
	s32 err = 0;

	in = mock_in(c, 0, 2 * sizeof(u32));
	out = mock_in_min(c, 2, 2 * sizeof(u32));
	if (!in || !out || c->args[3].len != in[1])
		return MOCK_EBADPARM;
	name = mock_in(c, 1, in[0]);
	if (!name || !in[0] || strnlen(name, in[0]) != in[0] - 1) {
		mock_dlerror(c, 3, "mock: bad module name", NULL);
		err = MOCK_EBADPARM;
		goto out;
	}
	h = kzalloc_obj(*h);
	if (!h) {
		err = MOCK_ENOMEMORY;
		goto out;
	}
	if (mock_uri_is(name, MOCK_TEST_SKEL_URI)) {
		h->skel = MOCK_SKEL_TEST;
	} else if (mock_uri_is(name, MOCK_CALC_URI)) {
		h->skel = MOCK_SKEL_CALC;
	} else if (mock_uri_is(name, MOCK_DEFLISTENER_NAME)) {
		h->skel = MOCK_SKEL_DEFLISTENER;
	} else if (mock_uri_is(name, MOCK_DEFLISTENER1_URI)) {
		h->skel = MOCK_SKEL_DEFLISTENER1;
	} else {
		kfree(h);
		mock_dlerror(c, 3, "mock: %s: cannot open shared object file",
			     name);
		err = MOCK_ENOSUCH;
		goto out;
	}
	list_for_each_entry(it, &p->handles, node)
		n++;
	if (n >= MOCK_MAX_HANDLES) {
		kfree(h);
		err = MOCK_ENOMEMORY;
		goto out;
	}
	h->handle = d->next_handle++;
	list_add_tail(&h->node, &p->handles);
	WRITE_ONCE(d->nhandles, d->nhandles + 1);
	out[0] = h->handle;
	mock_dlerror(c, 3, "", NULL);
out:
	out[1] = err;
	return err;
}

/*
 * remotectl close (handle 0 method 1, handle 8 method 3), scalars (m, 1, 2):
 * in {u32 handle; u32 errlen}; out {s32 err}, dlerror[errlen].
 */
static s32 mock_remotectl_close(struct mock_call *c, struct mock_proc *p)
{
	struct mock_handle *h;
	u32 *in;
	s32 *out;

	in = mock_in(c, 0, 2 * sizeof(u32));
	out = mock_in_min(c, 1, sizeof(*out));
	if (!in || !out || c->args[2].len != in[1])
		return MOCK_EBADPARM;
	list_for_each_entry(h, &p->handles, node) {
		if (h->handle != in[0])
			continue;
		mock_handle_free(&c->chan->dsp, h);
		*out = 0;
		mock_dlerror(c, 2, "", NULL);
		return 0;
	}
	*out = MOCK_EINVHANDLE;
	mock_dlerror(c, 2, "mock: no such handle", NULL);
	return MOCK_EINVHANDLE;
}

/* The test skel, methods 0-6; see mock-dsp.rst. */
static s32 mock_test_skel(struct mock_call *c)
{
	u32 sc = c->sc & SC_MASK, method = SC_METHOD(sc);
	static const u32 scs[] = {
		SC(0, 1, 1), SC(1, 1, 1), SC(2, 1, 1),
		SC(3, 1, 1), SC(4, 1, 0), SC(5, 1, 0),
		SC(6, 0, 0),
	};
	struct mock_arg *in = &c->args[0], *out = &c->args[1];
	u64 i;

	if (method >= ARRAY_SIZE(scs))
		return MOCK_EUNSUPPORTED;
	if (sc != scs[method])
		return MOCK_EBADPARM;

	switch (method) {
	case 0:		/* echo */
		if (in->len && out->len)
			memcpy(out->buf, in->buf, min(in->len, out->len));
		return 0;
	case 1: {	/* sum: in u32[], out u64 */
		u64 sum = 0;

		if (in->len % sizeof(u32) || out->len != sizeof(u64))
			return MOCK_EBADPARM;
		for (i = 0; i < in->len / sizeof(u32); i++)
			sum += ((u32 *)in->buf)[i];
		memcpy(out->buf, &sum, sizeof(sum));
		return 0;
	}
	case 2: {	/* checksum: zlib crc32() of in, out u32 */
		u32 crc;

		if (out->len != sizeof(u32))
			return MOCK_EBADPARM;
		crc = crc32_le(~0u, in->buf, in->len) ^ ~0u;
		memcpy(out->buf, &crc, sizeof(crc));
		return 0;
	}
	case 3: {	/* fill: in {u32 byte}, out filled */
		u32 byte;

		if (in->len != sizeof(u32))
			return MOCK_EBADPARM;
		memcpy(&byte, in->buf, sizeof(byte));
		if (out->len)
			memset(out->buf, byte & 0xff, out->len);
		return 0;
	}
	case 4: {	/* sleep: in {u32 ms} */
		u32 ms;

		if (in->len != sizeof(u32))
			return MOCK_EBADPARM;
		memcpy(&ms, in->buf, sizeof(ms));
		c->defer_ms = min(ms, MOCK_MAX_SLEEP_MS);
		return 0;
	}
	case 5: {	/* fail: in {s32 code}, retval = code */
		s32 code;

		if (in->len != sizeof(s32))
			return MOCK_EBADPARM;
		memcpy(&code, in->buf, sizeof(code));
		return code;
	}
	case 6:		/* nop: no buffers, answers 0 */
		return 0;
	}
	return MOCK_EUNSUPPORTED;
}

/* Hexagon SDK calculator: sum (2) and max (3) of in {u32 n}, s32[n]. */
static s32 mock_calc_skel(struct mock_call *c)
{
	u32 sc = c->sc & SC_MASK, method = SC_METHOD(sc);
	struct mock_arg *out = &c->args[2];
	s64 sum = 0;
	s32 max = S32_MIN, *v;
	u32 *n, i;

	if (method != 2 && method != 3)
		return MOCK_EUNSUPPORTED;
	if (sc != SC(method, 2, 1))
		return MOCK_EBADPARM;
	n = mock_in(c, 0, sizeof(*n));
	if (!n || c->args[1].len < (u64)*n * sizeof(s32))
		return MOCK_EBADPARM;
	v = (s32 *)c->args[1].buf;
	for (i = 0; i < *n; i++) {
		sum += v[i];
		max = max(max, v[i]);
	}
	if (method == 2) {
		if (out->len != sizeof(sum))
			return MOCK_EBADPARM;
		memcpy(out->buf, &sum, sizeof(sum));
	} else {
		if (out->len != sizeof(max) || !*n)
			return MOCK_EBADPARM;
		memcpy(out->buf, &max, sizeof(max));
	}
	return 0;
}

/*
 * adsp_listener next2 (handle 3 method 4, handle 7 method 6), scalars
 * (m, 2, 2): in0 {u32 prev_ctx; s32 prev_result; u32 prev_bufs_len; u32
 * bufs_len}, in1 the previous reverse call's output (prev_bufs_len bytes),
 * out0 {u32 ctx; u32 handle; u32 sc; u32 bufs_len_req}, out1 the next
 * call's input (bufs_len bytes).  The mock never makes reverse calls, so
 * there is no previous one to answer (prev_ctx must be 0) and the call
 * waits until the process exits or is released, then fails with EBADSTATE.
 */
static s32 mock_listener_next2(struct mock_call *c, struct mock_proc *p)
{
	struct mock_next2_in *in = mock_in(c, 0, sizeof(*in));

	if (!in || !mock_in(c, 2, sizeof(struct mock_next2_out)) ||
	    c->args[1].len != in->prev_bufs_len ||
	    c->args[3].len != in->bufs_len || in->prev_ctx)
		return MOCK_EBADPARM;
	if (p->exiting)
		return MOCK_EBADSTATE;
	list_add_tail(&c->msg->node, &p->parked);
	c->parked = true;
	return 0;
}

/*
 * The listener interfaces: @base is the method of init2 (handle 3: 3,
 * handle 7: 5); next2 and get_in_bufs2 follow it.
 */
static s32 mock_listener(struct mock_call *c, struct mock_proc *p, u32 base)
{
	u32 sc = c->sc & SC_MASK;

	if (sc == SC(base, 0, 0))		/* init2 */
		return 0;
	if (sc == SC(base + 1, 2, 2))		/* next2 */
		return mock_listener_next2(c, p);
	if (sc == SC(base + 2, 1, 2))		/* get_in_bufs2: none pending */
		return MOCK_EBADPARM;
	return MOCK_EUNSUPPORTED;
}

/* The default listener: register makes the process the PD's listener. */
static s32 mock_default_listener(struct mock_call *c, struct mock_handle *h)
{
	u32 reg = h->skel == MOCK_SKEL_DEFLISTENER ? 0 : 2;
	u32 sc = c->sc & SC_MASK;

	if (SC_METHOD(sc) != reg)
		return MOCK_EUNSUPPORTED;
	if (sc != SC(reg, 0, 0))
		return MOCK_EBADPARM;
	if (!h->registered) {
		h->registered = true;
		WRITE_ONCE(c->chan->dsp.nlisteners,
			   c->chan->dsp.nlisteners + 1);
	}
	return 0;
}

static s32 mock_dispatch(struct mock_call *c)
{
	u32 handle = c->req.handle, method = SC_METHOD(c->sc);
	u32 sc = c->sc & SC_MASK;
	struct mock_handle *h;
	struct mock_proc *p;

	if (handle == MOCK_H_INIT)
		return mock_init_handle(c);
	if (handle == MOCK_H_UTIL)
		return mock_util_handle(c);

	/*
	 * Everything else is unknown, adspmsgd_adsp1 (5) included: its init3
	 * failing with EUNSUPPORTED tells the library the DSP has no exception
	 * log to share.
	 */
	if (handle != MOCK_H_REMOTECTL && handle != MOCK_H_PROCESS &&
	    handle != MOCK_H_LISTENER && handle != MOCK_H_LISTENER0 &&
	    handle != MOCK_H_REMOTECTL1 && handle <= MOCK_H_MAX_STATIC)
		return MOCK_EUNSUPPORTED;

	/* Everything else runs in the caller's process on the DSP. */
	p = mock_user_proc(c);
	if (!p)
		return MOCK_ENOSUCH;

	switch (handle) {
	case MOCK_H_REMOTECTL:
	case MOCK_H_REMOTECTL1: {
		u32 open = handle == MOCK_H_REMOTECTL ? 0 : 2;

		if (method == open && sc == SC(open, 2, 2))
			return mock_remotectl_open(c, p);
		if (method == open + 1 && sc == SC(open + 1, 1, 2))
			return mock_remotectl_close(c, p);
		return method == open || method == open + 1 ?
		       MOCK_EBADPARM : MOCK_EUNSUPPORTED;
	}
	case MOCK_H_LISTENER0:
		return mock_listener(c, p, 3);
	case MOCK_H_LISTENER:
		return mock_listener(c, p, 5);
	case MOCK_H_PROCESS:
		if (sc == SC(2, 0, 0)) {	/* exit */
			p->exiting = true;
			mock_proc_unpark(c, p);
			return 0;
		}
		if (sc == SC(3, 0, 0))		/* thread_exit */
			return 0;
		return MOCK_EUNSUPPORTED;
	}

	list_for_each_entry(h, &p->handles, node) {
		if (h->handle != handle)
			continue;
		if (SC_INHANDLES(sc) || SC_OUTHANDLES(sc))
			return MOCK_EBADPARM;
		switch (h->skel) {
		case MOCK_SKEL_TEST:
			return mock_test_skel(c);
		case MOCK_SKEL_CALC:
			return mock_calc_skel(c);
		case MOCK_SKEL_DEFLISTENER:
		case MOCK_SKEL_DEFLISTENER1:
			return mock_default_listener(c, h);
		}
		return MOCK_EUNSUPPORTED;
	}
	return MOCK_EINVHANDLE;
}

void mock_rpc_handle(struct mock_channel *chan, struct mock_msg *msg)
{
	struct mock_call c = { .chan = chan, .msg = msg };
	struct mock_msg *m, *tmp;
	s32 ret;

	INIT_LIST_HEAD(&c.release);
	memcpy(&c.req, msg->data, sizeof(c.req));
	mock_mem_init(&c.mem, chan, mock_msg_rpdev(msg), true);

	ret = mock_decode(&c);
	if (!ret) {
		mutex_lock(&chan->dsp.lock);
		ret = mock_dispatch(&c);
		mutex_unlock(&chan->dsp.lock);
		/* A parked message may be answered by another worker now. */
		if (!c.parked) {
			s32 wret = mock_writeback(&c);

			if (!ret)
				ret = wret;
		}
	}
	mock_call_free(&c);

	list_for_each_entry_safe(m, tmp, &c.release, node) {
		list_del(&m->node);
		mock_respond(chan, m, MOCK_EBADSTATE);
	}
	if (c.parked)
		return;
	if (c.defer_ms)
		mock_respond_later(chan, msg, ret, c.defer_ms);
	else
		mock_respond(chan, msg, ret);
}

/* The DSP restarted: forget every process; drop parked calls. */
void mock_rpc_reset(struct mock_channel *chan)
{
	struct mock_dsp_state *d = &chan->dsp;
	struct mock_proc *p, *tp;
	struct mock_msg *m, *tm;

	mutex_lock(&d->lock);
	list_for_each_entry_safe(p, tp, &d->procs, node) {
		list_for_each_entry_safe(m, tm, &p->parked, node) {
			list_del(&m->node);
			mock_msg_done(chan, m, false);
		}
		mock_proc_free(chan, p);
	}
	d->next_vaddr = MOCK_VADDR_BASE;
	d->next_handle = MOCK_HANDLE_BASE;
	/* A DSP that boots again needs the remote heap again. */
	d->heap_given = false;
	mutex_unlock(&d->lock);
}

void mock_rpc_init(struct mock_channel *chan)
{
	struct mock_dsp_state *d = &chan->dsp;

	mutex_init(&d->lock);
	INIT_LIST_HEAD(&d->procs);
	d->next_vaddr = MOCK_VADDR_BASE;
	d->next_handle = MOCK_HANDLE_BASE;
}
