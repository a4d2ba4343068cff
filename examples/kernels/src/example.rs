//! The catalogue of examples: names as the command line spells them, descriptions, default
//! sizes.

use std::fmt;
use std::str::FromStr;

use crate::task::buffer_bytes;
use crate::{ExampleError, LOCALNET_BUFFER_LIMIT, SGEMM_TILE};

/// One of the example workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Example {
    VectorAdd,
    Sgemm,
    HashChain,
    Mandelbrot,
}

impl Example {
    pub const ALL: [Example; 4] = [
        Example::VectorAdd,
        Example::Sgemm,
        Example::HashChain,
        Example::Mandelbrot,
    ];

    /// The name the command line takes and prints.
    pub fn name(&self) -> &'static str {
        match self {
            Example::VectorAdd => "vector-add",
            Example::Sgemm => "sgemm",
            Example::HashChain => "hash-chain",
            Example::Mandelbrot => "mandelbrot",
        }
    }

    /// One line on what the task computes and what `size` means for it.
    pub fn description(&self) -> &'static str {
        match self {
            Example::VectorAdd => "c = a + b over SIZE random f32 elements",
            Example::Sgemm => {
                "C = A x B for SIZE x SIZE random f32 matrices, tiled in local memory \
                 (SIZE a multiple of 64)"
            }
            Example::HashChain => {
                "each of SIZE random u32 words hashed 1024 times in a chain (bit-exact)"
            }
            Example::Mandelbrot => {
                "SIZE x SIZE image of Mandelbrot escape counts over [-2, 1] x [-1.5, 1.5], \
                 at most 512 iterations"
            }
        }
    }

    /// A size that takes a quarter of the localnet's 1 MiB output limit (256 KiB of output;
    /// 512 KiB of inputs for vector-add and sgemm, 256 KiB for hash-chain): real work for a
    /// device, seconds at most on a CPU, and a publish well inside the chain's limits.
    pub fn default_size(&self) -> u32 {
        match self {
            Example::VectorAdd => 65_536,
            Example::Sgemm => 256,
            Example::HashChain => 65_536,
            Example::Mandelbrot => 256,
        }
    }

    /// Sizes must be multiples of this: the SGEMM tile, 1 for the others.
    pub fn size_multiple(&self) -> u32 {
        match self {
            Example::Sgemm => SGEMM_TILE,
            _ => 1,
        }
    }

    /// The largest valid size whose inputs, and whose outputs, each take at most `limit` bytes
    /// (0 when none does).
    pub fn largest_size(&self, limit: u64) -> u32 {
        let multiple = self.size_multiple();
        let fits = |size: u32| {
            let (input, output) = buffer_bytes(*self, size);
            input <= limit && output <= limit
        };
        // Buffers grow with the size: binary search over multiples of the tile.
        let (mut low, mut high) = (0u32, u32::MAX / multiple);
        while low < high {
            let mid = low + (high - low).div_ceil(2);
            if fits(mid * multiple) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        low * multiple
    }

    /// The largest size [`ExampleTask::new`](crate::ExampleTask::new) accepts: what the
    /// localnet can take, the largest within its buffer limits.
    pub fn largest_publishable_size(&self) -> u32 {
        self.largest_size(LOCALNET_BUFFER_LIMIT)
    }

    fn known_names() -> String {
        Example::ALL
            .iter()
            .map(Example::name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Example {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Example {
    type Err = ExampleError;

    fn from_str(s: &str) -> Result<Self, ExampleError> {
        Example::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| ExampleError::UnknownExample {
                name: s.to_string(),
                known: Example::known_names(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for example in Example::ALL {
            assert_eq!(example.to_string().parse::<Example>(), Ok(example));
        }
        let err = "matmul".parse::<Example>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown example \"matmul\"; the examples are vector-add, sgemm, hash-chain, \
             mandelbrot"
        );
    }

    #[test]
    fn descriptions_state_the_fixed_parameters() {
        use crate::{HASH_CHAIN_ROUNDS, MANDELBROT_MAX_ITERATIONS};
        let states = |example: Example, value: u32| {
            assert!(
                example.description().contains(&value.to_string()),
                "{example}: {}",
                example.description()
            )
        };
        states(Example::HashChain, HASH_CHAIN_ROUNDS);
        states(Example::Mandelbrot, MANDELBROT_MAX_ITERATIONS);
        states(Example::Sgemm, SGEMM_TILE);
    }
}
