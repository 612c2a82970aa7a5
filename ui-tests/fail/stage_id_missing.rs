use stagewise::Stage;

#[derive(Stage)]
struct Source {
    lines: Vec<String>,
}

fn main() {}
