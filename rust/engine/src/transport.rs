//! The byte stream under the WebSocket: plain TCP or TLS over TCP, both non-blocking, read
//! through the upgrade reader and permessage-deflate, and the data frames the connection writes
//! on it itself.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};

use mio::net::TcpStream;
use rustls::{ClientConnection, StreamOwned};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use crate::config::TlsConfig;
use crate::deflate::{Deflate, Parameters};
use crate::response_head::UpgradeReader;
use crate::shared_read::{FrameBoundaries, SharedReader};
use crate::statistics::CompressionTotals;
use crate::tls::{client_connection, HandshakeWitness, TlsInfo};
use crate::{Bytes, Error, Message};

/// Payloads from this size on are masked where they are and written from there; smaller frames
/// are copied together so a burst of them goes out in one system call.
const LARGE_PAYLOAD_BYTES: usize = 16 * 1024;
/// Chunks handed to one vectored write.
const CHUNKS_PER_WRITE: usize = 64;

/// A connected, non-blocking stream, plus data frames queued on it.
///
/// Data messages do not go through tungstenite's write buffer, which would copy each payload
/// once more and shift what is left of it after every partial write (quadratic for messages
/// larger than the socket's buffer). The connection encodes them here instead
/// ([`Transport::queue_message`]), masking large payloads in place, and they are written with
/// vectored writes. Everything tungstenite itself writes (pongs, the close frame) goes through
/// [`Write`], which first finishes the queued frames, so frames never interleave; the connection
/// queues new frames only once tungstenite's buffer is empty.
pub(crate) struct Transport {
    stream: Stream,
    /// Encoded frames not yet written, in order.
    frames: VecDeque<Bytes>,
    /// Small frames being gathered into the next chunk of `frames`.
    gathered: Vec<u8>,
    /// Gathers the upgrade response whole, then hands on what came after it.
    upgrade: UpgradeReader,
    /// permessage-deflate, once negotiated: inflates what is read, compresses what is queued.
    deflate: Option<Box<Deflate>>,
    /// Reads the stream through the I/O thread's shared buffer.
    reader: SharedReader,
    /// Follows the frames handed to tungstenite once the connection is open.
    boundaries: Option<FrameBoundaries>,
    /// Bytes read from and written to the stream so far (before TLS), for the statistics.
    wire_bytes_received: u64,
    wire_bytes_sent: u64,
    /// Bytes of the queued frames (`frames` and `gathered`) not yet written.
    unwritten: usize,
}

/// The socket: plain TCP, or TLS over it. Read and written through [`Stream::with`].
enum Stream {
    Plain(TcpStream),
    /// With what the server asks during the handshake.
    Tls(
        Box<StreamOwned<ClientConnection, TcpStream>>,
        HandshakeWitness,
    ),
}

impl Transport {
    /// Plain TCP.
    pub(crate) fn plain(tcp: TcpStream) -> Self {
        Self::over(Stream::Plain(tcp))
    }

    fn over(stream: Stream) -> Self {
        Self {
            stream,
            frames: VecDeque::new(),
            gathered: Vec::new(),
            reader: SharedReader::default(),
            boundaries: None,
            wire_bytes_received: 0,
            wire_bytes_sent: 0,
            unwritten: 0,
            upgrade: UpgradeReader::default(),
            deflate: None,
        }
    }

    /// The connection opened; `deflate` are permessage-deflate's parameters if negotiated.
    /// What came after the upgrade response is inflated first if so, else read first.
    pub(crate) fn open(&mut self, deflate: Option<Parameters>, max_message_size: usize) {
        self.boundaries = Some(FrameBoundaries::new(max_message_size));
        let rest = self.upgrade.take_rest();
        match deflate {
            Some(parameters) => self.deflate = Some(Box::new(Deflate::new(&parameters, &rest))),
            None => self.upgrade.replay(rest),
        }
    }

