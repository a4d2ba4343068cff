//! The local keyring under `$OPENGPU_HOME`: one JSON file per key.
//!
//! - `file` backend (default), `keyring-file/<name>.json`: name, address and derivation path
//!   in the clear; the mnemonic sealed with the keyring passphrase (see `seal`).
//! - `test` backend, `keyring-test/<name>.json`: `{"name","address","mnemonic","hd_path"}` in
//!   the clear, for localnets and CI only, as wasmd's test backend.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cosmrs::crypto::secp256k1::SigningKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::seal::{self, Sealed};
use super::{address_of, derive_signing_key, normalize_mnemonic, with_prefix, HD_PATH};
use crate::error::{Error, Result};

/// Environment variable read for the keyring passphrase before prompting.
pub const PASSPHRASE_ENV: &str = "OPENGPU_KEYRING_PASSPHRASE";
/// Shortest passphrase accepted for a new key.
pub const MIN_PASSPHRASE_LEN: usize = 8;

/// Where and how keys are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// Mnemonics encrypted with a passphrase.
    #[default]
    File,
    /// Mnemonics in plain JSON: test chains only.
    Test,
}

impl Backend {
    fn dir_name(self) -> &'static str {
        match self {
            Backend::File => "keyring-file",
            Backend::Test => "keyring-test",
        }
    }
}

/// Where the `file` backend gets its passphrase.
pub enum Passphrase {
    /// `OPENGPU_KEYRING_PASSPHRASE` when set, else a prompt on the terminal.
    EnvOrPrompt,
    Given(Zeroizing<String>),
}

impl Passphrase {
    fn obtain(&self, new_key: bool) -> Result<Zeroizing<String>> {
        let passphrase = match self {
            Passphrase::Given(p) => p.clone(),
            Passphrase::EnvOrPrompt => match std::env::var(PASSPHRASE_ENV) {
                Ok(p) => Zeroizing::new(p),
                Err(_) => prompt(new_key)?,
            },
        };
        if new_key && passphrase.chars().count() < MIN_PASSPHRASE_LEN {
            return Err(Error::Crypto(format!(
                "the keyring passphrase must have at least {MIN_PASSPHRASE_LEN} characters"
            )));
        }
        Ok(passphrase)
    }
}

fn prompt(confirm: bool) -> Result<Zeroizing<String>> {
    let first = Zeroizing::new(
        rpassword::prompt_password("Keyring passphrase: ").map_err(|_| Error::NoPassphrase)?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ")
                .map_err(|_| Error::NoPassphrase)?,
        );
        if *first != *again {
            return Err(Error::Crypto("the passphrases differ".into()));
        }
    }
    Ok(first)
}

/// What the keyring shows about a key without opening it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub address: String,
}

#[derive(Serialize, Deserialize)]
struct TestKeyFile {
    name: String,
    address: String,
    mnemonic: String,
    hd_path: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedKeyFile {
    name: String,
    address: String,
    hd_path: String,
    sealed: Sealed,
}

/// A directory of keys with one backend.
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
    passphrase: Passphrase,
}

impl Keyring {
    pub fn new(home: &Path, backend: Backend, passphrase: Passphrase) -> Self {
        Keyring {
            dir: home.join(backend.dir_name()),
            backend,
            passphrase,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every key, sorted by name.
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        if !self.dir.is_dir() {
            return Ok(Vec::new());
        }
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| Error::io(format!("listing {}", self.dir.display()), e))?;
        let mut keys = Vec::new();
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "json") {
                keys.push(self.read_info(&path)?);
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(keys)
    }

    /// The key called `name_or_address`, or the one whose address it is (any bech32 prefix).
    pub fn find(&self, name_or_address: &str) -> Result<KeyInfo> {
        validate_name(name_or_address)
            .ok()
            .map(|_| self.path(name_or_address))
            .filter(|path| path.is_file())
            .map(|path| self.read_info(&path))
            .unwrap_or_else(|| {
                self.list()?
                    .into_iter()
                    .find(|key| same_account(&key.address, name_or_address))
                    .ok_or_else(|| Error::KeyNotFound(name_or_address.to_string()))
            })
    }

