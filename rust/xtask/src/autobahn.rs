//! Autobahn|Testsuite, client side: every case 1.* to 10.* of the suite's fuzzingserver
//! (`tests/autobahn/`) run through the engine crate directly and through `RustWebSocketClient`
//! in headless Godot, each agent's verdicts compared with its committed baseline.
//!
//! The fuzzingserver is Python 2.7 only: it runs from pyenv's 2.7.18 when there is one, else
//! from Debian bullseye's `python2.7` fetched privately into `target/` (see [`python2`]), with
//! its pinned packages installed once into `target/autobahn/` by pip 20.3.4.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use rust_websocket_engine::{Client, ConnectRequest, Event, Message};
use serde_json::Value;

use crate::debian;
use crate::godot::{run_godot, Godot};
use crate::process::{
    add, python_venv, read, remove_dir, root, run, say, show_cmd, start_peer, write, Counts,
    PEER_REQUIREMENTS,
};

/// The pip that installs the fuzzingserver's packages: the last release for Python 2.7.
const PIP_VERSION: &str = "20.3.4";
/// The setuptools that builds the packages only published as source: the last for Python 2.7.
const SETUPTOOLS: &str = "setuptools==44.1.1";
/// pyenv's Python 2.7, used when present.
const PYENV_PYTHON2: &str = "versions/2.7.18/bin/python";
/// A case whose connection is still open after this long is abandoned (and fails).
const CASE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest the Godot agent's whole run may take; then it is killed.
const GODOT_AGENT_TIMEOUT: Duration = Duration::from_secs(900);
/// How long the engine agent sleeps when nothing happened, like a game between frames.
const POLL_INTERVAL: Duration = Duration::from_millis(1);
/// Verdicts a case may end with (for both `behavior` and `behaviorClose`).
const ACCEPTED: [&str; 3] = ["OK", "NON-STRICT", "INFORMATIONAL"];
/// Cases whose verdict is a race for a client that reads on a background thread, as ours does:
/// the server sends a text message, then an invalid frame in separate writes (frame by frame or
/// octet by octet). OK when the game's echo leaves before the invalid frame is read, NON-STRICT
/// when the connection fails first. Either accepted verdict passes for them, whatever the
/// baseline holds.
const TIMING_DEPENDENT: [&str; 4] = ["3.3", "3.4", "4.1.5", "4.2.5"];

/// Who runs the cases: the agent name the fuzzingserver files them under, and its baseline.
#[derive(Clone, Copy)]
enum Agent {
    /// The engine crate, driven from this process.
    Engine,
    /// `RustWebSocketClient` in headless Godot (`tests/autobahn/autobahn_client.gd`), echoing
    /// through these API paths.
    Godot(GodotPaths),
}

/// The API paths a Godot agent receives and echoes through (`autobahn_client.gd`'s `--receive`
/// and `--send`), and the cases it runs.
#[derive(Clone, Copy)]
struct GodotPaths {
    receive: &'static str,
    send: &'static str,
    /// Comma-separated prefixes of the case ids it runs; empty: every case.
    cases: &'static str,
    /// Comma-separated ids of cases it leaves out, with the reason in [`GODOT_AGENTS`].
    skip: &'static str,
}

/// The fast cases: everything but 9.* (messages up to 16 MB) and 12.*/13.* (compression, 1000
/// messages each).
const FAST_CASES: &str = "1.,2.,3.,4.,5.,6.,7.,10.";

/// Every receiving and every sending path meets the suite: the first agent runs every case
/// through `get_packet` and `send`; the others pair the remaining paths, the fast cases each, and
/// the large-message cases 9.* through `put_packet` (whose 9.8.1, 1000 empty messages, once
/// stalled).
const GODOT_AGENTS: [GodotPaths; 4] = [
    GodotPaths {
        receive: "get_packet",
        send: "send",
        cases: "",
        skip: "",
    },
    GodotPaths {
        receive: "message_received",
        send: "put_packet",
        cases: "1.,2.,3.,4.,5.,6.,7.,9.,10.",
        skip: "",
    },
    GodotPaths {
        receive: "data_received",
        send: "peer_put_packet",
        cases: FAST_CASES,
        skip: "",
    },
    GodotPaths {
        receive: "take_messages",
        send: "send_messages",
        cases: FAST_CASES,
        // Its text is U+0000, which take_messages() hands over as bytes (a Godot String cannot
        // hold it), so send_messages() echoes it as binary; message_received's agent runs it.
        skip: "6.7.1",
    },
];

