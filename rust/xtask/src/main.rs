//! Project commands, run as `cargo xtask <command>`:
//!
//! - `addon [--release]`: builds the library and leaves `addons/rust_websocket/` complete.
//! - `demo`: builds the addon, finds or fetches Godot, and runs the sample project headless.
//! - `test`: every test: formatting, clippy, cargo tests, the headless Godot suite against real
//!   peers (Godot's own WebSocket server and Python `websockets`), and the demo's session.

mod certs;
mod godot;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

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
/// Log lines that fail a Godot run even when its exit code is 0.
const FATAL_LOG_LINES: [&str; 4] = [
    "SCRIPT ERROR",
    "Can't open dynamic library",
    "ObjectDB instances leaked",
    "Parse Error",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("addon") => build_addon(args.iter().any(|a| a == "--release")).map(|_| ()),
        Some("demo") => demo(),
        Some("test") => test(),
        _ => Err("usage: cargo xtask <addon [--release] | demo | test>".into()),
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

/// Runs Godot headless with `args` in `project`, prints its log, and fails on a non-zero exit
/// or a fatal line in the log. Returns the log.
fn run_godot(
    godot: &Godot,
    project: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<String, String> {
    let mut command = godot.command();
    command
        .arg("--headless")
        .arg("--path")
        .arg(project)
        .args(args);
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
    let cargo_counts = cargo_tests()?;
    let addon = build_addon(false)?;
    let godot = locate_godot()?;
    let suite_counts = godot_suite(&godot, &addon)?;
    // The sample project's session counts as one more test: it must keep working.
    run_demo(&godot, &addon)?;
    let suite_counts = (suite_counts.0 + 1, suite_counts.1);
    say(format!(
        "cargo tests: {} passed, {} failed",
        cargo_counts.0, cargo_counts.1
    ));
    say(format!(
        "headless Godot suite and demo: {} passed, {} failed",
        suite_counts.0, suite_counts.1
    ));
    let (passed, failed) = (
        cargo_counts.0 + suite_counts.0,
        cargo_counts.1 + suite_counts.1,
    );
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
    let wanted = fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
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
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// Builds a fresh project with the addon and the suite, starts the peers, runs the suite, and
/// returns (passed, failed) from its closing line.
fn godot_suite(godot: &Godot, addon: &Path) -> Result<(usize, usize), String> {
    let project = root().join("target").join("test-project");
    if project.exists() {
        fs::remove_dir_all(&project)
            .map_err(|e| format!("cannot remove {}: {e}", project.display()))?;
    }
    fs::create_dir_all(&project).map_err(|e| e.to_string())?;
    fs::write(
        project.join("project.godot"),
        "config_version=5\n\n[application]\nconfig/name=\"rust_websocket tests\"\n",
    )
    .map_err(|e| e.to_string())?;
    install_addon(addon, &project)?;
    copy_dir(&root().join("tests/godot"), &project.join("tests/godot"))?;
    copy_dir(&root().join("tests/peers"), &project.join("tests/peers"))?;
    let certificates = project.join("tests/certs");
    certs::write_test_certificates(&certificates)?;
    import(godot, &project)?;

    let python = python_venv()?;
    let mut python_server = Command::new(python);
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
    let mut godot_server = godot.command();
    godot_server
        .arg("--headless")
        .arg("--path")
        .arg(&project)
        .args([
            "--script",
            "res://tests/peers/godot_server.gd",
            "--",
            "--port=0",
        ]);
    let (_godot_peer, godot_port, _) = start_peer("Godot WebSocketPeer server", godot_server)?;

    let suite_args = [
        "--script".to_owned(),
        "res://tests/godot/run_tests.gd".to_owned(),
        "--".to_owned(),
        format!("--py-port={python_port}"),
        format!("--godot-port={godot_port}"),
        format!("--py-tls={}", python_tls.join(",")),
    ];
    let suite_args: Vec<&str> = suite_args.iter().map(String::as_str).collect();
    let log = run_godot(godot, &project, &suite_args, SUITE_TIMEOUT)?;
    let closing = log
        .lines()
        .rev()
        .find(|line| line.ends_with(" failed") && line.contains(" passed, "))
        .ok_or("the Godot suite did not print its `N passed, N failed` line")?;
    Ok((
        count_before(closing, " passed"),
        count_before(closing, " failed"),
    ))
}
