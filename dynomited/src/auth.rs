//! Credentials, pure: comparison in constant time, client logins (`requirepass` and `users`,
//! as Redis 6 ACL logins answer them) and the stats port's bearer token (`admin_token`).
//!
//! ```text
//!   AUTH pass            ─► user "default"
//!   AUTH user pass       ─┬─ "default" ─► requirepass (any of them); none set: any password
//!   HELLO .. AUTH u p    ─┘  other     ─► users (any entry of that name)
//! ```
//!
//! With `users` and no `requirepass` the default user is off (a Redis `user default off`):
//! every client must log in as one of the users.

use crate::conf::User;

/// `a == b`, in a time that depends on the lengths only, never on where the bytes differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// What a login attempt gets (Redis's answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    Ok,
    /// `-WRONGPASS invalid username-password pair or user is disabled.`
    WrongPass,
    /// `AUTH <password>` while the default user needs no password: Redis's
    /// `-ERR AUTH <password> called without any password configured ...`.
    NoPassword,
}

impl Login {
    /// The reply line Redis sends.
    pub const fn reply(self) -> &'static [u8] {
        match self {
            Login::Ok => b"+OK\r\n",
            Login::WrongPass => {
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
            }
            Login::NoPassword => b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
        }
    }
}

/// Whether clients must log in before anything else.
pub fn login_required(requirepass: &[String], users: &[User]) -> bool {
    !requirepass.is_empty() || !users.is_empty()
}

/// A login with `user` (`None`: `AUTH <password>`, the default user) and `pass`. Every
/// password of the user is compared, each in constant time, whichever matches.
pub fn login(requirepass: &[String], users: &[User], user: Option<&[u8]>, pass: &[u8]) -> Login {
    match user {
        None | Some(b"default") => {
            if !login_required(requirepass, users) {
                // The default user has no password: Redis accepts any with a user name.
                return if user.is_none() {
                    Login::NoPassword
                } else {
                    Login::Ok
                };
            }
            any_match(requirepass.iter().map(|p| ct_eq(p.as_bytes(), pass)))
        }
        Some(name) => any_match(
            users
                .iter()
                .map(|u| ct_eq(u.name.as_bytes(), name) & ct_eq(u.password.as_bytes(), pass)),
        ),
    }
}

/// `Ok` when any candidate matched; every candidate is compared (no short cut).
fn any_match(candidates: impl Iterator<Item = bool>) -> Login {
    if candidates.fold(false, |ok, c| ok | c) {
        Login::Ok
    } else {
        Login::WrongPass
    }
}

/// Whether an `Authorization` header value is `Bearer <token>` (the scheme in any case, as
/// RFC 7235 has it); the token is compared in constant time.
pub fn bearer_ok(token: &str, authorization: Option<&str>) -> bool {
    let Some(value) = authorization.map(str::trim) else {
        return false;
    };
    let Some((scheme, given)) = value.split_once([' ', '\t']) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && ct_eq(given.trim().as_bytes(), token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, password: &str) -> User {
        User {
            name: name.into(),
            password: password.into(),
        }
    }

    #[test]
    fn ct_eq_is_equality() {
        for (a, b) in [
            (&b""[..], &b""[..]),
            (b"a", b"a"),
            (b"secret", b"secret"),
            (b"secret", b"secreT"),
            (b"secret", b"secre"),
            (b"", b"x"),
            (b"x\0", b"x"),
        ] {
            assert_eq!(ct_eq(a, b), a == b, "{a:?} {b:?}");
        }
    }

    #[test]
    fn requirepass_any_of_the_list() {
        let pw = vec!["old".to_string(), "new".to_string()];
        assert_eq!(login(&pw, &[], None, b"old"), Login::Ok);
        assert_eq!(login(&pw, &[], None, b"new"), Login::Ok);
        assert_eq!(login(&pw, &[], Some(b"default"), b"new"), Login::Ok);
        assert_eq!(login(&pw, &[], None, b"neww"), Login::WrongPass);
        assert_eq!(login(&pw, &[], None, b""), Login::WrongPass);
        assert_eq!(login(&pw, &[], Some(b"alice"), b"new"), Login::WrongPass);
    }

    #[test]
    fn users_log_in_by_name() {
        let pw = vec!["dflt".to_string()];
        let users = vec![user("alice", "a1"), user("alice", "a2"), user("bob", "b")];
        assert_eq!(login(&pw, &users, Some(b"alice"), b"a1"), Login::Ok);
        assert_eq!(login(&pw, &users, Some(b"alice"), b"a2"), Login::Ok);
        assert_eq!(login(&pw, &users, Some(b"bob"), b"b"), Login::Ok);
        assert_eq!(login(&pw, &users, Some(b"bob"), b"a1"), Login::WrongPass);
        assert_eq!(login(&pw, &users, Some(b"carol"), b"b"), Login::WrongPass);
        assert_eq!(login(&pw, &users, Some(b"ALICE"), b"a1"), Login::WrongPass);
        assert_eq!(login(&pw, &users, None, b"dflt"), Login::Ok);
        assert_eq!(login(&pw, &users, None, b"a1"), Login::WrongPass);
    }

    #[test]
    fn default_user_off_with_users_only() {
        let users = vec![user("alice", "a1")];
        assert!(login_required(&[], &users));
        assert_eq!(login(&[], &users, None, b"a1"), Login::WrongPass);
        assert_eq!(login(&[], &users, Some(b"default"), b""), Login::WrongPass);
        assert_eq!(login(&[], &users, Some(b"alice"), b"a1"), Login::Ok);
    }

    #[test]
    fn nothing_configured_is_redis_without_a_password() {
        assert!(!login_required(&[], &[]));
        assert_eq!(login(&[], &[], None, b"x"), Login::NoPassword);
        assert_eq!(login(&[], &[], Some(b"default"), b"x"), Login::Ok);
        assert_eq!(login(&[], &[], Some(b"alice"), b"x"), Login::WrongPass);
        assert!(Login::WrongPass.reply().starts_with(b"-WRONGPASS "));
    }

    #[test]
    fn bearer_header() {
        let t = "tok3n";
        assert!(bearer_ok(t, Some("Bearer tok3n")));
        assert!(bearer_ok(t, Some("bearer  tok3n ")));
        assert!(!bearer_ok(t, Some("Bearer tok3")));
        assert!(!bearer_ok(t, Some("Bearer tok3nn")));
        assert!(!bearer_ok(t, Some("Basic tok3n")));
        assert!(!bearer_ok(t, Some("tok3n")));
        assert!(!bearer_ok(t, Some("Bearer")));
        assert!(!bearer_ok(t, Some("")));
        assert!(!bearer_ok(t, None));
    }
}
