//! The editor help gdext generates from the doc comments (`register-docs`): every item it lists
//! has a description. Which registered items it lists at all is checked against Godot's
//! `ClassDB` by `tests/docs/check_docs.gd` (`cargo xtask test`), which reads the XML this test
//! writes as `<class>.xml` into the folder in `RUST_WEBSOCKET_DOCS_XML` when that is set.

/// The documented classes, with the fewest items each must list (a floor that catches a
/// class whose docs went missing wholesale).
const CLASSES: [(&str, usize); 2] = [("RustWebSocketClient", 40), ("RustWebSocketPeer", 20)];

/// The class reference XML gdext hands to Godot's editor help for `class`.
fn class_xml(class: &str) -> String {
    let start = format!("<class name=\"{class}\"");
    let documents: Vec<String> = godot::docs::__gather_xml_docs().collect();
    assert_eq!(documents.len(), CLASSES.len(), "documented classes");
    documents
        .into_iter()
        .find(|xml| xml.contains(&start))
        .unwrap_or_else(|| panic!("no docs for {class}"))
}

/// The text between `<tag ...>` and `</tag>` of each `tag` element, with its `name` attribute.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{tag} ");
    let close = format!("</{tag}>");
    xml.split(open.as_str())
        .skip(1)
        .map(|rest| {
            let name = rest
                .split_once("name=\"")
                .and_then(|(_, value)| value.split_once('"'))
                .map_or("", |(name, _)| name);
            let body = rest.split_once(close.as_str()).map_or("", |(body, _)| body);
            let body = body.split_once('>').map_or("", |(_, inner)| inner);
            (name, body)
        })
        .collect()
}

/// The description of a method or signal element's body, or the whole body of a constant or
/// member (whose text is the description).
fn description(body: &str) -> &str {
    body.split_once("<description>")
        .and_then(|(_, rest)| rest.split_once("</description>"))
        .map_or(body, |(text, _)| text)
        .trim()
}

#[test]
fn every_item_of_the_editor_help_has_a_description() {
    for (class, floor) in CLASSES {
        let xml = class_xml(class);
        if let Some(folder) = std::env::var_os("RUST_WEBSOCKET_DOCS_XML") {
            let path = std::path::Path::new(&folder).join(format!("{class}.xml"));
            std::fs::write(&path, &xml).expect("cannot write the docs XML");
        }
        let brief = xml
            .split_once("<brief_description>")
            .and_then(|(_, rest)| rest.split_once("</brief_description>"))
            .map_or("", |(text, _)| text.trim());
        assert!(!brief.is_empty(), "{class} has no description");
        let mut undocumented = Vec::new();
        let mut count = 0;
        for tag in ["method", "signal", "constant", "member"] {
            for (name, body) in elements(&xml, tag) {
                count += 1;
                if description(body).is_empty() {
                    undocumented.push(format!("{tag} {name}"));
                }
            }
        }
        assert!(count > floor, "only {count} documented items for {class}");
        assert!(
            undocumented.is_empty(),
            "{class}: no description: {undocumented:?}"
        );
    }
}

/// The `default` attribute of a `member` element: the Rust expression of its `#[init(val = …)]`,
/// which both initializes the property and shows as its default in the editor help.
fn member_default<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = format!("<member name=\"{name}\" ");
    xml.split_once(start.as_str())
        .and_then(|(_, rest)| rest.split_once("default=\""))
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(|| panic!("no member {name}"), |(value, _)| value)
}

#[test]
fn every_property_defaults_to_the_engines_default() {
    use rust_websocket_engine::{Config, ProxySetting};

    let xml = class_xml("RustWebSocketClient");
    let default = |name| member_default(&xml, name);
    let seconds = |name| default(name).parse::<f64>().unwrap();
    let config = Config::default();
    assert_eq!(default("verify_tls"), config.tls.verify.to_string());
    assert_eq!(
        default("use_system_trust_store"),
        config.tls.system_trust_store.to_string()
    );
    assert_eq!(
        default("max_message_size"),
        config.max_message_size.to_string()
    );
    assert_eq!(
        default("inbound_queue_limit"),
        config.inbound_queue_limit.to_string()
    );
    assert_eq!(
        seconds("handshake_timeout"),
        config.handshake_timeout.as_secs_f64()
    );
    assert_eq!(seconds("close_timeout"), config.close_timeout.as_secs_f64());
    assert_eq!(
        default("compression_enabled"),
        config.compression.to_string()
    );
    assert_eq!(
        default("auto_reconnect"),
        config.reconnect.enabled.to_string()
    );
    assert_eq!(
        seconds("reconnect_delay_initial"),
        config.reconnect.initial_delay.as_secs_f64()
    );
    assert_eq!(
        seconds("reconnect_delay_max"),
        config.reconnect.max_delay.as_secs_f64()
    );
    assert_eq!(
        default("reconnect_max_attempts"),
        config.reconnect.max_attempts.to_string()
    );
    assert_eq!(
        default("reconnect_queue_messages"),
        config.reconnect.queue_messages.to_string()
    );
    assert_eq!(
        default("reconnect_queue_bytes"),
        config.reconnect.queue_bytes.to_string()
    );
    let codes = default("reconnect_final_close_codes");
    let listed = codes
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(list, _)| list);
    let listed: Vec<u16> = listed
        .split(", ")
        .map(|code| code.parse().unwrap())
        .collect();
    assert_eq!(listed, config.reconnect.final_close_codes, "{codes}");
    assert_eq!(
        default("use_environment_proxy"),
        (config.proxy == ProxySetting::FromEnvironment).to_string()
    );
    assert_eq!(
        seconds("connect_timeout"),
        config.connect_timeout.as_secs_f64()
    );
    assert_eq!(
        seconds("heartbeat_interval"),
        config.heartbeat_interval.as_secs_f64()
    );
    assert_eq!(
        seconds("heartbeat_timeout"),
        config.heartbeat_timeout.as_secs_f64()
    );
}
