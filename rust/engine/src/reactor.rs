//! The I/O thread: one `mio` event loop that serves every connection of the process.
//!
//! The game's thread never touches a socket. It hands [`Command`]s to the loop through a channel
//! and wakes it; the loop answers through each connection's [`Link`]. Because the loop runs on its
//! own thread, pings are answered and data is read (up to the inbound limit) while the game's
//! main thread is stalled, and the thread count stays flat however many connections are open.
//!
//! This loop is the only place the engine's I/O side reads the clock: it reads it before each
//! step and hands that `now` to the connection it drives, so the connection's state machine
//! never reads it and its timeouts can be tested without waiting.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::{Events, Poll, Registry, Token, Waker};

use crate::connection::Connection;
use crate::link::Link;
use crate::resolver::Resolver;
use crate::{Config, ConnectRequest, Error};

/// The token of the waker; connection tokens are their ids, which count up from 0.
const WAKE_TOKEN: Token = Token(usize::MAX);
/// Readiness events taken per wake-up of the loop.
const EVENTS_PER_POLL: usize = 1024;

/// A request from the game's thread to the I/O thread.
pub(crate) enum Command {
    // Boxed: a connection starts once, while sends are many and should stay small.
    Connect {
        id: u64,
        request: Box<ConnectRequest>,
        config: Box<Config>,
        link: Arc<Link>,
    },
    /// The connection has work: the game posted to its outbox, or reading may resume.
    Serve {
        id: u64,
    },
    Drop {
        id: u64,
    },
    Resolved {
        id: u64,
        addresses: io::Result<Vec<SocketAddr>>,
    },
    Shutdown,
}

/// The game's side of the I/O thread: submits commands and wakes the loop.
#[derive(Clone)]
pub(crate) struct Reactor {
    commands: Sender<Command>,
    waker: Arc<Waker>,
    /// Set while a wake-up is on its way, so a burst of sends costs one wake-up, not one each.
    wake_pending: Arc<AtomicBool>,
}

impl Reactor {
    /// Hands `command` to the I/O thread.
    pub(crate) fn submit(&self, command: Command) {
        if self.commands.send(command).is_ok() && !self.wake_pending.swap(true, Ordering::SeqCst) {
            // A failed wake-up leaves the command queued; the next one delivers it.
            let _ = self.waker.wake();
        }
    }
}

/// The running I/O thread of this process, started on first use.
static RUNNING: Mutex<Option<(Reactor, JoinHandle<()>)>> = Mutex::new(None);

/// The I/O thread, started if it is not running.
pub(crate) fn reactor() -> io::Result<Reactor> {
    let mut running = RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((reactor, _)) = running.as_ref() {
        return Ok(reactor.clone());
    }
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE_TOKEN)?);
    let (commands, inbox) = mpsc::channel();
    let reactor = Reactor {
        commands,
        waker,
        wake_pending: Arc::new(AtomicBool::new(false)),
    };
    let event_loop = EventLoop {
        poll,
        inbox,
        reactor: reactor.clone(),
        resolver: None,
        connections: HashMap::new(),
        ready: Vec::new(),
        deadlines: BinaryHeap::new(),
        shutting_down: false,
    };
    let thread = thread::Builder::new()
        .name("rust_websocket-io".into())
        .spawn(move || event_loop.run())?;
    *running = Some((reactor.clone(), thread));
    Ok(reactor)
}

/// Stops the I/O thread and waits for it to end. Every open connection first writes what the
/// game queued and closes with code 1001, each within its `close_timeout`; the others end at
/// once. The next connection starts a new thread. Call before the library is unloaded.
pub fn shutdown() {
    let running = RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    if let Some((reactor, thread)) = running {
        reactor.submit(Command::Shutdown);
        let _ = thread.join();
    }
}

struct EventLoop {
    poll: Poll,
    inbox: Receiver<Command>,
    reactor: Reactor,
    /// Started on the first connection that needs a name resolved.
    resolver: Option<Resolver>,
    connections: HashMap<u64, Connection>,
    /// Connections to drive before the loop sleeps again: each is driven once per turn, however
    /// many readiness events and commands it got.
    ready: Vec<u64>,
    /// Connection deadlines, earliest first; stale entries are skipped when they come due.
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Shutdown was asked: the loop ends once the released connections have finished.
    shutting_down: bool,
}

