//! The multiplayer scenarios (`tests/multiplayer/scenarios.gd`): separate headless Godot
//! processes around a Godot `WebSocketMultiplayerPeer` server, every scenario at the same time.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::godot::{fatal_line, Godot};
use crate::process::{add, closing_counts, say, show_cmd, Counts, Peer};

/// The multiplayer scenarios, each a server process and its client processes.
const SCENARIOS: [&str; 4] = ["session", "graceful", "tls", "protocol"];
/// Seconds after which a multiplayer test process gives up (fails) and exits by itself.
const LIFETIME_S: u64 = 40;
/// Longest a multiplayer scenario may take; then its processes are killed.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest the server may take to say it is listening.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs every multiplayer scenario of `tests/multiplayer/` at the same time, each a server
/// process and its client processes (headless Godot in `project`), and returns (passed, failed):
/// the sum of the processes' closing lines, plus one failure for each process that did not end
/// well (no closing line, a fatal log line, a crash, or still running at the timeout).
pub fn multiplayer_suite(godot: &Godot, project: &Path) -> Result<Counts, String> {
    let started = Instant::now();
    say(format!(
        "running the multiplayer scenarios {} at the same time",
        SCENARIOS.join(", ")
    ));
    let results: Vec<Result<Counts, String>> = thread::scope(|scope| {
        let runs: Vec<_> = SCENARIOS
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
        counts = add(counts, (passed, failed));
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
/// all of them (killing what still runs after [`SCENARIO_TIMEOUT`]).
fn run_scenario(godot: &Godot, project: &Path, scenario: &str) -> Result<Counts, String> {
    let deadline = Instant::now() + SCENARIO_TIMEOUT;
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
    let ready_deadline = deadline.min(Instant::now() + READY_TIMEOUT);
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
        counts = add(counts, (passed, failed));
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
        let mut command = godot.headless(project);
        command
            .arg("--script")
            .arg(format!("res://tests/multiplayer/{script}"))
            .arg("--")
            .args(args)
            .arg(format!("--lifetime={LIFETIME_S}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        say(format!("starting {label}: {}", show_cmd(&command)));
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
    fn finish(&mut self, deadline: Instant) -> Counts {
        while self.next_line(deadline).is_some() {}
        let wait = deadline.saturating_duration_since(Instant::now());
        let status = self.peer.child.wait_timeout(wait).ok().flatten();
        let log = self.log.join("\n");
        let closing = closing_counts(&log);
        if closing.is_none() {
            self.problems
                .push("printed no `N passed, M failed` line".into());
        }
        let mut counts = closing.unwrap_or_default();
        if let Some(line) = fatal_line(&log) {
            self.problems.push(format!("logged: {}", line.trim()));
        }
        match status {
            None => {
                let _ = self.peer.child.kill();
                self.problems.push(format!(
                    "still running after {} s; killed",
                    SCENARIO_TIMEOUT.as_secs()
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
