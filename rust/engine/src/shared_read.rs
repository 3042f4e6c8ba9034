//! One large read buffer for the I/O thread, shared by every connection it serves.
//!
//! The I/O thread reads its connections one after another, so a single buffer can take in
//! whatever a socket holds, in one system call, for any of them. tungstenite's own read buffer
//! of a connection then stays small: it is filled from here, a little at a time, with no system
//! call. A connection keeps bytes of its own only when another connection needs the buffer while
//! some of its bytes are still unread (when reading paused at the inbound limit, say): exactly
//! those bytes are parked for it, and handed back before anything else.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Bytes;

/// Bytes one read system call may take in: large reads carry large messages about twice as
/// fast as 16 KiB ones (`cargo xtask bench`), and this buffer exists once per I/O thread.
pub(crate) const SHARED_READ_BYTES: usize = 256 * 1024;

/// tungstenite's read buffer, which every connection has: filled from the shared buffer with no
/// system call, it can be small. A frame larger than this is held in a buffer of its own size
/// while it arrives (see [`FrameBoundaries`]).
pub(crate) const FRAME_READ_BUFFER_BYTES: usize = 4 * 1024;

/// The next reader's id; 0 means "nobody".
static NEXT_READER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static SHARED: RefCell<SharedBuffer> = RefCell::new(SharedBuffer::default());
}

/// The thread's buffer and the bytes parked for readers that have not taken them yet.
#[derive(Default)]
struct SharedBuffer {
    /// Allocated at the first read on the thread.
    bytes: Vec<u8>,
    /// The reader `bytes[start..end]` belong to (0: none).
    owner: u64,
    start: usize,
    end: usize,
    /// Unread bytes of readers that lost the buffer to another reader, by reader id.
    parked: HashMap<u64, Parked>,
}

/// Bytes read for a reader that it has not taken yet: `bytes[start..]`.
struct Parked {
    bytes: Vec<u8>,
    start: usize,
}

/// One connection's reads through the thread's shared buffer.
pub(crate) struct SharedReader {
    id: u64,
}

