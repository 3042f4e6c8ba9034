//! Statistics: the traffic counters and round-trip time of the connection, and the
//! `Performance` monitors that show them in the editor's debugger.

use godot::classes::Performance;
use godot::global::Error as GodotError;
use godot::prelude::*;
use rust_websocket_engine::Statistics;

use super::RustWebSocketClient;
use crate::convert::count_to_int;
use crate::main_thread::main_thread_only;

#[godot_api(secondary)]
impl RustWebSocketClient {
    /// The smoothed round-trip time of the heartbeat's pings in seconds (as TCP's SRTT,
    /// RFC 6298: each pong moves it 1/8 of the way to the new sample), or [code]0.0[/code] before
    /// the first pong. Needs [member heartbeat_interval]. Only the pong answering one of this
    /// client's pings counts; pongs the server sends on its own are ignored.
    #[func]
    fn get_round_trip_time(&self) -> f64 {
        main_thread_only!("get_round_trip_time");
        self.client
            .round_trip_time()
            .map_or(0.0, |rtt| rtt.as_secs_f64())
    }

    /// What the current (or last) connection carried since [method connect_to_url], live while
    /// it is open and kept after it ended:
    /// [code]messages_sent[/code], [code]messages_received[/code] (messages);
    /// [code]payload_bytes_sent[/code], [code]payload_bytes_received[/code] (bytes of the
    /// messages themselves); [code]wire_bytes_sent[/code], [code]wire_bytes_received[/code]
    /// (bytes of the WebSocket stream: the HTTP upgrade and every frame with its header, after
    /// compression and before TLS encryption); [code]compression_ratio[/code] (payload bytes per
    /// wire byte, both directions: below 1 without compression, [code]0.0[/code] before any
    /// byte); [code]round_trip_time[/code] (seconds, as [method get_round_trip_time]). These
    /// count the current (or last) connection only; [code]reconnects[/code] counts the
    /// connections [member auto_reconnect] opened again since [method connect_to_url].
    #[func]
    fn get_statistics(&self) -> VarDictionary {
        main_thread_only!("get_statistics");
        let mut dictionary = VarDictionary::new();
        for (key, value) in
            statistics_entries(&self.client.statistics(), self.client.reconnect_count())
        {
            dictionary.set(key, &value);
        }
        dictionary
    }

    /// One entry of [method get_statistics] by its key, or [code]null[/code] for an unknown key.
    /// The [Performance] monitors call it.
    #[func]
    fn get_statistic(&self, key: GString) -> Variant {
        main_thread_only!("get_statistic");
        let key = key.to_string();
        statistics_entries(&self.client.statistics(), self.client.reconnect_count())
            .into_iter()
            .find(|(name, _)| *name == key)
            .map_or(Variant::nil(), |(_, value)| value)
    }

    /// Shows every entry of [method get_statistics] in the editor debugger's Monitors tab, as
    /// [Performance] custom monitors named [code]<category>/<key>[/code] (e.g.
    /// [code]"RustWebSocket/messages_received"[/code]). They are removed when the client is freed
    /// or by [method remove_performance_monitors], and replace those this client added before.
    /// Give each client its own [param category]: returns [constant ERR_ALREADY_EXISTS] (and
    /// adds nothing) when one of the names is taken.
    #[func]
    fn add_performance_monitors(
        &mut self,
        #[opt(default = "RustWebSocket")] category: GString,
    ) -> GodotError {
        main_thread_only!("add_performance_monitors", GodotError::ERR_UNAVAILABLE);
        self.remove_performance_monitors();
        let keys = statistics_entries(&Statistics::default(), 0).map(|(key, _)| key);
        let ids: Vec<StringName> = keys
            .iter()
            .map(|key| StringName::from(&format!("{category}/{key}")))
            .collect();
        let mut performance = Performance::singleton();
        if let Some(taken) = ids.iter().find(|id| performance.has_custom_monitor(*id)) {
            return self.refuse_call(
                GodotError::ERR_ALREADY_EXISTS,
                format!("a Performance monitor named {taken} already exists"),
            );
        }
        let reader = Callable::from_object_method(&self.to_gd(), "get_statistic");
        for (id, key) in ids.iter().zip(keys) {
            let arguments: VarArray = [key.to_variant()].into_iter().collect();
            performance
                .add_custom_monitor_ex(id, &reader)
                .arguments(&arguments)
                .done();
        }
        self.performance_monitors = ids;
        GodotError::OK
    }

    /// Removes the monitors [method add_performance_monitors] added, if any.
    #[func]
    fn remove_performance_monitors(&mut self) {
        main_thread_only!("remove_performance_monitors");
        if self.performance_monitors.is_empty() {
            return;
        }
        let mut performance = Performance::singleton();
        for id in self.performance_monitors.drain(..) {
            if performance.has_custom_monitor(&id) {
                performance.remove_custom_monitor(&id);
            }
        }
    }
}

impl Drop for RustWebSocketClient {
    /// A freed client takes its Performance monitors with it, so the debugger never calls a
    /// freed object.
    fn drop(&mut self) {
        self.remove_performance_monitors();
    }
}

/// The entries of [method get_statistics], in order: counters as ints, ratio and round-trip
/// time (seconds) as floats, 0 when not known yet; `reconnects` last.
fn statistics_entries(statistics: &Statistics, reconnects: u64) -> [(&'static str, Variant); 9] {
    let count = |value: u64| count_to_int(value).to_variant();
    [
        ("messages_sent", count(statistics.messages_sent)),
        ("messages_received", count(statistics.messages_received)),
        ("payload_bytes_sent", count(statistics.payload_bytes_sent)),
        (
            "payload_bytes_received",
            count(statistics.payload_bytes_received),
        ),
        ("wire_bytes_sent", count(statistics.wire_bytes_sent)),
        ("wire_bytes_received", count(statistics.wire_bytes_received)),
        (
            "compression_ratio",
            statistics.compression_ratio().unwrap_or(0.0).to_variant(),
        ),
        (
            "round_trip_time",
            statistics
                .round_trip_time
                .map_or(0.0, |rtt| rtt.as_secs_f64())
                .to_variant(),
        ),
        ("reconnects", count(reconnects)),
    ]
}
