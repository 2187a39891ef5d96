//! Finds headless Chromium and chromedriver for the browser tests, and on a fresh Debian
//! machine installs them, so that the README's `cargo test` needs no manual step.
//!
//! The install runs only where it can work unattended: as root with `apt-get` on the
//! PATH, and not when `USERSYNC_NO_INSTALL` is set. Elsewhere a missing browser fails the
//! test with the exact packages and command to install. Several browser tests may ask
//! at once: one install runs, under a process-wide lock and a lock file across processes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The Debian packages that bring `/usr/bin/chromium` and `/usr/bin/chromedriver`.
pub const PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];

/// Where the browser test looks, besides the PATH.
const EXTRA_DIRS: [&str; 2] = ["/usr/bin", "/usr/lib/chromium"];

/// Paths of a Chromium binary and its WebDriver.
#[derive(Clone, Debug)]
pub struct Browser {
    /// The browser binary.
    pub chromium: PathBuf,
    /// The matching chromedriver.
    pub chromedriver: PathBuf,
}

/// Chromium and chromedriver, installing them first when they are missing and this
/// machine allows it; panics with what to do otherwise.
pub fn locate() -> Browser {
    static INSTALL: Mutex<()> = Mutex::new(());
    if let Some(found) = find() {
        return found;
    }
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = find() {
        return found;
    }
    if let Err(why) = install() {
        panic!(
            "headless Chromium is needed for the browser tests and is not installed ({why}): \
             install the Debian packages `{}` (`apt-get install -y {}`; .ci/run does)",
            PACKAGES.join("` and `"),
            PACKAGES.join(" ")
        );
    }
    find().expect("chromium and chromedriver after installing them")
}

fn find() -> Option<Browser> {
    Some(Browser {
        chromium: find_program(&["chromium", "chromium-browser"])?,
        chromedriver: find_program(&["chromedriver"])?,
    })
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .collect();
    names
        .iter()
        .find_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()))
}

/// `apt-get install` of [`PACKAGES`], serialized across test processes by `flock`.
fn install() -> Result<(), String> {
    if std::env::var_os("USERSYNC_NO_INSTALL").is_some() {
        return Err("USERSYNC_NO_INSTALL is set".into());
    }
    if find_program(&["apt-get"]).is_none() {
        return Err("no apt-get on this machine".into());
    }
    if !is_root() {
        return Err("installing needs root".into());
    }
    eprintln!("installing {} for the browser tests", PACKAGES.join(" "));
    let script = format!(
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends {}",
        PACKAGES.join(" ")
    );
    let status = Command::new("flock")
        .args(["/tmp/usersync-chromium-install.lock", "sh", "-c", &script])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("running apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("apt-get install failed ({status})"))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}