impl Default for SharedReader {
    fn default() -> Self {
        Self {
            id: NEXT_READER.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl SharedReader {
    /// Fills `buf` with this reader's next bytes from `source`: parked ones first, then what is
    /// left of the last read into the shared buffer, then a new read of `source` into it.
    pub(crate) fn read(&mut self, source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        SHARED.with(|shared| shared.borrow_mut().read_for(self.id, source, buf))
    }
}

impl Drop for SharedReader {
    fn drop(&mut self) {
        // The thread may be ending (its buffer already gone), or the reader dropped on another
        // thread: then there is nothing of it to let go of here.
        let _ = SHARED.try_with(|shared| {
            if let Ok(mut shared) = shared.try_borrow_mut() {
                shared.parked.remove(&self.id);
                if shared.owner == self.id {
                    shared.owner = 0;
                    shared.start = 0;
                    shared.end = 0;
                }
            }
        });
    }
}

impl SharedBuffer {
    fn read_for(&mut self, id: u64, source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Usually nothing is parked: no lookup then.
        let parked = match self.parked.is_empty() {
            true => None,
            false => self.parked.get_mut(&id),
        };
        if let Some(parked) = parked {
            let count = copy_into(buf, &parked.bytes[parked.start..]);
            parked.start += count;
            if parked.start == parked.bytes.len() {
                self.parked.remove(&id);
            }
            return Ok(count);
        }
        if self.owner == id && self.start < self.end {
            let count = copy_into(buf, &self.bytes[self.start..self.end]);
            self.start += count;
            return Ok(count);
        }
        if self.owner != 0 && self.owner != id && self.start < self.end {
            let bytes = self.bytes[self.start..self.end].to_vec();
            self.parked.insert(self.owner, Parked { bytes, start: 0 });
        }
        self.owner = 0;
        self.start = 0;
        self.end = 0;
        if buf.len() >= SHARED_READ_BYTES {
            return source.read(buf);
        }
        if self.bytes.is_empty() {
            self.bytes = vec![0; SHARED_READ_BYTES];
        }
        let read = source.read(&mut self.bytes)?;
        let count = copy_into(buf, &self.bytes[..read]);
        self.owner = id;
        self.start = count;
        self.end = read;
        Ok(count)
    }
}

/// Follows the frames tungstenite reads, and reads large messages past it.
///
/// A large unfragmented data message (over [`FRAME_READ_BUFFER_BYTES`], within the size limit)
/// is read straight into a buffer of exactly its size, in reads as large as the rest of it, and
/// becomes the message's payload as it is; tungstenite gets the same frame with an empty payload
/// and the connection puts the payload back ([`FrameBoundaries::take_large_payload`]). tungstenite
/// would hold the frame in its read buffer, filled a little at a time, and keep that buffer, grown
/// to the frame's size, for the connection. Frames it still reads whole (fragments, or a frame
/// whose header came in two reads) reach it with their header alone, so it reserves exactly the
/// frame's size, and a new small buffer once the connection lets go of the message.
pub(crate) struct FrameBoundaries {
    /// The header being read.
    header: [u8; MAX_HEADER_BYTES],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    /// Bytes read ahead of a frame's header, handed out before anything else:
    /// `held_back[held_back_start..]`.
    held_back: Vec<u8>,
    held_back_start: usize,
    /// The large message being read, and how much of it arrived.
    collecting: Option<(Vec<u8>, usize, u8)>,
    /// The payload of the large message whose emptied frame was handed to tungstenite.
    collected: Option<Bytes>,
    max_message_size: usize,
    /// The status code of the close frame coming in: its bytes so far (a server's frame is
    /// unmasked), while `close_code_len < 2`.
    close_code_bytes: [u8; 2],
    close_code_len: usize,
    /// The status code of the last close frame that came in, as the server sent it.
    close_code: Option<u16>,
}

/// The longest frame header: 2 bytes, an 8-byte length and a 4-byte mask.
const MAX_HEADER_BYTES: usize = 14;

/// What [`FrameBoundaries::follow`] found in the bytes it followed.
enum Followed {
    /// Hand out this many bytes now.
    Hand(usize),
    /// A large message to read past tungstenite: hand out the bytes before its header
    /// (`header_start`); its payload starts at `payload_start`.
    Collect {
        header_start: usize,
        payload_start: usize,
        first_byte: u8,
        payload_len: usize,
    },
}

impl FrameBoundaries {
    /// `max_message_size` is the connection's limit: larger messages are tungstenite's to refuse.
    pub(crate) fn new(max_message_size: usize) -> Self {
        Self {
            header: [0; MAX_HEADER_BYTES],
            header_len: 0,
            payload_left: 0,
            held_back: Vec::new(),
            held_back_start: 0,
            collecting: None,
            collected: None,
            max_message_size,
            close_code_bytes: [0; 2],
            close_code_len: 2,
            close_code: None,
        }
    }

    /// The status code of the last close frame the server sent, as it sent it: tungstenite
    /// replaces a code RFC 6455 does not allow (999, say) with 1002 before returning the frame.
    pub(crate) fn received_close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// The payload of the message tungstenite just returned, if it was read past it (tungstenite
    /// returned it empty).
    pub(crate) fn take_large_payload(&mut self) -> Option<Bytes> {
        self.collected.take()
    }

    /// Fills `buf` from `source` for tungstenite.
    pub(crate) fn read(&mut self, source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.collecting.is_some() {
                self.collect(source)?;
                if self.collecting.is_some() {
                    // The source ended inside the message.
                    return Ok(0);
                }
                continue;
            }
            let from_held_back = self.held_back_start < self.held_back.len();
            let count = if from_held_back {
                copy_into(buf, &self.held_back[self.held_back_start..])
            } else {
                source.read(buf)?
            };
            let (handed, consumed) = match self.follow(&buf[..count]) {
                Followed::Hand(handed) => (handed, handed),
                Followed::Collect {
                    header_start,
                    payload_start,
                    first_byte,
                    payload_len,
                } => {
                    // Zeroed so it can be read into: `calloc` skips that only for fresh pages.
                    // It is about 7% of the I/O thread's time in 1 MB echoes; zeroing a chunk at
                    // a time just before each read measured no faster.
                    self.collecting = Some((vec![0; payload_len], 0, first_byte));
                    (header_start, payload_start)
                }
            };
            if from_held_back {
                self.held_back_start += consumed;
            } else if consumed < count {
                self.held_back = buf[consumed..count].to_vec();
                self.held_back_start = 0;
            }
            if self.held_back_start == self.held_back.len() {
                self.held_back = Vec::new();
                self.held_back_start = 0;
            }
            if handed > 0 || self.collecting.is_none() {
                return Ok(handed);
            }
        }
    }

    /// Reads the large message being collected until it is complete (then its emptied frame is
    /// next for tungstenite) or `source` has nothing more for now (`WouldBlock`) or ended.
    fn collect(&mut self, source: &mut impl Read) -> io::Result<()> {
        let Some((payload, filled, first_byte)) = &mut self.collecting else {
            return Ok(());
        };
        while *filled < payload.len() {
            let read = if self.held_back_start < self.held_back.len() {
                let count = copy_into(
                    &mut payload[*filled..],
                    &self.held_back[self.held_back_start..],
                );
                self.held_back_start += count;
                count
            } else {
                source.read(&mut payload[*filled..])?
            };
            if read == 0 {
                return Ok(());
            }
            *filled += read;
        }
        let header = [*first_byte, 0];
        let rest = &self.held_back[self.held_back_start.min(self.held_back.len())..];
        self.held_back = header.iter().chain(rest).copied().collect();
        self.held_back_start = 0;
        if let Some((payload, _, _)) = self.collecting.take() {
            self.collected = Some(Bytes::from(payload));
        }
        Ok(())
    }

    /// Follows `bytes` through the frames: says how many of them to hand out now (all, or up to
    /// the end of a large frame's header), or that a large message is to be read past
    /// tungstenite.
    fn follow(&mut self, bytes: &[u8]) -> Followed {
        let mut at = 0;
        while at < bytes.len() {
            if self.payload_left > 0 {
                let skipped = self.payload_left.min((bytes.len() - at) as u64);
                if self.close_code_len < 2 {
                    let count = copy_into(
                        &mut self.close_code_bytes[self.close_code_len..],
                        &bytes[at..at + skipped as usize],
                    );
                    self.close_code_len += count;
                    if self.close_code_len == 2 {
                        self.close_code = Some(u16::from_be_bytes(self.close_code_bytes));
                    }
                }
                self.payload_left -= skipped;
                at += skipped as usize;
                continue;
            }
            // Where the header started in `bytes`, if it did not start in an earlier read.
            let header_start = at.checked_sub(self.header_len);
            self.header[self.header_len] = bytes[at];
            self.header_len += 1;
            at += 1;
            let Some(payload) = header_payload_len(&self.header[..self.header_len]) else {
                continue;
            };
            let first_byte = self.header[0];
            self.header_len = 0;
            self.payload_left = payload;
            // A close frame, unmasked: follow its first two payload bytes, the status code.
            let close_frame = first_byte & 0x0f == 0x8 && self.header[1] & 0x80 == 0;
            self.close_code_len = if close_frame && payload >= 2 { 0 } else { 2 };
            if payload <= FRAME_READ_BUFFER_BYTES as u64 {
                continue;
            }
            // FIN, no RSV bit, text or binary, unmasked (the mask bit is in the second byte,
            // which a large frame's header holds with its length code).
            let whole_message = first_byte == 0x81 || first_byte == 0x82;
            let unmasked = self.header[1] & 0x80 == 0;
            match (header_start, usize::try_from(payload)) {
                (Some(header_start), Ok(payload_len))
                    if whole_message
                        && unmasked
                        && payload_len <= self.max_message_size
                        && self.collected.is_none() =>
                {
                    self.payload_left = 0;
                    return Followed::Collect {
                        header_start,
                        payload_start: at,
                        first_byte,
                        payload_len,
                    };
                }
                _ => return Followed::Hand(at),
            }
        }
        Followed::Hand(at)
    }
}

/// The payload length of the frame header `header`, once `header` is all of it.
fn header_payload_len(header: &[u8]) -> Option<u64> {
    let second = *header.get(1)?;
    let mask_bytes = if second & 0x80 != 0 { 4 } else { 0 };
    let (length_bytes, short) = match second & 0x7f {
        126 => (2, None),
        127 => (8, None),
        short => (0, Some(u64::from(short))),
    };
    if header.len() < 2 + length_bytes + mask_bytes {
        return None;
    }
    Some(short.unwrap_or_else(|| {
        header[2..2 + length_bytes]
            .iter()
            .fold(0, |length, &byte| length << 8 | u64::from(byte))
    }))
}

/// Copies as much of `from` as fits into `to`; returns how much.
fn copy_into(to: &mut [u8], from: &[u8]) -> usize {
    let count = to.len().min(from.len());
    to[..count].copy_from_slice(&from[..count]);
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out its bytes in the chunks given (or less, as `buf` takes), then
    /// `WouldBlock`.
    struct Chunks(Vec<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let count = copy_into(buf, &self.0[0]);
            self.0[0].drain(..count);
            if self.0[0].is_empty() {
                self.0.remove(0);
            }
            Ok(count)
        }
    }

    fn read_all(reader: &mut SharedReader, source: &mut Chunks, step: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0; step];
        while let Ok(count) = reader.read(source, &mut buf) {
            out.extend_from_slice(&buf[..count]);
        }
        out
    }

