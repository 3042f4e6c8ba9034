//! Fetching Debian packages without installing them, and installing the few the system needs.
//!
//! [`fetch`] downloads packages and their dependency closure with apt, using a private sources
//! list, package lists, cache and an empty status file (so the system's apt configuration and
//! dpkg database are never touched), and unpacks them with `dpkg -x` into a cache folder. A
//! binary of that tree runs through the tree's own dynamic loader ([`loader_for`]), on its own
//! glibc and libraries. [`install`] is the ordinary `apt-get install`, for the cross toolchains,
//! Wine, qemu and openssl.
//!
//! The dependency resolver stays hand-written because `apt-get install --download-only` refuses
//! a closure with one unsatisfiable dependency, which Debian sid often has for a day or two; this
//! one warns and continues without it.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use walkdir::WalkDir;

use crate::process::{
    capture, create_dir, fresh_dir, list_dir, output_with_timeout, problems_to_result, remove_dir,
    remove_file, run, say, tail_of, write,
};

/// Mirror used when the system's apt sources name no Debian mirror.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// Keyring that verifies Debian's archive signatures (bookworm's covers sid).
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Written into the cache dir only after a fully successful fetch: what was fetched.
const MARKER: &str = "fetched.txt";
/// How long the loader may take to list a binary's libraries.
const LIST_TIMEOUT: Duration = Duration::from_secs(60);

/// Directory names inside the cache dir.
struct Layout {
    apt: PathBuf,
    debs: PathBuf,
    root: PathBuf,
    /// The Debian architecture fetched for (e.g. "arm64"); the machine's own when `None`.
    architecture: Option<String>,
}

/// Fetches Debian `suite`'s `roots` and their dependency closure (for `architecture`, Debian's
/// name such as "arm64", or the machine's own) into `cache_dir/root`, reusing an earlier fetch
/// of the same packages. Returns that root, and whether it was reused.
pub fn fetch(
    cache_dir: &Path,
    suite: &str,
    roots: &[&str],
    architecture: Option<&str>,
) -> Result<(PathBuf, bool), String> {
    let cache = std::path::absolute(cache_dir)
        .map_err(|e| format!("bad cache dir {}: {e}", cache_dir.display()))?;
    let layout = Layout {
        apt: cache.join("apt"),
        debs: cache.join("apt").join("debs"),
        root: cache.join("root"),
        architecture: architecture.map(str::to_owned),
    };
    let marker = cache.join(MARKER);
    let wanted = format!(
        "Debian {suite} ({}): {}\n",
        architecture.unwrap_or("native"),
        roots.join(" ")
    );
    let fetched = fs::read_to_string(&marker).unwrap_or_default();
    if fetched.starts_with(&wanted) && layout.root.is_dir() {
        say(format!(
            "reusing {} fetched earlier into {}",
            roots.join(", "),
            cache.display()
        ));
        return Ok((layout.root, true));
    }
    let missing: Vec<&str> = ["apt-get", "apt-cache", "dpkg"]
        .into_iter()
        .filter(|tool| which::which(tool).is_err())
        .collect();
    if !cfg!(target_os = "linux") || !missing.is_empty() {
        return Err(format!(
            "fetching {} needs a Debian-based Linux (apt-get, apt-cache and dpkg; missing: {})",
            roots.join(", "),
            missing.join(", ")
        ));
    }
    let mirror = system_mirror();
    say(format!(
        "fetching Debian {suite}'s {} into {} (private apt state, the system's apt config is \
         left alone)",
        roots.join(", "),
        cache.display()
    ));
    let files = fetch_tree(&layout, &mirror, suite, roots)?;
    if architecture.is_some() {
        link_merged_usr(&layout.root)?;
    }
    write(&marker, format!("{wanted}{}\n", files.join("\n")))?;
    say(format!(
        "fetch complete; removing the downloaded .deb files and package lists ({})",
        layout.apt.display()
    ));
    remove_dir(&layout.apt)?;
    Ok((layout.root, false))
}

/// Forgets the fetch in `cache_dir`, so the next [`fetch`] downloads again.
pub fn forget(cache_dir: &Path) -> Result<(), String> {
    remove_file(&cache_dir.join(MARKER))
}

