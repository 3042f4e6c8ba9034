//! Project commands, run as `cargo xtask <command>` (`cargo xtask help` lists them with their
//! flags). `CONTRIBUTING.md` says what each needs and how long it takes.
//!
//! Layers, each using only those above it:
//! - `process`: the workspace root, running commands, test peers, counts, folders;
//! - `debian`: fetching Debian packages privately, and `apt-get install`;
//! - `godot`: finding or fetching Godot, running it headless and judging its log;
//! - `project`, `certs`: the addon, the Godot projects the suites run in, their certificates;
//! - the suites: `suite` (headless Godot suite and demo, with `lifecycle` and the SOCKS5 peer
//!   `microsocks`), `snippets` (the
//!   READMEs' GDScript), `multiplayer`,
//!   `autobahn`, `bench`, `fuzz`, `platforms`, `screenshot`;
//! - packaging: `notices`, `package` (the release zip), `release` (the release checks);
//! - `main`: the command line and `cargo xtask test`, which runs every step CI runs.

mod autobahn;
mod bench;
mod certs;
mod debian;
mod fuzz;
mod godot;
mod lifecycle;
mod microsocks;
mod multiplayer;
mod notices;
mod package;
mod platforms;
mod process;
mod project;
mod release;
mod screenshot;
mod snippets;
mod suite;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lexopt::prelude::*;

use godot::Godot;
use process::{
    add, cargo, cargo_test_counts, finish, python_venv, run, say, Counts, PEER_REQUIREMENTS,
};
use project::build_addon;

/// `cargo xtask help`: every command and its flags.
const USAGE: &str = "usage: cargo xtask <command> [flags]

  addon [--release]        build the library into addons/rust_websocket/
  demo                     build the addon and run the sample project headless
  package [--prebuilt DIR] write the release zip dist/rust_websocket-<version>.zip
  screenshot               regenerate docs/screenshots/ under Xvfb
  test                     every test CI runs; ends with `N passed, M failed`
  suite [--only=TEXT]      the headless Godot suite (tests whose name contains TEXT)
  snippets                 every GDScript snippet of the READMEs and docs/, parsed strictly
                           (warnings are errors), the runnable ones run against an echo server
  multiplayer              the multiplayer scenarios
  bench [--smoke] [--only=TEXT] [--contender=KEY] [--runs=N] [--debugger]
                           the benchmarks, side by side with Godot's WebSocketPeer
  autobahn [--update-baseline] [--only=TEXT]
                           the Autobahn|Testsuite cases, per agent
  fuzz [--seconds=N] [--only=TARGET] [--update-corpus]
                           the engine's fuzz targets, each for N seconds
  platforms [--only=windows|arm64|arm64-demo]
                           the engine's tests under Wine and qemu, the demo in arm64 Godot
  help                     this text";

