//! Auto-reconnect: when a connection drops, connect again to the same target after an
//! exponential backoff with jitter, until it opens or the attempts run out.
//!
//! The policy is pure: [`Reconnector`] is driven with `now` and a random fraction, so it is tested
//! without sleeping; [`Client`](crate::Client) feeds it from `poll_event`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::LONGEST_TIMER;
use crate::{Error, Message};

/// Default for [`ReconnectConfig::initial_delay`]: half a second.
pub const DEFAULT_RECONNECT_INITIAL_DELAY: Duration = Duration::from_millis(500);
/// Default for [`ReconnectConfig::max_delay`]: 30 seconds.
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(30);
/// Default for [`ReconnectConfig::max_attempts`]: 10 attempts (about two minutes of trying with
/// the default delays).
pub const DEFAULT_RECONNECT_MAX_ATTEMPTS: u32 = 10;
/// Default for [`ReconnectConfig::final_close_codes`]: close codes after which connecting again
/// cannot help. 1000 (normal closure: the server ended the session on purpose), 1002 (protocol
/// error), 1003 (unsupported data), 1007 (invalid payload), 1008 (policy violation, e.g. kicked
/// or not allowed) and 1009 (message too big). Codes such as 1001 (going away), 1006 (no close
/// frame), 1011 (server error), 1012 (service restart) and 1013 (try again later) reconnect.
pub const DEFAULT_FINAL_CLOSE_CODES: [u16; 6] = [1000, 1002, 1003, 1007, 1008, 1009];
/// Default for [`ReconnectConfig::queue_bytes`]: 1 MiB of payloads, so a game that keeps
/// sending through a long outage does not grow its memory without bound.
pub const DEFAULT_RECONNECT_QUEUE_BYTES: usize = 1 << 20;

/// When and how often a dropped connection is connected again. Off by default.
///
/// Delays grow exponentially with "equal jitter" (from AWS's *Exponential Backoff And Jitter*):
/// attempt `n` waits between half and all of `min(max_delay, initial_delay × 2^(n-1))`, chosen at
/// random. The random half spreads many clients dropped at once (a server restart) over time; the
/// fixed half keeps a client from retrying at once against a server that is down.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReconnectConfig {
    /// Connect again when a connection drops or an attempt fails. Default `false`.
    pub enabled: bool,
    /// The nominal delay before the first attempt; it doubles with each further attempt.
    /// Default [`DEFAULT_RECONNECT_INITIAL_DELAY`].
    pub initial_delay: Duration,
    /// The cap on the nominal delay. Default [`DEFAULT_RECONNECT_MAX_DELAY`].
    pub max_delay: Duration,
    /// Attempts in a row after which the client gives up; 0 means no limit. The count starts
    /// again once a connection opens. Default [`DEFAULT_RECONNECT_MAX_ATTEMPTS`].
    pub max_attempts: u32,
    /// Close codes (whoever sent the close frame) after which the client does not reconnect.
    /// Default [`DEFAULT_FINAL_CLOSE_CODES`].
    pub final_close_codes: Vec<u16>,
    /// Messages kept, while waiting to reconnect or connecting again, to send once the
    /// connection is open again; 0 (the default) turns the queue off, so sends are refused
    /// with [`Error::Reconnecting`]. Off by default because a server may have moved on.
    pub queue_messages: usize,
    /// Payload bytes the reconnect queue holds at most. Default [`DEFAULT_RECONNECT_QUEUE_BYTES`].
    pub queue_bytes: usize,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            initial_delay: DEFAULT_RECONNECT_INITIAL_DELAY,
            max_delay: DEFAULT_RECONNECT_MAX_DELAY,
            max_attempts: DEFAULT_RECONNECT_MAX_ATTEMPTS,
            final_close_codes: DEFAULT_FINAL_CLOSE_CODES.to_vec(),
            queue_messages: 0,
            queue_bytes: DEFAULT_RECONNECT_QUEUE_BYTES,
        }
    }
}

impl ReconnectConfig {
    /// Sets [`ReconnectConfig::enabled`].
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets [`ReconnectConfig::initial_delay`].
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets [`ReconnectConfig::max_delay`].
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`ReconnectConfig::max_attempts`].
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`ReconnectConfig::final_close_codes`].
    pub fn with_final_close_codes(mut self, codes: Vec<u16>) -> Self {
        self.final_close_codes = codes;
        self
    }

    /// Sets [`ReconnectConfig::queue_messages`].
    pub fn with_queue_messages(mut self, messages: usize) -> Self {
        self.queue_messages = messages;
        self
    }

    /// Sets [`ReconnectConfig::queue_bytes`].
    pub fn with_queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes;
        self
    }

    /// The delay before attempt `attempt` (1 for the first), for a `random` fraction in
    /// `[0, 1)`: between half and all of the capped exponential delay (equal jitter), and at
    /// most a year.
    pub fn delay_before(&self, attempt: u32, random: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(u32::BITS - 1);
        let nominal = self
            .initial_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
            .min(LONGEST_TIMER);
        let half = nominal / 2;
        half + (nominal - half).mul_f64(random.clamp(0.0, 1.0))
    }
}

