//! Finding a Godot 4 binary, and running it headless and judging its log.
//!
//! Order: `$GODOT`, then `godot` / `godot4` on `PATH`, then a private copy of Debian sid's
//! `godot` package and its dependency closure ([`crate::debian`]), started through the unpacked
//! tree's own dynamic loader so it uses sid's glibc and libraries instead of the host's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::debian;
use crate::process::{
    closing_counts, output_text, output_with_timeout, root, say, show_cmd, tail_of, Counts,
};

/// Oldest supported Godot 4 minor version (4.3).
const MIN_MINOR: u32 = 3;
/// Debian package providing Godot.
const PACKAGE: &str = "godot";
/// Debian suite that carries a new enough Godot.
const SUITE: &str = "sid";
/// How long `godot --headless --version` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// Log lines that fail a Godot run even when its exit code is 0.
const FATAL_LOG_LINES: [&str; 4] = [
    "SCRIPT ERROR",
    "Can't open dynamic library",
    "ObjectDB instances leaked",
    "Parse Error",
];

/// A runnable Godot 4 binary and how to start it.
pub struct Godot {
    program: PathBuf,
    prefix_args: Vec<OsString>,
    version: String,
    source: String,
}

impl Godot {
    /// A Command that starts Godot; callers append their own args (e.g. "--headless", "--path", p).
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.prefix_args);
        command
    }

    /// A command that starts Godot headless in `project`; callers add their own arguments.
    pub fn headless(&self, project: &Path) -> Command {
        let mut command = self.command();
        command.arg("--headless").arg("--path").arg(project);
        command
    }

    /// The `(major, minor)` version, if Godot's version string has one.
    pub fn version(&self) -> Option<(u32, u32)> {
        parse_version(&self.version)
    }

    /// The folder where this Godot looks for its export templates on Linux:
    /// `$XDG_DATA_HOME` (or `~/.local/share`) `/godot/export_templates/<version>`, the version
    /// up to its status (`4.6.3.stable`, `4.3.stable`).
    pub fn export_templates_dir(&self) -> Option<PathBuf> {
        let mut parts = Vec::new();
        for part in self.version.split('.') {
            parts.push(part);
            if part.parse::<u32>().is_err() {
                break;
            }
        }
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".local/share")))?;
        Some(
            data_home
                .join("godot/export_templates")
                .join(parts.join(".")),
        )
    }

    /// Human-readable description e.g. "Godot 4.6.3.stable (fetched from Debian sid into target/godot)".
    pub fn describe(&self) -> String {
        format!("Godot {} ({})", self.version, self.source)
    }

    /// This Godot with `dirs` searched for shared libraries after its own (e.g. Mesa's OpenGL
    /// drivers). Only for a Godot fetched from Debian, which runs through its own loader.
    pub fn with_library_dirs(mut self, dirs: &[PathBuf]) -> Result<Godot, String> {
        let position = self
            .prefix_args
            .iter()
            .position(|arg| arg == "--library-path")
            .ok_or_else(|| format!("{} runs without a private loader", self.describe()))?;
        let own = std::env::split_paths(&self.prefix_args[position + 1]).collect::<Vec<_>>();
        self.prefix_args[position + 1] = debian::join_paths(&[own, dirs.to_vec()].concat())?;
        Ok(self)
    }
}

/// Finds Godot: $GODOT if set (must be a Godot 4.3+ binary, else a clear error), else
/// `godot`/`godot4` on PATH if it reports version 4.3+, else fetches one into `target/godot`
/// (reusing an earlier fetch there). Prints one line per step.
pub fn locate() -> Result<Godot, String> {
    let godot = locate_inner()?;
    say(format!("using {}", godot.describe()));
    Ok(godot)
}

fn locate_inner() -> Result<Godot, String> {
    if let Some(value) = std::env::var_os("GODOT").filter(|v| !v.is_empty()) {
        let shown = value.to_string_lossy().into_owned();
        say(format!(
            "$GODOT is set; checking `{shown} --headless --version`"
        ));
        let godot = plain(PathBuf::from(&value), format!("from $GODOT={shown}"));
        return verified(godot).map_err(|e| {
            format!(
                "$GODOT={shown}: {e}; point $GODOT at a Godot 4.{MIN_MINOR}+ binary or unset it"
            )
        });
    }
    say("$GODOT is not set; looking for `godot` / `godot4` on PATH");
    for path in ["godot", "godot4"]
        .into_iter()
        .filter_map(|name| which::which(name).ok())
    {
        match verified(plain(path.clone(), format!("{} on PATH", path.display()))) {
            Ok(godot) => return Ok(godot),
            Err(e) => say(format!("skipping {}: {e}", path.display())),
        }
    }
    fetch().map_err(|e| {
        format!(
            "no Godot 4.{MIN_MINOR}+ found: $GODOT is not set, neither `godot` nor `godot4` on \
             PATH is Godot 4.{MIN_MINOR}+, and {e}. Install Godot 4.{MIN_MINOR} or newer \
             (https://godotengine.org/download) and set GODOT=/path/to/godot."
        )
    })
}

/// A Godot started directly, without a loader.
fn plain(program: PathBuf, source: String) -> Godot {
    Godot {
        program,
        prefix_args: Vec::new(),
        version: String::new(),
        source,
    }
}