impl Agent {
    fn name(self) -> String {
        match self {
            Agent::Engine => "rust_websocket_engine".into(),
            Agent::Godot(paths) if paths.cases.is_empty() => "RustWebSocketClient".into(),
            Agent::Godot(paths) => format!("RustWebSocketClient-{}-{}", paths.receive, paths.send),
        }
    }

    fn baseline(self) -> PathBuf {
        let file = match self {
            Agent::Engine => "baseline-engine.json".into(),
            Agent::Godot(paths) if paths.cases.is_empty() => "baseline-godot.json".into(),
            Agent::Godot(paths) => format!("baseline-godot-{}-{}.json", paths.receive, paths.send),
        };
        root().join("tests/autobahn").join(file)
    }
}

/// The fuzzingserver's verdict on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verdict {
    behavior: String,
    behavior_close: String,
}

impl Verdict {
    /// The verdict in a report or baseline entry: `{"behavior": .., "behaviorClose": ..}`.
    fn from_json(entry: &Value) -> Option<Self> {
        let field = |name: &str| entry.get(name)?.as_str().map(str::to_owned);
        Some(Self {
            behavior: field("behavior")?,
            behavior_close: field("behaviorClose")?,
        })
    }

    fn accepted(&self) -> bool {
        ACCEPTED.contains(&self.behavior.as_str())
            && ACCEPTED.contains(&self.behavior_close.as_str())
    }
}

/// Verdicts by case id, e.g. "9.1.6".
type Verdicts = BTreeMap<String, Verdict>;

/// Runs every case through the agents whose name contains `only` (all without it) against one
/// fuzzingserver and compares the verdicts with the baselines (or rewrites them). Returns
/// (passed, failed), one count per case and agent: a case passes when its verdict is accepted and
/// matches the baseline; an agent whose run broke off counts one failure.
pub fn run_agents(
    godot: &Godot,
    project: &Path,
    update_baseline: bool,
    only: Option<&str>,
) -> Result<Counts, String> {
    let started = Instant::now();
    let python = python2()?;
    let packages = install_packages(&python)?;
    let reports = root().join("target/autobahn/reports");
    remove_dir(&reports)?;
    let mut server = python.command();
    server
        .arg(root().join("tests/autobahn/fuzzingserver.py"))
        .arg("--packages")
        .arg(&packages)
        .arg("--spec")
        .arg(root().join("tests/autobahn/fuzzingserver.json"))
        .arg("--outdir")
        .arg(&reports);
    let (_server, port, _) = start_peer("Autobahn fuzzingserver", server)?;

    let mut counts = (0, 0);
    let agents = std::iter::once(Agent::Engine).chain(GODOT_AGENTS.map(Agent::Godot));
    for agent in agents.filter(|agent| only.is_none_or(|text| agent.name().contains(text))) {
        let agent_started = Instant::now();
        say(format!("Autobahn: running every case as {}", agent.name()));
        // An agent whose run broke off is one failure; the other agent still runs.
        let (passed, failed) = run_agent(agent, godot, project, port, &reports, update_baseline)
            .unwrap_or_else(|error| {
                println!("FAIL autobahn {}: {error}", agent.name());
                (0, 1)
            });
        say(format!(
            "Autobahn {} took {:.1} s: {passed} passed, {failed} failed",
            agent.name(),
            agent_started.elapsed().as_secs_f64()
        ));
        counts = add(counts, (passed, failed));
    }
    say(format!(
        "Autobahn took {:.1} s in all (reports: {})",
        started.elapsed().as_secs_f64(),
        reports.join("index.html").display()
    ));
    Ok(counts)
}

// ---------------------------------------------------------------------------
// The agents.

