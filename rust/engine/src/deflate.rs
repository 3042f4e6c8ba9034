//! permessage-deflate (RFC 7692) under tungstenite, which knows no extensions: the offer, the
//! server's answer, compressing outgoing messages, and inflating incoming ones.
//!
//! Incoming compressed messages are inflated in the byte stream tungstenite reads
//! ([`Inflater::read`]): their frames are re-emitted as plain frames (RSV1 cleared, new lengths);
//! every other frame passes through byte for byte, so tungstenite still judges it (RSV1 on a
//! control or continuation frame, a masked frame, ...). A connection without the extension never
//! goes through this module.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use crate::response_head::ResponseHead;
use crate::Bytes;

/// The extension's name in `Sec-WebSocket-Extensions`.
const EXTENSION_NAME: &str = "permessage-deflate";
/// What the client offers: the extension, and that the server may limit the client's window.
pub(crate) const OFFER: &str = "permessage-deflate; client_max_window_bits";
/// The bytes a sync flush ends with; the sender strips them from every message and the receiver
/// appends them again (RFC 7692 section 7.2.1 and 7.2.2).
const MESSAGE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Messages shorter than this are sent uncompressed (the RFC lets the sender choose per
/// message): deflate saves next to nothing on them and may even make them longer.
pub const MIN_COMPRESSED_MESSAGE_BYTES: usize = 64;
/// zlib's default compression level, which browsers use too.
const COMPRESSION_LEVEL: u32 = 6;
/// The largest LZ77 window (32 KiB), used when the server sets no `client_max_window_bits`, and
/// always for inflating: a window at least as large as the sender's inflates its data.
const MAX_WINDOW_BITS: u8 = 15;
/// The smallest window a `*_max_window_bits` parameter may name (256 bytes).
const MIN_WINDOW_BITS: u8 = 8;
/// The smallest window zlib compresses with. It never refers further back than its window minus
/// 262 bytes, so with 9 bits (512) it stays within the 256 bytes a server asking for 8 keeps:
/// compressing with 9 bits is what Chromium does for `client_max_window_bits=8` (crbug 691074).
const MIN_COMPRESSOR_WINDOW_BITS: u8 = 9;
/// Bytes read from the socket at a time while inflating.
const RAW_READ_BYTES: usize = 64 * 1024;
/// Inflated bytes handed to tungstenite as one frame. Inflation stops at this much until
/// tungstenite took it, so a small compressed input (a "decompression bomb") never makes more
/// than this at once; tungstenite's `max_message_size` ends an oversized message (1009).
const INFLATED_CHUNK_BYTES: usize = 64 * 1024;

/// What the server accepted of permessage-deflate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parameters {
    /// The server starts every message with an empty window.
    pub server_no_context_takeover: bool,
    /// We must start every message with an empty window.
    pub client_no_context_takeover: bool,
    /// The window the server compresses with, if it said.
    pub server_max_window_bits: Option<u8>,
    /// The largest window we may compress with, if the server limited it.
    pub client_max_window_bits: Option<u8>,
}

/// Reads the server's `Sec-WebSocket-Extensions` answer (every header line of it). `offered`
/// says whether permessage-deflate was offered. `Ok(None)` when the server accepted no extension;
/// an `Err` is a sentence saying what is wrong (RFC 7692 section 5 and 7.1).
pub(crate) fn negotiate<'a>(
    answer: impl IntoIterator<Item = &'a str>,
    offered: bool,
) -> Result<Option<Parameters>, String> {
    let mut accepted = None;
    for extension in answer.into_iter().flat_map(|line| line.split(',')) {
        let mut parts = extension.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        if !offered || !name.eq_ignore_ascii_case(EXTENSION_NAME) {
            return Err(format!(
                "the server accepted the extension \"{name}\", which was not offered"
            ));
        }
        if accepted.is_some() {
            return Err(format!("the server accepted {EXTENSION_NAME} twice"));
        }
        accepted = Some(parse_parameters(parts)?);
    }
    Ok(accepted)
}

