use stagewise::Stage;

#[derive(Stage)]
struct Source {
    id: stagewise::StageId,
    lines: Vec<String>,
}

fn main() {}
