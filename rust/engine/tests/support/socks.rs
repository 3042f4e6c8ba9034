//! A real SOCKS5 server for the SOCKS tests: Debian's `microsocks` (RFC 1928 and RFC 1929),
//! installed with apt-get the first time it is missing, on a loopback port of its own.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::net::RefusingPort;
use super::WATCHDOG;

/// The Debian package and its program.
const MICROSOCKS: &str = "microsocks";

/// A `microsocks` process listening on 127.0.0.1; it is killed when this value drops.
pub struct Microsocks {
    pub addr: SocketAddr,
    process: Child,
    /// The targets it connected to, as its log names them (`localhost:1234`, `::1:1234`).
    targets: Arc<Mutex<Vec<String>>>,
    /// Keeps the port its own until it listens (and after).
    _reserved: RefusingPort,
}

impl Microsocks {
    /// Starts a SOCKS5 server; with `credentials` (user name, password) it requires them.
    /// Outgoing connections leave from 127.0.0.1, so a name it resolves (`socks5h://`) is
    /// reached over IPv4 whatever order the system resolver gives.
    pub fn start(credentials: Option<(&str, &str)>) -> Self {
        ensure_installed();
        // microsocks cannot listen on port 0 and say which port it got; it sets SO_REUSEADDR.
        let reserved = RefusingPort::for_a_program_to_listen_on();
        let addr = reserved.addr;
        let mut command = Command::new(MICROSOCKS);
        command.args(["-i", "127.0.0.1", "-b", "127.0.0.1", "-p"]);
        command.arg(addr.port().to_string());
        if let Some((user, password)) = credentials {
            command.args(["-u", user, "-P", password]);
        }
        let mut process = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("microsocks starts");
        // Each connection it makes is logged as "client[5] 127.0.0.1: connected to HOST:PORT".
        let targets = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&targets);
        let log = BufReader::new(process.stderr.take().unwrap());
        thread::spawn(move || {
            for line in log.lines().map_while(Result::ok) {
                if let Some((_, target)) = line.split_once(": connected to ") {
                    record.lock().unwrap().push(target.to_owned());
                }
            }
        });
        let started = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < WATCHDOG,
                "watchdog: microsocks does not listen on {addr}"
            );
            thread::sleep(Duration::from_millis(10));
        }
        Self {
            addr,
            process,
            targets,
            _reserved: reserved,
        }
    }

    /// The proxy's URL with `scheme` and `userinfo` ("user:password@", or "").
    pub fn url(&self, scheme: &str, userinfo: &str) -> String {
        format!("{scheme}://{userinfo}{}", self.addr)
    }

    /// Waits for the proxy to log its first connection and returns its target as logged: the
    /// name it was given, or the address.
    pub fn first_target(&self) -> String {
        let started = Instant::now();
        loop {
            if let Some(target) = self.targets.lock().unwrap().first() {
                return target.clone();
            }
            assert!(
                started.elapsed() < WATCHDOG,
                "watchdog: microsocks logged no connection"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// The targets it connected to so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

impl Drop for Microsocks {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Installs microsocks with apt-get unless it is there (CI and the developers' machines run as
/// root; elsewhere the panic says what to install), once per test process.
fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if present() {
            return;
        }
        let apt_get = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        let install = [
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "-o",
            "DPkg::Lock::Timeout=300",
            MICROSOCKS,
        ];
        // A machine that never ran apt-get update has no package lists yet.
        let _ = apt_get(&install) || (apt_get(&["update", "-q"]) && apt_get(&install));
        assert!(
            present(),
            "the SOCKS tests need Debian's microsocks: install it (apt-get install microsocks)"
        );
    });
}

/// Whether the microsocks program runs (it prints its usage and exits with 1 for `-h`).
fn present() -> bool {
    Command::new(MICROSOCKS)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        // Under qemu-user a missing program still starts and exits with 127, the shell's
        // "command not found": qemu loses the error that posix_spawn reports.
        .is_ok_and(|status| status.code() != Some(COMMAND_NOT_FOUND))
}

/// The exit code of a program that could not be found.
const COMMAND_NOT_FOUND: i32 = 127;
