//! The platforms `cargo xtask test` cannot run natively on Linux x86_64, cross-built and run
//! under emulation (`cargo xtask platforms [--only=windows|arm64|arm64-demo]` runs only these):
//!
//! - Windows x86_64 (`x86_64-pc-windows-gnu`, MinGW-w64): the engine's whole cargo test suite
//!   under Wine, in a private prefix under `target/wine`.
//! - Linux arm64 (`aarch64-unknown-linux-gnu`): the engine's cargo test suite under qemu-user,
//!   and the sample project's chat session and multiplayer lobby in Debian sid's arm64 Godot
//!   under qemu (fetched into `target/godot-arm64`, like the x86_64 one).
//!
//! The cross compilers, Wine and qemu come from the distribution (`apt-get install` when missing,
//! as root or through `sudo -n`), the Rust targets from rustup. Test binaries are built once with
//! `cargo test --no-run`, then run through cargo's target runner.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::certs;
use crate::debian::install;
use crate::godot::{self, run_godot};
use crate::process::{
    cargo, cargo_test_counts, copy, copy_dir, create_dir, python_venv, remove_dir, root, run, say,
    start_peer, write, Counts, Peer, Tally, PEER_REQUIREMENTS,
};
use crate::project::{import_with_timeout, ADDON_DIR};

/// The Windows target: MinGW-w64, which this machine can link (the release builds MSVC).
const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";
/// The Linux arm64 target.
const ARM64_TARGET: &str = "aarch64-unknown-linux-gnu";
/// Debian packages for the Windows build and run: the linker (and C compiler for ring), Wine.
const WINDOWS_PACKAGES: [&str; 3] = ["gcc-mingw-w64-x86-64", "wine", "wine64"];
/// Debian packages for the arm64 build and run: the linker, its C library, qemu-user.
const ARM64_PACKAGES: [&str; 3] = [
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "qemu-user",
];
/// The user-mode emulator of arm64 programs.
const ARM64_EMULATOR: &str = "qemu-aarch64";
/// Where Debian's arm64 cross toolchain keeps the arm64 C library (qemu's `-L` for test binaries).
const ARM64_SYSROOT: &str = "/usr/aarch64-linux-gnu";
/// Names a Python server the tests use instead of starting one (see `tests/compression.rs`).
const PYTHON_SERVER_ENV: &str = "RUST_WEBSOCKET_TEST_PYTHON_SERVER";
/// Tells the tests they run under a user-mode emulator (see `tests/cycles.rs`).
const EMULATOR_ENV: &str = "RUST_WEBSOCKET_TEST_EMULATOR";
/// The optimization level of the arm64 test binaries: unoptimized code under qemu is slow enough
/// for the 16 MB and 20 MB message tests to trip their 20 s hang watchdogs (measured here: 5
/// failures, 16 min for the suite). Debug assertions and overflow checks stay on.
const ARM64_TEST_OPT_LEVEL: &str = "2";
/// Seconds the Python server started for an emulated run lives at most.
const PYTHON_SERVER_LIFETIME_S: u64 = 3600;
/// Longest the arm64 Godot's first import of the sample project may take under qemu (about
/// 280 s measured on an idle machine, over 15 min on a loaded one).
const EMULATED_IMPORT_TIMEOUT: Duration = Duration::from_secs(2400);
/// Longest the arm64 chat session or lobby may take under qemu (about 20 s measured here).
const EMULATED_DEMO_TIMEOUT: Duration = Duration::from_secs(300);
/// `ProcessPrng` for Wine 8, which lacks `bcryptprimitives.dll`: Rust's standard library
/// (1.78+) imports it for random numbers, so without it every test binary exits with status 53.
/// It forwards to `RtlGenRandom` (`SystemFunction036`), which Wine has.
const PROCESS_PRNG_SHIM: &str = r#"#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
"#;

