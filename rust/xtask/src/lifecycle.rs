//! The quit check of the headless suite: a separate Godot process (`tests/godot/lifecycle_quit.gd`)
//! quits while connections are open and one is connecting. It must exit by itself with status 0
//! and a clean log (no crash, no leaked instances, which also means the library's deinit ran and
//! stopped the I/O thread), and the Python peer must have seen each open connection end with the
//! messages sent just before the quit (32 MiB on two of them, one freed before the quit) and
//! close code 1001 (going away).

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rust_websocket_engine::{Client, ConnectRequest, Event};

use crate::godot::{fatal_line, Godot};
use crate::process::{output_text, output_with_timeout, say, Counts, Tally};

/// The check's name, as `--only=TEXT` matches it.
pub const QUIT_CHECK: &str = "lifecycle_quit_with_open_connections";
/// Longest the quitting process may run in all (start-up, connecting, quitting) before it is
/// killed and the check fails: a hang check, far above what it needs.
const QUIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections `lifecycle_quit.gd` has open when it quits (its `OPEN_CONNECTIONS`).
const OPEN_CONNECTIONS: usize = 3;
/// The first connections of `lifecycle_quit.gd` (its `LARGE_MESSAGE_CONNECTIONS`) also send a
/// message of `LARGE_MESSAGE_BYTES` just before the quit (the first is freed, the second held).
const LARGE_MESSAGE_CONNECTIONS: usize = 2;
const LARGE_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// Longest a question to the Python peer may take.
const PEER_WATCHDOG: Duration = Duration::from_secs(20);

/// Runs the quit check against the Python peer on `python_port`; prints `PASS`/`FAIL` per
/// check and returns (passed, failed).
pub fn quit_check(godot: &Godot, project: &Path, python_port: u16) -> Counts {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let id = format!("quit-{}-{nanos}", std::process::id());
    let mut command = godot.headless(project);
    command.args([
        "--script".to_owned(),
        "res://tests/godot/lifecycle_quit.gd".to_owned(),
        "--".to_owned(),
        format!("--py-port={python_port}"),
        format!("--id={id}"),
    ]);
    say("running the quit check (tests/godot/lifecycle_quit.gd)");
    let started = Instant::now();
    let mut tally = Tally::default();
    let check = |name: &str| format!("{QUIT_CHECK}/{name}");
    match output_with_timeout(command, QUIT_TIMEOUT) {
        Err(error) => tally.check(&check("exits_by_itself"), Err(error)),
        Ok(output) => {
            let log = output_text(&output);
            print!("{log}");
            say(format!(
                "the quitting process ran {:.1} s in all",
                started.elapsed().as_secs_f64()
            ));
            let exited = if !log.contains("QUITTING") {
                Err("it never had its connections open".to_owned())
            } else if !output.status.success() {
                Err(format!("it exited with {}", output.status))
            } else {
                Ok(())
            };
            tally.check(&check("exits_by_itself_with_status_0"), exited);
            let fatal =
                fatal_line(&log).map_or(Ok(()), |line| Err(format!("logged: {}", line.trim())));
            tally.check(&check("clean_log"), fatal);
        }
    }
    for n in 0..OPEN_CONNECTIONS {
        let record = format!("{id}-{n}");
        let mut messages = vec!["text:before quit".to_owned()];
        if n < LARGE_MESSAGE_CONNECTIONS {
            messages.push(format!("binary:{LARGE_MESSAGE_BYTES}"));
        }
        let seen = recorded(python_port, &record).and_then(|report| {
            let expected = serde_json::json!({
                "done": true,
                "messages": messages,
                "close_code": 1001,
            });
            let got = serde_json::json!({
                "done": report["done"],
                "messages": report["messages"],
                "close_code": report["close_code"],
            });
            if got == expected {
                Ok(())
            } else {
                Err(format!("the server saw {got}, expected {expected}"))
            }
        });
        tally.check(&check(&format!("server_saw_connection_{n}_go_away")), seen);
    }
    tally.counts
}

/// The Python peer's report on its `/record?id=<record>` connection (see `py_server.py`).
fn recorded(python_port: u16, record: &str) -> Result<serde_json::Value, String> {
    let url = format!("ws://127.0.0.1:{python_port}/received?id={record}");
    let request = ConnectRequest::new(&url).map_err(|e| e.to_string())?;
    let mut client = Client::default();
    client.connect(request).map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        match client.poll_event() {
            Some(Event::MessageReceived) => break,
            Some(Event::Failed | Event::Closed { .. }) => {
                let error = client.last_error().map(ToString::to_string);
                return Err(format!("{url} ended early: {}", error.unwrap_or_default()));
            }
            Some(_) => {}
            None if started.elapsed() > PEER_WATCHDOG => {
                return Err(format!(
                    "{url} sent nothing within {} s",
                    PEER_WATCHDOG.as_secs()
                ));
            }
            None => thread::sleep(Duration::from_millis(5)),
        }
    }
    let message = client.take_message().ok_or("no message")?;
    let _ = client.close(1000, "");
    serde_json::from_slice(message.as_bytes()).map_err(|e| format!("{url} answered: {e}"))
}
