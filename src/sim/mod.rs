//! Simulation backends.

pub mod functional;
pub mod verilator;
