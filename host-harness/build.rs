//! Builds the plugin for wasm32-wasip2 so that one `cargo test` / `cargo build` at the
//! root produces the component, and exports its path as `USERSYNC_COMPONENT`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    for p in ["plugin/src", "plugin/Cargo.toml", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=USERSYNC_PLUGIN_FEATURES");
    // A separate target dir keeps the outer build's lock out of the way.
    let target_dir = root.join("target").join("wasm");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
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
        .arg(&target_dir);
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
    println!("cargo:rustc-env=USERSYNC_COMPONENT={}", wasm.display());
}
