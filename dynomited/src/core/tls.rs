//! Client-listener and datastore TLS at work (the configurations are `certs`'): the TLS
//! listener bound at start, a session given to each client it accepts, and the certificate
//! files read again on SIGHUP.
//!
//! ```text
//!   start ─► Certs::load ─► bind tls_listen ─► accept ─► client conn with a TLS session
//!   SIGHUP ─► Certs::load ─┬─ ok:  new connections get the new configuration
//!                          └─ err: logged, the running one stays
//! ```

use std::io;

use super::{bind, show, Core};
use crate::conf::Config;
use crate::conn::{Listener, Who};
use crate::{log_notice, log_warn};

impl Core {
    /// Read the TLS files and bind the TLS client listener (if configured).
    pub(super) fn start_tls(&mut self) -> io::Result<()> {
        let certs = crate::certs::Certs::load(&self.cfg)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.rx.certs.client = certs.client;
        self.rx.certs.datastore = certs.datastore;
        if let Some(t) = &self.cfg.backend.tls {
            log_notice!(
                "datastore {} over TLS (server name {}, CA {})",
                self.cfg.backend.server.name,
                t.server_name,
                t.ca_file.path.display()
            );
        }
        let Some(t) = self.cfg.security.client_tls.clone() else {
            return Ok(());
        };
        let fd = bind(&t.listen, self.cfg.net.backlog).map_err(|e| {
            io::Error::new(e.kind(), format!("tls_listen on {}: {e}", show(&t.listen)))
        })?;
        self.add_listener(fd, Listener::TlsClients)?;
        log_notice!(
            "listening for TLS clients on {}, certificate {}",
            show(&t.listen),
            crate::certs::describe(&t)
        );
        Ok(())
    }

    /// Give a client accepted on the TLS listener its session; `false` when none could be
    /// made (the connection is closed).
    pub(super) fn start_client_session(&mut self, idx: u32) -> bool {
        let session = self.rx.certs.accept();
        let Some(c) = self.rx.conn_mut(idx) else {
            return false;
        };
        match session {
            Some(Ok(s)) => {
                c.tls = Some(Box::new(s));
                true
            }
            Some(Err(e)) => {
                log_warn!("{}: {e}; closed", Who(c));
                self.rx.certs.counts.client_failures += 1;
                self.rx.remove(idx, &mut self.bufs.mbufs);
                false
            }
            None => {
                self.rx.remove(idx, &mut self.bufs.mbufs);
                false
            }
        }
    }

    /// SIGHUP: read the TLS files again (whether or not their names changed: a certificate
    /// is renewed in place). On success new connections get the new configurations and the
    /// open ones keep theirs; on failure the running ones stay, and so do their keys in
    /// `new`. Turning TLS on or off, or moving `tls_listen`, needs a restart.
    pub(super) fn reload_tls(
        &mut self,
        new: &mut Config,
        old: &Config,
        changed: &mut Vec<String>,
        restart: &mut Vec<&'static str>,
    ) {
        let listen = |c: &Config| c.security.client_tls.as_ref().map(|t| t.listen.clone());
        if listen(new) != listen(old) {
            restart.push("tls_listen");
            new.security.client_tls = old.security.client_tls.clone();
        }
        if new.backend.tls.is_some() != old.backend.tls.is_some() {
            restart.push("datastore_tls");
            new.backend.tls = old.backend.tls.clone();
        }
        if new.security.client_tls.is_none() && new.backend.tls.is_none() {
            return;
        }
        match crate::certs::Certs::load(new) {
            Ok(c) => {
                self.rx.certs.client = c.client;
                self.rx.certs.datastore = c.datastore;
                if let Some(t) = &new.security.client_tls {
                    changed.push(format!(
                        "TLS certificate {} (new connections)",
                        crate::certs::describe(t)
                    ));
                }
                if new.backend.tls.is_some() {
                    changed.push("datastore TLS files (from the next connect)".into());
                }
            }
            Err(e) => {
                log_warn!("SIGHUP: {e}; the running TLS certificates stay");
                new.security.client_tls = old.security.client_tls.clone();
                new.backend.tls = old.backend.tls.clone();
            }
        }
    }
}
