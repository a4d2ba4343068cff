//! Execute handlers, one module per stage of a task's life.

pub mod auction;
pub mod close;
pub mod config;
pub mod ibc;
pub mod payment;
pub mod prune;
pub mod publish;
pub mod submit;

mod consensus;
mod forfeit;
mod settle;
