//! The upgrade reader: every connection reads the server's upgrade response through it, whole,
//! before tungstenite parses it, then what came after the response.
//!
//! tungstenite parses the response anew after every read and, as a flood check, gives up after
//! 64 reads of under 128 bytes on average. A server that writes its response slowly (say a byte
//! every 10 ms) would fail the handshake for that alone. The transport therefore collects the
//! head here and hands it over whole once the blank line that ends it has arrived (or the limit
//! is passed, which tungstenite then refuses). After a `101 Switching Protocols` head, whatever
//! came with it is kept for the open connection ([`UpgradeReader::take_rest`]), so
//! permessage-deflate can still inflate frames that arrived in the same read as the response;
//! after a refusal it goes on to tungstenite, which keeps the start of the body.

use std::io::{self, Read};

/// Largest upgrade response head the client reads: tungstenite refuses a longer one (its flood
/// check allows 64 KiB), so a server sending endless headers fails the handshake instead of
/// filling memory.
pub(crate) const MAX_RESPONSE_HEAD_BYTES: usize = 64 * 1024;
/// Bytes read from the stream at a time while gathering.
const GATHER_CHUNK_BYTES: usize = 4096;
/// The blank line that ends an HTTP head.
const HEAD_END: &[u8] = b"\r\n\r\n";

/// How the bytes read from the socket reach tungstenite, from the upgrade on.
pub(crate) enum UpgradeReader {
    /// The upgrade is in flight: its response head is gathered.
    GatheringHead(ResponseHead),
    /// Bytes that came after the upgrade response go first, then [`UpgradeReader::Through`].
    Replaying { bytes: Vec<u8>, start: usize },
    /// As they come.
    Through,
}

impl Default for UpgradeReader {
    fn default() -> Self {
        UpgradeReader::GatheringHead(ResponseHead::default())
    }
}

impl UpgradeReader {
    /// Reads for tungstenite through `stream`.
    pub(crate) fn read(&mut self, stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            UpgradeReader::Through => stream.read(buf),
            UpgradeReader::GatheringHead(head) => head.read(stream, buf),
            UpgradeReader::Replaying { bytes, start } => {
                let count = (bytes.len() - *start).min(buf.len());
                buf[..count].copy_from_slice(&bytes[*start..*start + count]);
                *start += count;
                if *start == bytes.len() {
                    *self = UpgradeReader::Through;
                }
                Ok(count)
            }
        }
    }

    /// The connection opened: takes what was read after the upgrade response's head (frames
    /// that arrived with it); reads go through from now on.
    pub(crate) fn take_rest(&mut self) -> Vec<u8> {
        match std::mem::replace(self, UpgradeReader::Through) {
            UpgradeReader::GatheringHead(head) => head.into_rest(),
            other => {
                *self = other;
                Vec::new()
            }
        }
    }

    /// Hands `rest` (see [`UpgradeReader::take_rest`]) to tungstenite before the stream.
    pub(crate) fn replay(&mut self, rest: Vec<u8>) {
        if !rest.is_empty() {
            *self = UpgradeReader::Replaying {
                bytes: rest,
                start: 0,
            };
        }
    }
}

/// The upgrade response head gathered so far, then handed out.
#[derive(Default)]
pub(crate) struct ResponseHead {
    /// Bytes read from the stream; `read[delivered..]` are not handed out yet.
    read: Vec<u8>,
    delivered: usize,
    /// How far `read` is handed out: the end of the head once it is complete, everything once
    /// the limit is passed or the stream ended. `None` while gathering.
    handover_end: Option<usize>,
    /// The stream ended: report the end once everything is handed out.
    ended: bool,
    /// The server refused the upgrade: after the head, the body is read through.
    refused: bool,
}

