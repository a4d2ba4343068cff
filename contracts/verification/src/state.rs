use cw_storage_plus::Item;
use opengpu_types::verification::VerificationConfig;

pub const CONFIG: Item<VerificationConfig> = Item::new("cfg");
