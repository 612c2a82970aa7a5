use stagewise::Stage;

#[derive(Stage)]
struct Source {
    #[stage_id]
    id: u32,
}

fn main() {}
