//! The check itself, in this process: the first OpenCL device, the program built as a provider
//! builds it, the entry point looked up, and every argument bound the way a provider binds it.

use std::ffi::CString;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use ocl::core::{
    self, ffi, ArgVal, Context, ContextProperties, DeviceId, DeviceInfo, DeviceInfoResult,
    DeviceType, Kernel as ClKernel, KernelArgAddressQualifier, KernelArgInfo, KernelArgInfoResult,
    KernelInfo, KernelInfoResult, Mem, MemFlags, PlatformId, PlatformInfo, PlatformInfoResult,
    Program, ProgramBuildInfo, ProgramBuildInfoResult, ProgramBuildStatus, ProgramInfo,
    ProgramInfoResult,
};
use opengpu_types::kernel::{Kernel, KernelArg};

use crate::{CheckError, Checked};

/// Compiler options. The provider's executor builds with none; this one adds only the
/// metadata that lets the driver name each parameter (`clGetKernelArgInfo`) in an error.
const BUILD_OPTIONS: &str = "-cl-kernel-arg-info";
/// See [`truncate_build_log`].
const BUILD_LOG_MAX_BYTES: usize = 4096;
/// Bytes of the one buffer every buffer argument is bound to: binding checks the argument's
/// kind, not its size, so no task-sized memory is needed.
const PROBE_BUFFER_BYTES: usize = 16;

/// Checks `kernel` on the first device of the first OpenCL platform that has one.
///
/// In this process: a driver that crashes on the source takes the caller down with it, and
/// whatever the driver prints lands on this process's stdout and stderr. A caller that must
/// survive either runs it through [`crate::child`].
pub fn check_kernel(kernel: &Kernel) -> Result<Checked, CheckError> {
    let (platform, device) = first_device()?;
    let device_name = device_name(device);
    let properties = ContextProperties::new().platform(platform);
    let context = core::create_context(Some(&properties), &[device], None, None)
        .map_err(|err| failed("clCreateContext", &err))?;
    let started = Instant::now();
    let program = build(&context, device, &kernel.source, &device_name)?;
    let build_time = started.elapsed();
    let entry_point = &kernel.entry_point;
    let cl_kernel =
        core::create_kernel(&program, entry_point).map_err(|_| CheckError::NoEntryPoint {
            entry_point: entry_point.clone(),
            kernels: kernel_names(&program),
            declared: declares(&kernel.source, entry_point),
        })?;
    let takes = match core::get_kernel_info(&cl_kernel, KernelInfo::NumArgs) {
        Ok(KernelInfoResult::NumArgs(n)) => n,
        Ok(other) => return Err(failed_with(format!("clGetKernelInfo(NumArgs): {other:?}"))),
        Err(err) => return Err(failed("clGetKernelInfo(NumArgs)", &err)),
    };
    if takes as usize != kernel.args.len() {
        return Err(CheckError::ArgCount {
            entry_point: entry_point.clone(),
            takes,
            given: kernel.args.len(),
        });
    }
    bind_args(&context, &cl_kernel, &kernel.args)?;
    Ok(Checked {
        platform: platform_name(platform),
        device: device_name,
        entry_point: entry_point.clone(),
        args: takes,
        build_time,
    })
}

/// Held while enumerating: PoCL reports no device to a thread that asks while another
/// thread's first call is still initialising the platform.
static ENUMERATION: Mutex<()> = Mutex::new(());

/// The first device of the first platform that has one.
fn first_device() -> Result<(PlatformId, DeviceId), CheckError> {
    let _enumerating = ENUMERATION.lock().unwrap_or_else(PoisonError::into_inner);
    // ocl retries CL_PLATFORM_NOT_FOUND_KHR for ten seconds; with no driver installed it is
    // final, so ask for the count first.
    let mut count = 0;
    // SAFETY: asks for the count only; no output array is passed.
    let status = unsafe { ffi::clGetPlatformIDs(0, std::ptr::null_mut(), &mut count) };
    if status == ffi::CL_PLATFORM_NOT_FOUND_KHR || (status == ffi::CL_SUCCESS && count == 0) {
        return Err(CheckError::Unavailable {
            reason: "no OpenCL platform (driver) is installed".into(),
        });
    }
    let platforms = core::get_platform_ids().map_err(|err| CheckError::Unavailable {
        reason: describe_cl_error("clGetPlatformIDs", &err),
    })?;
    for platform in &platforms {
        if let Ok(devices) = core::get_device_ids(platform, Some(DeviceType::ALL), None) {
            if let Some(device) = devices.first() {
                return Ok((*platform, *device));
            }
        }
    }
    Err(CheckError::Unavailable {
        reason: format!("{} OpenCL platform(s), none with a device", platforms.len()),
    })
}

