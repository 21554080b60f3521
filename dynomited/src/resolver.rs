//! Host names resolved off the event loop. Gossip and seed providers may name nodes by host
//! name; `getaddrinfo` can take seconds (a slow or dead DNS server), which on the loop thread
//! would stall every client. Names go to one resolver thread instead, and the loop asks
//! again: gossip and seed lists repeat, so a node named by a new host name joins at the
//! round after its name resolved. IP literals never leave the loop.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A resolved name is asked again after this long (its old address serves meanwhile).
pub const TTL: Duration = Duration::from_secs(60);

type Key = (String, u16);
type Answers = Arc<Mutex<HashMap<Key, (Option<SocketAddr>, Instant)>>>;

/// What [`Resolver::lookup`] knows now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The address (`None`: the name does not resolve).
    Ready(Option<SocketAddr>),
    /// Asked; not answered yet.
    Pending,
}

#[derive(Default)]
pub struct Resolver {
    tx: Option<mpsc::Sender<Key>>,
    answers: Answers,
    asked: HashSet<Key>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resolver({} asked)", self.asked.len())
    }
}

/// The address of `host:port` as Dynomite's `gethostbyname` gives it: the first IPv4
/// address, else the first one. Blocking: only ever called on the resolver thread.
pub fn resolve_blocking(host: &str, port: u16) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}

impl Resolver {
    /// The address of `host:port` without blocking: an IP literal at once, a name from the
    /// answers the thread gave (asking again once they are older than [`TTL`]).
    pub fn lookup(&mut self, host: &str, port: u16, now: Instant) -> Lookup {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Lookup::Ready(Some(SocketAddr::new(ip, port)));
        }
        let key = (host.to_string(), port);
        let known = self.answers.lock().ok().and_then(|a| a.get(&key).copied());
        match known {
            Some((addr, at)) => {
                if now.duration_since(at) > TTL {
                    self.ask(key);
                } else {
                    self.asked.remove(&key);
                }
                Lookup::Ready(addr)
            }
            None => {
                self.ask(key);
                Lookup::Pending
            }
        }
    }

    fn ask(&mut self, key: Key) {
        if self.asked.contains(&key) {
            return;
        }
        let tx = self.tx.get_or_insert_with(|| spawn(self.answers.clone()));
        if tx.send(key.clone()).is_ok() {
            self.asked.insert(key);
        }
    }
}

fn spawn(answers: Answers) -> mpsc::Sender<Key> {
    let (tx, rx) = mpsc::channel::<Key>();
    let spawned = std::thread::Builder::new()
        .name("resolver".into())
        .spawn(move || {
            for (host, port) in rx {
                let addr = resolve_blocking(&host, port);
                if let Ok(mut a) = answers.lock() {
                    a.insert((host, port), (addr, Instant::now()));
                }
            }
        });
    if let Err(e) = spawned {
        crate::log_warn!("cannot start the resolver thread: {e}; host names stay unresolved");
    }
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_at_once_names_through_the_thread() {
        let mut r = Resolver::default();
        let now = Instant::now();
        assert_eq!(
            r.lookup("127.0.0.7", 8101, now),
            Lookup::Ready(Some("127.0.0.7:8101".parse().unwrap()))
        );
        assert_eq!(r.lookup("localhost", 8101, now), Lookup::Pending);
        // Asked once, answered by the thread.
        let deadline = Instant::now() + Duration::from_secs(10);
        let got = loop {
            match r.lookup("localhost", 8101, Instant::now()) {
                Lookup::Ready(a) => break a,
                Lookup::Pending if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Lookup::Pending => panic!("localhost never resolved"),
            }
        };
        assert!(got.is_some_and(|a| a.ip().is_loopback() && a.port() == 8101));
        assert!(r.asked.is_empty());
        // Stale answers still serve while asked again.
        assert_eq!(
            r.lookup("localhost", 8101, Instant::now() + TTL * 2),
            Lookup::Ready(got)
        );
        assert_eq!(r.asked.len(), 1);
        assert_eq!(
            r.lookup("no-such-host.invalid", 1, now),
            Lookup::Pending,
            "a name that fails is answered None later"
        );
    }
}
