//! Parsing of the structured flag values: kernel arguments, work sizes, byte sizes, device
//! descriptions, verification policies and Consensus tolerances. Pure functions, so they are
//! tested here.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context as _, Result};
use cosmwasm_std::{Binary, Decimal, HexBinary, Int64, Uint64};
use opengpu_types::consensus::FloatTolerance;
use opengpu_types::freivalds::FreivaldsSpec;
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

/// Where `task publish --offchain` puts and names its inputs.
#[derive(Clone, Debug, Default)]
pub struct OffChain {
    /// Base URLs; an input is fetched from `BASE/<sha256 hex>`.
    pub url_bases: Vec<String>,
    /// Each input is copied here as `<sha256 hex>` (for `opengpu serve`), when set.
    pub dir: Option<PathBuf>,
}

impl ArgSpec {
    /// The kernel argument with a buffer published off-chain: its file hashed (streamed, never
    /// held whole), copied into `offchain.dir` when set, and named by its sha256 under each
    /// base URL. Other arguments as [`ArgSpec::load`].
    pub fn load_offchain(&self, offchain: &OffChain) -> Result<KernelArg> {
        let ArgSpec::Buffer(path) = self else {
            return self.load();
        };
        let (sha256, size) = hash_file(path)?;
        let name = hex::encode(&sha256);
        if let Some(dir) = &offchain.dir {
            place_input(path, &dir.join(&name), size)?;
        }
        Ok(KernelArg::RemoteInput {
            sha256: HexBinary::from(sha256),
            size,
            urls: offchain
                .url_bases
                .iter()
                .map(|base| format!("{}/{name}", base.trim_end_matches('/')))
                .collect(),
        })
    }
}

/// The sha256 and length of a file, read in chunks.
pub fn hash_file(path: &Path) -> Result<(Vec<u8>, u64)> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot read input buffer file {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read input buffer file {}", path.display()))?;
    Ok((hasher.finalize().to_vec(), size))
}

