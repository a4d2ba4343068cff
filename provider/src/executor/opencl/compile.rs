//! Building a task's OpenCL C source for the worker's device.

use std::ffi::CString;

use ocl::core::{
    self, Context, DeviceId, Program, ProgramBuildInfo, ProgramBuildInfoResult, ProgramBuildStatus,
};

use opengpu_opencl::truncate_build_log;

use super::protocol::Failure;
use super::{cl_failure, describe_cl_error, is_out_of_memory};

/// Compiler options for every program; part of the cache key.
pub(super) const BUILD_OPTIONS: &str = "";

/// `Ok(Err(log))` is a program that does not build, worth caching; `Err` is a failure that
/// says nothing about the source (out of memory, driver error) and is not cached.
pub(super) fn build_program(
    context: &Context,
    device: DeviceId,
    source: &str,
) -> Result<Result<Program, String>, Failure> {
    let Ok(source) = CString::new(source) else {
        return Ok(Err("kernel source contains a NUL byte".to_string()));
    };
    let program = core::create_program_with_source(context, &[source])
        .map_err(|err| cl_failure("clCreateProgramWithSource", &err))?;
    let options = CString::new(BUILD_OPTIONS).unwrap_or_default();
    let built = core::build_program(&program, Some(&[device]), &options, None, None);
    if let Err(err) = &built {
        if is_out_of_memory(err) {
            return Err(cl_failure("clBuildProgram", err));
        }
    }
    // ocl reports a failed build with an empty log as success: ask for the status too.
    let status = core::get_program_build_info(&program, device, ProgramBuildInfo::BuildStatus);
    if built.is_ok()
        && matches!(
            status,
            Ok(ProgramBuildInfoResult::BuildStatus(
                ProgramBuildStatus::Success
            ))
        )
    {
        return Ok(Ok(program));
    }
    let log = match core::get_program_build_info(&program, device, ProgramBuildInfo::BuildLog) {
        Ok(ProgramBuildInfoResult::BuildLog(log)) if !log.trim().is_empty() => log,
        _ => match built {
            Err(err) => describe_cl_error("clBuildProgram", &err),
            Ok(()) => format!("clBuildProgram left the program in state {status:?}"),
        },
    };
    Ok(Err(truncate_build_log(&log)))
}
