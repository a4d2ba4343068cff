//! Column sums of a large u32 matrix: the workload for off-chain inputs (the end-to-end test
//! and the benchmark publish it with inputs from 1 MiB to 256 MiB). Not an [`crate::Example`]:
//! its point is an input far over the on-chain limit, so it is published from files.

/// OpenCL C source; entry point [`COLUMN_SUMS_ENTRY`], arguments `(data, sums, rows)`.
pub const COLUMN_SUMS_SOURCE: &str = include_str!("../cl/column_sums.cl");
pub const COLUMN_SUMS_ENTRY: &str = "column_sums";
/// Columns, i.e. the global work size: one work item per column.
pub const COLUMN_SUMS_COLUMNS: usize = 4096;

/// `rows` x [`COLUMN_SUMS_COLUMNS`] pseudo-random u32s (xorshift32 from `seed`), little-endian,
/// and their wrapping column sums: the input file and the expected output.
pub fn column_sums_matrix(rows: usize, seed: u32) -> (Vec<u8>, Vec<u8>) {
    let mut state = seed.wrapping_mul(0x9e37_79b9) | 1;
    let mut data = Vec::with_capacity(rows * COLUMN_SUMS_COLUMNS * 4);
    let mut sums = vec![0u32; COLUMN_SUMS_COLUMNS];
    for _ in 0..rows {
        for sum in sums.iter_mut() {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            data.extend_from_slice(&state.to_le_bytes());
            *sum = sum.wrapping_add(state);
        }
    }
    (data, sums.iter().flat_map(|s| s.to_le_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sums_are_the_column_sums_of_the_data() {
        let (data, sums) = column_sums_matrix(3, 5);
        let words: Vec<u32> = data
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let sums: Vec<u32> = sums
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(words.len(), 3 * COLUMN_SUMS_COLUMNS);
        for col in [0, 1, COLUMN_SUMS_COLUMNS - 1] {
            let expected = (0..3).fold(0u32, |acc, r| {
                acc.wrapping_add(words[r * COLUMN_SUMS_COLUMNS + col])
            });
            assert_eq!(sums[col], expected);
        }
        assert_ne!(column_sums_matrix(1, 5).0, column_sums_matrix(1, 6).0);
    }
}
