//! `cargo xtask bench [--smoke]`: every benchmark scenario, side by side for four contenders
//! against one Rust echo server (`rust/bench`), written to `bench/results.md` and
//! `bench/results.svg`.
//!
//! The contenders: `RustWebSocketClient` and Godot's `WebSocketPeer`, both driven by the same
//! GDScript (`bench/godot/bench.gd`) in headless Godot; the engine crate used directly from Rust;
//! and a plain tungstenite client, the limit (`rust/bench/src/bin/bench_client.rs`). A benchmark
//! measures and reports; nothing here fails on a time. `--smoke` runs every scenario once with
//! tiny counts on the debug build and writes to `target/bench-smoke/`, so the test command keeps
//! the harness working. `--only=TEXT` (scenario titles containing it), `--contender=KEY` and
//! `--runs=N` narrow a run while working on one figure; its results go to `target/bench-partial/`.
//! `--debugger` runs the Godot contenders as if the editor's debugger were attached
//! (`--remote-debug` to a sink that reads and discards), to measure what the debugger reports of
//! `rust/gdext/src/debugger.rs` cost; its results go to `target/bench-partial/` too.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::certs;
use crate::godot::{self, Godot};
use crate::process::{
    copy_dir, create_dir, output_with_timeout, root, say, start_peer, write, Counts, Peer,
};
use crate::project::{build_addon, cargo_build, import, library_file_name, new_project, ADDON_DIR};

/// Longest one run of one scenario may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);
/// Runs of each scenario and contender in a full benchmark; the table shows their median.
const FULL_RUNS: usize = 5;
/// The inbound limit of the slow-consumer scenario (scenario 7), for both of ours.
const SLOW_CONSUMER_LIMIT: usize = 1 << 20;

/// One client under test.
struct Contender {
    key: &'static str,
    label: &'static str,
    /// Driven from GDScript in Godot (else a Rust process).
    in_godot: bool,
    /// The only scenario kinds it runs (empty: all).
    kinds: &'static [&'static str],
}

/// A contender in one line: key, label, driven from Godot, the only kinds it runs (empty: all).
const fn contender(
    key: &'static str,
    label: &'static str,
    in_godot: bool,
    kinds: &'static [&'static str],
) -> Contender {
    Contender {
        key,
        label,
        in_godot,
        kinds,
    }
}

const CONTENDERS: [Contender; 5] = [
    contender("rust", "RustWebSocketClient (GDScript)", true, &[]),
    contender(
        "rust_batch",
        "RustWebSocketClient, batch calls (GDScript)",
        true,
        &["small", "large"],
    ),
    contender("godot", "Godot WebSocketPeer (GDScript)", true, &[]),
    contender("engine", "engine crate (Rust)", false, &[]),
    // Not the 10,000 connections: a blocking handshake each, and 128 KiB of read buffer each.
    contender(
        "tungstenite",
        "plain tungstenite (Rust)",
        false,
        &[
            "small", "large", "latency", "connect", "idle", "scale", "slow",
        ],
    ),
];
const OURS: usize = 0;
const OURS_BATCH: usize = 1;
const GODOT: usize = 2;
const TUNGSTENITE: usize = 4;

/// What a target compares, for one metric of `RustWebSocketClient`.
#[derive(Clone, Copy)]
enum Target {
    /// At least this many times Godot's value (higher is better).
    TimesGodot(f64),
    /// At least this share of plain tungstenite's value (higher is better).
    ShareOfTungstenite(f64),
    /// No worse than Godot's value (lower is better).
    NoWorseThanGodot,
    /// Below this value.
    Below(f64),
    /// Exactly zero.
    Zero,
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::TimesGodot(times) => format!("≥ {times}× Godot"),
            Target::ShareOfTungstenite(share) => format!("≥ {share}× tungstenite"),
            Target::NoWorseThanGodot => "≤ Godot".into(),
            Target::Below(limit) => format!("< {limit}"),
            Target::Zero => "= 0".into(),
        }
    }

    /// Whether `ours` meets the target; None when a value it needs is missing.
    fn met(self, ours: f64, godot: Option<f64>, tungstenite: Option<f64>) -> Option<bool> {
        Some(match self {
            Target::TimesGodot(times) => ours >= times * godot?,
            Target::ShareOfTungstenite(share) => ours >= share * tungstenite?,
            Target::NoWorseThanGodot => ours <= godot?,
            Target::Below(limit) => ours < limit,
            Target::Zero => ours == 0.0,
        })
    }
}

