// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline kernel functions QDA's Rust
 * abstractions call, in the style of rust/helpers/. Nothing else lives here.
 */
#include <linux/device.h>
#include <linux/iommu.h>

#include "helpers.h"

void qda_iommu_group_remove_device(struct device *dev)
{
	iommu_group_remove_device(dev);
}

bool qda_device_has_iommu_group(struct device *dev)
{
	return !!dev->iommu_group;
}
