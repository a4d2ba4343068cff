//! The commit/reveal scheme every competition model uses.
//!
//! Byte layout (all hashes SHA-256, all integers big-endian):
//!
//! ```text
//! outputs_digest = sha256( for each output buffer, in kernel argument order:
//!                            len(buffer) as u64 (8 bytes) ‖ buffer bytes )
//! commitment     = sha256( task_id as u64 (8 bytes)
//!                        ‖ provider address, the bech32 string as UTF-8 bytes
//!                        ‖ outputs_digest (32 bytes)
//!                        ‖ price as u128 (16 bytes; 0 in models without a price)
//!                        ‖ salt bytes (16 to 64 bytes) )
//! ```
//!
//! The price is inside the commitment so that a Manual Confirmation offer is sealed too: once
//! commits close nobody can lower a price after seeing the others.
//!
//! The provider's address is inside the hash, so a commitment copied from another provider
//! never opens for the copier; the salt keeps a small output space from being guessed from
//! the commitment. The same `outputs_digest` is the "reference hash" a client supplies for
//! canary tasks.

use cosmwasm_std::{Binary, Uint128};
use sha2::{Digest, Sha256};

/// Shortest salt a reveal may carry.
pub const MIN_SALT_BYTES: usize = 16;
/// Longest salt a reveal may carry.
pub const MAX_SALT_BYTES: usize = 64;

/// Digest of a list of output buffers, length-prefixed so that buffer boundaries count.
pub fn outputs_digest(outputs: &[Binary]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for output in outputs {
        hasher.update((output.len() as u64).to_be_bytes());
        hasher.update(output.as_slice());
    }
    hasher.finalize().into()
}

/// The commitment a provider publishes before revealing `outputs` for `task_id` at `price`
/// (`None` in models without a price, hashed as 0).
pub fn commitment(
    task_id: u64,
    provider: &str,
    outputs_digest: &[u8; 32],
    price: Option<Uint128>,
    salt: &[u8],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(task_id.to_be_bytes());
    hasher.update(provider.as_bytes());
    hasher.update(outputs_digest);
    hasher.update(price.unwrap_or_default().u128().to_be_bytes());
    hasher.update(salt);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_digest_matches_the_documented_layout() {
        let outputs = [Binary::from(b"ab".to_vec()), Binary::from(vec![])];
        let mut manual = Vec::new();
        manual.extend_from_slice(&2u64.to_be_bytes());
        manual.extend_from_slice(b"ab");
        manual.extend_from_slice(&0u64.to_be_bytes());
        assert_eq!(
            outputs_digest(&outputs),
            <[u8; 32]>::from(Sha256::digest(&manual))
        );
    }

    #[test]
    fn buffer_boundaries_change_the_digest() {
        let split = [Binary::from(b"a".to_vec()), Binary::from(b"b".to_vec())];
        let joined = [Binary::from(b"ab".to_vec())];
        assert_ne!(outputs_digest(&split), outputs_digest(&joined));
    }

    #[test]
    fn commitment_binds_task_provider_outputs_and_salt() {
        let digest = outputs_digest(&[Binary::from(b"result".to_vec())]);
        let salt = [7u8; 32];
        let price = Some(Uint128::new(5));
        let base = commitment(1, "cosmwasm1alice", &digest, price, &salt);
        assert_ne!(base, commitment(2, "cosmwasm1alice", &digest, price, &salt));
        assert_ne!(base, commitment(1, "cosmwasm1bob", &digest, price, &salt));
        assert_ne!(
            base,
            commitment(1, "cosmwasm1alice", &[0u8; 32], price, &salt)
        );
        assert_ne!(
            base,
            commitment(1, "cosmwasm1alice", &digest, price, &[8u8; 32])
        );
        assert_ne!(
            base,
            commitment(1, "cosmwasm1alice", &digest, Some(Uint128::new(4)), &salt)
        );
        assert_eq!(
            commitment(1, "cosmwasm1alice", &digest, None, &salt),
            commitment(1, "cosmwasm1alice", &digest, Some(Uint128::zero()), &salt)
        );
    }

    #[test]
    fn commitment_test_vector_is_stable() {
        // Off-chain implementations in other languages check themselves against this vector.
        let digest = outputs_digest(&[Binary::from(vec![1, 2, 3, 4])]);
        let got = commitment(
            42,
            "wasm1provider",
            &digest,
            Some(Uint128::new(7)),
            &[0u8; 16],
        );
        let mut preimage = Vec::new();
        preimage.extend_from_slice(&42u64.to_be_bytes());
        preimage.extend_from_slice(b"wasm1provider");
        preimage.extend_from_slice(&digest);
        preimage.extend_from_slice(&7u128.to_be_bytes());
        preimage.extend_from_slice(&[0u8; 16]);
        assert_eq!(got, <[u8; 32]>::from(Sha256::digest(&preimage)));
        assert_eq!(
            hex::encode(digest),
            hex::encode(Sha256::digest([0, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]))
        );
    }
}
