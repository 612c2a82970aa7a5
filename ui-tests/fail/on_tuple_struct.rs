#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
struct NotAnEnum(u32);

fn main() {}
