//! One node's datastore as the walk uses it: a connection (AUTH when configured), its
//! eviction policy, SCAN, and the scripts of [`super::scripts`] run by SHA1 (loaded again
//! when the server has forgotten them). Calls are split into `send_*` and `recv_*` so the walk
//! asks every rack at once and then reads the answers.

use std::time::Duration;

use dynomite::client::{Connection, Reply};

use super::decide::{Eviction, Seen};
use super::scripts::{self, Applied, Payload};

/// The largest reply accepted (a DUMP of a large key).
const MAX_REPLY: usize = 1 << 30;

/// The scripts, by index.
#[derive(Clone, Copy, Debug)]
pub enum Script {
    Digest = 0,
    Exists = 1,
    Fetch = 2,
    Apply = 3,
    TrimMembers = 4,
    TrimSets = 5,
}

fn body(s: Script) -> String {
    match s {
        Script::Digest => scripts::digest(),
        Script::Exists => scripts::EXISTS.to_string(),
        Script::Fetch => scripts::fetch(),
        Script::Apply => scripts::apply(),
        Script::TrimMembers => scripts::TRIM_MEMBERS.to_string(),
        Script::TrimSets => scripts::TRIM_SETS.to_string(),
    }
}

const SCRIPTS: [Script; 6] = [
    Script::Digest,
    Script::Exists,
    Script::Fetch,
    Script::Apply,
    Script::TrimMembers,
    Script::TrimSets,
];

/// One datastore.
pub struct Store {
    pub addr: String,
    conn: Connection,
    /// `maxmemory-policy` as `CONFIG GET` answered (`None`: it could not be read).
    pub policy: Option<String>,
    pub eviction: Eviction,
    /// The server process's `run_id` (SCAN cursors are its own).
    pub run_id: String,
    /// It held read-repair field sets (`._add-set_<key>`, `._rem-set_<key>`) when opened.
    fields: bool,
    shas: Vec<String>,
    /// The last request sent, to send again after NOSCRIPT.
    last: Option<(Script, Vec<Vec<u8>>)>,
}

impl Store {
    /// Connect, AUTH, read the policy, load the scripts.
    pub fn open(addr: &str, password: Option<&str>, timeout: Duration) -> Result<Store, String> {
        let mut conn = Connection::connect(addr, timeout).map_err(|e| e.to_string())?;
        conn.set_max_reply(MAX_REPLY);
        if let Some(p) = password {
            conn.auth(p).map_err(|e| format!("AUTH: {e}"))?;
        }
        match conn.call(&["PING"]).map_err(|e| e.to_string())? {
            Reply::Simple(s) if s == "PONG" => {}
            other => {
                return Err(format!(
                    "answered PING with {other:?}: is it a redis-server?"
                ))
            }
        }
        let policy = match conn.call(&["CONFIG", "GET", "maxmemory-policy"]) {
            Ok(Reply::Array(Some(v))) if v.len() == 2 => match &v[1] {
                Reply::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            },
            _ => None,
        };
        let run_id = match conn.call(&["INFO", "server"]) {
            Ok(Reply::Bulk(Some(b))) => dynomite::client::parse_info(&String::from_utf8_lossy(&b))
                .remove("run_id")
                .unwrap_or_default(),
            _ => String::new(),
        };
        let mut s = Store {
            addr: addr.to_string(),
            run_id,
            conn,
            eviction: Eviction::of_policy(policy.as_deref()),
            policy,
            fields: false,
            shas: Vec::new(),
            last: None,
        };
        s.load_scripts()?;
        s.fields = s.has_field_sets()?;
        Ok(s)
    }

    /// Whether any key is a read-repair field set: a SCAN with MATCH (the server filters).
    fn has_field_sets(&mut self) -> Result<bool, String> {
        let mut cursor = "0".to_string();
        loop {
            let (next, found) = self.scan_match(&cursor, 1000, Some("._*-set_*"))?;
            if found.iter().any(|k| scripts::is_metadata(k)) {
                return Ok(true);
            }
            cursor = next;
            if cursor == "0" {
                return Ok(false);
            }
        }
    }

    fn load_scripts(&mut self) -> Result<(), String> {
        let mut shas = Vec::new();
        for sc in SCRIPTS {
            match self
                .conn
                .call(&["SCRIPT", "LOAD", &body(sc)])
                .map_err(|e| e.to_string())?
            {
                Reply::Bulk(Some(sha)) => shas.push(String::from_utf8_lossy(&sha).into_owned()),
                other => return Err(format!("answered SCRIPT LOAD with {other:?}")),
            }
        }
        self.shas = shas;
        Ok(())
    }

    fn err(&self, e: impl std::fmt::Display) -> String {
        format!("{}: {e}", self.addr)
    }

    /// `SCAN cursor COUNT count`: the next cursor and the keys.
    pub fn scan(&mut self, cursor: &str, count: usize) -> Result<(String, Vec<Vec<u8>>), String> {
        self.scan_match(cursor, count, None)
    }

    /// `SCAN cursor [MATCH pattern] COUNT count`.
    pub fn scan_match(
        &mut self,
        cursor: &str,
        count: usize,
        pattern: Option<&str>,
    ) -> Result<(String, Vec<Vec<u8>>), String> {
        let count = count.to_string();
        let mut args = vec!["SCAN", cursor];
        if let Some(p) = pattern {
            args.extend(["MATCH", p]);
        }
        args.extend(["COUNT", &count]);
        let r = self.conn.call(&args).map_err(|e| self.err(e))?;
        read_scan(r).map_err(|e| self.err(format!("SCAN: {e}")))
    }

