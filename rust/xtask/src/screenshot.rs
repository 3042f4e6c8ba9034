//! `cargo xtask screenshot`: regenerates the README's screenshots in `docs/screenshots/`: the
//! sample chat scene after a real exchange with its local echo server, the editor's help
//! page for `RustWebSocketClient`, and the debugger's WebSockets tab while the editor runs the
//! chat scene.
//!
//! Godot runs for real (not headless) in an Xvfb display with software OpenGL (Mesa's llvmpipe,
//! `--rendering-driver opengl3`), all fetched privately with the apt mechanism of `debian.rs`:
//! Godot and Mesa from Debian sid (Godot runs on sid's libraries through sid's loader), Xvfb
//! and `xkbcomp` from the host's own Debian release. Xvfb starts `xkbcomp` by the absolute path
//! `/usr/bin/xkbcomp`, so it runs in a private mount namespace (`unshare --mount`) where the
//! fetched `usr/bin` is overlaid on `/usr/bin`; the host's file system is not changed. The
//! scenes capture themselves (`docs/capture/`), so the PNGs hold exactly the window.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::certs;
use crate::debian;
use crate::godot::{self, Godot};
use crate::process::{
    copy, copy_dir, create_dir, fresh_dir, output_text, output_with_timeout, read, remove_dir,
    remove_file, root, say, show_cmd, write, Peer,
};
use crate::project::{build_addon, import, install_addon};

/// Where the screenshots go, relative to the workspace root.
const SCREENSHOT_DIR: &str = "docs/screenshots";
/// Mesa's OpenGL drivers and the GL dispatch libraries, from Debian sid like Godot.
const MESA_PACKAGES: [&str; 5] = [
    "libgl1-mesa-dri",
    "libglx-mesa0",
    "libegl-mesa0",
    "libgl1",
    "libegl1",
];
/// The virtual X server and the keymap compiler it runs.
const XVFB_PACKAGES: [&str; 2] = ["xvfb", "x11-xkb-utils"];
/// The Xvfb screen: width x height x depth.
const SCREEN: &str = "1280x800x24";
/// The editor window's size (the whole screen).
const EDITOR_RESOLUTION: &str = "1280x800";
/// Longest one capture may take (the editor's first start imports and renders in software).
const CAPTURE_TIMEOUT: Duration = Duration::from_secs(600);
/// Longest Xvfb may take to report its display.
const XVFB_START_TIMEOUT: Duration = Duration::from_secs(30);

/// Fetches what it needs, starts Xvfb, and writes both screenshots.
pub fn screenshot() -> Result<(), String> {
    let work = root().join("target").join("screenshot");
    let (mesa, _) = debian::fetch(&work.join("mesa"), "sid", &MESA_PACKAGES, None)?;
    let (xvfb, _) = debian::fetch(&work.join("xvfb"), &host_suite()?, &XVFB_PACKAGES, None)?;
    let godot = godot::fetch()?.with_library_dirs(&library_dirs(&mesa)?)?;
    let addon = build_addon(false)?;
    let display = Xvfb::start(&xvfb)?;
    let shots = root().join(SCREENSHOT_DIR);
    create_dir(&shots)?;
    let run = Run {
        godot: &godot,
        display: &display.name,
        mesa: &mesa,
        home: &work.join("home"),
    };
    let chat = shots.join("chat.png");
    run.chat(&addon, &work.join("chat-project"), &chat)?;
    let help = shots.join("help.png");
    run.help(&addon, &work.join("help-project"), &help)?;
    let inspector = shots.join("inspector.png");
    run.inspector(&addon, &work.join("inspector-project"), &inspector)?;
    say(format!(
        "screenshots written: {}, {} and {}",
        chat.display(),
        help.display(),
        inspector.display()
    ));
    Ok(())
}

