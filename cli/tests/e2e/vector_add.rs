//! The task every test publishes: an OpenCL vector addition over `N` 32-bit unsigned integers.
//! The chain never runs kernels (providers do, off-chain), so the "provider" here computes the
//! correct output in Rust, exactly as the kernel defines it: little-endian `uint`s (the byte
//! order of every OpenCL device the providers run), wrapping on overflow.

use std::path::PathBuf;

use crate::localnet::Localnet;

pub const SOURCE: &str = r#"// c[i] = a[i] + b[i] (mod 2^32)
__kernel void vadd(__global const uint *a, __global const uint *b, __global uint *c,
                   const uint n) {
    size_t i = get_global_id(0);
    if (i < n) {
        c[i] = a[i] + b[i];
    }
}
"#;
pub const N: u32 = 256;
/// Bytes of the one output buffer.
pub const OUTPUT_BYTES: u64 = N as u64 * 4;

/// The kernel and its inputs written to a chain's work directory, and the expected output.
pub struct VectorAdd {
    pub kernel: PathBuf,
    pub a: PathBuf,
    pub b: PathBuf,
    /// The correct output, also written to `expected` for `--verify reference-outputs:`.
    pub output: Vec<u8>,
    pub expected: PathBuf,
}

impl VectorAdd {
    /// Writes `<name>.cl`, `<name>-a.bin`, `<name>-b.bin` and `<name>-expected.bin`.
    pub fn write(net: &Localnet, name: &str) -> VectorAdd {
        let a: Vec<u32> = (0..N).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        let b: Vec<u32> = (0..N).map(|i| 0xFFFF_FF00 ^ (i * 3)).collect();
        let c: Vec<u32> = a.iter().zip(&b).map(|(x, y)| x.wrapping_add(*y)).collect();
        let le = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let task = VectorAdd {
            kernel: net.path(&format!("{name}.cl")),
            a: net.path(&format!("{name}-a.bin")),
            b: net.path(&format!("{name}-b.bin")),
            output: le(&c),
            expected: net.path(&format!("{name}-expected.bin")),
        };
        std::fs::write(&task.kernel, SOURCE).expect("writing the kernel");
        std::fs::write(&task.a, le(&a)).expect("writing input a");
        std::fs::write(&task.b, le(&b)).expect("writing input b");
        std::fs::write(&task.expected, &task.output).expect("writing the expected output");
        task
    }

    /// `task publish` flags for this kernel: source, entry, work sizes and arguments in the
    /// kernel's order (a, b, c, n).
    pub fn publish_args(&self) -> Vec<String> {
        let s = |p: &PathBuf| p.display().to_string();
        vec![
            "--kernel".into(),
            s(&self.kernel),
            "--entry".into(),
            "vadd".into(),
            "--global".into(),
            N.to_string(),
            "--local".into(),
            "64".into(),
            "--arg".into(),
            format!("buffer:{}", s(&self.a)),
            "--arg".into(),
            format!("buffer:{}", s(&self.b)),
            "--arg".into(),
            format!("output:{OUTPUT_BYTES}"),
            "--arg".into(),
            format!("u32:{N}"),
        ]
    }

    /// `--verify` flag value: the chain checks reveals against the expected output's digest.
    pub fn verify_reference(&self) -> String {
        format!("reference-outputs:{}", self.expected.display())
    }

    /// A provider's result file with `bytes` in it (the correct output, or a wrong one).
    pub fn write_result(net: &Localnet, name: &str, bytes: &[u8]) -> PathBuf {
        let path = net.path(name);
        std::fs::write(&path, bytes).expect("writing a result file");
        path
    }
}
