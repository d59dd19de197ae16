//! The FPGA board top in Verilator, reached only through its UART pins (`sim/uart_harness.cpp`):
//! a layer runs bit-exactly; the host, sending as fast as its credits allow while the
//! accelerator's output waits on the UART, loses nothing; a host that ignores the credits, and a
//! framing error, are reported in the status byte (and on the error LED); a break resets the
//! board. The LED module alone runs in Icarus Verilog at a tiny clock, to time its heartbeat
//! and activity stretchers to the cycle.
//!
//! Every test uses 4 clocks per bit (`SIM_DIVISOR`) and `configs/small.toml` (one build, a few
//! seconds of simulation each), except one on the ECP5 form of `configs/ecp5_small.toml`, the
//! design as the ULX3S runs it.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::fpga::uart::{
    LED_ERROR, LED_RESET, LED_RX, LED_TX, RX_FIFO_BYTES, SIM_DIVISOR, STATUS_FRAMING,
    STATUS_OVERFLOW, TopParams,
};
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::program::{self, Cmd, NUM_COUNTERS};
use eyeriss_gen::sim::verilator::VerilatorSim;
use eyeriss_gen::sim::{RunOpts, SimError, UartFaults};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn small() -> ArchConfig {
    ArchConfig::load(&root().join("configs/small.toml")).expect("config loads")
}

fn sim() -> &'static VerilatorSim {
    static SIM: OnceLock<VerilatorSim> = OnceLock::new();
    SIM.get_or_init(|| {
        VerilatorSim::builder(&small())
            .uart(SIM_DIVISOR)
            .build()
            .expect("build")
    })
}

const WORDS: u32 = 96;
const MARK: u64 = 0x00C0_FFEE;