/// The parameters of the accepted extension, refusing unknown, duplicated or invalid ones.
fn parse_parameters<'a>(parts: impl Iterator<Item = &'a str>) -> Result<Parameters, String> {
    let mut parameters = Parameters::default();
    let mut seen: Vec<String> = Vec::new();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim()))),
            None => (part, None),
        };
        let key = key.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(format!("the server repeated the parameter \"{key}\""));
        }
        match (key.as_str(), value) {
            ("server_no_context_takeover", None) => parameters.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => parameters.client_no_context_takeover = true,
            ("server_max_window_bits", Some(value)) => {
                parameters.server_max_window_bits = Some(window_bits(&key, value)?)
            }
            ("client_max_window_bits", Some(value)) => {
                parameters.client_max_window_bits = Some(window_bits(&key, value)?)
            }
            ("server_no_context_takeover" | "client_no_context_takeover", Some(value)) => {
                return Err(format!(
                    "the parameter \"{key}\" takes no value, but the server gave \"{value}\""
                ))
            }
            ("server_max_window_bits" | "client_max_window_bits", None) => {
                return Err(format!(
                    "the parameter \"{key}\" needs a value from 8 to 15"
                ))
            }
            _ => {
                return Err(format!(
                    "the server answered the unknown parameter \"{part}\""
                ))
            }
        }
        seen.push(key);
    }
    Ok(parameters)
}

/// A `*_max_window_bits` value: a decimal number from 8 to 15 without leading zeros.
fn window_bits(key: &str, value: &str) -> Result<u8, String> {
    let bits = value
        .parse::<u8>()
        .ok()
        .filter(|bits| (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(bits))
        .filter(|_| !value.starts_with(['0', '+']));
    bits.ok_or_else(|| format!("{key}={value} is not a number from 8 to 15"))
}

/// A parameter value without the quotes of an HTTP quoted-string.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
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

/// [`CompressionTotals`] as the I/O thread counts them and the game reads them.
#[derive(Debug, Default)]
pub(crate) struct CompressionCounters {
    sent_uncompressed: AtomicU64,
    sent_compressed: AtomicU64,
    received_compressed: AtomicU64,
    received_uncompressed: AtomicU64,
}

impl CompressionCounters {
    /// The totals so far.
    pub(crate) fn totals(&self) -> CompressionTotals {
        CompressionTotals {
            sent_uncompressed_bytes: self.sent_uncompressed.load(Ordering::Relaxed),
            sent_compressed_bytes: self.sent_compressed.load(Ordering::Relaxed),
            received_compressed_bytes: self.received_compressed.load(Ordering::Relaxed),
            received_uncompressed_bytes: self.received_uncompressed.load(Ordering::Relaxed),
        }
    }
}

/// Compresses the outgoing messages worth compressing, once permessage-deflate was negotiated.
pub(crate) struct OutgoingDeflate {
    parameters: Parameters,
    /// Made at the first compressed message: zlib's compressor takes a few hundred KiB.
    compressor: Option<Compressor>,
    counters: Arc<CompressionCounters>,
}

impl OutgoingDeflate {
    pub(crate) fn new(parameters: Parameters, counters: Arc<CompressionCounters>) -> Self {
        Self {
            parameters,
            compressor: None,
            counters,
        }
    }

    /// The payload to send for `payload`, compressed, or `None` when it goes as it is (too
    /// short to be worth it, or zlib failed). A compressed payload is sent with RSV1 set.
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Option<Bytes> {
        if payload.len() < MIN_COMPRESSED_MESSAGE_BYTES {
            return None;
        }
        let parameters = &self.parameters;
        let compressor = self
            .compressor
            .get_or_insert_with(|| Compressor::new(parameters));
        let mut compressed = Vec::new();
        if !compressor.compress(payload, &mut compressed) {
            return None;
        }
        self.counters
            .sent_uncompressed
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        self.counters
            .sent_compressed
            .fetch_add(compressed.len() as u64, Ordering::Relaxed);
        Some(Bytes::from(compressed))
    }
}

/// Compresses outgoing messages, one after the other.
struct Compressor {
    deflate: Compress,
    /// `client_no_context_takeover`: every message starts with an empty window.
    reset_after_message: bool,
}

impl Compressor {
    fn new(parameters: &Parameters) -> Self {
        let window_bits = parameters
            .client_max_window_bits
            .unwrap_or(MAX_WINDOW_BITS)
            .max(MIN_COMPRESSOR_WINDOW_BITS);
        Self {
            deflate: Compress::new_with_window_bits(
                Compression::new(COMPRESSION_LEVEL),
                false,
                window_bits,
            ),
            reset_after_message: parameters.client_no_context_takeover,
        }
    }

    /// Appends the compressed `payload` of one message, without [`MESSAGE_TAIL`], to `out`.
    /// Returns false (with `out` as it was) if zlib failed, so the message goes uncompressed.
    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let total_in = self.deflate.total_in();
        // Usually enough for the whole message; grown when not.
        out.reserve(payload.len() / 2 + 64);
        loop {
            let consumed = (self.deflate.total_in() - total_in) as usize;
            if out.len() == out.capacity() {
                out.reserve(out.capacity() / 2 + 64);
            }
            if self
                .deflate
                .compress_vec(&payload[consumed..], out, FlushCompress::Sync)
                .is_err()
            {
                out.truncate(start);
                self.deflate.reset();
                return false;
            }
            let all_in = self.deflate.total_in() - total_in == payload.len() as u64;
            // The sync flush is complete once zlib stops short of filling the output.
            if all_in && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&MESSAGE_TAIL) {
            out.truncate(out.len() - MESSAGE_TAIL.len());
        }
        if self.reset_after_message {
            self.deflate.reset();
        }
        true
    }
}

