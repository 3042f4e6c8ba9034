//! A server that completes a valid WebSocket handshake, then sends arbitrary bytes and closes
//! its side: the real `Client` must end in `Closed` (never panic, hang or fail after opening),
//! whatever the bytes are, and its socket must close. The server lives on 127.0.0.1 for the whole
//! run and serves one connection at a time on one thread (inputs run one after another), so
//! nothing of an input outlives it: each input gets its own connection, matched by the request
//! path `/<input id>`, and ends when the server has seen the client's socket close.

#![no_main]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rust_websocket_engine::{Client, ConnectRequest, Event, ReadyState};

/// Longest one input may take to end the connection: more is a hang. Well above the engine's
/// close timeout (5 s), which bounds every wait once the server has closed.
const WATCHDOG: Duration = Duration::from_secs(30);
/// How long the server waits for the client to close its side before dropping the connection.
const SERVER_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Inputs waiting for their connection, by id.
type Pending = Arc<Mutex<HashMap<u64, Vec<u8>>>>;

struct Server {
    addr: SocketAddr,
    pending: Pending,
    /// The id of each connection the server finished: it saw the client's socket close.
    finished: Mutex<Receiver<Option<u64>>>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let pending = Pending::default();
        let inputs = Arc::clone(&pending);
        let (finished_tx, finished) = mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let _ = finished_tx.send(serve(stream, &inputs));
            }
        });
        Server {
            addr,
            pending,
            finished: Mutex::new(finished),
        }
    })
}

/// Answers the upgrade, writes the input right behind the 101 response, closes the write side
/// and reads until the client is gone (so its last frames do not turn into a reset). Returns the
/// connection's id once the client closed its socket.
fn serve(mut stream: TcpStream, inputs: &Pending) -> Option<u64> {
    let head = request_head(&mut stream)?;
    let path = head.split(' ').nth(1).unwrap_or_default();
    let id = path.trim_start_matches('/').parse::<u64>().ok();
    let input = id
        .and_then(|id| inputs.lock().ok()?.remove(&id))
        .unwrap_or_default();
    let key = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let mut reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        tungstenite::handshake::derive_accept_key(key.as_bytes())
    )
    .into_bytes();
    reply.extend_from_slice(&input);
    let _ = stream.write_all(&reply);
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(SERVER_DRAIN_TIMEOUT));
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return id,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

fn request_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? != 1 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

fuzz_target!(|input: &[u8]| {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let server = server();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    server
        .pending
        .lock()
        .expect("the server never panics holding the lock")
        .insert(id, input.to_vec());

    let mut client = Client::default();
    let url = format!("ws://{}/{id}", server.addr);
    client
        .connect(ConnectRequest::new(&url).expect("a valid URL"))
        .expect("a closed client connects");
    let started = Instant::now();
    let mut events = Vec::new();
    loop {
        while let Some(event) = client.poll_event() {
            events.push(event);
        }
        // Echo what arrives, as a game would, so the send path runs against the same bytes.
        while let Some(message) = client.take_message() {
            if client.state() == ReadyState::Open {
                let _ = client.send(message);
            }
        }
        if matches!(events.last(), Some(Event::Closed { .. } | Event::Failed)) {
            break;
        }
        assert!(
            started.elapsed() < WATCHDOG,
            "hang: the connection did not end within {WATCHDOG:?}; events {events:?}"
        );
        thread::sleep(Duration::from_micros(200));
    }
    assert!(
        matches!(events.first(), Some(Event::Opened { .. })),
        "a valid handshake opens the connection: {events:?} {:?}",
        client.last_error().map(ToString::to_string)
    );
    assert!(
        matches!(events.last(), Some(Event::Closed { .. })),
        "an open connection ends in Closed: {events:?}"
    );
    assert_eq!(client.state(), ReadyState::Closed);
    if let Some(error) = client.last_error() {
        assert!(!error.to_string().is_empty());
    }
    let finished = server
        .finished
        .lock()
        .expect("one input at a time")
        .recv_timeout(WATCHDOG);
    assert_eq!(
        finished,
        Ok(Some(id)),
        "the server saw the client's socket close"
    );
});
