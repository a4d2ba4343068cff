//! Guarded migration: a contract only migrates from an older version of itself.

use cosmwasm_std::{Response, StdError, Storage};
use opengpu_types::events::actions;

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

/// The `migrate` entry point of every opengpu contract: checks the stored cw2 version belongs
/// to `name` and is not newer than `version`, then stores `version`. Answers with the `migrate`
/// action, `from_version` and `to_version`. It converts no storage.
pub fn migrate<E>(storage: &mut dyn Storage, name: &str, version: &str) -> Result<Response, E>
where
    E: From<MigrationError>,
{
    let stored = cw2::get_contract_version(storage).map_err(MigrationError::from)?;
    if stored.contract != name {
        return Err(MigrationError::WrongContract {
            stored: stored.contract,
            expected: name.to_string(),
        }
        .into());
    }
    if parse(&stored.version)? > parse(version)? {
        return Err(MigrationError::Downgrade {
            stored: stored.version,
            new: version.to_string(),
        }
        .into());
    }
    cw2::set_contract_version(storage, name, version).map_err(MigrationError::from)?;
    Ok(Response::new()
        .add_attribute("action", actions::MIGRATE)
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", version))
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
    use cosmwasm_std::Attribute;

    #[test]
    fn migrates_forward_and_refuses_downgrades_and_strangers() {
        let mut storage = MockStorage::new();
        cw2::set_contract_version(&mut storage, "crates.io:a", "0.2.0").unwrap();
        assert!(matches!(
            migrate::<MigrationError>(&mut storage, "crates.io:b", "0.3.0"),
            Err(MigrationError::WrongContract { .. })
        ));
        assert!(matches!(
            migrate::<MigrationError>(&mut storage, "crates.io:a", "0.1.9"),
            Err(MigrationError::Downgrade { .. })
        ));
        assert!(matches!(
            migrate::<MigrationError>(&mut storage, "crates.io:a", "next"),
            Err(MigrationError::BadVersion { .. })
        ));
        let res = migrate::<MigrationError>(&mut storage, "crates.io:a", "0.3.0").unwrap();
        assert_eq!(
            res.attributes,
            vec![
                Attribute::new("action", "migrate"),
                Attribute::new("from_version", "0.2.0"),
                Attribute::new("to_version", "0.3.0"),
            ]
        );
        assert_eq!(
            cw2::get_contract_version(&storage).unwrap().version,
            "0.3.0"
        );
    }
}