    /// `ZSCAN key cursor COUNT count`: the next cursor and the members.
    pub fn zscan(
        &mut self,
        key: &str,
        cursor: &str,
        count: usize,
    ) -> Result<(String, Vec<Vec<u8>>), String> {
        let r = self
            .conn
            .call(&["ZSCAN", key, cursor, "COUNT", &count.to_string()])
            .map_err(|e| self.err(e))?;
        let (next, flat) = read_scan(r).map_err(|e| self.err(format!("ZSCAN: {e}")))?;
        Ok((next, flat.into_iter().step_by(2).collect()))
    }

    /// `DBSIZE`.
    pub fn dbsize(&mut self) -> Result<u64, String> {
        match self.conn.call(&["DBSIZE"]).map_err(|e| self.err(e))? {
            Reply::Int(n) => Ok(n.max(0) as u64),
            other => Err(self.err(format!("answered DBSIZE with {other:?}"))),
        }
    }

    /// Send `EVALSHA script keys... args...`.
    pub fn send(&mut self, script: Script, keys: &[&[u8]], args: &[&[u8]]) -> Result<(), String> {
        let n = keys.len().to_string();
        let mut cmd: Vec<Vec<u8>> = Vec::with_capacity(3 + keys.len() + args.len());
        cmd.push(b"EVALSHA".to_vec());
        cmd.push(self.shas[script as usize].as_bytes().to_vec());
        cmd.push(n.into_bytes());
        cmd.extend(keys.iter().map(|k| k.to_vec()));
        cmd.extend(args.iter().map(|a| a.to_vec()));
        let bytes = dynomite::client::encode(&cmd);
        self.conn.write_all(&bytes).map_err(|e| self.err(e))?;
        self.last = Some((script, cmd));
        Ok(())
    }

    /// The reply to what [`Store::send`] sent (sent again once when the server had forgotten
    /// the script).
    pub fn recv(&mut self) -> Result<Reply, String> {
        let r = self.conn.recv().map_err(|e| self.err(e))?;
        if matches!(&r, Reply::Error(e) if e.starts_with("NOSCRIPT")) {
            if let Some((script, mut cmd)) = self.last.take() {
                self.load_scripts()?;
                cmd[1] = self.shas[script as usize].as_bytes().to_vec();
                return self.conn.call(&cmd).map_err(|e| self.err(e));
            }
        }
        Ok(r)
    }

    /// Digest `keys` (send).
    pub fn send_digest(&mut self, keys: &[&[u8]]) -> Result<(), String> {
        let fields: &[u8] = if self.fields { b"1" } else { b"0" };
        self.send(Script::Digest, keys, &[fields])
    }

    pub fn recv_digest(&mut self, n: usize) -> Result<Vec<Seen>, String> {
        let r = self.recv()?;
        scripts::read_digests(r, n).map_err(|e| self.err(e))
    }

    pub fn send_exists(&mut self, keys: &[&[u8]]) -> Result<(), String> {
        self.send(Script::Exists, keys, &[])
    }

    pub fn recv_exists(&mut self, n: usize) -> Result<Vec<bool>, String> {
        let r = self.recv()?;
        scripts::read_exists(r, n).map_err(|e| self.err(e))
    }

    /// The winner's payloads of `keys`, each if its digest is still `expected`.
    pub fn fetch(
        &mut self,
        keys: &[&[u8]],
        expected: &[&[u8]],
    ) -> Result<Vec<Option<Payload>>, String> {
        self.send(Script::Fetch, keys, expected)?;
        let r = self.recv()?;
        scripts::read_fetch(r, keys.len()).map_err(|e| self.err(e))
    }

    /// Compare and replace: `args` holds per key its expected digest, expiry and payload.
    pub fn apply(&mut self, keys: &[&[u8]], args: &[&[u8]]) -> Result<Vec<Applied>, String> {
        self.send(Script::Apply, keys, args)?;
        let r = self.recv()?;
        scripts::read_apply(r, keys.len()).map_err(|e| self.err(e))
    }

    /// A trim script: how many it removed (or would).
    pub fn trim(&mut self, script: Script, keys: &[&[u8]], args: &[&[u8]]) -> Result<u64, String> {
        self.send(script, keys, args)?;
        match self.recv()? {
            Reply::Int(n) => Ok(n.max(0) as u64),
            other => Err(self.err(format!("the trim script answered {other:?}"))),
        }
    }
}

/// `[cursor, [element...]]`.
fn read_scan(r: Reply) -> Result<(String, Vec<Vec<u8>>), String> {
    let Reply::Array(Some(mut v)) = r else {
        return Err(format!("unexpected reply {r:?}"));
    };
    if v.len() != 2 {
        return Err("not [cursor, keys]".into());
    }
    let keys = match v.pop() {
        Some(Reply::Array(Some(ks))) => ks
            .into_iter()
            .filter_map(|k| match k {
                Reply::Bulk(Some(b)) => Some(b),
                _ => None,
            })
            .collect(),
        _ => return Err("no keys array".into()),
    };
    let cursor = match v.pop() {
        Some(Reply::Bulk(Some(c))) => String::from_utf8_lossy(&c).into_owned(),
        _ => return Err("no cursor".into()),
    };
    Ok((cursor, keys))
}
