//! The benchmarks' WebSocket server: one `mio` event loop, built so it is not the bottleneck
//! (large reads; echoed payloads written as they were received, with vectored writes).
//!
//! `bench_server [--cert=PEM --key=PEM] [--lifetime=SECONDS]` listens on 127.0.0.1 for `ws://`,
//! and for `wss://` when a certificate is given (printing `WSS <port>` first), prints
//! `READY <port>`, and exits after its lifetime (default an hour) unless killed before. Paths:
//! - `/echo`: every message comes back as it was sent.
//! - `/push?count=N&size=S`: the server sends N binary messages of S bytes as fast as the client
//!   takes them, then the text message `done`, then echoes.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSlice, Read, Write};
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
/// Bytes one read system call may take in, into a buffer all open connections share: the server
/// reads them one after another, each until it would block, so none leaves bytes in it (a
/// connection whose reading failed is dropped). 10,000 connections with a buffer this size each
/// would take 2.5 GiB.
const SHARED_READ_BYTES: usize = 256 * 1024;
/// tungstenite's read buffer per connection, filled from the shared one.
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest message accepted (the 16 MB scenario, with room).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

enum Inner {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

/// A connection's stream; once open, read through the shared buffer.
struct Stream {
    inner: Inner,
    /// The connection's token, which owns the shared buffer's bytes after its reads.
    token: usize,
    open: bool,
}

thread_local! {
    /// The shared read buffer, its owner's token and the unread part `start..end`.
    static SHARED: RefCell<(Vec<u8>, usize, usize, usize)> = const { RefCell::new((Vec::new(), 0, 0, 0)) };
}

impl Inner {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Inner::Plain(tcp) => tcp.read(buf),
            Inner::Tls(tls) => tls.read(buf),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.open {
            return self.inner.read(buf);
        }
        SHARED.with(|shared| {
            let (bytes, owner, start, end) = &mut *shared.borrow_mut();
            if *owner != self.token || start == end {
                if bytes.is_empty() {
                    *bytes = vec![0; SHARED_READ_BYTES];
                }
                *owner = self.token;
                *start = 0;
                *end = 0;
                *end = self.inner.read(bytes)?;
            }
            let count = buf.len().min(*end - *start);
            buf[..count].copy_from_slice(&bytes[*start..*start + count]);
            *start += count;
            Ok(count)
        })
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(tcp) => tcp.write(buf),
            Inner::Tls(tls) => tls.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(tcp) => tcp.write_vectored(bufs),
            Inner::Tls(tls) => tls.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(tcp) => tcp.flush(),
            Inner::Tls(tls) => tls.flush(),
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
    Open(Box<Open>),
}

fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
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

/// Bytes of pushed messages kept waiting for the socket at most (more wait in the push's count).
const PUSH_WINDOW_BYTES: usize = 1 << 20;
/// Payloads from this size on are written from where they are, not copied together.
const LARGE_PAYLOAD_BYTES: usize = 16 * 1024;
/// Chunks handed to one vectored write.
const CHUNKS_PER_WRITE: usize = 64;

/// An open connection. Data frames bypass tungstenite's write buffer: each is a header and the
/// received payload itself, written with vectored writes, so echoing copies nothing.
struct Open {
    socket: WebSocket<Stream>,
    push: Option<Push>,
    /// Frame headers and payloads not yet written, in order.
    outgoing: VecDeque<Bytes>,
    /// Small frames being gathered into the next chunk of `outgoing`.
    gathered: Vec<u8>,
    /// Payload bytes queued and not yet written (roughly: headers are not counted).
    outgoing_bytes: usize,
}

impl Open {
    fn new(mut socket: WebSocket<Stream>, path: &str) -> Self {
        socket.get_mut().open = true;
        Self {
            socket,
            push: push_of(path),
            outgoing: VecDeque::new(),
            gathered: Vec::new(),
            outgoing_bytes: 0,
        }
    }

