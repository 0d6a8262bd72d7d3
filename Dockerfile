# voc's image: the web app, the server built with it inside, and a small
# runtime. `docker build -t voc .` from the repository's root; then
# `docker stack deploy -c docker-compose.yml voc` (see docs/install.md).
#
# The base images are arguments whose defaults are the official images;
# where those cannot be pulled, give others (scripts/base-images.sh makes
# stand-ins from Debian's archive):
#   docker build --build-arg NODE_IMAGE=... --build-arg RUST_IMAGE=... \
#     --build-arg RUNTIME_IMAGE=... -t voc .
ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- the web app: web/dist ------------------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
# The dependencies first, in a layer of their own that only a change of the
# lock file makes again.
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
# The GraphQL types are generated into src/ and committed: the build needs
# no schema and no codegen.
COPY web/ ./
RUN npm run build

# --- the server: target/release/voc, with web/dist inside -----------------------
FROM ${RUST_IMAGE} AS server
# Vendored OpenSSL (git2's HTTPS) is configured with perl and built with make.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make perl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The dependencies first, built against empty crates in a layer of their own,
# so that a change of voc's code does not build them again. The tests
# package is a member of the workspace: its manifest is enough for cargo.
COPY Cargo.toml Cargo.lock ./
COPY server/Cargo.toml server/
COPY server/compose/Cargo.toml server/compose/
COPY tests/Cargo.toml tests/
RUN mkdir -p server/src server/compose/src \
    && echo 'fn main() {}' >server/src/main.rs \
    && touch server/src/lib.rs server/compose/src/lib.rs \
    && cargo build --release --locked -p voc \
    && rm -rf server/src server/compose/src
COPY server/ server/
COPY templates/ templates/
COPY --from=web /src/web/dist/ web/dist/
# COPY keeps the files' times, which may be older than the empty crates':
# touched, the crates are built again. The binary is stripped as it is
# installed (`install -s`: a profile setting would build every dependency
# again), and this layer keeps nothing else (the dependencies are in the
# one above).
RUN touch server/src/main.rs server/src/lib.rs server/compose/src/lib.rs \
    && cargo build --release --locked -p voc \
    && install -s -m 0755 target/release/voc /usr/local/bin/voc \
    && rm -rf target

# --- the runtime -----------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
# CA certificates for conf repos and registries over HTTPS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=server /usr/local/bin/voc /usr/local/bin/voc
ENV VOC_LISTEN=0.0.0.0:8080 \
    VOC_DATA_DIR=/var/lib/voc
EXPOSE 8080
VOLUME /var/lib/voc
# No curl in the image: voc checks itself (GET /healthz on VOC_LISTEN).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["voc", "health"]
ENTRYPOINT ["voc"]
CMD ["serve"]
