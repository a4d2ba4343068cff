//! An OpenCL kernel as a task carries it, the device requirements it states, and the checks
//! that contract and command line both run on it.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Binary, HexBinary, Int64, Uint64};

use crate::registry::{DeviceInfo, DeviceType};

/// An OpenCL C program and one launch of one of its kernels.
#[cw_serde]
pub struct Kernel {
    /// OpenCL C source.
    pub source: String,
    /// Name of the `__kernel` function to launch.
    pub entry_point: String,
    /// NDRange global size, 1 to 3 dimensions, each at least 1.
    pub global_work_size: Vec<u64>,
    /// Work-group size, same dimensions as the global size and dividing it; `None` lets the
    /// provider's driver choose.
    pub local_work_size: Option<Vec<u64>>,
    /// Kernel arguments in declaration order.
    pub args: Vec<KernelArg>,
}

/// One kernel argument. Scalars that are floats travel as their IEEE-754 bits so that no float
/// ever enters contract state.
#[cw_serde]
pub enum KernelArg {
    /// A `__global` buffer filled with these bytes before the launch.
    Input {
        data: Binary,
    },
    /// A `__global` input buffer whose bytes stay off-chain: the chain keeps only their
    /// sha256 and size, so publishing costs the same for 1 KiB or 1 GiB. Providers fetch the
    /// bytes from one of `urls`, check them against `sha256` before running, and refuse the
    /// task (no commitment) when they differ. A check that reads inputs on-chain (Freivalds')
    /// cannot use it.
    RemoteInput {
        sha256: HexBinary,
        size: u64,
        urls: Vec<String>,
    },
    /// A `__global` buffer of `size` zeroed bytes, read back after the launch: the task's result.
    Output {
        size: u64,
    },
    /// A `__local` buffer of `size` bytes.
    Local {
        size: u64,
    },
    U32 {
        value: u32,
    },
    I32 {
        value: i32,
    },
    U64 {
        value: Uint64,
    },
    I64 {
        value: Int64,
    },
    F32 {
        bits: u32,
    },
    F64 {
        bits: Uint64,
    },
}

impl KernelArg {
    /// The argument's kind as errors name it: `input buffer`, `output buffer`, `local buffer`,
    /// or the scalar type (`u32`, ..., `f64`).
    pub fn kind(&self) -> &'static str {
        match self {
            KernelArg::Input { .. } => "input buffer",
            KernelArg::RemoteInput { .. } => "off-chain input buffer",
            KernelArg::Output { .. } => "output buffer",
            KernelArg::Local { .. } => "local buffer",
            KernelArg::U32 { .. } => "u32",
            KernelArg::I32 { .. } => "i32",
            KernelArg::U64 { .. } => "u64",
            KernelArg::I64 { .. } => "i64",
            KernelArg::F32 { .. } => "f32",
            KernelArg::F64 { .. } => "f64",
        }
    }
}

/// Most URLs one off-chain input may list.
pub const MAX_INPUT_URLS: usize = 4;
/// Longest URL of an off-chain input, in bytes.
pub const MAX_INPUT_URL_BYTES: usize = 512;
/// Largest off-chain input: a sanity bound (1 TiB), far above any device; each provider's own
/// limit decides what it fetches.
pub const MAX_REMOTE_INPUT_BYTES: u64 = 1 << 40;

/// Checks one off-chain input's URL: `http://` or `https://`, printable ASCII, bounded length.
fn check_input_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_INPUT_URL_BYTES {
        return Err(format!("longer than {MAX_INPUT_URL_BYTES} bytes"));
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("not an http:// or https:// URL")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("has no host".into());
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("has spaces or characters outside printable ASCII".into());
    }
    Ok(())
}

/// What the device that runs a task must offer.
#[cw_serde]
#[derive(Default)]
pub struct Requirements {
    /// Only this kind of device, when set.
    pub device_type: Option<DeviceType>,
    #[serde(default)]
    pub min_compute_units: u32,
    #[serde(default)]
    pub min_global_mem_bytes: u64,
    /// The kernel uses `double`.
    #[serde(default)]
    pub fp64: bool,
}

/// Size limits a kernel must respect; the market keeps them in its config.
#[cw_serde]
pub struct KernelLimits {
    pub max_source_bytes: u64,
    pub max_args: u32,
    /// Sum of all input buffers.
    pub max_input_bytes: u64,
    /// Sum of all output buffers; reveals carry this many bytes.
    pub max_output_bytes: u64,
}