fn main() -> ExitCode {
    match command() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The flags any command may take; each command rejects those it does not know.
#[derive(Default)]
struct Flags {
    release: bool,
    prebuilt: Option<PathBuf>,
    only: Option<String>,
    smoke: bool,
    contender: Option<String>,
    runs: Option<usize>,
    debugger: bool,
    update_baseline: bool,
    update_corpus: bool,
    seconds: Option<u64>,
}

/// Parses the command line (a mistyped flag is an error, never ignored) and runs the command.
fn command() -> Result<(), String> {
    let mut parser = lexopt::Parser::from_env();
    let name = match parser.next().map_err(|e| e.to_string())? {
        Some(Value(name)) => name.string().map_err(|e| e.to_string())?,
        Some(Long("help") | Short('h')) | None => "help".into(),
        Some(other) => {
            return Err(format!(
                "{}; `cargo xtask help` lists the commands",
                other.unexpected()
            ))
        }
    };
    let flags = flags(&name, &mut parser)
        .map_err(|e| format!("{name}: {e}; `cargo xtask help` lists the flags"))?;
    match name.as_str() {
        "help" => {
            println!("{USAGE}");
            Ok(())
        }
        "addon" => build_addon(flags.release).map(|_| ()),
        "demo" => suite::run_demo(&godot::locate()?, &build_addon(false)?),
        "package" => package::build_package(flags.prebuilt.as_deref()).map(|_| ()),
        "screenshot" => screenshot::screenshot(),
        "test" => test(),
        "suite" => in_test_project(|godot, project| {
            suite::godot_suite(godot, project, flags.only.as_deref())
        }),
        "snippets" => finish(snippets::snippets(&godot::locate()?, &build_addon(false)?)?),
        "multiplayer" => in_test_project(multiplayer::multiplayer_suite),
        "autobahn" => in_test_project(|godot, project| {
            autobahn::run_agents(godot, project, flags.update_baseline, flags.only.as_deref())
        }),
        "bench" => finish(bench::bench(&bench::BenchOptions {
            smoke: flags.smoke,
            only: flags.only,
            contender: flags.contender,
            runs: flags.runs,
            debugger: flags.debugger,
        })?),
        "fuzz" => finish(fuzz::fuzz(&fuzz::FuzzOptions {
            seconds: flags.seconds.unwrap_or(fuzz::DEFAULT_SECONDS),
            only: flags.only,
            update_corpus: flags.update_corpus,
        })?),
        "platforms" => finish(total(&platforms::run_steps(flags.only.as_deref())?)),
        other => Err(format!(
            "no command `{other}`; `cargo xtask help` lists them"
        )),
    }
}

/// The flags after command `name`, checked against the ones it takes.
fn flags(name: &str, parser: &mut lexopt::Parser) -> Result<Flags, lexopt::Error> {
    let takes: &[&str] = match name {
        "addon" => &["release"],
        "package" => &["prebuilt"],
        "suite" | "platforms" => &["only"],
        "bench" => &["smoke", "only", "contender", "runs", "debugger"],
        "autobahn" => &["update-baseline", "only"],
        "fuzz" => &["seconds", "only", "update-corpus"],
        _ => &[],
    };
    let mut flags = Flags::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long(flag) if takes.contains(&flag) => match flag {
                "release" => flags.release = true,
                "smoke" => flags.smoke = true,
                "debugger" => flags.debugger = true,
                "update-baseline" => flags.update_baseline = true,
                "update-corpus" => flags.update_corpus = true,
                "prebuilt" => flags.prebuilt = Some(parser.value()?.into()),
                "only" => flags.only = Some(parser.value()?.string()?),
                "contender" => flags.contender = Some(parser.value()?.string()?),
                "runs" => flags.runs = Some(parser.value()?.parse()?),
                _ => flags.seconds = Some(parser.value()?.parse()?),
            },
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(flags)
}

/// Builds the addon and the test project, runs `suite` there and prints its closing line.
fn in_test_project(
    suite: impl FnOnce(&Godot, &Path) -> Result<Counts, String>,
) -> Result<(), String> {
    let addon = build_addon(false)?;
    let godot = godot::locate()?;
    let project = suite::test_project(&godot, &addon)?;
    finish(suite(&godot, &project)?)
}

/// The sum of labelled counts.
fn total(parts: &[(&str, Counts)]) -> Counts {
    for (label, (passed, failed)) in parts {
        say(format!("{label}: {passed} passed, {failed} failed"));
    }
    parts
        .iter()
        .fold((0, 0), |sum, (_, counts)| add(sum, *counts))
}

/// `cargo xtask test`: every step CI runs (`.ci/run`), in order, and the closing line
/// `N passed, M failed` over all of them.
fn test() -> Result<(), String> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "--deny",
        "warnings",
    ]))?;
    // The engine's compression tests run the Python peer from this venv.
    python_venv(PEER_REQUIREMENTS)?;
    let cargo_counts = cargo_test_counts({
        let mut tests = cargo();
        tests.args(["test", "--workspace"]);
        tests
    })?;
    let addon = build_addon(false)?;
    let godot = godot::locate()?;
    let project = suite::test_project(&godot, &addon)?;
    let multiplayer_counts = multiplayer::multiplayer_suite(&godot, &project)?;
    let suite_counts = suite::godot_suite(&godot, &project, None)?;
    // The sample project's session counts as one more test: it must keep working.
    suite::run_demo(&godot, &addon)?;
    let suite_counts = add(suite_counts, (1, 0));
    let snippet_counts = snippets::snippets(&godot, &addon)?;
    let release_counts = release::release_checks(&godot)?;
    // The benchmark harness with tiny counts: each run that produces its figures passes.
    let bench_counts = bench::bench(&bench::BenchOptions {
        smoke: true,
        only: None,
        contender: None,
        runs: None,
        debugger: false,
    })?;
    let autobahn_counts = autobahn::run_agents(&godot, &project, false, None)?;
    let fuzz_counts = fuzz::fuzz(&fuzz::FuzzOptions {
        seconds: fuzz::TEST_SECONDS,
        only: None,
        update_corpus: false,
    })?;
    let mut parts = vec![
        ("cargo tests", cargo_counts),
        ("multiplayer suite", multiplayer_counts),
        ("headless Godot suite and demo", suite_counts),
        ("README and docs GDScript snippets", snippet_counts),
        ("release checks", release_counts),
        ("benchmark smoke runs", bench_counts),
        ("Autobahn cases (both agents)", autobahn_counts),
        ("fuzz targets (bounded runs)", fuzz_counts),
    ];
    // Windows under Wine, Linux arm64 under qemu (`platforms.rs`).
    parts.extend(platforms::run_steps(None)?);
    finish(total(&parts))
}