/// The built program, or the build log of a source that does not build.
fn build(
    context: &Context,
    device: DeviceId,
    source: &str,
    device_name: &str,
) -> Result<Program, CheckError> {
    let build_error = |log: String| CheckError::Build {
        device: device_name.to_string(),
        log,
    };
    let Ok(source) = CString::new(source) else {
        return Err(build_error("the source contains a NUL byte".into()));
    };
    let program = core::create_program_with_source(context, &[source])
        .map_err(|err| failed("clCreateProgramWithSource", &err))?;
    let options = CString::new(BUILD_OPTIONS).unwrap_or_default();
    let built = core::build_program(&program, Some(&[device]), &options, None, None);
    // ocl reports a failed build with an empty log as success: ask for the status too.
    let status = core::get_program_build_info(&program, device, ProgramBuildInfo::BuildStatus);
    let succeeded = matches!(
        status,
        Ok(ProgramBuildInfoResult::BuildStatus(
            ProgramBuildStatus::Success
        ))
    );
    if built.is_ok() && succeeded {
        return Ok(program);
    }
    let log = match core::get_program_build_info(&program, device, ProgramBuildInfo::BuildLog) {
        Ok(ProgramBuildInfoResult::BuildLog(log)) if !log.trim().is_empty() => log,
        _ => match built {
            Err(err) => describe_cl_error("clBuildProgram", &err),
            Ok(()) => format!("clBuildProgram left the program in state {status:?}"),
        },
    };
    Err(build_error(truncate_build_log(&log)))
}

/// Binds every argument as the provider does (a buffer to each input and output, a size to
/// each `__local`, the value to each scalar), so an argument the kernel declares otherwise
/// is refused here rather than by every provider.
fn bind_args(context: &Context, kernel: &ClKernel, args: &[KernelArg]) -> Result<(), CheckError> {
    // SAFETY: no host pointer is passed; the driver allocates the buffer's bytes.
    let probe: Mem = unsafe {
        core::create_buffer::<_, u8>(context, MemFlags::READ_WRITE, PROBE_BUFFER_BYTES, None)
    }
    .map_err(|err| failed("clCreateBuffer", &err))?;
    for (index, arg) in args.iter().enumerate() {
        let declared = ArgDecl::read(kernel, index as u32);
        if let Some(declared) = &declared {
            if let Some(wanted) = declared.refuses(arg) {
                return Err(mismatch(index, arg, declared, wanted));
            }
        }
        // The values outlive `value`, which points at them.
        let (local_size, u64_value, i64_value, f32_value, f64_value);
        let value = match arg {
            KernelArg::Input { .. } | KernelArg::RemoteInput { .. } | KernelArg::Output { .. } => {
                ArgVal::mem(&probe)
            }
            KernelArg::Local { size } => {
                local_size = usize::try_from(*size).unwrap_or(usize::MAX);
                ArgVal::local::<u8>(&local_size)
            }
            KernelArg::U32 { value } => ArgVal::scalar(value),
            KernelArg::I32 { value } => ArgVal::scalar(value),
            KernelArg::U64 { value } => {
                u64_value = value.u64();
                ArgVal::scalar(&u64_value)
            }
            KernelArg::I64 { value } => {
                i64_value = value.i64();
                ArgVal::scalar(&i64_value)
            }
            KernelArg::F32 { bits } => {
                f32_value = f32::from_bits(*bits);
                ArgVal::scalar(&f32_value)
            }
            KernelArg::F64 { bits } => {
                f64_value = f64::from_bits(bits.u64());
                ArgVal::scalar(&f64_value)
            }
        };
        if let Err(err) = core::set_kernel_arg(kernel, index as u32, value) {
            return Err(CheckError::ArgMismatch {
                index,
                given: arg.kind().into(),
                declared: declared.map(|d| d.to_string()),
                reason: describe_cl_error("clSetKernelArg", &err),
            });
        }
    }
    Ok(())
}

/// One kernel parameter as the driver describes it (`clGetKernelArgInfo`), when it does.
struct ArgDecl {
    address: KernelArgAddressQualifier,
    type_name: String,
    name: String,
}

impl ArgDecl {
    fn read(kernel: &ClKernel, index: u32) -> Option<Self> {
        let info = |what| core::get_kernel_arg_info(kernel, index, what, None).ok();
        let Some(KernelArgInfoResult::AddressQualifier(address)) =
            info(KernelArgInfo::AddressQualifier)
        else {
            return None;
        };
        let text = |what| match info(what) {
            Some(KernelArgInfoResult::TypeName(text) | KernelArgInfoResult::Name(text)) => {
                text.trim_end_matches('\0').trim().to_string()
            }
            _ => String::new(),
        };
        Some(Self {
            address,
            type_name: text(KernelArgInfo::TypeName),
            name: text(KernelArgInfo::Name),
        })
    }

    /// What the parameter wants, when `arg` is not it: buffers go to `__global` or
    /// `__constant` pointers, `__local` sizes to `__local` pointers, scalars to by-value
    /// parameters of their width.
    fn refuses(&self, arg: &KernelArg) -> Option<&'static str> {
        use KernelArgAddressQualifier::{Constant, Global, Local, Private};
        let fits = match arg {
            KernelArg::Input { .. } | KernelArg::RemoteInput { .. } | KernelArg::Output { .. } => {
                matches!(self.address, Global | Constant)
            }
            KernelArg::Local { .. } => self.address == Local,
            scalar => {
                self.address == Private
                    && scalar_bytes(&self.type_name).is_none_or(|n| Some(n) == arg_bytes(scalar))
            }
        };
        if fits {
            return None;
        }
        Some(match self.address {
            Global | Constant => "an input or output buffer",
            Local => "a __local buffer size",
            Private => match scalar_bytes(&self.type_name) {
                Some(4) => "a 4-byte scalar (u32, i32 or f32)",
                Some(8) => "an 8-byte scalar (u64, i64 or f64)",
                _ => "a scalar of its type",
            },
        })
    }
}