/// Why a kernel cannot be published.
#[derive(thiserror::Error, Debug, PartialEq, Eq, Clone)]
pub enum KernelError {
    #[error("kernel source is empty")]
    EmptySource,
    #[error("kernel source has {got} bytes; the limit is {max}")]
    SourceTooLarge { got: u64, max: u64 },
    #[error("entry point {name:?} is not an OpenCL C identifier")]
    BadEntryPoint { name: String },
    #[error("work size has {got} dimensions; 1 to 3 are allowed")]
    BadDimensions { got: usize },
    #[error("work size dimension {dim} is zero")]
    ZeroWorkSize { dim: usize },
    #[error("local work size has {local} dimensions but global has {global}")]
    LocalDimensionsMismatch { local: usize, global: usize },
    #[error("local size {local} does not divide global size {global} in dimension {dim}")]
    LocalDoesNotDivide { dim: usize, local: u64, global: u64 },
    #[error("kernel has {got} arguments; the limit is {max}")]
    TooManyArgs { got: usize, max: u32 },
    #[error("kernel has no output buffer, so it has no result")]
    NoOutputs,
    #[error("argument {index} is a zero-sized buffer")]
    ZeroSizedBuffer { index: usize },
    #[error("input buffers hold {got} bytes; the limit is {max}")]
    InputTooLarge { got: u64, max: u64 },
    #[error("output buffers hold {got} bytes; the limit is {max}")]
    OutputTooLarge { got: u64, max: u64 },
    #[error("argument {index}: an off-chain input's sha256 has {got} bytes, not 32")]
    BadInputHash { index: usize, got: usize },
    #[error("argument {index}: an off-chain input needs 1 to {max} URLs; it has {got}", max = MAX_INPUT_URLS)]
    InputUrlCount { index: usize, got: usize },
    #[error("argument {index}: input URL {url:?} is {reason}")]
    BadInputUrl {
        index: usize,
        url: String,
        reason: String,
    },
    #[error("argument {index}: an off-chain input of {got} bytes exceeds the {max}-byte bound", max = MAX_REMOTE_INPUT_BYTES)]
    RemoteInputTooLarge { index: usize, got: u64 },
}

impl Kernel {
    /// Checks the kernel against `limits` and returns the sizes of its output buffers, in order.
    pub fn validate(&self, limits: &KernelLimits) -> Result<Vec<u64>, KernelError> {
        let source_bytes = self.source.len() as u64;
        if source_bytes == 0 {
            return Err(KernelError::EmptySource);
        }
        if source_bytes > limits.max_source_bytes {
            return Err(KernelError::SourceTooLarge {
                got: source_bytes,
                max: limits.max_source_bytes,
            });
        }
        if !is_identifier(&self.entry_point) {
            return Err(KernelError::BadEntryPoint {
                name: self.entry_point.clone(),
            });
        }
        self.validate_work_sizes()?;
        if self.args.len() > limits.max_args as usize {
            return Err(KernelError::TooManyArgs {
                got: self.args.len(),
                max: limits.max_args,
            });
        }
        let (mut input_bytes, mut output_bytes) = (0u64, 0u64);
        let mut output_sizes = Vec::new();
        for (index, arg) in self.args.iter().enumerate() {
            let size = match arg {
                KernelArg::Input { data } => {
                    input_bytes = input_bytes.saturating_add(data.len() as u64);
                    data.len() as u64
                }
                KernelArg::RemoteInput { sha256, size, urls } => {
                    check_remote_input(index, sha256, *size, urls)?;
                    *size
                }
                KernelArg::Output { size } => {
                    output_bytes = output_bytes.saturating_add(*size);
                    output_sizes.push(*size);
                    *size
                }
                KernelArg::Local { size } => *size,
                _ => continue,
            };
            if size == 0 {
                return Err(KernelError::ZeroSizedBuffer { index });
            }
        }
        if output_sizes.is_empty() {
            return Err(KernelError::NoOutputs);
        }
        if input_bytes > limits.max_input_bytes {
            return Err(KernelError::InputTooLarge {
                got: input_bytes,
                max: limits.max_input_bytes,
            });
        }
        if output_bytes > limits.max_output_bytes {
            return Err(KernelError::OutputTooLarge {
                got: output_bytes,
                max: limits.max_output_bytes,
            });
        }
        Ok(output_sizes)
    }

    /// Total bytes of the off-chain inputs providers must fetch.
    pub fn remote_input_bytes(&self) -> u64 {
        self.args
            .iter()
            .map(|arg| match arg {
                KernelArg::RemoteInput { size, .. } => *size,
                _ => 0,
            })
            .fold(0, u64::saturating_add)
    }

    /// Sizes of the output buffers in argument order: the shape a reveal must have.
    pub fn output_sizes(&self) -> Vec<u64> {
        self.args
            .iter()
            .filter_map(|arg| match arg {
                KernelArg::Output { size } => Some(*size),
                _ => None,
            })
            .collect()
    }

