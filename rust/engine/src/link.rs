//! The state one connection shares between the game's thread and the I/O thread.

use std::collections::VecDeque;
use std::mem;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::statistics::SharedStatistics;
use crate::{Error, HandshakeResponse, Message, TlsInfo};

/// Bytes charged per queued message on top of its payload, so a flood of tiny messages is bounded
/// by the inbound limit too (roughly what a queued message costs in memory).
pub(crate) const QUEUED_MESSAGE_OVERHEAD: usize = 64;

/// What the game asked to send, in order.
pub(crate) enum Outbound {
    Message(Message),
    Close { code: u16, reason: String },
}

/// What the I/O thread tells the game, in order.
#[derive(Debug)]
pub(crate) enum Incoming {
    Opened {
        protocol: String,
        peer: SocketAddr,
        tls: Option<TlsInfo>,
    },
    Message(Message),
    CloseRequested {
        code: u16,
        reason: String,
    },
    Closed {
        clean: bool,
        code: Option<u16>,
        reason: String,
        error: Option<Error>,
    },
    Failed(Error),
    /// The server's answer to the upgrade, just before `Opened` or `Failed`.
    HandshakeResponse(Box<HandshakeResponse>),
}

/// The mailbox and counters of one connection.
#[derive(Default)]
pub(crate) struct Link {
    inbox: Mutex<VecDeque<Incoming>>,
    /// Set whenever `inbox` is not empty, so an idle poll is a single atomic load.
    has_incoming: AtomicBool,
    /// Payload bytes (plus overhead) received and not yet taken by the game.
    inbound_bytes: AtomicUsize,
    /// Set by the I/O thread when it stopped reading because `inbound_bytes` hit the limit.
    reading_paused: AtomicBool,
    /// Bytes the game sent that the I/O thread has not handed to the socket yet: payloads not
    /// encoded yet, then their frames (headers included, after compression) not written yet.
    outbound_bytes: AtomicUsize,
    /// What the game posted and the I/O thread has not taken yet.
    outbox: Mutex<VecDeque<Outbound>>,
    /// Set from the game's post that announced the outbox until the I/O thread takes it, so a
    /// burst of sends costs one command and one wake-up.
    outbox_announced: AtomicBool,
    /// The traffic counters, published by the I/O thread.
    pub(crate) statistics: SharedStatistics,
}

impl Link {
    /// Called by the I/O thread.
    pub(crate) fn push(&self, incoming: Incoming) {
        if let Incoming::Message(message) = &incoming {
            self.inbound_bytes
                .fetch_add(message.len() + QUEUED_MESSAGE_OVERHEAD, Ordering::SeqCst);
        }
        let mut inbox = self
            .inbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inbox.push_back(incoming);
        self.has_incoming.store(true, Ordering::Release);
    }

    /// Called by the game: moves everything pending into `out`.
    pub(crate) fn drain_into(&self, out: &mut VecDeque<Incoming>) {
        if !self.has_incoming.load(Ordering::Acquire) {
            return;
        }
        let mut inbox = self
            .inbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.has_incoming.store(false, Ordering::Relaxed);
        if out.is_empty() {
            mem::swap(out, &mut inbox);
        } else {
            out.extend(inbox.drain(..));
        }
    }

    /// Called by the I/O thread before reading: whether it must stop reading for now. When it
    /// returns true, the game's [`Link::release_inbound`] will ask for a resume.
    pub(crate) fn should_pause_reading(&self, limit: usize) -> bool {
        if self.inbound_bytes.load(Ordering::SeqCst) < limit {
            return false;
        }
        self.reading_paused.store(true, Ordering::SeqCst);
        // The game may have taken messages between the two loads; then it saw no pause flag.
        if self.inbound_bytes.load(Ordering::SeqCst) >= limit {
            return true;
        }
        self.reading_paused.store(false, Ordering::SeqCst);
        false
    }

    /// Called by the game when it took a message of `len` bytes. Returns true when the I/O
    /// thread had paused reading and must now be asked to resume.
    pub(crate) fn release_inbound(&self, len: usize, limit: usize) -> bool {
        let before = self
            .inbound_bytes
            .fetch_sub(len + QUEUED_MESSAGE_OVERHEAD, Ordering::SeqCst);
        before - (len + QUEUED_MESSAGE_OVERHEAD) < limit
            && self.reading_paused.load(Ordering::SeqCst)
            && self.reading_paused.swap(false, Ordering::SeqCst)
    }

    /// Called by the game when auto-reconnect opened this link: counts the messages still
    /// unread from earlier connections, so the inbound limit covers them too.
    pub(crate) fn charge_unread(&self, unread: &VecDeque<Message>) {
        let bytes = unread
            .iter()
            .map(|message| message.len() + QUEUED_MESSAGE_OVERHEAD)
            .sum();
        self.inbound_bytes.fetch_add(bytes, Ordering::SeqCst);
    }

    /// Called by the game: queues `item` for the I/O thread. Returns true when the I/O thread
    /// must be told (the outbox was not announced yet).
    pub(crate) fn post(&self, item: Outbound) -> bool {
        if let Outbound::Message(message) = &item {
            self.outbound_bytes
                .fetch_add(message.len(), Ordering::SeqCst);
        }
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push_back(item);
        !self.outbox_announced.swap(true, Ordering::AcqRel)
    }

    /// Called by the I/O thread: appends everything the game posted to `out`.
    pub(crate) fn take_outbox(&self, out: &mut VecDeque<Outbound>) {
        // Cleared first: a post that lands after the take below announces itself again.
        self.outbox_announced.store(false, Ordering::Release);
        let mut outbox = self
            .outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if out.is_empty() {
            mem::swap(out, &mut outbox);
        } else {
            out.extend(outbox.drain(..));
        }
    }

    /// Called by the I/O thread when `len` more bytes wait in its own queue (a message's frame
    /// that replaces its payload: added before the payload is removed, so the count never dips).
    pub(crate) fn add_outbound(&self, len: usize) {
        self.outbound_bytes.fetch_add(len, Ordering::SeqCst);
    }

    pub(crate) fn remove_outbound(&self, len: usize) {
        self.outbound_bytes.fetch_sub(len, Ordering::SeqCst);
    }

    pub(crate) fn outbound_bytes(&self) -> usize {
        self.outbound_bytes.load(Ordering::SeqCst)
    }

    /// Whether the I/O thread stopped reading until the game takes messages.
    pub(crate) fn is_reading_paused(&self) -> bool {
        self.reading_paused.load(Ordering::SeqCst)
    }
}
