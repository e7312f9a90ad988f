// SPDX-License-Identifier: GPL-2.0

//! The accel device and its ioctls (`uapi/drm/qda_accel.h`).
//!
//! Numbers without a handler yet (GEM, FastRPC) are absent from the table,
//! so the DRM core answers them with `EINVAL` like any unknown number.

use crate::{
    rpmsg::Dsp,
    sys::{accel, bindings},
};
use kernel::prelude::*;

/// Per-device data of the accel device.
pub(crate) struct DeviceData {
    /// The DSP this device talks to.
    pub(crate) dsp: Dsp,
}

/// Per-open-file data (empty until sessions exist).
pub(crate) struct FileData;

/// The accel driver.
pub(crate) struct QdaAccel;

impl accel::Driver for QdaAccel {
    type Data = DeviceData;
    type File = FileData;
    type OwnerModule = crate::QdaModule;

    const INFO: accel::DriverInfo = accel::DriverInfo {
        name: c"qda",
        desc: c"Qualcomm DSP accelerator",
        major: 0,
        minor: 1,
    };

    const IOCTLS: &'static [bindings::drm_ioctl_desc] = crate::declare_accel_ioctls!(QdaAccel;
        (bindings::DRM_QDA_QUERY, IOR, bindings::drm_qda_query, query),
    );

    fn open(_dev: &accel::Device<Self>) -> Result<Pin<KBox<FileData>>> {
        Ok(KBox::pin(FileData, GFP_KERNEL)?)
    }
}

/// `DRM_IOCTL_QDA_QUERY`: names the DSP behind the node.
fn query(
    dev: &accel::Device<QdaAccel>,
    q: &mut bindings::drm_qda_query,
    _file: &accel::File<QdaAccel>,
) -> Result<i32> {
    *q = bindings::drm_qda_query::default();
    let name = dev.data().dsp.name().as_bytes();
    // Names are at most 5 bytes; keep the NUL terminator regardless.
    let dst = q
        .dsp_name
        .get_mut(..name.len())
        .filter(|_| name.len() < bindings::QDA_DSP_NAME_LEN as usize)
        .ok_or(EOVERFLOW)?;
    dst.copy_from_slice(name);
    Ok(0)
}
