//! TLS with the operator's own X.509 certificates (PEM files): the client listener
//! (`tls_listen`, optionally mutual) and the link to the datastore (`datastore_tls`, Redis's
//! `tls-port`). Peer links use the cluster key instead (`tls`).
//!
//! ```text
//!   start / SIGHUP ─► Certs::load(cfg) ─► ServerConfig (clients), ClientConfig (datastore)
//!   accept on tls_listen ─► accept(): a ServerConnection of the current ServerConfig
//!   datastore connect     ─► connect(): a ClientConnection (handshake driven by the loop)
//! ```
//!
//! A session holds the `Arc` of the configuration it started with, so a reload swaps the
//! configuration for new connections while the open ones keep theirs. Every error names the
//! config file, the line and the key of the file it is about.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::conf::{ClientTls, ConfError, Config, DatastoreTls, KeyFile};

/// Plaintext a session buffers before its socket takes it (as for peer links).
const TLS_BUFFER_LIMIT: usize = 1 << 20;

/// Handshakes done and failed, for `/info`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsCounts {
    pub client_handshakes: u64,
    pub client_failures: u64,
    pub datastore_handshakes: u64,
    pub datastore_failures: u64,
}

/// The loaded TLS configurations of a node (none when its config has no TLS keys).
#[derive(Default)]
pub struct Certs {
    /// What the TLS client listener presents and accepts.
    pub client: Option<Arc<rustls::ServerConfig>>,
    pub datastore: Option<DatastoreClient>,
    pub counts: TlsCounts,
}

impl std::fmt::Debug for Certs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certs")
            .field("client", &self.client.is_some())
            .field("datastore", &self.datastore.is_some())
            .finish()
    }
}

/// The datastore side: its client configuration and the name its certificate must carry.
pub struct DatastoreClient {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// `<file>:<line>: <pool>.<key>: <message>`, as configuration errors read.
fn file_error(cfg: &Config, f: &KeyFile, message: String) -> String {
    let key = format!("{}.{}", cfg.pool_name, f.key);
    ConfError::new(
        &cfg.file.display().to_string(),
        Some(f.line),
        Some(key),
        message,
    )
    .to_string()
}

fn read(cfg: &Config, f: &KeyFile) -> Result<Vec<u8>, String> {
    std::fs::read(&f.path)
        .map_err(|e| file_error(cfg, f, format!("cannot read \"{}\": {e}", f.path.display())))
}

/// Every certificate of a PEM file (at least one).
fn certs(cfg: &Config, f: &KeyFile) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(cfg, f)?;
    let list = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            file_error(
                cfg,
                f,
                format!("\"{}\" is not valid PEM: {e}", f.path.display()),
            )
        })?;
    if list.is_empty() {
        return Err(file_error(
            cfg,
            f,
            format!(
                "\"{}\" holds no certificate; expected PEM \"-----BEGIN CERTIFICATE-----\" blocks",
                f.path.display()
            ),
        ));
    }
    Ok(list)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
fn key(cfg: &Config, f: &KeyFile) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(cfg, f)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "holds no private key; expected a PEM \"-----BEGIN PRIVATE KEY-----\" block".into()
            }
            e => format!("is not a valid PEM private key: {e}"),
        };
        file_error(cfg, f, format!("\"{}\" {why}", f.path.display()))
    })
}

/// A root store of every certificate of a CA file.
fn roots(cfg: &Config, f: &KeyFile) -> Result<Arc<rustls::RootCertStore>, String> {
    let mut store = rustls::RootCertStore::empty();
    for c in certs(cfg, f)? {
        store.add(c).map_err(|e| {
            file_error(
                cfg,
                f,
                format!(
                    "\"{}\": a CA certificate is not usable: {e}",
                    f.path.display()
                ),
            )
        })?;
    }
    Ok(Arc::new(store))
}

fn server_config(cfg: &Config, t: &ClientTls) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = certs(cfg, &t.cert_file)?;
    let key = key(cfg, &t.key_file)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &t.ca_file {
        Some(ca) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots(cfg, ca)?,
                provider(),
            )
            .build()
            .map_err(|e| file_error(cfg, ca, format!("{e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(chain, key).map_err(|e| {
        file_error(
            cfg,
            &t.key_file,
            format!(
                "\"{}\" does not go with tls_cert_file \"{}\": {e}",
                t.key_file.path.display(),
                t.cert_file.path.display()
            ),
        )
    })?;
    Ok(Arc::new(config))
}

fn datastore_client(cfg: &Config, t: &DatastoreTls) -> Result<DatastoreClient, String> {
    let name = ServerName::try_from(t.server_name.clone()).map_err(|e| {
        format!(
            "{}: {}.datastore_tls_server_name: \"{}\" is not a DNS name or an IP address ({e}); set datastore_tls_server_name to the name in the datastore's certificate",
            cfg.file.display(),
            cfg.pool_name,
            t.server_name
        )
    })?;
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots(cfg, &t.ca_file)?);
    let config = match (&t.cert_file, &t.key_file) {
        (Some(c), Some(k)) => builder
            .with_client_auth_cert(certs(cfg, c)?, key(cfg, k)?)
            .map_err(|e| {
                file_error(
                    cfg,
                    k,
                    format!(
                        "\"{}\" does not go with datastore_tls_cert_file \"{}\": {e}",
                        k.path.display(),
                        c.path.display()
                    ),
                )
            })?,
        _ => builder.with_no_client_auth(),
    };
    Ok(DatastoreClient {
        config: Arc::new(config),
        name,
    })
}

impl Certs {
    /// Read every TLS file the config names and build the configurations.
    pub fn load(cfg: &Config) -> Result<Certs, String> {
        Ok(Certs {
            client: cfg
                .security
                .client_tls
                .as_ref()
                .map(|t| server_config(cfg, t))
                .transpose()?,
            datastore: cfg
                .backend
                .tls
                .as_ref()
                .map(|t| datastore_client(cfg, t))
                .transpose()?,
            counts: TlsCounts::default(),
        })
    }

    /// A server session for a client accepted on the TLS listener.
    pub fn accept(&self) -> Option<Result<rustls::Connection, String>> {
        let config = self.client.as_ref()?;
        Some(match rustls::ServerConnection::new(config.clone()) {
            Ok(mut c) => {
                c.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
                Ok(rustls::Connection::Server(c))
            }
            Err(e) => Err(format!("TLS: {e}")),
        })
    }
}

impl DatastoreClient {
    /// A client session to the datastore; its handshake runs as the loop reads and writes.
    pub fn connect(&self) -> Result<rustls::Connection, String> {
        let mut c = rustls::ClientConnection::new(self.config.clone(), self.name.clone())
            .map_err(|e| format!("TLS: {e}"))?;
        c.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
        Ok(rustls::Connection::Client(c))
    }
}

/// What a log line says about a TLS file set: the paths, for "serving ... from".
pub fn describe(t: &ClientTls) -> String {
    let p = |p: &Path| p.display().to_string();
    match &t.ca_file {
        Some(ca) => format!(
            "{} (key {}), client certificates required from the CA in {}",
            p(&t.cert_file.path),
            p(&t.key_file.path),
            p(&ca.path)
        ),
        None => format!("{} (key {})", p(&t.cert_file.path), p(&t.key_file.path)),
    }
}
