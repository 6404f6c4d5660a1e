//! Runs `../shared/dbug/check.py` over the public replay corpus with the release build of
//! `examples/dbug_replay.rs`; fails with check.py's output if any case fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the example in release mode and returns the executable's path, as reported by
/// cargo itself (so `CARGO_TARGET_DIR` and `build.target-dir` are honoured).
fn build_replay() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let manifest = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(cargo)
        .current_dir(manifest)
        .args([
            "build",
            "--release",
            "-p",
            "dbug",
            "--example",
            "dbug_replay",
            "--message-format=json",
        ])
        .output()
        .expect("running cargo build");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo build failed:\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    const KEY: &str = "\"executable\":\"";
    for line in stdout.lines() {
        if !line.contains("\"name\":\"dbug_replay\"") {
            continue;
        }
        if let Some(i) = line.find(KEY) {
            let rest = &line[i + KEY.len()..];
            if let Some(j) = rest.find('"') {
                return PathBuf::from(&rest[..j]);
            }
        }
    }
    panic!("cargo did not report the dbug_replay executable:\n{stdout}");
}

/// `../shared/dbug` relative to the repository root (`DBUG_SHARED_DIR` overrides it); for a
/// git worktree nested deeper, the nearest ancestor holding `shared/dbug/check.py`.
fn shared_dbug_dir() -> PathBuf {
    if let Ok(d) = std::env::var("DBUG_SHARED_DIR") {
        return PathBuf::from(d);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let primary = manifest.join("../../shared/dbug");
    if primary.join("check.py").is_file() {
        return primary;
    }
    manifest
        .ancestors()
        .map(|a| a.join("shared/dbug"))
        .find(|d| d.join("check.py").is_file())
        .unwrap_or(primary)
}

#[test]
fn public_replay_corpus_passes() {
    let check = shared_dbug_dir().join("check.py");
    assert!(
        check.is_file(),
        "{} not found (the shared folder must sit next to the repository)",
        check.display()
    );
    let exe = build_replay();
    let out = Command::new("python3")
        .arg(&check)
        .arg("--impl")
        .arg(&exe)
        .args(["--set", "public", "--quiet"])
        .output()
        .expect("running python3 check.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check.py reported failures:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("168 passed, 0 failed"),
        "unexpected check.py summary:\n{text}"
    );
}
