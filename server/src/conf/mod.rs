//! The conf repo model and its validation: the files a user keeps in their
//! conf repository (see the conf repo format), parsed into checked types.
//!
//! Nothing here touches Docker, git or the network: the layers above turn
//! these types into builds, pushes and deployments.
//!
//! - [`model`]: the [`Conf`] of one checkout (stacks, images, definitions)
//!   and the [`ConfProblem`]s found in it.
//! - [`image`]: `image-<name>.json`, how an image is built and where it is
//!   pushed.
//! - [`walk`]: [`read_conf`], which walks a checkout, pairs the files by
//!   name and checks everything, with the help of [`definition`] (stack
//!   definitions), [`name`] (the naming rule) and private modules: `stack`
//!   (a stack's settings and Compose file), `dependency` (`dependsOn`
//!   across stacks), `json` (JSON files with the line of every value),
//!   `repo_path` (paths relative to the root, links out of it) and
//!   `suggest` ("did you mean").
//! - [`render`]: a stack from a definition and a form of options, the
//!   rendered Compose file validated, secrets kept out of it.
//! - [`compose_cache`]: what loading each Compose file found, kept between
//!   runs, so [`read_conf_cached`] loads only what changed.

pub mod compose_cache;
pub mod definition;
mod dependency;
pub mod error;
pub mod image;
mod json;
pub mod model;
pub mod name;
pub mod render;
mod repo_path;
mod stack;
mod suggest;
pub mod walk;

pub use compose_cache::ComposeCache;
pub use error::{Error, Result};
pub use image::{BuildArg, ImageConfig};
pub use model::{
    Conf, ConfProblem, ConfReport, DefinitionEntry, DefinitionMeta, ImageEntry, RepoPath,
    StackConfig, StackEntry, Subject,
};
pub use name::{NameError, check_name};
pub use walk::{ReadOptions, read_conf, read_conf_cached, read_conf_with};