/// Runs every case as `agent` and judges the verdicts (see [`judge`]); a case that did not open
/// or did not end in time counts as one more failure.
fn run_agent(
    agent: Agent,
    godot: &Godot,
    project: &Path,
    port: u16,
    reports: &Path,
    update_baseline: bool,
) -> Result<Counts, String> {
    let stuck = match agent {
        Agent::Engine => run_engine_agent(port)?,
        Agent::Godot(paths) => run_godot_agent(godot, project, port, agent, paths)?,
    };
    let results = read_results(reports, agent)?;
    let (passed, failed) = judge(agent, &results, update_baseline)?;
    if stuck > 0 {
        println!(
            "FAIL autobahn {}: {stuck} cases did not open or did not end within {} s",
            agent.name(),
            CASE_TIMEOUT.as_secs()
        );
    }
    Ok((passed, failed + stuck))
}

/// Runs every case through the engine crate: `/getCaseCount`, each `/runCase`, `/updateReports`.
/// Returns how many cases did not open or did not end in time (each counts as a failure).
fn run_engine_agent(port: u16) -> Result<usize, String> {
    let url = |path: String| format!("ws://127.0.0.1:{port}{path}");
    let answer = engine_session(&url("/getCaseCount".into()), false)?;
    let count: usize = answer
        .first()
        .and_then(|message| std::str::from_utf8(message.as_bytes()).ok())
        .and_then(|text| text.trim().parse().ok())
        .ok_or("the fuzzingserver's /getCaseCount answered no case count")?;
    let agent = Agent::Engine.name();
    let mut stuck = 0;
    for case in 1..=count {
        if let Err(error) =
            engine_session(&url(format!("/runCase?case={case}&agent={agent}")), true)
        {
            println!("autobahn {agent}: case {case}: {error}");
            stuck += 1;
        }
    }
    engine_session(&url(format!("/updateReports?agent={agent}")), false)?;
    Ok(stuck)
}

/// Connects to `url` and polls until the connection ends. With `echo`, every message is sent
/// back as received; otherwise the messages are returned. Fails when the connection does not
/// open or does not end within [`CASE_TIMEOUT`]; a connection the engine fails is not an error
/// here (that is often the right answer to a case).
fn engine_session(url: &str, echo: bool) -> Result<Vec<Message>, String> {
    let mut client = Client::default();
    let request = ConnectRequest::new(url).map_err(|e| e.to_string())?;
    client.connect(request).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + CASE_TIMEOUT;
    let mut kept = Vec::new();
    loop {
        let Some(event) = client.poll_event() else {
            if Instant::now() > deadline {
                return Err(format!(
                    "{url} did not end within {} s",
                    CASE_TIMEOUT.as_secs()
                ));
            }
            thread::sleep(POLL_INTERVAL);
            continue;
        };
        match event {
            Event::MessageReceived => {
                let message = client.take_message().expect("a message was announced");
                if echo {
                    // Fails only once the connection is closing, when nothing can be sent.
                    let _ = client.send(message);
                } else {
                    kept.push(message);
                }
            }
            Event::Failed => {
                let error = client.last_error().map(ToString::to_string);
                return Err(format!("{url} failed: {}", error.unwrap_or_default()));
            }
            Event::Closed { .. } => return Ok(kept),
            // Auto-reconnect and the multiplayer mode are off here, so their events never come.
            Event::Opened { .. }
            | Event::CloseRequested { .. }
            | Event::Reconnecting { .. }
            | Event::Reconnected
            | Event::ReconnectFailed { .. }
            | Event::ReconnectQueueDiscarded { .. }
            | Event::PeerIdAssigned { .. }
            | Event::MultiplayerHandshakeFailed => {}
        }
    }
}

