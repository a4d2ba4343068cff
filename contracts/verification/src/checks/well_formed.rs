//! Well-formed outputs: one buffer per declared output, each exactly its declared size
//! (`opengpu_types::verification::check_output_shape`, the rule the CLI and the provider check
//! too before they commit). Every policy runs this first; `Unverified` runs nothing else.

use opengpu_types::verification::check_output_shape;

use super::{CheckResult, Revealed};

pub fn check(revealed: Revealed) -> CheckResult {
    check_output_shape(revealed.output_sizes, revealed.revealed_sizes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(output_sizes: &[u64], outputs: &[Vec<u8>]) -> CheckResult {
        let revealed_sizes: Vec<u64> = outputs.iter().map(|o| o.len() as u64).collect();
        check(Revealed {
            output_sizes,
            revealed_sizes: &revealed_sizes,
            outputs_digest: &[0; 32],
        })
    }

    #[test]
    fn outputs_of_the_declared_count_and_sizes_are_well_formed() {
        assert_eq!(run(&[4, 16], &[vec![0; 4], vec![1; 16]]), Ok(()));
    }

    #[test]
    fn a_wrong_count_or_size_is_refused_with_the_rules_reason() {
        assert_eq!(
            run(&[4], &[vec![0; 4], vec![0; 4]]),
            Err("2 outputs revealed, task declares 1".into())
        );
        assert_eq!(
            run(&[4, 16], &[vec![0; 4], vec![0; 12]]),
            Err("output 1 has 12 bytes, expected 16".into())
        );
    }
}
