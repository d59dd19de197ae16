//! Loading a bitstream: `fpga --dry-run [--program]` prints the flow's and the loader's
//! commands for every shipped board and writes nothing; `program` with no board attached
//! fails in one line naming the board; the board file's `[program]` table is checked; the
//! loader's output is sorted into "no board", "no access" and other failures.
//!
//! No board is attached here, so nothing is ever loaded: the no-board test runs
//! openFPGALoader for real (`.ci/run` installs it) and expects it to find nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eyeriss_gen::fpga::load::{self, Loader, Memory};
use eyeriss_gen::fpga::{Board, FpgaError, board::builtin_boards};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A config that fits `board` (the resource check runs in a dry run too).
fn config_for(board: &Board) -> PathBuf {
    let name = match board.family {
        eyeriss_gen::fpga::Family::Ice40 => "ice40_1x1.toml",
        eyeriss_gen::fpga::Family::Ecp5 => "ecp5_small.toml",
    };
    root().join("configs").join(name)
}

#[test]
fn a_dry_run_prints_every_boards_flow_and_loader_command_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for name in builtin_boards() {
        let board = Board::load(name).unwrap();
        let cfg = config_for(&board);
        let cfg_s = cfg.to_str().unwrap();
        let p = board
            .program
            .as_ref()
            .expect("every shipped board can be loaded");
        // The default memory is SRAM where the loader reaches it; --flash asks for flash.
        for flash in [false, true] {
            let mut args = vec![
                "fpga",
                "--config",
                cfg_s,
                "--board",
                name,
                "--dry-run",
                "--program",
                // The 3 x 4 ECP5 config is over the 25F's LUTs; the check is not what this
                // test is about.
                "--ignore-fit",
            ];
            if flash {
                args.push("--flash");
            }
            let out = run_in(dir.path(), &args);
            let (so, se) = (text(&out.stdout), text(&out.stderr));
            if flash && p.flash.is_none() {
                assert!(!out.status.success(), "{name} --flash: {so}");
                assert!(se.contains("flash") && se.lines().count() == 1, "{se}");
                continue;
            }
            assert!(out.status.success(), "{name}: {se}");
            let lines: Vec<&str> = so.lines().filter(|l| !l.starts_with('#')).collect();
            let want_out = format!("fpga_out/{}-{name}", cfg_stem(&cfg));
            assert!(lines[0].starts_with(&format!("cd {want_out} ")), "{so}");
            let chain = eyeriss_gen::fpga::Toolchain::load(board.family).unwrap();
            for (step, line) in chain.step.iter().zip(&lines[1..]) {
                assert!(line.starts_with(&format!("{} ", step.program)), "{so}");
            }
            let mem_args = match (flash, &p.sram, &p.flash) {
                (false, Some(a), _) => a,
                (_, _, Some(a)) => a,
                _ => unreachable!(),
            };
            let bit = format!("{}-{name}.{}", cfg_stem(&cfg), chain.bitstream_ext);
            let want: Vec<String> = std::iter::once("openFPGALoader".to_string())
                .chain(mem_args.iter().map(|a| a.replace("{bitstream}", &bit)))
                .collect();
            assert_eq!(lines.last().unwrap(), &want.join(" "), "{name}: {so}");
            assert_eq!(lines.len(), chain.step.len() + 2, "{so}");
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a dry run writes nothing"
    );
}

fn cfg_stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn ulx3s_loads_sram_by_default_and_flash_when_asked_and_the_ice40_boards_only_flash() {
    let bit = Path::new("fpga_out/x-ulx3s/x-ulx3s.bit");
    let u = Board::load("ulx3s").unwrap();
    let sram = load::command(&u, bit, None).unwrap();
    assert_eq!(sram.memory, Memory::Sram);
    assert_eq!(
        sram.shell(),
        "openFPGALoader --board ulx3s fpga_out/x-ulx3s/x-ulx3s.bit"
    );
    let flash = load::command(&u, bit, Some(Memory::Flash)).unwrap();
    assert!(flash.args.contains(&"--write-flash".to_string()));
    for ice in ["icebreaker", "hx8k_breakout"] {
        let b = Board::load(ice).unwrap();
        let c = load::command(&b, Path::new("a.bin"), None).unwrap();
        assert_eq!(c.memory, Memory::Flash, "{ice}");
        let e = load::command(&b, Path::new("a.bin"), Some(Memory::Sram)).unwrap_err();
        assert!(e.to_string().contains("SRAM"), "{e}");
        // An ECP5 bitstream is not an iCE40 one.
        let e = load::command(&b, Path::new("a.bit"), None).unwrap_err();
        assert!(e.to_string().contains(".bin"), "{e}");
    }
}

#[test]
fn program_with_no_board_attached_fails_in_one_line_naming_the_board() {
    let dir = tempfile::tempdir().unwrap();
    for (board, file) in [
        ("ulx3s", "x.bit"),
        ("icebreaker", "x.bin"),
        ("orangecrab", "x.bit"),
    ] {
        std::fs::write(dir.path().join(file), b"not a real bitstream").unwrap();
        let out = run_in(
            dir.path(),
            &["program", "--board", board, "--bitstream", file],
        );
        let se = text(&out.stderr);
        assert!(!out.status.success(), "{board}: {}", text(&out.stdout));
        assert_eq!(se.trim_end().lines().count(), 1, "one line: {se}");
        if eyeriss_gen::fpga::find_program("openFPGALoader").is_some() {
            assert!(
                se.starts_with(&format!(
                    "error: no {board} board answered (openFPGALoader: "
                )),
                "{se}"
            );
            assert!(se.contains("--scan-usb"), "{se}");
        } else {
            eprintln!("note: openFPGALoader is not installed; checking its install hint");
            assert!(se.contains("apt-get install openfpgaloader"), "{se}");
        }
    }
    let oc = text(
        &run_in(
            dir.path(),
            &["program", "--board", "orangecrab", "--bitstream", "x.bit"],
        )
        .stderr,
    );
    if eyeriss_gen::fpga::find_program("openFPGALoader").is_some() {
        assert!(oc.contains("DFU bootloader"), "the board's hint: {oc}");
    }
}