    /// Bytes permessage-deflate compressed and inflated so far.
    pub(crate) fn compression_totals(&self) -> CompressionTotals {
        self.deflate
            .as_ref()
            .map_or_else(CompressionTotals::default, |deflate| deflate.totals())
    }

    /// The payload of the large message tungstenite just returned empty (see
    /// [`FrameBoundaries`]).
    pub(crate) fn take_large_payload(&mut self) -> Option<Bytes> {
        self.boundaries.as_mut()?.take_large_payload()
    }

    /// The status code of the last close frame the server sent, as it sent it (see
    /// [`FrameBoundaries::received_close_code`]).
    pub(crate) fn received_close_code(&self) -> Option<u16> {
        self.boundaries.as_ref()?.received_close_code()
    }

    /// Wraps a connected TCP stream in TLS for `host` (the TLS handshake itself runs as the
    /// WebSocket handshake first reads and writes).
    pub(crate) fn tls(tcp: TcpStream, host: &str, tls: &TlsConfig) -> Result<Self, Error> {
        let stream = Box::new(StreamOwned::new(client_connection(host, tls)?, tcp));
        Ok(Self::over(Stream::Tls(stream, HandshakeWitness::default())))
    }

    /// The negotiated TLS version and cipher suite, for `wss://` once the handshake is done.
    pub(crate) fn tls_info(&self) -> Option<TlsInfo> {
        let Stream::Tls(stream, _) = &self.stream else {
            return None;
        };
        TlsInfo::of(&stream.conn)
    }

    /// Whether the TLS handshake is still in progress (false for plain TCP).
    pub(crate) fn is_tls_handshaking(&self) -> bool {
        matches!(&self.stream, Stream::Tls(stream, _) if stream.conn.is_handshaking())
    }

    /// What the server asked during the TLS handshake (`None` for plain TCP).
    pub(crate) fn handshake_witness(&self) -> Option<HandshakeWitness> {
        match &self.stream {
            Stream::Plain(_) => None,
            Stream::Tls(_, witness) => Some(witness.clone()),
        }
    }

    /// The TCP stream, for the poller and socket options.
    pub(crate) fn tcp_mut(&mut self) -> &mut TcpStream {
        match &mut self.stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(stream, _) => &mut stream.sock,
        }
    }

    /// Bytes written to the stream so far and bytes read from it (before TLS encryption).
    pub(crate) fn wire_bytes(&self) -> (u64, u64) {
        (self.wire_bytes_sent, self.wire_bytes_received)
    }

    /// Bytes of the frames [`Transport::queue_message`] queued that are not written yet.
    pub(crate) fn unwritten_bytes(&self) -> usize {
        self.unwritten
    }

    /// Encodes `message` as one masked, unfragmented frame (compressed with permessage-deflate
    /// when negotiated and worth it) and queues it; the next write or flush sends it. Returns
    /// the frame's size in bytes.
    pub(crate) fn queue_message(&mut self, message: Message) -> usize {
        let (data, payload) = match message {
            Message::Text(text) => (Data::Text, Bytes::from(text)),
            Message::Binary(data) => (Data::Binary, data),
        };
        let compressed = self
            .deflate
            .as_mut()
            .and_then(|deflate| deflate.compress(&payload));
        let rsv1 = compressed.is_some();
        let payload = compressed.unwrap_or(payload);
        let mask: [u8; 4] = rand::random();
        let header = FrameHeader {
            opcode: OpCode::Data(data),
            mask: Some(mask),
            rsv1,
            ..FrameHeader::default()
        };
        let size = header.len(payload.len() as u64) + payload.len();
        self.unwritten += size;
        // Writing into a Vec cannot fail.
        let _ = header.format(payload.len() as u64, &mut self.gathered);
        if payload.len() < LARGE_PAYLOAD_BYTES {
            let start = self.gathered.len();
            self.gathered.extend_from_slice(&payload);
            apply_mask(&mut self.gathered[start..], mask);
        } else {
            // A payload nobody else holds (the usual case) is masked without a copy.
            let mut payload = payload
                .try_into_mut()
                .unwrap_or_else(|shared| shared.as_ref().into());
            apply_mask(&mut payload, mask);
            self.frames
                .push_back(Bytes::from(std::mem::take(&mut self.gathered)));
            self.frames.push_back(payload.freeze());
        }
        size
    }

    /// Writes queued frames until none is left (or the socket is full: `WouldBlock`).
    fn write_frames(&mut self) -> io::Result<()> {
        if !self.gathered.is_empty() {
            self.frames
                .push_back(Bytes::from(std::mem::take(&mut self.gathered)));
        }
        while !self.frames.is_empty() {
            let chunks: Vec<IoSlice> = self
                .frames
                .iter()
                .take(CHUNKS_PER_WRITE)
                .map(|chunk| IoSlice::new(chunk))
                .collect();
            let mut written = self.stream.write_vectored(&chunks)?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.wire_bytes_sent += written as u64;
            self.unwritten = self.unwritten.saturating_sub(written);
            while written > 0 {
                let Some(chunk) = self.frames.front_mut() else {
                    break;
                };
                if written >= chunk.len() {
                    written -= chunk.len();
                    self.frames.pop_front();
                } else {
                    *chunk = chunk.slice(written..);
                    written = 0;
                }
            }
        }
        Ok(())
    }
}

