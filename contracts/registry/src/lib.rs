//! opengpu provider registry: devices, prices, payout addresses, status and reputation
