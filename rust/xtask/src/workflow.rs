//! Checks of the release workflow (`.github/workflows/release.yml`), which only runs on GitHub:
//! it matches GitHub's workflow schema (`check-jsonschema`, installed into `target/venv`), and it
//! builds exactly the libraries the `.gdextension` names, for the targets the license notices
//! cover.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::notices::RELEASE_TARGETS;
use crate::ADDON_DIR;

/// The release workflow, relative to the workspace root.
const WORKFLOW: &str = ".github/workflows/release.yml";
/// The Python tools of the test command, installed into the test peers' venv.
const TOOL_REQUIREMENTS: &str = "tests/tool-requirements.txt";

/// Validates the workflow with `check-jsonschema --builtin-schema vendor.github-workflows`.
pub fn check_schema() -> Result<(), String> {
    let checker = tools_venv()?.join("check-jsonschema");
    crate::run(
        Command::new(checker)
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(crate::root().join(WORKFLOW)),
    )
}

/// The release libraries the workflow builds are the ones the `.gdextension` names, and it
/// builds for every target whose crates the license notices list.
pub fn check_platforms() -> Result<(), String> {
    let root = crate::root();
    let workflow = fs::read_to_string(root.join(WORKFLOW))
        .map_err(|e| format!("cannot read {WORKFLOW}: {e}"))?;
    let gdextension_path = root.join(ADDON_DIR).join("rust_websocket.gdextension");
    let gdextension = fs::read_to_string(&gdextension_path)
        .map_err(|e| format!("cannot read {}: {e}", gdextension_path.display()))?;
    let named = crate::package::release_libraries(&gdextension);
    let built: BTreeSet<String> = workflow
        .split(|c: char| c.is_whitespace() || "\"'/:".contains(c))
        .filter(|word| word.contains("rust_websocket.") && word.contains(".release."))
        .map(str::to_owned)
        .collect();
    let mut problems: Vec<String> = named
        .difference(&built)
        .map(|name| format!("the workflow does not build {name}"))
        .chain(
            built
                .difference(&named)
                .map(|name| format!("the .gdextension does not name {name}")),
        )
        .collect();
    problems.extend(
        RELEASE_TARGETS
            .iter()
            .filter(|target| !workflow.contains(*target))
            .map(|target| format!("the workflow does not build for {target}")),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The venv's `bin/` with the tools of [`TOOL_REQUIREMENTS`] installed (once per change of it).
fn tools_venv() -> Result<PathBuf, String> {
    let python = crate::python_venv()?;
    let bin = python.parent().expect("python lives in bin/").to_path_buf();
    let requirements = crate::root().join(TOOL_REQUIREMENTS);
    let stamp = bin.join("../installed-tool-requirements.txt");
    if !crate::requirements_installed(&requirements, &stamp)? {
        crate::pip_install(&python, &requirements, &stamp)?;
    }
    Ok(bin)
}