    /// Stores a key for `mnemonic` under `name`; refuses an existing name or address.
    pub fn add(&self, name: &str, mnemonic: &str, prefix: &str) -> Result<KeyInfo> {
        validate_name(name)?;
        let path = self.path(name);
        if path.exists() {
            return Err(Error::KeyExists(name.to_string()));
        }
        let mnemonic = normalize_mnemonic(mnemonic);
        let key = derive_signing_key(&mnemonic)?;
        let address = address_of(&key, prefix)?.to_string();
        if let Some(twin) = self
            .list()?
            .into_iter()
            .find(|k| same_account(&k.address, &address))
        {
            return Err(Error::KeyExists(format!(
                "{name}: the same account is already stored as {:?}",
                twin.name
            )));
        }
        let json = match self.backend {
            Backend::Test => serde_json::to_vec_pretty(&TestKeyFile {
                name: name.into(),
                address: address.clone(),
                mnemonic: mnemonic.to_string(),
                hd_path: HD_PATH.into(),
            }),
            Backend::File => {
                let passphrase = self.passphrase.obtain(true)?;
                let sealed = seal::seal(
                    mnemonic.as_bytes(),
                    passphrase.as_bytes(),
                    address.as_bytes(),
                )?;
                serde_json::to_vec_pretty(&SealedKeyFile {
                    name: name.into(),
                    address: address.clone(),
                    hd_path: HD_PATH.into(),
                    sealed,
                })
            }
        }
        .map(Zeroizing::new)
        .map_err(|e| Error::json("encoding key file", e))?;
        write_private(&self.dir, &path, &json)?;
        Ok(KeyInfo {
            name: name.into(),
            address,
        })
    }

    /// Opens a key for signing (asks for the passphrase under the `file` backend).
    pub fn signing_key(&self, name_or_address: &str) -> Result<(KeyInfo, SigningKey)> {
        let info = self.find(name_or_address)?;
        let path = self.path(&info.name);
        let text = Zeroizing::new(read(&path)?);
        let mnemonic = match self.backend {
            Backend::Test => {
                let file: TestKeyFile = parse(&path, &text)?;
                check_path(&path, &file.hd_path)?;
                Zeroizing::new(file.mnemonic)
            }
            Backend::File => {
                let file: SealedKeyFile = parse(&path, &text)?;
                check_path(&path, &file.hd_path)?;
                let passphrase = self.passphrase.obtain(false)?;
                let plain =
                    seal::open(&file.sealed, passphrase.as_bytes(), file.address.as_bytes())?
                        .ok_or_else(|| Error::WrongPassphrase(path.clone()))?;
                Zeroizing::new(
                    String::from_utf8(plain.to_vec())
                        .map_err(|_| Error::WrongPassphrase(path.clone()))?,
                )
            }
        };
        let key = derive_signing_key(&mnemonic)?;
        let derived = address_of(&key, "wasm")?.to_string();
        if !same_account(&derived, &info.address) {
            return Err(Error::Crypto(format!(
                "key file {} says {} but its mnemonic derives {}",
                path.display(),
                info.address,
                derived
            )));
        }
        Ok((info, key))
    }

    /// Removes a key file.
    pub fn delete(&self, name: &str) -> Result<KeyInfo> {
        let info = self.find(name)?;
        let path = self.path(&info.name);
        fs::remove_file(&path).map_err(|e| Error::io(format!("deleting {}", path.display()), e))?;
        Ok(info)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn read_info(&self, path: &Path) -> Result<KeyInfo> {
        #[derive(Deserialize)]
        struct Head {
            name: String,
            address: String,
        }
        let text = Zeroizing::new(read(path)?);
        let head: Head = parse(path, &text)?;
        Ok(KeyInfo {
            name: head.name,
            address: head.address,
        })
    }
}

/// Key names become file names: letters, digits, `.`, `_`, `-`, up to 64, not starting with `.`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "key name",
            name,
            "use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'",
        ))
    }
}

