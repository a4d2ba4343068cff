//! The OpenCL backend against the machine's first OpenCL device (PoCL on CI), with the real
//! `opengpu-provider worker` processes.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use cosmwasm_std::{Binary, Int64, Uint64};
use opengpu_provider::executor::kcache::{self, KernelCache};
use opengpu_provider::executor::opencl::{
    device_info, list_platforms, OpenClBackend, OpenClConfig,
};
use opengpu_provider::executor::{Backend, DeviceSelector, ExecError, ExecLimits};
use opengpu_types::kernel::{Kernel, KernelArg};

const GIB: u64 = 1 << 30;

const VECTOR_ADD: &str = r#"
__kernel void vector_add(__global const float* a, __global const float* b,
                         __global float* sum) {
    size_t i = get_global_id(0);
    sum[i] = a[i] + b[i];
}"#;

fn backend(time_limit: Duration, memory_limit_bytes: u64, workers: usize) -> OpenClBackend {
    OpenClBackend::start(OpenClConfig {
        worker_exe: PathBuf::from(env!("CARGO_BIN_EXE_opengpu-provider")),
        selector: DeviceSelector::default(),
        limits: ExecLimits {
            time_limit,
            memory_limit_bytes,
        },
        workers,
    })
    .expect("an OpenCL device at platform 0, device 0")
}

fn default_backend(workers: usize) -> OpenClBackend {
    backend(Duration::from_secs(30), 4 * GIB, workers)
}

fn f32_bytes(values: &[f32]) -> Binary {
    Binary::from(
        values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes(chunk.try_into().unwrap()))
        .collect()
}

fn kernel(source: &str, entry_point: &str, global: Vec<u64>, args: Vec<KernelArg>) -> Kernel {
    Kernel {
        source: source.into(),
        entry_point: entry_point.into(),
        global_work_size: global,
        local_work_size: None,
        args,
    }
}

/// `a + b` over `n` floats, with the CPU's answer.
fn vector_add(n: usize, seed: f32) -> (Kernel, Vec<f32>) {
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 + seed).collect();
    let b: Vec<f32> = (0..n).map(|i| (n - i) as f32 * 0.25 - seed).collect();
    let expected = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let args = vec![
        KernelArg::Input {
            data: f32_bytes(&a),
        },
        KernelArg::Input {
            data: f32_bytes(&b),
        },
        KernelArg::Output { size: 4 * n as u64 },
    ];
    (
        kernel(VECTOR_ADD, "vector_add", vec![n as u64], args),
        expected,
    )
}

#[track_caller]
fn assert_vector_add_runs(backend: &OpenClBackend, seed: f32) {
    let (kernel, expected) = vector_add(1024, seed);
    let output = backend.run(&kernel).expect("vector add runs");
    assert_eq!(output.outputs.len(), 1);
    assert_eq!(f32s(&output.outputs[0]), expected);
}

/// A kernel that never returns; the volatile store keeps LLVM from deleting the loop.
fn endless_loop() -> Kernel {
    let source = r#"
    __kernel void spin(__global volatile uint* out) {
        uint i = 0;
        while (out[0] != 0xffffffffu) {
            out[1] = ++i;
        }
    }"#;
    kernel(source, "spin", vec![1], vec![KernelArg::Output { size: 8 }])
}

fn process_exists(pid: u32) -> bool {
    PathBuf::from(format!("/proc/{pid}")).exists()
}

