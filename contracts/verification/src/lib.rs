//! opengpu verification: on-chain checks of revealed results
