/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * Qualcomm DSP accelerator (QDA) user-space API.
 *
 * Binary-compatible with the FastRPC user-space library built with
 * --enable-accel-driver (inc/fastrpc_ioctl_drm.h): same ioctl numbers, same
 * structure layouts. Every "handle" or "fd" field below is a GEM handle of
 * the calling DRM file; foreign dma-bufs enter through
 * DRM_IOCTL_PRIME_FD_TO_HANDLE first. Padding and reserved fields must be
 * zero and are rejected with -EINVAL otherwise.
 *
 * Return values of the FastRPC ioctls (INIT_ATTACH, INIT_CREATE, MAP,
 * MUNMAP, INVOKE): 0, or the DSP's own 32-bit status when it is positive or
 * below -4095 (e.g. 0x8000040D), as the ioctl's value; a negative errno the
 * DSP returned (-1..-133) as that errno; any other DSP value in the errno
 * range (-134..-4095, where the kernel keeps internal codes such as
 * -ERESTARTSYS) as -EIO, so no kernel-internal code reaches user space.
 *
 * Calls the kernel makes to the DSP by itself (attach, create, release,
 * map, unmap, the capability query) wait at most the qda module parameter
 * kernel_timeout_ms (default 5000) and then fail with -ETIMEDOUT; the
 * driver cleans up on the DSP (see INIT_CREATE and MAP). Per process and
 * channel, at most max_inflight calls (default 64) may be in flight
 * (-EAGAIN beyond), and at most max_memory_mb MiB of buffers, payloads and
 * init memory may be allocated (default: a quarter of RAM; -ENOMEM beyond).
 *
 * Who may call what. Every open file is either trusted or untrusted, fixed
 * at open() from the opener's credentials: trusted with CAP_SYS_ADMIN (in
 * the initial user namespace) or as a member of the group given by the qda
 * module parameter trusted_gid. A channel is secure unless its device-tree
 * node has qcom,non-secure-domain (QDA_CAP_SECURE_CHANNEL). Refusals are
 * -EPERM, before anything reaches the DSP:
 *
 *  - QUERY, GEM_CREATE, GEM_MMAP_OFFSET, PRIME import/export, MAP, MUNMAP,
 *    INVOKE and GET_PARAM on one's own session: anyone;
 *  - INIT_CREATE: trusted openers; untrusted ones on a non-secure channel
 *    (signed or unsigned PD), and on a secure channel only with
 *    QDA_PROC_MODE_UNSIGNED on a DSP that supports unsigned PDs (CDSP,
 *    CDSP1, GDSP0, GDSP1; QDA_CAP_UNSIGNED_PD). The attributes in
 *    QDA_PROC_MODE_TRUSTED need a trusted opener anywhere;
 *  - INIT_ATTACH (root PD), INIT_ATTACH_SNS (sensors PD) and
 *    INIT_CREATE_STATIC (audio PD): trusted openers only.
 */
#ifndef _UAPI_DRM_QDA_ACCEL_H_
#define _UAPI_DRM_QDA_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Command numbers, relative to DRM_COMMAND_BASE. */
#define DRM_QDA_QUERY			0x00
#define DRM_QDA_GEM_CREATE		0x01
#define DRM_QDA_GEM_MMAP_OFFSET		0x02
#define DRM_QDA_INIT_ATTACH		0x03
#define DRM_QDA_INIT_CREATE		0x04
#define DRM_QDA_MAP			0x05
#define DRM_QDA_MUNMAP			0x06
#define DRM_QDA_INVOKE			0x07
#define DRM_QDA_GET_PARAM		0x08
#define DRM_QDA_INIT_ATTACH_SNS		0x09
#define DRM_QDA_INIT_CREATE_STATIC	0x0a

/** QDA_DSP_NAME_LEN - size of &drm_qda_query.dsp_name, NUL included. */
#define QDA_DSP_NAME_LEN		16

/**
 * struct drm_qda_query - identify the DSP behind an accel node
 *
 * Used with DRM_IOCTL_QDA_QUERY. Takes no input.
 */
struct drm_qda_query {
	/**
	 * @dsp_name: Output. NUL-terminated name of the DSP this node talks
	 * to: one of "adsp", "mdsp", "sdsp", "cdsp", "cdsp1", "gdsp0",
	 * "gdsp1". Bytes after the terminator are zero.
	 */
	__u8 dsp_name[QDA_DSP_NAME_LEN];
	/**
	 * @capabilities: Output. QDA_CAP_* flags of the channel and of the
	 * calling file.
	 */
	__u32 capabilities;
};