/// Kills the worker `pid` (a child of this test process) and waits until it can be reaped,
/// without reaping it: that is the backend's job.
fn kill_and_wait(pid: u32) {
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        let found = unsafe { libc::waitid(libc::P_PID, pid, &mut info, flags) };
        if found == 0 && unsafe { info.si_pid() } != 0 {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("worker {pid} did not die");
}

#[test]
fn vector_add_matches_the_cpu_and_the_second_run_hits_the_cache() {
    let backend = default_backend(1);
    let (kernel, expected) = vector_add(4096, 1.5);

    let first = backend.run(&kernel).unwrap();
    let second = backend.run(&kernel).unwrap();

    assert_eq!(f32s(&first.outputs[0]), expected);
    assert_eq!(second.outputs, first.outputs);
    assert!(!first.cache_hit);
    assert!(second.cache_hit);
    eprintln!(
        "vector add of 4096 floats: first run (compile) {:?}, cache hit {:?}",
        first.elapsed, second.elapsed
    );
}

/// Waits (10 s at most) until `done` holds: the backend trims its kernel cache on a thread
/// of its own.
#[track_caller]
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "not reached in time: {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn workers_keep_compiled_kernels_in_the_cache_given_trimmed_to_its_limit() {
    let state = tempfile::tempdir().unwrap();
    let cache = KernelCache::in_state_dir(state.path(), 512);
    let cached = |dir: &std::path::Path| kcache::trim(dir, u64::MAX).unwrap().kept_bytes;
    let (backend, trimmed) = default_backend(1).with_kernel_cache(cache.clone()).unwrap();
    assert_eq!(trimmed, kcache::Trimmed::default(), "a new cache is empty");
    assert_vector_add_runs(&backend, 1.0);
    // PoCL built the program into the directory given, and it stays: under the limit.
    eventually("PoCL caches the program", || cached(&cache.dir) > 0);
    drop(backend);

    // The same cache limited to nothing: emptied at startup, and again after the next build.
    let tight = KernelCache {
        limit_bytes: 0,
        ..cache
    };
    let (backend, trimmed) = default_backend(1).with_kernel_cache(tight.clone()).unwrap();
    assert!(trimmed.removed > 0, "{trimmed:?}");
    assert_eq!(trimmed.kept_bytes, 0);
    assert_vector_add_runs(&backend, 2.0);
    eventually("the build's trim empties the cache", || {
        cached(&tight.dir) == 0
    });
    // The worker's own cache still serves the program.
    assert!(backend.run(&vector_add(1024, 3.0).0).unwrap().cache_hit);
}

#[test]
fn an_off_chain_input_is_read_from_the_input_directory_by_its_hash() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let (on_chain, expected) = vector_add(256, 1.5);
    let b = on_chain.args[1].clone();
    let KernelArg::Input { data: b_bytes } = &b else {
        panic!("vector_add's second argument is an input")
    };
    let sha256 = Sha256::digest(b_bytes.as_slice()).to_vec();
    let mut off_chain = on_chain.clone();
    off_chain.args[1] = KernelArg::RemoteInput {
        sha256: sha256.clone().into(),
        size: b_bytes.len() as u64,
        urls: vec!["http://127.0.0.1:9/unused".into()],
    };

    // No input directory, or the file missing: a launch error, not a crash.
    let without = default_backend(1);
    assert!(matches!(without.run(&off_chain), Err(ExecError::Launch(_))));
    let backend = default_backend(1).with_input_dir(dir.path().to_owned());
    let missing = backend.run(&off_chain).unwrap_err();
    assert!(
        matches!(&missing, ExecError::Launch(m) if m.contains("off-chain input")),
        "{missing}"
    );

    std::fs::write(dir.path().join(hex::encode(&sha256)), b_bytes.as_slice()).unwrap();
    let output = backend.run(&off_chain).expect("runs");
    assert_eq!(f32s(&output.outputs[0]), expected);
}

#[test]
fn scalars_and_local_memory_reach_the_kernel() {
    // Each work-group sums its items through local memory; item 0 also echoes the scalars.
    let source = r#"
    #pragma OPENCL EXTENSION cl_khr_fp64 : enable
    __kernel void echo(uint u, int i, ulong ul, long l, float f, double d,
                       __local uint* scratch, __global ulong* scalars, __global uint* sums) {
        size_t lid = get_local_id(0);
        scratch[lid] = (uint)get_global_id(0);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            uint total = 0;
            for (size_t k = 0; k < get_local_size(0); k++) total += scratch[k];
            sums[get_group_id(0)] = total;
        }
        if (get_global_id(0) == 0) {
            scalars[0] = u; scalars[1] = (ulong)(long)i; scalars[2] = ul; scalars[3] = (ulong)l;
            scalars[4] = as_uint(f); scalars[5] = as_ulong(d);
        }
    }"#;
    let mut kernel = kernel(
        source,
        "echo",
        vec![16],
        vec![
            KernelArg::U32 { value: 7 },
            KernelArg::I32 { value: -3 },
            KernelArg::U64 {
                value: Uint64::new(1 << 40),
            },
            KernelArg::I64 {
                value: Int64::new(-(1 << 40)),
            },
            KernelArg::F32 {
                bits: 1.5f32.to_bits(),
            },
            KernelArg::F64 {
                bits: Uint64::new((-2.25f64).to_bits()),
            },
            KernelArg::Local { size: 4 * 8 },
            KernelArg::Output { size: 6 * 8 },
            KernelArg::Output { size: 2 * 4 },
        ],
    );
    kernel.local_work_size = Some(vec![8]);
    let backend = default_backend(1);
    if !backend.device().fp64 {
        eprintln!("skipping: the device has no fp64");
        return;
    }

    let output = backend.run(&kernel).unwrap();

    let scalars: Vec<u64> = output.outputs[0]
        .chunks_exact(8)
        .map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap()))
        .collect();
    let expected_scalars = [
        7,
        -3i64 as u64,
        1 << 40,
        (-(1i64 << 40)) as u64,
        u64::from(1.5f32.to_bits()),
        (-2.25f64).to_bits(),
    ];
    assert_eq!(scalars, expected_scalars);
    let sums: Vec<u32> = output.outputs[1]
        .chunks_exact(4)
        .map(|chunk| u32::from_le_bytes(chunk.try_into().unwrap()))
        .collect();
    assert_eq!(sums, vec![(0..8).sum::<u32>(), (8..16).sum::<u32>()]);
}

