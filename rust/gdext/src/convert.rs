//! What both classes, `RustWebSocketClient` and `RustWebSocketPeer`, turn from Godot's values
//! into the engine's and back: the connect request, trusted certificates, durations and sizes,
//! refused calls' error codes, the connection's details as Godot shows them, and the packets
//! `PacketPeer`'s `_put_packet` hands over.

use std::time::Duration;

use godot::classes::{FileAccess, X509Certificate};
use godot::global::Error as GodotError;
use godot::prelude::*;
use godot_core::meta::RawPtr;
use rust_websocket_engine::{
    parse_pem_certificates, CertificateDer, Client, ConnectRequest, Error, Message,
};

/// The request for `url`, offering `protocols` and adding the `"Name: value"` lines of
/// `headers`; fails on a malformed URL, protocol or header.
pub(crate) fn connect_request(
    url: &GString,
    protocols: &PackedStringArray,
    headers: &PackedStringArray,
) -> Result<ConnectRequest, Error> {
    ConnectRequest::new(&url.to_string())
        .and_then(|request| {
            request.with_protocols(protocols.as_slice().iter().map(GString::to_string))
        })
        .and_then(|request| {
            headers
                .as_slice()
                .iter()
                .try_fold(request, |request, line| {
                    request.with_header_line(&line.to_string())
                })
        })
}

/// `WebSocketPeer.WRITE_MODE_TEXT`: `send()` sends the data as text.
pub(crate) const WRITE_MODE_TEXT: i64 = 0;
/// `WebSocketPeer.WRITE_MODE_BINARY`: `send()` sends the data as binary.
pub(crate) const WRITE_MODE_BINARY: i64 = 1;

/// The message `entry(data, write_mode)` (`send` or `put_packet`) sends, or the error it returns
/// and why: text must be UTF-8, and `write_mode` one of the two above.
pub(crate) fn message_in_write_mode(
    entry: &str,
    data: Vec<u8>,
    write_mode: i64,
) -> Result<Message, (GodotError, String)> {
    match write_mode {
        WRITE_MODE_BINARY => Ok(Message::from(data)),
        WRITE_MODE_TEXT => String::from_utf8(data).map(Message::from).map_err(|_| {
            (
                GodotError::ERR_INVALID_DATA,
                format!("{entry}() in WRITE_MODE_TEXT needs UTF-8 data"),
            )
        }),
        other => Err((
            GodotError::ERR_INVALID_PARAMETER,
            format!(
                "{entry}() takes WRITE_MODE_TEXT (0) or WRITE_MODE_BINARY (1) as write_mode, \
                 not {other}"
            ),
        )),
    }
}

/// The Godot error a call the engine refused with `error` returns.
pub(crate) fn refusal_code(error: &Error) -> GodotError {
    match error {
        Error::AlreadyConnected => GodotError::ERR_ALREADY_IN_USE,
        // Busy, not out of memory: the limit is the game's setting, and sending again once
        // reconnected works.
        Error::ReconnectQueueFull { .. } => GodotError::ERR_BUSY,
        Error::NotOpen | Error::Reconnecting { .. } | Error::ReconnectOff => {
            GodotError::ERR_UNCONFIGURED
        }
        _ => GodotError::ERR_INVALID_PARAMETER,
    }
}

/// The certificates `certificate` holds, to trust for `wss://`; `property` names where it was
/// set, for the error.
pub(crate) fn trusted_certificates(
    certificate: &Gd<X509Certificate>,
    property: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    parse_pem_certificates(&certificate_pem(certificate, property)).map_err(|reason| {
        Error::TlsSettings {
            detail: format!("{property} is unusable: {reason}"),
        }
    })
}

