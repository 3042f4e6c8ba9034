//! Name resolution off the game's thread: a fixed pool of threads calling the system resolver,
//! so the thread count stays flat however many connections start at once.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

/// Threads that resolve names. Resolution is rare and short; two let one slow lookup not hold
/// up every other.
const RESOLVER_THREADS: usize = 2;

type Reply = Box<dyn FnOnce(io::Result<Vec<SocketAddr>>) + Send>;

/// A pool of resolver threads; the threads end when the pool is dropped.
pub(crate) struct Resolver {
    jobs: Sender<(String, u16, Reply)>,
}

impl Resolver {
    pub(crate) fn start() -> io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<(String, u16, Reply)>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..RESOLVER_THREADS {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("rust_websocket-dns-{index}"))
                .spawn(move || loop {
                    let job = queue
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .recv();
                    let Ok((host, port, reply)) = job else { return };
                    reply(
                        (host.as_str(), port)
                            .to_socket_addrs()
                            .map(Iterator::collect),
                    );
                })?;
        }
        Ok(Self { jobs })
    }

    /// Resolves `host` and calls `reply` with the addresses, on a resolver thread.
    pub(crate) fn resolve(&self, host: String, port: u16, reply: Reply) {
        if let Err(mpsc::SendError((_, _, reply))) = self.jobs.send((host, port, reply)) {
            reply(Err(io::Error::other("the resolver has stopped")));
        }
    }
}
