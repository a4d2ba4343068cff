//! Parsing of the structured flag values: kernel arguments, work sizes, byte sizes, device
//! descriptions and verification policies. Pure functions, so they are tested here.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context as _, Result};
use cosmwasm_std::{Binary, HexBinary, Int64, Uint64};
use opengpu_types::kernel::KernelArg;
use opengpu_types::registry::{DeviceInfo, DeviceType};
use opengpu_types::verification::VerificationPolicy;

/// One `--arg TYPE:VALUE`, before any file is read.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgSpec {
    /// `buffer:FILE`: a `__global` input buffer filled with the file's bytes.
    Buffer(PathBuf),
    /// `output:BYTES`: a `__global` output buffer, the task's result.
    Output(u64),
    /// `local:BYTES`: a `__local` buffer.
    Local(u64),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
}

pub const ARG_HELP: &str = "buffer:FILE, output:BYTES, local:BYTES, u32:N, i32:N, u64:N, \
                            i64:N, f32:X or f64:X";

impl FromStr for ArgSpec {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let (kind, value) = s
            .split_once(':')
            .ok_or_else(|| anyhow!("expected TYPE:VALUE with TYPE one of {ARG_HELP}"))?;
        let bad = |e: &dyn std::fmt::Display| anyhow!("{kind} argument {value:?}: {e}");
        Ok(match kind {
            "buffer" => {
                if value.is_empty() {
                    return Err(bad(&"missing file name"));
                }
                ArgSpec::Buffer(PathBuf::from(value))
            }
            "output" => ArgSpec::Output(parse_bytes(value).map_err(|e| bad(&e))?),
            "local" => ArgSpec::Local(parse_bytes(value).map_err(|e| bad(&e))?),
            "u32" => ArgSpec::U32(parse_uint(value).map_err(|e| bad(&e))?),
            "u64" => ArgSpec::U64(parse_uint(value).map_err(|e| bad(&e))?),
            "i32" => ArgSpec::I32(value.parse().map_err(|e| bad(&e))?),
            "i64" => ArgSpec::I64(value.parse().map_err(|e| bad(&e))?),
            "f32" => ArgSpec::F32(value.parse().map_err(|e| bad(&e))?),
            "f64" => ArgSpec::F64(value.parse().map_err(|e| bad(&e))?),
            other => bail!("unknown argument type {other:?}; use {ARG_HELP}"),
        })
    }
}

impl ArgSpec {
    /// The kernel argument, reading a buffer's file (relative to the current directory).
    pub fn load(&self) -> Result<KernelArg> {
        Ok(match self {
            ArgSpec::Buffer(path) => KernelArg::Input {
                data: Binary::from(read_file(path, "input buffer")?),
            },
            ArgSpec::Output(size) => KernelArg::Output { size: *size },
            ArgSpec::Local(size) => KernelArg::Local { size: *size },
            ArgSpec::U32(value) => KernelArg::U32 { value: *value },
            ArgSpec::I32(value) => KernelArg::I32 { value: *value },
            ArgSpec::U64(value) => KernelArg::U64 {
                value: Uint64::new(*value),
            },
            ArgSpec::I64(value) => KernelArg::I64 {
                value: Int64::new(*value),
            },
            ArgSpec::F32(value) => KernelArg::F32 {
                bits: value.to_bits(),
            },
            ArgSpec::F64(value) => KernelArg::F64 {
                bits: Uint64::new(value.to_bits()),
            },
        })
    }
}

/// Reads a whole file, naming it and its role in the error.
pub fn read_file(path: &Path, role: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {role} file {}", path.display()))
}

/// A decimal or `0x` hexadecimal unsigned integer.
fn parse_uint<T: TryFrom<u64>>(s: &str) -> Result<T, String> {
    let value = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse::<u64>(),
    }
    .map_err(|e| e.to_string())?;
    T::try_from(value).map_err(|_| format!("{value} is out of range"))
}

/// A byte count: `4096`, or with a binary suffix `64KiB`, `16MiB`, `2GiB`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a byte count (e.g. 4096 or 64KiB)"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}; use B, KiB, MiB or GiB"
            ))
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A `--global`/`--local` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkSize(pub Vec<u64>);

impl FromStr for WorkSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        parse_work_size(s).map(WorkSize)
    }
}