/// Checks a candidate with `--headless --version` and fills in its version.
fn verified(godot: Godot) -> Result<Godot, String> {
    let mut probe = godot.command();
    probe.args(["--headless", "--version"]);
    let shown = show_cmd(&probe);
    let out = output_with_timeout(probe, PROBE_TIMEOUT)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let version = stdout
        .lines()
        .map(str::trim)
        .rev()
        .find_map(|line| Some((line, parse_version(line)?)));
    match version {
        Some((version, (4, minor))) if out.status.success() && minor >= MIN_MINOR => Ok(Godot {
            version: version.to_owned(),
            ..godot
        }),
        Some((version, _)) if out.status.success() => Err(format!(
            "it is Godot {version}, but Godot 4.{MIN_MINOR} or newer (4.x) is required"
        )),
        _ => Err(format!(
            "`{shown}` did not report a version ({}){}",
            out.status,
            tail_of(&out)
        )),
    }
}

/// Parses the leading "major.minor" of a Godot version string like "4.6.3.stable.debian".
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.trim().split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Debian sid's Godot in `target/godot` (fetched now, or earlier), whatever `$GODOT` and `PATH`
/// hold. Its binary runs through the fetched tree's loader.
pub fn fetch() -> Result<Godot, String> {
    let cache = root().join("target").join("godot");
    let source = format!("fetched from Debian {SUITE} into {}", cache.display());
    fetch_verified(&cache, None, |tree| {
        let binary = tree.join("usr/bin").join(PACKAGE);
        let (loader, library_path) = debian::loader_for(tree, &binary)?;
        let prefix_args = vec!["--library-path".into(), library_path, binary.into()];
        Ok(Godot {
            prefix_args,
            ..plain(loader, source.clone())
        })
    })
}

/// Debian sid's Godot built for `architecture` (Debian's name, e.g. "arm64"), fetched into
/// `target/godot-<architecture>` and started by `emulator` (qemu-user) with `-L` on the unpacked
/// tree, so it runs on that tree's loader and libraries.
pub fn fetch_emulated(architecture: &str, emulator: &str) -> Result<Godot, String> {
    let cache = root().join("target").join(format!("godot-{architecture}"));
    let source = format!(
        "Debian {SUITE}'s {architecture} build under {emulator}, in {}",
        cache.display()
    );
    let godot = fetch_verified(&cache, Some(architecture), |tree| {
        let binary = tree.join("usr/bin").join(PACKAGE);
        let prefix_args = vec!["-L".into(), tree.into(), binary.into()];
        Ok(Godot {
            prefix_args,
            ..plain(emulator.into(), source.clone())
        })
    })?;
    say(format!("using {}", godot.describe()));
    Ok(godot)
}

/// Fetches Godot into `cache` and checks the Godot `start` makes of the unpacked tree; a reused
/// fetch that does not work is fetched again.
fn fetch_verified(
    cache: &Path,
    architecture: Option<&str>,
    start: impl Fn(&Path) -> Result<Godot, String>,
) -> Result<Godot, String> {
    let (tree, reused) = debian::fetch(cache, SUITE, &[PACKAGE], architecture)?;
    match start(&tree).and_then(verified) {
        Err(e) if reused => {
            say(format!(
                "the cached copy does not work ({e}); fetching again"
            ));
            debian::forget(cache)?;
            let (tree, _) = debian::fetch(cache, SUITE, &[PACKAGE], architecture)?;
            start(&tree).and_then(verified)
        }
        result => result,
    }
}

/// Runs Godot headless with `args` in `project`, prints its log, and fails on a non-zero exit
/// or a fatal line in the log. Returns the log.
pub fn run_godot(
    godot: &Godot,
    project: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<String, String> {
    let mut command = godot.headless(project);
    command.args(args);
    say(format!("running Godot: {}", args.join(" ")));
    judge_godot_run(command, timeout)
}

/// Runs `command` (Godot, or a script that runs it), prints its log, and fails on a non-zero
/// exit or a fatal line in the log. Returns the log.
pub fn judge_godot_run(command: Command, timeout: Duration) -> Result<String, String> {
    let output = output_with_timeout(command, timeout)?;
    let log = output_text(&output);
    print!("{log}");
    verdict(&log, output.status).map(|()| log)
}

/// Fails a Godot run on a fatal line in its `log` ([`FATAL_LOG_LINES`]) or a non-zero exit.
pub fn verdict(log: &str, status: ExitStatus) -> Result<(), String> {
    if let Some(line) = fatal_line(log) {
        return Err(format!("Godot logged: {}", line.trim()));
    }
    if !status.success() {
        return Err(format!("Godot exited with {status}"));
    }
    Ok(())
}

/// The first line of `log` that fails a Godot run ([`FATAL_LOG_LINES`]).
pub fn fatal_line(log: &str) -> Option<&str> {
    log.lines()
        .find(|line| FATAL_LOG_LINES.iter().any(|fatal| line.contains(fatal)))
}

/// Runs a headless Godot script that ends with an `N passed, M failed` line; returns the counts.
pub fn godot_counts(
    godot: &Godot,
    project: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Counts, String> {
    let log = run_godot(godot, project, args, timeout)?;
    closing_counts(&log)
        .ok_or_else(|| format!("`{}` printed no `N passed, M failed` line", args.join(" ")))
}
