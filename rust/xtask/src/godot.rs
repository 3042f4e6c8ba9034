//! Finding (or fetching) a Godot 4 binary for `cargo xtask`.
//!
//! Order: `$GODOT`, then `godot` / `godot4` on `PATH`, then a private copy of
//! Debian sid's `godot` package (plus its dependency closure) unpacked into a
//! cache directory. The fetch uses apt with a private sources list, package
//! lists, cache and status file, so the system's apt configuration and dpkg
//! database are never touched. The unpacked binary is started through the
//! unpacked tree's own dynamic loader, so it uses sid's glibc and libraries
//! instead of the host's.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Oldest supported Godot 4 minor version (4.3).
const MIN_MINOR: u32 = 3;
/// Debian package providing Godot.
const PACKAGE: &str = "godot";
/// Debian suite that carries a new enough Godot.
const SUITE: &str = "sid";
/// Mirror used when the system's apt sources name no Debian mirror.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// Keyring that verifies Debian's archive signatures (bookworm's covers sid).
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Written into the cache dir only after a fully successful fetch.
const MARKER: &str = "fetched.txt";
/// How long `godot --headless --version` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// A runnable Godot 4 binary and how to start it.
pub struct Godot {
    program: PathBuf,
    prefix_args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    version: String,
    source: String,
}

impl Godot {
    /// A Command that starts Godot; callers append their own args (e.g. "--headless", "--path", p).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix_args);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Human-readable description e.g. "Godot 4.6.3.stable (fetched from Debian sid into target/godot)".
    pub fn describe(&self) -> String {
        format!("Godot {} ({})", self.version, self.source)
    }
}

/// Finds Godot: $GODOT if set (must be a Godot 4.3+ binary, else a clear error), else
/// `godot`/`godot4` on PATH if it reports version 4.3+, else fetches one into `cache_dir`
/// (reusing an earlier fetch there). Prints one line per step to stderr, prefixed "xtask: ".
pub fn locate(cache_dir: &Path) -> Result<Godot, String> {
    let godot = locate_inner(cache_dir)?;
    log(format!("using {}", godot.describe()));
    Ok(godot)
}

fn locate_inner(cache_dir: &Path) -> Result<Godot, String> {
    if let Some(value) = std::env::var_os("GODOT").filter(|v| !v.is_empty()) {
        let shown = value.to_string_lossy().into_owned();
        log(format!(
            "$GODOT is set; checking `{shown} --headless --version`"
        ));
        let godot = plain(PathBuf::from(&value), format!("from $GODOT={shown}"));
        return match probe(&godot) {
            Ok(version) if supported(&version) => Ok(Godot { version, ..godot }),
            Ok(version) => Err(format!(
                "$GODOT={shown} is Godot {version}, but Godot 4.{MIN_MINOR} or newer (4.x) is \
                 required; point $GODOT at a Godot 4.{MIN_MINOR}+ binary or unset it"
            )),
            Err(e) => Err(format!(
                "$GODOT={shown} is not a working Godot 4.{MIN_MINOR}+ binary: {e}\n\
                 Point $GODOT at a Godot 4.{MIN_MINOR}+ binary or unset it."
            )),
        };
    }

    log("$GODOT is not set; looking for `godot` / `godot4` on PATH");
    for name in ["godot", "godot4"] {
        let Some(path) = find_on_path(name) else {
            continue;
        };
        let godot = plain(path.clone(), format!("{} on PATH", path.display()));
        match probe(&godot) {
            Ok(version) if supported(&version) => return Ok(Godot { version, ..godot }),
            Ok(version) => log(format!(
                "{} is Godot {version}, need 4.{MIN_MINOR}+; skipping it",
                path.display()
            )),
            Err(e) => log(format!(
                "{} does not work, skipping it: {e}",
                path.display()
            )),
        }
    }

    fetch(cache_dir)
}

/// A Godot started directly, without loader or environment tweaks.
fn plain(program: PathBuf, source: String) -> Godot {
    Godot {
        program,
        prefix_args: Vec::new(),
        env: Vec::new(),
        version: String::new(),
        source,
    }
}

fn log(msg: impl AsRef<str>) {
    eprintln!("xtask: {}", msg.as_ref());
}

