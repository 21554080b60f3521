//! `dynoctl conf-test`: the same verdicts and messages as `dynomited -t`.

use std::process::Command;

use crate::util::*;

fn dynoctl() -> std::path::PathBuf {
    // dynoctl is built into the same target directory as dynomited.
    std::path::Path::new(DYNOMITED).with_file_name("dynoctl")
}

#[test]
fn conf_test_valid_and_invalid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new("cargo")
        .args(["build", "-q", "-p", "dynoctl"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new(dynoctl())
        .current_dir(&root)
        .args(["conf-test", "conf/redis_single.yml", "conf/dc1_rack1.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
    assert_eq!(
        s(&out.stdout),
        "conf/redis_single.yml: ok\nconf/dc1_rack1.yml: ok\n"
    );
    let bad = "tests/fixtures/conf-invalid/unknown-key.yml";
    let out = Command::new(dynoctl())
        .current_dir(&root)
        .args(["conf-test", "conf/redis_single.yml", bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let expected = std::fs::read_to_string(root.join(bad).with_extension("expected")).unwrap();
    assert!(
        s(&out.stdout).contains(expected.trim_end()),
        "{}",
        s(&out.stdout)
    );
    let out = Command::new(dynoctl()).arg("conf-test").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
}