#[test]
fn a_kernel_that_does_not_compile_returns_its_build_log_and_the_backend_keeps_serving() {
    let backend = default_backend(1);
    let broken = kernel(
        "__kernel void broken(__global uint* out) { out[0] = undeclared_name; }",
        "broken",
        vec![1],
        vec![KernelArg::Output { size: 4 }],
    );

    for attempt in 0..2 {
        match backend.run(&broken) {
            Err(ExecError::Compile(log)) => {
                assert!(log.contains("undeclared_name"), "attempt {attempt}: {log}")
            }
            other => panic!("attempt {attempt}: expected a compile error, got {other:?}"),
        }
    }
    assert_vector_add_runs(&backend, 0.0);
}

#[test]
fn a_wrong_entry_point_or_argument_count_is_a_launch_error() {
    let backend = default_backend(1);
    let (mut wrong_name, _) = vector_add(16, 0.0);
    wrong_name.entry_point = "no_such_kernel".into();
    let (mut missing_arg, _) = vector_add(16, 0.0);
    missing_arg.args.remove(0);

    for kernel in [wrong_name, missing_arg] {
        let result = backend.run(&kernel);
        assert!(matches!(result, Err(ExecError::Launch(_))), "{result:?}");
    }
    assert_vector_add_runs(&backend, 2.0);
}

#[test]
fn an_endless_kernel_times_out_near_the_limit_and_its_worker_is_reaped() {
    let limit = Duration::from_secs(2);
    let backend = backend(limit, 4 * GIB, 1);
    assert_vector_add_runs(&backend, 0.0);
    let pids = backend.worker_pids();
    assert_eq!(pids.len(), 1);

    let started = Instant::now();
    let result = backend.run(&endless_loop());
    let took = started.elapsed();

    assert_eq!(result, Err(ExecError::Timeout(limit)));
    assert!(
        took >= limit && took < limit + Duration::from_secs(3),
        "took {took:?}"
    );
    // Killed and reaped: not even a zombie is left.
    assert!(!process_exists(pids[0]), "worker {} still exists", pids[0]);
    assert_vector_add_runs(&backend, 3.0);
    assert_ne!(backend.worker_pids(), pids);
}

#[test]
fn buffers_beyond_the_memory_limit_are_an_error_not_a_crash_or_a_hang() {
    let backend = backend(Duration::from_secs(30), GIB, 1);
    let device = device_info(DeviceSelector::default()).unwrap();
    let oversized = [2 * GIB, device.global_mem_bytes.saturating_mul(2)];
    for size in oversized {
        let kernel = kernel(
            "__kernel void fill(__global uchar* out) { out[get_global_id(0)] = 1; }",
            "fill",
            vec![1],
            vec![KernelArg::Output { size }],
        );
        let result = backend.run(&kernel);
        assert!(
            matches!(result, Err(ExecError::OutOfMemory { limit_bytes, .. }) if limit_bytes == GIB),
            "{size} bytes: {result:?}"
        );
    }
    assert_vector_add_runs(&backend, 4.0);
}

#[test]
fn an_allocation_the_driver_cannot_make_under_the_limit_is_an_error() {
    // Under the 1 GiB limit and the device's largest allocation, but more than the address
    // space the driver's libraries leave free. PoCL itself would abort on it; the worker
    // must refuse it first.
    let backend = backend(Duration::from_secs(30), GIB, 1);
    let kernel = kernel(
        "__kernel void fill(__global uchar* out) { out[get_global_id(0)] = 1; }",
        "fill",
        vec![1024],
        vec![KernelArg::Output {
            size: GIB - (16 << 20),
        }],
    );
    let result = backend.run(&kernel);
    assert!(
        matches!(result, Err(ExecError::OutOfMemory { .. })),
        "{result:?}"
    );
    assert_vector_add_runs(&backend, 5.0);
}

