//! The README says what the tree holds: its counts and tables are checked against the tree,
//! so that a new layer, test file or verb cannot leave it stale.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.ends_with(ext).then_some(name)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_layer_count_is_the_number_of_layer_files() {
    let n = files("layers", ".toml").len();
    let text = readme();
    assert!(
        text.contains(&format!("`layers/` has {n} examples")),
        "README must say `layers/` has {n} examples"
    );
}

#[test]
fn every_test_file_is_in_the_test_table() {
    let text = readme();
    for f in files("tests", ".rs") {
        assert!(
            text.contains(&format!("| `tests/{f}` |")),
            "tests/{f} has no row in the README's test table"
        );
    }
}

/// A test crate in a directory (`tests/<dir>/main.rs`) has a row `tests/<dir>/`.
#[test]
fn every_test_directory_is_in_the_test_table() {
    let text = readme();
    for e in std::fs::read_dir(root().join("tests")).unwrap() {
        let p = e.unwrap().path();
        if p.join("main.rs").is_file() {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                text.contains(&format!("| `tests/{name}/` |")),
                "tests/{name}/ has no row in the README's test table"
            );
        }
    }
}

#[test]
fn every_verb_is_in_the_command_table() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    // clap lists the verbs under "Commands:", one per line, until a blank line.
    let verbs: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|v| *v != "help")
        .collect();
    assert!(verbs.len() >= 8, "{help}");
    let text = readme();
    for v in verbs {
        assert!(
            text.contains(&format!("| `{v}")),
            "the verb {v} has no row in the README's command table"
        );
    }
}
