//! opengpu staking vault: bonds, unbonding claims, per-task collateral and slashing