/// How a connection ended, as far as reconnecting is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The game closed it (or failed it on purpose): never reconnect.
    ByGame,
    /// It opened, then ended with this close code (`None`: without a close frame).
    Dropped { close_code: Option<u16> },
    /// The attempt failed before it opened.
    AttemptFailed,
}

/// What to do after a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Stay closed, as without auto-reconnect.
    StayClosed,
    /// Connect again after `delay`; this is attempt number `attempt` in a row.
    Retry { attempt: u32, delay: Duration },
    /// `attempts` attempts in a row failed: stay closed.
    GiveUp { attempts: u32 },
}

/// The reconnect state of one client: the attempts in a row and when the next one is due.
#[derive(Debug, Default)]
pub(crate) struct Reconnector {
    /// Attempts made (or scheduled) since the last connection opened.
    attempts: u32,
    /// When the scheduled attempt starts, while waiting for it.
    due: Option<Instant>,
    /// Connections that opened again after a drop, since the game last connected.
    reconnects: u64,
}

impl Reconnector {
    /// Decides what follows `ending` under `config` at `now`; schedules the next attempt when
    /// retrying. `random` is a fraction in `[0, 1)` for the jitter.
    pub(crate) fn on_ended(
        &mut self,
        config: &ReconnectConfig,
        ending: Ending,
        now: Instant,
        random: f64,
    ) -> Decision {
        self.due = None;
        let retry = config.enabled
            && match ending {
                Ending::ByGame => false,
                Ending::Dropped { close_code } => {
                    !close_code.is_some_and(|code| config.final_close_codes.contains(&code))
                }
                Ending::AttemptFailed => true,
            };
        if !retry {
            self.attempts = 0;
            return Decision::StayClosed;
        }
        if config.max_attempts != 0 && self.attempts >= config.max_attempts {
            return Decision::GiveUp {
                attempts: std::mem::take(&mut self.attempts),
            };
        }
        self.attempts += 1;
        let delay = config.delay_before(self.attempts, random);
        self.due = Some(now + delay);
        Decision::Retry {
            attempt: self.attempts,
            delay,
        }
    }

    /// Whether the scheduled attempt is due at `now`; if so it is no longer scheduled.
    pub(crate) fn take_due(&mut self, now: Instant) -> bool {
        if self.due.is_some_and(|due| now >= due) {
            self.due = None;
            return true;
        }
        false
    }

    /// Whether an attempt is scheduled and not started yet.
    pub(crate) fn is_waiting(&self) -> bool {
        self.due.is_some()
    }

    /// The attempt in a row being waited for or made, or 0 when not reconnecting.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempts
    }

    /// The game stopped reconnecting: nothing is scheduled any more.
    pub(crate) fn cancel(&mut self) {
        self.due = None;
        self.attempts = 0;
    }

    /// A connection opened: returns whether it was a reconnection, and starts counting anew.
    pub(crate) fn on_opened(&mut self) -> bool {
        let reconnected = std::mem::take(&mut self.attempts) > 0;
        if reconnected {
            self.reconnects += 1;
        }
        reconnected
    }

    /// Connections that opened again after a drop.
    pub(crate) fn reconnects(&self) -> u64 {
        self.reconnects
    }
}

/// Which limit of the reconnect queue refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueLimit {
    /// [`ReconnectConfig::queue_messages`] messages are queued already.
    Messages { max: usize },
    /// The message's `size` bytes do not fit next to the `queued` bytes under
    /// [`ReconnectConfig::queue_bytes`] (`max`).
    Bytes {
        size: usize,
        queued: usize,
        max: usize,
    },
}

/// The messages sent while reconnecting, kept in order for the next connection.
#[derive(Debug, Default)]
pub(crate) struct ReconnectQueue {
    messages: VecDeque<Message>,
    /// The payload bytes of `messages`.
    bytes: usize,
}