    #[test]
    fn the_close_code_is_seen_as_the_server_sent_it_even_split_across_reads() {
        // A text frame, then a close frame with code 999 and reason "x".
        let stream = [0x81, 1, b'a', 0x88, 3, 0x03, 0xe7, b'x'];
        for split in 1..stream.len() {
            let mut boundaries = FrameBoundaries::new(1 << 20);
            let mut source = Chunks(vec![stream[..split].to_vec(), stream[split..].to_vec()]);
            let mut buf = [0; 16];
            while boundaries.read(&mut source, &mut buf).is_ok() {}
            assert_eq!(
                boundaries.received_close_code(),
                Some(999),
                "split at {split}"
            );
        }
    }

    #[test]
    fn a_reader_gets_its_bytes_in_order_even_when_another_reader_took_the_buffer() {
        let mut first = SharedReader::default();
        let mut second = SharedReader::default();
        let mut first_source = Chunks(vec![(0..100).collect(), (100..200).collect()]);
        let mut second_source = Chunks(vec![vec![7; 50]]);
        let mut buf = [0; 30];
        assert_eq!(first.read(&mut first_source, &mut buf).unwrap(), 30);
        assert_eq!(buf[..], (0..30).collect::<Vec<u8>>()[..]);
        // The second reader takes the buffer: the first one's 70 unread bytes are parked.
        assert_eq!(read_all(&mut second, &mut second_source, 30), vec![7; 50]);
        assert_eq!(
            read_all(&mut first, &mut first_source, 30),
            (30..200).collect::<Vec<u8>>()
        );
    }

