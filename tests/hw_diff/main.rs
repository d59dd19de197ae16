//! Block-level differential tests (issue 4): each rust-hdl model in `src/hw/` and the template's
//! Verilog, built by Verilator with the same parameters, get the same seeded random stimulus;
//! every output is compared on every cycle (the harness is `src/sim/diff.rs`).
//!
//! One file per block, named after it (`tests/hw_diff/pe.rs` tests `src/hw/pe.rs` against
//! `templates/pe.v.tera`); `harness.rs` tests the harness itself and `common.rs` holds what the
//! blocks' stimuli share. `cargo test --release --test hw_diff -- --nocapture` also prints each
//! block's cycles and the model's simulation speed; `cargo test --release --test hw_diff pe::`
//! runs one block's tests.

mod common;
mod harness;

mod controller;
mod counters;
mod counters_row;
mod drain;
mod fifo;
mod gin;
mod gin_xbus;
mod glb;
mod glb_bank;
mod gon;
mod gon_xbus;
mod ln;
mod mc;
mod pe;
mod rr_arb;
mod stream;