    /// Queues an unmasked, unfragmented data frame. Small ones are copied together, so a burst
    /// of them goes out in one system call; large payloads are written from where they are.
    fn queue_frame(&mut self, text: bool, payload: Bytes) {
        let opcode = if text { 0x81 } else { 0x82 };
        self.gathered.push(opcode);
        match payload.len() {
            len @ 0..=125 => self.gathered.push(len as u8),
            len @ 126..=0xffff => {
                self.gathered.push(126);
                self.gathered.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                self.gathered.push(127);
                self.gathered.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        self.outgoing_bytes += payload.len();
        if payload.len() < LARGE_PAYLOAD_BYTES {
            self.gathered.extend_from_slice(&payload);
        } else {
            self.outgoing
                .push_back(Bytes::from(std::mem::take(&mut self.gathered)));
            self.outgoing.push_back(payload);
        }
    }

    /// Writes queued frames until done or the socket is full.
    fn write_outgoing(&mut self) -> io::Result<()> {
        // tungstenite's own output (a close reply) must not land inside one of our frames.
        if let Err(error) = self.socket.flush() {
            return Err(match error {
                tungstenite::Error::Io(error) => error,
                other => io::Error::other(other),
            });
        }
        if !self.gathered.is_empty() {
            self.outgoing
                .push_back(Bytes::from(std::mem::take(&mut self.gathered)));
        }
        while !self.outgoing.is_empty() {
            let slices: Vec<IoSlice> = self
                .outgoing
                .iter()
                .take(CHUNKS_PER_WRITE)
                .map(|chunk| IoSlice::new(chunk))
                .collect();
            let mut written = self.socket.get_mut().write_vectored(&slices)?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.outgoing_bytes = self.outgoing_bytes.saturating_sub(written);
            while written > 0 {
                let chunk = self
                    .outgoing
                    .front_mut()
                    .expect("written bytes were queued");
                if written >= chunk.len() {
                    written -= chunk.len();
                    self.outgoing.pop_front();
                } else {
                    *chunk = chunk.slice(written..);
                    written = 0;
                }
            }
        }
        Ok(())
    }

    /// Serves the connection as far as the socket allows; false once it ended.
    fn serve(&mut self) -> bool {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => self.queue_frame(true, text.into()),
                Ok(Message::Binary(data)) => self.queue_frame(false, data),
                Ok(_) => {}
                Err(error) if would_block(&error) => break,
                Err(_) => return false,
            }
        }
        loop {
            if let Some(job) = &mut self.push {
                let mut batch = Vec::new();
                while job.remaining > 0
                    && self.outgoing_bytes + batch.len() * job.payload.len() < PUSH_WINDOW_BYTES
                {
                    job.remaining -= 1;
                    batch.push(job.payload.clone());
                }
                let finished = job.remaining == 0;
                for payload in batch {
                    self.queue_frame(false, payload);
                }
                if finished {
                    self.push = None;
                    self.queue_frame(true, Bytes::from_static(b"done"));
                }
            }
            match self.write_outgoing() {
                Ok(()) if self.push.is_some() => continue,
                Ok(()) => return true,
                Err(error) => return error.kind() == io::ErrorKind::WouldBlock,
            }
        }
    }
}

/// Makes whatever progress the connection allows; None once it ended.
fn drive(connection: Connection) -> Option<Connection> {
    let mut open = match connection {
        Connection::Upgrading { handshake, path } => match handshake.handshake() {
            Ok(socket) => Box::new(Open::new(socket, &path.borrow())),
            Err(HandshakeError::Interrupted(handshake)) => {
                return Some(Connection::Upgrading {
                    handshake: Box::new(handshake),
                    path,
                })
            }
            Err(HandshakeError::Failure(_)) => return None,
        },
        Connection::Open(open) => open,
    };
    open.serve().then_some(Connection::Open(open))
}

fn accept(stream: Stream) -> Option<Connection> {
    let path = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let callback = PathCallback(path.clone());
    match tungstenite::accept_hdr_with_config(stream, callback, Some(websocket_config())) {
        Ok(socket) => drive(Connection::Open(Box::new(Open::new(
            socket,
            &path.borrow(),
        )))),
        Err(HandshakeError::Interrupted(handshake)) => Some(Connection::Upgrading {
            handshake: Box::new(handshake),
            path,
        }),
        Err(HandshakeError::Failure(_)) => None,
    }
}

fn main() -> io::Result<()> {
    let options = Options::from_env();
    rust_websocket_bench::raise_open_file_limit();
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
                    let inner = match (&tls, token) {
                        (Some(config), WSS_LISTENER) => {
                            let Ok(session) = ServerConnection::new(config.clone()) else {
                                continue;
                            };
                            Inner::Tls(Box::new(StreamOwned::new(session, tcp)))
                        }
                        _ => Inner::Plain(tcp),
                    };
                    let stream = Stream {
                        inner,
                        token: connection_token.0,
                        open: false,
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
