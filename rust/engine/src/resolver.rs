//! Name resolution off the game's thread: a fixed pool of threads calling the system resolver,
//! so the thread count stays flat however many connections start at once.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// Threads that resolve names. Resolution is rare and short; two let one slow lookup not hold
/// up every other.
const RESOLVER_THREADS: usize = 2;

type Reply = Box<dyn FnOnce(io::Result<Vec<SocketAddr>>) + Send>;

/// A pool of resolver threads; dropping the pool ends them and waits for them.
pub(crate) struct Resolver {
    /// `None` once dropping began: closing the channel is what ends the threads.
    jobs: Option<Sender<(String, u16, Reply)>>,
    threads: Vec<JoinHandle<()>>,
}

impl Resolver {
    pub(crate) fn start() -> io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<(String, u16, Reply)>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::with_capacity(RESOLVER_THREADS);
        for index in 0..RESOLVER_THREADS {
            let queue = Arc::clone(&queue);
            let thread = thread::Builder::new()
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
            threads.push(thread);
        }
        Ok(Self {
            jobs: Some(jobs),
            threads,
        })
    }

    /// Resolves `host` and calls `reply` with the addresses, on a resolver thread.
    pub(crate) fn resolve(&self, host: String, port: u16, reply: Reply) {
        let Some(jobs) = &self.jobs else {
            return reply(Err(io::Error::other("the resolver has stopped")));
        };
        if let Err(mpsc::SendError((_, _, reply))) = jobs.send((host, port, reply)) {
            reply(Err(io::Error::other("the resolver has stopped")));
        }
    }
}

impl Drop for Resolver {
    /// Waits for the threads to end: at shutdown the library may be unloaded next, and a
    /// thread still running its code then would crash the process. A lookup in progress (a
    /// slow DNS server) holds this up until the system resolver gives up on it.
    fn drop(&mut self) {
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
