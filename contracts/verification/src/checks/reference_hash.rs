//! `ReferenceHash`: well-formed, and `outputs_digest(outputs)` equals the hash the client
//! supplied. For canary and benchmark tasks whose answer the client already knows.

use cosmwasm_std::HexBinary;

use super::{well_formed, CheckResult, Revealed};

/// Length of a SHA-256 digest.
pub const DIGEST_BYTES: usize = 32;

pub fn check_policy(sha256: &HexBinary) -> CheckResult {
    if sha256.len() != DIGEST_BYTES {
        return Err(format!(
            "reference hash has {} bytes, expected {DIGEST_BYTES}",
            sha256.len()
        ));
    }
    Ok(())
}

pub fn check(sha256: &HexBinary, revealed: Revealed) -> CheckResult {
    well_formed::check(revealed)?;
    if revealed.outputs_digest != sha256.as_slice() {
        return Err(format!(
            "outputs digest {} does not match reference hash {}",
            HexBinary::from(revealed.outputs_digest).to_hex(),
            sha256.to_hex()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Binary;
    use opengpu_types::commitment::outputs_digest;

    fn outputs() -> Vec<Binary> {
        vec![Binary::from(vec![1, 2, 3, 4]), Binary::from(vec![9; 8])]
    }

    fn reference() -> HexBinary {
        HexBinary::from(outputs_digest(&outputs()))
    }

    fn run(sha256: &HexBinary, output_sizes: &[u64], outputs: &[Binary]) -> CheckResult {
        let revealed_sizes: Vec<u64> = outputs.iter().map(|o| o.len() as u64).collect();
        check(
            sha256,
            Revealed {
                output_sizes,
                revealed_sizes: &revealed_sizes,
                outputs_digest: &outputs_digest(outputs),
            },
        )
    }

    #[test]
    fn outputs_matching_the_reference_hash_are_valid() {
        assert_eq!(run(&reference(), &[4, 8], &outputs()), Ok(()));
    }

    #[test]
    fn outputs_with_another_digest_are_invalid_and_both_hashes_are_named() {
        let mut wrong = outputs();
        wrong[1] = Binary::from(vec![8; 8]);
        let got = HexBinary::from(outputs_digest(&wrong)).to_hex();
        let reason = run(&reference(), &[4, 8], &wrong).unwrap_err();
        assert_eq!(
            reason,
            format!(
                "outputs digest {got} does not match reference hash {}",
                reference().to_hex()
            )
        );
    }

    #[test]
    fn malformed_outputs_fail_the_well_formed_check_before_the_hash() {
        let reason = run(&reference(), &[4, 9], &outputs()).unwrap_err();
        assert_eq!(reason, "output 1 has 8 bytes, expected 9");
    }

    #[test]
    fn reference_hash_of_other_than_32_bytes_is_a_malformed_policy() {
        assert_eq!(check_policy(&reference()), Ok(()));
        assert_eq!(
            check_policy(&HexBinary::from(vec![0u8; 31])),
            Err("reference hash has 31 bytes, expected 32".into())
        );
        assert!(check_policy(&HexBinary::from(vec![])).is_err());
        assert!(check_policy(&HexBinary::from(vec![0u8; 33])).is_err());
    }
}
