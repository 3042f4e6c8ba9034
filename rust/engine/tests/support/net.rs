//! Network peers for the proxy and happy-eyeballs tests: an HTTP `CONNECT` proxy, listeners that
//! never answer, and echo servers on a chosen address.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::thread;

use socket2::{Domain, Protocol, Socket, Type};
use tungstenite::Message;

use super::read_request_head;

/// The made-up host name the proxy resolves to 127.0.0.1 (the system resolver knows nothing
/// of it, so a connection to it only works when the proxy does the resolving).
pub const PROXY_ONLY_HOST: &str = "game.test";

/// An HTTP `CONNECT` proxy on 127.0.0.1 that records the request line of every request.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Starts a proxy; with `credentials` ("user:password") it answers 407 to requests without
    /// the matching `Proxy-Authorization: Basic`.
    pub fn start(credentials: Option<&str>) -> Self {
        let expected = credentials.map(|c| {
            format!(
                "proxy-authorization: basic {}",
                data_encoding::BASE64.encode(c.as_bytes())
            )
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let record = Arc::clone(&record);
                let expected = expected.clone();
                thread::spawn(move || tunnel(stream, record, expected));
            }
        });
        Self { addr, seen }
    }

    /// The request lines received so far, e.g. `CONNECT game.test:1234 HTTP/1.1`.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The proxy's URL, with `userinfo` ("user:password@") when not empty.
    pub fn url(&self, userinfo: &str) -> String {
        format!("http://{userinfo}{}", self.addr)
    }
}

/// Serves one proxy client: checks the request, connects to the target, then relays bytes.
fn tunnel(mut client: TcpStream, seen: Arc<Mutex<Vec<String>>>, expected: Option<String>) {
    let head = read_request_head(&mut client);
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    seen.lock().unwrap().push(request_line.clone());
    let authorized = expected.is_none_or(|expected| {
        head.lines()
            .any(|line| line.trim().eq_ignore_ascii_case(&expected))
    });
    if !authorized {
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
        );
        return;
    }
    let target = match request_line.split(' ').collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] => target.to_owned(),
        _ => {
            let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
            return;
        }
    };
    let (host, port) = target.rsplit_once(':').unwrap_or((&target, "80"));
    let host = if host == PROXY_ONLY_HOST {
        "127.0.0.1"
    } else {
        host.trim_start_matches('[').trim_end_matches(']')
    };
    let server = (host, port.parse::<u16>().unwrap_or(0))
        .to_socket_addrs()
        .and_then(|mut addrs| addrs.next().ok_or_else(|| io::Error::other("no address")))
        .and_then(TcpStream::connect);
    let Ok(server) = server else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    relay(client, server);
}

/// Copies bytes both ways until either side closes.
fn relay(client: TcpStream, server: TcpStream) {
    let (mut client_in, mut server_out) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let _ = io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = upstream.join();
}

/// A port on 127.0.0.1 that refuses connections for as long as this value lives: a socket is
/// bound to it but never listens. Unlike a port that was free a moment ago, no other test or
/// process can take it in between, so the refusal does not depend on the machine being quiet.
pub struct RefusingPort {
    pub addr: SocketAddr,
    reserved: Socket,
}

impl RefusingPort {
    pub fn new() -> Self {
        Self::bound(false)
    }

    /// A refusing port that a program setting `SO_REUSEADDR` can still listen on (Linux lets
    /// sockets that all set it share a port while none of them listens): a port for a program
    /// that cannot listen on port 0 and say which port it got, that no one else takes meanwhile.
    pub fn for_a_program_to_listen_on() -> Self {
        Self::bound(true)
    }

    fn bound(reuse_address: bool) -> Self {
        let socket =
            Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("a TCP socket");
        socket
            .set_reuse_address(reuse_address)
            .expect("setting SO_REUSEADDR");
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("binding 127.0.0.1:0");
        let addr = socket
            .local_addr()
            .ok()
            .and_then(|addr| addr.as_socket())
            .expect("a bound address");
        Self {
            addr,
            reserved: socket,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Starts listening on the port: from now on connections to it are accepted.
    pub fn listen(self) -> TcpListener {
        self.reserved
            .listen(128)
            .expect("listening on a bound port");
        TcpListener::from(self.reserved)
    }
}

/// A listener on `addr` (port 0: any) that never answers new connections: its accept queue is
/// made full, so further SYNs are dropped (with Linux's default `tcp_abort_on_overflow = 0`;
/// Wine keeps Linux's behaviour) and connects to it hang. Keep the returned values alive as long
/// as it must stay silent. Real Windows refuses a connection to a full backlog instead.
pub fn unanswered_listener(addr: SocketAddr) -> io::Result<(TcpListener, TcpStream)> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&addr.into())?;
    socket.listen(0)?;
    let listener = TcpListener::from(socket);
    // A backlog of 0 holds one connection; this one fills it and is never accepted.
    let filler = TcpStream::connect(listener.local_addr()?)?;
    Ok((listener, filler))
}

/// A WebSocket echo server on `addr` that sends back every text or binary message.
pub fn echo_server_on(addr: SocketAddr) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            thread::spawn(move || {
                let Ok(mut socket) = tungstenite::accept(stream) else {
                    return;
                };
                while let Ok(message) = socket.read() {
                    if matches!(message, Message::Text(_) | Message::Binary(_))
                        && socket.send(message).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok(addr)
}