    /// Number of work items in one work-group, when the task fixes it.
    pub fn work_group_size(&self) -> Option<u64> {
        self.local_work_size
            .as_ref()
            .map(|local| local.iter().fold(1u64, |acc, d| acc.saturating_mul(*d)))
    }

    fn validate_work_sizes(&self) -> Result<(), KernelError> {
        let global = &self.global_work_size;
        if global.is_empty() || global.len() > 3 {
            return Err(KernelError::BadDimensions { got: global.len() });
        }
        if let Some(dim) = global.iter().position(|d| *d == 0) {
            return Err(KernelError::ZeroWorkSize { dim });
        }
        let Some(local) = &self.local_work_size else {
            return Ok(());
        };
        if local.len() != global.len() {
            return Err(KernelError::LocalDimensionsMismatch {
                local: local.len(),
                global: global.len(),
            });
        }
        for (dim, (l, g)) in local.iter().zip(global).enumerate() {
            if *l == 0 {
                return Err(KernelError::ZeroWorkSize { dim });
            }
            if g % l != 0 {
                return Err(KernelError::LocalDoesNotDivide {
                    dim,
                    local: *l,
                    global: *g,
                });
            }
        }
        Ok(())
    }
}

impl Requirements {
    /// Why `device` cannot run a task with these requirements and work-group size, if it cannot.
    pub fn unmet_by(&self, device: &DeviceInfo, work_group_size: Option<u64>) -> Option<String> {
        if let Some(wanted) = &self.device_type {
            if *wanted != device.device_type {
                return Some(format!(
                    "task needs a {wanted} device, provider has a {}",
                    device.device_type
                ));
            }
        }
        if device.compute_units < self.min_compute_units {
            return Some(format!(
                "task needs {} compute units, device has {}",
                self.min_compute_units, device.compute_units
            ));
        }
        if device.global_mem_bytes < self.min_global_mem_bytes {
            return Some(format!(
                "task needs {} bytes of global memory, device has {}",
                self.min_global_mem_bytes, device.global_mem_bytes
            ));
        }
        if self.fp64 && !device.fp64 {
            return Some("task needs fp64, device has none".to_string());
        }
        match work_group_size {
            Some(size) if size > device.max_work_group_size => Some(format!(
                "task needs work-groups of {size} items, device allows {}",
                device.max_work_group_size
            )),
            _ => None,
        }
    }
}

