//! Building a task's OpenCL C source for the worker's device.

use std::ffi::CString;

use ocl::core::{
    self, Context, DeviceId, Program, ProgramBuildInfo, ProgramBuildInfoResult, ProgramBuildStatus,
};

use super::protocol::Failure;
use super::{cl_failure, describe_cl_error, is_out_of_memory};

/// Compiler options for every program; part of the cache key.
pub(super) const BUILD_OPTIONS: &str = "";
/// Build logs can run to megabytes of warnings; the first errors are what a client needs.
const BUILD_LOG_MAX_BYTES: usize = 4096;

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
    Ok(Err(truncate_log(&log)))
}

/// The start of `log`, cut at `BUILD_LOG_MAX_BYTES` on a character boundary.
fn truncate_log(log: &str) -> String {
    let log = log.trim();
    if log.len() <= BUILD_LOG_MAX_BYTES {
        return log.to_string();
    }
    let mut end = BUILD_LOG_MAX_BYTES;
    while !log.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[build log truncated: {} more bytes]",
        &log[..end],
        log.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_build_logs_keep_their_start_and_say_how_much_was_cut() {
        let log = "é".repeat(BUILD_LOG_MAX_BYTES);
        let truncated = truncate_log(&log);
        assert!(truncated.starts_with("éé"));
        assert!(truncated.len() < BUILD_LOG_MAX_BYTES + 64);
        assert!(truncated.ends_with(&format!("{} more bytes]", BUILD_LOG_MAX_BYTES)));
        assert_eq!(truncate_log("  short\n"), "short");
    }
}
