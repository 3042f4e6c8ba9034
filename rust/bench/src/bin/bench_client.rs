//! The Rust-side benchmark contenders, run once per scenario by `cargo xtask bench`:
//! `--contender=engine` is the addon's engine crate used directly (no Godot), and
//! `--contender=tungstenite` is a plain tungstenite client on a non-blocking socket, the limit
//! the addon is measured against. The GDScript contenders (`bench/godot/bench.gd`) run the same
//! scenarios with the same options and print the same `RESULT` lines.
//!
//! Options: `--scenario=small|large|latency|connect|idle|scale|slow|crowd`, `--url=ws://...`,
//! `--ca=PEM` (trusted certificate for `wss://`, checked against the name `localhost`), and the
//! scenario's counts (`--count`, `--size`, `--inflight`, `--connections`, `--frames`,
//! `--seconds`, `--every`, `--poll-ms`, `--limit`).

use std::fs;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rust_websocket_bench::{percentile, process_status, report, reset_peak_rss, Options};
use rust_websocket_engine::{
    parse_pem_certificates, Bytes, Client, Config, ConnectRequest, Event, Message, TlsConfig,
};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;

/// The name the test certificate is issued for; connections go to 127.0.0.1.
const TLS_NAME: &str = "localhost";
/// A frame of the `scale` scenario (60 frames per second).
const FRAME: Duration = Duration::from_micros(16_667);
/// How long a scenario waits for messages still on their way before counting them lost.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest message the contenders accept (the 16 MB scenario, with room).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// One open connection of a contender.
trait Peer: Sized {
    /// Connects and waits until the connection is open.
    fn open(setup: &Setup) -> Self;
    /// Queues (or writes) a message.
    fn send(&mut self, message: Message);
    /// Hands every message that already arrived to `on_message`, without waiting.
    fn receive(&mut self, on_message: &mut dyn FnMut(Message));
}

/// What every connection of a run shares.
struct Setup {
    url: String,
    /// The certificate to trust for `wss://`, as PEM.
    ca: Option<String>,
    /// The engine's `inbound_queue_limit` (`--limit`), or its default.
    inbound_queue_limit: Option<usize>,
}

struct EnginePeer(Client);

impl Peer for EnginePeer {
    fn open(setup: &Setup) -> Self {
        let mut config = Config::default().with_max_message_size(MAX_MESSAGE_BYTES);
        if let Some(limit) = setup.inbound_queue_limit {
            config = config.with_inbound_queue_limit(limit);
        }
        if let Some(pem) = &setup.ca {
            let anchors = parse_pem_certificates(pem).expect("the benchmark certificate parses");
            config = config.with_tls(
                TlsConfig::default()
                    .with_trusted_certificates(anchors)
                    .with_server_name(Some(TLS_NAME.into())),
            );
        }
        let mut client = Client::new(config);
        let request = ConnectRequest::new(&setup.url).expect("the benchmark URL is valid");
        client.connect(request).expect("a new client connects");
        loop {
            match client.poll_event() {
                Some(Event::Opened { .. }) => return EnginePeer(client),
                Some(Event::Failed | Event::Closed { .. }) => {
                    panic!("connecting failed: {:?}", client.last_error())
                }
                _ => std::hint::spin_loop(),
            }
        }
    }

    fn send(&mut self, message: Message) {
        self.0.send(message).expect("the connection is open");
    }

    fn receive(&mut self, on_message: &mut dyn FnMut(Message)) {
        while let Some(event) = self.0.poll_event() {
            if let Event::MessageReceived = event {
                on_message(self.0.take_message().expect("a message was announced"));
            }
        }
    }
}

enum PlainStream {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for PlainStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            PlainStream::Tcp(tcp) => tcp.read(buf),
            PlainStream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for PlainStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            PlainStream::Tcp(tcp) => tcp.write(buf),
            PlainStream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            PlainStream::Tcp(tcp) => tcp.flush(),
            PlainStream::Tls(tls) => tls.flush(),
        }
    }
}

/// A plain tungstenite client: blocking handshake, then a non-blocking socket read until it
/// would block and written in batches, as an efficient hand-written client would.
struct TungstenitePeer(WebSocket<PlainStream>);

