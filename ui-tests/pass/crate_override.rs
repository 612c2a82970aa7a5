// `crate = path` for when stagewise is re-exported or renamed; generated code names nothing else.
#![deny(warnings)]

extern crate stagewise as sw;

mod inner {
    #[derive(Debug, ::sw::EventVariant)]
    #[stagewise(crate = ::sw)]
    pub enum Ev {
        Go,
        Error(::std::string::String),
    }

    #[derive(Debug, ::sw::VariantName)]
    pub enum Act {}

    impl ::sw::Action<()> for Act {
        fn name(&self) -> &'static str {
            self.variant_name()
        }
        async fn execute(self, (): &mut ()) -> ::core::result::Result<(), ::sw::BoxError> {
            match self {}
        }
    }

    #[derive(::sw::Stage)]
    #[stagewise(crate = ::sw)]
    pub struct Stage {
        #[stage_id]
        pub id: ::sw::StageId,
    }

    #[::sw::handler_supervised(stage = Stage, event = Ev, action = Act, context = (), failure = Ev::Error, crate = ::sw)]
    pub enum S {
        #[initial]
        #[dispatch(emit = Ev::Go)]
        #[on(Ev::Go => Done)]
        Start,
        #[terminal]
        Done,
        #[failed]
        Failed(::std::string::String),
    }
}

#[tokio::main]
async fn main() {
    use sw::HandlerSupervisedExt;
    let record = inner::Stage { id: sw::StageId(9) }.run(inner::S::INITIAL, ()).await.unwrap();
    assert_eq!(record.lifecycle, sw::Lifecycle::Completed);
}
