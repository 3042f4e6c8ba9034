//! `cargo xtask snippets`: every ```` ```gdscript ```` block of the READMEs (the root's, the
//! addon's) and of `docs/**/*.md` is parsed in a project whose GDScript warnings are errors and
//! that demands static types, and the blocks meant to run are run against a local echo server.
//!
//! An HTML comment on the line before a block says what it is (`CONTRIBUTING.md`, "Snippets"):
//! - none: a whole script, parsed as it is;
//! - `<!-- snippet: members -->`: class members (`func`, `var`), put in a script that
//!   [`PREAMBLE`] starts;
//! - `<!-- snippet: statements -->`: statements, put in a function of that script;
//! - `<!-- snippet: run -->`: a whole script whose `socket` connects to [`RUN_URL`], which is
//!   replaced with the local echo server's; it passes once a message came back;
//! - `<!-- snippet: skip -->`: not tested (say why in the README).
//!
//! `godot X.Y` after a comma (or alone) tests the block only on Godot X.Y or later, e.g.
//! `<!-- snippet: godot 4.4 -->` for a script using `@warning_ignore_start`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use walkdir::{DirEntry, WalkDir};

use crate::godot::{parse_version, run_godot, verdict, Godot};
use crate::process::{
    output_text, output_with_timeout, python_venv, read, root, say, start_peer, write, Counts,
    Tally, PEER_REQUIREMENTS,
};
use crate::project::{import, new_project, IMPORT_TIMEOUT};

/// The Markdown files whose snippets are tested, besides `docs/**/*.md`.
const READMES: [&str; 2] = ["README.md", "addons/rust_websocket/README.md"];
/// What a fragment's script starts with: the names snippets may use without declaring them.
const PREAMBLE: &str =
    "extends Node\n\nvar socket := RustWebSocketClient.new()\nvar url := \"ws://127.0.0.1:9/\"\n\n";
/// The URL a `run` snippet connects to, replaced with the echo server's.
const RUN_URL: &str = "wss://example.com/chat";
/// Longest a parse check or a run may take (a run waits for its echo far less).
const SNIPPET_TIMEOUT: Duration = Duration::from_secs(60);
/// Sets every warning Godot enables by default, and the static-typing ones, to "error".
const STRICT_SETUP: &str = "tests/snippets/strict_warnings.gd";
/// Runs a `run` snippet until its socket received a message.
const RUNNER: &str = "tests/snippets/run_snippet.gd";

/// How a block is tested, from the comment before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Script,
    Members,
    Statements,
    Run,
    Skip,
}

/// One ```` ```gdscript ```` block.
#[derive(Debug, PartialEq, Eq)]
struct Snippet {
    /// `README.md:76`: the file and the line of the opening fence.
    place: String,
    kind: Kind,
    /// The oldest Godot `(major, minor)` the block is tested on.
    min_godot: Option<(u32, u32)>,
    code: String,
}

/// Builds the addon's strict project, parses every snippet there and runs those meant to run.
pub fn snippets(godot: &Godot, addon: &Path) -> Result<Counts, String> {
    let mut sources: Vec<PathBuf> = READMES.iter().map(|file| root().join(file)).collect();
    sources.extend(markdown_files(&root().join("docs")));
    let mut found = Vec::new();
    for source in &sources {
        let name = source
            .strip_prefix(root())
            .unwrap_or(source)
            .display()
            .to_string();
        found.extend(extract(&name, &read(source)?)?);
    }
    let project = new_project("snippet-project", "rust_websocket snippets", addon)?;
    write(
        &project.join("strict_warnings.gd"),
        read(&root().join(STRICT_SETUP))?,
    )?;
    write(&project.join("run_snippet.gd"), read(&root().join(RUNNER))?)?;
    import(godot, &project)?;
    run_godot(
        godot,
        &project,
        &["--script", "res://strict_warnings.gd"],
        IMPORT_TIMEOUT,
    )?;

    let python = python_venv(PEER_REQUIREMENTS)?;
    let mut echo_server = Command::new(python);
    echo_server
        .arg(root().join("tests/peers/py_server.py"))
        .args(["--port", "0"]);
    let (_echo_peer, echo_port, _) = start_peer("Python websockets echo server", echo_server)?;
    let echo_url = format!("ws://127.0.0.1:{echo_port}/echo");

    let mut tally = Tally::default();
    for (index, snippet) in found.iter().enumerate() {
        if snippet.kind == Kind::Skip {
            say(format!("{}: skipped (marked skip)", snippet.place));
            continue;
        }
        if let Some((major, minor)) = snippet.min_godot {
            if godot
                .version()
                .is_some_and(|version| version < (major, minor))
            {
                say(format!(
                    "{}: skipped (needs Godot {major}.{minor})",
                    snippet.place
                ));
                continue;
            }
        }
        let file = format!("snippet_{index}.gd");
        let code = script_text(snippet).replace(RUN_URL, &echo_url);
        write(&project.join(&file), &code)?;
        let mut result = check_script(godot, &project, &file);
        if result.is_ok() && snippet.kind == Kind::Run {
            result = run_godot(
                godot,
                &project,
                &[
                    "--script",
                    "res://run_snippet.gd",
                    "--",
                    &format!("res://{file}"),
                ],
                SNIPPET_TIMEOUT,
            )
            .map(|_| ());
        }
        let label = format!(
            "{} ({})",
            snippet.place,
            format!("{:?}", snippet.kind).to_lowercase()
        );
        tally.check(&label, result.map_err(|error| format!("{error}\n{code}")));
    }
    Ok(tally.counts)
}

