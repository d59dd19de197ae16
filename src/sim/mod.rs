pub mod verilator;
