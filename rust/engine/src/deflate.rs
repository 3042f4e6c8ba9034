//! permessage-deflate (RFC 7692) under tungstenite, which knows no extensions: the offer, the
//! server's answer, compressing outgoing messages, and inflating incoming ones.
//!
//! Incoming compressed messages are inflated in the byte stream tungstenite reads
//! ([`Inflater::read`]): their frames are re-emitted as plain frames (RSV1 cleared, new lengths);
//! every other frame passes through byte for byte, so tungstenite still judges it (RSV1 on a
//! control or continuation frame, a masked frame, ...). Only a connection that negotiated the
//! extension reads and writes through [`Deflate`]; the others only make the offer and read the
//! answer here.

use std::io::{self, Read};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use crate::statistics::CompressionTotals;
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
/// Bytes taken in at a time while inflating, per connection. They come from the I/O thread's
/// shared buffer, which reads the socket in large chunks, so this can be small.
const RAW_READ_BYTES: usize = 16 * 1024;
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

/// permessage-deflate on one connection that negotiated it: inflates the messages tungstenite
/// reads and compresses those the connection sends.
pub(crate) struct Deflate {
    inflater: Inflater,
    outgoing: OutgoingDeflate,
}

impl Deflate {
    /// `already_read` are bytes that came with the upgrade response, after it.
    pub(crate) fn new(parameters: &Parameters, already_read: &[u8]) -> Self {
        Self {
            inflater: Inflater::new(parameters, already_read),
            outgoing: OutgoingDeflate::new(*parameters),
        }
    }

    /// See [`Inflater::read`].
    pub(crate) fn read(&mut self, stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        self.inflater.read(stream, buf)
    }

    /// See [`OutgoingDeflate::compress`].
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Option<Bytes> {
        self.outgoing.compress(payload)
    }

    /// Bytes compressed and inflated so far.
    pub(crate) fn totals(&self) -> CompressionTotals {
        CompressionTotals {
            sent_uncompressed_bytes: self.outgoing.uncompressed_bytes,
            sent_compressed_bytes: self.outgoing.compressed_bytes,
            received_compressed_bytes: self.inflater.compressed_bytes,
            received_uncompressed_bytes: self.inflater.uncompressed_bytes,
        }
    }
}

/// Compresses the outgoing messages worth compressing, once permessage-deflate was negotiated.
pub(crate) struct OutgoingDeflate {
    parameters: Parameters,
    /// Made at the first compressed message: zlib's compressor takes a few hundred KiB.
    compressor: Option<Compressor>,
    /// Payload bytes of the messages sent compressed, before and after compression.
    uncompressed_bytes: u64,
    compressed_bytes: u64,
}

impl OutgoingDeflate {
    pub(crate) fn new(parameters: Parameters) -> Self {
        Self {
            parameters,
            compressor: None,
            uncompressed_bytes: 0,
            compressed_bytes: 0,
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
        self.uncompressed_bytes += payload.len() as u64;
        self.compressed_bytes += compressed.len() as u64;
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
    /// Payload bytes of the compressed messages received, before and after inflating.
    compressed_bytes: u64,
    uncompressed_bytes: u64,
}

impl Inflater {
    /// `already_read` are bytes that came with the upgrade response, after it.
    pub(crate) fn new(parameters: &Parameters, already_read: &[u8]) -> Self {
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
            compressed_bytes: 0,
            uncompressed_bytes: 0,
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
            self.compressed_bytes += consumed as u64;
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
        self.uncompressed_bytes += length;
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

#[cfg(test)]
mod tests;
