//! eyeriss-gen: generates Eyeriss-style row-stationary CNN accelerators as Verilog.

pub mod config;
pub mod emit;
pub mod layer;
pub mod sim;
