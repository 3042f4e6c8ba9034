//! The bottom layer: the workspace root, running commands (with a timeout, echoed, or judged by
//! their `N passed, M failed` lines), test peers that print `READY <port>`, counts, and folders.
//! Every other module builds on these; this one imports none of them.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use wait_timeout::ChildExt;

/// The test peers' Python packages, installed into `target/venv`.
pub const PEER_REQUIREMENTS: &str = "tests/peers/requirements.txt";
/// Longest a test peer may take to say it is listening.
const PEER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// (passed, failed) of a step.
pub type Counts = (usize, usize);

/// Prints a progress line, prefixed `xtask: `, to stderr.
pub fn say(message: impl AsRef<str>) {
    eprintln!("xtask: {}", message.as_ref());
}

/// The workspace root (this crate lives in `rust/xtask`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives two levels down")
        .to_path_buf()
}

/// The cargo that runs xtask, in the workspace root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command` with its output shown, and fails unless it succeeds.
pub fn run(command: &mut Command) -> Result<(), String> {
    let shown = show_cmd(command);
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

/// Runs `command` quietly; returns its stdout, or an error with its output's tail.
pub fn capture(command: &mut Command) -> Result<String, String> {
    let shown = show_cmd(command);
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{shown}` failed ({}){}",
            out.status,
            tail_of(&out)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Like `Command::output`, but kills the child after `timeout`.
pub fn output_with_timeout(mut command: Command, timeout: Duration) -> Result<Output, String> {
    let shown = show_cmd(&command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    // Both pipes are drained on threads, so a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "`{shown}` did not finish within {}s; killed it",
                timeout.as_secs()
            ));
        }
        Err(e) => return Err(format!("waiting for `{shown}` failed: {e}")),
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// A command's stdout followed by its stderr, as text.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The last lines of a command's stdout and stderr, for error messages.
pub fn tail_of(out: &Output) -> String {
    let text = output_text(out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(20);
    format!(", output:\n  {}", lines[start..].join("\n  "))
}

/// A shell-quoted rendering of a command line, for messages and scripts.
pub fn show_cmd(command: &Command) -> String {
    let words: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// Runs a `cargo test` command, echoing its output, and returns (passed, failed). Hand-written:
/// libtest's JSON output is unstable-only, so the stable `test result:` lines are read.
pub fn cargo_test_counts(mut command: Command) -> Result<Counts, String> {
    command.stdout(Stdio::piped());
    say(format!("running {}", show_cmd(&command)));
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start cargo test: {e}"))?;
    let mut counts = (0, 0);
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some(result) = line.strip_prefix("test result: ") {
            counts = add(
                counts,
                (
                    count_before(result, " passed"),
                    count_before(result, " failed"),
                ),
            );
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo test failed ({status})"));
    }
    Ok(counts)
}

/// The counts of the last `N passed, M failed` line of `log`, if it has one.
pub fn closing_counts(log: &str) -> Option<Counts> {
    let line = log.lines().rev().find(|line| {
        line.starts_with(|c: char| c.is_ascii_digit())
            && line.contains(" passed, ")
            && line.ends_with(" failed")
    })?;
    Some((count_before(line, " passed"), count_before(line, " failed")))
}

/// The number just before `label` in `text` ("ok. 4 passed; 0 failed" → 4 for " passed").
fn count_before(text: &str, label: &str) -> usize {
    text.split(label)
        .next()
        .and_then(|head| head.rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// `Ok` without problems, else the problems joined by `separator`.
pub fn problems_to_result(problems: Vec<String>, separator: &str) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join(separator))
    }
}

/// The sum of two counts.
pub fn add(a: Counts, b: Counts) -> Counts {
    (a.0 + b.0, a.1 + b.1)
}

/// Counts checks that each pass or fail with a reason, printing `PASS name` / `FAIL name: why`.
#[derive(Default)]
pub struct Tally {
    pub counts: Counts,
}

impl Tally {
    pub fn check(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                println!("PASS {name}");
                self.counts.0 += 1;
            }
            Err(error) => {
                println!("FAIL {name}: {error}");
                self.counts.1 += 1;
            }
        }
    }
}

/// Prints the closing `N passed, M failed` line of a command and fails when something failed.
pub fn finish((passed, failed): Counts) -> Result<(), String> {
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        return Err(format!("{failed} tests failed"));
    }
    Ok(())
}

/// A test peer process, killed when dropped.
pub struct Peer {
    pub child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command`, waits for its `READY <port>` line (the test peers' own protocol), and returns it with the port and the
/// lines it printed before (which are echoed too).
pub fn start_peer(name: &str, mut command: Command) -> Result<(Peer, u16, Vec<String>), String> {
    say(format!("starting {name}: {}", show_cmd(&command)));
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

/// The Python interpreter of the private venv `target/venv` with `requirements` (relative to the
/// root) installed, once per change of that file.
pub fn python_venv(requirements: &str) -> Result<PathBuf, String> {
    let venv = root().join("target").join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        say(format!("creating a Python venv in {}", venv.display()));
        run(Command::new(&system_python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv))?;
    }
    let path = root().join(requirements);
    let wanted = read(&path)?;
    let stamp = venv.join(format!("installed-{}", requirements.replace('/', "-")));
    if fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("-r")
            .arg(&path))?;
        write(&stamp, &wanted)?;
    }
    Ok(python)
}

/// The file's text, or an error naming it.
pub fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `contents` to `path`, or an error naming it.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Creates `dir` and its parents, or an error naming it.
pub fn create_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Removes `dir` and everything in it, if it is there.
pub fn remove_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Makes `dir` a new, empty folder (removing what was there).
pub fn fresh_dir(dir: &Path) -> Result<(), String> {
    remove_dir(dir)?;
    create_dir(dir)
}

/// Removes the file `path`, if it is there.
pub fn remove_file(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The paths in the folder `dir`, sorted, or an error naming it.
pub fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(dir).and_then(|entries| entries.map(|e| Ok(e?.path())).collect());
    let mut paths: Vec<PathBuf> =
        entries.map_err(|e: std::io::Error| format!("cannot read {}: {e}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

/// Copies the folder `from` into `to`, recursively (std has none; a crate is not worth 12 lines).
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    create_dir(to)?;
    for path in list_dir(from)? {
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            copy(&path, &target)?;
        }
    }
    Ok(())
}

/// Copies one file, or an error naming both.
pub fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}