/// Why inflating failed; the connection maps it to close code 1002.
#[derive(Debug)]
pub(crate) struct InvalidCompressedData;

impl std::fmt::Display for InvalidCompressedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a compressed message from the server is not valid deflate data")
    }
}

impl std::error::Error for InvalidCompressedData {}

/// Where the rewriter is in the incoming byte stream.
#[derive(Clone, Copy)]
enum FramePart {
    /// Expecting a frame header.
    Header,
    /// This many payload bytes of the current frame pass through unchanged.
    PassThrough { remaining: u64 },
    /// This many payload bytes of a compressed message's frame are still to be inflated, then
    /// `tail` bytes of [`MESSAGE_TAIL`] when it is the message's last frame (`last`).
    Inflate {
        remaining: u64,
        tail: usize,
        last: bool,
    },
}

/// The data message the incoming frames belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CurrentMessage {
    /// Between messages.
    None,
    /// An uncompressed fragmented message: its continuation frames pass through.
    Plain,
    /// A compressed message of type `data`; `started` once a frame of it went to tungstenite.
    Compressed { data: Data, started: bool },
}

/// Inflates the compressed messages in the byte stream tungstenite reads.
pub(crate) struct Inflater {
    inflate: Decompress,
    /// `server_no_context_takeover`: every message starts with an empty window.
    reset_after_message: bool,
    /// Bytes read from the socket; `raw[raw_start..raw_end]` are not processed yet.
    raw: Box<[u8]>,
    raw_start: usize,
    raw_end: usize,
    /// Bytes for tungstenite; `output[output_start..]` are not read yet.
    output: Vec<u8>,
    output_start: usize,
    /// Inflated bytes of the current frame not yet in `output`.
    inflated: Vec<u8>,
    part: FramePart,
    message: CurrentMessage,
    /// The deflate stream of this message ended (a final block): what follows is ignored.
    stream_ended: bool,
    counters: Arc<CompressionCounters>,
}

