//! Signals: [`poll`](IMultiplayerPeerExtension::poll) turns each engine event into the signals
//! it emits, as Godot's `WebSocketClient` and `WebSocketMultiplayerPeer` emit them.

#[cfg(doc)]
use godot::classes::IMultiplayerPeerExtension;
use godot::prelude::*;
use rust_websocket_engine::multiplayer::SERVER_PEER_ID;
use rust_websocket_engine::Event;

use super::settings::message_to_variant;
use super::RustWebSocketClient;
use crate::convert::count_to_int;

/// A signal [`poll`](IMultiplayerPeerExtension::poll) emits: its name and arguments, decided while
type Emission = (&'static str, Vec<Variant>);

impl RustWebSocketClient {
    /// The body of [`poll`](IMultiplayerPeerExtension::poll): emits a signal per engine event.
    ///
    /// The object is borrowed only to take the next event, never while a handler runs, so
    /// handlers may call back into it (send, close, connect again, poll). `this` keeps the object
    /// alive until the call returns; when a handler let go of the last other reference, the
    /// remaining events are dropped with the object (which closes as freeing does).
    pub(super) fn emit_events(mut this: Gd<Self>) {
        loop {
            let emissions = this
                .bind_mut()
                .guarded("poll", Vec::new(), Self::next_emissions);
            if emissions.is_empty() {
                return;
            }
            for (signal, args) in emissions {
                this.upcast_mut::<Object>().emit_signal(signal, &args);
                if this.upcast_ref::<RefCounted>().get_reference_count() <= 1 {
                    return;
                }
            }
        }
    }

    /// The signals for what happened next: a queued message for [signal message_received] once
    /// it has a listener, else the next engine event that emits anything; empty when nothing is
    /// left.
    fn next_emissions(&mut self) -> Vec<Emission> {
        // Looked up again after every emission: a handler may connect or disconnect (as `await`
        // does), but nothing else changes it in between.
        let mut to_message_received = None;
        loop {
            if !self.multiplayer
                && self.client.queued_message_count() > 0
                && *to_message_received
                    .get_or_insert_with(|| self.has_listeners("message_received"))
            {
                if let Some(message) = self.client.take_message() {
                    let is_text = message.is_text();
                    let args = vec![message_to_variant(&message), is_text.to_variant()];
                    return vec![("message_received", args)];
                }
            }
            let Some(event) = self.client.poll_event() else {
                self.debugger.polled(&self.client);
                return Vec::new();
            };
            self.debugger.event(&event, &self.client);
            if matches!(event, Event::MessageReceived) && !self.multiplayer {
                // With a listener, the next turn hands the message to message_received.
                if !*to_message_received
                    .get_or_insert_with(|| self.has_listeners("message_received"))
                {
                    return vec![("data_received", Vec::new())];
                }
                continue;
            }
            let emissions = self.emissions_for(event);
            if !emissions.is_empty() {
                return emissions;
            }
        }
    }

    /// The signals one engine event emits (none for a message waiting for SceneMultiplayer).
    fn emissions_for(&mut self, event: Event) -> Vec<Emission> {
        match event {
            Event::Opened { protocol } => {
                vec![("connection_established", vec![protocol.to_variant()])]
            }
            // Multiplayer packets wait in the queue for SceneMultiplayer; without gd_mp_api,
            // `next_emissions` announces messages itself.
            Event::MessageReceived => Vec::new(),
            Event::PeerIdAssigned { id } => {
                self.peer_id = id;
                vec![("peer_connected", vec![SERVER_PEER_ID.to_variant()])]
            }
            Event::MultiplayerHandshakeFailed => {
                self.remember_engine_error();
                vec![("connection_error", Vec::new())]
            }
            Event::CloseRequested { code, reason } => vec![(
                "server_close_request",
                vec![code.to_variant(), reason.to_variant()],
            )],
            Event::Closed { clean } => {
                self.remember_engine_error();
                let was_multiplayer_peer = std::mem::take(&mut self.peer_id) != 0;
                let mut emissions = vec![("connection_closed", vec![clean.to_variant()])];
                if was_multiplayer_peer {
                    emissions.push(("peer_disconnected", vec![SERVER_PEER_ID.to_variant()]));
                }
                emissions
            }
            Event::Failed => {
                self.remember_engine_error();
                vec![("connection_error", Vec::new())]
            }
            Event::Reconnecting { attempt, delay } => vec![(
                "reconnecting",
                vec![attempt.to_variant(), delay.as_secs_f64().to_variant()],
            )],
            Event::Reconnected => vec![("reconnected", Vec::new())],
            Event::ReconnectFailed { .. } => {
                self.remember_engine_error();
                vec![("reconnect_failed", Vec::new())]
            }
            Event::ReconnectQueueDiscarded { count } => vec![(
                "reconnect_queue_discarded",
                vec![count_to_int(count).to_variant()],
            )],
        }
    }

    /// Whether anything is connected to `signal`.
    fn has_listeners(&self, signal: &str) -> bool {
        !self.base().get_signal_connection_list(signal).is_empty()
    }
}