/// Copies `source` to `target` (a copy, not a link: editing the source later must not change
/// what is served); a file already there with the same length is taken as the same content,
/// since its name is its hash.
fn place_input(source: &Path, target: &Path, size: u64) -> Result<()> {
    if std::fs::metadata(target).is_ok_and(|m| m.len() == size) {
        return Ok(());
    }
    let partial = target.with_extension("partial");
    std::fs::copy(source, &partial)
        .and_then(|_| std::fs::rename(&partial, target))
        .with_context(|| format!("cannot copy {} to {}", source.display(), target.display()))?;
    Ok(())
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

/// The forms of `--verify`, for help and error messages.
pub const VERIFY_HELP: &str = "reference:SHA256HEX, reference-outputs:FILE[,FILE] or \
                               freivalds:a=I,b=I,c=I,m=M,k=K,n=N[,tol=X]";

/// Freivalds tolerance when `tol=` is left out: 1e-4, safe for an inner dimension `k` up to
/// about 800 (see `opengpu_types::freivalds`).
pub const DEFAULT_FREIVALDS_TOLERANCE: Decimal = Decimal::bps(1);

/// `--verify reference:SHA256HEX`, `--verify reference-outputs:FILE[,FILE...]` (the digest of
/// the expected output files), or `--verify freivalds:a=I,b=I,c=I,m=M,k=K,n=N[,tol=X]`. A task
/// with no decisive check is not a `--verify` value: it takes `--unverified`.
pub fn parse_verify(s: &str) -> Result<VerificationPolicy> {
    if matches!(s, "well-formed" | "unverified" | "none") {
        bail!(
            "--verify {s}: a task whose results are checked for their sizes only is published \
             with --unverified instead (an explicit choice; see `opengpu task publish --help`)"
        );
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
    if let Some(spec) = s.strip_prefix("freivalds:") {
        return parse_freivalds(spec)
            .map(VerificationPolicy::Freivalds)
            .map_err(|e| anyhow!("--verify freivalds: {e}"));
    }
    bail!("--verify {s:?}: use {VERIFY_HELP}, or --unverified for no decisive check")
}

/// `a=I,b=I,c=I,m=M,k=K,n=N[,tol=X]`: kernel argument indices of the input buffers A (m×k) and
/// B (k×n) and of the output buffer C (m×n), all row-major little-endian f32, and the relative
/// tolerance (`1e-4` or `0.0001`; [`DEFAULT_FREIVALDS_TOLERANCE`] when left out). Checked on
/// its own here; against the kernel with `FreivaldsSpec::validate_for`.
pub fn parse_freivalds(s: &str) -> Result<FreivaldsSpec, String> {
    const KEYS: &str = "a, b, c (kernel argument indices), m, k, n (dimensions) and tol";
    let mut values: [Option<u32>; 6] = [None; 6];
    let mut tolerance = None;
    for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?}: expected key=value with keys {KEYS}"))?;
        let (key, value) = (key.trim(), value.trim());
        let slot = match key {
            "a" => 0,
            "b" => 1,
            "c" => 2,
            "m" => 3,
            "k" => 4,
            "n" => 5,
            "tol" | "tolerance" => {
                if tolerance.is_some() {
                    return Err(format!("{key} is given twice"));
                }
                tolerance = Some(parse_decimal(value).map_err(|e| format!("tol={value}: {e}"))?);
                continue;
            }
            _ => return Err(format!("unknown key {key:?}; the keys are {KEYS}")),
        };
        if values[slot].is_some() {
            return Err(format!("{key} is given twice"));
        }
        values[slot] = Some(
            value
                .parse()
                .map_err(|_| format!("{key}={value}: not a non-negative integer"))?,
        );
    }
    let missing: Vec<&str> = ["a", "b", "c", "m", "k", "n"]
        .iter()
        .zip(values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing {}; e.g. freivalds:a=0,b=1,c=2,m=256,k=256,n=256,tol=1e-4",
            missing.join(", ")
        ));
    }
    let [a_arg, b_arg, c_arg, m, k, n] = values.map(|v| v.unwrap_or_default());
    let spec = FreivaldsSpec {
        a_arg,
        b_arg,
        c_arg,
        m,
        k,
        n,
        tolerance: tolerance.unwrap_or(DEFAULT_FREIVALDS_TOLERANCE),
    };
    spec.validate()?;
    Ok(spec)
}

/// `--tolerance rel:X` (relative error, `1e-4` or `0.0001`) or `--tolerance ulps:N`. Its bounds
/// are checked with the rest of the Consensus parameters (`opengpu_types::consensus::validate`).
pub fn parse_tolerance(s: &str) -> Result<FloatTolerance, String> {
    let (kind, value) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: use rel:X (e.g. rel:1e-4) or ulps:N (e.g. ulps:4)"))?;
    match kind.trim() {
        "rel" | "relative" => Ok(FloatTolerance::Relative {
            max: parse_decimal(value.trim()).map_err(|e| format!("{s:?}: {e}"))?,
        }),
        "ulps" | "ulp" => Ok(FloatTolerance::Ulps {
            max: value
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: ULPs are a non-negative integer"))?,
        }),
        other => Err(format!(
            "{s:?}: unknown tolerance {other:?}; use rel:X (e.g. rel:1e-4) or ulps:N"
        )),
    }
}

/// `X` of [`FloatTolerance`] as people write it: `rel:1e-4`, `ulps:4`.
pub fn tolerance_text(tolerance: &FloatTolerance) -> String {
    match tolerance {
        FloatTolerance::Relative { max } => format!("rel:{max}"),
        FloatTolerance::Ulps { max } => format!("ulps:{max}"),
    }
}

