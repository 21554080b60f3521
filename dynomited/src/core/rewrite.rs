//! Requests rewritten before they run, so that every rack applies the same change: relative
//! expirations made absolute, approximate stream trims exact (`proto::redis::absolute` plans it; here the request is rebuilt,
//! its unchanged arguments referencing the client's bytes, nothing copied but the new
//! numbers and words).

use super::Core;
use crate::msg::MsgRef;
use crate::proto::redis::absolute::{self, Arg};
use crate::proto::redis::{cmd, lookup};
use crate::proto::{Span, ARGS_MAX};

impl Core {
    /// Make a replicated write's relative expiration absolute (the proxy's clock), and its
    /// approximate stream trim exact, in place.
    /// Requests the plan does not cover, inline requests (their raw arguments may carry
    /// quotes and escapes) and requests with more arguments than are recorded go as they are.
    pub(super) fn absolute_expiry(&mut self, mref: MsgRef) {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let (cmd, nargs) = (m.req.cmd, m.req.nargs as usize);
        if !(absolute::may_expire(cmd, nargs) || absolute::may_trim(cmd))
            || m.req.inline
            || nargs > ARGS_MAX
            || m.req.keys.len() != 1
        {
            return;
        }
        // The arguments side by side in one scratch buffer (no allocation per request).
        let mut spans = [Span::default(); ARGS_MAX];
        let mut ranges = [(0usize, 0usize); ARGS_MAX];
        let all = &mut self.scratch.out;
        all.clear();
        for i in 0..nargs {
            let Some(span) = m.req.arg(i) else { return };
            spans[i] = span;
            let at = all.len();
            if !absolute::reads(cmd, i) {
                ranges[i] = (at, at);
                continue;
            }
            crate::mbuf::gather_append(
                &self.bufs.mbufs,
                &m.req_segs,
                span.start as usize,
                span.len as usize,
                all,
            );
            ranges[i] = (at, all.len());
        }
        let now_ms = crate::stats::counters::unix_ms() as i64;
        let mut plan = std::mem::take(&mut self.scratch.plan_args);
        let all = &self.scratch.out;
        let arg = |i: usize| (i < nargs).then(|| &all[ranges[i].0..ranges[i].1]);
        if absolute::plan(cmd, nargs, arg, now_ms, &mut plan) {
            self.rebuild(mref, &plan, &spans);
        }
        self.scratch.plan_args = plan;
    }

