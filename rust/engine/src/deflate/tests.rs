//! permessage-deflate's negotiation, inflater and compressor, on bytes made here.

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
    assert!(
        refused("permessage-deflate; server_no_context_takeover; server_no_context_takeover")
            .contains("repeated")
    );
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
    let mut inflater = Inflater::new(parameters, &[]);
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
        let mut outgoing = OutgoingDeflate::new(parameters);
        let mut wire = Vec::new();
        for _ in 0..3 {
            wire.extend(frame(0xc1, &compress(&mut outgoing, &text)));
            wire.extend(frame(0xc2, &compress(&mut outgoing, &binary)));
            wire.extend(frame(0x81, b"plain"));
        }
        compress(&mut outgoing, &text);
        let second = compress(&mut outgoing, &text).len();
        let first = compress(&mut OutgoingDeflate::new(parameters), &text);
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
    let compressed = compress(&mut OutgoingDeflate::new(parameters), text.as_bytes());
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
    let untouched = wire.len() - frame(0x41, b"").len() - frame(0xc0, b"rsv1 continuation").len();
    assert_eq!(out[..untouched], wire[..untouched]);
    assert!(out.ends_with(&frame(0xc0, b"rsv1 continuation")));
}

#[test]
fn bounds_what_one_read_inflates() {
    let zeros = vec![0; 20 << 20];
    let bomb = compress(&mut OutgoingDeflate::new(Parameters::default()), &zeros);
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
    let mut outgoing = OutgoingDeflate::new(Parameters::default());
    assert!(outgoing
        .compress(&[b'a'; MIN_COMPRESSED_MESSAGE_BYTES - 1])
        .is_none());
    assert!(outgoing
        .compress(&[b'a'; MIN_COMPRESSED_MESSAGE_BYTES])
        .is_some());
}