fn same_account(a: &str, b: &str) -> bool {
    match (with_prefix(a, "x"), with_prefix(b, "x")) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn check_path(path: &Path, hd_path: &str) -> Result<()> {
    if hd_path == HD_PATH {
        Ok(())
    } else {
        Err(Error::Crypto(format!(
            "key file {} uses derivation path {hd_path}; only {HD_PATH} is supported",
            path.display()
        )))
    }
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::json(format!("parsing {}", path.display()), e))
}

/// Writes a new file readable by its owner only, in a directory only its owner may enter.
fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let ctx = |what: &str| format!("{what} {}", path.display());
    fs::create_dir_all(dir).map_err(|e| Error::io(ctx("creating the directory of"), e))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::io(ctx("creating"), e))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(ctx("writing"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNEMONIC: &str =
        "enlist hip relief stomach skate base shallow young switch frequent cry park";

    fn given(p: &str) -> Passphrase {
        Passphrase::Given(Zeroizing::new(p.into()))
    }

    #[test]
    fn file_backend_encrypts_and_needs_the_passphrase() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::new(home.path(), Backend::File, given("correct horse"));
        let info = ring.add("alice", MNEMONIC, "wasm").unwrap();
        assert!(info.address.starts_with("wasm1"));
        let text = fs::read_to_string(home.path().join("keyring-file/alice.json")).unwrap();
        assert!(!text.contains("enlist") && text.contains(&info.address));
        let (found, _key) = ring.signing_key("alice").unwrap();
        assert_eq!(found, info);
        // By address too, under another prefix.
        let (by_addr, _) = ring
            .signing_key(&with_prefix(&info.address, "cosmos").unwrap())
            .unwrap();
        assert_eq!(by_addr.name, "alice");

        let wrong = Keyring::new(home.path(), Backend::File, given("wrong horse"));
        assert!(matches!(
            wrong.signing_key("alice"),
            Err(Error::WrongPassphrase(_))
        ));
        assert!(matches!(
            ring.add("alice", MNEMONIC, "wasm"),
            Err(Error::KeyExists(_))
        ));
        assert!(matches!(
            ring.add("alice2", MNEMONIC, "wasm"),
            Err(Error::KeyExists(_))
        ));
        let short = Keyring::new(home.path(), Backend::File, given("short"));
        assert!(short
            .add("bob", &super::super::generate_mnemonic(), "wasm")
            .is_err());
    }

    #[test]
    fn test_backend_reads_the_localnet_format() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("keyring-test");
        fs::create_dir_all(&dir).unwrap();
        let key = derive_signing_key(MNEMONIC).unwrap();
        let address = address_of(&key, "wasm").unwrap().to_string();
        let file = serde_json::json!({
            "name": "client", "address": address, "mnemonic": MNEMONIC,
            "hd_path": "m/44'/118'/0'/0/0",
        });
        fs::write(dir.join("client.json"), file.to_string()).unwrap();
        let ring = Keyring::new(home.path(), Backend::Test, Passphrase::EnvOrPrompt);
        assert_eq!(
            ring.list().unwrap(),
            vec![KeyInfo {
                name: "client".into(),
                address: address.clone()
            }]
        );
        assert_eq!(ring.signing_key("client").unwrap().0.address, address);
        ring.add("other", &super::super::generate_mnemonic(), "wasm")
            .unwrap();
        assert_eq!(ring.list().unwrap().len(), 2);
        assert_eq!(ring.delete("other").unwrap().name, "other");
        assert!(matches!(ring.find("other"), Err(Error::KeyNotFound(_))));
        assert!(validate_name("../etc").is_err());
    }
}