/* Flags of &drm_qda_query.capabilities. */
/** QDA_CAP_SECURE_CHANNEL - the channel is secure (no qcom,non-secure-domain). */
#define QDA_CAP_SECURE_CHANNEL		(1 << 0)
/** QDA_CAP_TRUSTED - the calling file was opened by a trusted opener. */
#define QDA_CAP_TRUSTED			(1 << 1)
/** QDA_CAP_UNSIGNED_PD - the DSP runs unsigned user PDs (CDSP, CDSP1, GDSP). */
#define QDA_CAP_UNSIGNED_PD		(1 << 2)
/** QDA_CAP_REMOTE_HEAP - the channel has a remote heap for the audio PD. */
#define QDA_CAP_REMOTE_HEAP		(1 << 3)

/**
 * struct drm_qda_gem_create - allocate a DSP-reachable GEM buffer
 *
 * Used with DRM_IOCTL_QDA_GEM_CREATE.
 */
struct drm_qda_gem_create {
	/**
	 * @size: Input. Size in bytes, non-zero; rounded up to whole pages.
	 */
	__u64 size;
	/** @handle: Output. GEM handle of the new object. */
	__u32 handle;
	/** @pad: Input. Must be zero. */
	__u32 pad;
};

/**
 * struct drm_qda_gem_mmap_offset - get the fake offset to mmap a GEM buffer
 *
 * Used with DRM_IOCTL_QDA_GEM_MMAP_OFFSET; pass @offset to mmap() on the
 * accel file descriptor.
 */
struct drm_qda_gem_mmap_offset {
	/** @handle: Input. GEM handle of the object. */
	__u32 handle;
	/** @pad: Input. Must be zero. */
	__u32 pad;
	/** @offset: Output. Offset to pass to mmap(). */
	__u64 offset;
};

/**
 * struct drm_qda_init_create - create the user protection domain (PD)
 *
 * Used with DRM_IOCTL_QDA_INIT_CREATE. With no shell file the library
 * passes @filelen 0, @filefd -1 and @file 0. When the DSP's answer is lost
 * (-ETIMEDOUT, likewise for INIT_ATTACH) the driver releases the process
 * the DSP may have created before returning; if that release is not
 * confirmed either, the next INIT_CREATE or INIT_ATTACH of the process
 * retries it first and fails with -EBUSY while it stays unconfirmed.
 */
struct drm_qda_init_create {
	/** @filelen: Input. Length in bytes of the shell ELF, or 0. */
	__u32 filelen;
	/**
	 * @filefd: Input. GEM handle holding the shell ELF when > 0;
	 * otherwise the ELF is read from @file.
	 */
	__s32 filefd;
	/**
	 * @attrs: Input. Process attributes (QDA_PROC_MODE_*); non-zero
	 * selects the create-with-attributes method.
	 */
	__u32 attrs;
	/**
	 * @siglen: Input. Length of the signature inside the ELF, or 0; at
	 * most @filelen (-EINVAL otherwise).
	 */
	__u32 siglen;
	/** @file: Input. User pointer to the shell ELF, or 0. */
	__u64 file;
};

/*
 * Process attributes for &drm_qda_init_create.attrs, as the FastRPC library
 * defines them (enum fastrpc_proc_attr). Other bits are refused (-EINVAL).
 */
#define QDA_PROC_MODE_DEBUG		(1 << 0)
#define QDA_PROC_MODE_PTRACE		(1 << 1)
#define QDA_PROC_MODE_CRC		(1 << 2)
#define QDA_PROC_MODE_UNSIGNED		(1 << 3)
#define QDA_PROC_MODE_ADAPTIVE_QOS	(1 << 4)
#define QDA_PROC_MODE_SYSTEM_PROCESS	(1 << 5)
#define QDA_PROC_MODE_PRIVILEGED	(1 << 6)
/** QDA_PROC_MODE_KNOWN - every attribute bit INIT_CREATE accepts. */
#define QDA_PROC_MODE_KNOWN		0x7f
/** QDA_PROC_MODE_TRUSTED - attributes only a trusted opener may set. */
#define QDA_PROC_MODE_TRUSTED		(QDA_PROC_MODE_DEBUG | \
					 QDA_PROC_MODE_PTRACE | \
					 QDA_PROC_MODE_SYSTEM_PROCESS | \
					 QDA_PROC_MODE_PRIVILEGED)

