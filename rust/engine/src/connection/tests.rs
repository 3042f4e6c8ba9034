//! The connection's timeouts and close handshake against real sockets, with a clock the test
//! moves: the connection only knows the time it is handed, so no test here waits for a timeout.

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use mio::{Events, Poll};

use super::*;

/// Longest real wait for the sockets to do their part (a hang fails instead of blocking).
const WATCHDOG: Duration = Duration::from_secs(20);
/// Just under a timeout: nothing may happen yet.
const JUST_BEFORE: Duration = Duration::from_millis(1);

/// One connection driven by the test on its own poller.
struct Driven {
    poll: Poll,
    events: Events,
    connection: Connection,
    link: Arc<Link>,
    /// The time the connection is told; it stands still until the test moves it.
    now: Instant,
    /// What the connection told the game so far.
    incoming: VecDeque<Incoming>,
}

impl Driven {
    /// Starts connecting to `server` with `config`.
    fn connect(server: SocketAddr, config: Config) -> Self {
        let poll = Poll::new().unwrap();
        let link = Arc::new(Link::default());
        let request = ConnectRequest::new(&format!("ws://{server}/")).unwrap();
        let mut connection = Connection::new(request, config, Arc::clone(&link));
        let now = Instant::now();
        let resolve = connection.start(poll.registry(), 0, now);
        assert_eq!(resolve, None, "an IP address needs no resolver");
        Self {
            poll,
            events: Events::with_capacity(16),
            connection,
            link,
            now,
            incoming: VecDeque::new(),
        }
    }

    /// Drives the connection as its socket becomes ready, the clock standing still, until
    /// `done` holds.
    fn drive_until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(started.elapsed() < WATCHDOG, "watchdog: {what}");
            self.poll
                .poll(&mut self.events, Some(Duration::from_millis(10)))
                .unwrap();
            self.connection.drive(self.poll.registry(), self.now);
            self.link.drain_into(&mut self.incoming);
        }
    }

    fn open(&mut self) {
        self.drive_until("the connection opens", |driven| {
            driven
                .incoming
                .iter()
                .any(|incoming| matches!(incoming, Incoming::Opened { .. }))
        });
    }

    /// Moves the clock to `at` and lets the connection act on its timers.
    fn advance_to(&mut self, at: Instant) {
        self.now = at;
        self.connection.handle_timeout(self.poll.registry(), at);
        self.link.drain_into(&mut self.incoming);
    }

    /// How the connection closed, as a test compares it; panics if it did not close.
    fn closed(&self) -> Closed {
        match self.ending() {
            Some(Incoming::Closed {
                clean,
                code,
                reason,
                error,
            }) => Closed {
                clean: *clean,
                code: *code,
                reason: reason.clone(),
                error: error.as_ref().map(ToString::to_string),
            },
            _ => panic!("not closed: {:?}", self.incoming),
        }
    }

    /// How the connection ended, if it did.
    fn ending(&self) -> Option<&Incoming> {
        self.incoming
            .iter()
            .find(|incoming| matches!(incoming, Incoming::Closed { .. } | Incoming::Failed(_)))
    }

    /// The game asks to close with code 1000, and the close frame is written.
    fn close(&mut self) {
        self.link.post(Outbound::Close {
            code: 1000,
            reason: String::new(),
        });
        self.drive_until("our close frame is sent", |driven| {
            driven.connection.close.sent().is_some()
        });
    }
}

/// An `Incoming::Closed`, its error as text.
#[derive(Debug, PartialEq)]
struct Closed {
    clean: bool,
    code: Option<u16>,
    reason: String,
    error: Option<String>,
}

/// A WebSocket server that completes the upgrade, then runs `then` on the socket; the socket
/// stays open until the returned sender is dropped.
fn server(
    then: impl FnOnce(&mut tungstenite::WebSocket<std::net::TcpStream>) + Send + 'static,
) -> (SocketAddr, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (hold, held) = mpsc::channel::<()>();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut socket = tungstenite::accept(stream).unwrap();
        then(&mut socket);
        let _ = held.recv();
    });
    (addr, hold)
}

#[test]
fn a_silent_server_fails_the_upgrade_when_the_handshake_timeout_passes() {
    // The listener never accepts: TCP connects (the backlog takes it), no answer ever comes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let timeout = Duration::from_secs(10);
    let mut driven = Driven::connect(server, Config::default().with_handshake_timeout(timeout));
    let started = driven.now;
    driven.drive_until("the upgrade request is on its way", |driven| {
        matches!(driven.connection.phase, Phase::Upgrading { .. })
    });

    driven.advance_to(started + timeout - JUST_BEFORE);
    assert!(driven.ending().is_none(), "{:?}", driven.incoming);

    driven.advance_to(started + timeout);
    let Some(Incoming::Failed(error)) = driven.ending() else {
        panic!("not failed: {:?}", driven.incoming);
    };
    assert_eq!(
        error.to_string(),
        format!(
            "connection to 127.0.0.1:{} was not open after 10.0 s (handshake timeout, during \
             the HTTP upgrade)",
            server.port()
        )
    );
    assert!(driven.connection.is_finished());
}

