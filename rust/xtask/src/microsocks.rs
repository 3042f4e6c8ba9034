//! Debian's `microsocks`, the real SOCKS5 server (RFC 1928, with RFC 1929's user name and
//! password) that the headless suite's SOCKS tests (`tests/godot/test_socks.gd`) go through:
//! installed with apt-get when missing (a fresh CI machine has nothing installed by hand), and
//! started on a loopback port of its own.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::debian;
use crate::process::{say, show_cmd, Peer};

/// The Debian package and its program.
const MICROSOCKS: &str = "microsocks";
/// Longest microsocks may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often to look whether it listens yet.
const START_POLL: Duration = Duration::from_millis(10);

/// Starts microsocks on 127.0.0.1 (installing it first if it is missing), asking for
/// `credentials` (user name, password) when given. Its outgoing connections leave from
/// 127.0.0.1, so a name it resolves (`socks5h://localhost`) is reached over IPv4, where the
/// suite's servers listen. Returns it (killed when dropped) and its port. Each connection it
/// makes shows in the suite's output as `client[N] 127.0.0.1: connected to HOST:PORT`.
pub fn start(credentials: Option<(&str, &str)>) -> Result<(Peer, u16), String> {
    if which::which(MICROSOCKS).is_err() {
        say("installing Debian's microsocks for the SOCKS5 tests");
        debian::install(&[MICROSOCKS])?;
    }
    // microsocks cannot listen on port 0 and say which port it got. This socket keeps a port
    // from everyone else until microsocks listens there: both set SO_REUSEADDR, with which Linux
    // lets sockets share a port while none of them listens.
    let reserved = Socket::new(Domain::IPV4, Type::STREAM, None)
        .and_then(|socket| {
            socket.set_reuse_address(true)?;
            socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
            Ok(socket)
        })
        .map_err(|e| format!("cannot reserve a loopback port for microsocks: {e}"))?;
    let addr = reserved
        .local_addr()
        .ok()
        .and_then(|addr| addr.as_socket())
        .ok_or("cannot read the port reserved for microsocks")?;
    let mut command = Command::new(MICROSOCKS);
    command.args(["-i", "127.0.0.1", "-b", "127.0.0.1", "-p"]);
    command.arg(addr.port().to_string());
    if let Some((user, password)) = credentials {
        command.args(["-u", user, "-P", password]);
    }
    let shown = show_cmd(&command);
    say(format!("starting the SOCKS5 server: {shown}"));
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let mut peer = Peer { child };
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if let Ok(Some(status)) = peer.child.try_wait() {
            return Err(format!("`{shown}` ended ({status}) before it listened"));
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!(
                "`{shown}` did not listen on {addr} within {} s",
                START_TIMEOUT.as_secs()
            ));
        }
        thread::sleep(START_POLL);
    }
    say(format!("SOCKS5 server listening on {addr}"));
    Ok((peer, addr.port()))
}