impl EventLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(EVENTS_PER_POLL);
        loop {
            let timeout = self
                .deadlines
                .peek()
                .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()));
            if let Err(error) = self.poll.poll(&mut events, timeout) {
                if error.kind() != io::ErrorKind::Interrupted {
                    // The poller itself failed: nothing can be served any more.
                    self.shut_down(Instant::now());
                    return;
                }
            }
            self.ready.extend(
                events
                    .iter()
                    .filter(|event| event.token() != WAKE_TOKEN)
                    .map(|event| event.token().0 as u64),
            );
            // Clear before draining: a command submitted after the drain then wakes us again.
            self.reactor.wake_pending.store(false, Ordering::SeqCst);
            // The clock is read for each step rather than once per turn: a turn that reads a lot
            // (megabytes through TLS, or thousands of connections) takes long enough that a
            // deadline set from its start would come early (seen under qemu: a close timeout).
            while let Ok(command) = self.inbox.try_recv() {
                self.handle(command, Instant::now());
            }
            self.ready.sort_unstable();
            self.ready.dedup();
            for index in 0..self.ready.len() {
                self.drive(self.ready[index], Instant::now());
            }
            self.ready.clear();
            self.expire_deadlines(Instant::now());
            if self.shutting_down && self.connections.is_empty() {
                return;
            }
        }
    }

    /// Carries out one command at `now`.
    fn handle(&mut self, command: Command, now: Instant) {
        match command {
            Command::Connect {
                id,
                request,
                config,
                link,
            } => {
                self.connections
                    .insert(id, Connection::new(*request, *config, link));
                let resolve = self.guarded(id, |connection, registry| {
                    connection.start(registry, id, now)
                });
                if let Some(Some(resolve)) = resolve {
                    self.resolve(id, resolve, now);
                }
                self.settle(id);
            }
            Command::Resolved { id, addresses } => {
                let resolve = self.guarded(id, |connection, registry| {
                    connection.resolved(registry, id, addresses, now)
                });
                if let Some(Some(resolve)) = resolve {
                    self.resolve(id, resolve, now);
                }
                self.settle(id);
            }
            Command::Serve { id } => self.ready.push(id),
            Command::Drop { id } => self.release(id, now),
            Command::Shutdown => {
                self.shutting_down = true;
                let ids: Vec<u64> = self.connections.keys().copied().collect();
                for id in ids {
                    self.release(id, now);
                }
            }
        }
    }

    /// The game let go of connection `id`: it finishes in the background (see
    /// [`Connection::release`]).
    fn release(&mut self, id: u64, now: Instant) {
        self.guarded(id, |connection, registry| connection.release(registry, now));
        self.settle(id);
    }

    fn resolve(&mut self, id: u64, (host, port): (String, u16), now: Instant) {
        if self.resolver.is_none() {
            match Resolver::start() {
                Ok(resolver) => self.resolver = Some(resolver),
                Err(error) => {
                    self.handle(
                        Command::Resolved {
                            id,
                            addresses: Err(error),
                        },
                        now,
                    );
                    return;
                }
            }
        }
        let reactor = self.reactor.clone();
        if let Some(resolver) = &self.resolver {
            resolver.resolve(
                host,
                port,
                Box::new(move |addresses| reactor.submit(Command::Resolved { id, addresses })),
            );
        }
    }

    /// Lets a connection make progress after readiness or a command.
    fn drive(&mut self, id: u64, now: Instant) {
        self.guarded(id, |connection, registry| {
            #[cfg(test)]
            tests::panic_if_asked(connection);
            connection.drive(registry, now)
        });
        self.settle(id);
    }

    /// Runs `step` on connection `id`, if it exists. A panic in it fails that connection with
    /// [`Error::Internal`] (its socket is closed) instead of ending the I/O thread, and with it
    /// every connection of the process; the others keep running. `None` when the connection does
    /// not exist or `step` panicked.
    fn guarded<R>(
        &mut self,
        id: u64,
        step: impl FnOnce(&mut Connection, &Registry) -> R,
    ) -> Option<R> {
        let connection = self.connections.get_mut(&id)?;
        let registry = self.poll.registry();
        match panic::catch_unwind(AssertUnwindSafe(|| step(connection, registry))) {
            Ok(result) => Some(result),
            Err(payload) => {
                if let Some(connection) = self.connections.remove(&id) {
                    connection.fail_after_panic(Error::Internal {
                        detail: panic_message(payload.as_ref()),
                    });
                }
                None
            }
        }
    }

    /// Removes a connection that ended, or records its new deadline.
    fn settle(&mut self, id: u64) {
        let Some(connection) = self.connections.get_mut(&id) else {
            return;
        };
        if connection.is_finished() {
            // A finished connection has already dropped its socket.
            self.connections.remove(&id);
        } else if let Some(deadline) = connection.take_new_deadline() {
            self.deadlines.push(Reverse((deadline, id)));
        }
    }

    /// Lets every connection whose wake-up is due at `now` act on it.
    fn expire_deadlines(&mut self, now: Instant) {
        while let Some(&Reverse((at, id))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            self.guarded(id, |connection, registry| {
                connection.handle_timeout(registry, now)
            });
            self.settle(id);
        }
    }

    fn shut_down(&mut self, now: Instant) {
        for (_, connection) in self.connections.drain() {
            abandon(connection, self.poll.registry(), now);
        }
    }
}

