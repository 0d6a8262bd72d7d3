//! Everything that talks to Docker, through the Engine API (bollard).
