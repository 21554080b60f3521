//! The limits of ours: buffered bytes, request caps, gossip, plain peers (README, *Security,
//! Limits*).

use super::super::model::{Limits, SecureOption};
use super::super::value;
use super::{defaults, spec, Ctx};

impl Ctx<'_> {
    /// A size key (`512mb`): `Some(bytes)` when set to a non-zero value.
    fn size(&mut self, key: &str) -> Option<u64> {
        let found = self.single(
            key,
            |cx, e, text| match value::parse_size(text) {
                Ok(n) => Some(n),
                Err(why) => {
                    let s = spec(&e.key);
                    let msg = format!("{why}; expected {}, e.g. {}", s.what, s.example);
                    cx.err(e.line, &e.key, msg);
                    None
                }
            },
            |n| *n == 0,
        );
        found.map(|(n, _)| n).filter(|&n| n != 0)
    }

    pub(super) fn limits(&mut self, secure_server_option: SecureOption) -> Limits {
        let limits = Limits {
            max_buffer_memory: self.size("max_buffer_memory"),
            max_multibulk_len: self.num_or("max_multibulk_len", defaults::MAX_MULTIBULK_LEN),
            client_query_buffer_limit: self
                .size("client_query_buffer_limit")
                .unwrap_or(defaults::CLIENT_QUERY_BUFFER_LIMIT),
            max_gossip_nodes: self.num_u32_or("max_gossip_nodes", defaults::MAX_GOSSIP_NODES),
            peer_tls_required: self.bool_or("peer_tls_required", false),
        };
        if limits.peer_tls_required && secure_server_option != SecureOption::All {
            if let Some(line) = self.line_of("peer_tls_required") {
                let msg = format!(
                    "true needs secure_server_option: all (it is {}): this node would send plain links that its peers refuse",
                    secure_server_option.name()
                );
                self.err(line, "peer_tls_required", msg);
            }
        }
        limits
    }
}
