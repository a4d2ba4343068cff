//! Guarded migration: a contract only migrates from an older version of itself.

use cosmwasm_std::{Attribute, StdError, Storage};

#[derive(thiserror::Error, Debug)]
pub enum MigrationError {
    #[error(transparent)]
    Std(#[from] StdError),
    #[error("cannot migrate from contract {stored} to {expected}")]
    WrongContract { stored: String, expected: String },
    #[error("cannot migrate from version {stored} to older version {new}")]
    Downgrade { stored: String, new: String },
    #[error("version {version:?} is not semver: {reason}")]
    BadVersion { version: String, reason: String },
}

/// Checks the stored cw2 version belongs to `name` and is not newer than `version`, then
/// stores `version`. Returns the response attributes.
pub fn migrate_contract_version(
    storage: &mut dyn Storage,
    name: &str,
    version: &str,
) -> Result<Vec<Attribute>, MigrationError> {
    let stored = cw2::get_contract_version(storage)?;
    if stored.contract != name {
        return Err(MigrationError::WrongContract {
            stored: stored.contract,
            expected: name.to_string(),
        });
    }
    if parse(&stored.version)? > parse(version)? {
        return Err(MigrationError::Downgrade {
            stored: stored.version,
            new: version.to_string(),
        });
    }
    cw2::set_contract_version(storage, name, version)?;
    Ok(vec![
        Attribute::new("action", "migrate"),
        Attribute::new("from_version", stored.version),
        Attribute::new("to_version", version),
    ])
}

fn parse(version: &str) -> Result<semver::Version, MigrationError> {
    version
        .parse()
        .map_err(|e: semver::Error| MigrationError::BadVersion {
            version: version.to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[test]
    fn migrates_forward_and_refuses_downgrades_and_strangers() {
        let mut storage = MockStorage::new();
        cw2::set_contract_version(&mut storage, "crates.io:a", "0.2.0").unwrap();
        assert!(matches!(
            migrate_contract_version(&mut storage, "crates.io:b", "0.3.0"),
            Err(MigrationError::WrongContract { .. })
        ));
        assert!(matches!(
            migrate_contract_version(&mut storage, "crates.io:a", "0.1.9"),
            Err(MigrationError::Downgrade { .. })
        ));
        migrate_contract_version(&mut storage, "crates.io:a", "0.3.0").unwrap();
        assert_eq!(
            cw2::get_contract_version(&storage).unwrap().version,
            "0.3.0"
        );
    }
}