/** QDA_INIT_NAME_MAX - longest &drm_qda_init_create_static.name, NUL included. */
#define QDA_INIT_NAME_MAX		128

/**
 * struct drm_qda_init_create_static - create a static PD by name
 *
 * Used with DRM_IOCTL_QDA_INIT_CREATE_STATIC (trusted openers only): the
 * audio PD ("audiopd") of an ADSP, as fastrpc.c's
 * FASTRPC_IOCTL_INIT_CREATE_STATIC does. The PD's heap is the channel's
 * remote heap (its memory-region), handed to the DSP with the first create
 * after the DSP started; a channel without one refuses with -EOPNOTSUPP.
 * -EBUSY while another process holds the channel's static PD, -EALREADY if
 * the caller's session already has a PD.
 */
struct drm_qda_init_create_static {
	/**
	 * @namelen: Input. Length of @name including its NUL, 1 to
	 * QDA_INIT_NAME_MAX (-EINVAL otherwise, also when the name is not
	 * NUL-terminated exactly there).
	 */
	__u32 namelen;
	/**
	 * @memlen: Input. Ignored (fastrpc.c ignores it too): the PD gets the
	 * channel's remote heap.
	 */
	__u32 memlen;
	/** @name: Input. User pointer to the PD's name. */
	__u64 name;
};

/* Requests for &drm_qda_map.request and &drm_qda_munmap.request. */
#define QDA_MAP_REQUEST_LEGACY		1
#define QDA_MAP_REQUEST_ATTR		2

/**
 * struct drm_qda_map - map a buffer into the DSP process
 *
 * Used with DRM_IOCTL_QDA_MAP. The DSP maps whole pages: @offset must be
 * page aligned, @size is rounded up to whole pages, and the range must lie
 * inside the buffer (-EINVAL otherwise, before anything reaches the DSP).
 * When the DSP's answer is lost (-ETIMEDOUT) the buffer stays referenced
 * until the DSP process is released, since the DSP may have mapped it.
 */
struct drm_qda_map {
	/**
	 * @request: Input. QDA_MAP_REQUEST_LEGACY (DSP mmap) or
	 * QDA_MAP_REQUEST_ATTR (memory map with attributes).
	 */
	__u32 request;
	/** @flags: Input. Mapping flags passed to the DSP. */
	__u32 flags;
	/** @fd: Input. GEM handle of the buffer to map. */
	__s32 fd;
	/**
	 * @attrs: Input. Mapping attributes of the FastRPC library
	 * (QDA_MAP_REQUEST_ATTR only; must be 0 for QDA_MAP_REQUEST_LEGACY).
	 */
	__u32 attrs;
	/**
	 * @offset: Input. Page-aligned offset into the buffer
	 * (QDA_MAP_REQUEST_ATTR only; must be 0 for QDA_MAP_REQUEST_LEGACY).
	 */
	__u32 offset;
	/** @pad: Input. Must be zero. */
	__u32 pad;
	/** @vaddrin: Input. User virtual address of the buffer, or 0. */
	__u64 vaddrin;
	/**
	 * @size: Input. Size in bytes of the mapping, rounded up to whole
	 * pages; 0 maps up to the end of the buffer.
	 */
	__u64 size;
	/** @vaddrout: Output. DSP virtual address of the mapping. */
	__u64 vaddrout;
};

/**
 * struct drm_qda_munmap - unmap a buffer from the DSP process
 *
 * Used with DRM_IOCTL_QDA_MUNMAP. A mapping whose map or unmap answer was
 * lost (-ETIMEDOUT) is no longer found (-ENOENT); its buffer stays
 * referenced until the DSP process is released.
 */
struct drm_qda_munmap {
	/**
	 * @request: Input. QDA_MAP_REQUEST_LEGACY or QDA_MAP_REQUEST_ATTR,
	 * matching the request that created the mapping.
	 */
	__u32 request;
	/** @fd: Input. GEM handle of the mapped buffer. */
	__s32 fd;
	/** @vaddr: Input. User virtual address (QDA_MAP_REQUEST_ATTR only). */
	__u64 vaddr;
	/** @vaddrout: Input. DSP virtual address returned by the map. */
	__u64 vaddrout;
	/**
	 * @size: Input. Size in bytes of the mapping as given to MAP, or 0;
	 * otherwise -EINVAL if it does not round up to the mapping's size.
	 */
	__u64 size;
};

