//! Builds the plugin for wasm32-wasip2 so that one `cargo test` / `cargo build` at the
//! root produces the component. Exports its path as `USERSYNC_COMPONENT`, and the path
//! of a test-only build with deliberate faults (feature `test-faults`) as
//! `USERSYNC_FAULTY_COMPONENT`.
//!
//! `USERSYNC_PREBUILT_COMPONENT=<path>` skips building the plugin and embeds that file
//! as both components instead: for hosts that ship a component built elsewhere (or
//! signed), and for working on the host while the plugin does not build. The faulty
//! component is then the same file, so the sandbox tests of deliberate faults do not
//! apply to such a build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn build(root: &Path, target_dir: &Path, features: &[&str]) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "-p",
            "plugin",
            "--lib",
            "--target",
            "wasm32-wasip2",
            "--release",
        ])
        .arg("--target-dir")
        .arg(target_dir);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    // The outer build's flags and target dir are not the guest's.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("running cargo to build the plugin component");
    assert!(
        status.success(),
        "building the plugin for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
    );
    let wasm = target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join("plugin.wasm");
    assert!(
        wasm.exists(),
        "the component was not produced at {}",
        wasm.display()
    );
    wasm
}

/// Makes sure the active toolchain has the wasm32-wasip2 standard library. On a fresh
/// machine rustup installs the toolchain that `rust-toolchain.toml` names, but not always
/// its extra targets (rustup only does that on an auto-install), so the README's first
/// `cargo run`/`cargo test` would otherwise stop with "can't find crate for `core`".
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if libdir.as_deref().is_some_and(Path::exists) {
        return;
    }
    println!("cargo:warning=installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)");
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", "wasm32-wasip2"]);
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        cmd.args(["--toolchain", &toolchain]);
    }
    let added = cmd.status().is_ok_and(|status| status.success());
    assert!(
        added,
        "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed; \
         install it by hand (the component is built for that target)"
    );
}

/// The component named by `USERSYNC_PREBUILT_COMPONENT`, if set: it must exist.
fn prebuilt() -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed=USERSYNC_PREBUILT_COMPONENT");
    let path = PathBuf::from(std::env::var_os("USERSYNC_PREBUILT_COMPONENT")?);
    let path = std::fs::canonicalize(&path).unwrap_or_else(|e| {
        panic!(
            "USERSYNC_PREBUILT_COMPONENT={}: {e} (it names the component file to embed)",
            path.display()
        )
    });
    println!("cargo:rerun-if-changed={}", path.display());
    Some(path)
}

fn main() {
    if let Some(path) = prebuilt() {
        for var in ["USERSYNC_COMPONENT", "USERSYNC_FAULTY_COMPONENT"] {
            println!("cargo:rustc-env={var}={}", path.display());
        }
        return;
    }
    ensure_wasm_target();
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    for p in ["plugin/src", "plugin/Cargo.toml", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    // Separate target dirs keep the outer build's lock out of the way.
    let shipped = build(&root, &root.join("target").join("wasm"), &[]);
    let faulty = build(
        &root,
        &root.join("target").join("wasm-faulty"),
        &["test-faults"],
    );
    println!("cargo:rustc-env=USERSYNC_COMPONENT={}", shipped.display());
    println!(
        "cargo:rustc-env=USERSYNC_FAULTY_COMPONENT={}",
        faulty.display()
    );
}
