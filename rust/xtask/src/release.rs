//! The checks `cargo xtask test` adds for releases, each one test: the version and Godot
//! compatibility agree everywhere, the release workflow (`.github/workflows/release.yml`, which
//! only runs on GitHub) matches GitHub's schema and builds every library the `.gdextension`
//! names for every target the license notices cover, the zip holds the addon alone, and
//! installed into an empty project it loads, is documented in the editor help, and exchanges
//! messages.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use zip::ZipArchive;

use crate::godot::{godot_counts, Godot};
use crate::notices::RELEASE_TARGETS;
use crate::package::{
    build_package, compatibility_minimum, release_libraries, GDEXTENSION_FILE, VERSION,
};
use crate::process::{
    add, cargo, copy, create_dir, problems_to_result, python_venv, read, root, run, Counts, Tally,
};
use crate::project::{empty_project, import, ADDON_DIR};

/// The release workflow, relative to the workspace root.
const WORKFLOW: &str = ".github/workflows/release.yml";
/// How the names of the release libraries end (an iOS framework is a folder).
const LIBRARY_EXTENSIONS: [&str; 4] = [".so", ".dll", ".dylib", ".framework"];
/// The Python tools of the test command (`check-jsonschema`), installed into `target/venv`.
const TOOL_REQUIREMENTS: &str = "tests/tool-requirements.txt";
/// The `[editor_plugins]` section that enables the addon's editor plugin in a project.
const ENABLED_PLUGIN: &str =
    "\n[editor_plugins]\n\nenabled=PackedStringArray(\"res://addons/rust_websocket/plugin.cfg\")\n";
/// Longest the installed package's end-to-end check may take.
const INSTALL_CHECK_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest the Godot side of the docs check may take.
const DOCS_CHECK_TIMEOUT: Duration = Duration::from_secs(120);

/// The checks `cargo xtask test` adds for releases, each one test: the version and Godot
/// compatibility agree everywhere, the release workflow is valid and builds every library the
/// `.gdextension` names, the zip holds the addon alone, and installed into an empty project it
/// loads, is documented, and exchanges messages. Returns (passed, failed).
pub fn release_checks(godot: &Godot) -> Result<Counts, String> {
    let mut tally = Tally::default();
    tally.check("version and Godot compatibility agree", check_versions());
    tally.check("release workflow matches the schema", check_schema());
    tally.check(
        "release workflow builds every library of the .gdextension",
        check_platforms(),
    );
    // `build_package` checks the zip's contents.
    let zip = build_package(None);
    tally.check(
        "release zip holds addons/rust_websocket/ alone",
        zip.as_ref().map(|_| ()).map_err(String::clone),
    );
    Ok(add(tally.counts, install_check(godot, &zip?)?))
}

