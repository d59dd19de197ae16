//! eyeriss-gen: generates Eyeriss-style row-stationary CNN accelerators as Verilog,
//! maps convolution layers onto them and checks them bit-exactly in simulation.

pub mod config;
pub mod emit;
pub mod golden;
pub mod layer;
pub mod mapper;
pub mod npy;
pub mod program;
pub mod sim;
