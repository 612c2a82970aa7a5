//! The `#[handler_supervised]` attribute macro of stagewise: generates a stage's supervisor from its annotated state enum.

use proc_macro::TokenStream;

/// Generates the supervisor of a stage from its annotated state enum. (Being built; see the README.)
#[proc_macro_attribute]
pub fn handler_supervised(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
