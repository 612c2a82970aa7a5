//! What the durable tests share: the examples they run, built with the profile the tests were built with.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The example `name` of the profile this test was built with, built now if needed.
pub fn build_example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--example", name]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "the {name} example builds");
    profile_dir.join("examples").join(name)
}
