// SPDX-License-Identifier: GPL-2.0
/*
 * qda_mock_dsp - how the DSP reaches memory.
 *
 * Every address the DSP side dereferences comes off the wire as a DSP
 * address: the context bank's SID (the CB node's reg) in bits 63:32 and a
 * device address below.  What the device address means depends on the
 * platform, exactly as it would for a real DSP:
 *
 * - Without an IOMMU (x86_64: the CB nodes have no iommus property) the
 *   drivers' DMA is dma-direct and the device address is the physical
 *   address.  It must be ordinary RAM (every page pfn_valid() and not
 *   reserved); the SID is not looked at here.
 *
 * - Behind an IOMMU (arm64 with the virt machine's SMMUv3: the mock gave
 *   every CB node an iommus property) the device address is an IOVA of the
 *   DMA domain of the CB device that the bound driver made for the node
 *   whose reg is the SID.  The mock finds that device among the children of
 *   the channel's rpmsg device (both fastrpc.ko, through
 *   of_platform_populate(), and QDA put their CB devices there), takes a
 *   reference, asks iommu_get_domain_for_dev() for its domain and
 *   translates page by page with iommu_iova_to_phys(): a buffer contiguous
 *   in IOVA space may be scattered in physical memory.  An address that is
 *   not mapped in that domain (never mapped, already unmapped, or mapped
 *   only in another CB's domain), or a SID with no CB device in an IOMMU
 *   group, does not resolve: the caller counts a DSP fault.
 *
 * The domain pointer is only used while the CB device is known to stay in
 * its group: during a request (the driver keeps the memory it sent, and so
 * its CB device, until the call is answered or the channel is quiesced,
 * which waits for the DSP side) and under mock_lock while the channel is up
 * (both drivers keep their CB devices for as long as they are bound to it).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/seq_file.h>
#include <linux/sched.h>

#include "mock_dsp.h"

#define MOCK_CB_COMPATIBLE	"qcom,fastrpc-compute-cb"

/* Is [phys, phys + size) ordinary RAM the DSP could reach? */
static bool mock_ram_ok(u64 phys, u64 size)
{
	unsigned long pfn, last;

	if (!size || phys + size < phys)
		return false;
	last = PHYS_PFN(phys + size - 1);
	for (pfn = PHYS_PFN(phys); pfn <= last; pfn++) {
		if (!pfn_valid(pfn) || PageReserved(pfn_to_page(pfn)))
			return false;
		if (!(pfn & 1023))
			cond_resched();
	}
	return true;
}

/* Copy @chunk bytes at @off of page @pfn to (@to_ram) or from @buf. */
static void mock_page_copy(unsigned long pfn, size_t off, void *buf,
			   size_t chunk, bool to_ram)
{
	void *va = kmap_local_page(pfn_to_page(pfn));

	if (to_ram)
		memcpy(va + off, buf, chunk);
	else
		memcpy(buf, va + off, chunk);
	kunmap_local(va);
}

/* Copy between a kernel buffer and RAM already checked by mock_ram_ok(). */
static void mock_ram_copy(u64 phys, void *buf, size_t len, bool to_ram)
{
	while (len) {
		size_t off = offset_in_page(phys);
		size_t chunk = min_t(size_t, len, PAGE_SIZE - off);

		mock_page_copy(PHYS_PFN(phys), off, buf, chunk, to_ram);
		phys += chunk;
		buf += chunk;
		len -= chunk;
	}
}

/* The channel's CB node whose reg is @reg, with a reference, or NULL. */
static struct device_node *mock_cb_node(struct mock_channel *chan, u32 reg)
{
	struct device_node *np;
	u32 val;

	for_each_child_of_node(chan->np, np)
		if (of_device_is_compatible(np, MOCK_CB_COMPATIBLE) &&
		    !of_property_read_u32(np, "reg", &val) && val == reg)
			return np;
	return NULL;
}

/*
 * The device the bound driver made for CB node @np below @rpdev, with a
 * reference, if it is in an IOMMU group with a DMA domain.
 */
static struct device *mock_cb_device(struct device *rpdev,
				     struct device_node *np,
				     struct iommu_domain **domain)
{
	struct device *dev;

	dev = device_find_child(rpdev, np, device_match_of_node);
	if (!dev)
		return NULL;
	*domain = iommu_get_domain_for_dev(dev);
	if (!*domain) {
		put_device(dev);
		return NULL;
	}
	return dev;
}

void mock_mem_init(struct mock_mem *mem, struct mock_channel *chan,
		   struct device *rpdev, bool count)
{
	*mem = (struct mock_mem) {
		.chan = chan,
		.rpdev = rpdev,
		.count = count,
	};
}

void mock_mem_release(struct mock_mem *mem)
{
	put_device(mem->cb);
	mem->cb = NULL;
	mem->domain = NULL;
}

