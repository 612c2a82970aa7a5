//! The one runner of the macros' compile-fail and compile-pass cases in `ui-tests/`. The `.stderr` files are pinned
//! to the toolchain on the project's machines (rustc 1.95); refresh them with `TRYBUILD=overwrite cargo test --test ui`
//! and read every diff before committing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/fail/*.rs");
    t.pass("ui-tests/pass/*.rs");
}
