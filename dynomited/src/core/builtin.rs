//! The commands the proxy answers itself, as redis-server would: PING, ECHO, QUIT, SELECT 0,
//! AUTH, HELLO, CLIENT SETNAME/GETNAME/ID/INFO/SETINFO, and Dynomite's
//! `DYNO_CONFIG:CONN_CONSISTENCY`. Dispatched by command id; the two buffers they write into
//! are reused, so answering PING does not allocate.

use std::io::Write;

use super::route::Dispatch;
use super::Core;
use crate::msg::MsgRef;
use crate::proto::error::{error_reply, Failure};
use crate::proto::redis::{self, cmd};
use crate::types::Consistency;

impl Core {
    /// Commands answered by the proxy. Returns `Forward` for the few "proxy" commands that
    /// describe the datastore itself (COMMAND and its subcommands).
    pub(super) fn builtin(&mut self, idx: u32, mref: MsgRef, id: u16) -> Dispatch {
        // Two buffers reused across requests: answering PING does not allocate.
        let mut a1 = std::mem::take(&mut self.scratch.arg);
        let mut out = std::mem::take(&mut self.scratch.out);
        a1.clear();
        out.clear();
        let d = self.builtin_into(idx, mref, id, &mut a1, &mut out);
        if let Dispatch::Answered = d {
            self.answer(mref, &out);
        }
        self.scratch.arg = a1;
        self.scratch.out = out;
        d
    }

