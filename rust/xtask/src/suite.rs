//! The headless Godot suite (`tests/godot/`) against its real peers (Python `websockets`,
//! Godot's own WebSocket server, an HTTP CONNECT proxy, two SOCKS5 proxies and a misbehaving
//! raw-TCP server), its
//! quit check (`lifecycle.rs`), and the sample project's scripted session (the demo).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::godot::{godot_counts, run_godot, Godot};
use crate::process::{
    add, copy, copy_dir, fresh_dir, python_venv, remove_dir, remove_file, root, say, start_peer,
    write, Counts, PEER_REQUIREMENTS,
};
use crate::project::{import, install_addon, new_project, ADDON_DIR, IMPORT_TIMEOUT};
use crate::{certs, lifecycle, microsocks};

/// Longest the headless demo may take.
const DEMO_TIMEOUT: Duration = Duration::from_secs(120);
/// The sample project's files that make its chat (not the multiplayer lobby, whose scripts name
/// the native class).
const CHAT_FILES: [&str; 6] = [
    "project.godot",
    "main.gd",
    "main.gd.uid",
    "main.tscn",
    "echo_server.gd",
    "echo_server.gd.uid",
];
/// Godot's web export template for a build without threads, the default of a Web preset.
const WEB_TEMPLATE: &str = "web_nothreads_release.zip";
/// A Web export preset for the chat, its files written outside the project.
const WEB_PRESET: &str = "[preset.0]\n\nname=\"Web\"\nplatform=\"Web\"\nrunnable=true\n\
                          export_filter=\"all_resources\"\n\n[preset.0.options]\n\n\
                          variant/thread_support=false\n";
/// Longest a web export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest the whole headless test suite may take.
const SUITE_TIMEOUT: Duration = Duration::from_secs(900);
/// The user name and password the suite's second SOCKS5 proxy asks for
/// (`tests/godot/test_socks.gd` has them too).
const SOCKS_CREDENTIALS: (&str, &str) = ("player", "se:cr@t");

/// Installs the addon into the sample project and plays its scripted headless session.
pub fn run_demo(godot: &Godot, addon: &Path) -> Result<(), String> {
    let project = root().join("godot-project");
    install_addon(addon, &project)?;
    // The demo's echo server speaks wss:// with this certificate, which the client trusts.
    certs::write_demo_certificate(&project.join("certs"))?;
    import(godot, &project)?;
    run_godot(godot, &project, &[], DEMO_TIMEOUT)?;
    say("chat session finished; now the multiplayer lobby (RPCs over RustWebSocketClient)");
    run_godot(
        godot,
        &project,
        &["res://multiplayer/lobby.tscn"],
        DEMO_TIMEOUT,
    )?;
    say("now the chat on the web client, in a copy of the project without the extension's library");
    run_chat_without_extension(godot, addon)?;
    say("demo finished");
    Ok(())
}

/// Plays the sample chat's scripted session in `target/chat-without-extension`: its files, and
/// the addon without its `.gdextension` and libraries, as a web export has it. The same script
/// must parse there and run on the web client (Godot's `WebSocketPeer`).
fn run_chat_without_extension(godot: &Godot, addon: &Path) -> Result<(), String> {
    let sample = root().join("godot-project");
    let project = root().join("target/chat-without-extension");
    fresh_dir(&project)?;
    for file in CHAT_FILES {
        copy(&sample.join(file), &project.join(file))?;
    }
    install_addon(addon, &project)?;
    let installed = project.join(ADDON_DIR);
    remove_dir(&installed.join("bin"))?;
    remove_file(&installed.join("rust_websocket.gdextension"))?;
    say(
        "the README's import commands name the extension removed here: Godot's three errors \
         about loading it are expected",
    );
    import(godot, &project)?;
    run_godot(godot, &project, &[], DEMO_TIMEOUT)?;
    export_for_the_web(godot, &project)
}

/// Exports `project` for the web when Godot's web export template is installed; without it,
/// says so and does nothing (Debian's Godot and this machine have none). The run before it
/// already proved the scripts parse without the extension; this proves the export.
fn export_for_the_web(godot: &Godot, project: &Path) -> Result<(), String> {
    let Some(templates) = godot.export_templates_dir() else {
        say("web export skipped: no home folder to find Godot's export templates in");
        return Ok(());
    };
    if !templates.join(WEB_TEMPLATE).is_file() {
        say(format!(
            "web export skipped: no {WEB_TEMPLATE} in {} (install the export templates from the \
             editor's Editor > Manage Export Templates to try it)",
            templates.display()
        ));
        return Ok(());
    }
    write(&project.join("export_presets.cfg"), WEB_PRESET)?;
    let site = root().join("target/chat-web-export");
    fresh_dir(&site)?;
    let page = site.join("index.html");
    let page_arg = page.to_string_lossy();
    run_godot(
        godot,
        project,
        &["--export-release", "Web", page_arg.as_ref()],
        EXPORT_TIMEOUT,
    )?;
    if !page.is_file() {
        return Err(format!("the web export wrote no {}", page.display()));
    }
    say(format!(
        "exported the chat for the web into {}",
        site.display()
    ));
    Ok(())
}