/* Make the CB of stream @sid the cached one; false if it has none. */
static bool mock_mem_use_cb(struct mock_mem *mem, u32 sid)
{
	struct device_node *np;

	if (mem->cb && mem->sid == sid)
		return true;
	mock_mem_release(mem);
	np = mock_cb_node(mem->chan, sid);
	if (!np)
		return false;
	mem->cb = mock_cb_device(mem->rpdev, np, &mem->domain);
	of_node_put(np);
	mem->sid = sid;
	return mem->cb;
}

/*
 * Walk [addr, addr + len) through the IOMMU, copying to or from @buf unless
 * it is NULL; 0 or -EFAULT at the first page that does not translate.
 */
static int mock_mem_walk(struct mock_mem *mem, u64 addr, void *buf, u64 len,
			 bool to_dsp)
{
	u64 iova = addr & MOCK_ADDR_MASK;
	unsigned long n = 0;

	/* A span leaving the 32-bit device space would change the SID. */
	if (!len || iova + len > MOCK_ADDR_MASK + 1)
		return -EFAULT;
	if (!mock_mem_use_cb(mem, addr >> MOCK_SID_SHIFT))
		return -EFAULT;

	while (len) {
		size_t off = offset_in_page(iova);
		size_t chunk = min_t(u64, len, PAGE_SIZE - off);
		phys_addr_t phys;
		unsigned long pfn;

		phys = iommu_iova_to_phys(mem->domain, iova - off);
		pfn = PHYS_PFN(phys);
		if (!phys || !pfn_valid(pfn) || PageReserved(pfn_to_page(pfn)))
			return -EFAULT;
		if (mem->count)
			atomic64_inc(&mem->chan->translations);
		if (buf) {
			mock_page_copy(pfn, off, buf, chunk, to_dsp);
			buf += chunk;
		}
		iova += chunk;
		len -= chunk;
		if (!(++n & 1023))
			cond_resched();
	}
	return 0;
}

/* Can the DSP reach every byte of [addr, addr + len)?  0 or -EFAULT. */
int mock_mem_check(struct mock_mem *mem, u64 addr, u64 len)
{
	if (!mem->chan->iommu)
		return mock_ram_ok(addr & MOCK_ADDR_MASK, len) ? 0 : -EFAULT;
	return mock_mem_walk(mem, addr, NULL, len, false);
}

/*
 * Copy @len bytes between @buf and DSP address @addr, which
 * mock_mem_check() accepted; 0, or -EFAULT if a page no longer translates.
 */
int mock_mem_copy(struct mock_mem *mem, u64 addr, void *buf, u64 len,
		  bool to_dsp)
{
	if (!mem->chan->iommu) {
		mock_ram_copy(addr & MOCK_ADDR_MASK, buf, len, to_dsp);
		return 0;
	}
	return mock_mem_walk(mem, addr, buf, len, to_dsp);
}

/*
 * Does the page at DSP address @addr resolve to RAM on the channel below
 * @rpdev?  0 or -EFAULT; counts neither translations nor faults.
 */
int mock_mem_resolve(struct mock_channel *chan, struct device *rpdev,
		     u64 addr)
{
	struct mock_mem mem;
	int ret;

	mock_mem_init(&mem, chan, rpdev, false);
	ret = mock_mem_check(&mem, addr, 1);
	mock_mem_release(&mem);
	return ret;
}

/* Pages of the IOVA window that @domain maps. */
static unsigned long mock_iommu_mapped(struct iommu_domain *domain)
{
	unsigned long n = 0;
	u64 iova;

	for (iova = MOCK_IOVA_WINDOW_START; iova < MOCK_IOVA_WINDOW_END;
	     iova += PAGE_SIZE) {
		if (iommu_iova_to_phys(domain, iova))
			n++;
		if (!((iova >> PAGE_SHIFT) & 1023))
			cond_resched();
	}
	return n;
}

/*
 * One line per CB of the channel below @rpdev whose device is in an IOMMU
 * group: "<label> cb<reg> sid <stream ID> mapped=<pages>".
 */
void mock_mem_show_iommu(struct seq_file *m, struct mock_channel *chan,
			 struct device *rpdev)
{
	struct device_node *np;

	for_each_child_of_node(chan->np, np) {
		struct of_phandle_args args;
		struct iommu_domain *domain;
		struct device *dev;
		u32 reg;

		if (!of_device_is_compatible(np, MOCK_CB_COMPATIBLE) ||
		    of_property_read_u32(np, "reg", &reg))
			continue;
		dev = mock_cb_device(rpdev, np, &domain);
		if (!dev)
			continue;
		if (of_parse_phandle_with_args(np, "iommus", "#iommu-cells", 0,
					       &args)) {
			args.args_count = 0;
		} else {
			of_node_put(args.np);
		}
		seq_printf(m, "%s cb%u sid ", mock_chan_label(chan), reg);
		if (args.args_count)
			seq_printf(m, "0x%x", args.args[0]);
		else
			seq_puts(m, "none");
		seq_printf(m, " mapped=%lu\n", mock_iommu_mapped(domain));
		put_device(dev);
	}
}
