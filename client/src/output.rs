//! What every opengpu binary shares at its entry point: the output format flag's values and
//! the async runtime.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

/// How a program prints results: text for people, one JSON document on stdout for scripts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

impl OutputFormat {
    /// The values `--output` takes.
    pub const NAMES: [&'static str; 2] = ["text", "json"];
}

impl FromStr for OutputFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "text" => Ok(OutputFormat::Text),
            "json" => Ok(OutputFormat::Json),
            other => Err(format!("unknown output format {other:?}: text or json")),
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputFormat::Text => "text",
            OutputFormat::Json => "json",
        })
    }
}

/// Runs `future` to completion on a new multi-threaded tokio runtime; `Err` is the line to
/// print when no runtime can start.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map(|runtime| runtime.block_on(future))
        .map_err(|e| format!("error: cannot start the async runtime: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print_as_their_names() {
        for name in OutputFormat::NAMES {
            assert_eq!(name.parse::<OutputFormat>().unwrap().to_string(), name);
        }
        assert!("yaml".parse::<OutputFormat>().is_err());
        assert_eq!(block_on(async { 7 }), Ok(7));
    }
}
