//! The server's answer to the upgrade request, kept so a refusal (401, 403, 404, 426…) can be
//! diagnosed.

/// Most bytes of a refused upgrade's response body kept in [`HandshakeResponse::body`].
pub const MAX_HANDSHAKE_BODY_BYTES: usize = 4 * 1024;

/// The HTTP response to the upgrade request: 101 with its headers when the connection opened,
/// or the refusal's status, headers and body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeResponse {
    /// The HTTP status code, e.g. 101 or 401.
    pub status: u16,
    /// The status's standard reason phrase, e.g. "Unauthorized", or empty for an unknown code.
    pub reason: String,
    /// The headers as (name, value), one per header line (a repeated header appears once per
    /// line), names in lower case; values that are not UTF-8 are decoded lossily.
    pub headers: Vec<(String, String)>,
    /// The start of a refusal's body: what arrived together with the response head (the
    /// handshake reads no further), at most [`MAX_HANDSHAKE_BODY_BYTES`]. Empty for 101.
    pub body: Vec<u8>,
}

impl HandshakeResponse {
    pub(crate) fn new(response: &tungstenite::handshake::client::Response) -> Self {
        let body = response.body().as_deref().unwrap_or_default();
        Self {
            status: response.status().as_u16(),
            reason: response
                .status()
                .canonical_reason()
                .unwrap_or_default()
                .to_owned(),
            headers: response
                .headers()
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
            body: body[..body.len().min(MAX_HANDSHAKE_BODY_BYTES)].to_vec(),
        }
    }
}
