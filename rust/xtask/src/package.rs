//! `cargo xtask package`: the release zip users install (`dist/rust_websocket-<version>.zip`,
//! holding `addons/rust_websocket/` and nothing else), and the release checks `cargo xtask test`
//! runs: the version everywhere it shows, the workflow, the editor docs, and the zip installed
//! into an empty Godot project.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::notices;
use crate::process::{create_dir, list_dir, read, root, say};
use crate::project::{build_addon, library_file_name, ADDON_DIR};

/// The addon's version: the workspace `Cargo.toml`'s, the one place it is written.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The extension's configuration file inside the addon folder.
pub const GDEXTENSION_FILE: &str = "rust_websocket.gdextension";
/// The generated third-party license notices inside the addon folder.
const NOTICES_FILE: &str = "THIRD_PARTY_LICENSES.txt";
/// Files of the addon folder shipped as they are (the README is stamped with the version): the
/// license, the editor plugin that adds the debugger's WebSockets tab, and the web path (the
/// GDScript client a web export uses, and the entry point that picks it).
const PLAIN_FILES: [&str; 7] = [
    "LICENSE",
    "plugin.cfg",
    "plugin.gd",
    "debugger/websocket_debugger_plugin.gd",
    "debugger/websocket_panel.gd",
    "web/rust_websocket.gd",
    "web/rust_websocket_web_client.gd",
];

/// `cargo xtask package [--prebuilt DIR]`: writes `dist/rust_websocket-<version>.zip` and checks
/// what it holds. Without `prebuilt`, it
/// builds this machine's release library; with it, every library the `.gdextension` names must
/// be in that folder.
pub fn build_package(prebuilt: Option<&Path>) -> Result<PathBuf, String> {
    let addon = root().join(ADDON_DIR);
    let gdextension = read(&addon.join(GDEXTENSION_FILE))?;
    let libraries = release_libraries(&gdextension);
    let binaries: Vec<PathBuf> = match prebuilt {
        Some(dir) => {
            let missing: Vec<&str> = libraries
                .iter()
                .map(String::as_str)
                .filter(|name| !dir.join(name).exists())
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "{} lacks libraries the .gdextension names: {}; build them or point \
                     --prebuilt at the folder that holds them",
                    dir.display(),
                    missing.join(", ")
                ));
            }
            libraries.iter().map(|name| dir.join(name)).collect()
        }
        None => {
            let built = build_addon(true)?;
            vec![built.join("bin").join(library_file_name(true)?)]
        }
    };

    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            GDEXTENSION_FILE.into(),
            packaged_gdextension(&gdextension).into_bytes(),
        ),
        (
            "README.md".into(),
            packaged_readme(&read(&addon.join("README.md"))?, &gdextension).into_bytes(),
        ),
        (
            NOTICES_FILE.into(),
            notices::generate(VERSION)?.into_bytes(),
        ),
    ];
    for name in PLAIN_FILES {
        files.push((name.into(), read_bytes(&addon.join(name))?));
    }
    for icon in icon_paths(&gdextension) {
        files.push((icon.clone(), read_bytes(&addon.join(&icon))?));
    }
    for binary in &binaries {
        let name = binary
            .file_name()
            .expect("a library file")
            .to_string_lossy();
        if binary.is_dir() {
            // An iOS framework: the folder's files, one level deep.
            for path in list_dir(binary)? {
                let file = path.file_name().expect("a file").to_string_lossy();
                files.push((format!("bin/{name}/{file}"), read_bytes(&path)?));
            }
        } else {
            files.push((format!("bin/{name}"), read_bytes(binary)?));
        }
    }

    let dist = root().join("dist");
    create_dir(&dist)?;
    let zip_path = dist.join(format!("rust_websocket-{VERSION}.zip"));
    write_zip(&zip_path, &files)?;
    let entries = check_zip(&zip_path, prebuilt.is_some())?;
    say(format!(
        "wrote {} ({} files):\n  {}",
        zip_path.display(),
        entries.len(),
        entries.join("\n  ")
    ));
    Ok(zip_path)
}

/// Writes `files` (paths relative to the addon folder) under `addons/rust_websocket/` in a zip,
/// in a stable order with fixed timestamps.
fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let file =
        fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut zip = ZipWriter::new(file);
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut directories = BTreeSet::from(["addons/".to_owned(), format!("{ADDON_DIR}/")]);
    for (name, _) in files {
        if let Some((folder, _)) = name.rsplit_once('/') {
            directories.insert(format!("{ADDON_DIR}/{folder}/"));
        }
    }
    let zip_error = |e: zip::result::ZipError| format!("cannot write {}: {e}", path.display());
    for directory in &directories {
        zip.add_directory(directory.as_str(), options.unix_permissions(0o755))
            .map_err(zip_error)?;
    }
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, data) in sorted {
        let mode = if name.starts_with("bin/") {
            0o755
        } else {
            0o644
        };
        zip.start_file(
            format!("{ADDON_DIR}/{name}"),
            options.unix_permissions(mode),
        )
        .map_err(zip_error)?;
        zip.write_all(data)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    zip.finish().map_err(zip_error)?;
    Ok(())
}

