//! The I/O thread: one `mio` event loop that serves every connection of the process.
//!
//! The game's thread never touches a socket. It hands [`Command`]s to the loop through a channel
//! and wakes it; the loop answers through each connection's [`Link`]. Because the loop runs on its
//! own thread, pings are answered and data is read (up to the inbound limit) while the game's
//! main thread is stalled, and the thread count stays flat however many connections are open.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::{Events, Poll, Token, Waker};

use crate::connection::Connection;
use crate::link::Link;
use crate::resolver::Resolver;
use crate::{Config, ConnectRequest};

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
    };
    let thread = thread::Builder::new()
        .name("rust_websocket-io".into())
        .spawn(move || event_loop.run())?;
    *running = Some((reactor.clone(), thread));
    Ok(reactor)
}

/// Stops the I/O thread, closing every connection (with close code 1001 where open), and waits
/// for it to end. The next connection starts a new one. Call before the library is unloaded.
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
                    self.shut_down();
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
            while let Ok(command) = self.inbox.try_recv() {
                if !self.handle(command) {
                    self.shut_down();
                    return;
                }
            }
            self.ready.sort_unstable();
            self.ready.dedup();
            for index in 0..self.ready.len() {
                self.drive(self.ready[index]);
            }
            self.ready.clear();
            self.expire_deadlines();
        }
    }

    /// Carries out one command; false when the loop must stop.
    fn handle(&mut self, command: Command) -> bool {
        match command {
            Command::Connect {
                id,
                request,
                config,
                link,
            } => {
                let mut connection = Connection::new(*request, *config, link);
                if let Some(resolve) = connection.start(self.poll.registry(), id) {
                    self.resolve(id, resolve);
                }
                self.track(id, connection);
            }
            Command::Resolved { id, addresses } => {
                if let Some(connection) = self.connections.get_mut(&id) {
                    connection.resolved(self.poll.registry(), id, addresses);
                }
                self.settle(id);
            }
            Command::Serve { id } => self.ready.push(id),
            Command::Drop { id } => {
                if let Some(mut connection) = self.connections.remove(&id) {
                    connection.abandon(self.poll.registry());
                }
            }
            Command::Shutdown => return false,
        }
        true
    }

    fn resolve(&mut self, id: u64, (host, port): (String, u16)) {
        if self.resolver.is_none() {
            match Resolver::start() {
                Ok(resolver) => self.resolver = Some(resolver),
                Err(error) => {
                    self.handle(Command::Resolved {
                        id,
                        addresses: Err(error),
                    });
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
    fn drive(&mut self, id: u64) {
        if let Some(connection) = self.connections.get_mut(&id) {
            connection.drive(self.poll.registry());
        }
        self.settle(id);
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

    fn track(&mut self, id: u64, connection: Connection) {
        self.connections.insert(id, connection);
        self.settle(id);
    }

    fn expire_deadlines(&mut self) {
        let now = Instant::now();
        while let Some(&Reverse((at, id))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if let Some(connection) = self.connections.get_mut(&id) {
                connection.deadline_passed(self.poll.registry(), at);
            }
            self.settle(id);
        }
    }

    fn shut_down(&mut self) {
        for (_, mut connection) in self.connections.drain() {
            connection.abandon(self.poll.registry());
        }
    }
}
