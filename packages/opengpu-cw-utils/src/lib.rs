//! Contract plumbing every opengpu contract shares.

pub mod migration;
pub mod ownership;

pub use migration::{migrate_contract_version, MigrationError};
pub use ownership::{
    assert_owner, get_ownership, initialize_owner, owner_or_sender, update_ownership, Ownership,
    OwnershipAction, OwnershipError,
};
