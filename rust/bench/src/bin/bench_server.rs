//! The benchmarks' WebSocket server: one `mio` event loop, built so it is not the bottleneck
//! (large reads, every echoed message batched into one write per wake-up).
//!
//! `bench_server [--cert=PEM --key=PEM] [--lifetime=SECONDS]` listens on 127.0.0.1 for `ws://`,
//! and for `wss://` when a certificate is given (printing `WSS <port>` first), prints
//! `READY <port>`, and exits after its lifetime (default an hour) unless killed before. Paths:
//! - `/echo`: every message comes back as it was sent.
//! - `/push?count=N&size=S`: the server sends N binary messages of S bytes as fast as the client
//!   takes them, then the text message `done`, then echoes.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use std::{fs, thread};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rust_websocket_bench::Options;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::handshake::server::{ErrorResponse, Request, Response, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Bytes, Message, WebSocket};

const WS_LISTENER: Token = Token(0);
const WSS_LISTENER: Token = Token(1);
/// Bytes one read system call may take in.
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// Echoed messages are batched until this many bytes, then written.
const WRITE_BATCH_BYTES: usize = 256 * 1024;
/// Largest message accepted (the 16 MB scenario, with room).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// Remembers the request's path and query during the handshake.
struct PathCallback(std::rc::Rc<std::cell::RefCell<String>>);

impl tungstenite::handshake::server::Callback for PathCallback {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        *self.0.borrow_mut() = request.uri().to_string();
        Ok(response)
    }
}

/// What an open connection does besides echoing.
struct Push {
    remaining: usize,
    payload: Bytes,
}

enum Connection {
    Upgrading {
        handshake: Box<MidHandshake<ServerHandshake<Stream, PathCallback>>>,
        path: std::rc::Rc<std::cell::RefCell<String>>,
    },
    Open {
        socket: Box<WebSocket<Stream>>,
        push: Option<Push>,
    },
}

fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BATCH_BYTES)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

fn tls_config(options: &Options) -> io::Result<Option<Arc<ServerConfig>>> {
    let (cert, key) = (options.text("cert", ""), options.text("key", ""));
    if cert.is_empty() {
        return Ok(None);
    }
    let invalid =
        |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&fs::read(cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(&fs::read(key)?).map_err(|e| invalid(&e))?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&e))?;
    Ok(Some(Arc::new(config)))
}

/// `/push?count=N&size=S` → the push it asks for.
fn push_of(path: &str) -> Option<Push> {
    let query = path.strip_prefix("/push?")?;
    let mut count = 0;
    let mut size = 0;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("count", value)) => count = value.parse().ok()?,
            Some(("size", value)) => size = value.parse().ok()?,
            _ => {}
        }
    }
    Some(Push {
        remaining: count,
        payload: Bytes::from(vec![0x5a; size]),
    })
}

/// Whether a tungstenite error only means "the socket is not ready".
fn would_block(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Serves an open connection as far as the socket allows; false once it ended.
fn serve(socket: &mut WebSocket<Stream>, push: &mut Option<Push>) -> bool {
    if let Some(job) = push {
        while job.remaining > 0 {
            match socket.write(Message::Binary(job.payload.clone())) {
                Ok(()) => job.remaining -= 1,
                Err(error) if would_block(&error) => {
                    job.remaining -= 1; // tungstenite keeps a frame it could not write yet.
                    break;
                }
                Err(_) => return false,
            }
        }
        if job.remaining == 0 {
            let _ = socket.write(Message::text("done"));
            *push = None;
        }
    }
    loop {
        match socket.read() {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => match socket.write(message) {
                Ok(()) => {}
                Err(error) if would_block(&error) => {}
                Err(_) => return false,
            },
            Ok(_) => {}
            Err(error) if would_block(&error) => break,
            Err(_) => return false,
        }
    }
    match socket.flush() {
        Ok(()) => true,
        Err(error) => would_block(&error),
    }
}

/// Makes whatever progress the connection allows; None once it ended.
fn drive(connection: Connection) -> Option<Connection> {
    let (mut socket, mut push) = match connection {
        Connection::Upgrading { handshake, path } => match handshake.handshake() {
            Ok(socket) => {
                let push = push_of(&path.borrow());
                (Box::new(socket), push)
            }
            Err(HandshakeError::Interrupted(handshake)) => {
                return Some(Connection::Upgrading {
                    handshake: Box::new(handshake),
                    path,
                })
            }
            Err(HandshakeError::Failure(_)) => return None,
        },
        Connection::Open { socket, push } => (socket, push),
    };
    serve(&mut socket, &mut push).then_some(Connection::Open { socket, push })
}

fn accept(stream: Stream) -> Option<Connection> {
    let path = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let callback = PathCallback(path.clone());
    let started = tungstenite::accept_hdr_with_config(stream, callback, Some(websocket_config()));
    let handshake = match started {
        Ok(socket) => {
            let push = push_of(&path.borrow());
            return drive(Connection::Open {
                socket: Box::new(socket),
                push,
            });
        }
        Err(HandshakeError::Interrupted(handshake)) => Box::new(handshake),
        Err(HandshakeError::Failure(_)) => return None,
    };
    Some(Connection::Upgrading { handshake, path })
}

fn main() -> io::Result<()> {
    let options = Options::from_env();
    let tls = tls_config(&options)?;
    let mut poll = Poll::new()?;
    let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut ws_listener = TcpListener::bind(loopback)?;
    poll.registry()
        .register(&mut ws_listener, WS_LISTENER, Interest::READABLE)?;
    let mut wss_listener = match &tls {
        Some(_) => {
            let mut listener = TcpListener::bind(loopback)?;
            poll.registry()
                .register(&mut listener, WSS_LISTENER, Interest::READABLE)?;
            Some(listener)
        }
        None => None,
    };
    if let Some(listener) = &wss_listener {
        println!("WSS {}", listener.local_addr()?.port());
    }
    println!("READY {}", ws_listener.local_addr()?.port());
    io::stdout().flush()?;
    let lifetime = Duration::from_secs(options.number("lifetime", 3600) as u64);
    thread::spawn(move || {
        thread::sleep(lifetime);
        std::process::exit(0);
    });

    let mut connections: HashMap<Token, Connection> = HashMap::new();
    let mut next_token = 2;
    let mut events = Events::with_capacity(1024);
    loop {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            let token = event.token();
            if token == WS_LISTENER || token == WSS_LISTENER {
                let listener = if token == WS_LISTENER {
                    &mut ws_listener
                } else {
                    wss_listener.as_mut().expect("registered only with TLS")
                };
                while let Ok((mut tcp, _)) = listener.accept() {
                    let _ = tcp.set_nodelay(true);
                    let connection_token = Token(next_token);
                    next_token += 1;
                    poll.registry().register(
                        &mut tcp,
                        connection_token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    let stream = match (&tls, token) {
                        (Some(config), WSS_LISTENER) => {
                            let Ok(session) = ServerConnection::new(config.clone()) else {
                                continue;
                            };
                            Stream::Tls(Box::new(StreamOwned::new(session, tcp)))
                        }
                        _ => Stream::Plain(tcp),
                    };
                    if let Some(connection) = accept(stream) {
                        connections.insert(connection_token, connection);
                    }
                }
            } else if let Some(connection) = connections.remove(&token) {
                // A connection that ended is dropped: closing its socket also leaves the poll.
                if let Some(connection) = drive(connection) {
                    connections.insert(token, connection);
                }
            }
        }
    }
}
