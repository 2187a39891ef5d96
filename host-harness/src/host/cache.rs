//! A per-user cache of compiled components, so that each `usersync` invocation does not
//! recompile the plugin. Entries are keyed by the component's SHA-256 and the engine's
//! compatibility hash, and live in a directory only the user can access
//! (`$USERSYNC_CACHE_DIR`, else `~/.cache/usersync`); without one, nothing is cached.

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use wasmtime::Engine;
use wasmtime::component::Component;

fn dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("USERSYNC_CACHE_DIR") {
        Some(d) if d.is_empty() => return None,
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".cache")
            .join("usersync"),
    };
    std::fs::create_dir_all(&dir).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok()?;
    }
    Some(dir)
}

/// Compile `bytes`, or load the compiled form from the cache.
pub fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    let Some(dir) = dir() else {
        return Component::new(engine, bytes);
    };
    let mut compat = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("{hex}-{:016x}.cwasm", compat.finish()));
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` below, in a directory
        // only this user can write, under a name that pins the input and the engine.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(c);
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Ok(serialized) = component.serialize() {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, serialized).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(component)
}