/// A work size: 1 to 3 positive numbers separated by `,` (or `x`): `1024`, `64,64`, `8x8x4`.
pub fn parse_work_size(s: &str) -> Result<Vec<u64>, String> {
    let dims: Vec<u64> = s
        .split([',', 'x'])
        .map(|d| {
            d.trim()
                .parse::<u64>()
                .map_err(|_| format!("{s:?}: {d:?} is not a positive integer"))
        })
        .collect::<Result<_, _>>()?;
    if !(1..=3).contains(&dims.len()) {
        return Err(format!("{s:?}: 1 to 3 dimensions, e.g. 1024 or 64,64"));
    }
    if dims.contains(&0) {
        return Err(format!("{s:?}: every dimension must be at least 1"));
    }
    Ok(dims)
}

/// `--verify well-formed`, `--verify reference:SHA256HEX`, or
/// `--verify reference-outputs:FILE[,FILE...]` (the digest of the expected output files).
pub fn parse_verify(s: &str) -> Result<VerificationPolicy> {
    if s == "well-formed" {
        return Ok(VerificationPolicy::Unverified {});
    }
    if let Some(hex) = s.strip_prefix("reference:") {
        let bytes = HexBinary::from_hex(hex)
            .map_err(|_| anyhow!("--verify {s:?}: the reference is not hexadecimal"))?;
        if bytes.len() != 32 {
            bail!(
                "--verify {s:?}: a SHA-256 reference has 64 hex digits, got {}",
                hex.len()
            );
        }
        return Ok(VerificationPolicy::ReferenceHash { sha256: bytes });
    }
    if let Some(files) = s.strip_prefix("reference-outputs:") {
        let outputs = files
            .split(',')
            .map(|f| read_file(Path::new(f), "reference output").map(Binary::from))
            .collect::<Result<Vec<_>>>()?;
        let digest = opengpu_types::commitment::outputs_digest(&outputs);
        return Ok(VerificationPolicy::ReferenceHash {
            sha256: HexBinary::from(digest.to_vec()),
        });
    }
    bail!("--verify {s:?}: use well-formed, reference:SHA256HEX or reference-outputs:FILE[,FILE]")
}

/// Device facts for `provider register`: comma-separated `key=value` pairs over defaults.
pub const DEVICE_HELP: &str = "type=gpu|cpu|accelerator|other, compute-units=N, \
                               global-mem=BYTES, max-work-group=N, fp64=true|false, name=TEXT";

pub fn default_device() -> DeviceInfo {
    DeviceInfo {
        name: String::new(),
        device_type: DeviceType::Gpu,
        compute_units: 1,
        global_mem_bytes: 1 << 30,
        max_work_group_size: 256,
        fp64: false,
    }
}

