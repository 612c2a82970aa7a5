#[path = "../common/mod.rs"]
mod common;

#[stagewise::handler_supervised]
enum S {
    #[initial]
    Idle,
    #[failed]
    Failed,
}

fn main() {}