    fn builtin_into(
        &mut self,
        idx: u32,
        mref: MsgRef,
        id: u16,
        a1: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Dispatch {
        let nargs = self.bufs.msgs.get(mref).map(|m| m.req.nargs).unwrap_or(0) as usize;
        let resp3 = self.client_of(idx).map(|c| c.resp3).unwrap_or(false);
        match id {
            cmd::PING => {
                if nargs >= 2 && self.bufs.req_arg(mref, 1, a1) {
                    bulk(out, a1);
                } else {
                    out.extend_from_slice(b"+PONG\r\n");
                }
                self.stats.server.redis_req_ping += 1;
            }
            cmd::ECHO => {
                self.bufs.req_arg(mref, 1, a1);
                bulk(out, a1);
            }
            cmd::QUIT => {
                out.extend_from_slice(b"+OK\r\n");
                if let Some(c) = self.inbound_of(idx) {
                    c.closing = true;
                }
            }
            cmd::SELECT => {
                self.bufs.req_arg(mref, 1, a1);
                if a1.as_slice() == b"0" {
                    out.extend_from_slice(b"+OK\r\n");
                } else {
                    out.extend_from_slice(
                        b"-ERR DB index is out of range (only database 0 is served through dynomite)\r\n",
                    );
                }
            }
            cmd::AUTH => {
                let mut pass = Vec::new();
                let mut user = Vec::new();
                if nargs == 2 {
                    self.bufs.req_arg(mref, 1, &mut pass);
                    self.auth(idx, None, &pass, out);
                } else {
                    self.bufs.req_arg(mref, 1, &mut user);
                    self.bufs.req_arg(mref, 2, &mut pass);
                    self.auth(idx, Some(&user), &pass, out);
                }
            }
            cmd::HELLO => self.hello(idx, mref, nargs, out),
            cmd::CLIENT_SETINFO | cmd::CLIENT_NO_EVICT | cmd::CLIENT_NO_TOUCH => {
                out.extend_from_slice(b"+OK\r\n")
            }
            cmd::CLIENT_SETNAME => {
                self.bufs.req_arg(mref, 2, a1);
                if a1.iter().any(|&b| b <= b' ' || b > b'~') {
                    out.extend_from_slice(
                        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
                    );
                } else {
                    let name = String::from_utf8_lossy(a1).into_owned();
                    if let Some(c) = self.client_of(idx) {
                        c.name = (!name.is_empty()).then(|| name.into_boxed_str());
                    }
                    out.extend_from_slice(b"+OK\r\n");
                }
            }
            cmd::CLIENT_GETNAME => match self.client_of(idx).and_then(|c| c.name.clone()) {
                Some(n) => bulk(out, n.as_bytes()),
                None => null(out, resp3),
            },
            cmd::CLIENT_ID => {
                let id = self.client_of(idx).map(|c| c.inb.id).unwrap_or(0);
                let _ = write!(out, ":{id}\r\n");
            }
            cmd::CLIENT_INFO => {
                let line = self.client_info_line(idx);
                bulk(out, line.as_bytes());
            }
            // COMMAND describes the datastore itself: the local one answers.
            cmd::COMMAND | cmd::COMMAND_COUNT | cmd::COMMAND_DOCS | cmd::COMMAND_INFO => {
                return Dispatch::Forward
            }
            cmd::CONN_CONSISTENCY => {
                self.bufs.req_arg(mref, 1, a1);
                match Consistency::parse_dynomite(&String::from_utf8_lossy(a1)) {
                    Some(c) => {
                        if let Some(cl) = self.client_of(idx) {
                            cl.consistency = Some(c);
                        }
                        out.extend_from_slice(b"+OK\r\n");
                    }
                    None => out.extend_from_slice(
                        b"-ERR invalid consistency level: expected DC_ONE, DC_QUORUM, DC_SAFE_QUORUM or DC_EACH_SAFE_QUORUM\r\n",
                    ),
                }
            }
            other => error_reply(
                self.proto,
                Failure::Unsupported(redis::spec(other).name),
                false,
                out,
            ),
        }
        Dispatch::Answered
    }

    /// A login (`user` `None`: `AUTH <password>`, the default user), answered as Redis 6
    /// answers it; true when the client is now authenticated.
    fn auth(&mut self, idx: u32, user: Option<&[u8]>, pass: &[u8], out: &mut Vec<u8>) -> bool {
        let sec = &self.cfg.security;
        let got = crate::auth::login(&sec.requirepass, &sec.users, user, pass);
        out.extend_from_slice(got.reply());
        let ok = got == crate::auth::Login::Ok;
        if ok {
            if let Some(c) = self.client_of(idx) {
                c.authed = true;
            }
        }
        ok
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`, answered as Redis 7 answers it.
    fn hello(&mut self, idx: u32, mref: MsgRef, nargs: usize, out: &mut Vec<u8>) {
        let mut arg = Vec::new();
        let mut proto3 = self.client_of(idx).map(|c| c.resp3).unwrap_or(false);
        if nargs >= 2 {
            self.bufs.req_arg(mref, 1, &mut arg);
            match std::str::from_utf8(&arg)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
            {
                Some(2) => proto3 = false,
                Some(3) => proto3 = true,
                Some(_) => {
                    out.extend_from_slice(b"-NOPROTO unsupported protocol version\r\n");
                    return;
                }
                None => {
                    out.extend_from_slice(
                        b"-ERR Protocol version is not an integer or out of range\r\n",
                    );
                    return;
                }
            }
        }
        let mut i = 2;
        let mut setname: Option<Vec<u8>> = None;
        while i < nargs {
            self.bufs.req_arg(mref, i, &mut arg);
            if arg.eq_ignore_ascii_case(b"auth") && i + 2 < nargs {
                let (mut user, mut pass) = (Vec::new(), Vec::new());
                self.bufs.req_arg(mref, i + 1, &mut user);
                self.bufs.req_arg(mref, i + 2, &mut pass);
                let mut res = Vec::new();
                if !self.auth(idx, Some(&user), &pass, &mut res) {
                    out.extend_from_slice(&res);
                    return;
                }
                i += 3;
            } else if arg.eq_ignore_ascii_case(b"setname") && i + 1 < nargs {
                let mut n = Vec::new();
                self.bufs.req_arg(mref, i + 1, &mut n);
                setname = Some(n);
                i += 2;
            } else {
                out.extend_from_slice(b"-ERR Syntax error in HELLO option '");
                out.extend_from_slice(&arg);
                out.extend_from_slice(b"'\r\n");
                return;
            }
        }
        let authed = self.client_of(idx).map(|c| c.authed).unwrap_or(false);
        if !authed {
            out.extend_from_slice(b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n");
            return;
        }
        let Some(c) = self.client_of(idx) else { return };
        c.resp3 = proto3;
        if let Some(n) = setname {
            c.name = (!n.is_empty()).then(|| String::from_utf8_lossy(&n).into());
        }
        let id = c.inb.id;
        if proto3 {
            out.extend_from_slice(b"%7\r\n");
        } else {
            out.extend_from_slice(b"*14\r\n");
        }
        bulk(out, b"server");
        bulk(out, b"redis");
        bulk(out, b"version");
        bulk(out, HELLO_VERSION.as_bytes());
        bulk(out, b"proto");
        out.extend_from_slice(if proto3 { b":3\r\n" } else { b":2\r\n" });
        bulk(out, b"id");
        let _ = write!(out, ":{id}\r\n");
        bulk(out, b"mode");
        bulk(out, b"standalone");
        bulk(out, b"role");
        bulk(out, b"master");
        bulk(out, b"modules");
        out.extend_from_slice(b"*0\r\n");
    }

    fn client_info_line(&self, idx: u32) -> String {
        let Some(conn) = self.rx.conn(idx) else {
            return String::new();
        };
        let Some(c) = conn.client() else {
            return String::new();
        };
        format!(
            "id={} addr={} fd={} name={} db=0 resp={}\n",
            c.inb.id,
            conn.addr.map(|a| a.to_string()).unwrap_or_default(),
            conn.raw_fd(),
            c.name.as_deref().unwrap_or(""),
            if c.resp3 { 3 } else { 2 }
        )
    }
}

/// The Redis version HELLO reports: the feature level of the commands we route, not the
/// version of the datastore behind us (which can differ per node).
pub const HELLO_VERSION: &str = "7.0.0";

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    let _ = write!(out, "${}\r\n", b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn null(out: &mut Vec<u8>, resp3: bool) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" });
}
