//! What a connection costs in heap memory, counted by this test binary's global allocator (not
//! timed): many idle open connections stay small, and a buffer that grew for one large message
//! is given back once the game has taken that message.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rust_websocket_engine::{Client, Config, ConnectRequest, Event, Message};
use tungstenite::{Bytes, WebSocket};

/// The heap bytes one idle open connection may hold, the game's `Client` included. tungstenite's
/// read buffer used to be 128 KiB of it; Godot's own peer takes about 40 KiB.
const MAX_HEAP_PER_CONNECTION: isize = 16 * 1024;
/// Connections opened for the measurement.
const CONNECTIONS: usize = 200;
/// The large message of the second test.
const LARGE_MESSAGE_BYTES: usize = 1 << 20;
/// How long any wait may take before the test fails.
const WATCHDOG: Duration = Duration::from_secs(20);

/// Counts the heap bytes in use, leaving out the test server's thread.
struct CountingAllocator;

/// Heap bytes allocated and not freed, outside the server's thread.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Set on the test server's thread, whose memory is not the client's.
    static NOT_COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    !NOT_COUNTED.try_with(Cell::get).unwrap_or(true)
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counted() {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// A WebSocket server on one thread of its own, left out of the count: it echoes every message,
/// and answers the text message `large` with a binary message of [`LARGE_MESSAGE_BYTES`].
fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        NOT_COUNTED.with(|flag| flag.set(true));
        let mut sockets: Vec<WebSocket<std::net::TcpStream>> = Vec::new();
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let socket = tungstenite::accept(stream).unwrap();
                    socket.get_ref().set_nonblocking(true).unwrap();
                    sockets.push(socket);
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => panic!("accept failed: {error}"),
            }
            for socket in &mut sockets {
                while let Ok(message) = socket.read() {
                    let answer = match message {
                        tungstenite::Message::Text(text) if text.as_str() == "large" => {
                            tungstenite::Message::Binary(Bytes::from(vec![7; LARGE_MESSAGE_BYTES]))
                        }
                        message @ (tungstenite::Message::Text(_)
                        | tungstenite::Message::Binary(_)) => message,
                        _ => continue,
                    };
                    let _ = socket.send(answer);
                }
                let _ = socket.flush();
            }
            thread::sleep(Duration::from_millis(1));
        }
    });
    addr
}

fn open(addr: SocketAddr) -> Client {
    let mut client = Client::new(Config::default().with_max_message_size(64 << 20));
    client
        .connect(ConnectRequest::new(&format!("ws://{addr}/")).unwrap())
        .unwrap();
    let started = Instant::now();
    loop {
        match client.poll_event() {
            Some(Event::Opened { .. }) => return client,
            Some(Event::Failed | Event::Closed { .. }) => {
                panic!("the connection failed: {:?}", client.last_error())
            }
            _ => {}
        }
        assert!(started.elapsed() < WATCHDOG, "watchdog: not open");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `text` and waits for the answer.
fn round_trip(client: &mut Client, text: &str) -> Message {
    client.send(Message::from(text)).unwrap();
    let started = Instant::now();
    loop {
        while client.poll_event().is_some() {}
        if let Some(message) = client.take_message() {
            return message;
        }
        assert!(started.elapsed() < WATCHDOG, "watchdog: no answer");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Heap in use once what the I/O thread is still doing has settled (its frees come shortly
/// after the game's calls return).
fn settled_live_bytes() -> isize {
    thread::sleep(Duration::from_millis(200));
    live_bytes()
}

#[test]
fn idle_open_connections_hold_little_heap_each_and_a_large_messages_buffer_is_given_back() {
    let addr = server();
    // The I/O thread, its shared read buffer and the first connection's one-time costs.
    let mut first = open(addr);
    round_trip(&mut first, "warm up");
    let mut clients = Vec::with_capacity(CONNECTIONS);
    let before = settled_live_bytes();

    for _ in 0..CONNECTIONS {
        let mut client = open(addr);
        assert_eq!(round_trip(&mut client, "hello"), Message::from("hello"));
        clients.push(client);
    }
    let per_connection = (settled_live_bytes() - before) / CONNECTIONS as isize;
    assert!(
        per_connection <= MAX_HEAP_PER_CONNECTION,
        "{CONNECTIONS} idle open connections hold {per_connection} heap bytes each, over \
         {MAX_HEAP_PER_CONNECTION}"
    );

    // One connection receives a large message; once the game dropped it, that connection holds
    // no more than it did before.
    let before_large = settled_live_bytes();
    let large = round_trip(&mut clients[0], "large");
    assert_eq!(large.len(), LARGE_MESSAGE_BYTES);
    drop(large);
    let after_large = settled_live_bytes() - before_large;
    assert!(
        after_large <= MAX_HEAP_PER_CONNECTION,
        "after a {LARGE_MESSAGE_BYTES}-byte message was taken and dropped, the connection still \
         holds {after_large} more heap bytes"
    );
    // And it still works.
    assert_eq!(round_trip(&mut clients[0], "after"), Message::from("after"));
    let after_more = settled_live_bytes() - before_large;
    assert!(
        after_more <= MAX_HEAP_PER_CONNECTION,
        "after a message following the large one, the connection holds {after_more} more heap \
         bytes"
    );
}
