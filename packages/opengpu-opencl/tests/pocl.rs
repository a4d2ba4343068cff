//! The check against the machine's first OpenCL device (PoCL on CI), in this process.

use cosmwasm_std::{Binary, Uint64};
use opengpu_opencl::{check_kernel, CheckError};
use opengpu_types::kernel::{Kernel, KernelArg};

const VECTOR_ADD: &str = r#"
__kernel void vector_add(__global const float* a, __global const float* b,
                         __global float* sum, const uint n) {
    size_t i = get_global_id(0);
    if (i < n) sum[i] = a[i] + b[i];
}"#;

fn kernel(source: &str, entry_point: &str, args: Vec<KernelArg>) -> Kernel {
    Kernel {
        source: source.into(),
        entry_point: entry_point.into(),
        global_work_size: vec![4],
        local_work_size: None,
        args,
    }
}

fn input(bytes: usize) -> KernelArg {
    KernelArg::Input {
        data: Binary::from(vec![0u8; bytes]),
    }
}

fn vector_add_args() -> Vec<KernelArg> {
    vec![
        input(16),
        input(16),
        KernelArg::Output { size: 16 },
        KernelArg::U32 { value: 4 },
    ]
}

#[test]
fn a_kernel_that_builds_and_takes_its_arguments_passes() {
    let checked = check_kernel(&kernel(VECTOR_ADD, "vector_add", vector_add_args()))
        .expect("an OpenCL device at platform 0 and a kernel that passes");
    assert_eq!(checked.entry_point, "vector_add");
    assert_eq!(checked.args, 4);
    assert!(!checked.device.is_empty());
}

/// The case of the issue: a kernel named after an OpenCL C built-in builds, but the program
/// holds no kernel of that name, so every provider refused it.
#[test]
fn a_kernel_named_after_a_built_in_is_missing_after_compilation() {
    let source = "__kernel void mix(__global const float* a, __global float* out) {\n\
                  out[get_global_id(0)] = a[get_global_id(0)] * 0.5f;\n}";
    let args = vec![input(16), KernelArg::Output { size: 16 }];
    let err = check_kernel(&kernel(source, "mix", args)).unwrap_err();
    // PoCL keeps the function as `_cl_mix`; the source declared `mix`.
    assert!(
        matches!(
            &err,
            CheckError::NoEntryPoint { entry_point, declared: true, .. } if entry_point == "mix"
        ),
        "{err:?}"
    );
    assert!(err.is_kernel_fault());
    let text = err.to_string();
    assert!(
        text.starts_with("the built program has no kernel \"mix\"")
            && text.contains("OpenCL C built-in"),
        "{text}"
    );
}

#[test]
fn an_entry_point_the_source_does_not_define_lists_the_kernels_there() {
    let err = check_kernel(&kernel(VECTOR_ADD, "vectoradd", vector_add_args())).unwrap_err();
    assert_eq!(
        err,
        CheckError::NoEntryPoint {
            entry_point: "vectoradd".into(),
            kernels: vec!["vector_add".into()],
            declared: false,
        }
    );
    assert_eq!(
        err.to_string(),
        "the built program has no kernel \"vectoradd\" (its kernels: vector_add)"
    );
}

#[test]
fn a_source_that_does_not_compile_brings_its_build_log() {
    let source = "__kernel void broken(__global float* out) { out[0] = undefined_name; }";
    let err = check_kernel(&kernel(
        source,
        "broken",
        vec![KernelArg::Output { size: 4 }],
    ))
    .unwrap_err();
    let CheckError::Build { log, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(log.contains("undefined_name"), "{log}");
    assert!(err.to_string().starts_with("the kernel does not build on "));
}

#[test]
fn a_wrong_argument_count_is_refused_with_both_counts() {
    let mut args = vector_add_args();
    args.pop();
    let err = check_kernel(&kernel(VECTOR_ADD, "vector_add", args)).unwrap_err();
    assert_eq!(
        err,
        CheckError::ArgCount {
            entry_point: "vector_add".into(),
            takes: 4,
            given: 3,
        }
    );
}

#[test]
fn an_argument_of_the_wrong_kind_is_refused_naming_the_parameter() {
    // A scalar where the kernel wants a buffer.
    let mut args = vector_add_args();
    args[2] = KernelArg::U32 { value: 0 };
    let err = check_kernel(&kernel(VECTOR_ADD, "vector_add", args)).unwrap_err();
    let CheckError::ArgMismatch { index: 2, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        err.to_string(),
        "argument 2 (u32) does not fit the kernel's parameter `__global float* sum`: the kernel \
         wants an input or output buffer there"
    );
    // A buffer where it wants a scalar, and an 8-byte scalar where it wants a 4-byte one.
    for (arg, given) in [
        (input(16), "input buffer"),
        (
            KernelArg::U64 {
                value: Uint64::new(4),
            },
            "u64",
        ),
    ] {
        let mut args = vector_add_args();
        args[3] = arg;
        let err = check_kernel(&kernel(VECTOR_ADD, "vector_add", args)).unwrap_err();
        assert!(
            matches!(&err, CheckError::ArgMismatch { index: 3, given: g, .. } if g == given),
            "{err:?}"
        );
    }
}

#[test]
fn local_buffers_and_every_scalar_width_bind() {
    let source = r#"
__kernel void all_kinds(__global const uchar* in, __global uint* out, __local float* scratch,
                        uint a, int b, ulong c, long d, float e, double f) {
    scratch[get_local_id(0)] = e;
    out[get_global_id(0)] = in[0] + a + b + (uint)c + (uint)d + (uint)f;
}"#;
    let args = vec![
        input(4),
        KernelArg::Output { size: 16 },
        KernelArg::Local { size: 64 },
        KernelArg::U32 { value: 1 },
        KernelArg::I32 { value: -1 },
        KernelArg::U64 {
            value: Uint64::new(2),
        },
        KernelArg::I64 {
            value: cosmwasm_std::Int64::new(-2),
        },
        KernelArg::F32 {
            bits: 1.5f32.to_bits(),
        },
        KernelArg::F64 {
            bits: Uint64::new(2.5f64.to_bits()),
        },
    ];
    let checked = check_kernel(&kernel(source, "all_kinds", args)).expect("all kinds bind");
    assert_eq!(checked.args, 9);
}
