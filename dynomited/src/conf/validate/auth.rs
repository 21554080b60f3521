//! Who may talk to the node: client logins (`users`) and the stats port's admin token
//! (`admin_token`, `admin_token_file`). Messages name users and files, never a password or
//! a token.

use super::super::model::User;
use super::Ctx;

impl Ctx<'_> {
    /// `users:`: `name:password` items.
    pub(super) fn users(&mut self) -> Vec<User> {
        let mut out = Vec::new();
        for (line, text) in self.one_list("users") {
            // Messages name the user, never a password.
            let msg = match text.split_once(':') {
                None => "an item has no \":\" (not shown: it may be a password); write name:password, e.g. \"- alice:s3cret\"".to_string(),
                Some(("", _)) => "an item has an empty name; write name:password, e.g. \"- alice:s3cret\"".into(),
                Some((name, "")) => format!("the login \"{name}\" has an empty password; write name:password, e.g. \"- alice:s3cret\""),
                Some(("default", _)) => "\"default\" is the default user, whose passwords are requirepass; put them there".into(),
                Some((name, _)) if name.chars().any(char::is_whitespace) => format!("the user name \"{name}\" has a space; write name:password, e.g. \"- alice:s3cret\""),
                Some((name, password)) => {
                    out.push(User {
                        name: name.to_string(),
                        password: password.to_string(),
                    });
                    continue;
                }
            };
            self.err(line, "users", msg);
        }
        out
    }

    /// `admin_token`, or the trimmed contents of the file `admin_token_file` names.
    pub(super) fn admin_token(&mut self) -> Option<String> {
        let inline = self.single("admin_token", |_, e, t| Some((t, e.line)), |_| false);
        let file = self.single("admin_token_file", |_, e, t| Some((t, e.line)), |_| false);
        let (token, line, key) = match (inline, file) {
            (Some(((_, a), _)), Some(((_, line), _))) => {
                let msg = format!("set together with admin_token (line {a}); keep one of them");
                self.err(line, "admin_token_file", msg);
                return None;
            }
            (Some(((t, line), _)), None) => (t.to_string(), line, "admin_token"),
            (None, Some(((path, line), _))) => match std::fs::read(path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) if t.trim().is_empty() => {
                        let msg = format!("\"{path}\" is empty; write the token into it");
                        self.err(line, "admin_token_file", msg);
                        return None;
                    }
                    Ok(t) => (t.trim().to_string(), line, "admin_token_file"),
                    Err(_) => {
                        let msg = format!("\"{path}\" is not UTF-8 text; write the token as text");
                        self.err(line, "admin_token_file", msg);
                        return None;
                    }
                },
                Err(e) => {
                    let msg = format!(
                        "cannot read \"{path}\": {e}; name a readable file holding the token"
                    );
                    self.err(line, "admin_token_file", msg);
                    return None;
                }
            },
            (None, None) => return None,
        };
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            let msg = "the token has a space or control character inside; an HTTP bearer token cannot (use e.g. openssl rand -hex 32)";
            self.err(line, key, msg.into());
            return None;
        }
        Some(token)
    }
}
