//! Logs on stderr: readable on a terminal, one JSON object per line with `--output json`.
//! `RUST_LOG` filters (default `info`).

use tracing_subscriber::EnvFilter;

use crate::cli::OutputFormat;

pub fn init(output: OutputFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match output {
        OutputFormat::Json => builder.json().try_init(),
        OutputFormat::Text => builder.try_init(),
    };
}