fn would_block(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl Peer for TungstenitePeer {
    fn open(setup: &Setup) -> Self {
        let url = url_parts(&setup.url);
        let tcp = TcpStream::connect(("127.0.0.1", url.port)).expect("the server accepts");
        tcp.set_nodelay(true).expect("TCP_NODELAY can be set");
        let stream = match &setup.ca {
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for anchor in parse_pem_certificates(pem).expect("the certificate parses") {
                    roots
                        .add(anchor)
                        .expect("the certificate is a valid anchor");
                }
                let config = rustls::ClientConfig::builder()
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let name = TLS_NAME.try_into().expect("a valid name");
                let session = rustls::ClientConnection::new(Arc::new(config), name)
                    .expect("a TLS session starts");
                PlainStream::Tls(Box::new(rustls::StreamOwned::new(session, tcp)))
            }
            None => PlainStream::Tcp(tcp),
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let (socket, _) =
            tungstenite::client::client_with_config(setup.url.as_str(), stream, Some(config))
                .expect("the upgrade succeeds");
        let tcp = match socket.get_ref() {
            PlainStream::Tcp(tcp) => tcp,
            PlainStream::Tls(tls) => &tls.sock,
        };
        tcp.set_nonblocking(true)
            .expect("non-blocking mode can be set");
        TungstenitePeer(socket)
    }

    fn send(&mut self, message: Message) {
        match self.0.write(message.into()) {
            Ok(()) => {}
            Err(error) if would_block(&error) => {}
            Err(error) => panic!("sending failed: {error}"),
        }
    }

    fn receive(&mut self, on_message: &mut dyn FnMut(Message)) {
        loop {
            match self.0.read() {
                Ok(tungstenite::Message::Text(text)) => on_message(Message::Text(text)),
                Ok(tungstenite::Message::Binary(data)) => on_message(Message::Binary(data)),
                Ok(_) => {}
                Err(error) if would_block(&error) => break,
                Err(error) => panic!("receiving failed: {error}"),
            }
        }
        match self.0.flush() {
            Ok(()) => {}
            Err(error) if would_block(&error) => {}
            Err(error) => panic!("sending failed: {error}"),
        }
    }
}

struct UrlParts {
    port: u16,
}

fn url_parts(url: &str) -> UrlParts {
    let authority = url.split("://").nth(1).unwrap_or_default();
    let host_port = authority.split('/').next().unwrap_or_default();
    let port = host_port
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("the benchmark URL has a port");
    UrlParts { port }
}

fn payload(size: usize, text: bool) -> Message {
    if text {
        Message::from("x".repeat(size))
    } else {
        Message::Binary(Bytes::from(vec![0xa5; size]))
    }
}

/// Echo throughput: `count` messages of `size` bytes, `inflight` at a time.
fn throughput<P: Peer>(setup: &Setup, options: &Options, text: bool) {
    let count = options.number("count", 1000);
    let inflight = options.number("inflight", 1).min(count);
    let size = options.number("size", 16);
    let message = payload(size, text);
    let mut peer = P::open(setup);
    let started = Instant::now();
    for _ in 0..inflight {
        peer.send(message.clone());
    }
    let (mut sent, mut received, mut bytes) = (inflight, 0, 0);
    while received < count {
        let mut replies = 0;
        peer.receive(&mut |echo| {
            received += 1;
            bytes += echo.len();
            replies += 1;
        });
        for _ in 0..replies {
            if sent < count {
                peer.send(message.clone());
                sent += 1;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(bytes, count * size, "every echo came back whole");
    report(&[
        ("msgs_per_s", &format!("{:.0}", count as f64 / seconds)),
        ("mb_per_s", &format!("{:.1}", bytes as f64 / seconds / 1e6)),
    ]);
}

/// Round trips of one small message at a time.
fn latency<P: Peer>(setup: &Setup, options: &Options) {
    let count = options.number("count", 1000);
    let message = payload(16, true);
    let mut peer = P::open(setup);
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        peer.send(message.clone());
        let mut answered = false;
        while !answered {
            peer.receive(&mut |_| answered = true);
        }
        samples.push(started.elapsed().as_secs_f64() * 1e6);
    }
    report(&[
        ("p50_us", &format!("{:.1}", percentile(&mut samples, 0.5))),
        ("p99_us", &format!("{:.1}", percentile(&mut samples, 0.99))),
    ]);
}

/// Sequential connects until open.
fn connect<P: Peer>(setup: &Setup, options: &Options) {
    let count = options.number("count", 10);
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let peer = P::open(setup);
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        drop(peer);
    }
    report(&[("ms_each", &format!("{:.3}", percentile(&mut samples, 0.5)))]);
}

/// The cost of checking `connections` idle connections once per frame.
fn idle<P: Peer>(setup: &Setup, options: &Options) {
    let mut peers: Vec<P> = (0..options.number("connections", 10))
        .map(|_| P::open(setup))
        .collect();
    let mut samples = Vec::new();
    for _ in 0..options.number("frames", 100) {
        let started = Instant::now();
        for peer in &mut peers {
            peer.receive(&mut |_| panic!("an idle connection received a message"));
        }
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        thread::sleep(Duration::from_millis(1));
    }
    report(&[(
        "us_per_frame",
        &format!("{:.1}", percentile(&mut samples, 0.5)),
    )]);
}

/// Many connections, each echoing one message per frame.
fn scale<P: Peer>(setup: &Setup, options: &Options) {
    let connections = options.number("connections", 10);
    let frames = options.number("seconds", 1) * 60;
    let message = payload(16, true);
    let rss_before = process_status("VmRSS");
    let threads_before = process_status("Threads");
    let mut peers: Vec<P> = (0..connections).map(|_| P::open(setup)).collect();
    let (mut sent, mut received) = (0, 0);
    let mut frame_end = Instant::now();
    for _ in 0..frames {
        for peer in &mut peers {
            peer.receive(&mut |_| received += 1);
            peer.send(message.clone());
            sent += 1;
        }
        frame_end += FRAME;
        thread::sleep(frame_end.saturating_duration_since(Instant::now()));
    }
    let rss_during = process_status("VmRSS");
    let threads = process_status("Threads");
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while received < sent && Instant::now() < deadline {
        for peer in &mut peers {
            peer.receive(&mut |_| received += 1);
        }
    }
    report(&[
        (
            "kib_per_conn",
            &format!(
                "{:.1}",
                rss_during.saturating_sub(rss_before) as f64 / connections as f64
            ),
        ),
        ("threads", &threads),
        ("extra_threads", &(threads - threads_before)),
        ("lost", &(sent - received)),
        ("messages", &sent),
    ]);
}

/// `connections` connections in one process (10,000 in the benchmark), each echoing a message
/// every `every` frames, staggered so every frame carries the same share: the whole process's
/// resident memory, the time to poll all of them once per frame, and its threads, also compared
/// with the count once the first 10 were open.
fn crowd<P: Peer>(setup: &Setup, options: &Options) {
    let connections = options.number("connections", 100);
    let frames = options.number("seconds", 1) * 60;
    let every = options.number("every", 6).max(1);
    let open_file_limit = rust_websocket_bench::raise_open_file_limit();
    let message = payload(16, true);
    let mut peers: Vec<P> = (0..connections.min(10)).map(|_| P::open(setup)).collect();
    let threads_with_ten = process_status("Threads");
    peers.extend((peers.len()..connections).map(|_| P::open(setup)));
    let (mut sent, mut received) = (0, 0);
    let mut samples = Vec::with_capacity(frames);
    let mut frame_end = Instant::now();
    for frame in 0..frames {
        let started = Instant::now();
        for (index, peer) in peers.iter_mut().enumerate() {
            peer.receive(&mut |_| received += 1);
            if (frame + index) % every == 0 {
                peer.send(message.clone());
                sent += 1;
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        frame_end += FRAME;
        thread::sleep(frame_end.saturating_duration_since(Instant::now()));
    }
    let rss = process_status("VmRSS");
    let threads = process_status("Threads");
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while received < sent && Instant::now() < deadline {
        for peer in &mut peers {
            peer.receive(&mut |_| received += 1);
        }
    }
    report(&[
        ("rss_mib", &format!("{:.1}", rss as f64 / 1024.0)),
        (
            "us_per_frame",
            &format!("{:.1}", percentile(&mut samples, 0.5)),
        ),
        ("threads", &threads),
        ("threads_beyond_ten", &(threads - threads_with_ten)),
        ("lost", &(sent - received)),
        ("messages", &sent),
        ("open_file_limit", &open_file_limit),
    ]);
}

/// The server pushes messages while the consumer looks only every `poll-ms` milliseconds.
fn slow_consumer<P: Peer>(setup: &Setup, options: &Options) {
    let count = options.number("count", 100);
    let pause = Duration::from_millis(options.number("poll-ms", 50) as u64);
    let rss_before = process_status("VmRSS");
    reset_peak_rss();
    let mut peer = P::open(setup);
    let (mut received, mut done) = (0, false);
    let mut last_message = Instant::now();
    while !done && last_message.elapsed() < DRAIN_TIMEOUT {
        peer.receive(&mut |message| {
            last_message = Instant::now();
            match message {
                Message::Binary(_) => received += 1,
                Message::Text(_) => done = true,
            }
        });
        thread::sleep(pause);
    }
    let peak = process_status("VmHWM");
    report(&[
        (
            "peak_rss_mib",
            &format!("{:.1}", peak.saturating_sub(rss_before) as f64 / 1024.0),
        ),
        ("lost", &(count - received.min(count))),
    ]);
}

fn run<P: Peer>(scenario: &str, setup: &Setup, options: &Options) {
    match scenario {
        "small" => throughput::<P>(setup, options, true),
        "large" => throughput::<P>(setup, options, false),
        "latency" => latency::<P>(setup, options),
        "connect" => connect::<P>(setup, options),
        "idle" => idle::<P>(setup, options),
        "scale" => scale::<P>(setup, options),
        "slow" => slow_consumer::<P>(setup, options),
        "crowd" => crowd::<P>(setup, options),
        other => {
            eprintln!("unknown scenario {other}");
            std::process::exit(2);
        }
    }
}

fn main() {
    let options = Options::from_env();
    let ca = options.text("ca", "");
    let setup = Setup {
        url: options.text("url", ""),
        ca: (!ca.is_empty())
            .then(|| fs::read_to_string(&ca).expect("the certificate file is readable")),
        inbound_queue_limit: options.flag("limit").then(|| options.number("limit", 0)),
    };
    let scenario = options.text("scenario", "");
    match options.text("contender", "engine").as_str() {
        "engine" => run::<EnginePeer>(&scenario, &setup, &options),
        "tungstenite" => run::<TungstenitePeer>(&scenario, &setup, &options),
        other => {
            eprintln!("unknown contender {other}");
            std::process::exit(2);
        }
    }
}