/// Two LOAD + STORE rounds of `WORDS` distinct words each, counters, a MARK: every STORE
/// holds the controller on its output for far longer than the host needs to fill the receive
/// FIFO with the next LOAD.
fn load_store_program() -> (Vec<u64>, Vec<u64>) {
    let data = |round: u64| -> Vec<u64> {
        (0..u64::from(WORDS))
            .map(|k| (round << 60) ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect()
    };
    let (a, b) = (data(1), data(2));
    let cmds = [
        Cmd::ClearCounters,
        Cmd::Load {
            addr: 0,
            words: a.clone(),
        },
        Cmd::Store {
            addr: 0,
            count: WORDS,
            relu: false,
        },
        Cmd::Load {
            addr: 512,
            words: b.clone(),
        },
        Cmd::Store {
            addr: 512,
            count: WORDS,
            relu: false,
        },
        Cmd::ReadCounters,
        Cmd::Mark(MARK),
    ];
    let prog = program::encode(&cmds);
    let mut want = vec![(0x05 << 56) | u64::from(WORDS)];
    want.extend(&a);
    want.push((0x05 << 56) | u64::from(WORDS));
    want.extend(&b);
    (prog, want)
}

#[test]
fn a_layer_is_bit_exact_through_the_uart() {
    let cfg = small();
    let l = ConvLayer::load(&root().join("layers/stride2_pad1.toml")).unwrap();
    for stall_in in [0, 30] {
        let opts = RunOpts {
            stall_in,
            ..RunOpts::default()
        };
        let r = common::run_checked(&cfg, sim(), &l, &opts);
        let link = r.stats.link.as_ref().expect("UART runs report the link");
        assert_eq!(r.stats.backend, "verilator-uart");
        assert_eq!(link.status, 0);
        assert_eq!(link.bytes_to_board, 8 * r.compiled.words.len() as u64);
        assert!(link.max_credits <= u64::from(RX_FIFO_BYTES / 8));
        // The activity LEDs lit, the error LED never did; reset showed at the start only.
        let leds = link.leds.expect("the harness reports the LEDs");
        for (what, bit) in [("rx", LED_RX), ("tx", LED_TX), ("reset", LED_RESET)] {
            assert!(
                leds.seen & (1 << bit) != 0,
                "{what} LED never lit: {leds:?}"
            );
        }
        assert_eq!(leds.seen & (1 << LED_ERROR), 0, "{leds:?}");
        assert_eq!(leds.at_end & (1 << LED_RESET), 0, "{leds:?}");
        eprintln!(
            "stall_in {stall_in}: {} cycles, {} words in, {} bytes back, {} credit frames",
            r.stats.harness_cycles,
            r.compiled.words.len(),
            link.bytes_from_board,
            link.credit_frames
        );
    }
}

/// The design as it goes onto the ULX3S: the board top with the ECP5 form of the multiply
/// pipeline (MULT18X18D models, `configs/ecp5_small.toml`), still bit-exact through the UART.
#[test]
fn the_ecp5_board_top_is_bit_exact_through_the_uart() {
    let cfg = ArchConfig::load(&root().join("configs/ecp5_small.toml")).expect("config loads");
    let sim = VerilatorSim::builder(&cfg)
        .uart(SIM_DIVISOR)
        .ecp5()
        .build()
        .expect("build");
    let l = ConvLayer::load(&root().join("layers/kernel3x5.toml")).unwrap();
    let r = common::run_checked(&cfg, &sim, &l, &RunOpts::default());
    assert_eq!(r.stats.backend, "verilator-uart");
    assert_eq!(r.stats.link.as_ref().map(|l| l.status), Some(0));
}

#[test]
fn nothing_is_lost_when_the_host_sends_as_fast_as_its_credits_allow() {
    let (prog, want) = load_store_program();
    let r = sim().run(&prog, &RunOpts::default()).expect("run");
    let link = r.link.expect("link stats");
    assert_eq!(
        r.words[..want.len()],
        want[..],
        "the stored words come back"
    );
    let counters = &r.words[want.len() + 1..want.len() + 1 + NUM_COUNTERS];
    assert_eq!(
        *r.words.last().unwrap(),
        program::encode(&[Cmd::Mark(MARK)])[0]
    );
    assert_eq!(r.words.len(), want.len() + 1 + NUM_COUNTERS + 1);
    // Both sides really were held back: the controller waited for the UART to take its output,
    // and the host ran out of credits while it did.
    assert!(counters[20] > 0, "output waits: {}", counters[20]);
    assert!(link.credit_wait_cycles > 0, "{link:?}");
    assert_eq!(link.max_credits, u64::from(RX_FIFO_BYTES / 8));
    assert_eq!(link.status, 0);
    // One credit per word sent; never more than the FIFO's worth beyond the words taken.
    let n = prog.len() as u64;
    assert!(
        link.credits >= n && link.credits <= n + u64::from(RX_FIFO_BYTES / 8),
        "{link:?}"
    );
}

#[test]
fn a_host_that_ignores_the_credits_sees_an_overflow() {
    let (prog, _) = load_store_program();
    let opts = RunOpts {
        uart: UartFaults {
            ignore_credits: true,
            ..UartFaults::default()
        },
        ..RunOpts::default()
    };
    match sim().run(&prog, &opts) {
        Err(SimError::Link { link, detail, .. }) => {
            assert_eq!(link.status & STATUS_OVERFLOW, STATUS_OVERFLOW, "{detail}");
            assert!(detail.contains("overflow"), "{detail}");
        }
        other => panic!("expected an overflow report, got {other:?}"),
    }
}

#[test]
fn a_framing_error_is_reported_and_a_break_recovers() {
    let (prog, want) = load_store_program();
    let bad = RunOpts {
        uart: UartFaults {
            bad_stop: Some(21),
            ..UartFaults::default()
        },
        ..RunOpts::default()
    };
    match sim().run(&prog, &bad) {
        Err(SimError::Link { link, detail, .. }) => {
            assert_eq!(link.status, STATUS_FRAMING, "{detail}");
            assert!(detail.contains("framing"), "{detail}");
            let leds = link.leds.expect("LEDs");
            assert!(leds.at_end & (1 << LED_ERROR) != 0, "error LED: {leds:?}");
        }
        other => panic!("expected a framing error report, got {other:?}"),
    }
    let recover = RunOpts {
        uart: UartFaults {
            bad_stop: Some(21),
            break_after_error: true,
            ..UartFaults::default()
        },
        ..RunOpts::default()
    };
    let r = sim().run(&prog, &recover).expect("runs after the break");
    let link = r.link.unwrap();
    assert_eq!((link.breaks, link.status), (1, STATUS_FRAMING));
    assert_eq!(r.words[..want.len()], want[..]);
    // The error lit the LED; the break's reset put it out again.
    let leds = link.leds.expect("LEDs");
    assert!(leds.seen & (1 << LED_ERROR) != 0, "{leds:?}");
    assert_eq!(leds.at_end & (1 << LED_ERROR), 0, "{leds:?}");
}

/// Drives eyeriss_board_leds at CLK_HZ = 320 (a tick every 10 cycles) and prints what each
/// LED did: the heartbeat's period and on-time, how long one low cycle of rx or tx keeps its
/// LED on, and the error and reset LEDs' delay.
const LEDS_TB: &str = r#"
`timescale 1ns/1ns
module tb;
    reg clk = 0, rst = 1, error = 0, rx_line = 1, tx = 1;
    wire [4:0] led;
    wire [1:0] led_n;
    eyeriss_board_leds #(.CLK_HZ(320), .LEDS(5), .ACTIVE_LOW(0)) dut (
        .clk(clk), .rst(rst), .error(error), .rx_line(rx_line), .tx(tx), .led(led));
    eyeriss_board_leds #(.CLK_HZ(320), .LEDS(2), .ACTIVE_LOW(1)) dut_n (
        .clk(clk), .rst(rst), .error(error), .rx_line(rx_line), .tx(tx), .led(led_n));
    always #1 clk = !clk;
    integer cyc = 0, rise = -1, fall = -1, period = -1, high = -1, inverted = 1;
    integer rx_on = 0, tx_on = 0, err_at = -1, err_delay = -1, rst_off = -1;
    always @(posedge clk) begin
        cyc <= cyc + 1;
        if (cyc > 2 && led_n !== ~led[1:0]) inverted = 0;
        if (led[0] && rise >= 0 && fall > rise && period < 0) period = cyc - rise;
        if (led[0] && (rise < 0 || fall > rise)) rise = cyc;
        if (!led[0] && rise >= 0 && fall < rise) begin fall = cyc; high = cyc - rise; end
        if (led[2]) rx_on = rx_on + 1;
        if (led[3]) tx_on = tx_on + 1;
        if (error && err_at < 0) err_at = cyc;
        if (led[1] && err_delay < 0) err_delay = cyc - err_at;
        if (!led[4] && rst_off < 0) rst_off = cyc;
    end
    initial begin
        repeat (5) @(posedge clk);
        rst <= 0;
        repeat (995) @(posedge clk);
        rx_line <= 0; @(posedge clk); rx_line <= 1;
        repeat (499) @(posedge clk);
        tx <= 0; @(posedge clk); tx <= 1;
        repeat (499) @(posedge clk);
        error <= 1;
        repeat (400) @(posedge clk);
        $display("period=%0d high=%0d rx_on=%0d tx_on=%0d err_delay=%0d rst_off=%0d inverted=%0d",
                 period, high, rx_on, tx_on, err_delay, rst_off, inverted);
        $finish;
    end
endmodule
"#;

#[test]
fn the_leds_beat_once_a_second_and_hold_activity_for_two_to_three_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let files = eyeriss_gen::fpga::uart::render(&small(), &TopParams::for_sim(SIM_DIVISOR))
        .expect("render");
    let leds = files
        .iter()
        .find(|f| f.path == "rtl/eyeriss_board_leds.v")
        .expect("the sim top has LEDs");
    std::fs::write(dir.path().join("leds.v"), &leds.contents).unwrap();
    std::fs::write(dir.path().join("tb.v"), LEDS_TB).unwrap();
    let bin = dir.path().join("tb");
    let built = std::process::Command::new("iverilog")
        .args(["-g2005", "-o"])
        .arg(&bin)
        .arg(dir.path().join("tb.v"))
        .arg(dir.path().join("leds.v"))
        .output()
        .expect("iverilog runs (apt-get install iverilog)");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let run = std::process::Command::new("vvp")
        .arg(&bin)
        .output()
        .expect("vvp runs");
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    let val = |k: &str| -> i64 {
        out.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} in {out}"))
            .parse()
            .unwrap()
    };
    let (clk_hz, tick) = (320, 10);
    // One beat per second, on half of it.
    assert_eq!(val("period"), clk_hz, "{out}");
    assert_eq!(val("high"), clk_hz / 2, "{out}");
    // One low cycle keeps an activity LED on for 2 to 3 ticks.
    for k in ["rx_on", "tx_on"] {
        let on = val(k);
        assert!((2 * tick..=3 * tick + 1).contains(&on), "{k} = {on}: {out}");
    }
    // The error LED follows the bridge's error one register later; reset shows while held.
    assert_eq!(val("err_delay"), 1, "{out}");
    assert!((5..=7).contains(&val("rst_off")), "{out}");
    assert_eq!(val("inverted"), 1, "active-low LEDs are the inverse: {out}");
    eprintln!("{}", out.trim());
}