/// A metric in one line: key, label, whether higher is better, its targets.
const fn metric(
    key: &'static str,
    label: &'static str,
    higher_is_better: bool,
    targets: &'static [Target],
) -> Metric {
    Metric {
        key,
        label,
        higher_is_better,
        targets,
    }
}

/// One figure a scenario reports.
struct Metric {
    key: &'static str,
    label: &'static str,
    higher_is_better: bool,
    targets: &'static [Target],
}

/// One benchmark scenario and its options for the drivers.
struct Scenario {
    title: &'static str,
    /// The drivers' `--scenario`.
    kind: &'static str,
    path: String,
    tls: bool,
    options: Vec<(&'static str, usize)>,
    /// WebSocketPeer's buffer sizes, which it needs raised for large messages (0: defaults).
    godot_buffer: usize,
    metrics: &'static [Metric],
    note: &'static str,
}

const THROUGHPUT_MSGS: &[Metric] = &[metric(
    "msgs_per_s",
    "messages/s",
    true,
    &[Target::TimesGodot(3.0)],
)];
const THROUGHPUT_MB: &[Metric] = &[metric(
    "mb_per_s",
    "MB/s",
    true,
    &[Target::TimesGodot(5.0), Target::ShareOfTungstenite(0.7)],
)];
const LATENCY: &[Metric] = &[
    metric("p50_us", "p50 µs", false, &[Target::NoWorseThanGodot]),
    metric("p99_us", "p99 µs", false, &[Target::NoWorseThanGodot]),
];
const CONNECT: &[Metric] = &[metric(
    "ms_each",
    "ms per connect",
    false,
    &[Target::NoWorseThanGodot],
)];
const IDLE: &[Metric] = &[metric(
    "us_per_frame",
    "µs per frame",
    false,
    &[Target::NoWorseThanGodot, Target::Below(1000.0)],
)];
const SCALE: &[Metric] = &[
    metric(
        "kib_per_conn",
        "KiB per connection",
        false,
        &[Target::NoWorseThanGodot],
    ),
    metric("threads", "threads in the process", false, &[]),
    metric(
        "extra_threads",
        "threads added",
        false,
        &[Target::Below(4.0)],
    ),
    metric("lost", "messages lost", false, &[Target::Zero]),
];
const SLOW: &[Metric] = &[
    metric("peak_rss_mib", "peak RSS growth MiB", false, &[]),
    metric("lost", "messages lost", false, &[Target::Zero]),
];

const CROWD: &[Metric] = &[
    metric(
        "rss_mib",
        "resident MiB, whole process",
        false,
        &[Target::Below(300.0)],
    ),
    metric(
        "us_per_frame",
        "µs per frame to poll all",
        false,
        &[Target::Below(3000.0)],
    ),
    metric("threads", "threads in the process", false, &[]),
    metric(
        "threads_beyond_ten",
        "threads beyond those with 10 connections",
        false,
        &[Target::Zero],
    ),
    metric("lost", "messages lost", false, &[Target::Zero]),
];
/// Connections of scenario 8 (the process and the echo server each need this many open files).
const CROWD_CONNECTIONS: usize = 10_000;

fn scenarios(smoke: bool) -> Vec<Scenario> {
    let pick = |full: usize, tiny: usize| if smoke { tiny } else { full };
    let echo = || "/echo".to_owned();
    let throughput = |title, kind, count, inflight, size, godot_buffer, metrics, note| Scenario {
        title,
        kind,
        path: echo(),
        tls: false,
        options: vec![("count", count), ("inflight", inflight), ("size", size)],
        godot_buffer,
        metrics,
        note,
    };
    let connect = |title, tls| Scenario {
        title,
        kind: "connect",
        path: echo(),
        tls,
        options: vec![("count", pick(100, 3))],
        godot_buffer: 0,
        metrics: CONNECT,
        note: "Sequential connects, from the call to OPEN; the median of each run.",
    };
    let slow_count = pick(100_000, 1_000);
    vec![
        throughput(
            "1. Small messages: 16-byte text echo, 1,000 in flight",
            "small",
            pick(200_000, 2_000),
            pick(1_000, 100),
            16,
            0,
            THROUGHPUT_MSGS,
            "",
        ),
        throughput(
            "2. Large messages: 1 MB binary echo, 8 in flight",
            "large",
            pick(400, 8),
            8,
            pick(1_000_000, 100_000),
            64 << 20,
            THROUGHPUT_MB,
            "WebSocketPeer's buffers raised to 64 MiB (its default 64 KiB cannot hold one message).",
        ),
        throughput(
            "2. Large messages: 16 MB binary echo, 8 in flight",
            "large",
            pick(48, 4),
            pick(8, 2),
            pick(16_000_000, 1_000_000),
            256 << 20,
            THROUGHPUT_MB,
            "WebSocketPeer's buffers raised to 256 MiB (8 messages in flight must fit).",
        ),
        Scenario {
            title: "3. Round-trip latency: one 16-byte message at a time",
            kind: "latency",
            path: echo(),
            tls: false,
            options: vec![("count", pick(10_000, 100))],
            godot_buffer: 0,
            metrics: LATENCY,
            note: "The game's thread polls in a tight loop until the echo is back.",
        },
        connect("4. Connection setup: ws://", false),
        connect("4. Connection setup: wss:// (TLS 1.3)", true),
        Scenario {
            title: "5. Per-frame cost: 1,000 idle open connections, each polled once",
            kind: "idle",
            path: echo(),
            tls: false,
            options: vec![("connections", pick(1_000, 20)), ("frames", pick(300, 10))],
            godot_buffer: 0,
            metrics: IDLE,
            note: "The median over the frames of one run.",
        },
        Scenario {
            title: "6. Scale: 1,000 connections in one process, each echoing a message per frame",
            kind: "scale",
            path: echo(),
            tls: false,
            options: vec![("connections", pick(1_000, 20)), ("seconds", pick(10, 1))],
            godot_buffer: 0,
            metrics: SCALE,
            note: "60 frames per second; memory is the growth of resident memory divided by the \
                   connections; threads are those the process gained by opening them.",
        },
        Scenario {
            title: "7. Slow consumer: the server pushes 100k 1 KiB messages, the game polls every 50 ms",
            kind: "slow",
            path: format!("/push?count={slow_count}&size=1024"),
            tls: false,
            options: vec![
                ("count", slow_count),
                ("poll-ms", 50),
                ("limit", SLOW_CONSUMER_LIMIT),
            ],
            godot_buffer: 0,
            metrics: SLOW,
            note: "Ours with `inbound_queue_limit` = 1 MiB; WebSocketPeer with its default \
                   buffers, as a game would leave them.",
        },
        Scenario {
            title: "8. 10,000 connections in one process, each echoing a message every 6 frames",
            kind: "crowd",
            path: echo(),
            tls: false,
            options: vec![
                ("connections", pick(CROWD_CONNECTIONS, 20)),
                ("seconds", pick(10, 1)),
                ("every", 6),
            ],
            godot_buffer: 0,
            metrics: CROWD,
            note: "60 frames per second for 10 s; memory is the whole process's resident size at \
                   the end; the time is the median frame's loop over every connection (poll, \
                   read, send). Each process and the echo server hold 10,000 sockets: the \
                   benchmark raises its open-file limit (and so the Godot processes') and the \
                   server's to the hard limit, which must be above 10,000 (`ulimit -Hn`; often \
                   1,048,576, but 4,096 on some systems, where it must be raised in \
                   /etc/security/limits.conf).",
        },
    ]
}

/// The bench server's ports.
struct Server {
    _process: Peer,
    ws_port: u16,
    wss_port: u16,
}

/// What one run printed: metric → value.
type Figures = HashMap<String, f64>;

/// How to run the benchmark.
pub struct BenchOptions {
    /// Once, tiny counts, debug build, results under `target/bench-smoke/`.
    pub smoke: bool,
    /// Only the scenarios whose title contains this, results under `target/bench-partial/`.
    pub only: Option<String>,
    /// Only this contender (its key: rust, godot, engine, tungstenite).
    pub contender: Option<String>,
    /// Runs of each scenario instead of the default.
    pub runs: Option<usize>,
    /// Run the Godot contenders with a debugger attached (see the module's doc).
    pub debugger: bool,
}

/// Runs the benchmark. Returns (passed, failed): a run that produced its figures passes.
pub fn bench(options: &BenchOptions) -> Result<Counts, String> {
    let smoke = options.smoke;
    let started = Instant::now();
    raise_open_file_limit();
    let release = !smoke;
    let addon = build_addon(release)?;
    let binaries = cargo_build("rust_websocket_bench", release)?;
    let godot = godot::locate()?;
    let project = bench_project(&godot, &addon, release)?;
    let debugger = options.debugger.then(DebuggerSink::start).transpose()?;
    let certificate = project.join("certs/localhost.crt");
    let server = start_server(&binaries, &project)?;
    let scenarios: Vec<Scenario> = scenarios(smoke)
        .into_iter()
        .filter(|s| {
            options
                .only
                .as_ref()
                .is_none_or(|only| s.title.contains(only.as_str()))
        })
        .collect();
    let runs = options.runs.unwrap_or(if smoke { 1 } else { FULL_RUNS });
    let mut results: HashMap<(usize, usize), Vec<Figures>> = HashMap::new();
    let mut failed = 0;
    for run in 1..=runs {
        for (s, scenario) in scenarios.iter().enumerate() {
            for (c, contender) in CONTENDERS.iter().enumerate() {
                let excluded = options
                    .contender
                    .as_ref()
                    .is_some_and(|key| key != contender.key);
                if excluded
                    || !(contender.kinds.is_empty() || contender.kinds.contains(&scenario.kind))
                {
                    continue;
                }
                say(format!(
                    "bench run {run}/{runs}: {} · {}",
                    scenario.title, contender.label
                ));
                let outcome = if contender.in_godot {
                    let mut command = godot.headless(&project);
                    if let Some(sink) = &debugger {
                        command.arg(format!("--remote-debug=tcp://127.0.0.1:{}", sink.port));
                    }
                    run_in_godot(command, contender, scenario, &server)
                } else {
                    run_in_rust(&binaries, &certificate, contender, scenario, &server)
                };
                match outcome {
                    Ok(figures) => results.entry((s, c)).or_default().push(figures),
                    Err(error) => {
                        say(format!("bench run failed: {error}"));
                        failed += 1;
                    }
                }
            }
        }
    }
    let out_dir = if smoke {
        root().join("target/bench-smoke")
    } else if options.only.is_some()
        || options.contender.is_some()
        || options.runs.is_some()
        || options.debugger
    {
        root().join("target/bench-partial")
    } else {
        root().join("bench")
    };
    create_dir(&out_dir)?;
    let table = markdown(&scenarios, &results, runs, &godot, started.elapsed());
    let chart = svg_chart(&scenarios, &results);
    for (name, contents) in [("results.md", &table), ("results.svg", &chart)] {
        let path = out_dir.join(name);
        write(&path, contents)?;
        say(format!("wrote {}", path.display()));
    }
    println!("{table}");
    let passed = results.values().map(Vec::len).sum();
    Ok((passed, failed))
}

/// Raises the soft limit of open files to the hard limit, for the Godot processes of scenario 8,
/// which inherit it (the usual soft limit, 1,024, is far below its 10,000 connections).
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A fresh project with the addon and the GDScript contenders. For a release benchmark the
/// release library takes the place of the debug one, which is what the editor binary loads.
fn bench_project(godot: &Godot, addon: &Path, release: bool) -> Result<PathBuf, String> {
    let project = new_project("bench-project", "rust_websocket benchmarks", addon)?;
    if release {
        let bin = project.join(ADDON_DIR).join("bin");
        fs::rename(
            bin.join(library_file_name(true)?),
            bin.join(library_file_name(false)?),
        )
        .map_err(|e| format!("cannot put the release library in place: {e}"))?;
    }
    copy_dir(&root().join("bench/godot"), &project.join("bench"))?;
    certs::write_test_certificates(&project.join("certs"))?;
    import(godot, &project)?;
    Ok(project)
}

fn start_server(binaries: &Path, project: &Path) -> Result<Server, String> {
    let mut command = Command::new(binaries.join("bench_server"));
    command
        .arg(format!(
            "--cert={}",
            project.join("certs/localhost.crt").display()
        ))
        .arg(format!(
            "--key={}",
            project.join("certs/localhost.key").display()
        ));
    let (process, ws_port, lines) = start_peer("bench echo server", command)?;
    let wss_port = lines
        .iter()
        .find_map(|line| line.strip_prefix("WSS ")?.trim().parse().ok())
        .ok_or("the bench server printed no WSS port")?;
    Ok(Server {
        _process: process,
        ws_port,
        wss_port,
    })
}

/// The options both kinds of drivers take for `scenario`.
fn driver_options(contender: &Contender, scenario: &Scenario, server: &Server) -> Vec<String> {
    let (scheme, port) = if scenario.tls {
        ("wss", server.wss_port)
    } else {
        ("ws", server.ws_port)
    };
    let mut options = vec![
        format!("--contender={}", contender.key),
        format!("--scenario={}", scenario.kind),
        format!("--url={scheme}://127.0.0.1:{port}{}", scenario.path),
    ];
    options.extend(
        scenario
            .options
            .iter()
            .map(|(name, value)| format!("--{name}={value}")),
    );
    options
}

/// Runs `command` (a headless Godot in the bench project) on the GDScript driver.
fn run_in_godot(
    mut command: Command,
    contender: &Contender,
    scenario: &Scenario,
    server: &Server,
) -> Result<Figures, String> {
    command
        .args(["--script", "res://bench/bench.gd", "--"])
        .args(driver_options(contender, scenario, server))
        .arg(format!("--godot-buffer={}", scenario.godot_buffer));
    if scenario.tls {
        command.arg("--ca=res://certs/localhost.crt");
    }
    figures_of(command)
}

fn run_in_rust(
    binaries: &Path,
    certificate: &Path,
    contender: &Contender,
    scenario: &Scenario,
    server: &Server,
) -> Result<Figures, String> {
    let mut command = Command::new(binaries.join("bench_client"));
    command.args(driver_options(contender, scenario, server));
    if scenario.tls {
        command.arg(format!("--ca={}", certificate.display()));
    }
    figures_of(command)
}

/// Where `--debugger` runs connect their debugger: reads everything and discards it, on a thread
/// per connection, as long as xtask runs.
struct DebuggerSink {
    port: u16,
}

impl DebuggerSink {
    fn start() -> Result<DebuggerSink, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot listen for the debugger sink: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                std::thread::spawn(move || std::io::copy(&mut stream, &mut std::io::sink()));
            }
        });
        say(format!("debugger sink listening on 127.0.0.1:{port}"));
        Ok(DebuggerSink { port })
    }
}

