//! Happy eyeballs (RFC 8305): TCP connects to a host's addresses, IPv6 and IPv4 interleaved and
//! raced with a stagger, the first to connect winning, within the connect timeout.
//!
//! Every attempt of a connection is registered with the connection's one `mio` token: a
//! readiness event on any of them drives the connection, which then checks all of them. Losers
//! are deregistered and closed as soon as there is a winner.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

/// RFC 8305's "Connection Attempt Delay": how long an attempt runs alone before the next
/// address is tried alongside it (sooner when it fails).
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Whether `host` is `localhost` or a name under it (RFC 6761): such names are answered here
/// with `::1` and `127.0.0.1`, as browsers and curl do, instead of asking the system resolver
/// (whose `/etc/hosts` often lists only one of them).
pub(crate) fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// The addresses of `host` when no resolver is needed: an IP address, or a localhost name.
pub(crate) fn addresses_without_resolver(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(vec![SocketAddr::new(ip, port)]);
    }
    is_localhost_name(host).then(|| {
        vec![
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
        ]
    })
}

/// Orders addresses as RFC 8305 section 4 asks: the family of the first one (the system
/// resolver sorts by RFC 6724, which prefers IPv6 where it works), then alternating families.
/// Duplicates are dropped.
pub(crate) fn interleave_families(addresses: Vec<SocketAddr>) -> VecDeque<SocketAddr> {
    let mut unique: Vec<SocketAddr> = Vec::with_capacity(addresses.len());
    for address in addresses {
        if !unique.contains(&address) {
            unique.push(address);
        }
    }
    let Some(first) = unique.first() else {
        return VecDeque::new();
    };
    let first_is_v6 = first.is_ipv6();
    let (preferred, other): (Vec<_>, Vec<_>) = unique
        .into_iter()
        .partition(|address| address.is_ipv6() == first_is_v6);
    let mut ordered = VecDeque::with_capacity(preferred.len() + other.len());
    let (mut preferred, mut other) = (preferred.into_iter(), other.into_iter());
    loop {
        match (preferred.next(), other.next()) {
            (None, None) => return ordered,
            (a, b) => ordered.extend(a.into_iter().chain(b)),
        }
    }
}

/// Why dialing failed.
pub(crate) enum DialFailure {
    /// Every address refused or failed, in the order tried.
    AllFailed(Vec<(SocketAddr, io::Error)>),
    /// The connect timeout passed first; these addresses were tried.
    TimedOut(Vec<SocketAddr>),
}

/// Where dialing stands after a step.
pub(crate) enum Dialing {
    /// Attempts are in flight: wait for readiness or [`Dialer::next_timer`].
    InProgress(Dialer),
    /// This attempt connected first; it stays registered with the connection's token.
    Connected {
        tcp: TcpStream,
        addr: SocketAddr,
    },
    Failed(DialFailure),
}

/// The TCP connect attempts of one connection.
pub(crate) struct Dialer {
    token: Token,
    untried: VecDeque<SocketAddr>,
    in_flight: Vec<(TcpStream, SocketAddr)>,
    failures: Vec<(SocketAddr, io::Error)>,
    /// When the next address is tried even though the attempts in flight are still pending.
    next_attempt_at: Instant,
    /// When the connect timeout strikes; `None` when the timeout is too large to fall on the
    /// clock (e.g. `Duration::MAX`: no timeout).
    give_up_at: Option<Instant>,
}

impl Dialer {
    /// Starts dialing `addresses` (in resolver order) at `now`, giving up after `timeout`.
    pub(crate) fn start(
        addresses: Vec<SocketAddr>,
        registry: &Registry,
        token: Token,
        now: Instant,
        timeout: Duration,
    ) -> Dialing {
        let dialer = Self {
            token,
            untried: interleave_families(addresses),
            in_flight: Vec::new(),
            failures: Vec::new(),
            next_attempt_at: now,
            give_up_at: now.checked_add(timeout),
        };
        dialer.advance(registry, now)
    }