impl std::fmt::Display for ArgDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let space = match self.address {
            KernelArgAddressQualifier::Global => "__global ",
            KernelArgAddressQualifier::Constant => "__constant ",
            KernelArgAddressQualifier::Local => "__local ",
            KernelArgAddressQualifier::Private => "",
        };
        write!(f, "{space}{} {}", self.type_name, self.name)?;
        Ok(())
    }
}

fn mismatch(index: usize, arg: &KernelArg, declared: &ArgDecl, wanted: &str) -> CheckError {
    CheckError::ArgMismatch {
        index,
        given: arg.kind().into(),
        declared: Some(declared.to_string()),
        reason: format!("the kernel wants {wanted} there"),
    }
}

/// The width of an OpenCL C scalar type, for the types a task's scalars can be.
fn scalar_bytes(type_name: &str) -> Option<usize> {
    match type_name {
        "char" | "uchar" | "bool" => Some(1),
        "short" | "ushort" | "half" => Some(2),
        "int" | "uint" | "float" => Some(4),
        "long" | "ulong" | "double" => Some(8),
        _ => None,
    }
}

fn arg_bytes(arg: &KernelArg) -> Option<usize> {
    match arg {
        KernelArg::U32 { .. } | KernelArg::I32 { .. } | KernelArg::F32 { .. } => Some(4),
        KernelArg::U64 { .. } | KernelArg::I64 { .. } | KernelArg::F64 { .. } => Some(8),
        _ => None,
    }
}

/// The `__kernel` functions the built program holds.
fn kernel_names(program: &Program) -> Vec<String> {
    match core::get_program_info(program, ProgramInfo::KernelNames) {
        Ok(ProgramInfoResult::KernelNames(names)) => names
            .trim_end_matches('\0')
            .split(';')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `source` holds `name` followed by `(`: a function of that name that did not survive
/// compilation as a kernel.
fn declares(source: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source.match_indices(name).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let after = source[at + name.len()..].trim_start();
        !before.is_some_and(is_ident) && after.starts_with('(')
    })
}

fn device_name(device: DeviceId) -> String {
    match core::get_device_info(device, DeviceInfo::Name) {
        Ok(DeviceInfoResult::Name(name)) => clean(&name),
        _ => "the OpenCL device".into(),
    }
}

fn platform_name(platform: PlatformId) -> String {
    match core::get_platform_info(platform, PlatformInfo::Name) {
        Ok(PlatformInfoResult::Name(name)) => clean(&name),
        _ => String::new(),
    }
}

/// Drivers pad some strings with NULs or spaces.
fn clean(text: &str) -> String {
    text.trim_end_matches('\0').trim().to_string()
}

/// The start of a build log, cut at 4 KiB on a character boundary, saying how much was cut:
/// logs can run to megabytes of warnings, and the first errors are what a client needs.
pub fn truncate_build_log(log: &str) -> String {
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

/// `"<call>: <status>"` for an OpenCL error; ocl's own rendering is a multi-line banner.
pub fn describe_cl_error(call: &str, err: &core::Error) -> String {
    match err.api_status() {
        Some(status) => format!("{call}: {status:?}"),
        None => format!(
            "{call}: {}",
            err.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn failed(call: &str, err: &core::Error) -> CheckError {
    failed_with(describe_cl_error(call, err))
}

fn failed_with(reason: String) -> CheckError {
    CheckError::Failed { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_function_is_found_by_its_whole_name() {
        let source = "float4 mixer(float4 a);\n__kernel void mix (__global float* out) {}";
        assert!(declares(source, "mix"));
        assert!(declares(source, "mixer"));
        assert!(!declares(source, "ix"));
        assert!(!declares("__kernel void remix(int a) {}", "mix"));
        assert!(!declares("// mix of things", "mix"));
    }

    #[test]
    fn long_build_logs_keep_their_start_and_say_how_much_was_cut() {
        let log = "é".repeat(BUILD_LOG_MAX_BYTES);
        let truncated = truncate_build_log(&log);
        assert!(truncated.starts_with("éé"));
        assert!(truncated.ends_with(&format!("{BUILD_LOG_MAX_BYTES} more bytes]")));
        assert_eq!(truncate_build_log("  short\n"), "short");
    }

    #[test]
    fn scalar_widths_follow_opencl_c() {
        assert_eq!(scalar_bytes("uint"), Some(4));
        assert_eq!(scalar_bytes("double"), Some(8));
        assert_eq!(scalar_bytes("float4"), None);
        assert_eq!(arg_bytes(&KernelArg::F32 { bits: 0 }), Some(4));
        assert_eq!(arg_bytes(&KernelArg::Output { size: 4 }), None);
    }
}
