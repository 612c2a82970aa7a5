#[path = "../common/mod.rs"]
mod common;

#[stagewise::handler_supervised]
pub enum S {
    #[initial]
    Idle,
    #[failed]
    Failed,
}

// No stage is named, so there is no stage to use; the state enum still is.
fn main() {
    let _ = S::INITIAL;
}
