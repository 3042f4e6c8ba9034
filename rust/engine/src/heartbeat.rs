//! The heartbeat of an open connection: when to ping, when the server counts as gone, and the
//! smoothed round-trip time measured from the pongs that answer our pings.
//!
//! It has no clock and no socket: the connection hands it `now` and does what it answers, so
//! the logic is tested without sleeping.

use std::time::{Duration, Instant};

use crate::config::LONGEST_TIMER;

/// Bytes in a ping payload: a 4-byte key of the connection, then the 8-byte time the ping was
/// sent (microseconds since the heartbeat started, big-endian).
pub(crate) const PING_PAYLOAD_BYTES: usize = 12;

/// A new sample weighs 1/this in the smoothed round-trip time: α = 1/8, as TCP's SRTT
/// (RFC 6298 section 2).
const RTT_SMOOTHING: u32 = 8;

/// What the connection must do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Nothing until [`Heartbeat::next_wakeup`].
    Wait,
    /// Send a ping with this payload.
    Ping([u8; PING_PAYLOAD_BYTES]),
    /// A ping went unanswered for the timeout and nothing else arrived: the server is gone.
    TimedOut,
}

/// Ping schedule, liveness and round-trip time of one open connection.
///
/// A ping goes out every `interval`. Anything received from the server (any byte, not only a
/// pong) proves it is alive; the connection times out when a ping was sent and nothing at all
/// arrived within `timeout` of it. Each ping carries the connection's random key and its send
/// time, so the pong that echoes it gives a round-trip sample whatever pings were sent since,
/// while unsolicited pongs (RFC 6455 allows them) and repeated ones are ignored.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    interval: Duration,
    /// Zero: no timeout, the pings only measure the round trip.
    timeout: Duration,
    /// Where ping send times count from.
    started: Instant,
    /// Marks our pings' payloads.
    key: [u8; 4],
    next_ping: Instant,
    /// The send time of the first ping sent since the server was last heard from.
    unanswered_since: Option<Instant>,
    /// The send time (since `started`, in µs) of the newest ping a sample was taken from.
    last_sampled_ping: Option<u64>,
    smoothed_rtt: Option<Duration>,
}

impl Heartbeat {
    /// The heartbeat of a connection that opened at `now`, or `None` when `interval` is zero
    /// (heartbeat off).
    pub(crate) fn new(interval: Duration, timeout: Duration, now: Instant) -> Option<Self> {
        if interval.is_zero() {
            return None;
        }
        let interval = interval.min(LONGEST_TIMER);
        let timeout = timeout.min(LONGEST_TIMER);
        Some(Self {
            interval,
            timeout,
            started: now,
            key: rand::random(),
            next_ping: now + interval,
            unanswered_since: None,
            last_sampled_ping: None,
            smoothed_rtt: None,
        })
    }

    /// When [`Heartbeat::poll`] next has something to do.
    pub(crate) fn next_wakeup(&self) -> Instant {
        match self.deadline() {
            Some(deadline) => deadline.min(self.next_ping),
            None => self.next_ping,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let since = self.unanswered_since?;
        (!self.timeout.is_zero()).then(|| since + self.timeout)
    }

    /// What to do at `now`: time out, send a ping (call again for more), or wait.
    pub(crate) fn poll(&mut self, now: Instant) -> Beat {
        if self.deadline().is_some_and(|deadline| now >= deadline) {
            return Beat::TimedOut;
        }
        if now < self.next_ping {
            return Beat::Wait;
        }
        // After a long stall, one ping now and the next a full interval later, not a burst.
        self.next_ping = (self.next_ping + self.interval).max(now + self.interval / 2);
        self.unanswered_since.get_or_insert(now);
        let sent = now.saturating_duration_since(self.started).as_micros() as u64;
        let mut payload = [0; PING_PAYLOAD_BYTES];
        payload[..4].copy_from_slice(&self.key);
        payload[4..].copy_from_slice(&sent.to_be_bytes());
        Beat::Ping(payload)
    }

    /// Something arrived from the server: it is alive.
    pub(crate) fn heard(&mut self) {
        self.unanswered_since = None;
    }

    /// A pong with `payload` arrived at `now`. Returns the new smoothed round-trip time when it
    /// answers one of our pings not sampled yet.
    pub(crate) fn pong(&mut self, payload: &[u8], now: Instant) -> Option<Duration> {
        self.heard();
        let (key, sent) = payload.split_first_chunk::<4>()?;
        let sent = u64::from_be_bytes(sent.try_into().ok()?);
        if *key != self.key || self.last_sampled_ping.is_some_and(|last| sent <= last) {
            return None;
        }
        let sent_at = self.started + Duration::from_micros(sent);
        if sent_at > now {
            return None;
        }
        self.last_sampled_ping = Some(sent);
        let sample = now - sent_at;
        let smoothed = match self.smoothed_rtt {
            None => sample,
            Some(smoothed) => (smoothed * (RTT_SMOOTHING - 1) + sample) / RTT_SMOOTHING,
        };
        self.smoothed_rtt = Some(smoothed);
        Some(smoothed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(1);
    const TIMEOUT: Duration = Duration::from_secs(3);

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    fn ping(heartbeat: &mut Heartbeat, now: Instant) -> [u8; PING_PAYLOAD_BYTES] {
        match heartbeat.poll(now) {
            Beat::Ping(payload) => payload,
            other => panic!("expected a ping at {now:?}, got {other:?}"),
        }
    }

    #[test]
    fn a_zero_interval_turns_the_heartbeat_off() {
        assert!(Heartbeat::new(Duration::ZERO, TIMEOUT, Instant::now()).is_none());
    }

    #[test]
    fn pings_once_per_interval() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        assert_eq!(heartbeat.next_wakeup(), start + INTERVAL);
        assert_eq!(heartbeat.poll(start + ms(999)), Beat::Wait);
        ping(&mut heartbeat, start + INTERVAL);
        assert_eq!(heartbeat.poll(start + INTERVAL), Beat::Wait);
        heartbeat.heard();
        assert_eq!(heartbeat.next_wakeup(), start + 2 * INTERVAL);
        ping(&mut heartbeat, start + 2 * INTERVAL);
    }

    #[test]
    fn a_stall_gives_one_ping_not_a_burst() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, Duration::ZERO, start).unwrap();
        let late = start + 10 * INTERVAL;
        ping(&mut heartbeat, late);
        assert_eq!(heartbeat.poll(late), Beat::Wait);
    }

