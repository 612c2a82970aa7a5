#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
union NotAnEnum {
    a: u32,
    b: f32,
}

fn main() {}
