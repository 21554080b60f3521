//! Targets `florida_seeds` and `dns_seeds`: the seed providers' response parsers (the HTTP
//! response of dynomite-manager, a DNS TXT reply) and the seed-list text they carry.

use super::{Gen, GRAPHIC};
use crate::peer::{parse_seed_list, write_seed_list, SeedRecord};
use crate::seeds::dns::{
    build_query, encode_name, parse_txt_reply, read_name, seed_text, CLASS_IN, FLAG_QR, TYPE_CNAME,
    TYPE_TXT,
};
use crate::seeds::florida::{finish_body, http_body};

/// Seed-list text: what parses re-encodes to text that parses the same.
fn check_seed_text(text: &str) {
    if let Ok(seeds) = parse_seed_list(text) {
        let again = write_seed_list(&seeds);
        assert_eq!(
            parse_seed_list(&again),
            Ok(seeds),
            "seed list {text:?} does not round-trip"
        );
    }
}

fn gen_seeds(g: &mut Gen) -> Vec<SeedRecord> {
    (0..1 + g.below(4))
        .map(|_| SeedRecord {
            host: if g.below(4) == 0 {
                "::1".into()
            } else {
                g.word(10, b"|")
            },
            port: 1 + g.below(65535) as u16,
            rack: g.word(10, b"|:"),
            dc: g.word(10, b"|:"),
            token: g.u64() as u32,
        })
        .collect()
}

/// Target `florida_seeds`: arbitrary bytes, then a generated response, through the Florida
/// HTTP response parser as the fetcher calls it (on every read, then at end of input), and
/// the seed list of its body.
///
/// Oracle: once an answer is not "read more", every longer prefix gives the same answer (so
/// the bytes split anywhere give one), and so does the end of input; the end of input always
/// answers; a body is no longer than the bytes; a parsed seed list re-encodes to the same
/// seeds; a generated response (Content-Length, chunked, or ended by the connection) answers
/// "read more" on every prefix and its seeds on the whole.
pub fn florida_seeds(data: &[u8]) {
    let n = data.len();
    let step = (n / 96).max(1);
    type Answer = Result<Option<Vec<u8>>, String>;
    let mut first: Option<(usize, Answer)> = None;
    let mut cuts: Vec<usize> = (0..n)
        .step_by(step)
        .chain(n.saturating_sub(3)..=n)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        let r = http_body(&data[..cut], false);
        match &first {
            Some((at, f)) => assert_eq!(&r, f, "prefix {cut} answers unlike prefix {at}"),
            None if r != Ok(None) => first = Some((cut, r)),
            None => {}
        }
    }
    let at_eof = http_body(data, true);
    assert_ne!(at_eof, Ok(None), "no answer at end of input");
    if let Some((_, Ok(Some(body)))) = &first {
        assert_eq!(
            at_eof.as_ref(),
            Ok(&Some(body.clone())),
            "end of input changed the body"
        );
    }
    if let Ok(Some(body)) = at_eof {
        assert!(body.len() <= n);
        if let Ok(text) = finish_body(body) {
            assert_eq!(text.trim(), text);
            check_seed_text(&text);
        }
    }

    let mut g = Gen::new(data);
    let seeds = gen_seeds(&mut g);
    let body = write_seed_list(&seeds);
    let mut resp = format!("HTTP/1.{} 200 OK\r\nServer: x\r\n", g.below(2)).into_bytes();
    let mode = g.below(3);
    match mode {
        0 => {
            resp.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            resp.extend_from_slice(body.as_bytes());
        }
        1 => {
            resp.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut rest = body.as_bytes();
            while !rest.is_empty() {
                let k = (1 + g.below(16)).min(rest.len());
                resp.extend_from_slice(format!("{k:x}\r\n").as_bytes());
                resp.extend_from_slice(&rest[..k]);
                resp.extend_from_slice(b"\r\n");
                rest = &rest[k..];
            }
            resp.extend_from_slice(b"0\r\n\r\n");
        }
        _ => {
            resp.extend_from_slice(b"\r\n");
            resp.extend_from_slice(body.as_bytes());
        }
    }
    // A chunked body is whole at its last chunk (`0\r\n`): the trailers are not waited for.
    let whole_at = if mode == 1 {
        resp.len() - 2
    } else {
        resp.len()
    };
    for cut in 0..whole_at {
        assert_eq!(
            http_body(&resp[..cut], false),
            Ok(None),
            "generated response cut at {cut}"
        );
    }
    let got = if mode == 2 {
        http_body(&resp, true)
    } else {
        http_body(&resp, false)
    };
    assert_eq!(
        got,
        Ok(Some(body.clone().into_bytes())),
        "generated response body"
    );
    let text = finish_body(body.into_bytes()).expect("generated body");
    assert_eq!(parse_seed_list(&text), Ok(seeds), "generated seeds");
}