impl Inflater {
    /// `already_read` are bytes that came with the upgrade response, after it.
    pub(crate) fn new(
        parameters: &Parameters,
        already_read: &[u8],
        counters: Arc<CompressionCounters>,
    ) -> Self {
        let mut raw = vec![0; RAW_READ_BYTES.max(already_read.len())].into_boxed_slice();
        raw[..already_read.len()].copy_from_slice(already_read);
        Self {
            inflate: Decompress::new_with_window_bits(false, MAX_WINDOW_BITS),
            reset_after_message: parameters.server_no_context_takeover,
            raw,
            raw_start: 0,
            raw_end: already_read.len(),
            output: Vec::new(),
            output_start: 0,
            inflated: Vec::with_capacity(INFLATED_CHUNK_BYTES),
            part: FramePart::Header,
            message: CurrentMessage::None,
            stream_ended: false,
            counters,
        }
    }

    /// Reads from `stream` and returns the frames tungstenite should see: compressed messages
    /// inflated, everything else as it came.
    pub(crate) fn read(&mut self, stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.output_start < self.output.len() {
                let pending = &self.output[self.output_start..];
                let count = pending.len().min(buf.len());
                buf[..count].copy_from_slice(&pending[..count]);
                self.output_start += count;
                if self.output_start == self.output.len() {
                    self.output.clear();
                    self.output_start = 0;
                }
                return Ok(count);
            }
            self.process()?;
            if self.output.is_empty() {
                // Everything read is processed: more is needed from the socket.
                if self.raw_start > 0 {
                    self.raw.copy_within(self.raw_start..self.raw_end, 0);
                    self.raw_end -= self.raw_start;
                    self.raw_start = 0;
                }
                let count = stream.read(&mut self.raw[self.raw_end..])?;
                if count == 0 {
                    return Ok(0);
                }
                self.raw_end += count;
            }
        }
    }

    /// Turns unprocessed raw bytes into output, up to about [`INFLATED_CHUNK_BYTES`]. Stops when
    /// it needs more bytes from the socket.
    fn process(&mut self) -> io::Result<()> {
        while self.output.len() < INFLATED_CHUNK_BYTES {
            match self.part {
                FramePart::Header => {
                    if !self.process_header() {
                        return Ok(());
                    }
                }
                FramePart::PassThrough { remaining } => {
                    let available = self.raw_end - self.raw_start;
                    let count = usize::try_from(remaining).map_or(available, |r| r.min(available));
                    if remaining > 0 && count == 0 {
                        return Ok(());
                    }
                    let end = self.raw_start + count;
                    self.output
                        .extend_from_slice(&self.raw[self.raw_start..end]);
                    self.raw_start = end;
                    let remaining = remaining - count as u64;
                    self.part = if remaining == 0 {
                        FramePart::Header
                    } else {
                        FramePart::PassThrough { remaining }
                    };
                }
                FramePart::Inflate {
                    remaining,
                    tail,
                    last,
                } => {
                    if !self.inflate_step(remaining, tail, last)? {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads the next frame header if it is complete, deciding what happens to the frame.
    /// Returns false when more bytes are needed.
    fn process_header(&mut self) -> bool {
        let available = &self.raw[self.raw_start..self.raw_end];
        let Some(header) = RawHeader::parse(available) else {
            return false;
        };
        let compressed_start = matches!(header.opcode, 1 | 2) && header.rsv == 0b100;
        let inflate = match (header.opcode, self.message) {
            // A new compressed message (one already in progress is tungstenite's to refuse).
            (1 | 2, CurrentMessage::None) if compressed_start && !header.masked => {
                let data = if header.opcode == 1 {
                    Data::Text
                } else {
                    Data::Binary
                };
                self.message = CurrentMessage::Compressed {
                    data,
                    started: false,
                };
                true
            }
            (1 | 2, CurrentMessage::None) => {
                if !header.fin && header.rsv == 0 {
                    self.message = CurrentMessage::Plain;
                }
                false
            }
            (0, CurrentMessage::Compressed { .. }) => header.rsv == 0 && !header.masked,
            (0, CurrentMessage::Plain) => {
                if header.fin {
                    self.message = CurrentMessage::None;
                }
                false
            }
            _ => false,
        };
        if inflate {
            self.raw_start += header.len;
            self.part = FramePart::Inflate {
                remaining: header.payload_len,
                tail: if header.fin { MESSAGE_TAIL.len() } else { 0 },
                last: header.fin,
            };
        } else {
            let end = self.raw_start + header.len;
            self.output
                .extend_from_slice(&self.raw[self.raw_start..end]);
            self.raw_start = end;
            self.part = FramePart::PassThrough {
                remaining: header.payload_len,
            };
        }
        true
    }

    /// Inflates what is available of the current frame. Returns false when more bytes are
    /// needed from the socket.
    fn inflate_step(&mut self, remaining: u64, tail: usize, last: bool) -> io::Result<bool> {
        let available = self.raw_end - self.raw_start;
        let from_frame = usize::try_from(remaining).map_or(available, |r| r.min(available));
        let input: &[u8] = if remaining > 0 {
            &self.raw[self.raw_start..self.raw_start + from_frame]
        } else {
            &MESSAGE_TAIL[MESSAGE_TAIL.len() - tail..]
        };
        if remaining > 0 && input.is_empty() {
            return Ok(false);
        }
        let produced_before = self.inflated.len();
        let consumed = if self.stream_ended {
            input.len()
        } else {
            let before = self.inflate.total_in();
            let status = self
                .inflate
                .decompress_vec(input, &mut self.inflated, FlushDecompress::None)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, InvalidCompressedData))?;
            if status == Status::StreamEnd {
                self.stream_ended = true;
            }
            (self.inflate.total_in() - before) as usize
        };
        let output_full = self.inflated.len() == self.inflated.capacity();
        let (remaining, tail) = if remaining > 0 {
            self.raw_start += consumed;
            self.counters
                .received_compressed
                .fetch_add(consumed as u64, Ordering::Relaxed);
            (remaining - consumed as u64, tail)
        } else {
            (0, tail - consumed)
        };
        self.part = FramePart::Inflate {
            remaining,
            tail,
            last,
        };
        if output_full {
            // More may be waiting inside zlib: hand this chunk over and come back.
            self.emit_frame(false);
            return Ok(true);
        }
        if remaining == 0 && tail == 0 {
            self.emit_frame(last);
            self.part = FramePart::Header;
            if last {
                self.end_message();
            }
            return Ok(true);
        }
        let progressed = consumed > 0 || self.inflated.len() > produced_before;
        Ok(progressed)
    }

    /// Hands the inflated bytes to tungstenite as one plain frame of the current message.
    fn emit_frame(&mut self, last: bool) {
        let CurrentMessage::Compressed { data, started } = &mut self.message else {
            return;
        };
        let opcode = if *started { Data::Continue } else { *data };
        *started = true;
        let header = FrameHeader {
            is_final: last,
            opcode: OpCode::Data(opcode),
            ..FrameHeader::default()
        };
        let length = self.inflated.len() as u64;
        // Writing into a Vec cannot fail.
        let _ = header.format(length, &mut self.output);
        self.output.extend_from_slice(&self.inflated);
        self.counters
            .received_uncompressed
            .fetch_add(length, Ordering::Relaxed);
        self.inflated.clear();
    }

    fn end_message(&mut self) {
        self.message = CurrentMessage::None;
        if self.reset_after_message || self.stream_ended {
            self.inflate.reset(false);
        }
        self.stream_ended = false;
    }
}

/// The fields of a frame header the rewriter needs.
struct RawHeader {
    fin: bool,
    /// RSV1, RSV2, RSV3 as three bits.
    rsv: u8,
    opcode: u8,
    masked: bool,
    payload_len: u64,
    /// The header's length in bytes.
    len: usize,
}

impl RawHeader {
    /// Parses the header at the start of `bytes`, or `None` if it is not complete yet.
    fn parse(bytes: &[u8]) -> Option<Self> {
        let (&first, rest) = bytes.split_first()?;
        let &second = rest.first()?;
        let masked = second & 0x80 != 0;
        let (payload_len, length_bytes) = match second & 0x7f {
            126 => (
                u64::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)),
                2,
            ),
            127 => (u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?), 8),
            short => (u64::from(short), 0),
        };
        let len = 2 + length_bytes + if masked { 4 } else { 0 };
        if bytes.len() < len {
            return None;
        }
        Some(Self {
            fin: first & 0x80 != 0,
            rsv: (first >> 4) & 0b111,
            opcode: first & 0x0f,
            masked,
            payload_len,
            len,
        })
    }
}