/// The codename of the host's Debian release (`VERSION_CODENAME` in `/etc/os-release`).
fn host_suite() -> Result<String, String> {
    let release = fs::read_to_string("/etc/os-release")
        .map_err(|e| format!("cannot read /etc/os-release: {e}"))?;
    release
        .lines()
        .find_map(|line| line.strip_prefix("VERSION_CODENAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| "/etc/os-release names no VERSION_CODENAME (not Debian?)".into())
}

/// The shared-library folders of an unpacked Debian tree.
fn library_dirs(root: &Path) -> Result<Vec<PathBuf>, String> {
    let triplet = debian::triplet()?;
    Ok([format!("usr/lib/{triplet}"), format!("lib/{triplet}")]
        .iter()
        .map(|dir| root.join(dir))
        .filter(|dir| dir.is_dir())
        .collect())
}

/// A running Xvfb, stopped when dropped.
struct Xvfb {
    _process: Peer,
    /// The `DISPLAY` value, e.g. ":1".
    name: String,
}

impl Xvfb {
    /// Starts the fetched Xvfb in `root` on a display it picks (`-displayfd`), in a private mount
    /// namespace where the fetched `usr/bin` (with `xkbcomp`) is overlaid on `/usr/bin`.
    fn start(root: &Path) -> Result<Xvfb, String> {
        let library_path = debian::join_paths(&library_dirs(root)?)?;
        let script = format!(
            "mount -t overlay overlay -o \"lowerdir=$1:/usr/bin\" /usr/bin && \
             exec \"$1/Xvfb\" -displayfd 1 -screen 0 {SCREEN} -nolisten tcp -xkbdir \"$2\""
        );
        let mut command = Command::new("unshare");
        if !debian::is_root() {
            command.arg("--map-root-user");
        }
        command
            .args(["--mount", "sh", "-c", &script, "sh"])
            .arg(root.join("usr/bin"))
            .arg(root.join("usr/share/X11/xkb"))
            .env("LD_LIBRARY_PATH", library_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        say(format!("starting Xvfb: {}", show_cmd(&command)));
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start Xvfb through unshare: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let process = Peer { child };
        let number = receiver
            .recv_timeout(XVFB_START_TIMEOUT)
            .ok()
            .and_then(|line| line.trim().parse::<u32>().ok())
            .ok_or("Xvfb did not report a display (see its messages above)")?;
        say(format!("Xvfb is serving display :{number}"));
        Ok(Xvfb {
            _process: process,
            name: format!(":{number}"),
        })
    }
}

/// What every windowed Godot run shares.
struct Run<'a> {
    godot: &'a Godot,
    display: &'a str,
    mesa: &'a Path,
    /// HOME and XDG folders of the runs, so the user's own editor settings are left alone.
    home: &'a Path,
}

impl Run<'_> {
    /// The sample project's chat scene, with `docs/capture/chat_capture.gd` as an autoload
    /// (through `override.cfg` in a copy of the project).
    fn chat(&self, addon: &Path, project: &Path, png: &Path) -> Result<(), String> {
        self.sample_project(addon, project)?;
        copy(
            &root().join("docs/capture/chat_capture.gd"),
            &project.join("chat_capture.gd"),
        )?;
        write(
            &project.join("override.cfg"),
            "[autoload]\n\nchat_capture=\"*res://chat_capture.gd\"\n",
        )?;
        import(self.godot, project)?;
        self.capture(self.godot_in(project), &[], png)
    }

    /// A fresh copy of the sample project in `project`, with the addon and the demo certificate.
    fn sample_project(&self, addon: &Path, project: &Path) -> Result<(), String> {
        fresh_dir(project)?;
        copy_dir(&root().join("godot-project"), project)?;
        for generated in [".godot", "addons", "certs"] {
            let path = project.join(generated);
            remove_dir(&path)?;
        }
        install_addon(addon, project)?;
        certs::write_demo_certificate(&project.join("certs"))
    }

    /// The editor, opened on a copy of the sample project with `docs/capture/inspector_traffic.gd`
    /// as an autoload of the game and the `inspector_capture` plugin enabled next to the addon's
    /// own, which runs the chat scene and captures the debugger's WebSockets tab.
    fn inspector(&self, addon: &Path, project: &Path, png: &Path) -> Result<(), String> {
        self.sample_project(addon, project)?;
        copy(
            &root().join("docs/capture/inspector_traffic.gd"),
            &project.join("inspector_traffic.gd"),
        )?;
        copy_dir(
            &root().join("docs/capture/inspector_capture"),
            &project.join("addons/inspector_capture"),
        )?;
        let settings = project.join("project.godot");
        let sample = read(&settings)?;
        let plugin = "\"res://addons/rust_websocket/plugin.cfg\"";
        if !sample.contains(plugin) {
            return Err("the sample project does not enable the rust_websocket plugin".into());
        }
        let both = format!("{plugin}, \"res://addons/inspector_capture/plugin.cfg\"");
        write(
            &settings,
            format!(
                "{}\n[autoload]\n\ninspector_traffic=\"*res://inspector_traffic.gd\"\n",
                sample.replace(plugin, &both)
            ),
        )?;
        import(self.godot, project)?;
        // The editor starts the game with its own executable.
        let editor = runnable_as_its_own_executable(self.godot_in(project));
        self.capture(
            editor,
            &["--editor", "--resolution", EDITOR_RESOLUTION],
            png,
        )
    }

    /// The editor, opened on a project with the addon and the `help_capture` plugin enabled.
    fn help(&self, addon: &Path, project: &Path, png: &Path) -> Result<(), String> {
        fresh_dir(project)?;
        write(
            &project.join("project.godot"),
            "config_version=5\n\n[application]\n\nconfig/name=\"rust_websocket\"\n\n\
             [editor_plugins]\n\n\
             enabled=PackedStringArray(\"res://addons/help_capture/plugin.cfg\")\n",
        )?;
        install_addon(addon, project)?;
        copy_dir(
            &root().join("docs/capture/help_capture"),
            &project.join("addons/help_capture"),
        )?;
        import(self.godot, project)?;
        // At its very first start (no class reference cache yet) the editor builds the class
        // reference without the extension's descriptions; a headless start builds the cache.
        let mut warm_up = self.godot_in(project);
        warm_up.args(["--headless", "--editor", "--quit"]);
        say("building the editor's class reference cache (headless editor)");
        let output = output_with_timeout(warm_up, CAPTURE_TIMEOUT)?;
        if !output.status.success() {
            return Err(format!("the headless editor failed ({})", output.status));
        }
        self.capture(
            self.godot_in(project),
            &["--editor", "--resolution", EDITOR_RESOLUTION],
            png,
        )
    }

    /// A Godot command in `project` with this run's display, drivers and home folders.
    fn godot_in(&self, project: &Path) -> Command {
        let mut command = self.godot.command();
        command
            .arg("--path")
            .arg(project)
            .env("DISPLAY", self.display)
            .env(
                "__EGL_VENDOR_LIBRARY_DIRS",
                self.mesa.join("usr/share/glvnd/egl_vendor.d"),
            )
            .env("HOME", self.home)
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("XDG_CACHE_HOME", self.home.join("cache"));
        command
    }

    /// Runs `command` (from [`Run::godot_in`]) in a window with `args` until the capture script
    /// saved `png`.
    fn capture(&self, mut command: Command, args: &[&str], png: &Path) -> Result<(), String> {
        remove_file(png)?;
        command
            .args(["--rendering-driver", "opengl3", "--audio-driver", "Dummy"])
            .args(args)
            .arg("--")
            .arg(format!("--screenshot={}", png.display()));
        say(format!("capturing {}", png.display()));
        let output = output_with_timeout(command, CAPTURE_TIMEOUT)?;
        let log = output_text(&output);
        print!("{log}");
        if !output.status.success() || !png.is_file() {
            return Err(format!(
                "Godot did not save {} ({})",
                png.display(),
                output.status
            ));
        }
        Ok(())
    }
}

/// `godot` (a Godot command), changed so that the Godot it starts can start itself again: when
/// it runs through the fetched tree's dynamic loader (`<loader> --library-path <dirs> <godot>`),
/// the editor would start the game with the loader and Godot's arguments, which fails. Then it
/// runs Godot directly, in a private mount namespace where the fetched loader is bound over the
/// host's (the path Godot's binary names), with the library path in `LD_LIBRARY_PATH`, which its
/// children inherit. Any other command is returned as it is.
fn runnable_as_its_own_executable(godot: Command) -> Command {
    let program = Path::new(godot.get_program());
    let loader_name = program.file_name().unwrap_or_default().to_string_lossy();
    let args: Vec<&std::ffi::OsStr> = godot.get_args().collect();
    let [flag, library_path, binary, rest @ ..] = args.as_slice() else {
        return godot;
    };
    if !loader_name.starts_with("ld-linux") || *flag != "--library-path" {
        return godot;
    }
    let script = "for dir in /lib64 /lib; do \
                      if [ -e \"$dir/$2\" ]; then mount --bind \"$1\" \"$dir/$2\" && break; fi; \
                  done && LD_LIBRARY_PATH=\"$3\" && export LD_LIBRARY_PATH && shift 3 && exec \"$@\"";
    let mut command = Command::new("unshare");
    if !debian::is_root() {
        command.arg("--map-root-user");
    }
    command
        .args(["--mount", "sh", "-c", script, "sh"])
        .arg(program)
        .arg(loader_name.as_ref())
        .arg(library_path)
        .arg(binary)
        .args(rest);
    for (key, value) in godot.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    if let Some(dir) = godot.get_current_dir() {
        command.current_dir(dir);
    }
    command
}