/// Applies `key=value,...` to `device`.
pub fn apply_device_spec(device: &mut DeviceInfo, spec: &str) -> Result<()> {
    for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--device {pair:?}: expected key=value ({DEVICE_HELP})"))?;
        let (key, value) = (key.trim(), value.trim());
        let bad = |e: &dyn std::fmt::Display| anyhow!("--device {key}={value}: {e}");
        match key {
            "type" => {
                device.device_type = match value.to_ascii_lowercase().as_str() {
                    "gpu" => DeviceType::Gpu,
                    "cpu" => DeviceType::Cpu,
                    "accelerator" => DeviceType::Accelerator,
                    "other" => DeviceType::Other,
                    _ => return Err(bad(&"use gpu, cpu, accelerator or other")),
                }
            }
            "compute-units" => device.compute_units = value.parse().map_err(|e| bad(&e))?,
            "global-mem" => device.global_mem_bytes = parse_bytes(value).map_err(|e| bad(&e))?,
            "max-work-group" => device.max_work_group_size = value.parse().map_err(|e| bad(&e))?,
            "fp64" => device.fp64 = value.parse().map_err(|e| bad(&e))?,
            "name" => device.name = value.to_string(),
            _ => bail!("--device: unknown key {key:?}; keys are {DEVICE_HELP}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_args_parse_in_every_type() {
        let cases = [
            ("buffer:a.bin", ArgSpec::Buffer("a.bin".into())),
            ("output:4096", ArgSpec::Output(4096)),
            ("output:4KiB", ArgSpec::Output(4096)),
            ("local:256", ArgSpec::Local(256)),
            ("u32:1024", ArgSpec::U32(1024)),
            ("u32:0xff", ArgSpec::U32(255)),
            ("i32:-7", ArgSpec::I32(-7)),
            ("u64:18446744073709551615", ArgSpec::U64(u64::MAX)),
            ("i64:-9000000000", ArgSpec::I64(-9_000_000_000)),
            ("f32:1.5", ArgSpec::F32(1.5)),
            ("f64:-0.25", ArgSpec::F64(-0.25)),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<ArgSpec>().unwrap(), expected, "{text}");
        }
        for bad in [
            "u32",
            "u32:-1",
            "u32:4294967296",
            "i32:1.5",
            "f32:one",
            "output:",
            "output:4XB",
            "buffer:",
            "vec4:1",
            "float:1",
        ] {
            assert!(bad.parse::<ArgSpec>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn floats_travel_as_their_ieee_bits() {
        let arg = "f32:1.5".parse::<ArgSpec>().unwrap().load().unwrap();
        assert_eq!(arg, KernelArg::F32 { bits: 0x3fc0_0000 });
        let arg = "f64:-2".parse::<ArgSpec>().unwrap().load().unwrap();
        assert_eq!(
            arg,
            KernelArg::F64 {
                bits: Uint64::new(0xc000_0000_0000_0000)
            }
        );
        // Not-a-number and infinities are bits like any other.
        let arg = "f32:inf".parse::<ArgSpec>().unwrap().load().unwrap();
        assert_eq!(arg, KernelArg::F32 { bits: 0x7f80_0000 });
    }

    #[test]
    fn buffers_read_their_file_and_name_it_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.bin");
        std::fs::write(&path, [1, 2, 3]).unwrap();
        let arg = ArgSpec::Buffer(path.clone()).load().unwrap();
        assert_eq!(
            arg,
            KernelArg::Input {
                data: Binary::from(vec![1, 2, 3])
            }
        );
        let missing = ArgSpec::Buffer(dir.path().join("nope.bin"))
            .load()
            .unwrap_err();
        assert!(format!("{missing:#}").contains("nope.bin"), "{missing:#}");
    }

    #[test]
    fn work_sizes_have_one_to_three_positive_dimensions() {
        assert_eq!(parse_work_size("1024").unwrap(), vec![1024]);
        assert_eq!(parse_work_size("64,32").unwrap(), vec![64, 32]);
        assert_eq!(parse_work_size("8x8x4").unwrap(), vec![8, 8, 4]);
        for bad in ["", "0", "1,2,3,4", "a", "64,", "-1"] {
            assert!(parse_work_size(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn verification_policies_parse() {
        assert_eq!(
            parse_verify("well-formed").unwrap(),
            VerificationPolicy::Unverified {}
        );
        let hex = "ab".repeat(32);
        assert!(matches!(
            parse_verify(&format!("reference:{hex}")).unwrap(),
            VerificationPolicy::ReferenceHash { .. }
        ));
        assert!(parse_verify("reference:abcd").is_err());
        assert!(parse_verify("reference:zz").is_err());
        assert!(parse_verify("consensus").is_err());

        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("expected.bin");
        std::fs::write(&out, [1, 2, 3, 4]).unwrap();
        let policy = parse_verify(&format!("reference-outputs:{}", out.display())).unwrap();
        let expected = opengpu_types::commitment::outputs_digest(&[Binary::from(vec![1, 2, 3, 4])]);
        assert_eq!(
            policy,
            VerificationPolicy::ReferenceHash {
                sha256: HexBinary::from(expected.to_vec())
            }
        );
    }

    #[test]
    fn device_specs_override_defaults() {
        let mut device = default_device();
        apply_device_spec(
            &mut device,
            "type=cpu,compute-units=16,global-mem=8GiB,max-work-group=1024,fp64=true,name=Ryzen",
        )
        .unwrap();
        assert_eq!(device.device_type, DeviceType::Cpu);
        assert_eq!(device.compute_units, 16);
        assert_eq!(device.global_mem_bytes, 8 << 30);
        assert_eq!(device.max_work_group_size, 1024);
        assert!(device.fp64);
        assert_eq!(device.name, "Ryzen");
        for bad in [
            "type=tpu",
            "cores=4",
            "fp64=yes",
            "compute-units",
            "global-mem=lots",
        ] {
            assert!(
                apply_device_spec(&mut default_device(), bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn byte_counts_take_binary_suffixes() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("64KiB"), Ok(65536));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert!(parse_bytes("1.5GiB").is_err());
        assert!(parse_bytes("99999999999999GiB").is_err());
    }
}
