#!/usr/bin/env python3
"""Generate commands_gen.rs, the Redis command table, from a running redis-server's COMMAND reply.

Usage (from this directory; needs only the Python 3 standard library):

    redis-server --port 7399 --save '' --appendonly no --daemonize yes --pidfile /tmp/gen-redis.pid
    python3 gen_commands.py --port 7399 > commands_gen.rs
    kill "$(cat /tmp/gen-redis.pid)"
    rustfmt --edition 2021 commands_gen.rs

The script speaks RESP2 over a plain socket (no redis-py). For every command and subcommand it
keeps what the proxy needs for parsing and routing: arity, flags, the legacy key range
(first, last, step) and, from the key specs, the position of a `numkeys` argument. Key specs the
proxy cannot follow cheaply (keyword-located keys such as `STORE dest`, or "unknown" specs) set
the synthetic flag INCOMPLETE_KEYS. Routing decisions are NOT made here: commands.rs puts them on
top of this table.
"""

import argparse
import socket
import sys

# Redis's COMMAND flags, in a fixed order so the bit values stay stable across regenerations.
# Flags a newer server reports that are not listed here get the next free bits (with a warning).
KNOWN_FLAGS = [
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "may_replicate", "sentinel", "only_sentinel", "no_mandatory_keys", "protected",
    "module_no_cluster", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
]
# Synthetic flags (not Redis's), on the top bits.
SYNTHETIC_FLAGS = [
    ("container", 30, "The command has subcommands (`CONFIG`, `CLIENT`, ...): look up argument 1."),
    ("incomplete_keys", 31,
     "Some keys are located by keyword (`STORE dest`, `STREAMS k..`) or not at all (`SORT BY`):\n"
     "    /// the recorded keys are only the positional ones."),
]


class Resp:
    """A minimal blocking RESP2 client."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise IOError("connection closed or bad line: %r" % line)
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise IOError("server error: %s" % rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2].decode()
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        raise IOError("unexpected reply type: %r" % line)


def pairs(flat):
    """A RESP2-flattened map as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def keynum_arg(name, key_specs):
    """Index of the numkeys argument (keys are the numkeys arguments right after it), or 0.

    Also returns whether some key spec could not be represented."""
    knum = 0
    incomplete = False
    for spec in key_specs or []:
        spec = pairs(spec)
        bs = pairs(spec.get("begin_search", []))
        fk = pairs(spec.get("find_keys", []))
        bs_spec = pairs(bs.get("spec", []))
        fk_spec = pairs(fk.get("spec", []))
        if bs.get("type") != "index":
            incomplete = True
            continue
        if fk.get("type") == "keynum":
            first = fk_spec.get("firstkey")
            step = fk_spec.get("keystep")
            if first != fk_spec.get("keynumidx", 0) + 1 or step != 1 or knum:
                print("warning: %s: keynum spec %r not representable" % (name, fk_spec),
                      file=sys.stderr)
                incomplete = True
                continue
            knum = bs_spec["index"] + fk_spec["keynumidx"]
        elif fk.get("type") != "range":
            incomplete = True
    return knum, incomplete


def rust_const(flag):
    return flag.upper().replace("-", "_")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    args = ap.parse_args()

    r = Resp(args.host, args.port)
    info = r.call("INFO", "server")
    version = "unknown"
    for line in info.splitlines():
        if line.startswith("redis_version:"):
            version = line.split(":", 1)[1].strip()
    reply = r.call("COMMAND")

    entries = []
    for cmd in reply:
        entries.append((cmd, bool(cmd[9]) if len(cmd) > 9 else False))
        for sub in (cmd[9] if len(cmd) > 9 and cmd[9] else []):
            entries.append((sub, False))

    flag_bits = {f: i for i, f in enumerate(KNOWN_FLAGS)}
    for cmd, _ in entries:
        for f in cmd[2]:
            if f not in flag_bits:
                bit = len(flag_bits)
                if bit >= SYNTHETIC_FLAGS[0][1]:
                    sys.exit("too many flags")
                print("warning: new flag %r gets bit %d" % (f, bit), file=sys.stderr)
                flag_bits[f] = bit

    rows = []
    for cmd, is_container in entries:
        name = cmd[0].lower()
        arity, flags, first, last, step = cmd[1], cmd[2], cmd[3], cmd[4], cmd[5]
        knum, incomplete = keynum_arg(name, cmd[8] if len(cmd) > 8 else [])
        exprs = ["flags::" + rust_const(f) for f in sorted(flags, key=lambda f: flag_bits[f])]
        if is_container:
            exprs.append("flags::CONTAINER")
        if incomplete:
            exprs.append("flags::INCOMPLETE_KEYS")
        rows.append((name.encode(), name, arity, " | ".join(exprs) or "0", first, last, step,
                     knum))
    rows.sort(key=lambda r: r[0])

    o = []
    o.append("//! The Redis command table, generated by `gen_commands.py` from redis-server %s's"
             % version)
    o.append("//! `COMMAND` reply. Do not edit: regenerate (see the script's header) and let")
    o.append("//! `commands.rs` put routing decisions on top.")
    o.append("")
    o.append("/// The redis-server version this table was generated from.")
    o.append('pub const REDIS_VERSION: &str = "%s";' % version)
    o.append("")
    o.append("/// Command flags: Redis's own (from `COMMAND`) plus two synthetic ones on the top bits.")
    o.append("pub mod flags {")
    for f, bit in sorted(flag_bits.items(), key=lambda kv: kv[1]):
        o.append("    /// Redis flag `%s`." % f)
        o.append("    pub const %s: u32 = 1 << %d;" % (rust_const(f), bit))
    for f, bit, doc in SYNTHETIC_FLAGS:
        o.append("    /// %s" % doc)
        o.append("    pub const %s: u32 = 1 << %d;" % (rust_const(f), bit))
    o.append("}")
    o.append("")
    o.append("/// One row of `COMMAND`, reduced to what parsing and routing need.")
    o.append("#[derive(Clone, Copy, Debug)]")
    o.append("pub struct GenCmd {")
    o.append("    /// Lower case; subcommands as `container|sub`.")
    o.append("    pub name: &'static str,")
    o.append("    /// Redis arity: positive = exact argument count, negative = minimum.")
    o.append("    pub arity: i16,")
    o.append("    pub flags: u32,")
    o.append("    /// Legacy key range: first and last key index (negative = from the end), step.")
    o.append("    pub first_key: i16,")
    o.append("    pub last_key: i16,")
    o.append("    pub step: i16,")
    o.append("    /// Index of a `numkeys` argument; the keys are the numkeys arguments after it. 0 = none.")
    o.append("    pub keynum_arg: i16,")
    o.append("}")
    o.append("")
    o.append("/// Every command and subcommand, sorted by name (bytewise).")
    o.append("#[rustfmt::skip]")
    o.append("pub const GEN: [GenCmd; %d] = [" % len(rows))
    for _, name, arity, fl, first, last, step, knum in rows:
        o.append('    GenCmd { name: "%s", arity: %d, flags: %s, first_key: %d, last_key: %d, '
                 'step: %d, keynum_arg: %d },' % (name, arity, fl, first, last, step, knum))
    o.append("];")
    sys.stdout.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
