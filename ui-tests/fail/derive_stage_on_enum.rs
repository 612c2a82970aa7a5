#[derive(stagewise::Stage)]
enum Source {
    A,
}

fn main() {}