#[test]
fn a_server_that_never_answers_our_close_fails_it_when_the_close_timeout_passes() {
    let (server, _hold) = server(|_| {});
    let timeout = Duration::from_secs(5);
    let mut driven = Driven::connect(server, Config::default().with_close_timeout(timeout));
    driven.open();
    let closed_at = driven.now;
    driven.close();

    driven.advance_to(closed_at + timeout - JUST_BEFORE);
    assert!(driven.ending().is_none(), "{:?}", driven.incoming);

    driven.advance_to(closed_at + timeout);
    let error = "server did not finish the close handshake within 5.0 s (close timeout)";
    let our_code = Some(1000);
    assert_eq!(
        driven.closed(),
        Closed {
            clean: false,
            code: our_code,
            reason: String::new(),
            error: Some(error.to_owned()),
        }
    );
}

#[test]
fn a_close_handshake_whose_tcp_close_never_comes_is_still_clean_at_the_close_timeout() {
    // The server answers our close frame but keeps the TCP connection open.
    let (server, _hold) = server(|socket| {
        while !matches!(socket.read(), Ok(tungstenite::Message::Close(_)) | Err(_)) {}
        let _ = socket.flush();
    });
    let timeout = Duration::from_secs(5);
    let mut driven = Driven::connect(server, Config::default().with_close_timeout(timeout));
    driven.open();
    let closed_at = driven.now;
    driven.close();
    driven.drive_until("the server's close frame arrives", |driven| {
        driven.connection.close.is_exchanged()
    });
    assert!(driven.ending().is_none(), "{:?}", driven.incoming);

    driven.advance_to(closed_at + timeout);
    let servers_code = Some(1000);
    assert_eq!(
        driven.closed(),
        Closed {
            clean: true,
            code: servers_code,
            reason: String::new(),
            error: None,
        }
    );
}

#[test]
fn a_server_that_stops_answering_pings_is_dropped_when_the_heartbeat_timeout_passes() {
    // The server never reads again, so no pong comes back, and it sends nothing.
    let (server, _hold) = server(|_| {});
    let interval = Duration::from_secs(1);
    let timeout = Duration::from_secs(2);
    let config = Config::default()
        .with_heartbeat_interval(interval)
        .with_heartbeat_timeout(timeout);
    let mut driven = Driven::connect(server, config);
    driven.open();
    let opened_at = driven.now;

    let sent_before = driven.connection.statistics.wire_bytes_sent;
    driven.advance_to(opened_at + interval);
    assert!(
        driven.connection.statistics.wire_bytes_sent > sent_before,
        "a ping went out"
    );
    driven.advance_to(opened_at + interval + timeout - JUST_BEFORE);
    assert!(driven.ending().is_none(), "{:?}", driven.incoming);

    driven.advance_to(opened_at + interval + timeout);
    let error =
        "connection lost: the server sent nothing for 2.0 s after a ping (heartbeat timeout)";
    assert_eq!(
        driven.closed(),
        Closed {
            clean: false,
            code: None, // dropped without a close frame
            reason: String::new(),
            error: Some(error.to_owned()),
        }
    );
}

#[test]
fn a_tcp_close_that_arrived_before_the_close_timeout_was_handled_makes_a_clean_close() {
    // The server closes first, takes our answer and closes TCP; the I/O thread, busy elsewhere,
    // has not handled that readiness yet when the close timeout comes due.
    let (go_on, server_may_go_on) = mpsc::channel();
    let (gone, server_gone) = mpsc::channel();
    let (server, _hold) = server(move |socket| {
        let _ = socket.close(None);
        let _ = server_may_go_on.recv();
        while socket.read().is_ok() {}
        let _ = socket.get_mut().shutdown(std::net::Shutdown::Both);
        let _ = gone.send(());
    });
    let timeout = Duration::from_secs(5);
    let mut driven = Driven::connect(server, Config::default().with_close_timeout(timeout));
    driven.open();
    driven.drive_until("the server's close frame arrives", |driven| {
        driven.connection.close.received().is_some()
    });
    let requested_at = driven.now;
    go_on.send(()).unwrap();
    server_gone.recv_timeout(WATCHDOG).unwrap();
    assert!(driven.ending().is_none(), "{:?}", driven.incoming);

    driven.advance_to(requested_at + timeout);
    let closed = driven.closed();
    assert_eq!((closed.clean, closed.error), (true, None));
}

#[test]
fn a_server_close_we_answered_whose_tcp_close_never_comes_is_still_clean_at_the_close_timeout() {
    // The server closes first, reads our answer, and keeps the TCP connection open.
    let (server, _hold) = server(|socket| {
        let _ = socket.close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Away,
            reason: "bye".into(),
        }));
        while socket.read().is_ok() {}
    });
    let timeout = Duration::from_secs(5);
    let mut driven = Driven::connect(server, Config::default().with_close_timeout(timeout));
    driven.open();
    driven.drive_until("the server's close frame arrives", |driven| {
        driven.connection.close.received().is_some()
    });
    let requested_at = driven.now;

    driven.advance_to(requested_at + timeout);
    assert_eq!(
        driven.closed(),
        Closed {
            clean: true,
            code: Some(1001),
            reason: "bye".to_owned(),
            error: None,
        }
    );
}