/// Runs every case through `RustWebSocketClient` in headless Godot. Returns how many cases did
/// not open or did not end in time (its `CASE <n> ...` lines).
fn run_godot_agent(
    godot: &Godot,
    project: &Path,
    port: u16,
    agent: Agent,
    paths: GodotPaths,
) -> Result<usize, String> {
    let args = [
        "--script".to_owned(),
        "res://tests/autobahn/autobahn_client.gd".to_owned(),
        "--".to_owned(),
        format!("--port={port}"),
        format!("--agent={}", agent.name()),
        format!("--receive={}", paths.receive),
        format!("--send={}", paths.send),
        format!("--cases={}", paths.cases),
        format!("--skip={}", paths.skip),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = run_godot(godot, project, &args, GODOT_AGENT_TIMEOUT)?;
    Ok(log.lines().filter(|line| line.starts_with("CASE ")).count())
}

// ---------------------------------------------------------------------------
// Verdicts and baselines.

/// The agent's verdicts from the fuzzingserver's `index.json`.
fn read_results(reports: &Path, agent: Agent) -> Result<Verdicts, String> {
    let index = reports.join("index.json");
    let text = fs::read_to_string(&index)
        .map_err(|e| format!("cannot read the Autobahn report {}: {e}", index.display()))?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", index.display()))?;
    let cases = report
        .get(agent.name())
        .ok_or_else(|| format!("{} has no results for {}", index.display(), agent.name()))?;
    verdicts(cases).ok_or_else(|| format!("{} is not an Autobahn report", index.display()))
}

/// Verdicts from a JSON object of case id → `{"behavior": .., "behaviorClose": .., ...}`.
fn verdicts(cases: &Value) -> Option<Verdicts> {
    cases
        .as_object()?
        .iter()
        .map(|(case, entry)| Some((case.clone(), Verdict::from_json(entry)?)))
        .collect()
}

/// Compares the agent's verdicts with its baseline (rewriting the baseline first when asked),
/// prints each difference and each unaccepted verdict, and returns (passed, failed) by case.
fn judge(agent: Agent, results: &Verdicts, update_baseline: bool) -> Result<Counts, String> {
    let path = agent.baseline();
    if update_baseline {
        write(&path, baseline_text(results))?;
        say(format!("wrote {}", path.display()));
    }
    let baseline: Verdicts = match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .ok()
            .as_ref()
            .and_then(verdicts)
            .ok_or_else(|| format!("{} is not a baseline", path.display()))?,
        Err(e) => {
            say(format!(
                "no baseline {} ({e}); `cargo xtask autobahn --update-baseline` writes it",
                path.display()
            ));
            Verdicts::new()
        }
    };
    let mut cases: Vec<&String> = results.keys().chain(baseline.keys()).collect();
    cases.sort_by_key(|case| case_order(case));
    cases.dedup();
    let shown = |verdict: Option<&Verdict>| {
        verdict.map_or("no verdict".to_owned(), |v| {
            format!("{} (close {})", v.behavior, v.behavior_close)
        })
    };
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let (now, then) = (results.get(case), baseline.get(case));
        if let Some(now) = now {
            *tally.entry(now.behavior.as_str()).or_default() += 1;
        }
        let mut problems = Vec::new();
        let race = TIMING_DEPENDENT.contains(&case.as_str())
            && now.is_some_and(Verdict::accepted)
            && then.is_some_and(Verdict::accepted);
        if now != then && !race {
            problems.push(format!("{}, baseline {}", shown(now), shown(then)));
        }
        if now.is_some_and(|now| !now.accepted()) {
            problems.push(format!("{} is not accepted", shown(now)));
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            println!(
                "FAIL autobahn {} {case}: {}",
                agent.name(),
                problems.join("; ")
            );
        }
    }
    let tally: Vec<String> = tally.iter().map(|(b, n)| format!("{b} {n}")).collect();
    say(format!(
        "Autobahn {}: {} of {} cases ({})",
        agent.name(),
        tally.join(", "),
        results.len(),
        if failed == 0 {
            "as in the baseline"
        } else {
            "see FAIL lines"
        }
    ));
    Ok((passed, failed))
}

/// A case id's numbers, so "9.10" sorts after "9.2".
fn case_order(case: &str) -> Vec<u32> {
    case.split('.')
        .map(|n| n.parse().unwrap_or(u32::MAX))
        .collect()
}

