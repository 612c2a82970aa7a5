use stagewise::{Stage, StageId};

#[derive(Stage)]
struct Source {
    #[stage_id]
    id: StageId,
    #[stage_id]
    other: StageId,
}

fn main() {}