/// A transport's reading layer from the upgrade on: the response head gathered whole (see
/// [`ResponseHead`]), then permessage-deflate if it was negotiated.
pub(crate) struct DeflateLayer {
    reading: Reading,
    /// Set once the extension was negotiated.
    outgoing: Option<OutgoingDeflate>,
}

impl DeflateLayer {
    /// The upgrade is starting: the response is read up to its end only, so the frames after it
    /// can still be inflated once the server's answer on the extension is known.
    pub(crate) fn upgrading() -> Self {
        Self {
            reading: Reading::Fenced(ResponseHead::default()),
            outgoing: None,
        }
    }

    /// The connection opened with `negotiated` (the parameters, if the server accepted).
    /// Returns false when the layer has nothing more to do (not negotiated, nothing to replay).
    pub(crate) fn open(
        &mut self,
        negotiated: Option<Parameters>,
        counters: Arc<CompressionCounters>,
    ) -> bool {
        self.reading.open(negotiated.as_ref(), counters.clone());
        self.outgoing = negotiated.map(|parameters| OutgoingDeflate::new(parameters, counters));
        self.outgoing.is_some() || !matches!(self.reading, Reading::Direct)
    }

    /// See [`OutgoingDeflate::compress`].
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Option<Bytes> {
        self.outgoing.as_mut()?.compress(payload)
    }

