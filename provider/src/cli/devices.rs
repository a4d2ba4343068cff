//! `opengpu-provider devices`: what OpenCL offers on this machine, as the registry stores it.

use super::{emit, OutputFormat};
use crate::executor::opencl::list_platforms;

#[derive(clap::Args, Debug)]
pub struct DevicesArgs {}

pub fn run(_args: &DevicesArgs, output: OutputFormat) -> anyhow::Result<()> {
    let platforms = list_platforms()?;
    emit(output, &platforms, || {
        let mut text = String::new();
        for (p, platform) in platforms.iter().enumerate() {
            text += &format!("platform {p}: {} ({})\n", platform.name, platform.version);
            for (d, device) in platform.devices.iter().enumerate() {
                let info = &device.info;
                text += &format!(
                    "  device {d}: {} [{}] compute_units={} global_mem={} MiB \
                     max_work_group={} fp64={}\n",
                    info.name,
                    info.device_type,
                    info.compute_units,
                    info.global_mem_bytes >> 20,
                    info.max_work_group_size,
                    info.fp64
                );
            }
        }
        if platforms.is_empty() {
            text += "no OpenCL platform found (install an ICD, e.g. pocl-opencl-icd)\n";
        }
        text.trim_end().to_string()
    })
}
