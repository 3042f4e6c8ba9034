//! The addon and the Godot projects the suites run in: building the library into
//! `addons/rust_websocket/`, fresh projects with the addon installed, and importing a project
//! with the README's "Using it in CI" commands, so every suite meets a fresh project exactly as
//! a user's pipeline following the README does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::godot::{judge_godot_run, Godot};
use crate::process::{
    cargo, copy, copy_dir, create_dir, fresh_dir, read, remove_dir, root, run, say, show_cmd, write,
};

/// The addon folder users copy into their project.
pub const ADDON_DIR: &str = "addons/rust_websocket";
/// Longest a Godot import may take.
pub const IMPORT_TIMEOUT: Duration = Duration::from_secs(300);
/// The README section holding the import commands, as its heading reads.
const CI_SECTION: &str = "## Using it in CI";

/// The platform part of library names in the `.gdextension`, e.g. `linux.debug.x86_64`.
pub fn library_file_name(release: bool) -> Result<String, String> {
    let profile = if release { "release" } else { "debug" };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "arm64",
        other => {
            return Err(format!(
                "no library name for architecture {other} in the .gdextension"
            ))
        }
    };
    match std::env::consts::OS {
        "linux" => Ok(format!("librust_websocket.linux.{profile}.{arch}.so")),
        "windows" => Ok(format!("rust_websocket.windows.{profile}.{arch}.dll")),
        "macos" => Ok(format!("librust_websocket.macos.{profile}.universal.dylib")),
        other => Err(format!("no library name for {other} in the .gdextension")),
    }
}

/// Builds `package` (the debug or release profile); returns the folder of its binaries.
pub fn cargo_build(package: &str, release: bool) -> Result<PathBuf, String> {
    let profile = if release { "release" } else { "debug" };
    run(cargo()
        .args(["build", "--package", package, "--profile"])
        .arg(if release { "release" } else { "dev" }))?;
    Ok(root().join("target").join(profile))
}

/// Builds the library and copies it into the addon's `bin/`. Returns the addon folder.
pub fn build_addon(release: bool) -> Result<PathBuf, String> {
    let built = cargo_build("rust_websocket", release)?.join(format!(
        "{}rust_websocket{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let addon = root().join(ADDON_DIR);
    let installed = addon.join("bin").join(library_file_name(release)?);
    create_dir(&addon.join("bin"))?;
    copy(&built, &installed)?;
    say(format!(
        "addon ready: {} ({})",
        addon.display(),
        installed.display()
    ));
    Ok(addon)
}

/// Copies the addon folder into `project/addons/`, replacing an older copy.
pub fn install_addon(addon: &Path, project: &Path) -> Result<(), String> {
    let target = project.join(ADDON_DIR);
    remove_dir(&target)?;
    copy_dir(addon, &target)
}

/// Makes `target/<folder>` a new, empty project named `title` with the addon installed.
pub fn new_project(folder: &str, title: &str, addon: &Path) -> Result<PathBuf, String> {
    let project = empty_project(folder, title)?;
    install_addon(addon, &project)?;
    Ok(project)
}

/// Makes `target/<folder>` a new, empty project named `title`.
pub fn empty_project(folder: &str, title: &str) -> Result<PathBuf, String> {
    let project = root().join("target").join(folder);
    fresh_dir(&project)?;
    write(
        &project.join("project.godot"),
        format!("config_version=5\n\n[application]\nconfig/name=\"{title}\"\n"),
    )?;
    Ok(project)
}

/// The shell commands of the first `sh` code block in the README's [`CI_SECTION`].
fn recipe() -> Result<String, String> {
    let readme = read(&root().join("README.md"))?;
    let section = readme
        .split_once(&format!("\n{CI_SECTION}\n"))
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("README.md has no `{CI_SECTION}` section"))?;
    let block = section
        .split_once("```sh\n")
        .and_then(|(before, rest)| (!before.contains("\n## ")).then_some(rest))
        .and_then(|rest| rest.split_once("```").map(|(block, _)| block))
        .ok_or_else(|| format!("README.md's `{CI_SECTION}` section has no sh code block"))?;
    Ok(block.to_owned())
}

/// A folder holding a `godot` script that starts `godot` (which may need its own loader and
/// arguments), for putting first on `PATH`.
fn godot_on_path(godot: &Godot) -> Result<PathBuf, String> {
    let folder = root().join("target").join("ci-recipe-bin");
    create_dir(&folder)?;
    let script = folder.join("godot");
    write(
        &script,
        format!("#!/bin/sh\nexec {} \"$@\"\n", show_cmd(&godot.command())),
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", script.display()))?;
    }
    Ok(folder)
}

/// Runs the README's CI commands in `project` with `godot`, and fails like a Godot run of the
/// test command does (a non-zero exit, or a fatal line in the log).
pub fn import(godot: &Godot, project: &Path) -> Result<(), String> {
    import_with_timeout(godot, project, IMPORT_TIMEOUT)
}

/// [`import`], killed after `timeout` (an emulated Godot imports far slower).
pub fn import_with_timeout(godot: &Godot, project: &Path, timeout: Duration) -> Result<(), String> {
    let recipe = recipe()?;
    let path = std::env::join_paths(std::iter::once(godot_on_path(godot)?).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|e| format!("cannot extend PATH: {e}"))?;
    let mut shell = Command::new("sh");
    shell
        .args(["-e", "-c", &recipe])
        .current_dir(project)
        .env("PATH", path);
    say(format!(
        "importing {} with the README's `{CI_SECTION}` commands",
        project.display()
    ));
    judge_godot_run(shell, timeout).map(|_| ())
}
