//! Percentiles by nearest rank, the way a table of a few dozen samples should report them.

/// The `p`-th percentile (0 < p <= 100) of `samples` by nearest rank; `None` when empty.
pub fn percentile<T: Copy + Ord>(samples: &[T], p: f64) -> Option<T> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u64> = (1..=50).rev().collect();
        assert_eq!(percentile(&samples, 50.0), Some(25));
        assert_eq!(percentile(&samples, 95.0), Some(48));
        assert_eq!(percentile(&samples, 100.0), Some(50));
        assert_eq!(percentile::<u64>(&[], 50.0), None);
        assert_eq!(percentile(&[7u64], 95.0), Some(7));
    }
}
