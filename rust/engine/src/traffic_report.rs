//! What a game reports about its connections to a debugger (Godot's editor): capped previews of
//! messages, and a budget that keeps a flood of messages from flooding the debugger too.
//!
//! No clock of its own: the caller hands in `now`, the time since any fixed start.

use std::time::Duration;

use crate::Message;

/// Bytes of a message's payload shown in its preview; a text preview ends at the last whole
/// character within them. Enough for a line of chat or a JSON command's head, small enough that
/// a report costs about the same whatever the message's size.
pub const PREVIEW_BYTES: usize = 64;

/// Messages reported per second, all connections of the process together, once the burst is
/// spent. Godot's debugger queues at most 2,048 messages (its
/// `network/limits/debugger/max_queued_messages`) and drops the rest with an error, and the
/// editor's log must stay readable.
pub const REPORTED_MESSAGES_PER_SECOND: u32 = 200;

/// Messages reported at once before [`REPORTED_MESSAGES_PER_SECOND`] applies.
pub const REPORTED_MESSAGES_BURST: u32 = 400;

/// How often a connection's traffic counters are reported at most while they change.
pub const STATISTICS_REPORT_PERIOD: Duration = Duration::from_millis(250);

/// The first bytes of `message` for its preview, at most [`PREVIEW_BYTES`], whole characters
/// for text; and whether that is less than the whole payload.
pub fn preview(message: &Message) -> (&[u8], bool) {
    let bytes = message.as_bytes();
    if bytes.len() <= PREVIEW_BYTES {
        return (bytes, false);
    }
    let mut end = PREVIEW_BYTES;
    if let Message::Text(text) = message {
        while !text.as_str().is_char_boundary(end) {
            end -= 1;
        }
    }
    (&bytes[..end], true)
}

/// A token bucket of message reports: [`REPORTED_MESSAGES_BURST`] at once, then
/// [`REPORTED_MESSAGES_PER_SECOND`].
#[derive(Debug)]
pub struct ReportBudget {
    /// Reports allowed now, in millionths of a report (so refills lose nothing to rounding).
    micro_tokens: u64,
    refilled_at: Duration,
}

impl Default for ReportBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl ReportBudget {
    const MICRO: u64 = 1_000_000;

    /// A full budget.
    pub const fn new() -> Self {
        Self {
            micro_tokens: REPORTED_MESSAGES_BURST as u64 * Self::MICRO,
            refilled_at: Duration::ZERO,
        }
    }

    /// Whether one more message may be reported at `now`; if so, it is counted.
    pub fn admit(&mut self, now: Duration) -> bool {
        let elapsed = now.saturating_sub(self.refilled_at);
        self.refilled_at = self.refilled_at.max(now);
        let refill = elapsed.as_micros() as u64 * u64::from(REPORTED_MESSAGES_PER_SECOND);
        self.micro_tokens = self
            .micro_tokens
            .saturating_add(refill)
            .min(u64::from(REPORTED_MESSAGES_BURST) * Self::MICRO);
        if self.micro_tokens < Self::MICRO {
            return false;
        }
        self.micro_tokens -= Self::MICRO;
        true
    }
}

/// Lets something happen at most once per `period`.
#[derive(Debug, Default)]
pub struct Pacer {
    next: Option<Duration>,
}

impl Pacer {
    /// Whether it may happen at `now`; if so, the next time is a `period` later.
    pub fn ready(&mut self, now: Duration, period: Duration) -> bool {
        if self.next.is_some_and(|next| now < next) {
            return false;
        }
        self.next = Some(now + period);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_message_is_previewed_whole() {
        assert_eq!(preview(&Message::from("hello")), (&b"hello"[..], false));
        assert_eq!(
            preview(&Message::from(vec![1, 2, 3])),
            (&[1, 2, 3][..], false)
        );
    }

    #[test]
    fn a_long_binary_message_is_cut_at_the_preview_size() {
        let message = Message::from(vec![7; 1000]);
        let (bytes, cut) = preview(&message);
        assert_eq!(bytes.len(), PREVIEW_BYTES);
        assert!(cut);
    }

    #[test]
    fn a_long_text_is_cut_at_a_character_boundary() {
        // 'é' is two bytes: the 64th byte would split one.
        let text = format!("a{}", "é".repeat(100));
        let message = Message::from(text.as_str());
        let (bytes, cut) = preview(&message);
        assert!(cut);
        assert_eq!(bytes.len(), PREVIEW_BYTES - 1);
        assert!(std::str::from_utf8(bytes).is_ok());
    }

    #[test]
    fn the_budget_allows_a_burst_then_the_rate() {
        let mut budget = ReportBudget::new();
        let start = Duration::from_secs(5);
        let burst = (0..10_000).take_while(|_| budget.admit(start)).count();
        assert_eq!(burst, REPORTED_MESSAGES_BURST as usize);
        assert!(!budget.admit(start));
        let later = start + Duration::from_millis(100);
        let refilled = (0..10_000).take_while(|_| budget.admit(later)).count();
        assert_eq!(refilled, REPORTED_MESSAGES_PER_SECOND as usize / 10);
        // An idle minute refills no more than the burst.
        let much_later = later + Duration::from_secs(60);
        let refilled = (0..10_000).take_while(|_| budget.admit(much_later)).count();
        assert_eq!(refilled, REPORTED_MESSAGES_BURST as usize);
    }

    #[test]
    fn the_pacer_lets_one_through_per_period() {
        let mut pacer = Pacer::default();
        let period = Duration::from_millis(250);
        assert!(pacer.ready(Duration::from_secs(1), period));
        assert!(!pacer.ready(Duration::from_millis(1100), period));
        assert!(pacer.ready(Duration::from_millis(1250), period));
    }
}