/// Releases a connection the game let go of (or at shutdown). Nobody waits for it any more, so
/// a panic while doing so only costs its close frame.
fn abandon(mut connection: Connection, registry: &Registry, now: Instant) {
    let _ = panic::catch_unwind(AssertUnwindSafe(|| connection.abandon(registry, now)));
}

/// The message a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::{Client, Event, Message};

    /// The path of a connection whose drive panics, to test the I/O thread's panic guard: no
    /// input from a server or the game is known to panic, so the test needs this hook.
    const PANIC_PATH: &str = "/panic-in-drive-for-test";

    /// The hook: panics while driving a connection to [`PANIC_PATH`].
    pub(super) fn panic_if_asked(connection: &Connection) {
        if connection.url().ends_with(PANIC_PATH) {
            panic!("test panic while driving {}", connection.url());
        }
    }

    /// An echo server on 127.0.0.1, one thread per connection.
    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || {
                    let Ok(mut socket) = tungstenite::accept(stream) else {
                        return;
                    };
                    while let Ok(message) = socket.read() {
                        if (message.is_text() || message.is_binary())
                            && socket.send(message).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Polls until `wanted` matches an event (or panics after a generous watchdog).
    fn poll_until(client: &mut Client, wanted: impl Fn(&Event) -> bool) -> Event {
        let started = Instant::now();
        loop {
            if let Some(event) = client.poll_event() {
                if wanted(&event) {
                    return event;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(20), "watchdog");
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn connect(addr: SocketAddr, path: &str) -> Client {
        let mut client = Client::default();
        let request = ConnectRequest::new(&format!("ws://{addr}{path}")).unwrap();
        client.connect(request).unwrap();
        client
    }

    #[test]
    fn a_panic_while_driving_one_connection_fails_it_and_the_others_keep_running() {
        let server = echo_server();
        let mut bystander = connect(server, "/");
        poll_until(&mut bystander, |e| matches!(e, Event::Opened { .. }));

        let mut victim = connect(server, PANIC_PATH);
        let ended = poll_until(&mut victim, |e| {
            matches!(
                e,
                Event::Failed | Event::Closed { .. } | Event::Opened { .. }
            )
        });
        assert_eq!(ended, Event::Failed);
        assert_eq!(
            victim.last_error().unwrap().to_string(),
            format!(
                "internal error in rust_websocket (a bug, please report it): test panic while \
                 driving ws://{server}{PANIC_PATH}; the connection was closed"
            )
        );

        // The I/O thread survived: the open connection still echoes, and new ones open.
        bystander.send(Message::from("still here")).unwrap();
        poll_until(&mut bystander, |e| *e == Event::MessageReceived);
        assert_eq!(bystander.take_message(), Some(Message::from("still here")));
        let mut newcomer = connect(server, "/");
        poll_until(&mut newcomer, |e| matches!(e, Event::Opened { .. }));
    }
}