/// Every `.md` file under `dir` (none if it does not exist), sorted.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(DirEntry::into_path)
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect()
}

/// The ```` ```gdscript ```` blocks of the Markdown text `markdown` from file `name`, with the
/// kind the comment before each gives (a block inside a list item is unindented). Hand-written:
/// a Markdown parser would still leave the marker line and the source line numbers to us.
fn extract(name: &str, markdown: &str) -> Result<Vec<Snippet>, String> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut snippets = Vec::new();
    let mut number = 0;
    while number < lines.len() {
        let line = lines[number];
        let indent = line.len() - line.trim_start().len();
        if line.trim_start() != "```gdscript" {
            number += 1;
            continue;
        }
        let place = format!("{name}:{}", number + 1);
        let marker = lines[..number]
            .iter()
            .rev()
            .find(|line| !line.trim().is_empty())
            .and_then(|line| line.trim().strip_prefix("<!-- snippet:"))
            .and_then(|rest| rest.strip_suffix("-->"))
            .map(str::trim);
        let mut kind = Kind::Script;
        let mut min_godot = None;
        for part in marker.into_iter().flat_map(|marker| marker.split(',')) {
            match part.trim() {
                "members" => kind = Kind::Members,
                "statements" => kind = Kind::Statements,
                "run" => kind = Kind::Run,
                "skip" => kind = Kind::Skip,
                other => {
                    min_godot = other.strip_prefix("godot ").and_then(parse_version);
                    if min_godot.is_none() {
                        return Err(format!(
                            "{place}: unknown snippet marker `{other}`: use members, statements, \
                             run, skip or godot X.Y"
                        ));
                    }
                }
            }
        }
        let end = lines[number + 1..]
            .iter()
            .position(|line| line.trim_start() == "```")
            .map(|offset| number + 1 + offset)
            .ok_or_else(|| format!("{place}: the gdscript block is not closed"))?;
        let code: String = lines[number + 1..end]
            .iter()
            .map(|line| format!("{}\n", line.get(indent..).unwrap_or(line.trim_start())))
            .collect();
        snippets.push(Snippet {
            place,
            kind,
            min_godot,
            code,
        });
        number = end + 1;
    }
    Ok(snippets)
}

/// The script a snippet is tested as.
fn script_text(snippet: &Snippet) -> String {
    match snippet.kind {
        Kind::Members => format!("{PREAMBLE}{}", snippet.code),
        Kind::Statements => {
            let body: String = snippet
                .code
                .lines()
                .map(|line| format!("    {line}\n"))
                .collect();
            format!("{PREAMBLE}func _snippet() -> void:\n{body}")
        }
        Kind::Script | Kind::Run | Kind::Skip => snippet.code.clone(),
    }
}

/// Parses `file` in `project` with Godot's `--check-only`: it fails on a parse error, which with
/// the project's settings includes every warning.
fn check_script(godot: &Godot, project: &Path, file: &str) -> Result<(), String> {
    let mut command = godot.headless(project);
    command.args(["--check-only", "--script", &format!("res://{file}")]);
    let output = output_with_timeout(command, SNIPPET_TIMEOUT)?;
    let log = output_text(&output);
    verdict(&log, output.status).map_err(|error| format!("{error}\n{log}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_found_with_their_marker_and_unindented() {
        let markdown = "Intro\n\n```gdscript\nextends Node\n```\n\n<!-- snippet: statements -->\n- item:\n  ```gdscript\n  print(1)\n  ```\n```sh\nls\n```\n";
        let found = extract("R.md", markdown).unwrap();
        assert_eq!(
            found,
            vec![
                Snippet {
                    place: "R.md:3".into(),
                    kind: Kind::Script,
                    min_godot: None,
                    code: "extends Node\n".into()
                },
                Snippet {
                    place: "R.md:9".into(),
                    kind: Kind::Script,
                    min_godot: None,
                    code: "print(1)\n".into()
                },
            ]
        );
    }

    #[test]
    fn markdown_files_are_found_in_subfolders_in_order() {
        let dir = std::env::temp_dir().join(format!("xtask-snippets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b")).unwrap();
        for file in ["b/c.md", "a.md", "b.txt"] {
            std::fs::write(dir.join(file), "").unwrap();
        }
        let found = markdown_files(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, [dir.join("a.md"), dir.join("b/c.md")]);
        assert!(markdown_files(&dir).is_empty());
    }

    #[test]
    fn a_marker_right_before_the_block_sets_its_kind() {
        let markdown = "<!-- snippet: statements -->\n```gdscript\nprint(1)\n```\n";
        let found = extract("R.md", markdown).unwrap();
        assert_eq!(found[0].kind, Kind::Statements);
        assert_eq!(
            script_text(&found[0]),
            format!("{PREAMBLE}func _snippet() -> void:\n    print(1)\n")
        );
        assert!(extract("R.md", "<!-- snippet: nope -->\n```gdscript\n```\n").is_err());
        let gated = "<!-- snippet: run, godot 4.4 -->\n```gdscript\n```\n";
        let found = extract("R.md", gated).unwrap();
        assert_eq!(
            (found[0].kind, found[0].min_godot),
            (Kind::Run, Some((4, 4)))
        );
    }
}