/// A step's label and its (passed, failed).
pub type StepCounts = (&'static str, Counts);

/// The platform steps (`only`: windows, arm64 or arm64-demo; every one without it), each with
/// its (passed, failed); says how long each took. Each target's build (and Wine's prefix) is
/// removed once its steps are done: three targets' builds at once outgrew a CI machine's disk.
pub fn run_steps(only: Option<&str>) -> Result<Vec<StepCounts>, String> {
    match only {
        None => {
            let windows = timed(windows_engine_tests)?;
            remove_build(WINDOWS_TARGET)?;
            // The Wine prefix too (700 MB); the next run makes it again in under a minute.
            remove_dir(&root().join("target").join("wine"))?;
            let arm64 = timed(arm64_engine_tests)?;
            let arm64_demo = timed(arm64_demo)?;
            remove_build(ARM64_TARGET)?;
            Ok(vec![
                ("Windows engine tests (Wine)", windows),
                ("arm64 engine tests (qemu)", arm64),
                ("arm64 Godot demo (qemu)", arm64_demo),
            ])
        }
        Some("windows") => Ok(vec![(
            "Windows engine tests (Wine)",
            windows_engine_tests()?,
        )]),
        Some("arm64") => Ok(vec![("arm64 engine tests (qemu)", arm64_engine_tests()?)]),
        Some("arm64-demo") => Ok(vec![("arm64 Godot demo (qemu)", arm64_demo()?)]),
        Some(other) => Err(format!(
            "no platform step `{other}`; pick windows, arm64 or arm64-demo"
        )),
    }
}

/// Removes `target/<target>`, the cross build of one target.
fn remove_build(target: &str) -> Result<(), String> {
    remove_dir(&root().join("target").join(target))
}

fn timed<T>(step: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let started = Instant::now();
    let result = step();
    say(format!(
        "platform step took {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    result
}

/// The engine's cargo tests cross-built for Windows and run under Wine. Returns (passed, failed).
fn windows_engine_tests() -> Result<Counts, String> {
    install(&WINDOWS_PACKAGES)?;
    add_rust_target(WINDOWS_TARGET)?;
    let prefix = wine_prefix()?;
    let mut build = engine_tests(WINDOWS_TARGET);
    run(build.arg("--no-run"))?;
    let (_server, address) = python_server()?;
    let mut tests = engine_tests(WINDOWS_TARGET);
    tests
        .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", "wine")
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .env(PYTHON_SERVER_ENV, address);
    cargo_test_counts(tests)
}

/// The engine's cargo tests cross-built for Linux arm64 and run under qemu-user. Returns
/// (passed, failed).
fn arm64_engine_tests() -> Result<Counts, String> {
    prepare_arm64()?;
    let mut build = engine_tests(ARM64_TARGET);
    run(build
        .arg("--no-run")
        .env("CARGO_PROFILE_DEV_OPT_LEVEL", ARM64_TEST_OPT_LEVEL))?;
    let (_server, address) = python_server()?;
    let mut tests = engine_tests(ARM64_TARGET);
    tests
        .env("CARGO_PROFILE_DEV_OPT_LEVEL", ARM64_TEST_OPT_LEVEL)
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER",
            format!("{ARM64_EMULATOR} -L {ARM64_SYSROOT}"),
        )
        .env(EMULATOR_ENV, ARM64_EMULATOR)
        .env(PYTHON_SERVER_ENV, address);
    cargo_test_counts(tests)
}

/// The sample project's chat session and multiplayer lobby in Debian sid's arm64 Godot under
/// qemu, with the addon's arm64 library, in a copy of the project imported with the README's CI
/// commands. Returns (passed, failed): one test each.
fn arm64_demo() -> Result<Counts, String> {
    prepare_arm64()?;
    let mut build = cargo();
    build
        .args([
            "build",
            "--package",
            "rust_websocket",
            "--target",
            ARM64_TARGET,
        ])
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "aarch64-linux-gnu-gcc",
        );
    run(&mut build)?;
    let godot = godot::fetch_emulated("arm64", ARM64_EMULATOR)?;
    let project = root().join("target").join("demo-arm64");
    remove_dir(&project)?;
    // With the import cache of the x86_64 demo when it ran before (imported resources do not
    // depend on the architecture): a cold first import takes minutes under qemu, and the cold
    // import itself is tested natively by the release checks.
    copy_dir(&root().join("godot-project"), &project)?;
    let addon = project.join(ADDON_DIR);
    copy_dir(&root().join(ADDON_DIR), &addon)?;
    let built = root()
        .join("target")
        .join(ARM64_TARGET)
        .join("debug")
        .join("librust_websocket.so");
    let installed = addon
        .join("bin")
        .join("librust_websocket.linux.debug.arm64.so");
    create_dir(&addon.join("bin"))?;
    copy(&built, &installed)?;
    certs::write_demo_certificate(&project.join("certs"))?;
    import_with_timeout(&godot, &project, EMULATED_IMPORT_TIMEOUT)?;
    let mut tally = Tally::default();
    for (name, args) in [
        ("chat session", &[][..]),
        ("multiplayer lobby", &["res://multiplayer/lobby.tscn"][..]),
    ] {
        let result = run_godot(&godot, &project, args, EMULATED_DEMO_TIMEOUT);
        tally.check(&format!("arm64 demo: {name}"), result.map(|_| ()));
    }
    Ok(tally.counts)
}

/// The arm64 cross toolchain, qemu and the Rust target.
fn prepare_arm64() -> Result<(), String> {
    install(&ARM64_PACKAGES)?;
    add_rust_target(ARM64_TARGET)
}

/// `cargo test` of the engine for `target`, with the linker that target needs.
fn engine_tests(target: &str) -> Command {
    let mut command = cargo();
    command
        .args([
            "test",
            "--package",
            "rust_websocket_engine",
            "--no-fail-fast",
            "--target",
            target,
        ])
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "aarch64-linux-gnu-gcc",
        );
    command
}

/// The test peers' Python `websockets` server, started here (outside any emulator) for the
/// emulated tests; returns it (stopped when dropped) and its address.
fn python_server() -> Result<(Peer, String), String> {
    let mut server = Command::new(python_venv(PEER_REQUIREMENTS)?);
    server
        .arg(root().join("tests/peers/py_server.py"))
        .args(["--port", "0", "--lifetime"])
        .arg(PYTHON_SERVER_LIFETIME_S.to_string());
    let (peer, port, _) = start_peer("Python websockets server", server)?;
    Ok((peer, format!("127.0.0.1:{port}")))
}

/// Adds the Rust standard library for `target` with rustup (which does nothing, offline, when
/// it is there).
fn add_rust_target(target: &str) -> Result<(), String> {
    run(Command::new("rustup").args(["target", "add", target]))
}

/// The private Wine prefix `target/wine`, created once (`wineboot --init`), with the
/// [`PROCESS_PRNG_SHIM`] built into its `system32`.
fn wine_prefix() -> Result<PathBuf, String> {
    let prefix = root().join("target").join("wine");
    let system32 = prefix.join("drive_c/windows/system32");
    let shim = system32.join("bcryptprimitives.dll");
    if shim.is_file() {
        return Ok(prefix);
    }
    say(format!("creating a Wine prefix in {}", prefix.display()));
    create_dir(&prefix)?;
    run(Command::new("wine")
        .args(["wineboot", "--init"])
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all"))?;
    let source = prefix.join("process_prng.c");
    write(&source, PROCESS_PRNG_SHIM)?;
    run(Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(&shim)
        .arg(&source)
        .args(["-ladvapi32", "-Wl,--kill-at"]))?;
    Ok(prefix)
}
