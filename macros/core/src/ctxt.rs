//! The error accumulator: every check pushes its error here so one expansion reports all mistakes at once.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Collects errors while parsing and validating. Dropping it without [`Ctxt::check`] is a bug in the macro, so it
/// panics then: an error that was found must never be lost.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// An empty accumulator.
    pub fn new() -> Self {
        Ctxt { errors: RefCell::new(Some(Vec::new())) }
    }

    /// Records an error spanned on the tokens of `obj`.
    pub fn error_spanned_by<T: ToTokens>(&self, obj: T, msg: impl Display) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Records an error at `span`.
    pub fn error_at(&self, span: proc_macro2::Span, msg: impl Display) {
        self.syn_error(syn::Error::new(span, msg));
    }

    /// Records a parse error as it is.
    pub fn syn_error(&self, err: syn::Error) {
        self.errors.borrow_mut().as_mut().expect("Ctxt used after check").push(err);
    }

    /// Consumes the accumulator: all recorded errors as `compile_error!` invocations, in the order they were found.
    pub fn check(self) -> Result<(), TokenStream> {
        let errors = self.errors.borrow_mut().take().expect("Ctxt checked twice");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.into_iter().map(|e| e.to_compile_error()).collect())
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("Ctxt dropped without check: errors would be lost");
        }
    }
}