/**
 * struct drm_qda_invoke_args - one argument of a remote call
 *
 * Element of the array &drm_qda_invoke.args points to.
 */
struct drm_qda_invoke_args {
	/**
	 * @ptr: Input. User address of the argument's data. For a GEM
	 * argument, an address inside a CPU mapping of that object.
	 */
	__u64 ptr;
	/** @length: Input. Length in bytes of the argument. */
	__u64 length;
	/**
	 * @fd: Input. GEM handle backing the argument when > 0; when <= 0 the
	 * data is plain user memory and is copied.
	 */
	__s32 fd;
	/**
	 * @attr: Input. Argument attributes (cache hints of the FastRPC
	 * library); currently ignored.
	 */
	__u32 attr;
};

/**
 * struct drm_qda_invoke - call a method on the DSP
 *
 * Used with DRM_IOCTL_QDA_INVOKE. The ioctl returns the DSP's return value
 * as described at the top of this file. Inline (copied) arguments and the
 * call's metadata may take at most 64 MiB (E2BIG beyond); pass larger data
 * in GEM buffers. -EAGAIN when the process already has max_inflight calls
 * in flight on the channel (a call interrupted by a signal counts until the
 * DSP answers it).
 */
struct drm_qda_invoke {
	/** @handle: Input. Remote handle; the init handle (1) is refused. */
	__u32 handle;
	/**
	 * @sc: Input. Scalars: bits 28:24 method, 23:16 input buffers, 15:8
	 * output buffers, 7:4 input handles, 3:0 output handles.
	 */
	__u32 sc;
	/** @args: Input. User pointer to an array of &drm_qda_invoke_args. */
	__u64 args;
};

/** QDA_PARAM_DSP_ATTRIBUTES - number of DSP attribute ids for GET_PARAM. */
#define QDA_PARAM_DSP_ATTRIBUTES	256

/**
 * struct drm_qda_get_param - read a DSP capability attribute
 *
 * Used with DRM_IOCTL_QDA_GET_PARAM. The DSP's attribute table is queried
 * once per channel and cached; attribute 0 is filled in by user space on the
 * FastRPC library's side and always reads 0 here.
 */
struct drm_qda_get_param {
	/** @param: Input. Attribute id, below QDA_PARAM_DSP_ATTRIBUTES. */
	__u32 param;
	/** @pad: Input. Must be zero. */
	__u32 pad;
	/** @value: Output. The attribute's value. */
	__u64 value;
};

/* Build a scalars word for &drm_qda_invoke.sc. */
#define QDA_SCALARS(method, in, out) \
	((((method) & 0x1f) << 24) | (((in) & 0xff) << 16) | (((out) & 0xff) << 8))

#define DRM_IOCTL_QDA_QUERY \
	DRM_IOR(DRM_COMMAND_BASE + DRM_QDA_QUERY, struct drm_qda_query)
#define DRM_IOCTL_QDA_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GEM_CREATE, struct drm_qda_gem_create)
#define DRM_IOCTL_QDA_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GEM_MMAP_OFFSET, struct drm_qda_gem_mmap_offset)
#define DRM_IOCTL_QDA_INIT_ATTACH \
	DRM_IO(DRM_COMMAND_BASE + DRM_QDA_INIT_ATTACH)
#define DRM_IOCTL_QDA_INIT_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_INIT_CREATE, struct drm_qda_init_create)
#define DRM_IOCTL_QDA_MAP \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_MAP, struct drm_qda_map)
#define DRM_IOCTL_QDA_MUNMAP \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_MUNMAP, struct drm_qda_munmap)
/*
 * The library encodes INVOKE with the 24-byte size of its argument
 * descriptor while passing a 16-byte struct drm_qda_invoke; declaring it
 * write-only keeps drm_ioctl() from copying 24 bytes back.
 */
#define DRM_IOCTL_QDA_GET_PARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GET_PARAM, struct drm_qda_get_param)
#define DRM_IOCTL_QDA_INVOKE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_QDA_INVOKE, struct drm_qda_invoke_args)
/* Attach to the sensors PD (trusted openers only), like INIT_ATTACH. */
#define DRM_IOCTL_QDA_INIT_ATTACH_SNS \
	DRM_IO(DRM_COMMAND_BASE + DRM_QDA_INIT_ATTACH_SNS)
#define DRM_IOCTL_QDA_INIT_CREATE_STATIC \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_INIT_CREATE_STATIC, \
		 struct drm_qda_init_create_static)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_DRM_QDA_ACCEL_H_ */
