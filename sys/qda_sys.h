/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers whose items the kernel crate's `bindings` lack. bindgen turns the
 * allow-listed parts of these into sys/qda_sys_generated.rs (see Kbuild).
 */
#include <linux/completion.h>
#include <linux/dma-buf.h>
#include <linux/rpmsg.h>
#include <drm/drm_accel.h>
#include <drm/drm_prime.h>
#include <drm/drm_print.h>
#include "../uapi/drm/qda_accel.h"
#include "helpers.h"