/// Masks (or unmasks) `data` with `mask` (RFC 6455 section 5.3).
fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut words = data.chunks_exact_mut(4);
    for chunk in &mut words {
        let masked = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    for (byte, key) in words.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut decoded = Decoded {
            upgrade: &mut self.upgrade,
            deflate: &mut self.deflate,
            wire: CountedReads {
                stream: &mut self.stream,
                reader: &mut self.reader,
                bytes: &mut self.wire_bytes_received,
            },
        };
        match &mut self.boundaries {
            Some(boundaries) => boundaries.read(&mut decoded, buf),
            None => decoded.read(buf),
        }
    }
}

/// The stream as tungstenite reads it: through permessage-deflate once it was negotiated, else
/// through the upgrade reader (which the connection opening with permessage-deflate left with
/// nothing more to do).
struct Decoded<'a> {
    upgrade: &'a mut UpgradeReader,
    deflate: &'a mut Option<Box<Deflate>>,
    wire: CountedReads<'a>,
}

impl Read for Decoded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.deflate {
            Some(deflate) => deflate.read(&mut self.wire, buf),
            None => self.upgrade.read(&mut self.wire, buf),
        }
    }
}

/// The stream as read through the shared buffer, counting the bytes that came off the wire.
struct CountedReads<'a> {
    stream: &'a mut Stream,
    reader: &'a mut SharedReader,
    bytes: &'a mut u64,
}

impl Read for CountedReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.reader.read(self.stream, buf)?;
        *self.bytes += read as u64;
        Ok(read)
    }
}

/// Both directions of a stream, as one trait object.
trait ReadWrite: Read + Write {}

impl<T: Read + Write> ReadWrite for T {}

impl Stream {
    /// Runs `io` on TCP itself, or on TLS over it with the witness watching while the handshake
    /// runs (the only time a server asks for a client certificate).
    fn with<R>(&mut self, io: impl FnOnce(&mut dyn ReadWrite) -> R) -> R {
        match self {
            Stream::Plain(tcp) => io(tcp),
            Stream::Tls(stream, witness) if stream.conn.is_handshaking() => {
                witness.during(|| io(stream.as_mut()))
            }
            Stream::Tls(stream, _) => io(stream.as_mut()),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|stream| stream.read(buf))
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|stream| stream.write(buf))
    }

    fn write_vectored(&mut self, chunks: &[IoSlice<'_>]) -> io::Result<usize> {
        self.with(|stream| stream.write_vectored(chunks))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(|stream| stream.flush())
    }
}

/// What tungstenite writes: queued frames go first.
impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_frames()?;
        let written = self.stream.write(buf)?;
        self.wire_bytes_sent += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_frames()?;
        self.stream.flush()
    }
}