/// The PEM text of every certificate an [X509Certificate] holds.
///
/// Godot's `save_to_string()` repeats the first certificate of a chain for every certificate in
/// it (4.6 also appends a NUL), so when the certificate was loaded from a file, e.g.
/// `load("res://ca_chain.crt")`, the file itself is read instead.
/// `property` names the property it is read from, for the warning.
pub(crate) fn certificate_pem(certificate: &Gd<X509Certificate>, property: &str) -> String {
    let path = certificate.get_path();
    if !path.is_empty() {
        let pem = FileAccess::get_file_as_string(&path).to_string();
        if pem.contains("-----BEGIN CERTIFICATE-----") {
            return pem;
        }
    }
    let pem = certificate.clone().save_to_string().to_string();
    let blocks: Vec<&str> = pem.split("-----BEGIN CERTIFICATE-----").skip(1).collect();
    if blocks.len() > 1 && blocks.iter().all(|block| *block == blocks[0]) {
        godot_warn!(
            "rust_websocket: {property} holds {} certificates, but Godot only \
             exposes the first of them; load the file with load(\"res://...crt\") so every \
             certificate in it is read.",
            blocks.len()
        );
    }
    pem
}

/// A size property as bytes: at least 1.
pub(crate) fn clamp_to_usize(value: i64) -> usize {
    usize::try_from(value.max(1)).unwrap_or(usize::MAX)
}

/// A count for GDScript's `int`, saturating at its largest value.
pub(crate) fn count_to_int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// A count property where 0 means none (or off): negative values count as 0.
pub(crate) fn count_or_zero(value: i64) -> usize {
    usize::try_from(value.max(0)).unwrap_or(usize::MAX)
}

/// A duration property in seconds: at least a millisecond.
pub(crate) fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.001)).unwrap_or(Duration::MAX)
}

/// `value` seconds, where 0 or less means zero (off).
pub(crate) fn seconds_or_zero(value: f64) -> Duration {
    if value > 0.0 {
        seconds(value)
    } else {
        Duration::ZERO
    }
}

/// The server's IP address once connected, or empty.
pub(crate) fn connected_host(client: &Client) -> GString {
    client
        .peer_addr()
        .map(|addr| GString::from(&addr.ip().to_string()))
        .unwrap_or_default()
}

/// The server's port once connected, or 0.
pub(crate) fn connected_port(client: &Client) -> u16 {
    client.peer_addr().map_or(0, |addr| addr.port())
}

/// The close code the connection ended with, or -1 when it ended without a close frame.
pub(crate) fn close_code(client: &Client) -> i32 {
    client.close_code().map_or(-1, i32::from)
}

/// The number of messages waiting to be read, as `PacketPeer` counts them.
pub(crate) fn available_packet_count(client: &Client) -> i32 {
    i32::try_from(client.queued_message_count()).unwrap_or(i32::MAX)
}

/// `value` as the binary message `put_var()` sends: encoded as `var_to_bytes()` does (with
/// `full_objects`, as `var_to_bytes_with_objects()`), of any size, where `PacketPeer.put_var()`
/// refuses values over its `encode_buffer_max_size`. Fails with `ERR_INVALID_DATA` and a sentence
/// for a value Godot cannot encode.
pub(crate) fn encode_var(
    value: &Variant,
    full_objects: bool,
) -> Result<Message, (GodotError, String)> {
    let encoded = if full_objects {
        godot::global::var_to_bytes_with_objects(value)
    } else {
        godot::global::var_to_bytes(value)
    };
    if encoded.is_empty() {
        let kind = godot::global::type_string(value.get_type().ord().into());
        return Err((
            GodotError::ERR_INVALID_DATA,
            format!("put_var() cannot encode a value of type {kind}"),
        ));
    }
    Ok(Message::from(encoded.to_vec()))
}

/// The bytes `PacketPeer`'s `_put_packet` hands over.
///
/// # Safety
/// `p_buffer` must point to `p_buffer_size` readable bytes (Godot's promise for the call).
pub(crate) unsafe fn packet_bytes(p_buffer: RawPtr<*const u8>, p_buffer_size: i32) -> Vec<u8> {
    let len = usize::try_from(p_buffer_size).unwrap_or(0);
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: as the caller promised.
    unsafe { std::slice::from_raw_parts(p_buffer.ptr(), len) }.to_vec()
}
