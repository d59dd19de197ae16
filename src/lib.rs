//! eyeriss-gen: generates Eyeriss-style row-stationary CNN accelerators as Verilog.

pub mod analysis;
pub mod board;
pub mod compare;
pub mod compile;
pub mod config;
pub mod emit;
pub mod fpga;
pub mod golden;
pub mod hw;
pub mod io_error;
pub mod layer;
pub mod mapper;
pub mod network;
pub mod npy;
pub mod onnx;
pub mod output;
pub mod plot;
pub mod program;
pub mod progress;
pub mod report;
pub mod run;
pub mod sim;
pub mod toml_file;