/// Fetches Debian `suite`'s `packages` like [`fetch`] and returns the unpacked tree's dynamic
/// loader and the library path under which `binary` (a path inside the packages, e.g.
/// `usr/bin/python2.7`) finds every library it needs.
pub fn fetch_binary(
    cache_dir: &Path,
    suite: &str,
    packages: &[&str],
    binary: &str,
) -> Result<(PathBuf, OsString), String> {
    let (root, _) = fetch(cache_dir, suite, packages, None)?;
    loader_for(&root, &root.join(binary))
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

    say(format!(
        "apt-get update: downloading the {suite} package index from {mirror}"
    ));
    capture(apt("apt-get", &conf).args(["-q", "update"]))?;
    let lists = layout.apt.join("lists");
    let have_index = list_dir(&lists)?
        .iter()
        .any(|path| path.to_string_lossy().contains("_Packages"));
    if !have_index {
        return Err(format!(
            "apt-get update did not download a {suite} package index into {}",
            lists.display()
        ));
    }

    say(format!(
        "resolving the dependencies of {suite}'s {} (apt-cache depends --recurse)",
        roots.join(", ")
    ));
    let packages = resolve(&conf, suite, roots)?;
    let debs = deb_files(&conf, suite, &packages, roots)?;
    let total: u64 = debs.iter().map(|d| d.size).sum();

    create_dir(&layout.debs)?;
    let todo: Vec<&Deb> = debs
        .iter()
        .filter(|d| !layout.debs.join(&d.file).is_file())
        .collect();
    say(format!(
        "downloading {} of {} packages ({} MB in all) into {}",
        todo.len(),
        debs.len(),
        total.div_ceil(1_000_000),
        layout.debs.display()
    ));
    download(&conf, &layout.debs, &todo, roots)?;
    let present: Vec<&Deb> = debs
        .iter()
        .filter(|d| layout.debs.join(&d.file).is_file())
        .collect();

    say(format!(
        "unpacking {} packages with dpkg -x into {}",
        present.len(),
        layout.root.display()
    ));
    unpack(layout, &present)?;
    Ok(present.iter().map(|deb| deb.file.clone()).collect())
}

/// Links `lib` and `bin` to `usr/lib` and `usr/bin` in an unpacked tree: Debian's packages put
/// everything under `usr/` (merged /usr), while its binaries name `/lib/ld-linux-*.so.1` as their
/// ELF interpreter.
fn link_merged_usr(root: &Path) -> Result<(), String> {
    for folder in ["lib", "bin"] {
        let link = root.join(folder);
        if link.exists() {
            continue;
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(Path::new("usr").join(folder), &link)
            .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
        #[cfg(not(unix))]
        return Err(format!("cannot link {} on this system", link.display()));
    }
    Ok(())
}

/// The GNU multiarch triplet of this machine, e.g. "x86_64-linux-gnu".
pub fn triplet() -> Result<&'static str, String> {
    match std::env::consts::ARCH {
        "x86_64" => Ok("x86_64-linux-gnu"),
        "aarch64" => Ok("aarch64-linux-gnu"),
        "riscv64" => Ok("riscv64-linux-gnu"),
        "powerpc64" => Ok("powerpc64le-linux-gnu"),
        "s390x" => Ok("s390x-linux-gnu"),
        other => Err(format!(
            "fetching Debian packages is not supported on {other}"
        )),
    }
}

/// The Debian mirror the system's apt sources name (e.g. "http://deb.debian.org/debian"), as
/// apt itself reads them (one-line and deb822 files alike), else [`DEFAULT_MIRROR`].
fn system_mirror() -> String {
    let sites = capture(Command::new("apt-get").args([
        "indextargets",
        "--no-release-info",
        "--format",
        "$(SITE)",
    ]))
    .unwrap_or_default();
    sites
        .lines()
        .map(|site| site.trim().trim_end_matches('/'))
        .find(|site| {
            (site.starts_with("http://") || site.starts_with("https://"))
                && site.ends_with("/debian")
        })
        .map_or_else(|| DEFAULT_MIRROR.to_owned(), str::to_owned)
}

