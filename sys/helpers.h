/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for static inline kernel functions (sys/helpers.c). */
#ifndef QDA_SYS_HELPERS_H
#define QDA_SYS_HELPERS_H

#include <linux/types.h>

struct device;

void qda_iommu_group_remove_device(struct device *dev);
bool qda_device_has_iommu_group(struct device *dev);

#endif