/// Parses the leading "major.minor" of a Godot version string like "4.6.3.stable.debian".
fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn supported(version: &str) -> bool {
    matches!(parse_version(version), Some((4, minor)) if minor >= MIN_MINOR)
}

/// Runs `godot --headless --version` and returns the version it reports.
fn probe(godot: &Godot) -> Result<String, String> {
    let mut cmd = godot.command();
    cmd.args(["--headless", "--version"]);
    let shown = show_cmd(&cmd);
    let out = output_with_timeout(cmd, PROBE_TIMEOUT)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let version = stdout
        .lines()
        .map(str::trim)
        .rev()
        .find(|line| parse_version(line).is_some());
    match version {
        Some(v) if out.status.success() => Ok(v.to_string()),
        _ => Err(format!(
            "`{shown}` did not report a version ({}){}",
            out.status,
            tail_of(&out)
        )),
    }
}

/// Like `Command::output`, but kills the child after `timeout`.
pub(crate) fn output_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output, String> {
    let shown = show_cmd(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let readers = [
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    ]
    .map(|pipe| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{shown}` did not finish within {}s; killed it",
                    timeout.as_secs()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `{shown}` failed: {e}")),
        }
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap_or_default());
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Runs a command to completion, returning its stdout or an error with its output's tail.
fn run(cmd: &mut Command) -> Result<String, String> {
    let shown = show_cmd(cmd);
    let out = cmd
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

/// The last lines of a command's stdout and stderr, for error messages.
fn tail_of(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(20);
    format!(", output:\n  {}", lines[start..].join("\n  "))
}

/// A shell-like rendering of a command line, for messages.
pub(crate) fn show_cmd(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join(name);
        if is_executable(&candidate) {
            return Some(candidate);
        }
        let exe = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        is_executable(&exe).then_some(exe)
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// `path` relative to the current directory when it lies below it, for messages.
fn short(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------
// Fetching Godot from Debian sid.

/// Directory names inside the cache dir.
struct Layout {
    cache: PathBuf,
    apt: PathBuf,
    debs: PathBuf,
    root: PathBuf,
    marker: PathBuf,
}

impl Layout {
    fn new(cache_dir: &Path) -> Result<Layout, String> {
        let cache = std::path::absolute(cache_dir)
            .map_err(|e| format!("bad cache dir {}: {e}", cache_dir.display()))?;
        Ok(Layout {
            apt: cache.join("apt"),
            debs: cache.join("apt").join("debs"),
            root: cache.join("root"),
            marker: cache.join(MARKER),
            cache,
        })
    }
}

/// Debian sid's Godot in `cache_dir` (fetched now, or earlier), whatever `$GODOT` and `PATH` hold.
pub(crate) fn fetch(cache_dir: &Path) -> Result<Godot, String> {
    let layout = Layout::new(cache_dir)?;
    let source = format!("fetched from Debian {SUITE} into {}", short(&layout.cache));

    if layout.marker.is_file() {
        log(format!(
            "reusing the Godot fetched earlier into {}",
            short(&layout.cache)
        ));
        match unpacked_godot(&layout.root, &source).and_then(verified) {
            Ok(godot) => return Ok(godot),
            Err(e) => {
                log(format!(
                    "the cached copy does not work ({e}); fetching again"
                ));
                fs::remove_file(&layout.marker)
                    .map_err(|e| format!("cannot remove {}: {e}", layout.marker.display()))?;
            }
        }
    }

    let missing: Vec<&str> = ["apt-get", "apt-cache", "dpkg"]
        .into_iter()
        .filter(|tool| find_on_path(tool).is_none())
        .collect();
    if !cfg!(target_os = "linux") || !missing.is_empty() {
        return Err(format!(
            "no Godot 4.{MIN_MINOR}+ found: $GODOT is not set and neither `godot` nor `godot4` \
             on PATH is Godot 4.{MIN_MINOR}+. Fetching one automatically needs a Debian-based \
             Linux (apt-get, apt-cache and dpkg{}). Install Godot 4.{MIN_MINOR} or newer \
             (https://godotengine.org/download) and set GODOT=/path/to/godot.",
            if missing.is_empty() {
                String::new()
            } else {
                format!("; missing: {}", missing.join(", "))
            }
        ));
    }

    let mirror = system_mirror();
    log(format!(
        "no Godot 4.{MIN_MINOR}+ on PATH; fetching Debian {SUITE}'s `{PACKAGE}` into {} \
         (private apt state, the system's apt config is left alone)",
        short(&layout.cache)
    ));
    let present = fetch_tree(&layout, &mirror, SUITE, &[PACKAGE])?;

    let godot = unpacked_godot(&layout.root, &source)?;
    let godot = verified(godot)?;

    let mut marker = format!(
        "Godot {}, fetched from {mirror} {SUITE}; packages:\n",
        godot.version
    );
    for file in &present {
        marker.push_str(file);
        marker.push('\n');
    }
    fs::write(&layout.marker, marker)
        .map_err(|e| format!("cannot write {}: {e}", layout.marker.display()))?;
    remove_apt_state(&layout);
    Ok(godot)
}

/// Downloads `roots` and their dependency closure from Debian `suite` with private apt state
/// and unpacks them with `dpkg -x` into `layout.root`. Returns the .deb files unpacked.
fn fetch_tree(
    layout: &Layout,
    mirror: &str,
    suite: &str,
    roots: &[&str],
) -> Result<Vec<String>, String> {
    triplet()?;
    let conf = write_apt_config(layout, mirror, suite)?;

    log(format!(
        "apt-get update: downloading the {suite} package index from {mirror}"
    ));
    run(apt("apt-get", &conf).args(["-q", "update"]))?;
    let lists = layout.apt.join("lists");
    let have_index = fs::read_dir(&lists)
        .map_err(|e| format!("cannot read {}: {e}", lists.display()))?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("_Packages"));
    if !have_index {
        return Err(format!(
            "apt-get update did not download a {suite} package index into {}",
            lists.display()
        ));
    }

    log(format!(
        "resolving the dependencies of {suite}'s {} (apt-cache depends --recurse)",
        roots.join(", ")
    ));
    let packages = resolve(&conf, suite, roots)?;
    let debs = deb_files(&conf, suite, &packages, roots)?;
    let total: u64 = debs.iter().map(|d| d.size).sum();

    fs::create_dir_all(&layout.debs)
        .map_err(|e| format!("cannot create {}: {e}", layout.debs.display()))?;
    let todo: Vec<&Deb> = debs
        .iter()
        .filter(|d| !layout.debs.join(&d.file).is_file())
        .collect();
    log(format!(
        "downloading {} of {} packages ({} MB in all) into {}",
        todo.len(),
        debs.len(),
        total.div_ceil(1_000_000),
        short(&layout.debs)
    ));
    download(&conf, &layout.debs, &todo, roots)?;
    let present: Vec<&Deb> = debs
        .iter()
        .filter(|d| layout.debs.join(&d.file).is_file())
        .collect();

    log(format!(
        "unpacking {} packages with dpkg -x into {}",
        present.len(),
        short(&layout.root)
    ));
    unpack(layout, &present)?;
    Ok(present.iter().map(|deb| deb.file.clone()).collect())
}

/// Fetches Debian `suite`'s `roots` and their dependency closure into `cache_dir/root` (private
/// apt state, as for Godot), reusing an earlier fetch of the same packages. Returns that root.
pub(crate) fn fetch_packages(
    cache_dir: &Path,
    suite: &str,
    roots: &[&str],
) -> Result<PathBuf, String> {
    let layout = Layout::new(cache_dir)?;
    let wanted = format!("Debian {suite}: {}\n", roots.join(" "));
    let fetched = fs::read_to_string(&layout.marker).unwrap_or_default();
    if fetched.starts_with(&wanted) && layout.root.is_dir() {
        return Ok(layout.root);
    }
    log(format!(
        "fetching Debian {suite}'s {} into {} (private apt state)",
        roots.join(", "),
        short(&layout.cache)
    ));
    let files = fetch_tree(&layout, &system_mirror(), suite, roots)?;
    fs::write(&layout.marker, format!("{wanted}{}\n", files.join("\n")))
        .map_err(|e| format!("cannot write {}: {e}", layout.marker.display()))?;
    remove_apt_state(&layout);
    Ok(layout.root)
}

/// Removes the downloaded .deb files and package lists of a finished fetch.
fn remove_apt_state(layout: &Layout) {
    log(format!(
        "fetch complete; removing the downloaded .deb files and package lists ({})",
        short(&layout.apt)
    ));
    if let Err(e) = fs::remove_dir_all(&layout.apt) {
        log(format!(
            "warning: cannot remove {}: {e}",
            layout.apt.display()
        ));
    }
}

/// Checks a candidate with `--headless --version` and fills in its version.
fn verified(godot: Godot) -> Result<Godot, String> {
    log(format!(
        "checking `{} --headless --version`",
        short(&godot.program_path())
    ));
    let version = probe(&godot)?;
    if !supported(&version) {
        return Err(format!(
            "the fetched Godot reports version {version}, not 4.{MIN_MINOR}+"
        ));
    }
    Ok(Godot { version, ..godot })
}

impl Godot {
    /// This Godot with `dirs` searched for shared libraries after its own (e.g. Mesa's OpenGL
    /// drivers). Only for a Godot fetched from Debian, which runs through its own loader.
    pub(crate) fn with_library_dirs(mut self, dirs: &[PathBuf]) -> Result<Godot, String> {
        let position = self
            .prefix_args
            .iter()
            .position(|arg| arg == "--library-path")
            .ok_or_else(|| format!("{} runs without a private loader", self.describe()))?;
        let own = std::env::split_paths(&self.prefix_args[position + 1]).collect::<Vec<_>>();
        self.prefix_args[position + 1] = join_paths(&[own, dirs.to_vec()].concat())?;
        Ok(self)
    }

    /// The Godot binary itself (not the loader that starts it).
    fn program_path(&self) -> PathBuf {
        self.prefix_args
            .last()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.program.clone())
    }
}

/// The GNU multiarch triplet of this machine, e.g. "x86_64-linux-gnu".
pub(crate) fn triplet() -> Result<&'static str, String> {
    match std::env::consts::ARCH {
        "x86_64" => Ok("x86_64-linux-gnu"),
        "aarch64" => Ok("aarch64-linux-gnu"),
        "riscv64" => Ok("riscv64-linux-gnu"),
        "powerpc64" => Ok("powerpc64le-linux-gnu"),
        "s390x" => Ok("s390x-linux-gnu"),
        other => Err(format!(
            "fetching Godot is not supported on {other}; install Godot 4.{MIN_MINOR}+ and set GODOT"
        )),
    }
}

/// The Debian mirror the system's apt sources use (e.g. "http://deb.debian.org/debian").
fn system_mirror() -> String {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut extra: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|ext| ext == "list" || ext == "sources")
            })
            .collect();
        extra.sort();
        files.extend(extra);
    }
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            // One-line style: `deb [opts] URI suite comps`; deb822 style: `URIs: URI ...`.
            let uris: Vec<&str> = if let Some(rest) = line.strip_prefix("deb ") {
                let rest = rest.trim_start();
                let rest = match rest.strip_prefix('[') {
                    Some(opts) => opts.split_once(']').map_or("", |(_, r)| r),
                    None => rest,
                };
                rest.split_whitespace().take(1).collect()
            } else if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else {
                continue;
            };
            for uri in uris {
                let uri = uri.trim_end_matches('/');
                let web = uri.starts_with("http://") || uri.starts_with("https://");
                if web && uri.ends_with("/debian") {
                    return uri.to_string();
                }
            }
        }
    }
    DEFAULT_MIRROR.to_string()
}

/// Writes the private sources list and apt config; returns the config's path.
fn write_apt_config(layout: &Layout, mirror: &str, suite: &str) -> Result<PathBuf, String> {
    let apt = &layout.apt;
    for dir in [
        apt.join("lists").join("partial"),
        apt.join("cache").join("archives").join("partial"),
        apt.join("state"),
    ] {
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let signed_by = if Path::new(DEBIAN_KEYRING).is_file() {
        format!("[signed-by={DEBIAN_KEYRING}] ")
    } else {
        String::new()
    };
    let sources = apt.join("sources.list");
    let status = apt.join("state").join("status");
    let conf = apt.join("apt.conf");
    let conf_text = format!(
        "// Private apt setup for fetching Godot; read after the system config via `-c`.\n\
         // Drop system hooks that would act on the system (appstream, packagekit, cleanup).\n\
         #clear APT::Update::Pre-Invoke;\n\
         #clear APT::Update::Post-Invoke;\n\
         #clear APT::Update::Post-Invoke-Success;\n\
         #clear DPkg::Pre-Invoke;\n\
         #clear DPkg::Post-Invoke;\n\
         #clear DPkg::Pre-Install-Pkgs;\n\
         #clear APT::Default-Release;\n\
         #clear Acquire::IndexTargets::deb::DEP-11;\n\
         #clear Acquire::IndexTargets::deb::DEP-11-icons-small;\n\
         #clear Acquire::IndexTargets::deb::DEP-11-icons;\n\
         #clear Acquire::IndexTargets::deb::Contents-deb;\n\
         Acquire::Languages \"none\";\n\
         Dir::Etc::SourceList \"{}\";\n\
         Dir::Etc::SourceParts \"/dev/null\";\n\
         Dir::Etc::Preferences \"/dev/null\";\n\
         Dir::Etc::PreferencesParts \"/dev/null\";\n\
         Dir::State \"{}\";\n\
         Dir::State::Lists \"{}\";\n\
         Dir::State::status \"{}\";\n\
         Dir::Cache \"{}\";\n",
        sources.display(),
        apt.join("state").display(),
        apt.join("lists").display(),
        status.display(),
        apt.join("cache").display(),
    );
    let files = [
        (sources, format!("deb {signed_by}{mirror} {suite} main\n")),
        // An empty dpkg status: nothing counts as installed, so the full closure is used.
        (status, String::new()),
        (conf.clone(), conf_text),
    ];
    for (path, text) in files {
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(conf)
}

/// An apt-get / apt-cache command using the private config, with untranslated output.
fn apt(tool: &str, conf: &Path) -> Command {
    let mut cmd = Command::new(tool);
    cmd.arg("-c")
        .arg(conf)
        .env("LC_ALL", "C")
        .env("LANGUAGE", "");
    cmd
}

/// One alternative of a dependency: a package name, plus providers if it is virtual.
struct Alt {
    name: String,
    providers: Vec<String>,
}

/// The runtime dependency closure of the `roots` packages, one package per dependency
/// (the first installable alternative), like `apt-get install --no-install-recommends`.
fn resolve(conf: &Path, suite: &str, roots: &[&str]) -> Result<Vec<String>, String> {
    let out = run(apt("apt-cache", conf)
        .args([
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
        ])
        .args(roots))?;

    // Parse `apt-cache depends` output: an unindented package name (virtual ones in
    // <angle brackets>), then "  Depends: x" lines (" |Depends: x" = "or the next one"),
    // and for virtual targets the providers indented by four spaces.
    let mut deps: HashMap<String, Vec<Vec<Alt>>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut continues_group = false;
    for line in out.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let name = line.trim();
            current = (!name.starts_with('<')).then(|| strip_arch(name));
            if let Some(name) = &current {
                deps.entry(name.clone()).or_default();
            }
            continues_group = false;
            continue;
        }
        let Some(groups) = current.as_ref().and_then(|c| deps.get_mut(c)) else {
            continue;
        };
        if let Some(provider) = line.strip_prefix("    ") {
            if let Some(alt) = groups.last_mut().and_then(|g| g.last_mut()) {
                alt.providers.push(strip_arch(provider.trim()));
            }
            continue;
        }
        let Some((kind, target)) = line.split_once(':') else {
            continue;
        };
        let or_next = kind.starts_with(" |");
        let kind = kind.trim().trim_start_matches('|');
        if kind != "Depends" && kind != "PreDepends" {
            continue;
        }
        let alt = Alt {
            name: strip_arch(target.trim().trim_start_matches('<').trim_end_matches('>')),
            providers: Vec::new(),
        };
        match groups.last_mut() {
            Some(group) if continues_group => group.push(alt),
            _ => groups.push(vec![alt]),
        }
        continues_group = or_next;
    }
    if let Some(root) = roots.iter().find(|root| !deps.contains_key(**root)) {
        return Err(format!(
            "Debian {suite} has no `{root}` package (apt-cache depends found nothing)"
        ));
    }

    let mut selected: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = roots.iter().map(|root| root.to_string()).collect();
    while let Some(pkg) = queue.pop_front() {
        if !selected.insert(pkg.clone()) {
            continue;
        }
        for group in &deps[&pkg] {
            let candidates: Vec<&String> = group
                .iter()
                .flat_map(|alt| std::iter::once(&alt.name).chain(&alt.providers))
                .filter(|name| deps.contains_key(*name))
                .collect();
            if candidates.iter().any(|c| selected.contains(*c)) {
                continue;
            }
            match candidates.first() {
                Some(c) => queue.push_back((*c).clone()),
                None => log(format!(
                    "warning: nothing in sid satisfies `{}` (needed by {pkg}); continuing without it",
                    group
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" | ")
                )),
            }
        }
    }
    Ok(selected.into_iter().collect())
}

/// Drops a ":any" / ":amd64"-style qualifier from a package name.
fn strip_arch(name: &str) -> String {
    name.split(':').next().unwrap_or(name).to_string()
}

/// A .deb to download: its file name as `apt-get download` saves it, and its size.
struct Deb {
    package: String,
    file: String,
    size: u64,
}

/// Looks up the candidate version of each package and the file `apt-get download` creates.
fn deb_files(
    conf: &Path,
    suite: &str,
    packages: &[String],
    roots: &[&str],
) -> Result<Vec<Deb>, String> {
    let out = apt("apt-cache", conf)
        .args(["show", "--no-all-versions"])
        .args(packages)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-cache show: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut debs = Vec::new();
    for record in text.split("\n\n") {
        let field = |name: &str| {
            record.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|v| v.trim().to_string())
            })
        };
        let (Some(package), Some(version), Some(arch)) =
            (field("Package"), field("Version"), field("Architecture"))
        else {
            continue;
        };
        let size = field("Size").and_then(|s| s.parse().ok()).unwrap_or(0);
        // apt-get download names files name_version_arch.deb with ':' written as "%3a".
        let file = format!("{package}_{}_{arch}.deb", version.replace(':', "%3a"));
        debs.push(Deb {
            package,
            file,
            size,
        });
    }
    let found: HashSet<&str> = debs.iter().map(|d| d.package.as_str()).collect();
    let lost: Vec<&str> = packages
        .iter()
        .map(String::as_str)
        .filter(|p| !found.contains(p))
        .collect();
    if let Some(root) = roots.iter().find(|root| !found.contains(**root)) {
        Err(format!(
            "apt-cache show found no `{root}` package in Debian {suite}{}",
            tail_of(&out)
        ))
    } else {
        if !lost.is_empty() {
            log(format!(
                "warning: no downloadable version of {}; continuing without",
                lost.join(", ")
            ));
        }
        Ok(debs)
    }
}

/// Downloads the given packages into `dir`, one by one as a fallback if the batch fails.
fn download(conf: &Path, dir: &Path, debs: &[&Deb], roots: &[&str]) -> Result<(), String> {
    if debs.is_empty() {
        return Ok(());
    }
    let batch = apt("apt-get", conf)
        .current_dir(dir)
        .args(["-q", "download"])
        .args(debs.iter().map(|d| &d.package))
        .output();
    if batch.as_ref().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    log("the batch download failed; retrying the missing packages one by one");
    for deb in debs.iter().filter(|d| !dir.join(&d.file).is_file()) {
        let result =
            run(apt("apt-get", conf)
                .current_dir(dir)
                .args(["-q", "download", &deb.package]));
        match result {
            Ok(_) => {}
            Err(e) if roots.contains(&deb.package.as_str()) => return Err(e),
            Err(e) => log(format!(
                "warning: cannot download {}, continuing without it: {e}",
                deb.package
            )),
        }
    }
    Ok(())
}

/// Unpacks the .debs into a fresh `root` directory, several `dpkg -x` at a time.
fn unpack(layout: &Layout, debs: &[&Deb]) -> Result<(), String> {
    let root = &layout.root;
    if root.exists() {
        fs::remove_dir_all(root).map_err(|e| format!("cannot remove {}: {e}", root.display()))?;
    }
    fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let workers = thread::available_parallelism().map_or(2, |n| n.get().min(8));
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(deb) = debs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let file = layout.debs.join(&deb.file);
                    if let Err(e) = run(Command::new("dpkg").arg("-x").arg(&file).arg(root)) {
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// The unpacked Godot, started through the unpacked tree's own dynamic loader.
fn unpacked_godot(root: &Path, source: &str) -> Result<Godot, String> {
    let binary = root.join("usr/bin").join(PACKAGE);
    let (loader, library_path) = loader_for(root, &binary)?;
    Ok(Godot {
        program: loader,
        prefix_args: vec![
            OsString::from("--library-path"),
            library_path,
            binary.into_os_string(),
        ],
        env: Vec::new(),
        version: String::new(),
        source: source.to_string(),
    })
}

/// Fetches Debian `suite`'s `packages` like [`fetch_packages`] and returns the unpacked tree's
/// dynamic loader and the library path under which `binary` (a path inside the packages, e.g.
/// `usr/bin/python2.7`) finds every library it needs.
pub fn fetch_debian(
    cache_dir: &Path,
    suite: &str,
    packages: &[&str],
    binary: &str,
) -> Result<(PathBuf, OsString), String> {
    let root = fetch_packages(cache_dir, suite, packages)?;
    loader_for(&root, &root.join(binary))
}

/// The dynamic loader of an unpacked tree and the library path (the tree's folders) under which
/// it starts `binary` of that tree with every library found.
fn loader_for(root: &Path, binary: &Path) -> Result<(PathBuf, OsString), String> {
    let triplet = triplet()?;
    if !binary.is_file() {
        return Err(format!("{} is missing", binary.display()));
    }
    let loader = [
        format!("usr/lib/{triplet}"),
        format!("lib/{triplet}"),
        "usr/lib64".to_string(),
        "lib64".to_string(),
        "usr/lib".to_string(),
        "lib".to_string(),
    ]
    .iter()
    .filter_map(|dir| fs::read_dir(root.join(dir)).ok())
    .flat_map(|entries| entries.flatten())
    .map(|entry| entry.path())
    .find(|path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        name.starts_with("ld-linux") && name.contains(".so") && path.is_file()
    })
    .ok_or_else(|| format!("no ld-linux*.so* dynamic loader under {}", root.display()))?;

    let mut lib_dirs: Vec<PathBuf> = [
        format!("usr/lib/{triplet}"),
        format!("lib/{triplet}"),
        format!("usr/lib/{triplet}/pulseaudio"),
    ]
    .iter()
    .map(|dir| root.join(dir))
    .filter(|dir| dir.is_dir())
    .collect();

    // Ask the loader which libraries it cannot find, and add the unpacked dirs that hold them.
    for _ in 0..8 {
        // `--list` exits non-zero when a library is missing, so look at its output only.
        let mut list = Command::new(&loader);
        list.arg("--library-path")
            .arg(join_paths(&lib_dirs)?)
            .arg("--list")
            .arg(binary);
        let listed = output_with_timeout(list, PROBE_TIMEOUT)?;
        // Missing libraries show up as "libx.so.1 => not found" lines, or (when the loader
        // gives up) as "...: error while loading shared libraries: libx.so.1: cannot open...".
        let out = format!(
            "{}\n{}",
            String::from_utf8_lossy(&listed.stdout),
            String::from_utf8_lossy(&listed.stderr)
        );
        let missing: Vec<&str> = out
            .lines()
            .filter_map(|line| {
                if line.contains("=> not found") {
                    line.split_whitespace().next()
                } else {
                    let (_, rest) = line.split_once("error while loading shared libraries: ")?;
                    rest.split(':').next()
                }
            })
            .collect();
        if missing.is_empty() && !listed.status.success() {
            return Err(format!(
                "the unpacked loader cannot load {} ({}){}",
                binary.display(),
                listed.status,
                tail_of(&listed)
            ));
        }
        if missing.is_empty() {
            return Ok((loader, join_paths(&lib_dirs)?));
        }
        let mut found = Vec::new();
        for lib in &missing {
            match find_file(root, lib) {
                Some(dir) if !lib_dirs.contains(&dir) && !found.contains(&dir) => found.push(dir),
                Some(_) => {}
                None => {
                    return Err(format!(
                        "{} needs {lib}, which is not in {} (a dependency did not download?)",
                        binary.display(),
                        root.display()
                    ))
                }
            }
        }
        if found.is_empty() {
            break;
        }
        lib_dirs.extend(found);
    }
    Err(format!(
        "cannot find all shared libraries of {} under {}",
        binary.display(),
        root.display()
    ))
}

fn join_paths(dirs: &[PathBuf]) -> Result<OsString, String> {
    std::env::join_paths(dirs).map_err(|e| format!("bad library path: {e}"))
}

/// The directory under `dir` (recursively) holding a file called `name`.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if entry.file_name() == name {
                return Some(dir);
            }
        }
    }
    None
}