impl ResponseHead {
    /// Reads for tungstenite through `source`: `WouldBlock` (or another error of `source`)
    /// until the head is gathered, then the head, then `WouldBlock` until the connection opens
    /// (or the end of the stream, if it ended); after a refusal's head, its body.
    pub(crate) fn read(&mut self, source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(end) = self.handover_end {
                if self.delivered == end {
                    return match (self.ended, self.refused) {
                        (true, _) => Ok(0),
                        (false, true) => source.read(buf),
                        (false, false) => Err(io::ErrorKind::WouldBlock.into()),
                    };
                }
                let count = (end - self.delivered).min(buf.len());
                buf[..count].copy_from_slice(&self.read[self.delivered..self.delivered + count]);
                self.delivered += count;
                return Ok(count);
            }
            let searched = self.read.len().saturating_sub(HEAD_END.len() - 1);
            let before = self.read.len();
            self.read.resize(before + GATHER_CHUNK_BYTES, 0);
            let result = source.read(&mut self.read[before..]);
            self.read.truncate(before + *result.as_ref().unwrap_or(&0));
            if result? == 0 {
                self.ended = true;
                self.handover_end = Some(self.read.len());
            } else if let Some(position) = self.read[searched..]
                .windows(HEAD_END.len())
                .position(|window| window == HEAD_END)
            {
                self.refused = !is_switching_protocols(&self.read);
                self.handover_end = Some(match self.refused {
                    true => self.read.len(),
                    false => searched + position + HEAD_END.len(),
                });
            } else if self.read.len() > MAX_RESPONSE_HEAD_BYTES {
                self.handover_end = Some(self.read.len());
            }
        }
    }

    /// What was read after the part handed out (frames that came with the response).
    pub(crate) fn into_rest(mut self) -> Vec<u8> {
        self.read.split_off(self.delivered)
    }
}

/// Whether an HTTP response head has the status 101 (the upgrade is accepted).
fn is_switching_protocols(head: &[u8]) -> bool {
    head.split(|&byte| byte == b' ').nth(1) == Some(b"101")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A non-blocking source that has `pieces` ready, one per read, then would block.
    struct Pieces(VecDeque<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(piece) = self.0.pop_front() else {
                return Err(io::ErrorKind::WouldBlock.into());
            };
            buf[..piece.len()].copy_from_slice(&piece);
            Ok(piece.len())
        }
    }

    #[test]
    fn a_head_trickled_a_byte_at_a_time_is_handed_out_whole_and_what_followed_is_kept() {
        let response = b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x02hi";
        let (head, frame) = response.split_at(response.len() - 4);
        let (last, all_but_last) = head.split_last().unwrap();
        let mut source = Pieces(all_but_last.iter().map(|&byte| vec![byte]).collect());
        let mut gate = ResponseHead::default();
        let mut buf = [0u8; 64];
        for _ in all_but_last {
            let pending = gate.read(&mut source, &mut buf).unwrap_err();
            assert_eq!(pending.kind(), io::ErrorKind::WouldBlock);
        }
        source.0.push_back([&[*last][..], frame].concat());
        assert_eq!(gate.read(&mut source, &mut buf).unwrap(), head.len());
        assert_eq!(&buf[..head.len()], head);
        let waiting = gate.read(&mut source, &mut buf).unwrap_err();
        assert_eq!(waiting.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(gate.into_rest(), frame);
    }

    #[test]
    fn an_endless_head_is_handed_out_past_the_limit_and_an_early_end_after_the_bytes() {
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".to_vec();
        let mut source = Pieces(std::iter::repeat_n(line, 2000).collect());
        let mut gate = ResponseHead::default();
        let mut buf = vec![0u8; 1 << 20];
        let handed_out = gate.read(&mut source, &mut buf).unwrap();
        assert!((MAX_RESPONSE_HEAD_BYTES..MAX_RESPONSE_HEAD_BYTES + 100).contains(&handed_out));

        let mut refused = ResponseHead::default();
        let mut source: &[u8] = b"HTTP/1.1 401 Unauthorized\r\n\r\nbody";
        assert_eq!(refused.read(&mut source, &mut buf).unwrap(), 33);
        assert_eq!(&buf[29..33], b"body");

        let mut ended = ResponseHead::default();
        let mut source: &[u8] = b"HTTP/1.1 101";
        assert_eq!(ended.read(&mut source, &mut buf).unwrap(), 12);
        assert_eq!(ended.read(&mut source, &mut buf).unwrap(), 0);
    }
}
