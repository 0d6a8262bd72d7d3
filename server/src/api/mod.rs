//! The GraphQL API: the schema's roots and the resolvers, one file per
//! area. Resolvers read the shared [`AppState`] and the [`Caller`] from the
//! context; the HTTP layer puts both there.
//!
//! `schema.graphql` at the repo root is [`sdl`]'s output, kept in sync by a
//! test (`UPDATE_SCHEMA=1 cargo test -p voc schema_file` rewrites it).

pub mod auth;
pub mod caller;
mod commit_cache;
mod definitions;
pub mod error;
mod stack_edits;
mod images;
pub mod jobs;
pub mod repository;
mod service_logs;
mod stacks;
mod system;
mod targets;

use async_graphql::{MergedObject, MergedSubscription, Schema};

pub use caller::{Caller, Role};
pub use error::{ApiError, ApiResult, ErrorCode, FieldProblem};

use crate::serve::AppState;

/// The query root.
#[derive(MergedObject, Default)]
pub struct Query(
    auth::AuthQuery,
    system::SystemQuery,
    definitions::DefinitionsQuery,
    stack_edits::StackEditsQuery,
    stacks::StacksQuery,
    images::ImagesQuery,
    targets::TargetsQuery,
    jobs::JobsQuery,
    repository::RepositoryQuery,
);

/// The mutation root.
#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    system::SystemMutation,
    definitions::DefinitionsMutation,
    stack_edits::StackEditsMutation,
    jobs::JobsMutation,
    repository::RepositoryMutation,
);

/// The subscription root.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    system::SystemSubscription,
    stacks::StacksSubscription,
    jobs::JobsSubscription,
    service_logs::ServiceLogsSubscription,
);

/// voc's schema.
pub type VocSchema = Schema<Query, Mutation, Subscription>;

/// How deep a query may nest (`stacks { services { tasks { ... } } }` is 4).
pub const MAX_DEPTH: usize = 12;
/// How many fields a query may ask for in all (each list counts its fields
/// once, so this bounds the work a single query asks of voc).
pub const MAX_COMPLEXITY: usize = 2000;

/// The schema, with `state` for the resolvers.
pub fn schema(state: AppState) -> VocSchema {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
        .data(state)
        .data(commit_cache::CommitCache::default())
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema in SDL, as `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
        .finish()
        .sdl()
}

#[cfg(test)]
mod tests;
