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

pub mod error;
pub mod image;
pub mod model;

pub use error::{Error, Result};
pub use image::{BuildArg, ImageConfig};
pub use model::{Conf, ConfProblem, ConfReport, StackConfig, StackEntry, Subject};
