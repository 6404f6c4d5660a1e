//! The build script of the C example plugins (`crashme_c`, `udf_example`): builds
//! `c/<package>.c` into `$OUT_DIR/lib<package>.so` with the system C compiler (`$CC`,
//! else `cc`), `-g` so crash reports resolve to source lines. Each package names this
//! file with `build = "../build_c_plugin.rs"`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let include = manifest.join("../../../server/plugin-api/include");
    let name = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let src = manifest.join(format!("c/{name}.c"));
    let lib = out.join(format!("lib{name}.so"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    println!("cargo:rerun-if-changed={}", src.display());
    println!(
        "cargo:rerun-if-changed={}",
        include.join("minnow_plugin.h").display()
    );
    println!("cargo:rerun-if-env-changed=CC");
    let status = Command::new(&cc)
        .args([
            "-shared", "-fPIC", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-std=c11",
        ])
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&lib)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "`{cc}` failed to build {}", src.display());
}
