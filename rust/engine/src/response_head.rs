//! Gathers the server's upgrade response head before tungstenite parses it.
//!
//! tungstenite parses the response anew after every read and, as a flood check, gives up after
//! 64 reads of under 128 bytes on average. A server that writes its response slowly (say a byte
//! every 10 ms) would fail the handshake for that alone. The transport therefore collects the
//! head here and hands it over whole once the blank line that ends it has arrived (or the limit
//! is reached, which tungstenite then refuses), followed by whatever came with it.

use std::io::{self, Read};

/// Largest upgrade response head the client reads: tungstenite refuses a longer one (its flood
/// check allows 64 KiB), so a server sending endless headers fails the handshake instead of
/// filling memory.
pub(crate) const MAX_RESPONSE_HEAD_BYTES: usize = 64 * 1024;
/// Bytes read from the stream at a time while gathering.
const GATHER_CHUNK_BYTES: usize = 4096;
/// The blank line that ends an HTTP head.
const HEAD_END: &[u8] = b"\r\n\r\n";

/// The upgrade response head gathered so far, then handed out.
#[derive(Default)]
pub(crate) struct ResponseHead {
    bytes: Vec<u8>,
    /// The head is complete (or over the limit, or the stream ended): hand it out.
    gathered: bool,
    /// The stream ended while gathering: report the end once everything is handed out.
    ended: bool,
    handed_out: usize,
}

impl ResponseHead {
    /// Reads for tungstenite through `source`: `WouldBlock` (or another error of `source`)
    /// until the head is gathered, then the gathered bytes. `None` once everything is handed
    /// out: from then on the caller reads `source` directly.
    pub(crate) fn read(
        &mut self,
        source: &mut impl Read,
        buf: &mut [u8],
    ) -> Option<io::Result<usize>> {
        while !self.gathered {
            let searched = self.bytes.len().saturating_sub(HEAD_END.len() - 1);
            let before = self.bytes.len();
            self.bytes.resize(before + GATHER_CHUNK_BYTES, 0);
            let read = source.read(&mut self.bytes[before..]);
            self.bytes.truncate(before + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => {
                    self.gathered = true;
                    self.ended = true;
                }
                Ok(_) => {
                    self.gathered = self.bytes.len() >= MAX_RESPONSE_HEAD_BYTES
                        || self.bytes[searched..]
                            .windows(HEAD_END.len())
                            .any(|window| window == HEAD_END);
                }
                Err(error) => return Some(Err(error)),
            }
        }
        let rest = &self.bytes[self.handed_out..];
        if !rest.is_empty() {
            let count = rest.len().min(buf.len());
            buf[..count].copy_from_slice(&rest[..count]);
            self.handed_out += count;
            return Some(Ok(count));
        }
        self.ended.then_some(Ok(0))
    }
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
    fn a_head_trickled_a_byte_at_a_time_is_handed_out_whole_with_what_followed() {
        let response = b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x02hi";
        let (head, frame) = response.split_at(response.len() - 4);
        let (last, all_but_last) = head.split_last().unwrap();
        let mut source = Pieces(all_but_last.iter().map(|&byte| vec![byte]).collect());
        let mut gate = ResponseHead::default();
        let mut buf = [0u8; 64];
        for _ in all_but_last {
            let pending = gate.read(&mut source, &mut buf).unwrap().unwrap_err();
            assert_eq!(pending.kind(), io::ErrorKind::WouldBlock);
        }
        source.0.push_back(vec![*last]);
        source.0.push_back(frame.to_vec());
        // The last byte of the head completes it; the frame is read later, directly.
        assert_eq!(
            gate.read(&mut source, &mut buf).unwrap().unwrap(),
            head.len()
        );
        assert_eq!(&buf[..head.len()], head);
        assert!(gate.read(&mut source, &mut buf).is_none());
    }

    #[test]
    fn an_endless_head_is_handed_out_at_the_limit_and_an_early_end_after_the_bytes() {
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".to_vec();
        let mut source = Pieces(std::iter::repeat_n(line, 2000).collect());
        let mut gate = ResponseHead::default();
        let mut buf = vec![0u8; 1 << 20];
        let handed_out = gate.read(&mut source, &mut buf).unwrap().unwrap();
        assert!((MAX_RESPONSE_HEAD_BYTES..MAX_RESPONSE_HEAD_BYTES + 100).contains(&handed_out));

        let mut ended = Pieces(VecDeque::from([b"HTTP/1.1 1".to_vec(), Vec::new()]));
        let mut gate = ResponseHead::default();
        assert_eq!(gate.read(&mut ended, &mut buf).unwrap().unwrap(), 10);
        assert_eq!(gate.read(&mut ended, &mut buf).unwrap().unwrap(), 0);
    }
}
