//! The properties turned into the engine's [`Config`] for the next connection, and the
//! conversions between Godot's values and the engine's.

use godot::prelude::*;
use rust_websocket_engine::{
    ClientCertificate, Config, Error, Message, ProxySetting, ReconnectConfig, TlsConfig,
};

use super::RustWebSocketClient;
use crate::convert::{
    certificate_pem, clamp_to_usize, count_or_zero, seconds, seconds_or_zero, trusted_certificates,
};

impl RustWebSocketClient {
    /// The engine settings from this object's properties.
    pub(super) fn connection_config(&self) -> Result<Config, Error> {
        let server_name = Some(self.tls_server_name.to_string()).filter(|name| !name.is_empty());
        let mut tls = TlsConfig::default()
            .with_verify(self.verify_tls)
            .with_server_name(server_name)
            .with_system_trust_store(self.use_system_trust_store)
            .with_client_certificate(self.client_certificate()?);
        if let Some(certificate) = &self.trusted_tls_certificate {
            tls = tls.with_trusted_certificates(trusted_certificates(
                certificate,
                "trusted_tls_certificate",
            )?);
        }
        Ok(Config::default()
            .with_max_message_size(clamp_to_usize(self.max_message_size))
            .with_inbound_queue_limit(clamp_to_usize(self.inbound_queue_limit))
            .with_handshake_timeout(seconds(self.handshake_timeout))
            .with_close_timeout(seconds(self.close_timeout))
            .with_tls(tls)
            .with_reconnect(self.reconnect_config())
            .with_connect_timeout(seconds(self.connect_timeout))
            .with_proxy(self.proxy_setting())
            .with_compression(self.compression_enabled)
            .with_heartbeat_interval(seconds_or_zero(self.heartbeat_interval))
            .with_heartbeat_timeout(seconds_or_zero(self.heartbeat_timeout)))
    }

    /// The auto-reconnect settings from this object's properties (the engine never reconnects a
    /// multiplayer peer, whose peer id would change).
    fn reconnect_config(&self) -> ReconnectConfig {
        let final_close_codes = self
            .reconnect_final_close_codes
            .as_slice()
            .iter()
            .filter_map(|&code| u16::try_from(code).ok())
            .collect();
        ReconnectConfig::default()
            .with_enabled(self.auto_reconnect)
            .with_initial_delay(seconds(self.reconnect_delay_initial))
            .with_max_delay(seconds(self.reconnect_delay_max))
            .with_max_attempts(
                u32::try_from(self.reconnect_max_attempts.max(0)).unwrap_or(u32::MAX),
            )
            .with_final_close_codes(final_close_codes)
            .with_queue_messages(count_or_zero(self.reconnect_queue_messages))
            .with_queue_bytes(count_or_zero(self.reconnect_queue_bytes))
    }

    /// The client certificate from [member tls_client_certificate] and [member tls_client_key].
    fn client_certificate(&self) -> Result<Option<ClientCertificate>, Error> {
        let detail = match (&self.tls_client_certificate, &self.tls_client_key) {
            (None, None) => return Ok(None),
            (Some(certificate), Some(key)) => {
                let key_pem = key.clone().save_to_string().to_string();
                match ClientCertificate::from_pem(
                    &certificate_pem(certificate, "tls_client_certificate"),
                    &key_pem,
                ) {
                    Ok(identity) => return Ok(Some(identity)),
                    Err(reason) => reason,
                }
            }
            (Some(_), None) => "tls_client_certificate is set but tls_client_key is not: set \
                                the certificate's private key too (or neither)"
                .into(),
            (None, Some(_)) => "tls_client_key is set but tls_client_certificate is not: set \
                                the key's certificate too (or neither)"
                .into(),
        };
        Err(Error::TlsSettings { detail })
    }

    /// The proxy setting from [member proxy_url] and [member use_environment_proxy].
    fn proxy_setting(&self) -> ProxySetting {
        match (self.proxy_url.is_empty(), self.use_environment_proxy) {
            (false, _) => ProxySetting::Url(self.proxy_url.to_string()),
            (true, true) => ProxySetting::FromEnvironment,
            (true, false) => ProxySetting::Direct,
        }
    }
}

/// A message's payload as GDScript sees it: a String for text, a PackedByteArray for binary. A
/// text holding U+0000 comes as its UTF-8 bytes: a Godot String cannot hold that character
/// (it would end the String there, losing the rest).
pub(super) fn message_to_variant(message: &Message) -> Variant {
    match message {
        Message::Text(text) if !text.contains('\0') => GString::from(text.as_str()).to_variant(),
        _ => PackedByteArray::from(message.as_bytes()).to_variant(),
    }
}