/// Checks the name read at `pos`: it ends inside the message, after `pos`, and is a list of
/// plain labels (no pointers left) of at most 255 bytes ending with the root.
fn check_name(msg: &[u8], pos: usize) {
    if let Ok((name, end)) = read_name(msg, pos) {
        assert!(end > pos && end <= msg.len(), "name at {pos} ends at {end}");
        assert!(name.len() <= 255, "name of {} bytes", name.len());
        let mut i = 0;
        while name[i] != 0 {
            assert!(
                name[i] < 64,
                "label type {:#x} left in a read name",
                name[i]
            );
            i += 1 + usize::from(name[i]);
        }
        assert_eq!(i + 1, name.len(), "name does not end at its root label");
    }
}

fn labels(g: &mut Gen) -> String {
    let n = 1 + g.below(4);
    (0..n)
        .map(|_| {
            let mut l: String = (0..1 + g.below(8))
                .map(|_| {
                    char::from(
                        g.pick(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"),
                    )
                })
                .collect();
            if g.below(16) == 0 {
                l = "x".repeat(63);
            }
            l
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn rr(out: &mut Vec<u8>, owner: &[u8], ty: u16, class: u16, rdata: &[u8]) {
    out.extend_from_slice(owner);
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&300u32.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

/// Target `dns_seeds`: arbitrary bytes, then a generated reply, through the DNS TXT reply
/// parser and the seed text made of its records.
///
/// Oracle: every name read (at any offset) ends inside the message, after where it starts,
/// and is at most 255 bytes of plain labels; TXT records are no longer than the message; the
/// seed text is made of them; a generated reply (question echoed, TXT records owned by the
/// name, by a pointer to it, by CNAME aliases, in any letter case, among A records and other
/// classes) gives exactly its TXT records, in order.
pub fn dns_seeds(data: &[u8]) {
    for pos in 0..data.len().min(80) {
        check_name(data, pos);
    }
    let qname = match (data.first(), read_name(data, 12)) {
        (Some(b), Ok((name, _))) if b & 1 == 1 => name,
        _ => encode_name(crate::seeds::DNS_NAME).expect("the default name"),
    };
    if let Ok(records) = parse_txt_reply(data, &qname, "x") {
        for r in &records {
            assert!(
                r.len() <= data.len(),
                "a TXT record longer than the message"
            );
        }
        if let Ok(text) = seed_text(&records) {
            for r in records.iter().map(|r| r.trim()) {
                assert!(text.contains(r), "record {r:?} missing from the seed text");
            }
            check_seed_text(&text);
        }
    }

    let mut g = Gen::new(data);
    let name = labels(&mut g);
    let Ok(qname) = encode_name(&name) else {
        return;
    };
    let id = g.u64() as u16;
    let query = build_query(id, &qname, TYPE_TXT);
    let mut msg = query[..2].to_vec();
    msg.extend_from_slice(&(FLAG_QR | 0x0180).to_be_bytes());
    let mut answers = Vec::new();
    let mut want = Vec::new();
    // Owners that stand for the name: a pointer to the question, the name in other case,
    // and aliases a CNAME (owned by one of those) points to.
    let mut owners: Vec<Vec<u8>> = vec![
        vec![0xC0, 12],
        encode_name(&name.to_uppercase()).expect("as long as the name"),
    ];
    let count = 1 + g.below(6);
    for _ in 0..count {
        match g.below(5) {
            0 => {
                let owner = owners[g.below(owners.len())].clone();
                match encode_name(&labels(&mut g)) {
                    Ok(alias) => {
                        rr(&mut answers, &owner, TYPE_CNAME, CLASS_IN, &alias);
                        owners.push(alias);
                    }
                    // Too long a name: an A record instead (ignored).
                    Err(_) => rr(&mut answers, &owner, 1, CLASS_IN, &[10, 0, 0, 2]),
                }
            }
            1 => rr(&mut answers, &[0xC0, 12], 1, CLASS_IN, &[10, 0, 0, 1]),
            2 => rr(&mut answers, &[0xC0, 12], TYPE_TXT, 3, b"\x03abc"),
            _ => {
                let texts: Vec<Vec<u8>> =
                    (0..1 + g.below(3)).map(|_| g.bytes(20, GRAPHIC)).collect();
                let mut rdata = Vec::new();
                for t in &texts {
                    rdata.push(t.len() as u8);
                    rdata.extend_from_slice(t);
                }
                let owner = owners[g.below(owners.len())].clone();
                rr(&mut answers, &owner, TYPE_TXT, CLASS_IN, &rdata);
                want.push(String::from_utf8(texts.concat()).unwrap_or_default());
            }
        }
    }
    msg.extend_from_slice(&[0, 1]);
    msg.extend_from_slice(&(count as u16).to_be_bytes());
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.extend_from_slice(&query[12..]);
    msg.extend_from_slice(&answers);
    let got = parse_txt_reply(&msg, &qname, &name);
    if want.is_empty() {
        assert!(got.is_err(), "records from a reply with none: {got:?}");
    } else {
        assert_eq!(got, Ok(want), "generated reply");
    }
}
