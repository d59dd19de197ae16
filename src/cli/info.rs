//! The verbs that only report on the installation: `boards` and `doctor`.

use anyhow::Result;

pub fn boards() -> Result<()> {
    use eyeriss_gen::fpga::{Board, Device, board::builtin_boards};
    println!(
        "{:<14} {:<6} {:<14} {:<10} {:>8} {:>7} {:>4}  {:<11} description",
        "board", "family", "device", "package", "clock", "baud", "leds", "program"
    );
    for name in builtin_boards() {
        let b = Board::load(name)?;
        let d = Device::load(&b.device)?;
        let program = match &b.program {
            Some(p) => match (&p.sram, &p.flash) {
                (Some(_), Some(_)) => "sram, flash",
                (Some(_), None) => "sram",
                (None, _) => "flash",
            },
            None => "-",
        };
        println!(
            "{:<14} {:<6} {:<14} {:<10} {:>4} MHz {:>7} {:>4}  {:<11} {}",
            b.name,
            b.family.as_str(),
            d.name,
            b.package,
            b.clock.mhz,
            b.uart.baud.unwrap_or(eyeriss_gen::fpga::uart::DEFAULT_BAUD),
            b.leds.as_ref().map_or(0, |l| l.pins.len()),
            program,
            b.description
        );
    }
    println!("(or give `fpga --board` a board file of your own: docs/fpga.md)");
    Ok(())
}

pub fn doctor() {
    let mut tools = vec![
        ("verilator", "--version", "apt-get install verilator"),
        ("yosys", "-V", "apt-get install yosys"),
        ("iverilog", "-V", "apt-get install iverilog"),
    ];
    tools.extend(eyeriss_gen::fpga::doctor_tools());
    for (tool, flag, hint) in tools {
        match std::process::Command::new(tool).arg(flag).output() {
            // It ran, so it is installed; some tools print their version to stderr only.
            Ok(o) => {
                let out = String::from_utf8_lossy(&o.stdout);
                let err = String::from_utf8_lossy(&o.stderr);
                let line = out
                    .lines()
                    .chain(err.lines())
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("");
                println!("ok       {tool:<20} {line}");
            }
            Err(_) => println!("missing  {tool:<20} install with: {hint}"),
        }
    }
}
