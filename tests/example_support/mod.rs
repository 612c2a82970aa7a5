//! The examples integration tests run, built with the profile the tests were built with (and the features asked for).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The example `name` of the profile this test was built with, built now (with `features`) if needed.
pub fn build_example(name: &str, features: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--example", name]);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    // The variables cargo sets for this test (package name, manifest folder...) would reach the build scripts of
    // dependencies that rerun when they change (the NATS client's crypto crate): the nested build would rebuild the
    // runtime, and the next outer build rebuild it back.
    for (key, _) in std::env::vars() {
        let kept = ["CARGO_HOME", "CARGO_BUILD_JOBS", "CARGO_TARGET_DIR", "CARGO_TERM_COLOR"];
        if key.starts_with("CARGO_") && !kept.contains(&key.as_str()) {
            build.env_remove(key);
        }
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "the {name} example builds");
    profile_dir.join("examples").join(name)
}
