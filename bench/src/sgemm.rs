//! SGEMM throughput: the shipped tiled OpenCL kernel on this machine's OpenCL device (PoCL on
//! CPU-only machines) through the provider's own executor, against the `matrixmultiply`
//! crate on the CPU, on the same inputs.

use std::path::Path;
use std::time::{Duration, Instant};

use opengpu_examples::{Example, ExampleTask};
use opengpu_provider::executor::opencl::{OpenClBackend, OpenClConfig};
use opengpu_provider::executor::{Backend, DeviceSelector, ExecLimits};

pub fn run(sizes: &[u32], runs: usize, plots: Option<&Path>) -> anyhow::Result<()> {
    anyhow::ensure!(runs > 0, "--runs must be at least 1");
    let backend = OpenClBackend::start(OpenClConfig {
        worker_exe: std::env::current_exe()?,
        selector: DeviceSelector::default(),
        limits: ExecLimits {
            time_limit: Duration::from_secs(600),
            memory_limit_bytes: 16 << 30,
        },
        workers: 1,
    })?;
    let device = backend.device().clone();
    let mut rows = Vec::new();
    for &n in sizes {
        // Benchmark sizes exceed what a chain task may carry (n = 1024 is 8 MiB of inputs):
        // only the tile-multiple rule applies here.
        let task = ExampleTask::with_buffer_limit(Example::Sgemm, n, 1, u64::MAX)?;
        let kernel = task.kernel();
        let flops = task.flops().expect("sgemm counts its flops") as f64;

        let first = backend.run(&kernel)?; // compiles (or hits the cache) and checks
        let report = task
            .check(&first.outputs)
            .map_err(|e| anyhow::anyhow!("n={n}: kernel output differs from the reference: {e}"))?;
        let (mut opencl, mut opencl_kernel) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let run = backend.run(&kernel)?;
            opencl.push(run.elapsed);
            opencl_kernel.push(run.kernel_elapsed);
        }

        let (a, b) = inputs(&kernel);
        let mut c = vec![0f32; (n * n) as usize];
        let mut cpu = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let size = n as usize;
            // SAFETY: a, b and c hold n*n f32 each, row-major with the strides given.
            unsafe {
                matrixmultiply::sgemm(
                    size,
                    size,
                    size,
                    1.0,
                    a.as_ptr(),
                    size as isize,
                    1,
                    b.as_ptr(),
                    size as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    size as isize,
                    1,
                );
            }
            cpu.push(started.elapsed());
        }
        let cpu_bytes: Vec<u8> = c.iter().flat_map(|x| x.to_le_bytes()).collect();
        task.check(&[cpu_bytes]).map_err(|e| {
            anyhow::anyhow!("n={n}: matrixmultiply differs from the reference: {e}")
        })?;

        let gflops = |d: Duration| flops / d.as_secs_f64() / 1e9;
        let (kernel_only, whole, cpu) = (
            median(&mut opencl_kernel),
            median(&mut opencl),
            median(&mut cpu),
        );
        eprintln!(
            "n={n}: OpenCL kernel {:.2} GFLOP/s (whole run {:.2}), matrixmultiply {:.2} GFLOP/s \
             (max error {:.2e})",
            gflops(kernel_only),
            gflops(whole),
            gflops(cpu),
            report.max_abs_error
        );
        rows.push((
            n,
            gflops(kernel_only),
            kernel_only,
            gflops(whole),
            gflops(cpu),
            cpu,
        ));
    }

    println!("## SGEMM throughput\n");
    println!(
        "C = A x B, n x n f32, same inputs. OpenCL: the shipped `examples/kernels/cl/sgemm.cl` \
         through the provider's executor (worker process, compiled program cached, median of \
         {runs} runs after a checked warm-up) on `{}` ({} compute units): the kernel alone \
         (inputs already on the device), and the whole run a task pays for (buffer creation, \
         upload, kernel, read-back; not the pipe to the worker). CPU: `matrixmultiply::sgemm` \
         with its threading feature, median of {runs} runs. Both results are checked against \
         the plain reference.\n",
        device.name, device.compute_units
    );
    println!(
        "| n | OpenCL kernel GFLOP/s | kernel time | OpenCL whole run GFLOP/s | \
         matrixmultiply GFLOP/s | matrixmultiply time | kernel / matrixmultiply |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &(n, kernel, kernel_time, whole, cpu, cpu_time) in &rows {
        println!(
            "| {n} | {kernel:.2} | {:.1} ms | {whole:.2} | {cpu:.2} | {:.1} ms | {:.2} |",
            kernel_time.as_secs_f64() * 1e3,
            cpu_time.as_secs_f64() * 1e3,
            kernel / cpu
        );
    }
    println!();
    if let Some(&(n, kernel, _, _, cpu, _)) = rows.iter().find(|r| r.0 == 1024) {
        crate::goals::report(
            &format!("SGEMM kernel GFLOP/s against matrixmultiply at n={n} (PoCL, CPU)"),
            "at least 0.5x",
            &format!(
                "{:.2}x ({kernel:.1} against {cpu:.1} GFLOP/s)",
                kernel / cpu
            ),
            kernel / cpu >= 0.5,
            "",
        );
    }
    if let Some(dir) = plots {
        let series = [
            ("OpenCL kernel", rows.iter().map(|r| r.1).collect()),
            ("OpenCL whole run", rows.iter().map(|r| r.3).collect()),
            ("matrixmultiply (CPU)", rows.iter().map(|r| r.4).collect()),
        ];
        crate::plot::sgemm(&dir.join("sgemm.svg"), sizes, &series)?;
    }
    Ok(())
}

/// The two input matrices of an SGEMM kernel (its first two input buffers).
fn inputs(kernel: &opengpu_types::kernel::Kernel) -> (Vec<f32>, Vec<f32>) {
    let mut buffers = kernel.args.iter().filter_map(|arg| match arg {
        opengpu_types::kernel::KernelArg::Input { data } => Some(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect::<Vec<f32>>(),
        ),
        _ => None,
    });
    let a = buffers.next().expect("sgemm has input A");
    let b = buffers.next().expect("sgemm has input B");
    (a, b)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}
