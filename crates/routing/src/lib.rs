//! Pure request routing for Causeway: the route tree of a deployment and the text
//! substitutions an integration URI goes through.
//!
//! A deployment is compiled once into a [`CompiledApi`], an immutable tree of its resources.
//! The gateway then matches every request against it with [`CompiledApi::route`], which walks
//! the tree one path segment at a time following API Gateway's rules (a static resource beats
//! `{param}`, which beats `{name+}`; no backtracking; exact verb, then `ANY`). The integration
//! URI of the matched method is finished with [`substitute_stage_variables`] and then
//! [`substitute_path_params`].
//!
//! Like `causeway-model`, this crate does no I/O and depends on no async runtime or HTTP stack;
//! CI checks that it stays so.

mod route;
mod substitute;

pub use route::{CompiledApi, Conflict, ConflictReason, NoRoute, PathParam, RouteMatch};
pub use substitute::{
    PathTemplate, UnresolvedVariable, substitute_path_params, substitute_stage_variables,
};
