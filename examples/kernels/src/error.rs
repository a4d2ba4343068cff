//! What can go wrong with an example task: a size it cannot take, or outputs that are not the
//! reference's.

use crate::Example;

#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum ExampleError {
    #[error("unknown example {name:?}; the examples are {known}")]
    UnknownExample { name: String, known: String },
    #[error("{example} size must be at least 1")]
    ZeroSize { example: Example },
    #[error("{example} size {size} is not a multiple of its tile size {multiple}")]
    NotTileMultiple {
        example: Example,
        size: u32,
        multiple: u32,
    },
    #[error(
        "{example} size {size} needs {bytes} bytes of {what}; the limit is {limit} (largest \
         {example} size within it: {largest_size})"
    )]
    TooLarge {
        example: Example,
        size: u32,
        what: SizeLimit,
        bytes: u64,
        limit: u64,
        largest_size: u32,
    },
    #[error("{example} has {expected} output buffer(s), got {got}")]
    WrongOutputCount {
        example: Example,
        expected: usize,
        got: usize,
    },
    #[error("{example} output {index} should have {expected} bytes, got {got}")]
    WrongOutputSize {
        example: Example,
        index: usize,
        expected: u64,
        got: u64,
    },
    #[error(
        "{example} output differs from the reference in {mismatches} of {elements} elements \
         (at most {allowed} may differ); first at {at}: expected {expected}, got {got}"
    )]
    Mismatch {
        example: Example,
        mismatches: u64,
        elements: u64,
        allowed: u64,
        /// Where the first difference is, e.g. `element 17` or `row 3, column 40`.
        at: String,
        expected: String,
        got: String,
    },
}

/// Which limit a size breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    /// The market's `max_input_bytes`.
    InputBuffers,
    /// The market's `max_output_bytes`.
    OutputBuffers,
}

impl std::fmt::Display for SizeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SizeLimit::InputBuffers => "input buffers",
            SizeLimit::OutputBuffers => "output buffers",
        })
    }
}
