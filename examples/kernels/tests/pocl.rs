//! Runs every example on the first OpenCL device (PoCL on the development machines) through
//! `ocl`, checks the outputs against the CPU reference, and prints SGEMM GFLOP/s.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use ocl::enums::ProfilingInfo;
use ocl::flags::CommandQueueProperties;
use ocl::{Buffer, Context, Device, Event, Platform, Program, Queue, SpatialDims};
use opengpu_examples::{Example, ExampleTask};
use opengpu_types::kernel::{Kernel, KernelArg};

/// The first device of the first platform, with a profiling queue.
struct Gpu {
    context: Context,
    device: Device,
    queue: Queue,
}

/// The one device all tests share, one test at a time: PoCL's first device query is not safe to
/// race (a second thread can get CL_DEVICE_NOT_FOUND), and a benchmark must not share the cores
/// with another test's kernels.
fn gpu() -> MutexGuard<'static, Gpu> {
    static GPU: OnceLock<Mutex<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| Mutex::new(Gpu::first()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Gpu {
    fn first() -> Gpu {
        let platform = Platform::first().expect("an OpenCL platform (install PoCL)");
        let device = Device::first(platform).expect("an OpenCL device");
        let context = Context::builder()
            .platform(platform)
            .devices(device)
            .build()
            .expect("OpenCL context");
        let queue = Queue::new(
            &context,
            device,
            Some(CommandQueueProperties::PROFILING_ENABLE),
        )
        .expect("OpenCL queue");
        Gpu {
            context,
            device,
            queue,
        }
    }

    /// Builds `kernel` with its arguments bound: inputs uploaded, outputs zeroed.
    fn prepare(&self, kernel: &Kernel) -> Launch {
        let program = Program::builder()
            .src(kernel.source.as_str())
            .devices(self.device)
            .build(&self.context)
            .unwrap_or_else(|e| panic!("{} does not build: {e}", kernel.entry_point));
        // Buffers first: the kernel builder borrows them.
        let buffers: Vec<Option<Buffer<u8>>> = kernel
            .args
            .iter()
            .map(|arg| match arg {
                KernelArg::Input { data } => Some(
                    Buffer::builder()
                        .queue(self.queue.clone())
                        .len(data.len())
                        .copy_host_slice(data.as_slice())
                        .build()
                        .expect("input buffer"),
                ),
                KernelArg::Output { size } => Some(
                    Buffer::builder()
                        .queue(self.queue.clone())
                        .len(*size as usize)
                        .fill_val(0u8)
                        .build()
                        .expect("output buffer"),
                ),
                _ => None,
            })
            .collect();
        let mut builder = ocl::Kernel::builder();
        builder
            .program(&program)
            .name(kernel.entry_point.as_str())
            .queue(self.queue.clone())
            .global_work_size(dims(&kernel.global_work_size));
        if let Some(local) = &kernel.local_work_size {
            builder.local_work_size(dims(local));
        }
        for (arg, buffer) in kernel.args.iter().zip(&buffers) {
            match (arg, buffer) {
                (_, Some(buffer)) => builder.arg(buffer),
                (KernelArg::Local { size }, None) => builder.arg_local::<u8>(*size as usize),
                (KernelArg::U32 { value }, None) => builder.arg(*value),
                (KernelArg::I32 { value }, None) => builder.arg(*value),
                (KernelArg::U64 { value }, None) => builder.arg(value.u64()),
                (KernelArg::I64 { value }, None) => builder.arg(value.i64()),
                (KernelArg::F32 { bits }, None) => builder.arg(f32::from_bits(*bits)),
                (KernelArg::F64 { bits }, None) => builder.arg(f64::from_bits(bits.u64())),
                (buffer_arg, None) => panic!("{buffer_arg:?} has no buffer"),
            };
        }
        let ocl_kernel = builder.build().expect("kernel arguments bind");
        let outputs = kernel
            .args
            .iter()
            .zip(buffers)
            .filter(|(arg, _)| matches!(arg, KernelArg::Output { .. }))
            .filter_map(|(_, buffer)| buffer)
            .collect();
        Launch {
            kernel: ocl_kernel,
            outputs,
        }
    }
}

fn dims(sizes: &[u64]) -> SpatialDims {
    match *sizes {
        [x] => SpatialDims::One(x as usize),
        [x, y] => SpatialDims::Two(x as usize, y as usize),
        [x, y, z] => SpatialDims::Three(x as usize, y as usize, z as usize),
        _ => panic!("work size {sizes:?} has no 1 to 3 dimensions"),
    }
}

/// A kernel ready to enqueue and the buffers it writes.
struct Launch {
    kernel: ocl::Kernel,
    outputs: Vec<Buffer<u8>>,
}

impl Launch {
    /// Runs the kernel once and returns the device's own measure of its execution time.
    fn run(&self) -> Duration {
        let mut event = Event::empty();
        // Safety: every argument is bound to a buffer sized as the kernel declares, and the
        // kernels index only within their global size.
        unsafe { self.kernel.cmd().enew(&mut event).enq() }.expect("kernel enqueues");
        event.wait_for().expect("kernel completes");
        let time = |info| {
            event
                .profiling_info(info)
                .and_then(|r| Ok(r.time()?))
                .expect("profiling time")
        };
        Duration::from_nanos(time(ProfilingInfo::End).saturating_sub(time(ProfilingInfo::Start)))
    }

    fn read_outputs(&self) -> Vec<Vec<u8>> {
        self.outputs
            .iter()
            .map(|buffer| {
                let mut bytes = vec![0u8; buffer.len()];
                buffer.read(&mut bytes).enq().expect("output reads back");
                bytes
            })
            .collect()
    }
}

#[test]
fn every_example_matches_its_reference_on_the_device() {
    let gpu = gpu();
    let publishable = Example::ALL.map(|e| (e, e.default_size()));
    for (example, size) in publishable.into_iter().chain([
        (Example::VectorAdd, 100_000),
        (Example::Sgemm, 192),
        (Example::HashChain, 10_000),
        (Example::Mandelbrot, 300),
    ]) {
        // And sizes off the powers of two, which leave the driver odd work-group sizes to pick.
        let task = ExampleTask::new(example, size, 42).unwrap();
        let launch = gpu.prepare(&task.kernel());
        let time = launch.run();
        let report = task
            .check(&launch.read_outputs())
            .unwrap_or_else(|e| panic!("{example} at size {size}: {e}"));
        eprintln!(
            "{example} size {size}: {} elements, max error {:e}, {} mismatches, {time:?}",
            report.elements, report.max_abs_error, report.mismatches
        );
    }
}

/// One work item per element of C, no tiling: the baseline the shipped kernel is measured
/// against.
const NAIVE_SGEMM: &str = "
__kernel void naive_sgemm(__global const float* a, __global const float* b, __global float* c,
                          uint n)
{
    uint col = get_global_id(0), row = get_global_id(1);
    float acc = 0.0f;
    for (uint k = 0; k < n; k++) {
        acc += a[row * n + k] * b[k * n + col];
    }
    c[row * n + col] = acc;
}";

/// Best kernel time of 5 runs after a warm-up run (first-launch compilation, page faults).
fn best_time(launch: &Launch) -> Duration {
    launch.run();
    (0..5).map(|_| launch.run()).min().unwrap()
}

#[test]
fn sgemm_runs_correctly_and_reports_its_speed() {
    let gpu = gpu();
    for n in [256, 512] {
        // n = 512 has 2 MiB of inputs, beyond the localnet's limit: a benchmark only.
        let task = ExampleTask::with_buffer_limit(Example::Sgemm, n, 7, 4 << 20).unwrap();
        let tiled = gpu.prepare(&task.kernel());
        let naive = gpu.prepare(&Kernel {
            source: NAIVE_SGEMM.to_string(),
            entry_point: "naive_sgemm".to_string(),
            global_work_size: vec![n as u64, n as u64],
            local_work_size: None,
            ..task.kernel()
        });
        let gflops = |time: Duration| task.flops().unwrap() as f64 / time.as_secs_f64() / 1e9;
        let (tiled_time, naive_time) = (best_time(&tiled), best_time(&naive));
        for (name, launch) in [("tiled", &tiled), ("naive", &naive)] {
            let outputs = launch.read_outputs();
            task.check(&outputs)
                .unwrap_or_else(|e| panic!("{name} sgemm at n={n}: {e}"));
        }
        eprintln!(
            "sgemm n={n}: shipped kernel {:.1} GFLOP/s ({tiled_time:?}), naive kernel {:.1} \
             GFLOP/s ({naive_time:?}); kernel time, best of 5 after a warm-up",
            gflops(tiled_time),
            gflops(naive_time),
        );
    }
}