/// Checks that the zip holds exactly the addon: only `addons/` at the top, inside it only
/// `addons/rust_websocket/` with the `.gdextension`, README, LICENSE, notices, the icons the
/// `.gdextension` names, and libraries it names (all of them when `all_platforms`). Returns the
/// file entries.
fn check_zip(path: &Path, all_platforms: bool) -> Result<Vec<String>, String> {
    let file = fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut archive =
        ZipArchive::new(file).map_err(|e| format!("{} is no zip: {e}", path.display()))?;
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.map(|name| name.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot list {}: {e}", path.display()))?;
    let folder = format!("{ADDON_DIR}/");
    let mut gdextension = String::new();
    archive
        .by_name(&format!("{folder}{GDEXTENSION_FILE}"))
        .map_err(|_| format!("{} has no {GDEXTENSION_FILE}", path.display()))
        .and_then(|mut entry| {
            std::io::Read::read_to_string(&mut entry, &mut gdextension)
                .map_err(|e| format!("cannot read {GDEXTENSION_FILE} in the zip: {e}"))
        })?;

    let libraries = release_libraries(&gdextension);
    let mut allowed: BTreeSet<String> = [GDEXTENSION_FILE, "README.md", NOTICES_FILE]
        .into_iter()
        .chain(PLAIN_FILES)
        .map(str::to_owned)
        .chain(icon_paths(&gdextension))
        .chain(libraries.iter().map(|name| format!("bin/{name}")))
        .collect();
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for name in &names {
        if name == "addons/" || name == &folder || name.ends_with('/') && name.starts_with(&folder)
        {
            continue;
        }
        let framework = name.strip_prefix(&folder).and_then(|relative| {
            let (library, _) = relative.strip_prefix("bin/")?.split_once('/')?;
            let library = format!("bin/{library}");
            (library.ends_with(".framework") && libraries.iter().any(|l| library.ends_with(l)))
                .then_some(library)
        });
        match (framework, name.strip_prefix(&folder)) {
            // A file inside a framework the .gdextension names counts for the framework.
            (Some(library), _) => {
                allowed.remove(&library);
                files.push(name.clone());
            }
            (None, Some(relative)) if allowed.remove(relative) => files.push(name.clone()),
            _ => problems.push(format!("unexpected entry {name}")),
        }
    }
    for missing in &allowed {
        let optional_library = !all_platforms && missing.starts_with("bin/");
        if !optional_library {
            problems.push(format!("missing {folder}{missing}"));
        }
    }
    if !files.iter().any(|name| name.contains("/bin/")) {
        problems.push("no library in bin/".into());
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(format!(
            "{} is not the addon alone: {}",
            path.display(),
            problems.join("; ")
        ))
    }
}

/// The `.gdextension` as shipped: a header with the version, and every platform's debug key
/// mapped to the release library. The editor and debug exports load the `debug` keys; the zip
/// ships one optimized library per platform for both.
fn packaged_gdextension(gdextension: &str) -> String {
    let mut section = "";
    let mut out = format!(
        "; rust_websocket {VERSION}: the RustWebSocketClient and RustWebSocketPeer classes for Godot {}+.\n\
         ; Release package: debug and release exports (and the editor) load the same optimized\n\
         ; library.\n",
        compatibility_minimum(gdextension)
    );
    for line in gdextension.lines().skip_while(|line| line.starts_with(';')) {
        if line.starts_with('[') {
            section = line.trim();
        }
        match line.split_once('=') {
            Some((key, path))
                if section == "[libraries]" && key.trim().split('.').any(|tag| tag == "debug") =>
            {
                out.push_str(&format!("{key}={}", path.replace(".debug.", ".release.")));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The addon README as shipped: its title, then the version and supported Godot versions.
fn packaged_readme(readme: &str, gdextension: &str) -> String {
    let (title, rest) = readme.split_once('\n').unwrap_or((readme, ""));
    format!(
        "{title}\n\nVersion {VERSION}, for Godot {}+. Changes: {}/blob/main/CHANGELOG.md\n{rest}",
        compatibility_minimum(gdextension),
        env!("CARGO_PKG_REPOSITORY"),
    )
}

/// `key = value` pairs of one `[section]` of the `.gdextension`, values unquoted.
fn section<'a>(gdextension: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let header = format!("[{name}]");
    gdextension
        .lines()
        .skip_while(|line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .filter(|line| !line.trim_start().starts_with(';'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim().trim_matches('"')))
        .collect()
}

/// The file names of the release libraries the `.gdextension` names, one per platform.
pub fn release_libraries(gdextension: &str) -> BTreeSet<String> {
    section(gdextension, "libraries")
        .into_iter()
        .filter(|(key, _)| key.split('.').any(|tag| tag == "release"))
        .filter_map(|(_, path)| path.rsplit('/').next().map(str::to_owned))
        .collect()
}

/// The icon files the `.gdextension` names, relative to the addon folder.
fn icon_paths(gdextension: &str) -> Vec<String> {
    let prefix = format!("res://{ADDON_DIR}/");
    section(gdextension, "icons")
        .into_iter()
        .filter_map(|(_, path)| path.strip_prefix(prefix.as_str()).map(str::to_owned))
        .collect()
}

/// The `compatibility_minimum` of the `.gdextension`, e.g. "4.3".
pub fn compatibility_minimum(gdextension: &str) -> &str {
    section(gdextension, "configuration")
        .into_iter()
        .find(|(key, _)| *key == "compatibility_minimum")
        .map_or("?", |(_, value)| value)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
