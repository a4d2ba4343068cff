//! Contract plumbing every opengpu contract shares: two-step ownership and guarded migration,
//! each with the one handler all four contracts call.

pub mod migration;
pub mod ownership;

pub use migration::{migrate, MigrationError};
pub use ownership::{
    assert_owner, get_ownership, initialize_owner, owner_or_sender, update_ownership,
    OwnershipError,
};