    #[test]
    fn a_large_message_is_read_past_tungstenite_and_its_frame_emptied() {
        let large = FRAME_READ_BUFFER_BYTES + 1;
        let mut stream = vec![0x81, 2, b'h', b'i', 0x82, 126];
        stream.extend_from_slice(&(large as u16).to_be_bytes());
        stream.extend(std::iter::repeat_n(9, large));
        stream.extend_from_slice(&[0x81, 1, b'!']);
        let mut boundaries = FrameBoundaries::new(large);
        // The message arrives in pieces.
        let pieces = stream.chunks(1000).map(<[u8]>::to_vec).collect();
        let mut source = Chunks(pieces);
        let mut buf = vec![0; 100];
        let mut handed = Vec::new();
        while let Ok(count) = boundaries.read(&mut source, &mut buf) {
            handed.extend_from_slice(&buf[..count]);
        }
        assert_eq!(handed, [0x81, 2, b'h', b'i', 0x82, 0, 0x81, 1, b'!']);
        assert_eq!(
            boundaries.take_large_payload(),
            Some(Bytes::from(vec![9; large]))
        );
    }

    #[test]
    fn a_large_fragment_reaches_tungstenite_with_its_header_alone() {
        let large = FRAME_READ_BUFFER_BYTES + 1;
        let mut stream = vec![0x02, 126];
        stream.extend_from_slice(&(large as u16).to_be_bytes());
        stream.extend(std::iter::repeat_n(9, large));
        let mut boundaries = FrameBoundaries::new(large);
        let mut source = Chunks(vec![stream.clone()]);
        let mut buf = vec![0; stream.len()];
        assert_eq!(boundaries.read(&mut source, &mut buf).unwrap(), 4);
        let mut rest = Vec::new();
        while let Ok(count) = boundaries.read(&mut source, &mut buf) {
            rest.extend_from_slice(&buf[..count]);
        }
        assert_eq!(rest, stream[4..]);
        assert_eq!(boundaries.take_large_payload(), None);
    }

    #[test]
    fn a_dropped_reader_leaves_nothing_behind() {
        let mut reader = SharedReader::default();
        let mut other = SharedReader::default();
        let mut buf = [0; 10];
        reader
            .read(&mut Chunks(vec![vec![1; 100]]), &mut buf)
            .unwrap();
        other
            .read(&mut Chunks(vec![vec![2; 100]]), &mut buf)
            .unwrap();
        drop(reader);
        drop(other);
        SHARED.with(|shared| {
            let shared = shared.borrow();
            assert!(shared.parked.is_empty());
            assert_eq!(shared.owner, 0);
        });
    }
}