/// Writes the private sources list and apt config; returns the config's path.
fn write_apt_config(layout: &Layout, mirror: &str, suite: &str) -> Result<PathBuf, String> {
    let apt = &layout.apt;
    for dir in [
        apt.join("lists").join("partial"),
        apt.join("cache").join("archives").join("partial"),
        apt.join("state"),
    ] {
        create_dir(&dir)?;
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
         {}\
         Dir::Etc::SourceList \"{}\";\n\
         Dir::Etc::SourceParts \"/dev/null\";\n\
         Dir::Etc::Preferences \"/dev/null\";\n\
         Dir::Etc::PreferencesParts \"/dev/null\";\n\
         Dir::State \"{}\";\n\
         Dir::State::Lists \"{}\";\n\
         Dir::State::status \"{}\";\n\
         Dir::Cache \"{}\";\n",
        layout
            .architecture
            .as_ref()
            .map_or(String::new(), |architecture| format!(
            "APT::Architecture \"{architecture}\";\nAPT::Architectures {{ \"{architecture}\"; }};\n"
        )),
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
        write(&path, text)?;
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
    let out = capture(
        apt("apt-cache", conf)
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
            .args(roots),
    )?;

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
                None => say(format!(
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
            say(format!(
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
    say("the batch download failed; retrying the missing packages one by one");
    for deb in debs.iter().filter(|d| !dir.join(&d.file).is_file()) {
        let result =
            capture(
                apt("apt-get", conf)
                    .current_dir(dir)
                    .args(["-q", "download", &deb.package]),
            );
        match result {
            Ok(_) => {}
            Err(e) if roots.contains(&deb.package.as_str()) => return Err(e),
            Err(e) => say(format!(
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
    fresh_dir(root)?;
    let workers = thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let errors: Vec<String> = thread::scope(|scope| {
        let runs: Vec<_> = debs
            .chunks(debs.len().div_ceil(workers).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|deb| {
                            let file = layout.debs.join(&deb.file);
                            capture(Command::new("dpkg").arg("-x").arg(file).arg(root)).err()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|run| {
                run.join()
                    .unwrap_or_else(|_| vec!["dpkg -x panicked".into()])
            })
            .collect()
    });
    problems_to_result(errors, "\n")
}

/// The dynamic loader of an unpacked tree and the library path (the tree's folders) under which
/// it starts `binary` of that tree with every library found.
pub fn loader_for(root: &Path, binary: &Path) -> Result<(PathBuf, OsString), String> {
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
        let listed = output_with_timeout(list, LIST_TIMEOUT)?;
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

/// `dirs` as one search path (`a:b:c`), or an error.
pub fn join_paths(dirs: &[PathBuf]) -> Result<OsString, String> {
    std::env::join_paths(dirs).map_err(|e| format!("bad library path: {e}"))
}

/// The directory under `dir` (recursively) holding a file called `name`.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .find(|entry| !entry.file_type().is_dir() && entry.file_name() == name)
        .and_then(|entry| entry.path().parent().map(Path::to_path_buf))
}

/// Installs the Debian `packages` that are not installed yet (`dpkg -s`), with apt-get, then
/// removes the downloaded .debs (Wine's alone are hundreds of MB).
pub fn install(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| {
            !Command::new("dpkg")
                .args(["-s", package])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    say(format!(
        "installing {} with apt-get (needs root)",
        missing.join(" ")
    ));
    let install = || {
        run(apt_get()
            .args(["install", "--yes", "--no-install-recommends"])
            .args(&missing))
    };
    // A fresh container has no package lists yet.
    install().or_else(|_| {
        run(apt_get().args(["update", "--quiet"]))?;
        install()
    })?;
    run(apt_get().arg("clean"))
}

/// `apt-get`, noninteractive, as root: directly when this process is root (as on CI's Debian
/// container), else through `sudo -n` (as on GitHub's runners).
fn apt_get() -> Command {
    let mut command = if is_root() {
        Command::new("env")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "env"]);
        sudo
    };
    command.args(["DEBIAN_FRONTEND=noninteractive", "apt-get"]);
    command
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    capture(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

#[cfg(test)]
mod tests {
    #[test]
    fn find_file_names_the_folder_that_holds_the_file() {
        let dir = std::env::temp_dir().join(format!("xtask-find-file-{}", std::process::id()));
        let deep = dir.join("usr/lib/x86_64-linux-gnu/pulseaudio");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("libpulsecommon.so"), "").unwrap();
        assert_eq!(super::find_file(&dir, "libpulsecommon.so"), Some(deep));
        assert_eq!(super::find_file(&dir, "pulseaudio"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