impl ReconnectQueue {
    /// Keeps `message` if `config`'s limits allow it; else fails naming the limit it hit.
    pub(crate) fn offer(
        &mut self,
        config: &ReconnectConfig,
        message: Message,
    ) -> Result<(), Error> {
        let limit = if self.messages.len() >= config.queue_messages {
            QueueLimit::Messages {
                max: config.queue_messages,
            }
        } else if self.bytes.saturating_add(message.len()) > config.queue_bytes {
            QueueLimit::Bytes {
                size: message.len(),
                queued: self.bytes,
                max: config.queue_bytes,
            }
        } else {
            self.bytes += message.len();
            self.messages.push_back(message);
            return Ok(());
        };
        Err(Error::ReconnectQueueFull { limit })
    }

    /// The payload bytes of the queued messages.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes every queued message, oldest first.
    pub(crate) fn take_all(&mut self) -> VecDeque<Message> {
        self.bytes = 0;
        std::mem::take(&mut self.messages)
    }

    /// Drops every queued message; returns how many there were.
    pub(crate) fn discard(&mut self) -> usize {
        self.take_all().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ReconnectConfig {
        ReconnectConfig::default()
            .with_enabled(true)
            .with_initial_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(10))
            .with_max_attempts(3)
    }

    const DROPPED: Ending = Ending::Dropped { close_code: None };