/// A baseline file: one case per line in case order, without timings.
fn baseline_text(results: &Verdicts) -> String {
    let mut cases: Vec<(&String, &Verdict)> = results.iter().collect();
    cases.sort_by_key(|(case, _)| case_order(case));
    let lines: Vec<String> = cases
        .iter()
        .map(|(case, verdict)| {
            format!(
                "  {}: {{\"behavior\": {}, \"behaviorClose\": {}}}",
                serde_json::Value::from(case.as_str()),
                serde_json::Value::from(verdict.behavior.as_str()),
                serde_json::Value::from(verdict.behavior_close.as_str()),
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

// ---------------------------------------------------------------------------
// The fuzzingserver's Python 2.7 and its packages.

/// A Python 2.7 interpreter.
struct Python2 {
    program: PathBuf,
    /// Environment for building C extensions with it.
    build_env: Vec<(&'static str, OsString)>,
}

impl Python2 {
    fn command(&self) -> Command {
        Command::new(&self.program)
    }
}

/// pyenv's Python 2.7.18 (under `$PYENV_ROOT`, default `~/.pyenv`) when it is installed, else
/// Debian bullseye's `python2.7` fetched into `target/python2` (see [`debian::fetch_binary`]).
fn python2() -> Result<Python2, String> {
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")));
    if let Some(python) = pyenv_root.map(|root| root.join(PYENV_PYTHON2)) {
        if python.is_file() {
            say(format!(
                "Autobahn: using pyenv's Python 2.7 ({})",
                python.display()
            ));
            return Ok(Python2 {
                program: python,
                build_env: Vec::new(),
            });
        }
    }
    say("Autobahn: no pyenv Python 2.7.18; using Debian bullseye's python2.7");
    let cache = root().join("target/python2");
    let (loader, library_path) = debian::fetch_binary(
        &cache,
        "bullseye",
        &["python2.7", "libpython2.7-dev", "patchelf"],
        "usr/bin/python2.7",
    )?;
    // pip runs build steps as `sys.executable`, so the interpreter must start by itself: its
    // ELF interpreter and library path become the unpacked tree's (again each time; harmless).
    let python = cache.join("root/usr/bin/python2.7");
    run(Command::new(&loader)
        .arg("--library-path")
        .arg(&library_path)
        .arg(cache.join("root/usr/bin/patchelf"))
        .arg("--set-interpreter")
        .arg(&loader)
        .arg("--force-rpath")
        .arg("--set-rpath")
        .arg(&library_path)
        .arg(&python))?;
    // Debian's distutils names /usr/include/python2.7 for Python.h, and its pyconfig.h includes
    // <x86_64-linux-gnu/python2.7/pyconfig.h>: both are in the unpacked tree instead. That
    // tree's C library headers come last, after the compiler's own. Setting CFLAGS drops
    // Debian's -O2, without which ujson 1.35's inline helpers are left undefined.
    let include = cache.join("root/usr/include");
    let mut cflags = OsString::from("-O2 -I");
    cflags.push(include.join("python2.7"));
    cflags.push(" -idirafter ");
    cflags.push(&include);
    Ok(Python2 {
        program: python,
        build_env: vec![("CFLAGS", cflags)],
    })
}

/// Installs `tests/autobahn/requirements.txt` with pip 20.3.4 into
/// `target/autobahn/python-packages`, unless it holds them for this interpreter. Returns it.
fn install_packages(python: &Python2) -> Result<PathBuf, String> {
    let requirements = root().join("tests/autobahn/requirements.txt");
    let pins = read(&requirements)?;
    // Installed again when the pins or the interpreter change.
    let key = format!("{}\n{pins}", show_cmd(&python.command()));
    let folder = root().join("target/autobahn/python-packages");
    let stamp = folder.join("installed.txt");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str()) {
        return Ok(folder);
    }
    remove_dir(&folder)?;
    // pip 20.3.4 runs straight from its wheel, so the interpreter needs no pip of its own.
    let wheels = root().join("target/autobahn/pip");
    let pip_wheel = wheels.join(format!("pip-{PIP_VERSION}-py2.py3-none-any.whl"));
    if !pip_wheel.is_file() {
        run(Command::new(python_venv(PEER_REQUIREMENTS)?)
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "-d"])
            .arg(&wheels)
            .arg(format!("pip=={PIP_VERSION}")))?;
    }
    let pip = || {
        let mut command = python.command();
        command.arg(pip_wheel.join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]);
        command
    };
    // pip builds the source-only packages with `setup.py`, which needs setuptools.
    let setuptools = root().join("target/autobahn/setuptools");
    run(pip()
        .arg("--upgrade")
        .arg("--target")
        .arg(&setuptools)
        .arg(SETUPTOOLS))?;
    say(format!(
        "Autobahn: installing the fuzzingserver's packages into {}",
        folder.display()
    ));
    run(pip()
        .env("PYTHONPATH", &setuptools)
        .envs(python.build_env.iter().map(|(k, v)| (k, v)))
        .args(["--no-warn-script-location", "--target"])
        .arg(&folder)
        .arg("-r")
        .arg(&requirements))?;
    write(&stamp, key)?;
    Ok(folder)
}