    pub(crate) fn read(&mut self, stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        self.reading.read(stream, buf)
    }
}

/// How the bytes read from the socket reach tungstenite.
enum Reading {
    /// As they come: not negotiated, and all replayed.
    Direct,
    /// The upgrade is in flight.
    Fenced(ResponseHead),
    /// Bytes that came after the upgrade response go first, then [`Reading::Direct`].
    Replaying { bytes: Vec<u8>, start: usize },
    /// permessage-deflate is on: compressed messages are inflated.
    Inflating(Box<Inflater>),
}

impl Reading {
    fn read(&mut self, stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reading::Direct => stream.read(buf),
            Reading::Fenced(fence) => fence.read(stream, buf),
            Reading::Inflating(inflater) => inflater.read(stream, buf),
            Reading::Replaying { bytes, start } => {
                let count = (bytes.len() - *start).min(buf.len());
                buf[..count].copy_from_slice(&bytes[*start..*start + count]);
                *start += count;
                if *start == bytes.len() {
                    *self = Reading::Direct;
                }
                Ok(count)
            }
        }
    }

    /// The connection opened with `negotiated` (permessage-deflate's parameters, if accepted):
    /// what was read after the upgrade response goes on to tungstenite, inflated if need be.
    fn open(&mut self, negotiated: Option<&Parameters>, counters: Arc<CompressionCounters>) {
        let rest = match std::mem::replace(self, Reading::Direct) {
            Reading::Fenced(fence) => fence.into_rest(),
            other => {
                *self = other;
                return;
            }
        };
        *self = match negotiated {
            Some(parameters) => {
                Reading::Inflating(Box::new(Inflater::new(parameters, &rest, counters)))
            }
            None if rest.is_empty() => Reading::Direct,
            None => Reading::Replaying {
                bytes: rest,
                start: 0,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(value: &str) -> Result<Option<Parameters>, String> {
        negotiate([value], true)
    }

    #[test]
    fn accepts_valid_answers() {
        assert_eq!(negotiate([], true), Ok(None));
        assert_eq!(
            answer("permessage-deflate"),
            Ok(Some(Parameters::default()))
        );
        let full = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                    server_max_window_bits=10; client_max_window_bits=\"8\"";
        assert_eq!(
            answer(full),
            Ok(Some(Parameters {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(10),
                client_max_window_bits: Some(8),
            }))
        );
    }

    #[test]
    fn refuses_what_was_not_offered_or_is_invalid() {
        let refused = |value: &str| answer(value).unwrap_err();
        assert!(refused("x-webkit-deflate-frame").contains("not offered"));
        assert!(negotiate(["permessage-deflate"], false)
            .unwrap_err()
            .contains("not offered"));
        assert!(refused("permessage-deflate, permessage-deflate").contains("twice"));
        assert!(refused(
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
        )
        .contains("repeated"));
        for bits in ["7", "16", "010", "+9", "ten", ""] {
            let value = format!("permessage-deflate; server_max_window_bits={bits}");
            assert!(refused(&value).contains("from 8 to 15"), "{value}");
        }
        assert!(refused("permessage-deflate; client_max_window_bits").contains("needs a value"));
        assert!(refused("permessage-deflate; client_no_context_takeover=1").contains("no value"));
        assert!(refused("permessage-deflate; mystery").contains("unknown parameter"));
    }

    /// A server's unmasked frame.
    fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![first_byte];
        match payload.len() {
            len @ 0..=125 => bytes.push(len as u8),
            len @ 126..=0xffff => {
                bytes.push(126);
                bytes.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                bytes.push(127);
                bytes.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        bytes.extend_from_slice(payload);
        bytes
    }

    /// Runs `wire` through an inflater, reading from the stream `read_size` bytes at a time.
    fn rewrite(parameters: &Parameters, wire: &[u8], read_size: usize) -> io::Result<Vec<u8>> {
        let mut inflater = Inflater::new(parameters, &[], Arc::default());
        let mut reader = Chunks {
            chunks: wire.chunks(read_size),
            current: &[],
        };
        let mut out = Vec::new();
        let mut buf = [0; 1000];
        loop {
            match inflater.read(&mut reader, &mut buf)? {
                0 => return Ok(out),
                count => out.extend_from_slice(&buf[..count]),
            }
        }
    }

    /// A stream that returns at most one chunk per read.
    struct Chunks<'a> {
        chunks: std::slice::Chunks<'a, u8>,
        current: &'a [u8],
    }

    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.current.is_empty() {
                match self.chunks.next() {
                    Some(chunk) => self.current = chunk,
                    None => return Ok(0),
                }
            }
            self.current.read(buf)
        }
    }

    /// The (first byte, payload) of every frame in `bytes`.
    fn frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while let Some(header) = RawHeader::parse(bytes) {
            let end = header.len + header.payload_len as usize;
            frames.push((bytes[0], bytes[header.len..end].to_vec()));
            bytes = &bytes[end..];
        }
        assert!(bytes.is_empty());
        frames
    }

    /// Joins the frames of each data message: (opcode, payload) per message.
    fn messages(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut messages: Vec<(u8, Vec<u8>)> = Vec::new();
        let mut open = false;
        for (first, payload) in frames(bytes) {
            assert_eq!(first & 0x70, 0, "RSV bits are cleared");
            let opcode = first & 0x0f;
            match opcode {
                0 => messages.last_mut().unwrap().1.extend(payload),
                1 | 2 => {
                    assert!(!open);
                    messages.push((opcode, payload));
                }
                _ => continue,
            }
            open = first & 0x80 == 0;
        }
        messages
    }

    fn compress(outgoing: &mut OutgoingDeflate, payload: &[u8]) -> Vec<u8> {
        outgoing.compress(payload).unwrap().to_vec()
    }

    #[test]
    fn inflates_what_was_compressed_with_and_without_context_takeover() {
        let text: Vec<u8> = "the quick brown fox jumps over the lazy dog; "
            .repeat(200)
            .into_bytes();
        let binary: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for takeover in [true, false] {
            let parameters = Parameters {
                client_no_context_takeover: !takeover,
                server_no_context_takeover: !takeover,
                ..Parameters::default()
            };
            let mut outgoing = OutgoingDeflate::new(parameters, Arc::default());
            let mut wire = Vec::new();
            for _ in 0..3 {
                wire.extend(frame(0xc1, &compress(&mut outgoing, &text)));
                wire.extend(frame(0xc2, &compress(&mut outgoing, &binary)));
                wire.extend(frame(0x81, b"plain"));
            }
            compress(&mut outgoing, &text);
            let second = compress(&mut outgoing, &text).len();
            let first = compress(&mut OutgoingDeflate::new(parameters, Arc::default()), &text);
            assert_eq!(
                takeover,
                second < first.len(),
                "context takeover shrinks repeats"
            );
            for read_size in [1, 7, 100_000] {
                let out = rewrite(&parameters, &wire, read_size).unwrap();
                let got = messages(&out);
                assert_eq!(got.len(), 9);
                for chunk in got.chunks(3) {
                    assert_eq!(chunk[0], (1, text.clone()));
                    assert_eq!(chunk[1], (2, binary.clone()));
                    assert_eq!(chunk[2], (1, b"plain".to_vec()));
                }
            }
        }
    }

    #[test]
    fn inflates_fragmented_messages_around_control_frames() {
        let parameters = Parameters::default();
        let text = "fragmented and compressed ".repeat(50);
        let compressed = compress(
            &mut OutgoingDeflate::new(parameters, Arc::default()),
            text.as_bytes(),
        );
        let (a, rest) = compressed.split_at(compressed.len() / 3);
        let (b, c) = rest.split_at(rest.len() / 2);
        let ping = frame(0x89, b"ping");
        let wire = [frame(0x41, a), ping.clone(), frame(0x00, b), frame(0x80, c)].concat();
        let out = rewrite(&parameters, &wire, 5).unwrap();
        assert_eq!(messages(&out), vec![(1, text.into_bytes())]);
        assert!(frames(&out).contains(&(0x89, b"ping".to_vec())));
    }

    #[test]
    fn passes_other_frames_through_byte_for_byte() {
        // Uncompressed messages, RSV1 on a ping and on a continuation, a masked frame.
        let wire = [
            frame(0x01, b"plain "),
            frame(0x80, b"fragments"),
            frame(0xc9, b"rsv1 ping"),
            frame(0x82, &[1, 2, 3]),
            frame(0x41, b""),
            frame(0xc0, b"rsv1 continuation"),
        ]
        .concat();
        let out = rewrite(&Parameters::default(), &wire, 3).unwrap();
        // Everything up to the compressed message's first frame is untouched.
        let untouched =
            wire.len() - frame(0x41, b"").len() - frame(0xc0, b"rsv1 continuation").len();
        assert_eq!(out[..untouched], wire[..untouched]);
        assert!(out.ends_with(&frame(0xc0, b"rsv1 continuation")));
    }

    #[test]
    fn bounds_what_one_read_inflates() {
        let zeros = vec![0; 20 << 20];
        let bomb = compress(
            &mut OutgoingDeflate::new(Parameters::default(), Arc::default()),
            &zeros,
        );
        assert!(bomb.len() < 100_000);
        let out = rewrite(&Parameters::default(), &frame(0xc2, &bomb), 1 << 20).unwrap();
        let frames = frames(&out);
        assert!(frames
            .iter()
            .all(|(_, payload)| payload.len() <= INFLATED_CHUNK_BYTES));
        assert_eq!(messages(&out), vec![(2, zeros)]);
    }

    #[test]
    fn refuses_invalid_compressed_data() {
        let error = rewrite(&Parameters::default(), &frame(0xc1, &[0xff; 40]), 100).unwrap_err();
        assert!(error.get_ref().unwrap().is::<InvalidCompressedData>());
    }

    #[test]
    fn small_messages_go_uncompressed() {
        let mut outgoing = OutgoingDeflate::new(Parameters::default(), Arc::default());
        assert!(outgoing
            .compress(&[b'a'; MIN_COMPRESSED_MESSAGE_BYTES - 1])
            .is_none());
        assert!(outgoing
            .compress(&[b'a'; MIN_COMPRESSED_MESSAGE_BYTES])
            .is_some());
    }
}
