//! Reports of each client's connection and traffic to the editor's debugger, shown in the
//! "WebSockets" tab that `addons/rust_websocket/debugger/` adds to it.
//!
//! While the game runs with a debugger attached ([method EngineDebugger.is_active]) and the
//! project setting [`REPORT_SETTING`] is not `false`, each client sends
//! [method EngineDebugger.send_message] messages named `rust_websocket:<what>`, whose data is one
//! Dictionary with the client's `id` (its instance id), `time` (seconds since the game started),
//! and:
//! - `connecting`: `url`;
//! - `state`: `state` (a `STATE_*` constant);
//! - `opened`: `protocol`, `extensions`, `tls_version`, `peer` ("address:port");
//! - `message`: `outgoing`, `is_text`, `size` (bytes), `preview` (a String for text, a
//!   PackedByteArray for binary: at most
//!   [`PREVIEW_BYTES`](rust_websocket_engine::traffic_report::PREVIEW_BYTES)), `cut` (whether the preview is
//!   shorter than the message);
//! - `not_shown`: `count`, messages left out since the last report (see [`ReportBudget`]);
//! - `close`: `outgoing`, `code`, `reason`: a close frame sent or received;
//! - `closed`: `clean`, `code` (-1 without a close frame);
//! - `error`: `error` (the text of [method RustWebSocketClient.get_last_error]);
//! - `reconnecting`: `attempt`, `delay`; `reconnected`; `reconnect_queue_discarded`: `count`;
//! - `round_trip`: `round_trip_time` (seconds): a pong answered the heartbeat's ping;
//! - `statistics`: `messages_sent`, `messages_received`, `bytes_sent`, `bytes_received`
//!   (payload bytes), at most every [`STATISTICS_REPORT_PERIOD`] while they change.
//!
//! Without a debugger, each hook costs one check of a `bool`.

use std::sync::Mutex;
use std::time::Duration;

use godot::classes::{EngineDebugger, ProjectSettings, Time};
use godot::prelude::*;
use rust_websocket_engine::traffic_report::{
    preview, Pacer, ReportBudget, STATISTICS_REPORT_PERIOD,
};
use rust_websocket_engine::{Client, Event, Message, ReadyState, Statistics};

use crate::convert::count_to_int;

/// The project setting that turns the reports off when `false` (default `true`).
pub(crate) const REPORT_SETTING: &str = "network/rust_websocket/debugger_reports";

/// The prefix of every message, which the editor's plugin captures.
const CAPTURE: &str = "rust_websocket";

/// Message reports of every client of the process share one budget, as they share the
/// debugger's queue.
static BUDGET: Mutex<ReportBudget> = Mutex::new(ReportBudget::new());

/// What one client reported last, to report only changes.
#[derive(Default)]
pub(crate) struct DebuggerReporter {
    /// Whether the debugger is attached and reports are on; decided at each connect.
    active: bool,
    id: i64,
    state: Option<ReadyState>,
    round_trip_time: Option<Duration>,
    statistics: Statistics,
    statistics_pacer: Pacer,
    /// Messages left out since the last report, for lack of budget.
    not_shown: u64,
}

impl DebuggerReporter {
    /// After a successful [method RustWebSocketClient.connect_to_url].
    pub(crate) fn connecting(&mut self, id: InstanceId, client: &Client) {
        self.active = EngineDebugger::singleton().is_active() && reports_enabled();
        if !self.active {
            return;
        }
        self.id = id.to_i64();
        self.state = None;
        self.round_trip_time = None;
        self.statistics = Statistics::default();
        self.report(
            "connecting",
            &[("url", client.requested_url().to_variant())],
        );
        self.report_state(client);
    }

    /// After the client returned `event` from its poll.
    pub(crate) fn event(&mut self, event: &Event, client: &Client) {
        if self.active {
            self.report_event(event, client);
        }
    }

    /// Before the client is handed `message` to send.
    pub(crate) fn sending(&mut self, message: &Message, client: &Client) {
        if self.active && client.state() == ReadyState::Open {
            self.report_message(message, true);
        }
    }

    /// After the game started the close handshake with `code` and `reason`.
    pub(crate) fn closing(&mut self, code: i64, reason: &GString, client: &Client) {
        if !self.active {
            return;
        }
        self.report_close(true, code, reason.to_variant());
        self.report_state(client);
    }

    /// At the end of each poll: the round-trip time and counters, and messages left out.
    pub(crate) fn polled(&mut self, client: &Client) {
        if self.active {
            self.report_changes(client);
        }
    }

