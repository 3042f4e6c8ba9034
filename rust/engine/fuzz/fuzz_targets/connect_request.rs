//! Arbitrary text as the URL, header lines and sub-protocols of a connection request: building
//! the request either succeeds or fails with an error that renders as a sentence; never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_websocket_engine::ConnectRequest;

fuzz_target!(|text: &str| {
    // The first line is the URL, lines starting with "P " offer a sub-protocol, the rest are
    // header lines.
    let mut lines = text.split('\n');
    let url = lines.next().unwrap_or_default();
    let mut request = match ConnectRequest::new(url) {
        Ok(request) => request,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    for line in lines {
        let built = match line.strip_prefix("P ") {
            Some(protocols) => request.clone().with_protocols(protocols.split(',')),
            None => request.clone().with_header_line(line),
        };
        match built {
            Ok(next) => request = next,
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
    // What was accepted parses again as the same kind of URL.
    assert!(
        ConnectRequest::new(request.url()).is_ok(),
        "{}",
        request.url()
    );
});
