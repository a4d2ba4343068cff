//! Self-custodial keys: BIP-39 mnemonics derived along m/44'/118'/0'/0/0 to secp256k1 keys,
//! stored in a local keyring (encrypted at rest, or plain for test chains when asked).

mod keyring;
mod seal;

pub use keyring::{Backend, KeyInfo, Keyring, Passphrase};

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::AccountId;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The Cosmos Hub derivation path, which wasmd uses too.
pub const HD_PATH: &str = "m/44'/118'/0'/0/0";

/// A new random 24-word mnemonic (256 bits of entropy), like `wasmd keys add` makes.
pub fn generate_mnemonic() -> Zeroizing<String> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(entropy.as_mut_slice());
    let mnemonic = bip39::Mnemonic::from_entropy(entropy.as_slice())
        .expect("32 bytes is a valid BIP-39 entropy length");
    Zeroizing::new(mnemonic.to_string())
}

/// Collapses the whitespace of a typed or pasted phrase and lowercases it.
pub fn normalize_mnemonic(phrase: &str) -> Zeroizing<String> {
    Zeroizing::new(
        phrase
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The signing key of a BIP-39 mnemonic (any standard length) at [`HD_PATH`], empty BIP-39
/// passphrase.
pub fn derive_signing_key(phrase: &str) -> Result<SigningKey> {
    let phrase = normalize_mnemonic(phrase);
    let mnemonic =
        bip39::Mnemonic::parse_normalized(&phrase).map_err(|e| Error::Mnemonic(e.to_string()))?;
    let seed = Zeroizing::new(mnemonic.to_seed_normalized(""));
    let path: bip32::DerivationPath = HD_PATH
        .parse()
        .map_err(|e| Error::Crypto(format!("bad derivation path: {e}")))?;
    SigningKey::derive_from_path(seed.as_slice(), &path)
        .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))
}

/// The bech32 account address of a signing key.
pub fn address_of(key: &SigningKey, prefix: &str) -> Result<AccountId> {
    key.public_key()
        .account_id(prefix)
        .map_err(|e| Error::invalid("bech32 prefix", prefix, e))
}

/// The same account under another bech32 prefix.
pub fn with_prefix(address: &str, prefix: &str) -> Result<String> {
    let id: AccountId = address
        .parse()
        .map_err(|e| Error::invalid("address", address, e))?;
    if id.prefix() == prefix {
        return Ok(address.to_string());
    }
    AccountId::new(prefix, &id.to_bytes())
        .map(|id| id.to_string())
        .map_err(|e| Error::invalid("bech32 prefix", prefix, e))
}

/// Whether `s` is a bech32 account address with `prefix`.
pub fn is_address(s: &str, prefix: &str) -> bool {
    s.parse::<AccountId>().is_ok_and(|id| id.prefix() == prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    // CosmJS's documented test account (12 words).
    const COSMJS_MNEMONIC: &str =
        "enlist hip relief stomach skate base shallow young switch frequent cry park";
    const COSMJS_ADDRESS: &str = "cosmos14qemq0vw6y3gc3u3e0aty2e764u4gs5le3hada";
    // CosmJS's faucet account (24 words, the length wasmd generates), address 0 and its
    // compressed public key.
    const FAUCET_MNEMONIC: &str = "economy stock theory fatal elder harbor betray wasp final \
        emotion task crumble siren bottom lizard educate guess current outdoor pair theory \
        focus wife stone";
    const FAUCET_ADDRESS: &str = "cosmos1pkptre7fdkl6gfrzlesjjvhxhlc3r4gmmk8rs6";
    const FAUCET_PUBKEY_HEX: &str =
        "034f04181eeba35391b858633a765c4a0c189697b40d216354d50890d350c70290";

    #[test]
    fn known_mnemonics_derive_their_known_addresses() {
        let key = derive_signing_key(COSMJS_MNEMONIC).unwrap();
        assert_eq!(
            address_of(&key, "cosmos").unwrap().to_string(),
            COSMJS_ADDRESS
        );
        let key = derive_signing_key(FAUCET_MNEMONIC).unwrap();
        assert_eq!(
            address_of(&key, "cosmos").unwrap().to_string(),
            FAUCET_ADDRESS
        );
        assert_eq!(hex::encode(key.public_key().to_bytes()), FAUCET_PUBKEY_HEX);
        let wasm = with_prefix(FAUCET_ADDRESS, "wasm").unwrap();
        assert!(wasm.starts_with("wasm1"));
        assert_eq!(address_of(&key, "wasm").unwrap().to_string(), wasm);
        assert_eq!(with_prefix(&wasm, "cosmos").unwrap(), FAUCET_ADDRESS);
    }

    #[test]
    fn pasted_whitespace_and_case_do_not_matter_but_checksums_do() {
        let messy = format!(
            "  {}\n",
            COSMJS_MNEMONIC.to_uppercase().replace(' ', "  \t")
        );
        let key = derive_signing_key(&messy).unwrap();
        assert_eq!(
            address_of(&key, "cosmos").unwrap().to_string(),
            COSMJS_ADDRESS
        );
        let swapped = COSMJS_MNEMONIC.replace("enlist hip", "hip enlist");
        assert!(matches!(
            derive_signing_key(&swapped),
            Err(Error::Mnemonic(_))
        ));
        assert!(derive_signing_key("not a mnemonic").is_err());
    }

    #[test]
    fn generated_mnemonics_have_24_words_and_derive() {
        let phrase = generate_mnemonic();
        assert_eq!(phrase.split(' ').count(), 24);
        assert_ne!(*phrase, *generate_mnemonic());
        let key = derive_signing_key(&phrase).unwrap();
        assert!(is_address(
            address_of(&key, "wasm").unwrap().as_ref(),
            "wasm"
        ));
        assert!(!is_address("provider-1", "wasm"));
    }
}