fn check_remote_input(
    index: usize,
    sha256: &HexBinary,
    size: u64,
    urls: &[String],
) -> Result<(), KernelError> {
    if sha256.len() != 32 {
        return Err(KernelError::BadInputHash {
            index,
            got: sha256.len(),
        });
    }
    if size > MAX_REMOTE_INPUT_BYTES {
        return Err(KernelError::RemoteInputTooLarge { index, got: size });
    }
    if urls.is_empty() || urls.len() > MAX_INPUT_URLS {
        return Err(KernelError::InputUrlCount {
            index,
            got: urls.len(),
        });
    }
    for url in urls {
        check_input_url(url).map_err(|reason| KernelError::BadInputUrl {
            index,
            url: url.chars().take(80).collect(),
            reason,
        })?;
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> KernelLimits {
        KernelLimits {
            max_source_bytes: 1024,
            max_args: 8,
            max_input_bytes: 64,
            max_output_bytes: 64,
        }
    }

    fn kernel() -> Kernel {
        Kernel {
            source: "__kernel void add(__global const uint* a, __global uint* out) {}".into(),
            entry_point: "add".into(),
            global_work_size: vec![4],
            local_work_size: Some(vec![2]),
            args: vec![
                KernelArg::Input {
                    data: Binary::from(vec![0u8; 16]),
                },
                KernelArg::Output { size: 16 },
            ],
        }
    }

    fn device() -> DeviceInfo {
        DeviceInfo {
            name: "test".into(),
            device_type: DeviceType::Gpu,
            compute_units: 8,
            global_mem_bytes: 1 << 30,
            max_work_group_size: 256,
            fp64: false,
        }
    }

    fn remote(sha256: Vec<u8>, size: u64, urls: &[&str]) -> KernelArg {
        KernelArg::RemoteInput {
            sha256: sha256.into(),
            size,
            urls: urls.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn valid_kernel_reports_its_output_sizes() {
        assert_eq!(kernel().validate(&limits()), Ok(vec![16]));
    }

    #[test]
    fn off_chain_inputs_do_not_count_against_the_on_chain_input_limit() {
        let mut k = kernel();
        let size = 256 << 20;
        k.args[0] = remote(
            vec![7; 32],
            size,
            &["http://127.0.0.1:8088/x", "https://e.org/x"],
        );
        assert_eq!(k.validate(&limits()), Ok(vec![16]));
        assert_eq!(k.remote_input_bytes(), size);
        assert_eq!(kernel().remote_input_bytes(), 0);
    }

    #[test]
    fn kernel_checks_name_each_broken_rule() {
        type Breaks = fn(&mut Kernel);
        let cases: Vec<(Breaks, KernelError)> = vec![
            (|k| k.source.clear(), KernelError::EmptySource),
            (
                |k| k.source = "x".repeat(2000),
                KernelError::SourceTooLarge {
                    got: 2000,
                    max: 1024,
                },
            ),
            (
                |k| k.entry_point = "1add".into(),
                KernelError::BadEntryPoint {
                    name: "1add".into(),
                },
            ),
            (
                |k| k.global_work_size = vec![],
                KernelError::BadDimensions { got: 0 },
            ),
            (
                |k| k.global_work_size = vec![1, 1, 1, 1],
                KernelError::BadDimensions { got: 4 },
            ),
            (
                |k| k.global_work_size = vec![0],
                KernelError::ZeroWorkSize { dim: 0 },
            ),
            (
                |k| k.local_work_size = Some(vec![3]),
                KernelError::LocalDoesNotDivide {
                    dim: 0,
                    local: 3,
                    global: 4,
                },
            ),
            (
                |k| k.local_work_size = Some(vec![1, 1]),
                KernelError::LocalDimensionsMismatch {
                    local: 2,
                    global: 1,
                },
            ),
            (
                |k| k.args = vec![KernelArg::U32 { value: 1 }; 9],
                KernelError::TooManyArgs { got: 9, max: 8 },
            ),
            (|k| k.args.truncate(1), KernelError::NoOutputs),
            (
                |k| k.args.push(KernelArg::Output { size: 0 }),
                KernelError::ZeroSizedBuffer { index: 2 },
            ),
            (
                |k| {
                    k.args.push(KernelArg::Input {
                        data: Binary::from(vec![1; 60]),
                    })
                },
                KernelError::InputTooLarge { got: 76, max: 64 },
            ),
            (
                |k| k.args.push(KernelArg::Output { size: 60 }),
                KernelError::OutputTooLarge { got: 76, max: 64 },
            ),
            (
                |k| k.args[0] = remote(vec![0; 31], 8, &["http://127.0.0.1:8088/a"]),
                KernelError::BadInputHash { index: 0, got: 31 },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], 0, &["http://127.0.0.1:8088/a"]),
                KernelError::ZeroSizedBuffer { index: 0 },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], MAX_REMOTE_INPUT_BYTES + 1, &["http://h/a"]),
                KernelError::RemoteInputTooLarge {
                    index: 0,
                    got: MAX_REMOTE_INPUT_BYTES + 1,
                },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], 8, &[]),
                KernelError::InputUrlCount { index: 0, got: 0 },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], 8, &["http://h/a"; 5]),
                KernelError::InputUrlCount { index: 0, got: 5 },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], 8, &["ftp://h/a"]),
                KernelError::BadInputUrl {
                    index: 0,
                    url: "ftp://h/a".into(),
                    reason: "not an http:// or https:// URL".into(),
                },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], 8, &["http://h/a b"]),
                KernelError::BadInputUrl {
                    index: 0,
                    url: "http://h/a b".into(),
                    reason: "has spaces or characters outside printable ASCII".into(),
                },
            ),
            (
                |k| k.args[0] = remote(vec![0; 32], 8, &["https:///a"]),
                KernelError::BadInputUrl {
                    index: 0,
                    url: "https:///a".into(),
                    reason: "has no host".into(),
                },
            ),
        ];
        for (breaks, expected) in cases {
            let mut k = kernel();
            breaks(&mut k);
            assert_eq!(k.validate(&limits()), Err(expected));
        }
    }

    #[test]
    fn requirements_name_the_missing_capability() {
        let device = device();
        assert_eq!(Requirements::default().unmet_by(&device, Some(256)), None);
        let fp64 = Requirements {
            fp64: true,
            ..Default::default()
        };
        assert!(fp64.unmet_by(&device, None).unwrap().contains("fp64"));
        let memory = Requirements {
            min_global_mem_bytes: 2 << 30,
            ..Default::default()
        };
        assert!(memory
            .unmet_by(&device, None)
            .unwrap()
            .contains("global memory"));
        let cpu = Requirements {
            device_type: Some(DeviceType::Cpu),
            ..Default::default()
        };
        assert!(cpu.unmet_by(&device, None).unwrap().contains("cpu"));
        assert!(Requirements::default()
            .unmet_by(&device, Some(512))
            .unwrap()
            .contains("work-groups"));
    }
}