    /// Replace a message's request with the multi-bulk request of `plan` (`spans`: where the
    /// original arguments are).
    fn rebuild(&mut self, mref: MsgRef, plan: &[Arg], spans: &[Span; ARGS_MAX]) {
        use std::io::Write;
        let name = match plan.first() {
            Some(Arg::Word(w)) => *w,
            _ => return,
        };
        let Some(spec) = lookup(name.as_bytes()) else {
            return;
        };
        let mut segs = std::mem::take(&mut self.scratch.segs);
        segs.clear();
        let mut len = 0usize;
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        let _ = write!(hdr, "*{}\r\n", plan.len());
        let mut new_args = [Span::default(); ARGS_MAX];
        let mut key = None;
        let mut num = [0u8; 24];
        for (j, a) in plan.iter().enumerate() {
            let bytes: &[u8] = match *a {
                Arg::Orig(_) => &[],
                Arg::Word(w) => w.as_bytes(),
                Arg::Num(n) => {
                    let mut cur = std::io::Cursor::new(&mut num[..]);
                    let _ = write!(cur, "{n}");
                    let end = cur.position() as usize;
                    &num[..end]
                }
            };
            let arg_len = match *a {
                Arg::Orig(i) => spans[i].len as usize,
                _ => bytes.len(),
            };
            let _ = write!(hdr, "${arg_len}\r\n");
            let start = len + hdr.len();
            if j < ARGS_MAX {
                new_args[j] = Span::new(start as u32, arg_len as u32);
            }
            if let Arg::Orig(i) = *a {
                self.bufs
                    .mbufs
                    .append_shared(&mut self.bufs.shared, &mut segs, hdr);
                len += hdr.len();
                hdr.clear();
                let s = spans[i];
                let orig = &self.bufs.msgs.get(mref).expect("live").req_segs;
                crate::mbuf::slice_into(
                    &mut self.bufs.mbufs,
                    orig,
                    s.start as usize,
                    s.len as usize,
                    &mut segs,
                );
                len += s.len as usize;
                if i == 1 {
                    key = Some(Span::new(start as u32, s.len));
                }
            } else {
                hdr.extend_from_slice(bytes);
            }
            hdr.extend_from_slice(b"\r\n");
        }
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, &mut segs, hdr);
        len += hdr.len();
        hdr.clear();
        let (Some(key), Some(m)) = (key, self.bufs.msgs.get_mut(mref)) else {
            self.bufs.mbufs.release(&mut segs);
            self.scratch.segs = segs;
            return;
        };
        // The message's old request segments go; its vector comes back as scratch.
        std::mem::swap(&mut m.req_segs, &mut segs);
        self.bufs.mbufs.release(&mut segs);
        self.scratch.segs = segs;
        m.req_len = len;
        m.req.cmd = spec.id;
        m.req.nargs = plan.len() as u32;
        m.req.args = new_args;
        m.req.keys.clear();
        m.req.keys.push(key);
    }

    /// Keep the body of a `SCRIPT LOAD` (from a client or another node), so an `EVALSHA`
    /// of it can travel as its `EVAL`.
    pub(super) fn learn_script(&mut self, mref: MsgRef) {
        let body = &mut self.scratch.arg;
        if !self.bufs.req_arg(mref, 2, body) {
            return;
        }
        if !self.scripts.learn(body) {
            crate::log_warn!(
                "script cache full ({} scripts): EVALSHA of newer scripts travels as sent",
                self.scripts.len()
            );
        }
    }

    /// `EVALSHA sha numkeys ...` of a script this node knows becomes `EVAL body numkeys
    /// ...` (its other arguments' bytes are kept, not copied): every rack runs the script,
    /// also one whose datastore lost it (a restart empties a script cache), so the racks do
    /// not part at a `NOSCRIPT` no client sees. The reply is the same as `EVALSHA`'s.
    pub(super) fn evalsha_as_eval(&mut self, mref: MsgRef) {
        use std::io::Write;
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let (Some(sha), Some(_)) = (m.req.arg(1), m.req.arg(2)) else {
            return;
        };
        if m.req.inline || sha.len != 40 {
            return;
        }
        self.bufs.req_bytes(mref, sha, &mut self.scratch.key);
        let Some(body) = self.scripts.body(&self.scratch.key) else {
            return;
        };
        let m = self.bufs.msgs.get(mref).expect("live");
        let (nargs, old_len) = (m.req.nargs, m.req_len);
        // Where argument 2's `$len` header starts: right after the SHA and its CRLF.
        let tail = (sha.start + sha.len + 2) as usize;
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        let _ = write!(hdr, "*{nargs}\r\n$4\r\n");
        let name_at = hdr.len() as u32;
        let _ = write!(hdr, "EVAL\r\n${}\r\n", body.len());
        let body_at = hdr.len();
        hdr.extend_from_slice(body);
        hdr.extend_from_slice(b"\r\n");
        let head_len = hdr.len();
        let mut segs = std::mem::take(&mut self.scratch.segs);
        segs.clear();
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, &mut segs, hdr);
        hdr.clear();
        let orig = &self.bufs.msgs.get(mref).expect("live").req_segs;
        crate::mbuf::slice_into(&mut self.bufs.mbufs, orig, tail, old_len - tail, &mut segs);
        let m = self.bufs.msgs.get_mut(mref).expect("live");
        std::mem::swap(&mut m.req_segs, &mut segs);
        self.bufs.mbufs.release(&mut segs);
        self.scratch.segs = segs;
        // Every position after the body moves by the same amount.
        let shift = |s: Span| Span::new((s.start as usize + head_len - tail) as u32, s.len);
        let n = (nargs as usize).min(ARGS_MAX);
        for i in 2..n {
            m.req.args[i] = shift(m.req.args[i]);
        }
        for k in m.req.keys.iter_mut() {
            *k = shift(*k);
        }
        m.req.args[0] = Span::new(name_at, 4);
        m.req.args[1] = Span::new(body_at as u32, (head_len - body_at - 2) as u32);
        m.req_len = head_len + old_len - tail;
        m.req.cmd = cmd::EVAL;
    }
}