    /// Checks the attempts in flight, starts the next one when it is due, and says where
    /// dialing stands at `now`.
    pub(crate) fn advance(mut self, registry: &Registry, now: Instant) -> Dialing {
        let mut index = 0;
        while index < self.in_flight.len() {
            match connect_outcome(&mut self.in_flight[index].0) {
                None => index += 1,
                Some(Ok(())) => {
                    let (tcp, addr) = self.in_flight.swap_remove(index);
                    self.abandon(registry);
                    return Dialing::Connected { tcp, addr };
                }
                Some(Err(error)) => {
                    let (mut tcp, addr) = self.in_flight.swap_remove(index);
                    let _ = registry.deregister(&mut tcp);
                    self.failures.push((addr, error));
                    // A failed attempt lets the next one start at once (RFC 8305 section 5).
                    self.next_attempt_at = now;
                }
            }
        }
        if self.give_up_at.is_some_and(|give_up_at| now >= give_up_at) {
            let mut tried: Vec<SocketAddr> = self.failures.iter().map(|(addr, _)| *addr).collect();
            tried.extend(self.in_flight.iter().map(|(_, addr)| *addr));
            self.abandon(registry);
            return Dialing::Failed(DialFailure::TimedOut(tried));
        }
        if self.in_flight.is_empty() || now >= self.next_attempt_at {
            self.start_next(registry, now);
        }
        if self.in_flight.is_empty() {
            return Dialing::Failed(DialFailure::AllFailed(self.failures));
        }
        Dialing::InProgress(self)
    }

    /// Starts a connect to the next address that takes one (some fail at once, e.g. an IPv6
    /// address without an IPv6 route).
    fn start_next(&mut self, registry: &Registry, now: Instant) {
        while let Some(addr) = self.untried.pop_front() {
            let attempt = TcpStream::connect(addr).and_then(|mut tcp| {
                registry.register(
                    &mut tcp,
                    self.token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                Ok(tcp)
            });
            match attempt {
                Ok(tcp) => {
                    self.in_flight.push((tcp, addr));
                    self.next_attempt_at = now + CONNECTION_ATTEMPT_DELAY;
                    return;
                }
                Err(error) => self.failures.push((addr, error)),
            }
        }
    }

    /// When [`advance`](Dialer::advance) must run again even without readiness: the next
    /// attempt's start or the connect timeout.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        let next_attempt = (!self.untried.is_empty()).then_some(self.next_attempt_at);
        next_attempt.into_iter().chain(self.give_up_at).min()
    }

    /// Deregisters and closes every attempt in flight.
    pub(crate) fn abandon(&mut self, registry: &Registry) {
        for (mut tcp, _) in self.in_flight.drain(..) {
            let _ = registry.deregister(&mut tcp);
        }
    }
}

/// `None` while a non-blocking connect is pending, then whether it connected.
fn connect_outcome(tcp: &mut TcpStream) -> Option<io::Result<()>> {
    match tcp.take_error() {
        Ok(Some(error)) | Err(error) => Some(Err(error)),
        Ok(None) => match tcp.peer_addr() {
            Ok(_) => Some(Ok(())),
            Err(error) if error.kind() == io::ErrorKind::NotConnected => None,
            Err(error) => Some(Err(error)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn families_alternate_starting_with_the_first() {
        let ordered = interleave_families(vec![
            addr("[2001:db8::1]:80"),
            addr("[2001:db8::2]:80"),
            addr("[2001:db8::3]:80"),
            addr("192.0.2.1:80"),
            addr("[2001:db8::1]:80"),
        ]);
        assert_eq!(
            Vec::from(ordered),
            vec![
                addr("[2001:db8::1]:80"),
                addr("192.0.2.1:80"),
                addr("[2001:db8::2]:80"),
                addr("[2001:db8::3]:80"),
            ]
        );
        let ordered = interleave_families(vec![
            addr("192.0.2.1:80"),
            addr("192.0.2.2:80"),
            addr("[2001:db8::1]:80"),
        ]);
        assert_eq!(ordered[1], addr("[2001:db8::1]:80"));
        assert!(interleave_families(Vec::new()).is_empty());
    }

    #[test]
    fn localhost_names_skip_the_resolver_with_ipv6_first() {
        let both = addresses_without_resolver("Game.LocalHost.", 9).unwrap();
        assert_eq!(both, vec![addr("[::1]:9"), addr("127.0.0.1:9")]);
        assert_eq!(
            addresses_without_resolver("10.0.0.1", 9).unwrap(),
            vec![addr("10.0.0.1:9")]
        );
        assert!(addresses_without_resolver("example.com", 9).is_none());
        assert!(addresses_without_resolver("notlocalhost", 9).is_none());
    }
}