/// Builds a fresh, imported project with the addon, the suites, their peers and certificates.
/// Returns its folder.
pub fn test_project(godot: &Godot, addon: &Path) -> Result<PathBuf, String> {
    let project = new_project("test-project", "rust_websocket tests", addon)?;
    for tests in ["godot", "peers", "multiplayer", "autobahn"] {
        copy_dir(
            &root().join("tests").join(tests),
            &project.join("tests").join(tests),
        )?;
    }
    certs::write_test_certificates(&project.join("tests/certs"))?;
    import(godot, &project)?;
    // godot_crypto.crt/.key: made by Godot's own Crypto, for the Python server to serve too.
    let make_certificate = ["--script", "res://tests/godot/make_godot_certificate.gd"];
    run_godot(godot, &project, &make_certificate, IMPORT_TIMEOUT)?;
    Ok(project)
}

/// Starts the peers, runs the headless suite in `project` (see [`test_project`]), and returns
/// (passed, failed) from its closing line.
pub fn godot_suite(godot: &Godot, project: &Path, only: Option<&str>) -> Result<Counts, String> {
    let certificates = project.join("tests/certs");
    let python = python_venv(PEER_REQUIREMENTS)?;
    let mut python_server = Command::new(&python);
    python_server
        .arg(root().join("tests/peers/py_server.py"))
        .args(["--port", "0", "--tls-dir"])
        .arg(&certificates);
    let (_python_peer, python_port, python_lines) =
        start_peer("Python websockets server", python_server)?;
    // `TLS <name> <port>`: the Python server's wss:// listener for the identity <name>.
    let python_tls: Vec<String> = python_lines
        .iter()
        .filter_map(|line| line.strip_prefix("TLS "))
        .filter_map(|rest| rest.split_once(' '))
        .map(|(name, port)| format!("{name}:{}", port.trim()))
        .collect();
    let mut godot_server = godot.headless(project);
    godot_server.args([
        "--script",
        "res://tests/peers/godot_server.gd",
        "--",
        "--port=0",
    ]);
    let (_godot_peer, godot_port, _) = start_peer("Godot WebSocketPeer server", godot_server)?;
    let mut proxy = Command::new(python_venv(PEER_REQUIREMENTS)?);
    proxy.arg(root().join("tests/peers/connect_proxy.py"));
    let (_proxy_peer, proxy_port, _) = start_peer("HTTP CONNECT proxy", proxy)?;
    let mut misbehaving_server = Command::new(python);
    misbehaving_server
        .arg(root().join("tests/peers/misbehaving_server.py"))
        .args(["--port", "0"]);
    let (_misbehaving_peer, misbehaving_port, _) =
        start_peer("misbehaving raw-TCP server", misbehaving_server)?;
    let (_socks_peer, socks_port) = microsocks::start(None)?;
    let (_socks_auth_peer, socks_auth_port) = microsocks::start(Some(SOCKS_CREDENTIALS))?;

    let suite_args = [
        "--script".to_owned(),
        "res://tests/godot/run_tests.gd".to_owned(),
        "--".to_owned(),
        format!("--py-port={python_port}"),
        format!("--godot-port={godot_port}"),
        format!("--py-tls={}", python_tls.join(",")),
        format!("--proxy-port={proxy_port}"),
        format!("--misbehaving-port={misbehaving_port}"),
        format!("--socks-port={socks_port}"),
        format!("--socks-auth-port={socks_auth_port}"),
    ];
    let suite_args: Vec<String> = suite_args
        .into_iter()
        .chain(only.map(|text| format!("--only={text}")))
        .collect();
    let suite_args: Vec<&str> = suite_args.iter().map(String::as_str).collect();
    let counts = godot_counts(godot, project, &suite_args, SUITE_TIMEOUT)?;
    if !only.is_none_or(|text| lifecycle::QUIT_CHECK.contains(text)) {
        return Ok(counts);
    }
    let quit_counts = lifecycle::quit_check(godot, project, python_port);
    Ok(add(counts, quit_counts))
}