#[test]
fn two_threads_run_at_once_on_two_workers() {
    let backend = &default_backend(2);
    thread::scope(|scope| {
        let runs: Vec<_> = [10.0, 20.0]
            .map(|seed| scope.spawn(move || assert_vector_add_runs(backend, seed)))
            .into_iter()
            .collect();
        for run in runs {
            run.join().expect("run succeeded");
        }
    });
    // Both runs overlapped (each compiles first), so each had a worker of its own.
    assert_eq!(backend.worker_pids().len(), 2);
}

#[test]
fn a_worker_killed_while_idle_is_replaced() {
    let backend = default_backend(1);
    assert_vector_add_runs(&backend, 0.0);
    let pids = backend.worker_pids();
    assert_eq!(pids.len(), 1);

    kill_and_wait(pids[0]);
    assert_vector_add_runs(&backend, 1.0);

    let replaced = backend.worker_pids();
    assert_eq!(replaced.len(), 1);
    assert_ne!(replaced, pids);
    assert!(!process_exists(pids[0]), "killed worker was not reaped");
}

#[test]
fn a_worker_killed_mid_run_is_reported_as_crashed_and_replaced() {
    let backend = backend(Duration::from_secs(20), 4 * GIB, 1);
    assert_vector_add_runs(&backend, 0.0);
    let pid = backend.worker_pids()[0];

    let result = thread::scope(|scope| {
        let run = scope.spawn(|| backend.run(&endless_loop()));
        thread::sleep(Duration::from_millis(1500));
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        run.join().unwrap()
    });

    match result {
        Err(ExecError::Crashed(detail)) => assert!(detail.contains("signal 9"), "{detail}"),
        other => panic!("expected a crash, got {other:?}"),
    }
    assert_vector_add_runs(&backend, 1.0);
}

#[test]
fn kernel_printf_does_not_corrupt_the_reply_stream() {
    let backend = default_backend(1);
    let chatty = kernel(
        r#"__kernel void chatty(__global uint* out) {
            printf("item %u says hello\n", (uint)get_global_id(0));
            out[get_global_id(0)] = 42;
        }"#,
        "chatty",
        vec![4],
        vec![KernelArg::Output { size: 16 }],
    );
    let output = backend.run(&chatty).unwrap();
    assert_eq!(output.outputs[0], [42u8, 0, 0, 0].repeat(4));
    assert_vector_add_runs(&backend, 0.0);
}

#[test]
fn a_memory_limit_too_small_for_the_driver_makes_the_backend_unavailable() {
    let backend = backend(Duration::from_secs(10), 32 << 20, 1);
    let (kernel, _) = vector_add(16, 0.0);
    let result = backend.run(&kernel);
    assert!(
        matches!(result, Err(ExecError::Unavailable(_))),
        "{result:?}"
    );
}

#[test]
fn start_refuses_a_missing_worker_and_zero_workers() {
    let config = |worker_exe: PathBuf, workers| OpenClConfig {
        worker_exe,
        selector: DeviceSelector::default(),
        limits: ExecLimits {
            time_limit: Duration::from_secs(1),
            memory_limit_bytes: GIB,
        },
        workers,
    };
    let missing = config(PathBuf::from("/nonexistent/opengpu-provider"), 1);
    let none = config(PathBuf::from(env!("CARGO_BIN_EXE_opengpu-provider")), 0);
    for config in [missing, none] {
        let result = OpenClBackend::start(config);
        assert!(matches!(result, Err(ExecError::Unavailable(_))));
    }
}

#[test]
fn devices_list_the_selected_device_and_name_a_selector_out_of_range() {
    let platforms = list_platforms().unwrap();
    let first = &platforms[0].devices[0];
    assert_eq!(device_info(DeviceSelector::default()).unwrap(), first.info);
    assert!(first.max_mem_alloc_bytes > 0);
    let json = serde_json::to_value(&platforms).unwrap();
    assert!(json[0]["devices"][0]["info"]["name"].is_string());

    let beyond = DeviceSelector {
        platform: platforms.len(),
        device: 0,
    };
    match device_info(beyond) {
        Err(ExecError::Unavailable(detail)) => {
            assert!(detail.contains("does not exist"), "{detail}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    let beyond = DeviceSelector {
        platform: 0,
        device: platforms[0].devices.len(),
    };
    assert!(matches!(
        device_info(beyond),
        Err(ExecError::Unavailable(_))
    ));
}
