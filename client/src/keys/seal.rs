//! Encryption at rest for the `file` keyring: a key derived from the passphrase with Argon2id
//! seals the mnemonic with XChaCha20-Poly1305. The parameters travel with the ciphertext, so
//! they can be raised later without breaking old files.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Argon2id cost in KiB of memory, iterations and lanes: OWASP's recommended minimum.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// A sealed secret and everything needed, with the passphrase, to open it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// Always `xchacha20poly1305`.
    pub cipher: String,
    /// Always `argon2id`.
    pub kdf: String,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    /// Hex, 16 bytes.
    pub salt: String,
    /// Hex, 24 bytes.
    pub nonce: String,
    /// Hex: the sealed secret followed by its 16-byte tag.
    pub ciphertext: String,
}

const CIPHER: &str = "xchacha20poly1305";
const KDF: &str = "argon2id";

/// Seals `secret` under `passphrase`; `aad` (e.g. the address) is authenticated, not hidden.
pub fn seal(secret: &[u8], passphrase: &[u8], aad: &[u8]) -> Result<Sealed> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let key = derive_key(passphrase, &salt, M_COST_KIB, T_COST, P_COST)?;
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    let ciphertext = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad })
        .map_err(|_| Error::Crypto("encryption failed".into()))?;
    Ok(Sealed {
        cipher: CIPHER.into(),
        kdf: KDF.into(),
        m_cost_kib: M_COST_KIB,
        t_cost: T_COST,
        p_cost: P_COST,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// Opens a sealed secret. `None` when the passphrase is wrong or the data was altered.
pub fn open(sealed: &Sealed, passphrase: &[u8], aad: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if sealed.cipher != CIPHER || sealed.kdf != KDF {
        return Err(Error::Crypto(format!(
            "unsupported key encryption {}/{}",
            sealed.kdf, sealed.cipher
        )));
    }
    let bad = |what: &str| Error::Crypto(format!("key file has a malformed {what}"));
    let salt = hex::decode(&sealed.salt).map_err(|_| bad("salt"))?;
    let nonce = hex::decode(&sealed.nonce).map_err(|_| bad("nonce"))?;
    let ciphertext = hex::decode(&sealed.ciphertext).map_err(|_| bad("ciphertext"))?;
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| bad("nonce"))?;
    let key = derive_key(
        passphrase,
        &salt,
        sealed.m_cost_kib,
        sealed.t_cost,
        sealed.p_cost,
    )?;
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    Ok(cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new))
}

fn derive_key(
    passphrase: &[u8],
    salt: &[u8],
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(m_cost, t_cost, p_cost, Some(32))
        .map_err(|e| Error::Crypto(format!("bad key derivation parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, key.as_mut_slice())
        .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_passphrase_or_aad() {
        let sealed = seal(b"secret words", b"correct horse", b"wasm1addr").unwrap();
        assert!(!sealed.ciphertext.contains(&hex::encode(b"secret words")));
        let opened = open(&sealed, b"correct horse", b"wasm1addr")
            .unwrap()
            .unwrap();
        assert_eq!(opened.as_slice(), b"secret words");
        assert!(open(&sealed, b"wrong horse", b"wasm1addr")
            .unwrap()
            .is_none());
        assert!(open(&sealed, b"correct horse", b"wasm1other")
            .unwrap()
            .is_none());
        let mut tampered = sealed.clone();
        tampered.ciphertext.replace_range(0..2, "00");
        if tampered != sealed {
            assert!(open(&tampered, b"correct horse", b"wasm1addr")
                .unwrap()
                .is_none());
        }
    }

    #[test]
    fn each_seal_uses_fresh_salt_and_nonce() {
        let a = seal(b"x", b"pw", b"").unwrap();
        let b = seal(b"x", b"pw", b"").unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.nonce, b.nonce);
    }
}
