//! `cargo xtask fuzz [--seconds=N] [--only=TARGET] [--update-corpus]`: the engine's fuzz targets
//! (`rust/engine/fuzz/`) under cargo-fuzz and libFuzzer, each for a bounded time.
//!
//! cargo-fuzz is installed into `target/tools/` on first use (a pinned version from crates.io).
//! Its sanitizer flags need a nightly compiler; `RUSTC_BOOTSTRAP=1` lets the stable one take them.
//! Each run starts from the committed corpus `rust/engine/fuzz/corpus/<target>/` and writes what
//! it finds to `target/fuzz/corpus/<target>/`, so the working tree stays clean; a crash, hang or
//! leak fails the target and leaves its input in `target/fuzz/artifacts/<target>/`.
//! `--update-corpus` then merges what was found into the committed corpus (libFuzzer's
//! `-merge=1` keeps only inputs that add coverage).

use std::path::PathBuf;
use std::process::Command;

use crate::process::{cargo, create_dir, root, run, say, Counts, Tally};

/// The fuzz targets, as named in `rust/engine/fuzz/Cargo.toml`.
pub const TARGETS: [&str; 2] = ["server_bytes", "connect_request"];
/// Seconds each target runs in `cargo xtask test`.
pub const TEST_SECONDS: u64 = 30;
/// Seconds each target runs in `cargo xtask fuzz` unless `--seconds` says otherwise.
pub const DEFAULT_SECONDS: u64 = 60;
/// The cargo-fuzz release installed into `target/tools/`.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// What `cargo xtask fuzz` runs.
pub struct FuzzOptions {
    /// Seconds per target.
    pub seconds: u64,
    /// Only the targets whose name contains this.
    pub only: Option<String>,
    /// Merge new inputs into the committed corpus afterwards.
    pub update_corpus: bool,
}

/// Runs every selected target for `options.seconds`; returns (passed, failed), one per target.
pub fn fuzz(options: &FuzzOptions) -> Result<Counts, String> {
    let cargo_fuzz = install_cargo_fuzz()?;
    let fuzz_dir = root().join("rust/engine/fuzz");
    let work = root().join("target/fuzz");
    let fuzz_command = |subcommand: &str| {
        let mut command = Command::new(&cargo_fuzz);
        command
            .current_dir(root())
            .env("RUSTC_BOOTSTRAP", "1")
            .arg(subcommand)
            .arg("--fuzz-dir")
            .arg(&fuzz_dir)
            .arg("--target-dir")
            .arg(&work);
        command
    };
    let mut tally = Tally::default();
    let selected = TARGETS.iter().filter(|target| {
        options
            .only
            .as_deref()
            .is_none_or(|only| target.contains(only))
    });
    for target in selected {
        let found = work.join("corpus").join(target);
        let artifacts = work.join("artifacts").join(target);
        for folder in [&found, &artifacts] {
            create_dir(folder)?;
        }
        let committed = fuzz_dir.join("corpus").join(target);
        say(format!("fuzzing {target} for {} s", options.seconds));
        let mut command = fuzz_command("run");
        command
            .arg(target)
            .arg(&found)
            .arg(&committed)
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            .arg(format!("-artifact_prefix={}/", artifacts.display()));
        let result = run(&mut command)
            .map_err(|error| format!("{error}; the input is in {}", artifacts.display()));
        let passed = result.is_ok();
        tally.check(&format!("fuzz {target} ({} s)", options.seconds), result);
        if passed && options.update_corpus {
            say(format!(
                "merging new {target} inputs into {}",
                committed.display()
            ));
            run(fuzz_command("run")
                .arg(target)
                .arg(&committed)
                .arg(&found)
                .arg("--")
                .arg("-merge=1"))?;
        }
    }
    Ok(tally.counts)
}

/// `target/tools/bin/cargo-fuzz`, installed first if missing.
fn install_cargo_fuzz() -> Result<PathBuf, String> {
    let tools = root().join("target/tools");
    let binary = tools.join("bin/cargo-fuzz");
    if !binary.exists() {
        say(format!(
            "installing cargo-fuzz {CARGO_FUZZ_VERSION} into {}",
            tools.display()
        ));
        run(cargo()
            .args(["install", "--locked", "--root"])
            .arg(&tools)
            .arg(format!("cargo-fuzz@{CARGO_FUZZ_VERSION}")))?;
    }
    Ok(binary)
}
