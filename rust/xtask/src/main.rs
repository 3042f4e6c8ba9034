//! Project commands, run as `cargo xtask <command>`:
//!
//! - `addon [--release]`: builds the library and leaves `addons/rust_websocket/` complete.
//! - `demo`: builds the addon, finds or fetches Godot, and runs the sample project headless.
//! - `package [--prebuilt DIR]`: the release zip `dist/rust_websocket-<version>.zip`
//!   (`package.rs`).
//! - `screenshot`: regenerates the README's screenshots under Xvfb (`screenshot.rs`).
//! - `test`: every test: formatting, clippy, cargo tests, the multiplayer scenarios (separate
//!   headless Godot processes around a Godot `WebSocketMultiplayerPeer` server), the headless
//!   Godot suite against real peers (Godot's own WebSocket server and Python `websockets`), and
//!   the demo's session, the release checks (`package.rs`: version, workflow, editor docs,
//!   the zip installed into an empty project), the benchmarks' smoke run, and the
//!   Autobahn|Testsuite cases (see `autobahn`), and a bounded run of each fuzz target (`fuzz`).
//! - `bench [--smoke]`: the benchmarks side by side with Godot's WebSocketPeer (see `bench.rs`).
//! - `autobahn [--update-baseline]`: only the Autobahn|Testsuite cases, through the engine and
//!   through `RustWebSocketClient`; `--update-baseline` rewrites `tests/autobahn/baseline-*.json`.
//! - `fuzz [--seconds=N] [--only=TARGET] [--update-corpus]`: the engine's fuzz targets, each for
//!   N seconds (`fuzz.rs`); `test` runs each for `fuzz::TEST_SECONDS`.

mod autobahn;
mod bench;
mod certs;
mod docs;
mod fuzz;
mod godot;
mod lifecycle;
mod notices;
mod package;
mod screenshot;
mod workflow;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use godot::Godot;