/// Unzips the package into an empty project with the editor plugin enabled, so the import (a
/// headless editor) loads it too, imports it, then runs the docs check and the end-to-end
/// exchange there. Returns their (passed, failed).
fn install_check(godot: &Godot, zip: &Path) -> Result<Counts, String> {
    let project = empty_project("package-test", "rust_websocket package test")?;
    let file = fs::File::open(zip).map_err(|e| format!("cannot open {}: {e}", zip.display()))?;
    ZipArchive::new(file)
        .and_then(|mut archive| archive.extract(&project))
        .map_err(|e| format!("cannot unzip {}: {e}", zip.display()))?;
    let settings = project.join("project.godot");
    fs::OpenOptions::new()
        .append(true)
        .open(&settings)
        .and_then(|mut file| file.write_all(ENABLED_PLUGIN.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", settings.display()))?;
    for script in ["tests/package/install_check.gd", "tests/docs/check_docs.gd"] {
        let source = root().join(script);
        copy(
            &source,
            &project.join(source.file_name().expect("a script file")),
        )?;
    }
    import(godot, &project)?;
    let docs_counts = check_docs(godot, &project)?;
    let exchange_counts = godot_counts(
        godot,
        &project,
        &["--script", "res://install_check.gd"],
        INSTALL_CHECK_TIMEOUT,
    )?;
    Ok(add(docs_counts, exchange_counts))
}

/// The version in the workspace `Cargo.toml` is the one both READMEs and the CHANGELOG name, and
/// the `.gdextension`'s `compatibility_minimum` matches gdext's `api-4-x` feature.
fn check_versions() -> Result<(), String> {
    let root = root();
    let readmes = [
        ("README.md", read(&root.join("README.md"))?),
        (
            "the addon's README.md",
            read(&root.join(ADDON_DIR).join("README.md"))?,
        ),
    ];
    let changelog = read(&root.join("CHANGELOG.md"))?;
    let manifest = read(&root.join("Cargo.toml"))?;
    let gdextension = read(&root.join(ADDON_DIR).join(GDEXTENSION_FILE))?;
    let minimum = compatibility_minimum(&gdextension);
    let api_feature = format!("\"api-{}\"", minimum.replace('.', "-"));
    let mut problems = Vec::new();
    for (name, readme) in &readmes {
        if !readme.contains(&format!("Version {VERSION}")) {
            problems.push(format!("{name} does not say `Version {VERSION}`"));
        }
        if !readme.contains(&format!("{minimum} or later")) {
            problems.push(format!("{name} does not say Godot `{minimum} or later`"));
        }
    }
    let released = changelog
        .lines()
        .find(|line| line.starts_with("## [") && !line.starts_with("## [Unreleased]"));
    if !released.is_some_and(|line| line.starts_with(&format!("## [{VERSION}]"))) {
        problems.push(format!(
            "the newest release in CHANGELOG.md is not {VERSION}"
        ));
    }
    if !manifest.contains(&api_feature) {
        problems.push(format!(
            "the .gdextension's compatibility_minimum {minimum} needs gdext's {api_feature} feature"
        ));
    }
    problems_to_result(problems, "; ")
}

/// Validates the workflow with `check-jsonschema --builtin-schema vendor.github-workflows`.
fn check_schema() -> Result<(), String> {
    let python = python_venv(TOOL_REQUIREMENTS)?;
    run(Command::new(python.with_file_name("check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(root().join(WORKFLOW)))
}

/// The release libraries the workflow builds are the ones the `.gdextension` names, and it
/// builds for every target whose crates the license notices list.
fn check_platforms() -> Result<(), String> {
    let workflow = read(&root().join(WORKFLOW))?;
    let gdextension = read(&root().join(ADDON_DIR).join(GDEXTENSION_FILE))?;
    let named = release_libraries(&gdextension);
    let built: BTreeSet<String> = workflow
        .split(|c: char| c.is_whitespace() || "\"'/:".contains(c))
        .filter(|word| word.contains("rust_websocket.") && word.contains(".release."))
        // Library files and iOS frameworks, not the library inside a framework.
        .filter(|word| LIBRARY_EXTENSIONS.iter().any(|ext| word.ends_with(ext)))
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
    problems_to_result(problems, "; ")
}

/// The documentation check: every method, property, signal and constant `RustWebSocketClient`
/// and `RustWebSocketPeer` register with Godot has a description in the editor help that gdext
/// generates from the doc comments (`register-docs`). The binding crate's docs test writes each
/// class reference XML (and fails on an empty description); `tests/docs/check_docs.gd` then
/// compares them with what Godot's `ClassDB` lists for the classes, in `project` (imported, with
/// the addon and `check_docs.gd`). Returns (passed, failed) of the Godot side.
fn check_docs(godot: &Godot, project: &Path) -> Result<Counts, String> {
    let xml_dir = project.join("docs_xml");
    create_dir(&xml_dir)?;
    run(cargo()
        .args([
            "test",
            "--package",
            "rust_websocket",
            "--lib",
            "--quiet",
            "docs_tests",
        ])
        .env("RUST_WEBSOCKET_DOCS_XML", &xml_dir))?;
    let xml_arg = format!("--xml-dir={}", xml_dir.display());
    godot_counts(
        godot,
        project,
        &["--script", "res://check_docs.gd", "--", &xml_arg],
        DOCS_CHECK_TIMEOUT,
    )
}
