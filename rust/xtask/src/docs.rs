//! The documentation check: every method, property, signal and constant `RustWebSocketClient`
//! registers with Godot has a description in the editor help that gdext generates from the doc
//! comments (`register-docs`).
//!
//! The binding crate's docs test writes that class reference XML (and fails on an empty
//! description); `tests/docs/check_docs.gd` then compares it with what Godot's `ClassDB` lists
//! for the class, in a project where the extension is loaded.

use std::path::Path;
use std::time::Duration;

use crate::godot::Godot;

/// Longest the Godot side of the check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the check in `project`, which holds the addon and `check_docs.gd` at its root and is
/// imported. Returns (passed, failed) of the Godot side.
pub fn check(godot: &Godot, project: &Path) -> Result<(usize, usize), String> {
    let xml = project.join("RustWebSocketClient.xml");
    crate::run(
        crate::cargo()
            .args([
                "test",
                "--package",
                "rust_websocket",
                "--lib",
                "--quiet",
                "docs_tests",
            ])
            .env("RUST_WEBSOCKET_DOCS_XML", &xml),
    )?;
    let xml_arg = format!("--xml={}", xml.display());
    crate::package::godot_counts(
        godot,
        project,
        &["--script", "res://check_docs.gd", "--", &xml_arg],
        CHECK_TIMEOUT,
    )
}
