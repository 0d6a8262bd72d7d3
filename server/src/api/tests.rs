use std::path::PathBuf;

/// `schema.graphql` is what the web app's types and the clients are built
/// from: it must be exactly the server's schema.
#[test]
fn schema_file_matches_the_server() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let sdl = super::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).expect("writing schema.graphql");
        return;
    }
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == sdl,
        "schema.graphql is not the server's schema: run `UPDATE_SCHEMA=1 cargo test -p voc schema_file` and commit it"
    );
}