#[test]
fn program_reads_an_fpga_directory_and_refuses_what_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fpga_out/small-ulx3s");
    std::fs::create_dir_all(&out).unwrap();
    let report = |bit: &str| {
        format!(
            r#"{{"config": "small", "config_hash": "0123456789abcdef", "board": "ulx3s", "bitstream": "{bit}"}}"#
        )
    };
    std::fs::write(out.join("report.json"), report("small-ulx3s.bit")).unwrap();
    let o = run_in(
        dir.path(),
        &["program", "fpga_out/small-ulx3s", "--dry-run"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        "openFPGALoader --board ulx3s fpga_out/small-ulx3s/small-ulx3s.bit"
    );
    let o = run_in(
        dir.path(),
        &["program", "fpga_out/small-ulx3s", "--flash", "--dry-run"],
    );
    assert!(text(&o.stdout).contains("--write-flash"));
    // Without the bitstream there is nothing to load, whether or not a board is attached.
    let o = run_in(dir.path(), &["program", "fpga_out/small-ulx3s"]);
    let se = text(&o.stderr);
    assert!(
        se.contains("no bitstream") && se.contains("eyeriss-gen fpga"),
        "{se}"
    );
    // A report naming a file outside its directory is not followed.
    std::fs::write(out.join("report.json"), report("../../x.bit")).unwrap();
    let o = run_in(
        dir.path(),
        &["program", "fpga_out/small-ulx3s", "--dry-run"],
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("bitstream"), "{}", text(&o.stderr));
    // A directory `fpga` did not write.
    let o = run_in(dir.path(), &["program", "fpga_out", "--dry-run"]);
    let se = text(&o.stderr);
    assert!(!o.status.success() && se.contains("report.json"), "{se}");
    // Neither a directory nor a bitstream.
    let o = run_in(dir.path(), &["program", "--board", "ulx3s"]);
    assert!(
        text(&o.stderr).contains("--bitstream"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_board_files_program_table_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("constraints/icebreaker.pcf"),
        dir.path().join("icebreaker.pcf"),
    )
    .unwrap();
    let base = std::fs::read_to_string(root().join("constraints/icebreaker.toml")).unwrap();
    let without: String = base
        .split("[program]")
        .next()
        .unwrap()
        .replace("name = \"icebreaker\"", "name = \"mine\"");
    let write = |extra: &str| {
        let p = dir.path().join("mine.toml");
        std::fs::write(&p, format!("{without}{extra}")).unwrap();
        Board::load(p.to_str().unwrap())
    };
    let b = write("").unwrap();
    let e = load::command(&b, Path::new("a.bin"), None).unwrap_err();
    assert!(e.to_string().contains("no [program] table"), "{e}");
    let e = write("[program]\nflash = [\"-b\", \"ice40_generic\"]\n").unwrap_err();
    assert!(e.to_string().contains("{bitstream}"), "{e}");
    let e = write("[program]\n").unwrap_err();
    assert!(e.to_string().contains("neither"), "{e}");
    let e = write("[program]\nflash = [\"{bitstream}\"]\nsram_args = []\n").unwrap_err();
    assert!(e.to_string().contains("sram_args"), "{e}");
    let e = write("[program]\nflash = [\"{bitstrem}\", \"{bitstream}\"]\n").unwrap();
    let e = load::command(&e, Path::new("a.bin"), None).unwrap_err();
    assert!(e.to_string().contains("{bitstrem}"), "{e}");
}

#[test]
fn the_loaders_output_is_sorted_into_no_board_no_access_and_the_rest() {
    let loader = Loader::load().unwrap();
    let b = Board::load("ulx3s").unwrap();
    let cmd = load::command(&b, Path::new("a.bit"), None).unwrap();
    let kind = |out: &str| load::failure(&cmd, &loader, "exit status: 1", out);
    match kind(
        "Open file DONE\nunable to open ftdi device: -3 (device not found)\nJTAG init failed with: unable to open ftdi device\n",
    ) {
        FpgaError::NoBoard { said, .. } => {
            assert_eq!(said, "unable to open ftdi device: -3 (device not found)")
        }
        e => panic!("{e}"),
    }
    match kind("unable to open ftdi device: -4 (usb_open() failed)\n") {
        FpgaError::LoadNoAccess { said, .. } => assert!(said.contains("usb_open")),
        e => panic!("{e}"),
    }
    // A progress bar's last state is what a line says; the last line names the failure.
    match kind(
        "Load SRAM: [====    ] 40.00%\rLoad SRAM: [========] 100.00%\nDone\nerror: wrong idcode 0x41113043\n",
    ) {
        FpgaError::LoadFailed { said, status, .. } => {
            assert_eq!(said, "error: wrong idcode 0x41113043");
            assert_eq!(status, "exit status: 1");
        }
        e => panic!("{e}"),
    }
    for e in [kind("x\ndevice not found\n"), kind("")] {
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
}