    #[test]
    fn silence_after_a_ping_times_out() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        let first_ping = start + INTERVAL;
        ping(&mut heartbeat, first_ping);
        ping(&mut heartbeat, first_ping + INTERVAL);
        // The deadline counts from the first unanswered ping, not the latest.
        assert_eq!(heartbeat.next_wakeup(), first_ping + 2 * INTERVAL);
        ping(&mut heartbeat, first_ping + 2 * INTERVAL);
        assert_eq!(heartbeat.next_wakeup(), first_ping + TIMEOUT);
        assert_eq!(heartbeat.poll(first_ping + TIMEOUT), Beat::TimedOut);
    }

    #[test]
    fn any_data_counts_as_alive() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        ping(&mut heartbeat, start + INTERVAL);
        heartbeat.heard();
        assert!(matches!(
            heartbeat.poll(start + INTERVAL + TIMEOUT),
            Beat::Ping(_)
        ));
    }

    #[test]
    fn a_zero_timeout_never_times_out() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, Duration::ZERO, start).unwrap();
        ping(&mut heartbeat, start + INTERVAL);
        assert!(matches!(
            heartbeat.poll(start + 100 * INTERVAL),
            Beat::Ping(_)
        ));
    }

    #[test]
    fn the_matching_pong_gives_the_round_trip_time() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        let payload = ping(&mut heartbeat, start + INTERVAL);
        assert_eq!(
            heartbeat.pong(&payload, start + INTERVAL + ms(40)),
            Some(ms(40))
        );
        let payload = ping(&mut heartbeat, start + 2 * INTERVAL);
        // RFC 6298: SRTT = 7/8 SRTT + 1/8 R = 35 + 10 ms.
        assert_eq!(
            heartbeat.pong(&payload, start + 2 * INTERVAL + ms(80)),
            Some(ms(45))
        );
    }

    #[test]
    fn a_pong_slower_than_the_interval_still_counts() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        let first = ping(&mut heartbeat, start + INTERVAL);
        ping(&mut heartbeat, start + 2 * INTERVAL);
        assert_eq!(
            heartbeat.pong(&first, start + INTERVAL + ms(1500)),
            Some(ms(1500))
        );
    }

    #[test]
    fn unsolicited_and_repeated_pongs_are_ignored() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        let payload = ping(&mut heartbeat, start + INTERVAL);
        let now = start + INTERVAL + ms(10);
        assert_eq!(heartbeat.pong(b"", now), None);
        assert_eq!(heartbeat.pong(b"hello, this is the server", now), None);
        let mut foreign = payload;
        foreign[0] ^= 1;
        assert_eq!(heartbeat.pong(&foreign, now), None);
        assert_eq!(heartbeat.pong(&payload, now), Some(ms(10)));
        assert_eq!(heartbeat.pong(&payload, now + ms(500)), None);
        assert_eq!(heartbeat.smoothed_rtt, Some(ms(10)));
    }

    #[test]
    fn an_unsolicited_pong_still_counts_as_alive() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(INTERVAL, TIMEOUT, start).unwrap();
        ping(&mut heartbeat, start + INTERVAL);
        heartbeat.pong(b"", start + INTERVAL + ms(10));
        assert!(matches!(
            heartbeat.poll(start + INTERVAL + TIMEOUT),
            Beat::Ping(_)
        ));
    }
}