    #[test]
    fn delays_double_up_to_the_cap_and_keep_at_least_half() {
        let config = config();
        let lowest: Vec<u64> = (1..=6)
            .map(|n| config.delay_before(n, 0.0).as_millis() as u64)
            .collect();
        let highest: Vec<u64> = (1..=6)
            .map(|n| config.delay_before(n, 0.999_999).as_millis() as u64)
            .collect();
        assert_eq!(lowest, [500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(highest, [999, 1999, 3999, 7999, 9999, 9999]);
    }

    #[test]
    fn a_huge_attempt_number_stays_at_the_cap() {
        let config = config();
        assert_eq!(config.delay_before(u32::MAX, 1.0), Duration::from_secs(10));
        assert_eq!(config.delay_before(0, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn an_endless_delay_is_scheduled_without_overflowing_the_clock() {
        let config = config()
            .with_initial_delay(Duration::MAX)
            .with_max_delay(Duration::MAX);
        let mut reconnector = Reconnector::default();
        let decision = reconnector.on_ended(&config, DROPPED, Instant::now(), 1.0);
        assert!(matches!(decision, Decision::Retry { attempt: 1, .. }));
        assert!(reconnector.is_waiting());
    }

    #[test]
    fn a_drop_schedules_attempts_that_are_due_after_their_delay() {
        let config = config();
        let mut reconnector = Reconnector::default();
        let start = Instant::now();
        let decision = reconnector.on_ended(&config, DROPPED, start, 0.0);
        assert_eq!(
            decision,
            Decision::Retry {
                attempt: 1,
                delay: Duration::from_millis(500)
            }
        );
        assert!(reconnector.is_waiting());
        assert!(!reconnector.take_due(start + Duration::from_millis(499)));
        assert!(reconnector.take_due(start + Duration::from_millis(500)));
        assert!(!reconnector.is_waiting());
        let decision = reconnector.on_ended(&config, Ending::AttemptFailed, start, 0.0);
        assert_eq!(
            decision,
            Decision::Retry {
                attempt: 2,
                delay: Duration::from_secs(1)
            }
        );
    }

    #[test]
    fn gives_up_after_max_attempts_and_starts_over_after_giving_up() {
        let config = config();
        let mut reconnector = Reconnector::default();
        let now = Instant::now();
        let mut decisions = vec![reconnector.on_ended(&config, DROPPED, now, 0.0)];
        for _ in 0..3 {
            decisions.push(reconnector.on_ended(&config, Ending::AttemptFailed, now, 0.0));
        }
        let attempts: Vec<_> = decisions
            .iter()
            .map(|decision| match decision {
                Decision::Retry { attempt, .. } => format!("retry {attempt}"),
                Decision::GiveUp { attempts } => format!("give up after {attempts}"),
                Decision::StayClosed => "stay closed".into(),
            })
            .collect();
        assert_eq!(
            attempts,
            ["retry 1", "retry 2", "retry 3", "give up after 3"]
        );
        assert!(!reconnector.is_waiting());
        assert!(matches!(
            reconnector.on_ended(&config, DROPPED, now, 0.0),
            Decision::Retry { attempt: 1, .. }
        ));
    }

    #[test]
    fn zero_max_attempts_never_gives_up() {
        let config = config().with_max_attempts(0);
        let mut reconnector = Reconnector::default();
        let now = Instant::now();
        for _ in 0..100 {
            reconnector.on_ended(&config, Ending::AttemptFailed, now, 0.5);
        }
        assert!(matches!(
            reconnector.on_ended(&config, Ending::AttemptFailed, now, 0.5),
            Decision::Retry { attempt: 101, .. }
        ));
    }

    #[test]
    fn opening_counts_a_reconnect_and_resets_the_attempts() {
        let config = config();
        let mut reconnector = Reconnector::default();
        let now = Instant::now();
        assert!(
            !reconnector.on_opened(),
            "the first connection is no reconnect"
        );
        reconnector.on_ended(&config, DROPPED, now, 0.0);
        reconnector.on_ended(&config, Ending::AttemptFailed, now, 0.0);
        assert_eq!(reconnector.attempt(), 2);
        assert!(reconnector.on_opened());
        assert_eq!((reconnector.attempt(), reconnector.reconnects()), (0, 1));
        assert!(matches!(
            reconnector.on_ended(&config, DROPPED, now, 0.0),
            Decision::Retry { attempt: 1, .. }
        ));
    }

    #[test]
    fn never_after_the_games_close_a_final_code_or_when_disabled() {
        let now = Instant::now();
        let final_code = Ending::Dropped {
            close_code: Some(1000),
        };
        let going_away = Ending::Dropped {
            close_code: Some(1001),
        };
        let mut reconnector = Reconnector::default();
        assert_eq!(
            reconnector.on_ended(&config(), Ending::ByGame, now, 0.0),
            Decision::StayClosed
        );
        assert_eq!(
            reconnector.on_ended(&config(), final_code, now, 0.0),
            Decision::StayClosed
        );
        assert_eq!(
            reconnector.on_ended(&config().with_enabled(false), DROPPED, now, 0.0),
            Decision::StayClosed
        );
        assert!(matches!(
            reconnector.on_ended(&config(), going_away, now, 0.0),
            Decision::Retry { attempt: 1, .. }
        ));
        assert!(!matches!(
            reconnector.on_ended(
                &config().with_final_close_codes(vec![1001]),
                going_away,
                now,
                0.0
            ),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn the_games_close_while_reconnecting_stops_quietly() {
        let mut reconnector = Reconnector::default();
        let now = Instant::now();
        reconnector.on_ended(&config(), DROPPED, now, 0.0);
        assert_eq!(
            reconnector.on_ended(&config(), Ending::ByGame, now, 0.0),
            Decision::StayClosed
        );
        assert_eq!(reconnector.attempt(), 0);
    }

    fn queue_config(messages: usize, bytes: usize) -> ReconnectConfig {
        config()
            .with_queue_messages(messages)
            .with_queue_bytes(bytes)
    }

    #[test]
    fn the_queue_is_off_by_default_and_refuses_every_message() {
        assert_eq!(ReconnectConfig::default().queue_messages, 0);
        assert_eq!(
            ReconnectConfig::default().queue_bytes,
            DEFAULT_RECONNECT_QUEUE_BYTES
        );
        let mut queue = ReconnectQueue::default();
        let refused = queue.offer(&ReconnectConfig::default(), Message::from("hi"));
        assert!(matches!(
            refused,
            Err(Error::ReconnectQueueFull {
                limit: QueueLimit::Messages { max: 0 }
            })
        ));
        assert_eq!(queue.discard(), 0);
    }

    #[test]
    fn the_queue_keeps_order_and_refuses_by_count_or_by_bytes_without_taking() {
        let config = queue_config(3, 10);
        let mut queue = ReconnectQueue::default();
        assert!(queue.offer(&config, Message::from("abc")).is_ok());
        assert!(queue.offer(&config, Message::from("defgh")).is_ok());
        assert!(matches!(
            queue.offer(&config, Message::from("xyz")).unwrap_err(),
            Error::ReconnectQueueFull {
                limit: QueueLimit::Bytes {
                    size: 3,
                    queued: 8,
                    max: 10
                }
            }
        ));
        assert!(queue.offer(&config, Message::from(vec![1u8, 2])).is_ok());
        assert!(matches!(
            queue.offer(&config, Message::from("")),
            Err(Error::ReconnectQueueFull {
                limit: QueueLimit::Messages { max: 3 }
            })
        ));
        let sent: Vec<Message> = queue.take_all().into();
        assert_eq!(
            sent,
            [
                Message::from("abc"),
                Message::from("defgh"),
                Message::from(vec![1u8, 2])
            ]
        );
        assert!(queue.offer(&config, Message::from("0123456789")).is_ok());
        assert_eq!(queue.discard(), 1, "taking all freed the bytes");
        assert_eq!(queue.discard(), 0);
    }
}
