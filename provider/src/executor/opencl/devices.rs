//! What OpenCL offers on this machine: platforms, their devices, and the registry's view of
//! one device. Indexes follow `clGetPlatformIDs` / `clGetDeviceIDs` order, the same order the
//! worker uses to open a [`DeviceSelector`].

use ocl::core::{
    self, ffi, DeviceId, DeviceInfo as ClDeviceInfo, DeviceInfoResult, DeviceType as ClDeviceType,
    PlatformId, PlatformInfo, PlatformInfoResult,
};
use opengpu_types::registry::{DeviceInfo, DeviceType};
use serde::Serialize;
use std::sync::{Mutex, PoisonError};

use super::describe_cl_error;
use crate::executor::{DeviceSelector, ExecError};

/// Reads one `clGetDeviceInfo` value as the `DeviceInfoResult` variant of the same name.
macro_rules! query {
    ($device:expr, $what:ident) => {
        match core::get_device_info($device, ClDeviceInfo::$what) {
            Ok(DeviceInfoResult::$what(value)) => Ok(value),
            Ok(other) => Err(ExecError::Unavailable(format!(
                "clGetDeviceInfo({}) returned {other:?}",
                stringify!($what)
            ))),
            Err(err) => Err(unavailable(
                concat!("clGetDeviceInfo(", stringify!($what), ")"),
                &err,
            )),
        }
    };
}

/// Held while enumerating: PoCL reports zero devices to a thread that asks while another
/// thread's first call is still initialising the platform.
static ENUMERATION: Mutex<()> = Mutex::new(());

/// One OpenCL platform (driver) and its devices.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct PlatformListing {
    pub name: String,
    pub vendor: String,
    pub version: String,
    pub devices: Vec<DeviceListing>,
}

/// One device: what the registry stores, plus what an operator wants to see.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct DeviceListing {
    pub info: DeviceInfo,
    pub vendor: String,
    pub driver_version: String,
    pub opencl_c_version: String,
    /// Largest single buffer the device allocates (`CL_DEVICE_MAX_MEM_ALLOC_SIZE`).
    pub max_mem_alloc_bytes: u64,
}

/// Every platform with its devices; empty when no OpenCL driver (ICD) is installed.
pub fn list_platforms() -> Result<Vec<PlatformListing>, ExecError> {
    let _enumerating = ENUMERATION.lock().unwrap_or_else(PoisonError::into_inner);
    platform_ids()?
        .into_iter()
        .map(|platform| {
            let devices = device_ids(platform)?
                .into_iter()
                .map(device_listing)
                .collect::<Result<_, _>>()?;
            Ok(PlatformListing {
                name: platform_string(platform, PlatformInfo::Name)?,
                vendor: platform_string(platform, PlatformInfo::Vendor)?,
                version: platform_string(platform, PlatformInfo::Version)?,
                devices,
            })
        })
        .collect()
}

/// The selected device as the registry stores it.
pub fn device_info(selector: DeviceSelector) -> Result<DeviceInfo, ExecError> {
    let _enumerating = ENUMERATION.lock().unwrap_or_else(PoisonError::into_inner);
    let (_, device) = find(selector)?;
    registry_info(device)
}

/// The selected platform's and device's ids.
pub(super) fn select(selector: DeviceSelector) -> Result<(PlatformId, DeviceId), ExecError> {
    let _enumerating = ENUMERATION.lock().unwrap_or_else(PoisonError::into_inner);
    find(selector)
}

/// [`select`] for a caller already holding `ENUMERATION`; names what exists when an index is
/// out of range.
fn find(selector: DeviceSelector) -> Result<(PlatformId, DeviceId), ExecError> {
    let platforms = platform_ids()?;
    let platform = *platforms.get(selector.platform).ok_or_else(|| {
        ExecError::Unavailable(format!(
            "OpenCL platform {} does not exist: this machine has {} platform(s)",
            selector.platform,
            platforms.len()
        ))
    })?;
    let devices = device_ids(platform)?;
    let device = *devices.get(selector.device).ok_or_else(|| {
        ExecError::Unavailable(format!(
            "OpenCL device {} does not exist on platform {}: it has {} device(s)",
            selector.device,
            selector.platform,
            devices.len()
        ))
    })?;
    Ok((platform, device))
}

/// The device's `CL_DEVICE_MAX_MEM_ALLOC_SIZE`.
pub(super) fn max_mem_alloc_bytes(device: DeviceId) -> Result<u64, ExecError> {
    query!(device, MaxMemAllocSize)
}