    fn report_event(&mut self, event: &Event, client: &Client) {
        if *event != Event::MessageReceived {
            self.report_not_shown();
        }
        self.report_state(client);
        match event {
            Event::Opened { protocol } => {
                let tls_version = client.tls_info().map(|tls| tls.version.as_str());
                let peer = client.peer_addr().map(|addr| addr.to_string());
                self.report(
                    "opened",
                    &[
                        ("protocol", protocol.to_variant()),
                        ("extensions", client.negotiated_extensions().to_variant()),
                        ("tls_version", tls_version.unwrap_or_default().to_variant()),
                        ("peer", peer.unwrap_or_default().to_variant()),
                    ],
                );
            }
            Event::MessageReceived => {
                if let Some(message) = client.newest_message() {
                    self.report_message(message, false);
                }
            }
            Event::CloseRequested { code, reason } => {
                self.report_close(false, i64::from(*code), reason.to_variant());
            }
            Event::Closed { clean } => {
                // The final counts, whenever the last were reported.
                self.report_statistics(client.statistics());
                let code = client.close_code().map_or(-1, i64::from);
                self.report(
                    "closed",
                    &[("clean", clean.to_variant()), ("code", code.to_variant())],
                );
                if !clean {
                    self.report_error(client);
                }
            }
            Event::Failed | Event::ReconnectFailed { .. } | Event::MultiplayerHandshakeFailed => {
                self.report_error(client)
            }
            // The panel has no line for it: the multiplayer packets that follow are shown.
            Event::PeerIdAssigned { .. } => {}
            Event::Reconnecting { attempt, delay } => self.report(
                "reconnecting",
                &[
                    ("attempt", attempt.to_variant()),
                    ("delay", delay.as_secs_f64().to_variant()),
                ],
            ),
            Event::Reconnected => self.report("reconnected", &[]),
            Event::ReconnectQueueDiscarded { count } => self.report(
                "reconnect_queue_discarded",
                &[("count", count_to_int(*count).to_variant())],
            ),
        }
    }

    fn report_state(&mut self, client: &Client) {
        let state = client.state();
        if self.state != Some(state) {
            self.state = Some(state);
            self.report("state", &[("state", (state as i32).to_variant())]);
        }
    }

    fn report_message(&mut self, message: &Message, outgoing: bool) {
        let admitted = BUDGET
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .admit(now());
        if !admitted {
            self.not_shown += 1;
            return;
        }
        self.report_not_shown();
        let (bytes, cut) = preview(message);
        let preview = match message {
            Message::Text(_) => GString::from(String::from_utf8_lossy(bytes).as_ref()).to_variant(),
            Message::Binary(_) => PackedByteArray::from(bytes).to_variant(),
        };
        self.report(
            "message",
            &[
                ("outgoing", outgoing.to_variant()),
                ("is_text", message.is_text().to_variant()),
                ("size", (message.len() as i64).to_variant()),
                ("preview", preview),
                ("cut", cut.to_variant()),
            ],
        );
    }

    fn report_not_shown(&mut self) {
        if self.not_shown > 0 {
            let count = std::mem::take(&mut self.not_shown);
            self.report("not_shown", &[("count", (count as i64).to_variant())]);
        }
    }

    fn report_close(&mut self, outgoing: bool, code: i64, reason: Variant) {
        self.report(
            "close",
            &[
                ("outgoing", outgoing.to_variant()),
                ("code", code.to_variant()),
                ("reason", reason),
            ],
        );
    }

    fn report_error(&mut self, client: &Client) {
        if let Some(error) = client.last_error() {
            self.report("error", &[("error", error.to_string().to_variant())]);
        }
    }

    fn report_changes(&mut self, client: &Client) {
        self.report_state(client);
        let statistics = client.statistics();
        if statistics.round_trip_time != self.round_trip_time {
            self.round_trip_time = statistics.round_trip_time;
            if let Some(rtt) = statistics.round_trip_time {
                self.report(
                    "round_trip",
                    &[("round_trip_time", rtt.as_secs_f64().to_variant())],
                );
            }
        }
        let mut statistics = statistics;
        statistics.round_trip_time = None;
        let changed = statistics != self.statistics || self.not_shown > 0;
        if changed && self.statistics_pacer.ready(now(), STATISTICS_REPORT_PERIOD) {
            self.report_not_shown();
            self.report_statistics(statistics);
        }
    }

    fn report_statistics(&mut self, mut statistics: Statistics) {
        // The round-trip time is reported on its own (`round_trip`).
        statistics.round_trip_time = None;
        self.statistics = statistics;
        let count = |value: u64| count_to_int(value).to_variant();
        self.report(
            "statistics",
            &[
                ("messages_sent", count(statistics.messages_sent)),
                ("messages_received", count(statistics.messages_received)),
                ("bytes_sent", count(statistics.payload_bytes_sent)),
                ("bytes_received", count(statistics.payload_bytes_received)),
            ],
        );
    }

    /// Sends `rust_websocket:<what>` with this client's id, the time and `fields`.
    fn report(&self, what: &str, fields: &[(&str, Variant)]) {
        let mut details = VarDictionary::new();
        details.set("id", self.id);
        details.set("time", now().as_secs_f64());
        for (key, value) in fields {
            details.set(*key, value);
        }
        let data: VarArray = [details.to_variant()].into_iter().collect();
        EngineDebugger::singleton().send_message(&format!("{CAPTURE}:{what}"), &data);
    }
}

/// Whether [`REPORT_SETTING`] is unset or true.
fn reports_enabled() -> bool {
    ProjectSettings::singleton()
        .get_setting_ex(REPORT_SETTING)
        .default_value(&true.to_variant())
        .done()
        .try_to::<bool>()
        .unwrap_or(true)
}

/// The time since the game started, by Godot's clock.
fn now() -> Duration {
    Duration::from_micros(Time::singleton().get_ticks_usec())
}
