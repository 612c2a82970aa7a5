use stagewise::{Stage, StageId};

#[derive(Stage)]
struct Source {
    upstream: StageId,
    own: StageId,
}

fn main() {}