/// Whether the device is a CPU, whose buffers are ordinary host memory.
pub(super) fn is_cpu(device: DeviceId) -> Result<bool, ExecError> {
    let device_type: ClDeviceType = query!(device, Type)?;
    Ok(registry_device_type(device_type) == DeviceType::Cpu)
}

fn platform_ids() -> Result<Vec<PlatformId>, ExecError> {
    // ocl retries CL_PLATFORM_NOT_FOUND_KHR for ten seconds; with no ICD installed it is final.
    let mut count = 0;
    // SAFETY: asks for the count only; no output array is passed.
    let status = unsafe { ffi::clGetPlatformIDs(0, std::ptr::null_mut(), &mut count) };
    if status == ffi::CL_PLATFORM_NOT_FOUND_KHR || (status == ffi::CL_SUCCESS && count == 0) {
        return Ok(Vec::new());
    }
    core::get_platform_ids().map_err(|err| unavailable("clGetPlatformIDs", &err))
}

fn device_ids(platform: PlatformId) -> Result<Vec<DeviceId>, ExecError> {
    match core::get_device_ids(platform, Some(ClDeviceType::ALL), None) {
        Ok(devices) => Ok(devices),
        Err(err) if err.api_status() == Some(core::Status::CL_DEVICE_NOT_FOUND) => Ok(Vec::new()),
        Err(err) => Err(unavailable("clGetDeviceIDs", &err)),
    }
}

fn platform_string(platform: PlatformId, what: PlatformInfo) -> Result<String, ExecError> {
    match core::get_platform_info(platform, what) {
        Ok(
            PlatformInfoResult::Name(text)
            | PlatformInfoResult::Vendor(text)
            | PlatformInfoResult::Version(text)
            | PlatformInfoResult::Profile(text)
            | PlatformInfoResult::Extensions(text),
        ) => Ok(text.trim_end_matches('\0').trim().to_string()),
        Err(err) => Err(unavailable("clGetPlatformInfo", &err)),
    }
}

fn registry_info(device: DeviceId) -> Result<DeviceInfo, ExecError> {
    let device_type: ClDeviceType = query!(device, Type)?;
    let extensions: String = query!(device, Extensions)?;
    // Devices without doubles may reject the query itself (OpenCL < 1.2), hence `unwrap_or`.
    let has_double_config = query!(device, DoubleFpConfig)
        .map(|config| !config.is_empty())
        .unwrap_or(false);
    Ok(DeviceInfo {
        name: clean(query!(device, Name)?),
        device_type: registry_device_type(device_type),
        compute_units: query!(device, MaxComputeUnits)?,
        global_mem_bytes: query!(device, GlobalMemSize)?,
        max_work_group_size: query!(device, MaxWorkGroupSize)? as u64,
        fp64: has_double_config || extensions.split_whitespace().any(|e| e == "cl_khr_fp64"),
    })
}

fn device_listing(device: DeviceId) -> Result<DeviceListing, ExecError> {
    Ok(DeviceListing {
        info: registry_info(device)?,
        // Informational strings: an odd driver that cannot report them still lists its device.
        vendor: query!(device, Vendor).map(clean).unwrap_or_default(),
        driver_version: query!(device, DriverVersion).map(clean).unwrap_or_default(),
        opencl_c_version: query!(device, OpenclCVersion)
            .map(clean)
            .unwrap_or_default(),
        max_mem_alloc_bytes: max_mem_alloc_bytes(device)?,
    })
}

fn registry_device_type(device_type: ClDeviceType) -> DeviceType {
    if device_type.contains(ClDeviceType::GPU) {
        DeviceType::Gpu
    } else if device_type.contains(ClDeviceType::CPU) {
        DeviceType::Cpu
    } else if device_type.contains(ClDeviceType::ACCELERATOR) {
        DeviceType::Accelerator
    } else {
        DeviceType::Other
    }
}

/// Drivers pad some strings with NULs or spaces.
fn clean(text: String) -> String {
    text.trim_end_matches('\0').trim().to_string()
}

fn unavailable(call: &str, err: &core::Error) -> ExecError {
    ExecError::Unavailable(describe_cl_error(call, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_type_prefers_gpu_then_cpu_then_accelerator() {
        let cases = [
            (ClDeviceType::GPU | ClDeviceType::DEFAULT, DeviceType::Gpu),
            (ClDeviceType::CPU, DeviceType::Cpu),
            (ClDeviceType::ACCELERATOR, DeviceType::Accelerator),
            (ClDeviceType::CUSTOM, DeviceType::Other),
        ];
        for (cl, expected) in cases {
            assert_eq!(registry_device_type(cl), expected, "{cl:?}");
        }
    }
}
