//! Compose files for Docker Swarm, the way `docker stack deploy` reads them.
//!
//! This crate is pure: it reads the Compose file and the files it names
//! (`env_file`, secret and config files), and never talks to Docker.
//!
//! - [`load`] parses one or more Compose files, interpolates `${VAR}` from an
//!   explicit [`Variables`] map, validates everything and returns a
//!   [`ComposeFile`] (the typed, normalised model in [`model`]) with the
//!   warnings the docker CLI would print, or every error found, each with
//!   file, line and field path.
//! - [`convert`] turns a loaded file into a [`StackSpec`]: the swarm objects
//!   (services, networks, secrets, configs) with the names and labels that
//!   `docker stack deploy` gives them, ready for the engine to create.

#![warn(missing_docs)]

pub mod convert;
pub mod diagnostic;
pub mod load;
pub mod model;
pub mod spec;

pub use convert::{ConvertError, convert};
pub use diagnostic::{Location, Problem, Warning};
pub use load::{ComposeSource, LoadError, Loaded, Variables, load_files, load_sources};
pub use model::ComposeFile;
pub use spec::StackSpec;
