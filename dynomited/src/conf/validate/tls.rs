//! The TLS keys of ours: the client listener (`tls_listen` and its files) and TLS to the
//! datastore (`datastore_tls` and its files). Only their shape is checked here (which keys
//! go together); the files are read when the node starts and on SIGHUP (`certs`), and an
//! error there points at the key's line.

use std::path::PathBuf;

use super::super::model::{ClientTls, DatastoreTls, KeyFile, Server};
use super::{spec, Ctx};

impl Ctx<'_> {
    /// A key naming a file, with its line.
    fn file(&mut self, key: &str) -> Option<KeyFile> {
        let name = spec(key).name;
        self.single(key, |_, _, t| Some(PathBuf::from(t)), |_| false)
            .map(|(path, line)| KeyFile {
                path,
                line,
                key: name,
            })
    }

    pub(super) fn line_of(&self, key: &str) -> Option<usize> {
        self.occurrences(key).first().map(|e| e.line)
    }

    /// `key` is set although what it belongs to (`owner`) is not: an error at its line.
    fn orphan(&mut self, key: &str, owner: &str, example: &str) {
        if let Some(line) = self.line_of(key) {
            let msg =
                format!("{key} is set but {owner} is not; add e.g. {example} or remove {key}");
            self.err(line, key, msg);
        }
    }

    /// The client TLS listener, when `tls_listen` is set (then its certificate and key are
    /// required).
    pub(super) fn client_tls(&mut self) -> Option<ClientTls> {
        let listen = self.listen("tls_listen");
        let cert_file = self.file("tls_cert_file");
        let key_file = self.file("tls_key_file");
        let ca_file = self.file("tls_ca_file");
        if !self.is_set("tls_listen") {
            for k in ["tls_cert_file", "tls_key_file", "tls_ca_file"] {
                self.orphan(k, "tls_listen", "tls_listen: 127.0.0.1:6380");
            }
            return None;
        }
        let line = self.line_of("tls_listen").unwrap_or(self.pool_line);
        for (k, set) in [
            ("tls_cert_file", cert_file.is_some()),
            ("tls_key_file", key_file.is_some()),
        ] {
            if !set && !self.is_set(k) {
                let msg = format!(
                    "missing key \"{k}\", required with tls_listen; add e.g. {}",
                    spec(k).example
                );
                self.err(line, k, msg);
            }
        }
        Some(ClientTls {
            listen: listen?,
            cert_file: cert_file?,
            key_file: key_file?,
            ca_file,
        })
    }

    /// TLS to the datastore, when `datastore_tls: true` (then its CA is required; a client
    /// certificate needs its key and the other way round).
    pub(super) fn datastore_tls(&mut self, server: Option<&Server>) -> Option<DatastoreTls> {
        let on = self.bool_or("datastore_tls", false);
        let ca_file = self.file("datastore_tls_ca_file");
        let cert_file = self.file("datastore_tls_cert_file");
        let key_file = self.file("datastore_tls_key_file");
        let server_name = self.string("datastore_tls_server_name");
        const OTHERS: [&str; 4] = [
            "datastore_tls_ca_file",
            "datastore_tls_cert_file",
            "datastore_tls_key_file",
            "datastore_tls_server_name",
        ];
        if !on {
            for k in OTHERS {
                self.orphan(k, "datastore_tls: true", "datastore_tls: true");
            }
            return None;
        }
        let line = self.line_of("datastore_tls").unwrap_or(self.pool_line);
        if ca_file.is_none() && !self.is_set("datastore_tls_ca_file") {
            let msg = format!(
                "missing key \"datastore_tls_ca_file\", required with datastore_tls: true (the CA the datastore's certificate is checked against); add e.g. {}",
                spec("datastore_tls_ca_file").example
            );
            self.err(line, "datastore_tls_ca_file", msg);
        }
        match (&cert_file, &key_file) {
            (Some(c), None) if !self.is_set("datastore_tls_key_file") => {
                let msg = "datastore_tls_cert_file needs datastore_tls_key_file (the certificate's private key); add e.g. datastore_tls_key_file: /etc/dynomite/tls/client.key".to_string();
                self.err(c.line, "datastore_tls_cert_file", msg);
            }
            (None, Some(k)) if !self.is_set("datastore_tls_cert_file") => {
                let msg = "datastore_tls_key_file needs datastore_tls_cert_file (the certificate of the key); add e.g. datastore_tls_cert_file: /etc/dynomite/tls/client.crt".to_string();
                self.err(k.line, "datastore_tls_key_file", msg);
            }
            _ => {}
        }
        let server = server?;
        if server.unix.is_some() {
            let msg = format!(
                "\"true\" needs a TCP datastore, and \"{}\" is a unix socket; use the datastore's host:port (its tls-port) in servers",
                server.host
            );
            self.err(line, "datastore_tls", msg);
            return None;
        }
        Some(DatastoreTls {
            ca_file: ca_file?,
            cert_file,
            key_file,
            server_name: server_name.unwrap_or_else(|| server.host.clone()),
        })
    }
}
