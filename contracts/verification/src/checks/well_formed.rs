//! Well-formed outputs: one buffer per declared output, each exactly its declared size. Every
//! policy runs this first; `Unverified` runs nothing else.

use super::{CheckResult, Revealed};

pub fn check(revealed: Revealed) -> CheckResult {
    let Revealed {
        output_sizes,
        revealed_sizes,
        ..
    } = revealed;
    if revealed_sizes.len() != output_sizes.len() {
        return Err(format!(
            "{} outputs revealed, task declares {}",
            revealed_sizes.len(),
            output_sizes.len()
        ));
    }
    for (index, (got, expected)) in revealed_sizes.iter().zip(output_sizes).enumerate() {
        if got != expected {
            return Err(format!(
                "output {index} has {got} bytes, expected {expected}"
            ));
        }
    }
    Ok(())
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
    fn more_outputs_than_declared_are_rejected_with_both_counts() {
        assert_eq!(
            run(&[4], &[vec![0; 4], vec![0; 4]]),
            Err("2 outputs revealed, task declares 1".into())
        );
    }

    #[test]
    fn fewer_outputs_than_declared_are_rejected_with_both_counts() {
        assert_eq!(
            run(&[4, 4], &[vec![0; 4]]),
            Err("1 outputs revealed, task declares 2".into())
        );
    }

    #[test]
    fn output_of_the_wrong_size_is_rejected_naming_index_and_sizes() {
        assert_eq!(
            run(&[4, 16], &[vec![0; 4], vec![0; 12]]),
            Err("output 1 has 12 bytes, expected 16".into())
        );
        assert_eq!(
            run(&[4], &[vec![0; 5]]),
            Err("output 0 has 5 bytes, expected 4".into())
        );
    }

    #[test]
    fn first_wrong_sized_output_is_the_one_reported() {
        assert_eq!(
            run(&[1, 2], &[vec![], vec![]]),
            Err("output 0 has 0 bytes, expected 1".into())
        );
    }
}
