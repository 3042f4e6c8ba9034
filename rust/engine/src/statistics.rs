//! Traffic counters of a connection, kept by the I/O thread and read by the game.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What one connection carried since [`Client::connect`](crate::Client::connect).
///
/// Payload bytes are the bytes of the messages themselves. Wire bytes are the bytes of the
/// WebSocket stream: the HTTP upgrade, then every frame (headers, masks, pings, pongs and close
/// frames included), counted where the stream meets the socket, after any compression and before
/// TLS encryption (TLS adds its own few dozen bytes per record, not counted here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statistics {
    /// Messages handed to the socket.
    pub messages_sent: u64,
    /// Messages received from the server.
    pub messages_received: u64,
    /// Payload bytes of [`Statistics::messages_sent`].
    pub payload_bytes_sent: u64,
    /// Payload bytes of [`Statistics::messages_received`].
    pub payload_bytes_received: u64,
    /// Bytes of the WebSocket stream written to the socket.
    pub wire_bytes_sent: u64,
    /// Bytes of the WebSocket stream read from the socket.
    pub wire_bytes_received: u64,
    /// The smoothed round-trip time of the heartbeat's pings (see
    /// [`Config::heartbeat_interval`](crate::Config::heartbeat_interval)), or `None` before the
    /// first pong.
    pub round_trip_time: Option<Duration>,
    /// What permessage-deflate compressed and inflated.
    pub compression: CompressionTotals,
}

/// Byte totals of the messages permessage-deflate compressed or inflated on one connection.
/// Messages sent or received uncompressed are not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompressionTotals {
    /// Payload bytes of the messages sent compressed, before compression.
    pub sent_uncompressed_bytes: u64,
    /// What those messages' payloads took on the wire.
    pub sent_compressed_bytes: u64,
    /// Compressed payload bytes of the compressed messages received.
    pub received_compressed_bytes: u64,
    /// What those payloads inflated to.
    pub received_uncompressed_bytes: u64,
}

impl Statistics {
    /// Payload bytes per wire byte, both directions together: below 1 without compression
    /// (frame headers and the upgrade cost bytes), above 1 when compression saves more than
    /// that. `None` before any byte went through the socket.
    pub fn compression_ratio(&self) -> Option<f64> {
        let wire = self.wire_bytes_sent + self.wire_bytes_received;
        let payload = self.payload_bytes_sent + self.payload_bytes_received;
        (wire > 0).then(|| payload as f64 / wire as f64)
    }
}

/// [`Statistics`] as the I/O thread publishes them: each counter is exact, but a reader may see
/// one counter a turn of the I/O loop ahead of another.
#[derive(Default)]
pub(crate) struct SharedStatistics {
    messages_sent: AtomicU64,
    messages_received: AtomicU64,
    payload_bytes_sent: AtomicU64,
    payload_bytes_received: AtomicU64,
    wire_bytes_sent: AtomicU64,
    wire_bytes_received: AtomicU64,
    /// Microseconds; 0 before the first sample.
    round_trip_micros: AtomicU64,
    sent_uncompressed_bytes: AtomicU64,
    sent_compressed_bytes: AtomicU64,
    received_compressed_bytes: AtomicU64,
    received_uncompressed_bytes: AtomicU64,
}

impl SharedStatistics {
    /// Called by the I/O thread.
    pub(crate) fn publish(&self, statistics: &Statistics) {
        let store = |counter: &AtomicU64, value| counter.store(value, Ordering::Relaxed);
        store(&self.messages_sent, statistics.messages_sent);
        store(&self.messages_received, statistics.messages_received);
        store(&self.payload_bytes_sent, statistics.payload_bytes_sent);
        store(
            &self.payload_bytes_received,
            statistics.payload_bytes_received,
        );
        store(&self.wire_bytes_sent, statistics.wire_bytes_sent);
        store(&self.wire_bytes_received, statistics.wire_bytes_received);
        // A round trip under 1 µs still counts as measured.
        let micros = statistics
            .round_trip_time
            .map_or(0, |rtt| (rtt.as_micros() as u64).max(1));
        store(&self.round_trip_micros, micros);
        let compression = &statistics.compression;
        store(
            &self.sent_uncompressed_bytes,
            compression.sent_uncompressed_bytes,
        );
        store(
            &self.sent_compressed_bytes,
            compression.sent_compressed_bytes,
        );
        store(
            &self.received_compressed_bytes,
            compression.received_compressed_bytes,
        );
        store(
            &self.received_uncompressed_bytes,
            compression.received_uncompressed_bytes,
        );
    }

    /// Called by the game.
    pub(crate) fn snapshot(&self) -> Statistics {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let micros = load(&self.round_trip_micros);
        Statistics {
            messages_sent: load(&self.messages_sent),
            messages_received: load(&self.messages_received),
            payload_bytes_sent: load(&self.payload_bytes_sent),
            payload_bytes_received: load(&self.payload_bytes_received),
            wire_bytes_sent: load(&self.wire_bytes_sent),
            wire_bytes_received: load(&self.wire_bytes_received),
            round_trip_time: (micros > 0).then(|| Duration::from_micros(micros)),
            compression: CompressionTotals {
                sent_uncompressed_bytes: load(&self.sent_uncompressed_bytes),
                sent_compressed_bytes: load(&self.sent_compressed_bytes),
                received_compressed_bytes: load(&self.received_compressed_bytes),
                received_uncompressed_bytes: load(&self.received_uncompressed_bytes),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_returns_what_was_published() {
        let published = Statistics {
            messages_sent: 1,
            messages_received: 2,
            payload_bytes_sent: 3,
            payload_bytes_received: 4,
            wire_bytes_sent: 5,
            wire_bytes_received: 6,
            round_trip_time: Some(Duration::from_micros(1500)),
            compression: CompressionTotals {
                sent_uncompressed_bytes: 7,
                sent_compressed_bytes: 8,
                received_compressed_bytes: 9,
                received_uncompressed_bytes: 10,
            },
        };
        let shared = SharedStatistics::default();
        assert_eq!(shared.snapshot(), Statistics::default());
        shared.publish(&published);
        assert_eq!(shared.snapshot(), published);
    }

    #[test]
    fn the_compression_ratio_is_payload_per_wire_byte() {
        let statistics = Statistics {
            payload_bytes_sent: 300,
            payload_bytes_received: 100,
            wire_bytes_sent: 150,
            wire_bytes_received: 50,
            ..Statistics::default()
        };
        assert_eq!(statistics.compression_ratio(), Some(2.0));
        assert_eq!(Statistics::default().compression_ratio(), None);
    }
}