/// Runs a driver and reads its `RESULT name=value ...` line.
fn figures_of(command: Command) -> Result<Figures, String> {
    let output = output_with_timeout(command, RUN_TIMEOUT)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .ok_or_else(|| {
            format!(
                "no RESULT line ({}); it printed:\n{stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    say(format!("  {line}"));
    Ok(line
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(name, value)| Some((name.to_owned(), value.parse().ok()?)))
        .collect())
}

/// Median, minimum and maximum of a metric over the runs that reported it.
struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

fn summarize(runs: Option<&Vec<Figures>>, metric: &str) -> Option<Summary> {
    let mut values: Vec<f64> = runs?
        .iter()
        .filter_map(|f| f.get(metric).copied())
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    let median = if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    };
    Some(Summary {
        median,
        min: values[0],
        max: values[values.len() - 1],
    })
}

/// A figure with a precision that suits its size, thousands grouped (std formats no groups; a
/// crate for these lines is not worth it).
fn number(value: f64) -> String {
    let digits = if value >= 100.0 || value == value.trunc() {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    // Thousands separators for the big ones.
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 && digit.is_ascii_digit() {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if fraction.is_empty() {
        grouped
    } else {
        format!("{grouped}.{fraction}")
    }
}

fn machine_description(godot: &Godot) -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut version = godot.command();
    version.arg("--version");
    let godot_version = output_with_timeout(version, Duration::from_secs(60))
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    format!("{cores} cores ({cpu}), Linux, Godot {godot_version}")
}

fn markdown(
    scenarios: &[Scenario],
    results: &HashMap<(usize, usize), Vec<Figures>>,
    runs: usize,
    godot: &Godot,
    took: Duration,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench` ({:.0} s) on {}. Each cell is the median of {runs} \
         run(s), with the minimum–maximum. All contenders talk to the same Rust echo server on \
         127.0.0.1 (`rust/bench`); the GDScript contenders run the same script \
         (`bench/godot/bench.gd`). \"Batch calls\" is the same RustWebSocketClient read with one \
         `take_messages()` and written with one `send_messages()` per poll instead of a call per \
         message. The ratios compare medians, taking the better of the two ways of calling \
         RustWebSocketClient; a target is met when that median satisfies it. Nothing here is a test: the figures vary \
         with the machine and what else runs on it.\n",
        took.as_secs_f64(),
        machine_description(godot),
    );
    let _ = write!(out, "| Scenario | Metric |");
    for contender in &CONTENDERS {
        let _ = write!(out, " {} |", contender.label);
    }
    let _ = writeln!(out, " ours ÷ Godot | ours ÷ tungstenite | Target |");
    let _ = writeln!(
        out,
        "|---|---|{}---|---|---|",
        "---|".repeat(CONTENDERS.len())
    );
    for (s, scenario) in scenarios.iter().enumerate() {
        for metric in scenario.metrics {
            let summaries: Vec<Option<Summary>> = (0..CONTENDERS.len())
                .map(|c| summarize(results.get(&(s, c)), metric.key))
                .collect();
            let _ = write!(
                out,
                "| {} | {} ({}) |",
                scenario.title,
                metric.label,
                if metric.higher_is_better {
                    "higher is better"
                } else {
                    "lower is better"
                }
            );
            for summary in &summaries {
                let cell = match summary {
                    Some(s) if s.min == s.max => number(s.median),
                    Some(s) => {
                        format!("{} ({}–{})", number(s.median), number(s.min), number(s.max))
                    }
                    None => "n/a".into(),
                };
                let _ = write!(out, " {cell} |");
            }
            let median = |c: usize| summaries[c].as_ref().map(|s| s.median);
            // Ours is the better of the two ways of calling RustWebSocketClient.
            let ours = [OURS, OURS_BATCH]
                .into_iter()
                .filter_map(|c| Some((c, median(c)?)))
                .reduce(|a, b| {
                    let b_better = if metric.higher_is_better {
                        b.1 > a.1
                    } else {
                        b.1 < a.1
                    };
                    if b_better {
                        b
                    } else {
                        a
                    }
                });
            let ratio = |other: usize| match (ours, median(other)) {
                (Some((_, ours)), Some(theirs)) if theirs != 0.0 => {
                    format!("{:.2}", ours / theirs)
                }
                _ => "–".into(),
            };
            let verdicts: Vec<String> = metric
                .targets
                .iter()
                .map(|target| {
                    let verdict = ours
                        .and_then(|(_, ours)| target.met(ours, median(GODOT), median(TUNGSTENITE)));
                    let mark = match (verdict, ours) {
                        (Some(true), Some((OURS_BATCH, _))) => "met (batch calls)",
                        (Some(true), _) => "met",
                        (Some(false), _) => "**not met**",
                        (None, _) => "unknown",
                    };
                    format!("{}: {mark}", target.describe())
                })
                .collect();
            let _ = writeln!(
                out,
                " {} | {} | {} |",
                ratio(GODOT),
                ratio(TUNGSTENITE),
                if verdicts.is_empty() {
                    "–".to_owned()
                } else {
                    verdicts.join("; ")
                }
            );
        }
    }
    let _ = writeln!(out, "\nNotes:\n");
    for scenario in scenarios.iter().filter(|s| !s.note.is_empty()) {
        let _ = writeln!(out, "- {}: {}", scenario.title, scenario.note);
    }
    out
}

// The table and chart are written by hand: a plotting crate (plotters) would bring font
// rendering and many dependencies for one bar chart of text and rectangles.

/// Colours of the contenders' bars, in [`CONTENDERS`] order.
const COLOURS: [&str; 5] = ["#d9534f", "#f29b94", "#478cbf", "#f0ad4e", "#7a7a7a"];

/// A bar chart of the medians: one group per scenario and metric, bars scaled to the group's
/// largest value.
fn svg_chart(scenarios: &[Scenario], results: &HashMap<(usize, usize), Vec<Figures>>) -> String {
    const WIDTH: usize = 900;
    const LABEL_WIDTH: usize = 330;
    const BAR_HEIGHT: usize = 14;
    const GROUP_GAP: usize = 30;
    let bar_space = WIDTH - LABEL_WIDTH - 120;
    let mut body = String::new();
    let mut y = 60;
    for (s, scenario) in scenarios.iter().enumerate() {
        for metric in scenario.metrics {
            let medians: Vec<Option<f64>> = (0..CONTENDERS.len())
                .map(|c| summarize(results.get(&(s, c)), metric.key).map(|s| s.median))
                .collect();
            let largest = medians.iter().flatten().fold(0.0_f64, |a, &b| a.max(b));
            let better = if metric.higher_is_better {
                "longer is better"
            } else {
                "shorter is better"
            };
            let _ = writeln!(
                body,
                r##"<text x="10" y="{}" font-weight="bold">{}</text><text x="10" y="{}" fill="#555">{} ({better})</text>"##,
                y + 12,
                escape(scenario.title),
                y + 28,
                escape(metric.label)
            );
            for (c, median) in medians.iter().enumerate() {
                let bar_y = y + c * (BAR_HEIGHT + 2);
                let (length, label) = match median {
                    Some(value) if largest > 0.0 => (
                        (value / largest * bar_space as f64).round() as usize,
                        number(*value),
                    ),
                    Some(value) => (0, number(*value)),
                    None => (0, "n/a".into()),
                };
                let _ = writeln!(
                    body,
                    r##"<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{length}" height="{BAR_HEIGHT}" fill="{}"/><text x="{}" y="{}">{label}</text>"##,
                    COLOURS[c],
                    LABEL_WIDTH + length + 5,
                    bar_y + BAR_HEIGHT - 3
                );
            }
            y += CONTENDERS.len() * (BAR_HEIGHT + 2) + GROUP_GAP;
        }
    }
    let mut legend = String::new();
    for (c, contender) in CONTENDERS.iter().enumerate() {
        let x = 10 + (c % 3) * 300;
        let y = 12 + (c / 3) * 18;
        let _ = write!(
            legend,
            r##"<rect x="{x}" y="{y}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"##,
            COLOURS[c],
            x + 16,
            y + 11,
            escape(contender.label)
        );
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{y}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n{legend}\n{body}</svg>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