/// The addon folder users copy into their project.
const ADDON_DIR: &str = "addons/rust_websocket";
/// Longest a Godot import may take.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest the headless demo may take.
const DEMO_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest the whole headless test suite may take.
const SUITE_TIMEOUT: Duration = Duration::from_secs(900);
/// Longest a test peer may take to say it is listening.
const PEER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// The multiplayer scenarios (`tests/multiplayer/scenarios.gd`), each a server process and its
/// client processes; all of them run at the same time.
const MULTIPLAYER_SCENARIOS: [&str; 4] = ["session", "graceful", "tls", "protocol"];
/// Seconds after which a multiplayer test process gives up (fails) and exits by itself.
const MULTIPLAYER_LIFETIME_S: u64 = 40;
/// Longest a multiplayer scenario may take; then its processes are killed.
const MULTIPLAYER_TIMEOUT: Duration = Duration::from_secs(60);
/// Log lines that fail a Godot run even when its exit code is 0.
const FATAL_LOG_LINES: [&str; 4] = [
    "SCRIPT ERROR",
    "Can't open dynamic library",
    "ObjectDB instances leaked",
    "Parse Error",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
    };
    let result = match args.first().map(String::as_str) {
        Some("addon") => build_addon(args.iter().any(|a| a == "--release")).map(|_| ()),
        Some("demo") => demo(),
        Some("package") => package::package_command(&args[1..]).map(|_| ()),
        Some("screenshot") => screenshot::screenshot(),
        Some("test") => test(),
        Some("suite") => suite(value("--only")),
        Some("bench") => {
            let options = bench::BenchOptions {
                smoke: args.iter().any(|a| a == "--smoke"),
                only: value("--only"),
                contender: value("--contender"),
                runs: value("--runs").and_then(|runs| runs.parse().ok()),
            };
            match bench::bench(&options) {
                Ok((_, 0)) => Ok(()),
                Ok((_, failed)) => Err(format!("{failed} benchmark runs failed")),
                Err(error) => Err(error),
            }
        }
        Some("autobahn") => autobahn::command(args.iter().any(|a| a == "--update-baseline")),
        Some("fuzz") => {
            let options = fuzz::FuzzOptions {
                seconds: value("--seconds")
                    .and_then(|seconds| seconds.parse().ok())
                    .unwrap_or(fuzz::DEFAULT_SECONDS),
                only: value("--only"),
                update_corpus: args.iter().any(|a| a == "--update-corpus"),
            };
            match fuzz::fuzz(&options) {
                Ok((_, 0)) => Ok(()),
                Ok((_, failed)) => Err(format!("{failed} fuzz targets failed")),
                Err(error) => Err(error),
            }
        }
        _ => Err(
            "usage: cargo xtask <addon [--release] | demo | package [--prebuilt DIR] | screenshot \
                  | test | suite [--only=TEXT] | bench [--smoke] [--only=TEXT] [--contender=KEY] [--runs=N] \
                  | autobahn [--update-baseline] | fuzz [--seconds=N] [--only=TARGET] [--update-corpus]>"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn say(message: impl AsRef<str>) {
    eprintln!("xtask: {}", message.as_ref());
}

/// The workspace root (this crate lives in `rust/xtask`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives two levels down")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command` and fails unless it succeeds.
fn run(command: &mut Command) -> Result<(), String> {
    let shown = godot::show_cmd(command);
    say(format!("running {shown}"));
    let status = command
        .status()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// The platform part of library names in the `.gdextension`, e.g. `linux.debug.x86_64`.
fn library_file_name(release: bool) -> Result<String, String> {
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

/// Builds the library and copies it into the addon's `bin/`. Returns the addon folder.
fn build_addon(release: bool) -> Result<PathBuf, String> {
    let mut build = cargo();
    build.args(["build", "--package", "rust_websocket"]);
    if release {
        build.arg("--release");
    }
    run(&mut build)?;
    let built = root()
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join(format!(
            "{}rust_websocket{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
    let addon = root().join(ADDON_DIR);
    let installed = addon.join("bin").join(library_file_name(release)?);
    fs::create_dir_all(installed.parent().expect("bin/ has a parent"))
        .map_err(|e| e.to_string())?;
    fs::copy(&built, &installed).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            built.display(),
            installed.display()
        )
    })?;
    say(format!(
        "addon ready: {} ({})",
        addon.display(),
        installed.display()
    ));
    Ok(addon)
}

/// Copies the addon folder into `project/addons/`, replacing an older copy.
fn install_addon(addon: &Path, project: &Path) -> Result<(), String> {
    let target = project.join(ADDON_DIR);
    if target.exists() {
        fs::remove_dir_all(&target)
            .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
    }
    copy_dir(addon, &target)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn locate_godot() -> Result<Godot, String> {
    godot::locate(&root().join("target").join("godot"))
}

/// A command that starts Godot headless in `project`; callers add their own arguments.
fn headless_godot(godot: &Godot, project: &Path) -> Command {
    let mut command = godot.command();
    command.arg("--headless").arg("--path").arg(project);
    command
}

/// Runs Godot headless with `args` in `project`, prints its log, and fails on a non-zero exit
/// or a fatal line in the log. Returns the log.
fn run_godot(
    godot: &Godot,
    project: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<String, String> {
    let mut command = headless_godot(godot, project);
    command.args(args);
    say(format!("running Godot: {}", args.join(" ")));
    let output = godot::output_with_timeout(command, timeout)?;
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    print!("{log}");
    if let Some(line) = log
        .lines()
        .find(|line| FATAL_LOG_LINES.iter().any(|fatal| line.contains(fatal)))
    {
        return Err(format!("Godot logged: {}", line.trim()));
    }
    if !output.status.success() {
        return Err(format!("Godot exited with {}", output.status));
    }
    Ok(log)
}

/// Imports a project so Godot registers the extension (needed once per fresh project).
fn import(godot: &Godot, project: &Path) -> Result<(), String> {
    // A headless editor that discovers a GDExtension during its first import crashes on exit
    // (Godot 4.6, seen with any extension); listing the extension up front avoids it.
    let extension_list = project.join(".godot").join("extension_list.cfg");
    if !extension_list.exists() {
        fs::create_dir_all(project.join(".godot")).map_err(|e| e.to_string())?;
        fs::write(
            &extension_list,
            format!("res://{ADDON_DIR}/rust_websocket.gdextension\n"),
        )
        .map_err(|e| format!("cannot write {}: {e}", extension_list.display()))?;
    }
    run_godot(godot, project, &["--import"], IMPORT_TIMEOUT).map(|_| ())
}

fn demo() -> Result<(), String> {
    let addon = build_addon(false)?;
    run_demo(&locate_godot()?, &addon)
}

/// Installs the addon into the sample project and plays its scripted headless session.
fn run_demo(godot: &Godot, addon: &Path) -> Result<(), String> {
    let project = root().join("godot-project");
    install_addon(addon, &project)?;
    // The demo's echo server speaks wss:// with this certificate, which the client trusts.
    certs::write_demo_certificate(&project.join("certs"))?;
    import(godot, &project)?;
    run_godot(godot, &project, &[], DEMO_TIMEOUT)?;
    say("chat session finished; now the multiplayer lobby (RPCs over RustWebSocketClient)");
    run_godot(
        godot,
        &project,
        &["res://multiplayer/lobby.tscn"],
        DEMO_TIMEOUT,
    )?;
    say("demo finished");
    Ok(())
}

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
    python_venv()?;
    let cargo_counts = cargo_tests()?;
    let addon = build_addon(false)?;
    let godot = locate_godot()?;
    let project = test_project(&godot, &addon)?;
    let multiplayer_counts = multiplayer_suite(&godot, &project)?;
    let suite_counts = godot_suite(&godot, &project, None)?;
    // The sample project's session counts as one more test: it must keep working.
    run_demo(&godot, &addon)?;
    let suite_counts = (suite_counts.0 + 1, suite_counts.1);
    let release_counts = package::release_checks(&godot)?;
    // The benchmark harness with tiny counts: each run that produces its figures passes.
    let bench_counts = bench::bench(&bench::BenchOptions {
        smoke: true,
        only: None,
        contender: None,
        runs: None,
    })?;
    let autobahn_counts = autobahn::run(&godot, &project, false)?;
    let fuzz_counts = fuzz::fuzz(&fuzz::FuzzOptions {
        seconds: fuzz::TEST_SECONDS,
        only: None,
        update_corpus: false,
    })?;
    let parts = [
        ("cargo tests", cargo_counts),
        ("multiplayer suite", multiplayer_counts),
        ("headless Godot suite and demo", suite_counts),
        ("release checks", release_counts),
        ("benchmark smoke runs", bench_counts),
        ("Autobahn cases (both agents)", autobahn_counts),
        ("fuzz targets (bounded runs)", fuzz_counts),
    ];
    for (label, (passed, failed)) in parts {
        say(format!("{label}: {passed} passed, {failed} failed"));
    }
    let passed: usize = parts.iter().map(|(_, counts)| counts.0).sum();
    let failed: usize = parts.iter().map(|(_, counts)| counts.1).sum();
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        return Err(format!("{failed} tests failed"));
    }
    Ok(())
}

/// `cargo xtask suite [--only=TEXT]`: builds the addon and runs only the headless Godot suite
/// (the tests whose name contains TEXT), for a quick turn while working on one feature.
fn suite(only: Option<String>) -> Result<(), String> {
    let addon = build_addon(false)?;
    let godot = locate_godot()?;
    let project = test_project(&godot, &addon)?;
    let (passed, failed) = godot_suite(&godot, &project, only.as_deref())?;
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        return Err(format!("{failed} tests failed"));
    }
    Ok(())
}

/// Runs `cargo test --workspace`, echoing its output, and returns (passed, failed).
fn cargo_tests() -> Result<(usize, usize), String> {
    let mut command = cargo();
    command.args(["test", "--workspace"]).stdout(Stdio::piped());
    say("running cargo test --workspace");
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start cargo test: {e}"))?;
    let mut counts = (0, 0);
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some(result) = line.strip_prefix("test result: ") {
            counts.0 += count_before(result, " passed");
            counts.1 += count_before(result, " failed");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo test failed ({status})"));
    }
    Ok(counts)
}

/// The number just before `label` in `text` ("ok. 4 passed; 0 failed" → 4 for " passed").
fn count_before(text: &str, label: &str) -> usize {
    text.split(label)
        .next()
        .and_then(|head| head.rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// A test peer process, killed when dropped.
struct Peer {
    child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command`, waits for its `READY <port>` line, and returns it with the port and the
/// lines it printed before (which are echoed too).
fn start_peer(name: &str, mut command: Command) -> Result<(Peer, u16, Vec<String>), String> {
    let shown = godot::show_cmd(&command);
    say(format!("starting {name}: {shown}"));
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let peer = Peer { child };
    let (ready_tx, ready_rx) = mpsc::channel();
    let label = name.to_owned();
    thread::spawn(move || {
        let mut ready = Some(ready_tx);
        let mut before_ready = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match line
                .strip_prefix("READY ")
                .and_then(|port| port.trim().parse::<u16>().ok())
            {
                Some(port) if ready.is_some() => {
                    let lines = std::mem::take(&mut before_ready);
                    let _ = ready.take().map(|tx| tx.send((port, lines)));
                }
                _ => {
                    println!("[{label}] {line}");
                    if ready.is_some() {
                        before_ready.push(line);
                    }
                }
            }
        }
    });
    let (port, lines) = ready_rx.recv_timeout(PEER_START_TIMEOUT).map_err(|_| {
        format!(
            "{name} did not print READY <port> within {} s",
            PEER_START_TIMEOUT.as_secs()
        )
    })?;
    say(format!("{name} listening on 127.0.0.1:{port}"));
    Ok((peer, port, lines))
}

/// The Python interpreter of a private venv holding the test peers' packages.
fn python_venv() -> Result<PathBuf, String> {
    let venv = root().join("target").join("venv");
    let python = venv.join("bin").join("python");
    let requirements = root().join("tests/peers/requirements.txt");
    let stamp = venv.join("installed-requirements.txt");
    if requirements_installed(&requirements, &stamp)? && python.exists() {
        return Ok(python);
    }
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    say(format!(
        "creating a Python venv for the test peers in {}",
        venv.display()
    ));
    run(Command::new(&system_python)
        .arg("-m")
        .arg("venv")
        .arg("--clear")
        .arg(&venv))?;
    pip_install(&python, &requirements, &stamp)?;
    Ok(python)
}

/// Whether `stamp` records that `requirements`, as the file reads now, was installed.
fn requirements_installed(requirements: &Path, stamp: &Path) -> Result<bool, String> {
    let wanted = fs::read_to_string(requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    Ok(fs::read_to_string(stamp).ok().as_deref() == Some(wanted.as_str()))
}

/// Installs `requirements` with the pip of `python`'s venv and records it in `stamp`.
fn pip_install(python: &Path, requirements: &Path, stamp: &Path) -> Result<(), String> {
    let wanted = fs::read_to_string(requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements))?;
    fs::write(stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// Makes `target/<folder>` a new, empty project named `title` with the addon installed.
fn new_project(folder: &str, title: &str, addon: &Path) -> Result<PathBuf, String> {
    let project = empty_project(folder, title)?;
    install_addon(addon, &project)?;
    Ok(project)
}

/// Makes `target/<folder>` a new, empty project named `title`.
fn empty_project(folder: &str, title: &str) -> Result<PathBuf, String> {
    let project = root().join("target").join(folder);
    if project.exists() {
        fs::remove_dir_all(&project)
            .map_err(|e| format!("cannot remove {}: {e}", project.display()))?;
    }
    fs::create_dir_all(&project).map_err(|e| e.to_string())?;
    fs::write(
        project.join("project.godot"),
        format!("config_version=5\n\n[application]\nconfig/name=\"{title}\"\n"),
    )
    .map_err(|e| e.to_string())?;
    Ok(project)
}

/// Builds a fresh, imported project with the addon, the suites, their peers and certificates.
/// Returns its folder.
fn test_project(godot: &Godot, addon: &Path) -> Result<PathBuf, String> {
    let project = new_project("test-project", "rust_websocket tests", addon)?;
    copy_dir(&root().join("tests/godot"), &project.join("tests/godot"))?;
    copy_dir(&root().join("tests/peers"), &project.join("tests/peers"))?;
    copy_dir(
        &root().join("tests/multiplayer"),
        &project.join("tests/multiplayer"),
    )?;
    copy_dir(
        &root().join("tests/autobahn"),
        &project.join("tests/autobahn"),
    )?;
    certs::write_test_certificates(&project.join("tests/certs"))?;
    import(godot, &project)?;
    Ok(project)
}

/// Starts the peers, runs the headless suite in `project` (see [`test_project`]), and returns
/// (passed, failed) from its closing line.
fn godot_suite(
    godot: &Godot,
    project: &Path,
    only: Option<&str>,
) -> Result<(usize, usize), String> {
    let certificates = project.join("tests/certs");
    let python = python_venv()?;
    let mut python_server = Command::new(&python);
    python_server
        .arg(root().join("tests/peers/py_server.py"))
        .args(["--port", "0", "--tls-dir"])
        .arg(&certificates);
    let (_python_peer, python_port, python_lines) =
        start_peer("Python websockets server", python_server)?;
    // `TLS <name> <port>`: the Python server's wss:// listener for the identity <name>.
    let python_tls: Vec<String> = python_lines
        .iter()
        .filter_map(|line| line.strip_prefix("TLS "))
        .filter_map(|rest| rest.split_once(' '))
        .map(|(name, port)| format!("{name}:{}", port.trim()))
        .collect();
    let mut godot_server = headless_godot(godot, project);
    godot_server.args([
        "--script",
        "res://tests/peers/godot_server.gd",
        "--",
        "--port=0",
    ]);
    let (_godot_peer, godot_port, _) = start_peer("Godot WebSocketPeer server", godot_server)?;
    let mut proxy = Command::new(python_venv()?);
    proxy.arg(root().join("tests/peers/connect_proxy.py"));
    let (_proxy_peer, proxy_port, _) = start_peer("HTTP CONNECT proxy", proxy)?;
    let mut misbehaving_server = Command::new(python);
    misbehaving_server
        .arg(root().join("tests/peers/misbehaving_server.py"))
        .args(["--port", "0"]);
    let (_misbehaving_peer, misbehaving_port, _) =
        start_peer("misbehaving raw-TCP server", misbehaving_server)?;

    let suite_args = [
        "--script".to_owned(),
        "res://tests/godot/run_tests.gd".to_owned(),
        "--".to_owned(),
        format!("--py-port={python_port}"),
        format!("--godot-port={godot_port}"),
        format!("--py-tls={}", python_tls.join(",")),
        format!("--proxy-port={proxy_port}"),
        format!("--misbehaving-port={misbehaving_port}"),
    ];
    let suite_args: Vec<String> = suite_args
        .into_iter()
        .chain(only.map(|text| format!("--only={text}")))
        .collect();
    let suite_args: Vec<&str> = suite_args.iter().map(String::as_str).collect();
    let counts = package::godot_counts(godot, project, &suite_args, SUITE_TIMEOUT)?;
    if !only.is_none_or(|text| lifecycle::QUIT_CHECK.contains(text)) {
        return Ok(counts);
    }
    let quit_counts = lifecycle::quit_check(godot, project, python_port);
    Ok((counts.0 + quit_counts.0, counts.1 + quit_counts.1))
}

/// Runs every multiplayer scenario of `tests/multiplayer/` at the same time, each a server
/// process and its client processes (headless Godot in `project`), and returns (passed, failed):
/// the sum of the processes' closing lines, plus one failure for each process that did not end
/// well (no closing line, a fatal log line, a crash, or still running at the timeout).
fn multiplayer_suite(godot: &Godot, project: &Path) -> Result<(usize, usize), String> {
    let started = Instant::now();
    say(format!(
        "running the multiplayer scenarios {} at the same time",
        MULTIPLAYER_SCENARIOS.join(", ")
    ));
    let results: Vec<Result<(usize, usize), String>> = thread::scope(|scope| {
        let runs: Vec<_> = MULTIPLAYER_SCENARIOS
            .iter()
            .map(|scenario| scope.spawn(move || run_scenario(godot, project, scenario)))
            .collect();
        runs.into_iter()
            .map(|run| {
                run.join()
                    .unwrap_or_else(|_| Err("a multiplayer scenario thread panicked".into()))
            })
            .collect()
    });
    let mut counts = (0, 0);
    for result in results {
        let (passed, failed) = result?;
        counts = (counts.0 + passed, counts.1 + failed);
    }
    say(format!(
        "multiplayer scenarios took {:.1} s: {} passed, {} failed",
        started.elapsed().as_secs_f64(),
        counts.0,
        counts.1
    ));
    Ok(counts)
}

/// Runs one multiplayer scenario: starts `mp_server.gd`, reads the `CLIENT <name>` lines it
/// prints before `READY <port>`, starts `mp_client.gd` for each of those clients, and waits for
/// all of them (killing what still runs after [`MULTIPLAYER_TIMEOUT`]).
fn run_scenario(godot: &Godot, project: &Path, scenario: &str) -> Result<(usize, usize), String> {
    let deadline = Instant::now() + MULTIPLAYER_TIMEOUT;
    let scenario_arg = format!("--scenario={scenario}");
    let mut server = MultiplayerProcess::start(
        godot,
        project,
        format!("{scenario}/server"),
        "mp_server.gd",
        std::slice::from_ref(&scenario_arg),
    )?;
    let mut clients = Vec::new();
    let mut port = None;
    let ready_deadline = deadline.min(Instant::now() + PEER_START_TIMEOUT);
    while port.is_none() {
        let Some(line) = server.next_line(ready_deadline) else {
            break;
        };
        if let Some(name) = line.strip_prefix("CLIENT ") {
            clients.push(name.trim().to_owned());
        } else if let Some(number) = line.strip_prefix("READY ") {
            port = number.trim().parse::<u16>().ok();
        }
    }
    let mut processes = vec![server];
    if let Some(port) = port {
        for name in &clients {
            processes.push(MultiplayerProcess::start(
                godot,
                project,
                format!("{scenario}/{name}"),
                "mp_client.gd",
                &[
                    scenario_arg.clone(),
                    format!("--name={name}"),
                    format!("--port={port}"),
                ],
            )?);
        }
    } else {
        processes[0]
            .problems
            .push("printed no READY <port> line".into());
    }
    let mut counts = (0, 0);
    for process in &mut processes {
        let (passed, failed) = process.finish(deadline);
        counts = (counts.0 + passed, counts.1 + failed);
    }
    Ok(counts)
}

/// A Godot process of the multiplayer suite, killed when dropped. Its stdout and stderr lines
/// are echoed as they come, labelled `[<scenario>/<process>]`, and kept for judging it.
struct MultiplayerProcess {
    label: String,
    peer: Peer,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
    problems: Vec<String>,
}

impl MultiplayerProcess {
    fn start(
        godot: &Godot,
        project: &Path,
        label: String,
        script: &str,
        args: &[String],
    ) -> Result<Self, String> {
        let mut command = headless_godot(godot, project);
        command
            .arg("--script")
            .arg(format!("res://tests/multiplayer/{script}"))
            .arg("--")
            .args(args)
            .arg(format!("--lifetime={MULTIPLAYER_LIFETIME_S}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        say(format!("starting {label}: {}", godot::show_cmd(&command)));
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {label}: {e}"))?;
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let peer = Peer { child };
        for pipe in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let (label, sender) = (label.clone(), sender.clone());
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if !line.trim().is_empty() {
                        println!("[{label}] {line}");
                    }
                    let _ = sender.send(line);
                }
            });
        }
        Ok(Self {
            label,
            peer,
            lines,
            log: Vec::new(),
            problems: Vec::new(),
        })
    }

    /// The next line of output, or `None` once the output ended or at `deadline`.
    fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = self.lines.recv_timeout(wait).ok()?;
        self.log.push(line.clone());
        Some(line)
    }

    /// Reads the rest of the output, waits for the process to exit (killing it at `deadline`),
    /// and returns (passed, failed): its closing line, plus one failure if it did not end well.
    fn finish(&mut self, deadline: Instant) -> (usize, usize) {
        while self.next_line(deadline).is_some() {}
        let status = loop {
            match self.peer.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => break None,
            }
        };
        let closing = self.log.iter().rev().find(|line| {
            line.starts_with(|c: char| c.is_ascii_digit())
                && line.contains(" passed, ")
                && line.ends_with(" failed")
        });
        let mut counts = closing.map_or((0, 0), |line| {
            (count_before(line, " passed"), count_before(line, " failed"))
        });
        if closing.is_none() {
            self.problems
                .push("printed no `N passed, M failed` line".into());
        }
        if let Some(line) = self
            .log
            .iter()
            .find(|line| FATAL_LOG_LINES.iter().any(|fatal| line.contains(fatal)))
        {
            self.problems.push(format!("logged: {}", line.trim()));
        }
        match status {
            None => {
                let _ = self.peer.child.kill();
                self.problems.push(format!(
                    "still running after {} s; killed",
                    MULTIPLAYER_TIMEOUT.as_secs()
                ));
            }
            Some(status) if !status.success() && counts.1 == 0 => {
                self.problems.push(format!("exited with {status}"));
            }
            Some(_) => {}
        }
        if !self.problems.is_empty() {
            println!("FAIL {}: {}", self.label, self.problems.join("; "));
            counts.1 += 1;
        }
        counts
    }
}