/// A non-negative decimal, exactly: `0.0001`, `1e-4`, `2.5E-3`, `1`. At most 18 decimal places
/// (the chain's `Decimal`).
pub fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let bad = || format!("{s:?} is not a non-negative decimal number (e.g. 0.0001 or 1e-4)");
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| bad())?),
        None => (s, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let too_large = || format!("{s:?} is too large");
    let mut atomics: u128 = digits.parse().map_err(|_| too_large())?;
    let mut places = fraction.len() as i64 - i64::from(exponent);
    if places < 0 {
        let factor = 10u128
            .checked_pow(u32::try_from(-places).map_err(|_| too_large())?)
            .ok_or_else(too_large)?;
        atomics = atomics.checked_mul(factor).ok_or_else(too_large)?;
        places = 0;
    }
    // Trailing zeros beyond 18 places lose nothing; any other digit there would be cut off.
    while places > i64::from(Decimal::DECIMAL_PLACES) && atomics.is_multiple_of(10) && atomics != 0
    {
        atomics /= 10;
        places -= 1;
    }
    if atomics == 0 {
        return Ok(Decimal::zero());
    }
    if places > i64::from(Decimal::DECIMAL_PLACES) {
        return Err(format!(
            "{s:?} has more than {} decimal places",
            Decimal::DECIMAL_PLACES
        ));
    }
    Decimal::from_atomics(atomics, places as u32).map_err(|_| too_large())
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
    fn an_off_chain_buffer_is_named_by_its_hash_under_each_base_url_and_copied_to_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.bin");
        std::fs::write(&path, b"abc").unwrap();
        let served = dir.path().join("served");
        std::fs::create_dir(&served).unwrap();
        let offchain = OffChain {
            url_bases: vec![
                "http://127.0.0.1:8088/".into(),
                "https://m.example/x".into(),
            ],
            dir: Some(served.clone()),
        };
        // sha256("abc"), the FIPS 180-2 test vector.
        let name = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let arg = ArgSpec::Buffer(path.clone())
            .load_offchain(&offchain)
            .unwrap();
        assert_eq!(
            arg,
            KernelArg::RemoteInput {
                sha256: HexBinary::from_hex(name).unwrap(),
                size: 3,
                urls: vec![
                    format!("http://127.0.0.1:8088/{name}"),
                    format!("https://m.example/x/{name}"),
                ],
            }
        );
        assert_eq!(std::fs::read(served.join(name)).unwrap(), b"abc");
        // A copy, not a link: the source changing later does not change what is served.
        std::fs::write(&path, b"xyz").unwrap();
        assert_eq!(std::fs::read(served.join(name)).unwrap(), b"abc");
        // Scalars and outputs are unchanged by --offchain.
        assert_eq!(
            ArgSpec::Output(8).load_offchain(&offchain).unwrap(),
            KernelArg::Output { size: 8 }
        );
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

        let policy = parse_verify("freivalds:a=0,b=1,c=2,m=64,k=32,n=16,tol=1e-4").unwrap();
        assert_eq!(
            policy,
            VerificationPolicy::Freivalds(FreivaldsSpec {
                a_arg: 0,
                b_arg: 1,
                c_arg: 2,
                m: 64,
                k: 32,
                n: 16,
                tolerance: Decimal::bps(1),
            })
        );
        let err = parse_verify("freivalds:a=0").unwrap_err().to_string();
        assert!(err.contains("missing b, c, m, k, n"), "{err}");
    }

    #[test]
    fn no_decisive_check_is_a_flag_not_a_verify_value() {
        for old in ["well-formed", "unverified"] {
            let err = parse_verify(old).unwrap_err().to_string();
            assert!(err.contains("--unverified"), "{err}");
        }
        let err = parse_verify("sizes").unwrap_err().to_string();
        assert!(
            err.contains("freivalds:") && err.contains("--unverified"),
            "{err}"
        );
    }

    #[test]
    fn freivalds_specs_parse_with_a_default_tolerance() {
        let spec = parse_freivalds("c=2, a=0, b=1, n=8, m=4, k=6").unwrap();
        assert_eq!(
            (spec.a_arg, spec.b_arg, spec.c_arg, spec.m, spec.k, spec.n),
            (0, 1, 2, 4, 6, 8)
        );
        assert_eq!(spec.tolerance, DEFAULT_FREIVALDS_TOLERANCE);
        assert_eq!(
            parse_freivalds("a=0,b=1,c=2,m=1,k=1,n=1,tolerance=0.001")
                .unwrap()
                .tolerance,
            Decimal::permille(1)
        );
        let cases = [
            ("a=0,b=1,c=2,m=4,k=4", "missing n"),
            ("a=0,b=1,c=2,m=4,k=4,n=4,x=1", "unknown key \"x\""),
            ("a=0,a=1,b=1,c=2,m=4,k=4,n=4", "a is given twice"),
            (
                "a=0,b=1,c=2,m=4,k=4,n=4,tol=1e-4,tol=1e-3",
                "tol is given twice",
            ),
            (
                "a=-1,b=1,c=2,m=4,k=4,n=4",
                "a=-1: not a non-negative integer",
            ),
            ("a=0,b=1,c=2,m=4,k=4,n", "expected key=value"),
            ("a=0,b=1,c=2,m=0,k=4,n=4", "dimension m is zero"),
            ("a=0,b=1,c=2,m=4,k=4,n=4,tol=0", "tolerance is zero"),
            ("a=0,b=1,c=2,m=4,k=4,n=4,tol=2", "above 1"),
            (
                "a=0,b=1,c=2,m=4,k=4,n=4,tol=lots",
                "not a non-negative decimal",
            ),
        ];
        for (text, message) in cases {
            let err = parse_freivalds(text).unwrap_err();
            assert!(err.contains(message), "{text}: {err:?} lacks {message:?}");
        }
    }

    #[test]
    fn tolerances_parse_as_relative_or_ulps() {
        assert_eq!(
            parse_tolerance("rel:1e-4"),
            Ok(FloatTolerance::Relative {
                max: Decimal::bps(1)
            })
        );
        assert_eq!(
            parse_tolerance("relative:0.005"),
            Ok(FloatTolerance::Relative {
                max: Decimal::permille(5)
            })
        );
        assert_eq!(
            parse_tolerance("ulps:4"),
            Ok(FloatTolerance::Ulps { max: 4 })
        );
        for bad in ["1e-4", "rel:", "rel:-1", "ulps:1.5", "ulps:-2", "abs:0.1"] {
            assert!(parse_tolerance(bad).is_err(), "{bad} parsed");
        }
        for t in [
            FloatTolerance::Relative {
                max: Decimal::bps(1),
            },
            FloatTolerance::Ulps { max: 16 },
        ] {
            assert_eq!(parse_tolerance(&tolerance_text(&t)), Ok(t));
        }
    }

    #[test]
    fn decimals_parse_exactly_in_plain_and_scientific_notation() {
        let d = |s: &str| parse_decimal(s);
        assert_eq!(d("0.0001"), Ok(Decimal::bps(1)));
        assert_eq!(d("1e-4"), Ok(Decimal::bps(1)));
        assert_eq!(d("1E-4"), Ok(Decimal::bps(1)));
        assert_eq!(d("2.5e-3"), Ok(Decimal::from_atomics(25u128, 4).unwrap()));
        assert_eq!(d("1"), Ok(Decimal::one()));
        assert_eq!(d("0.5e1"), Ok(Decimal::percent(500)));
        assert_eq!(d("1e-18"), Ok(Decimal::new(cosmwasm_std::Uint128::new(1))));
        assert_eq!(d("10e-19"), Ok(Decimal::new(cosmwasm_std::Uint128::new(1))));
        assert_eq!(d("0e-30"), Ok(Decimal::zero()));
        assert!(d("1e-19")
            .unwrap_err()
            .contains("more than 18 decimal places"));
        assert!(d("1e40").unwrap_err().contains("too large"));
        for bad in ["", "e-4", "-1", "1e", "0x10", "1.2.3", "one"] {
            assert!(d(bad).is_err(), "{bad:?} parsed");
        }
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
